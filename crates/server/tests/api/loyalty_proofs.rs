//! Issue #6 over the API: a customer's history, receipts and threshold
//! proofs that a third party verifies offline without learning who the
//! customer is; settlement payments that never exceed what is owed; and
//! agent reputations measured from the deploying merchant's conversations.

use std::sync::Arc;

use hc_domain::Role;
use hc_ledger::{Bulletproofs, FactReceipt, Ledger, LogOptions, NoteSigner, ThresholdProof};
use serde_json::{Value, json};

use crate::conversations::{open, say};
use crate::helpers::{TestApp, spawn_app_with_ledger};

const ORIGIN: &str = "shop.test/ledger";

fn signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [3; 32]).unwrap()
}

async fn app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) =
        Ledger::open(dir.path(), ORIGIN, vec![signer()], LogOptions::default()).unwrap();
    (spawn_app_with_ledger(Arc::new(ledger)).await, dir)
}

async fn earn(app: &TestApp, customer: &str, points: u64, key: &str) -> u64 {
    let r = app
        .post(
            "/v1/loyalty/earn",
            app.key(Role::Agent),
            &json!({"customer_id": customer, "points": points, "idempotency_key": key}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["log_index"].as_u64().unwrap()
}

async fn balance(app: &TestApp) -> u64 {
    app.get("/v1/loyalty/balance/zoe_muller_1", app.key(Role::Viewer))
        .await
        .body["balance"]
        .as_u64()
        .unwrap()
}

async fn tree_size(app: &TestApp) -> u64 {
    let r = app
        .client
        .get(format!("{}/ledger/checkpoint", app.base))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    text.lines().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn receipts_and_threshold_proofs_verify_offline_and_name_no_customer() {
    let (app, _dir) = app().await;
    let agent = app.key(Role::Agent).to_string();
    let index = earn(&app, "alice@example.com", 900, "o-1").await;
    earn(&app, "bob@example.com", 5, "o-2").await;

    let r = app
        .get("/v1/loyalty/customers/alice@example.com/history", &agent)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["entries"][0]["index"], index);
    assert_eq!(r.body["entries"][0]["fact"]["points"], 900);

    let r = app
        .post(
            "/v1/loyalty/customers/alice@example.com/receipts",
            &agent,
            &json!({"index": index}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let text = r.body.to_string();
    assert!(!text.contains("alice"), "{text}");
    let receipt: FactReceipt = serde_json::from_value(r.body.clone()).unwrap();
    let v = receipt
        .verify(&[signer().verifier()], Some(ORIGIN))
        .unwrap();
    assert_eq!(v.fact["op"], "earn");
    assert_eq!(v.fact["merchant"], "shop");

    // Bob cannot get a receipt for Alice's entry.
    let r = app
        .post(
            "/v1/loyalty/customers/bob@example.com/receipts",
            &agent,
            &json!({"index": index}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);

    let r = app
        .post(
            "/v1/loyalty/customers/alice@example.com/threshold-proofs",
            &agent,
            &json!({"threshold": 750}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("900"), "{}", r.body);
    let proof: ThresholdProof = serde_json::from_value(r.body.clone()).unwrap();
    let v = proof
        .verify(
            &Bulletproofs::default(),
            &[signer().verifier()],
            Some(ORIGIN),
        )
        .unwrap();
    assert_eq!(v.threshold, 750);

    // Above the balance: refused, nothing written.
    let size = tree_size(&app).await;
    let r = app
        .post(
            "/v1/loyalty/customers/alice@example.com/threshold-proofs",
            &agent,
            &json!({"threshold": 901}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "insufficient_balance");
    assert_eq!(tree_size(&app).await, size);

    // A viewer may read the history but not issue proofs; unknown
    // customers have no account; bad bodies are refused.
    let viewer = app.key(Role::Viewer).to_string();
    let r = app
        .post(
            "/v1/loyalty/customers/alice@example.com/threshold-proofs",
            &viewer,
            &json!({"threshold": 1}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .get("/v1/loyalty/customers/nobody/history", &viewer)
        .await;
    assert_eq!(r.status, 404);
    for bad in [
        json!({"threshold": -1}),
        json!({"threshold": "1"}),
        json!({}),
    ] {
        let r = app
            .post(
                "/v1/loyalty/customers/alice@example.com/threshold-proofs",
                &agent,
                &bad,
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(tree_size(&app).await, size);
}

/// "other" runs a network that "shop" joins, both on `program`; a card
/// earns $50.00 worth at "other" and redeems 3,000 points at "shop", so
/// "other" owes "shop" $15.00.
pub async fn network_with_a_debt(app: &TestApp, program: &Value) {
    let shop_owner = app.key(Role::Owner).to_string();
    let other = app.other_key.clone();
    for key in [&shop_owner, &other] {
        assert_eq!(
            app.put("/v1/loyalty/program", key, program).await.status,
            200
        );
    }
    let net = json!({"network": "coalition", "currency": "USD", "rate": {"points": 2, "cents": 1}});
    assert_eq!(
        app.post("/v1/loyalty/networks", &other, &net).await.status,
        200
    );
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
    let r = app
        .post(
            "/v1/loyalty/earn",
            &other,
            &json!({"customer_id": "card-9", "network": "coalition", "amount": 50.0, "idempotency_key": "o-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            "/v1/loyalty/redeem",
            app.key(Role::Agent),
            &json!({"customer_id": "card-9", "network": "coalition", "points": 3000, "idempotency_key": "d-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn settlement_payments_reduce_what_is_owed_and_never_exceed_it() {
    let (app, _dir) = app().await;
    let program = json!({"currency": "USD", "earn": {"points": 1, "cents": 1}, "redeem": {"points": 1, "cents": 1}});
    network_with_a_debt(&app, &program).await;
    let shop_admin = app.key(Role::Admin).to_string();
    let pay = |amount: f64, key: &str| {
        json!({"from": "other", "network": "coalition", "currency": "USD",
               "amount": amount, "reference": "wire 2026-11-22", "idempotency_key": key})
    };
    let r = app
        .post(
            "/v1/loyalty/settlements/payments",
            &shop_admin,
            &pay(10.0, "p-1"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["amount"].as_f64(),
            r.body["paid"].as_f64(),
            r.body["outstanding"].as_f64()
        ),
        (Some(15.0), Some(10.0), Some(5.0))
    );
    // More than is outstanding: refused, nothing recorded.
    let r = app
        .post(
            "/v1/loyalty/settlements/payments",
            &shop_admin,
            &pay(5.01, "p-2"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // The same payment again (same key) is not counted twice.
    let r = app
        .post(
            "/v1/loyalty/settlements/payments",
            &shop_admin,
            &pay(10.0, "p-1"),
        )
        .await;
    assert_eq!(r.body["paid"], 10.0, "{}", r.body);
    // Only the party paid records a payment: "other" is owed nothing by "shop".
    let r = app
        .post(
            "/v1/loyalty/settlements/payments",
            &app.other_key,
            &json!({"from": "shop", "network": "coalition", "currency": "USD",
                    "amount": 1.0, "reference": "x", "idempotency_key": "p-3"}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // An agent key may not record payments; a bad reference is refused.
    let r = app
        .post(
            "/v1/loyalty/settlements/payments",
            app.key(Role::Agent),
            &pay(1.0, "p-4"),
        )
        .await;
    assert_eq!(r.status, 403);
    let mut bad = pay(1.0, "p-5");
    bad["reference"] = json!("");
    let r = app
        .post("/v1/loyalty/settlements/payments", &shop_admin, &bad)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Both sides see $5.00 outstanding.
    let r = app
        .get("/v1/loyalty/networks/coalition/settlements", &shop_admin)
        .await;
    assert_eq!(r.body["positions"][0]["receivable"], 5.0, "{}", r.body);
    let r = app.get("/v1/loyalty/settlements", &app.other_key).await;
    let rows = r.body["obligations"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", r.body);
    assert_eq!(
        (rows[0]["from"].as_str(), rows[0]["outstanding"].as_f64()),
        (Some("other"), Some(5.0))
    );
}

#[tokio::test]
async fn a_deployed_agents_reputation_is_measured_from_the_merchants_conversations() {
    let (app, _dir) = app().await;
    let other = app.other_key.clone();
    let shop_owner = app.key(Role::Owner).to_string();
    let config = json!({"persona": {"name": "Ava"}, "policy": {}, "model": "offline"});
    let r = app
        .post(
            "/v1/registry/agents",
            &other,
            &json!({"agent_id": "ava-1", "config": config}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Deploying an unknown agent is refused; then "shop" deploys ava-1.
    let r = app
        .put(
            "/v1/registry/deployment",
            &shop_owner,
            &json!({"agent_id": "nobody"}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .put(
            "/v1/registry/deployment",
            &shop_owner,
            &json!({"agent_id": "ava-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["agent_id"], "ava-1");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    // Three conversations at "shop": two resolved by the AI, one abandoned.
    for status in ["resolved", "resolved", "abandoned"] {
        let id = open(&app).await;
        say(&app, &id, "hello").await;
        let r = app
            .post(
                &format!("/v1/conversations/{id}/close"),
                app.key(Role::Agent),
                &json!({"status": status}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let r = app
        .post("/v1/registry/measure", app.key(Role::Admin), &json!({}))
        .await;
    assert_eq!(r.status, 403, "owner only");
    let r = app
        .post("/v1/registry/measure", &shop_owner, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let reported: &Value = &r.body["reported"][0];
    assert_eq!(reported["agent_id"], "ava-1", "{}", r.body);
    assert_eq!(
        (
            reported["conversations"].as_u64(),
            reported["resolved"].as_u64()
        ),
        (Some(3), Some(2)),
        "{}",
        r.body
    );
    // No ratings: the resolution rate alone, 2/3.
    assert!(reported["satisfaction_permille"].is_null());
    assert_eq!(reported["reputation_permille"], 666);
    let r = app.get("/v1/registry/agents/ava-1", &other).await;
    assert_eq!(
        (
            r.body["reputation_permille"].as_u64(),
            r.body["periods"].as_u64()
        ),
        (Some(666), Some(1))
    );

    // Nothing new since: nothing reported, the reputation unchanged.
    let r = app
        .post("/v1/registry/measure", &shop_owner, &json!({}))
        .await;
    assert_eq!(r.body["reported"], json!([]), "{}", r.body);
    let r = app.get("/v1/registry/agents/ava-1", &other).await;
    assert_eq!(r.body["periods"], 1);
}

#[tokio::test]
async fn the_agent_tells_an_identified_customer_their_points_and_nobody_else_theirs() {
    let (app, _dir) = app().await;
    let program = json!({"currency": "USD", "earn": {"points": 1, "cents": 100},
                         "redeem": {"points": 100, "cents": 100}, "max_redeem_bp": 5000,
                         "expiry_days": 365});
    let r = app
        .put("/v1/loyalty/program", app.key(Role::Owner), &program)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    earn(&app, "zoe_muller_1", 1240, "o-1").await;
    earn(&app, "sam_lee_2", 7, "o-2").await;

    let c = open(&app).await;
    let t = say(&app, &c, "how many loyalty points do i have?").await;
    let text = t["reply"]["text"].as_str().unwrap().to_string();
    assert!(text.contains("email"), "identification first: {text}");
    assert!(t["tool_calls"].as_array().unwrap().is_empty(), "{t}");
    let t = say(&app, &c, "zoe.muller@example.com").await;
    let text = t["reply"]["text"].as_str().unwrap().to_string();
    assert!(text.contains("1,240 points"), "{text}");
    assert!(text.contains("$12.40"), "{text}");
    assert!(text.contains("50% of an order"), "{text}");
    assert!(text.contains("expire on"), "{text}");
    let calls = t["tool_calls"].as_array().unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c["name"] == "loyalty_balance" && c["arguments"]["user_id"] == "zoe_muller_1"),
        "{t}"
    );
    // Sam's balance never reaches Zoe's conversation.
    assert!(!text.contains(" 7 point"), "{text}");
}

#[tokio::test]
async fn points_pay_part_of_an_order_bought_in_chat_and_come_back_when_it_is_cancelled() {
    let (app, _dir) = app().await;
    let program = json!({"currency": "USD", "earn": {"points": 1, "cents": 100},
                         "redeem": {"points": 100, "cents": 100}, "max_redeem_bp": 5000});
    let r = app
        .put("/v1/loyalty/program", app.key(Role::Owner), &program)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    earn(&app, "zoe_muller_1", 1240, "o-1").await;

    // More points than the program allows on the order: refused, nothing burned.
    let r = app
        .tool(
            "place_order",
            &json!({"user_id": "zoe_muller_1", "items": [{"item_id": "2000000012", "quantity": 1}],
                    "payment_method_id": "credit_card_1", "loyalty_points": 2616}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], "loyalty_refused", "{}", r.body);
    assert_eq!(balance(&app).await, 1240);

    let c = open(&app).await;
    say(
        &app,
        &c,
        "I'd like to buy a water bottle, the 1L one, and use my points",
    )
    .await;
    say(&app, &c, "zoe.muller@example.com").await;
    let t = say(&app, &c, "with my visa").await;
    let text = t["reply"]["text"].as_str().unwrap().to_string();
    assert!(
        text.contains("1,240 points ($12.40 off)") && text.contains("$39.90"),
        "{text}"
    );
    let t = say(&app, &c, "yes").await;
    let placed = t["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "place_order")
        .cloned()
        .unwrap_or_default();
    assert_eq!(placed["arguments"]["loyalty_points"], 1240, "{t}");
    let order = placed["output"].clone();
    assert_eq!(order["payment_history"][0]["amount"], 39.9, "{order}");
    assert_eq!(order["loyalty"]["points"], 1240);
    assert_eq!(order["loyalty"]["discount"], 12.4);
    assert_eq!(balance(&app).await, 0);

    // Cancelling the order refunds what was charged and gives the points back.
    let r = app
        .tool(
            "cancel_pending_order",
            &json!({"order_id": order["order_id"], "reason": "no longer needed"}),
        )
        .await;
    assert!(r.body["error"].is_null(), "{}", r.body);
    assert_eq!(r.body["output"]["payment_history"][1]["amount"], 39.9);
    assert_eq!(balance(&app).await, 1240);
}
