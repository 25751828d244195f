//! Per-tenant agent settings: the API (defaults, roles, validation, audit,
//! tenant isolation) and their effect on the agent's voice, escalation and
//! the retail policy (cancel reasons, gift-card refunds).

use hc_domain::Role;
use serde_json::{Value, json};

use crate::conversations::{open, order_status, reply, say};
use crate::helpers::{TestApp, spawn_app};

async fn settings(app: &TestApp, key: &str) -> Value {
    let r = app.get("/v1/settings", key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn put(app: &TestApp, body: Value) -> Value {
    let r = app.put("/v1/settings", app.key(Role::Admin), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// Opens a chat in tenant `other` and says `text` there.
async fn say_in_other(app: &TestApp, text: &str) -> Value {
    let r = app
        .post(
            "/v1/conversations",
            &app.other_key,
            &json!({"channel": "chat"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/conversations/{id}/messages"),
            &app.other_key,
            &json!({"text": text}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn settings_default_sensibly_and_only_admins_replace_them_for_their_own_tenant() {
    let app = spawn_app().await;
    let viewer = app.key(Role::Viewer).to_string();
    let defaults = settings(&app, &viewer).await;
    assert_eq!(defaults["brand"], "shop", "the tenant's name");
    assert_eq!(defaults["tone"], "friendly");
    assert_eq!(defaults["greeting"], Value::Null);
    assert_eq!(
        defaults["cancel_reasons"],
        json!(["no longer needed", "ordered by mistake"]),
        "the server's policy"
    );
    assert_eq!(defaults["refund_to_gift_card"], true);
    assert_eq!(
        defaults["escalation"],
        json!({"min_confidence": 0.35, "max_failures": 3, "max_out_of_scope": 2})
    );

    let change = json!({"brand": "Acme", "tone": "formal", "escalation": {"max_failures": 2}});
    for role in [Role::Viewer, Role::Agent, Role::Manager] {
        let r = app.put("/v1/settings", app.key(role), &change).await;
        assert_eq!(r.status, 403, "{role}: {}", r.body);
        assert_eq!(r.code(), "forbidden");
    }
    assert_eq!(
        settings(&app, &viewer).await,
        defaults,
        "refused writes change nothing"
    );

    let audit_before = app.audit_count().await;
    let saved = put(&app, change).await;
    assert_eq!(saved["brand"], "Acme");
    assert_eq!(saved["tone"], "formal");
    assert_eq!(saved["escalation"]["max_failures"], 2);
    assert_eq!(
        saved["escalation"]["max_out_of_scope"], 2,
        "absent fields take defaults"
    );
    assert_eq!(saved["cancel_reasons"], defaults["cancel_reasons"]);
    assert_eq!(settings(&app, &viewer).await, saved);
    assert_eq!(app.audit_count().await, audit_before + 1);
    let audit = app.get("/v1/audit", app.key(Role::Owner)).await;
    let last = &audit.body["items"][0];
    assert_eq!(last["action"], "settings.update");
    assert_eq!(last["target"], "tenant:shop");
    assert_eq!(last["detail"]["brand"], "Acme");

    // Tenant isolation: `other` still has its defaults, and its writes stay its own.
    let other = settings(&app, &app.other_key).await;
    assert_eq!(other["brand"], "other");
    assert_eq!(other["tone"], "friendly");
    let r = app
        .put(
            "/v1/settings",
            &app.other_key,
            &json!({"tone": "friendly", "brand": "Other Co"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(settings(&app, &viewer).await, saved, "shop is untouched");

    let r = app.get("/v1/settings", "hc_not_a_key").await;
    assert_eq!(r.status, 401);
    app.finish().await;
}

#[tokio::test]
async fn bad_settings_are_refused_with_a_clear_error_and_change_nothing() {
    let app = spawn_app().await;
    put(&app, json!({"brand": "Acme"})).await;
    let before = settings(&app, app.key(Role::Viewer)).await;
    let audit_before = app.audit_count().await;
    let cases = [
        (json!({"colour": "red"}), "colour"),
        (json!({"tone": "rude"}), "rude"),
        (json!({"brand": "   "}), "brand"),
        (json!({"greeting": "x".repeat(301)}), "greeting"),
        (json!({"cancel_reasons": []}), "cancel_reasons"),
        (
            json!({"cancel_reasons": ["ok", "y".repeat(61)]}),
            "cancel reason",
        ),
        (json!({"cancel_reasons": "no longer needed"}), "sequence"),
        (json!({"refund_to_gift_card": "no"}), "boolean"),
        (
            json!({"escalation": {"min_confidence": 1.5}}),
            "min_confidence",
        ),
        (json!({"escalation": {"max_failures": 0}}), "max_failures"),
        (
            json!({"escalation": {"max_out_of_scope": 11}}),
            "max_out_of_scope",
        ),
        (json!({"escalation": {"patience": 3}}), "patience"),
        (json!(["formal"]), "object"),
    ];
    for (body, mentions) in cases {
        let r = app.put("/v1/settings", app.key(Role::Admin), &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.code(), "invalid_settings", "{body}");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(mentions), "{body}: {message}");
    }
    let r = app
        .send(
            app.client
                .put(format!("{}/v1/settings", app.base))
                .bearer_auth(app.key(Role::Admin))
                .header("content-type", "application/json")
                .body("{\"tone\": "),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "invalid_json");
    assert_eq!(settings(&app, app.key(Role::Viewer)).await, before);
    assert_eq!(app.audit_count().await, audit_before);
    app.finish().await;
}

#[tokio::test]
async fn a_formal_acme_tenant_is_greeted_formally_while_another_tenant_stays_friendly() {
    let app = spawn_app().await;
    put(&app, json!({"brand": "Acme", "tone": "formal"})).await;
    let c = open(&app).await;
    let t = reply(&say(&app, &c, "hello").await);
    assert!(t.contains("good day") && t.contains("acme"), "{t}");
    assert!(!t.contains("hi!"), "{t}");

    let t = reply(&say_in_other(&app, "hello").await);
    assert!(
        t.starts_with("hi!") && t.contains("welcome to other"),
        "{t}"
    );
    assert!(!t.contains("acme") && !t.contains("good day"), "{t}");

    // A custom greeting replaces the template at once (the cache is invalidated).
    put(
        &app,
        json!({"brand": "Acme", "greeting": "Welcome to Acme support, what can we do for you?"}),
    )
    .await;
    let c = open(&app).await;
    let t = say(&app, &c, "hello").await;
    assert_eq!(
        t["reply"]["text"],
        "Welcome to Acme support, what can we do for you?"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_allowing_only_one_cancel_reason_refuses_another_by_tool_and_in_chat() {
    let app = spawn_app().await;
    put(&app, json!({"cancel_reasons": ["ordered by mistake"]})).await;

    let r = app
        .tool(
            "cancel_pending_order",
            &json!({"order_id": "#W0000001", "reason": "no longer needed"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "invalid_reason");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ordered by mistake")
    );
    assert_eq!(order_status(&app, "#W0000001").await, "pending");

    let c = open(&app).await;
    say(&app, &c, "I'd like to cancel my order please").await;
    let t = say(&app, &c, "it's zoe.muller@example.com").await;
    assert!(
        reply(&t).contains("\"ordered by mistake\"") && !reply(&t).contains("no longer needed"),
        "asks with the tenant's reasons: {}",
        reply(&t)
    );
    let t = say(&app, &c, "I don't need it anymore").await;
    assert!(
        reply(&t).contains("only cancel") && reply(&t).contains("ordered by mistake"),
        "refuses the reason and names the accepted one: {}",
        reply(&t)
    );
    assert!(
        !reply(&t).contains("to confirm"),
        "no proposal: {}",
        reply(&t)
    );
    let t = say(&app, &c, "yes").await;
    assert!(
        t["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "cancel_pending_order"),
        "a yes without a proposal cancels nothing: {}",
        t["tool_calls"]
    );
    assert_eq!(order_status(&app, "#W0000001").await, "pending");

    // The reason the tenant allows still works; the other tenant keeps the server's reasons.
    let t = say(&app, &c, "it was ordered by mistake").await;
    assert!(reply(&t).contains("to confirm"), "{}", reply(&t));
    let t = say(&app, &c, "yes").await;
    assert!(reply(&t).contains("cancelled"), "{}", reply(&t));
    assert_eq!(order_status(&app, "#W0000001").await, "cancelled");
    let other = settings(&app, &app.other_key).await;
    assert_eq!(
        other["cancel_reasons"],
        json!(["no longer needed", "ordered by mistake"])
    );
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_forbidding_gift_card_refunds_gets_returns_to_the_original_method_only() {
    let app = spawn_app().await;
    put(&app, json!({"refund_to_gift_card": false})).await;
    let args = |method: &str| json!({"order_id": "#W0000002", "item_ids": ["2000000011"], "payment_method_id": method});
    let r = app
        .tool("return_delivered_order_items", &args("gift_card_1"))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "refund_method_not_allowed");
    assert_eq!(order_status(&app, "#W0000002").await, "delivered");
    let r = app
        .tool("return_delivered_order_items", &args("credit_card_1"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["output"]["return_payment_method_id"],
        "credit_card_1"
    );
    app.finish().await;
}

#[tokio::test]
async fn lowering_max_failures_makes_the_agent_escalate_sooner() {
    let app = spawn_app().await;
    let gibberish = ["blorp zzkx qqq", "wibble fnord glap"];
    let c = open(&app).await;
    for text in gibberish {
        let t = say(&app, &c, text).await;
        assert_eq!(t["status"], "open", "{text}: {}", reply(&t));
    }

    put(&app, json!({"escalation": {"max_failures": 1}})).await;
    let c = open(&app).await;
    let t = say(&app, &c, gibberish[0]).await;
    assert_eq!(t["status"], "escalated", "{}", reply(&t));
    app.finish().await;
}

#[tokio::test]
async fn the_offline_agent_offers_and_recognises_a_tenants_own_cancel_reasons() {
    let app = spawn_app().await;
    put(
        &app,
        json!({"cancel_reasons": ["found a better price", "delivery takes too long"]}),
    )
    .await;
    let c = open(&app).await;
    say(&app, &c, "I'd like to cancel my order please").await;
    let t = say(&app, &c, "it's zoe.muller@example.com").await;
    assert!(
        reply(&t).contains("\"found a better price\"")
            && reply(&t).contains("\"delivery takes too long\""),
        "asks with the tenant's reasons: {}",
        reply(&t)
    );
    // The customer's own words, not the configured text.
    let t = say(&app, &c, "honestly the delivery is taking way too long").await;
    assert!(
        reply(&t).contains("to confirm") && reply(&t).contains("reason: delivery takes too long"),
        "the reason is matched by its words: {}",
        reply(&t)
    );
    let t = say(&app, &c, "yes").await;
    assert!(reply(&t).contains("cancelled"), "{}", reply(&t));
    let o = app
        .tool("get_order_details", &json!({"order_id": "#W0000001"}))
        .await;
    assert_eq!(
        o.body["output"]["cancel_reason"], "delivery takes too long",
        "{}",
        o.body
    );
    app.finish().await;
}
