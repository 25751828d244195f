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

#[tokio::test]
async fn a_program_computes_earns_prices_discounts_and_erasure_forfeits() {
    let (app, _dir) = app().await;
    let admin = app.key(Role::Admin).to_string();
    let agent = app.key(Role::Agent).to_string();
    let viewer = app.key(Role::Viewer).to_string();
    let program = json!({
        "currency": "USD",
        "earn": {"points": 1, "cents": 100},
        "events": {"review": 50},
        "expiry_days": 365,
        "tier_window_days": 365,
        "tiers": [{"name": "gold", "threshold": 150, "earn_multiplier_bp": 20000}],
        "redeem": {"points": 1, "cents": 1},
        "max_redeem_bp": 5000
    });
    let r = app
        .put("/v1/loyalty/program", app.key(Role::Manager), &program)
        .await;
    assert_eq!(r.status, 403);
    let mut bad = program.clone();
    bad["max_redeem_bp"] = json!(0);
    let r = app.put("/v1/loyalty/program", &admin, &bad).await;
    assert_eq!((r.status, r.code()), (400, "invalid"));
    let r = app.put("/v1/loyalty/program", &admin, &program).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/v1/loyalty/program", &viewer).await.body, program);

    let r = app
        .post(
            "/v1/loyalty/earn",
            &agent,
            &json!({"customer_id": "dana", "amount": 123.45, "idempotency_key": "o-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["points"], 123);
    assert!(r.body["expires_at"].as_u64().is_some());
    let r = app
        .post(
            "/v1/loyalty/earn",
            &agent,
            &json!({"customer_id": "dana", "event_type": "review", "idempotency_key": "rv-1"}),
        )
        .await;
    assert_eq!(r.body["points"], 50);
    // 173 earned in the window: gold doubles the next purchase.
    let r = app
        .post(
            "/v1/loyalty/earn",
            &agent,
            &json!({"customer_id": "dana", "amount": 10.0, "idempotency_key": "o-2"}),
        )
        .await;
    assert_eq!(
        (r.body["points"].as_u64(), r.body["tier"].as_str()),
        (Some(20), Some("gold"))
    );
    let r = app
        .post(
            "/v1/loyalty/earn",
            &agent,
            &json!({"customer_id": "dana", "points": 5, "amount": 1.0, "idempotency_key": "x"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_earn"));
    let r = app.get("/v1/loyalty/balance/dana", &viewer).await;
    assert_eq!(
        (r.body["balance"].as_u64(), r.body["tier"].as_str()),
        (Some(193), Some("gold"))
    );

    // A quote writes nothing; half of a $3.00 order is 150 points.
    let r = app
        .post(
            "/v1/loyalty/discount",
            &viewer,
            &json!({"customer_id": "dana", "order_total": 3.0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["points"].as_u64(), r.body["discount"].as_f64()),
        (Some(150), Some(1.5))
    );
    let r = app
        .post(
            "/v1/loyalty/redeem",
            &agent,
            &json!({"customer_id": "dana", "points": 151, "order_total": 3.0, "idempotency_key": "d-1"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "exceeds_order"));
    let r = app
        .post(
            "/v1/loyalty/redeem",
            &agent,
            &json!({"customer_id": "dana", "points": 150, "order_total": 3.0, "idempotency_key": "d-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["discount"].as_f64(), r.body["balance"].as_u64()),
        (Some(1.5), Some(43))
    );

    // Erasure: the balance is forfeited on the log, the mapping is gone.
    let r = app.delete("/v1/loyalty/customers/dana", &agent).await;
    assert_eq!(r.status, 403);
    let r = app.delete("/v1/loyalty/customers/dana", &admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["erased"].as_bool(),
            r.body["forfeited_points"].as_u64()
        ),
        (Some(true), Some(43))
    );
    let r = app.get("/v1/loyalty/balance/dana", &viewer).await;
    assert_eq!(
        (r.body["account"].is_null(), r.body["balance"].as_u64()),
        (true, Some(0))
    );
    let r = app
        .client
        .get(format!("{}/ledger/checkpoint", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn network_points_settle_between_merchants_and_agent_sales_share_revenue() {
    let (app, _dir) = app().await;
    let shop_owner = app.key(Role::Owner).to_string();
    let shop_agent = app.key(Role::Agent).to_string();
    let other = app.other_key.clone();
    let program = json!({"currency": "USD", "earn": {"points": 1, "cents": 1}, "redeem": {"points": 1, "cents": 1}});
    for key in [&shop_owner, &other] {
        assert_eq!(
            app.put("/v1/loyalty/program", key, &program).await.status,
            200
        );
    }
    let r = app
        .post(
            "/v1/loyalty/networks",
            &other,
            &json!({"network": "coalition", "currency": "USD", "rate": {"points": 2, "cents": 1}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Joining before admission is refused; only the operator admits.
    let r = app
        .post(
            "/v1/loyalty/networks/coalition/join",
            &shop_owner,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .post(
            "/v1/loyalty/networks/coalition/admit",
            &shop_owner,
            &json!({"merchant": "shop"}),
        )
        .await;
    assert_eq!(r.status, 403);
    for m in ["shop", "other"] {
        let r = app
            .post(
                "/v1/loyalty/networks/coalition/admit",
                &other,
                &json!({"merchant": m}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for key in [&shop_owner, &other] {
        let r = app
            .post("/v1/loyalty/networks/coalition/join", key, &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // Card 9 earns $50.00 at "other", then spends 3,000 points at "shop".
    let r = app
        .post(
            "/v1/loyalty/earn",
            &other,
            &json!({"customer_id": "card-9", "network": "coalition", "amount": 50.0, "idempotency_key": "o-1"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["points"].as_u64()),
        (200, Some(5000)),
        "{}",
        r.body
    );
    let r = app
        .get("/v1/loyalty/balance/card-9?network=coalition", &shop_agent)
        .await;
    assert_eq!(r.body["balance"], 5000);
    let r = app
        .post(
            "/v1/loyalty/redeem",
            &shop_agent,
            &json!({"customer_id": "card-9", "network": "coalition", "points": 3000, "idempotency_key": "d-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["discount"].as_f64(),
            r.body["settled_points"].as_u64()
        ),
        (Some(30.0), Some(3000))
    );
    // 3,000 points at 2 points a cent: "other" owes "shop" $15.00.
    let r = app
        .get("/v1/loyalty/networks/coalition/settlements", &shop_agent)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["positions"][0]["counterparty"], "other");
    assert_eq!(r.body["positions"][0]["net"], 15.0);
    assert!(r.body["all"].is_null());
    let r = app
        .get("/v1/loyalty/networks/coalition/settlements", &other)
        .await;
    assert_eq!(r.body["positions"][0]["payable"], 15.0);
    assert_eq!(r.body["all"].as_array().unwrap().len(), 1);

    // The agent registry: "other" develops an agent that "shop" deploys.
    let config =
        json!({"persona": {"name": "Ava"}, "policy": {"refunds": "ask"}, "model": "offline"});
    let r = app
        .post(
            "/v1/registry/agents",
            &other,
            &json!({"agent_id": "ava-1", "config": config}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["owner"], "other");
    assert_eq!(r.body["config_hash"].as_str().unwrap().len(), 64);
    let outcomes = json!({"period_start": 1, "period_end": 2, "conversations": 100, "resolved": 80, "satisfaction": 0.9});
    let r = app
        .post(
            "/v1/registry/agents/ava-1/reputation",
            &shop_owner,
            &outcomes,
        )
        .await;
    assert_eq!(r.status, 403, "only the owner reports");
    let r = app
        .post("/v1/registry/agents/ava-1/reputation", &other, &outcomes)
        .await;
    assert_eq!(r.body["reputation_permille"], 840, "{}", r.body);
    let r = app
        .put(
            "/v1/registry/agents/ava-1/revenue-share",
            &shop_owner,
            &json!({"merchant_bp": 9000, "developer_bp": 700, "network_bp": 200, "network": "coalition"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid"), "shares must add up");
    let r = app
        .put(
            "/v1/registry/agents/ava-1/revenue-share",
            &shop_owner,
            &json!({"merchant_bp": 9000, "developer_bp": 700, "network_bp": 300, "network": "coalition"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sale = json!({"order_id": "#W1", "amount": 100.0, "currency": "USD"});
    let r = app
        .post("/v1/registry/agents/ava-1/sales", &shop_agent, &sale)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Vec<(String, f64)> = r.body["settlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["to"].as_str().unwrap().to_string(),
                s["amount"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![("other".to_string(), 7.0), ("other".to_string(), 3.0)]
    );
    let again = app
        .post("/v1/registry/agents/ava-1/sales", &shop_agent, &sale)
        .await;
    assert_eq!(again.body["replayed"], true);
    // The network share shows in the network's settlements: 15 − 3 = 12.
    let r = app
        .get("/v1/loyalty/networks/coalition/settlements", &shop_agent)
        .await;
    assert_eq!(r.body["positions"][0]["net"], 12.0);
    // Ownership transfer by the owner only.
    let r = app
        .post(
            "/v1/registry/agents/ava-1/transfer",
            &shop_owner,
            &json!({"to_tenant": "shop"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            "/v1/registry/agents/ava-1/transfer",
            &other,
            &json!({"to_tenant": "shop"}),
        )
        .await;
    assert_eq!(r.body["owner"], "shop", "{}", r.body);
    let r = app
        .get("/v1/registry/agents/ava-1", app.key(Role::Viewer))
        .await;
    assert_eq!(
        (r.body["owner"].as_str(), r.body["sales"]["USD"].as_f64()),
        (Some("shop"), Some(100.0))
    );
}
