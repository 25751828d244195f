//! Loyalty over the API: earn, redeem, transfer and balances per tenant,
//! idempotent, never overdrawn, with no customer identifiers on the log.

use std::sync::Arc;

use hc_domain::Role;
use hc_ledger::tiles::parse_entry_bundle;
use hc_ledger::{Ledger, LogOptions, NoteSigner};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with_ledger};

async fn app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("shop.test/ledger", [3; 32]).unwrap();
    let (ledger, _) = Ledger::open(
        dir.path(),
        "shop.test/ledger",
        vec![signer],
        LogOptions::default(),
    )
    .unwrap();
    (spawn_app_with_ledger(Arc::new(ledger)).await, dir)
}

#[tokio::test]
async fn earn_redeem_and_transfer_keep_balances_and_refuse_overdrafts() {
    let (app, _dir) = app().await;
    let agent = app.key(Role::Agent).to_string();
    let r = app
        .post(
            "/v1/loyalty/earn",
            &agent,
            &json!({"customer_id": "alice@example.com", "points": 120, "idempotency_key": "order-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["balance"], 120);
    assert_eq!(r.body["replayed"], false);
    let index = r.body["log_index"].as_u64().unwrap();

    // The same key again: the original receipt, nothing new.
    let again = app
        .post(
            "/v1/loyalty/earn",
            &agent,
            &json!({"customer_id": "alice@example.com", "points": 120, "idempotency_key": "order-1"}),
        )
        .await;
    assert_eq!(
        (
            again.body["log_index"].as_u64(),
            again.body["replayed"].as_bool()
        ),
        (Some(index), Some(true))
    );
    assert_eq!(again.body["balance"], 120);
    // The same key for another operation: conflict.
    let r = app
        .post(
            "/v1/loyalty/earn",
            &agent,
            &json!({"customer_id": "alice@example.com", "points": 5, "idempotency_key": "order-1"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "idempotency_key_reused"));

    // Redeeming more than the balance: refused, balance unchanged.
    let r = app
        .post(
            "/v1/loyalty/redeem",
            &agent,
            &json!({"customer_id": "alice@example.com", "points": 121, "idempotency_key": "r-1"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "insufficient_balance"));
    let r = app
        .post(
            "/v1/loyalty/transfer",
            &agent,
            &json!({"from_customer_id": "alice@example.com", "to_customer_id": "bob", "points": 20, "idempotency_key": "t-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["balance"], 100);
    let r = app
        .post(
            "/v1/loyalty/redeem",
            &agent,
            &json!({"customer_id": "alice@example.com", "points": 100, "idempotency_key": "r-2"}),
        )
        .await;
    assert_eq!((r.status, r.body["balance"].as_u64()), (200, Some(0)));
    let viewer = app.key(Role::Viewer).to_string();
    let r = app.get("/v1/loyalty/balance/bob", &viewer).await;
    assert_eq!(r.body["balance"], 20);
    // A viewer cannot earn; another tenant's "bob" is another account.
    let r = app
        .post(
            "/v1/loyalty/earn",
            &viewer,
            &json!({"customer_id": "bob", "points": 1, "idempotency_key": "x"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let other = app.other_key.clone();
    let r = app.get("/v1/loyalty/balance/bob", &other).await;
    assert_eq!(r.body["balance"], 0);

    // The log holds pseudonyms only.
    let bundle = app
        .client
        .get(format!("{}/ledger/tile/entries/000.p/3", app.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let entries = parse_entry_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        let text = String::from_utf8(e).unwrap();
        assert!(!text.contains("alice") && !text.contains("bob"), "{text}");
    }
}

#[tokio::test]
async fn malformed_loyalty_requests_are_rejected() {
    let (app, _dir) = app().await;
    let agent = app.key(Role::Agent).to_string();
    for (body, code) in [
        (
            json!({"customer_id": "", "points": 1, "idempotency_key": "a"}),
            "invalid_customer",
        ),
        (
            json!({"customer_id": "c", "points": 0, "idempotency_key": "a"}),
            "invalid",
        ),
        (
            json!({"customer_id": "c", "points": 1, "idempotency_key": ""}),
            "invalid_idempotency_key",
        ),
        (
            json!({"customer_id": "c", "points": -1, "idempotency_key": "a"}),
            "invalid_arguments",
        ),
        (
            json!({"customer_id": "c", "points": 1, "idempotency_key": "a", "extra": 1}),
            "invalid_arguments",
        ),
    ] {
        let r = app.post("/v1/loyalty/earn", &agent, &body).await;
        assert_eq!((r.status, r.code()), (400, code), "{body}");
    }
}
