//! Long-term customer memory over HTTP: learned from orders and
//! conversations, used in the next conversation, never shown before
//! authentication, readable and erasable per tenant.

use hc_agent::gate::Gate;
use hc_agent::state::DialogueState;
use hc_commerce::Actor;
use hc_domain::{Role, TenantId};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, config, spawn_app_with};

/// Ava bought a black S jacket, then (more recently) a navy M one.
const MEMORY_DB: &str = r##"{
  "products": {
    "1000000101": {"name": "Jacket", "product_id": "1000000101", "variants": {
      "2000000101": {"item_id": "2000000101", "options": {"color": "navy", "size": "S"}, "available": true, "price": 120.0},
      "2000000102": {"item_id": "2000000102", "options": {"color": "navy", "size": "M"}, "available": false, "price": 120.0},
      "2000000103": {"item_id": "2000000103", "options": {"color": "black", "size": "S"}, "available": true, "price": 120.0},
      "2000000104": {"item_id": "2000000104", "options": {"color": "black", "size": "M"}, "available": true, "price": 125.0},
      "2000000105": {"item_id": "2000000105", "options": {"color": "navy", "size": "L"}, "available": true, "price": 130.0}}}
  },
  "users": {
    "ava_stone_1": {"user_id": "ava_stone_1", "name": {"first_name": "Ava", "last_name": "Stone"},
      "address": {"address1": "1 Elm St", "address2": "", "city": "Austin", "country": "USA", "state": "TX", "zip": "78701"},
      "email": "ava@example.com",
      "payment_methods": {"paypal_1": {"source": "paypal", "id": "paypal_1"}},
      "orders": ["#W0000101", "#W0000102"]},
    "ben_hall_2": {"user_id": "ben_hall_2", "name": {"first_name": "Ben", "last_name": "Hall"},
      "address": {"address1": "2 Oak Ave", "address2": "", "city": "Denver", "country": "USA", "state": "CO", "zip": "80202"},
      "email": "ben@example.com",
      "payment_methods": {"paypal_2": {"source": "paypal", "id": "paypal_2"}},
      "orders": []}
  },
  "orders": {
    "#W0000101": {"order_id": "#W0000101", "user_id": "ava_stone_1",
      "address": {"address1": "1 Elm St", "address2": "", "city": "Austin", "country": "USA", "state": "TX", "zip": "78701"},
      "items": [{"name": "Jacket", "product_id": "1000000101", "item_id": "2000000103", "price": 120.0, "options": {"color": "black", "size": "S"}}],
      "status": "delivered", "fulfillments": [{"tracking_id": ["100000000001"], "item_ids": ["2000000103"]}],
      "payment_history": [{"transaction_type": "payment", "amount": 120.0, "payment_method_id": "paypal_1"}]},
    "#W0000102": {"order_id": "#W0000102", "user_id": "ava_stone_1",
      "address": {"address1": "1 Elm St", "address2": "", "city": "Austin", "country": "USA", "state": "TX", "zip": "78701"},
      "items": [{"name": "Jacket", "product_id": "1000000101", "item_id": "2000000102", "price": 120.0, "options": {"color": "navy", "size": "M"}}],
      "status": "delivered", "fulfillments": [{"tracking_id": ["100000000002"], "item_ids": ["2000000102"]}],
      "payment_history": [{"transaction_type": "payment", "amount": 120.0, "payment_method_id": "paypal_1"}]}
  }
}"##;

async fn app() -> TestApp {
    spawn_app_with(hc_store::testing::sqlite().await, config(), MEMORY_DB).await
}

async fn open(app: &TestApp) -> String {
    let r = app
        .post("/v1/conversations", app.key(Role::Agent), &json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn say(app: &TestApp, id: &str, text: &str) -> String {
    let r = app
        .post(
            &format!("/v1/conversations/{id}/messages"),
            app.key(Role::Agent),
            &json!({"text": text}),
        )
        .await;
    assert_eq!(r.status, 200, "{text}: {}", r.body);
    r.body["reply"]["text"].as_str().unwrap().to_lowercase()
}

async fn memory(app: &TestApp, user: &str, key: &str) -> Reply {
    app.get(&format!("/v1/customers/{user}/memory"), key).await
}

async fn erase(app: &TestApp, user: &str, key: &str) -> Reply {
    app.send(
        app.client
            .delete(format!("{}/v1/customers/{user}/memory", app.base))
            .bearer_auth(key),
    )
    .await
}

fn facts(r: &Reply) -> Vec<Value> {
    r.body["facts"].as_array().cloned().unwrap_or_default()
}

fn fact<'a>(facts: &'a [Value], kind: &str, subject: &str) -> Option<&'a Value> {
    facts.iter().find(|f| {
        f["kind"] == kind
            && f["subject"]
                .as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case(subject)
    })
}

/// A conversation in which the customer signs in, says goodbye and rates it.
async fn rated_conversation(app: &TestApp, email: &str, rating: &str) {
    let c = open(app).await;
    say(app, &c, &format!("hi, my email is {email}")).await;
    let t = say(app, &c, "thanks, that's all, bye").await;
    assert!(t.contains("rate"), "{t}");
    say(app, &c, rating).await;
    let conv = app
        .get(&format!("/v1/conversations/{c}"), app.key(Role::Viewer))
        .await;
    assert_eq!(conv.body["status"], "resolved", "{}", conv.body);
}

#[tokio::test]
async fn a_customer_who_bought_a_jacket_in_m_is_offered_m_again_when_buying_one() {
    let app = app().await;
    assert!(facts(&memory(&app, "ava_stone_1", app.key(Role::Viewer)).await).is_empty());
    let c = open(&app).await;
    let t = say(&app, &c, "hi, my email is ava@example.com").await;
    assert!(t.contains("found your account"), "{t}");
    assert!(!t.contains("sorry"), "nothing to acknowledge: {t}");
    // Identification taught the sizes of what she kept, the newest order winning.
    let m = memory(&app, "ava_stone_1", app.key(Role::Viewer)).await;
    assert_eq!(m.status, 200, "{}", m.body);
    let f = facts(&m);
    let size = fact(&f, "size", "Jacket").expect("a jacket size");
    assert_eq!(size["value"], "M");
    assert_eq!(size["source"], "order:#W0000102");
    assert_eq!(fact(&f, "color", "Jacket").unwrap()["value"], "navy");
    assert!(
        m.body["summary"].as_str().unwrap().contains("Jacket M"),
        "{}",
        m.body
    );

    let t = say(&app, &c, "I'd like to buy a jacket").await;
    assert!(t.contains("which jacket"), "{t}");
    assert!(
        t.contains("last time your jacket was an m — want m again?"),
        "{t}"
    );
    let t = say(&app, &c, "yes").await;
    assert!(
        t.contains("to confirm") && t.contains("jacket (black, m)"),
        "the remembered size is used: {t}"
    );
    app.finish().await;
}

#[tokio::test]
async fn an_exchange_offers_the_remembered_size_uses_it_on_yes_and_is_remembered() {
    let app = app().await;
    let c = open(&app).await;
    say(&app, &c, "my email is ava@example.com").await;
    let t = say(
        &app,
        &c,
        "I'd like to exchange the jacket from order #W0000101",
    )
    .await;
    assert!(
        t.contains("last time your jacket was an m — want m again?"),
        "{t}"
    );
    let t = say(&app, &c, "yes").await;
    assert!(
        t.contains("to confirm") && t.contains("jacket (black, m)"),
        "{t}"
    );
    let t = say(&app, &c, "yes").await;
    assert!(t.contains("exchange"), "{t}");
    let o = app
        .tool("get_order_details", &json!({"order_id": "#W0000101"}))
        .await;
    assert_eq!(
        o.body["output"]["exchange_new_items"],
        json!(["2000000104"])
    );
    let f = facts(&memory(&app, "ava_stone_1", app.key(Role::Viewer)).await);
    let issue = fact(&f, "issue", "").expect("the exchange is an issue");
    assert!(
        issue["value"]
            .as_str()
            .unwrap()
            .contains("black, S → black, M"),
        "{issue}"
    );
    assert_eq!(issue["source"], format!("conversation:{c}"));
    let size = fact(&f, "size", "Jacket").unwrap();
    assert_eq!(size["value"], "M");
    assert_eq!(size["source"], format!("conversation:{c}"));

    // Asked again in a later conversation, the size is not offered for an
    // item that already has it, and naming a size skips the offer.
    let c2 = open(&app).await;
    say(&app, &c2, "my email is ava@example.com").await;
    let t = say(&app, &c2, "I'd like to buy a jacket in size L").await;
    assert!(!t.contains("last time"), "{t}");
    app.finish().await;
}

#[tokio::test]
async fn a_low_rating_is_acknowledged_next_time_and_a_good_one_is_not() {
    let app = app().await;
    rated_conversation(&app, "ava@example.com", "2").await;
    let f = facts(&memory(&app, "ava_stone_1", app.key(Role::Viewer)).await);
    assert_eq!(fact(&f, "satisfaction", "").unwrap()["value"], "2/5");
    let c = open(&app).await;
    let t = say(&app, &c, "hello, my email is ava@example.com").await;
    assert!(
        t.contains("sorry your last conversation with us didn't go well"),
        "{t}"
    );
    assert!(t.contains("found your account"), "{t}");
    // The acknowledgement comes once, right after identification.
    let t = say(&app, &c, "I'd like to buy a jacket").await;
    assert!(!t.contains("sorry"), "{t}");

    rated_conversation(&app, "ben@example.com", "4").await;
    let c = open(&app).await;
    let t = say(&app, &c, "hi, my email is ben@example.com").await;
    assert!(!t.contains("sorry"), "a good rating is not mentioned: {t}");

    // An escalation is the other thing worth acknowledging.
    let c = open(&app).await;
    say(&app, &c, "my email is ben@example.com").await;
    say(&app, &c, "I want to talk to a real person").await;
    let c = open(&app).await;
    let t = say(&app, &c, "hi, my email is ben@example.com").await;
    assert!(t.contains("passed to a colleague"), "{t}");
    app.finish().await;
}

#[tokio::test]
async fn memory_is_not_revealed_before_authentication() {
    let app = app().await;
    rated_conversation(&app, "ava@example.com", "1").await;
    let c = open(&app).await;
    let t = say(&app, &c, "I'd like to buy a jacket").await;
    assert!(t.contains("email"), "{t}");
    assert!(!t.contains("last time") && !t.contains("sorry"), "{t}");
    let t = say(&app, &c, "hello again, it's me").await;
    assert!(
        !t.contains("last time") && !t.contains("sorry your last"),
        "{t}"
    );
    // The gate refuses any brain's memory read before sign-in.
    let tools = app.tools();
    let memory = hc_agent::Memory::new(
        std::sync::Arc::new(app.db.store.clone()),
        tools.retail().clone(),
    );
    let mut state = DialogueState::default();
    let actor = Actor::new(TenantId::parse("shop").unwrap(), "agent:test");
    let mut gate = Gate::new(&tools, actor, &mut state).with_memory(Some(&memory));
    let refused = gate.recall().await.unwrap_err();
    assert_eq!(refused.code, "authentication_required");
    gate.call(
        "find_user_id_by_email",
        json!({"email": "ava@example.com"}),
        1.0,
    )
    .await
    .unwrap();
    let facts = gate.recall().await.unwrap();
    assert!(facts.iter().any(|f| f.value == "1/5"), "{facts:?}");
    app.finish().await;
}

#[tokio::test]
async fn erasure_needs_admin_forgets_everything_and_each_tenant_sees_only_its_own() {
    let app = app().await;
    rated_conversation(&app, "ava@example.com", "2").await;
    let before = facts(&memory(&app, "ava_stone_1", app.key(Role::Viewer)).await);
    assert!(before.len() >= 3, "{before:?}");
    // Another tenant neither sees nor erases it.
    let other = memory(&app, "ava_stone_1", &app.other_key).await;
    assert_eq!(other.status, 404, "{}", other.body);
    let r = erase(&app, "ava_stone_1", &app.other_key).await;
    assert_eq!((r.status, r.body["deleted"].as_u64()), (200, Some(0)));
    assert_eq!(
        facts(&memory(&app, "ava_stone_1", app.key(Role::Viewer)).await).len(),
        before.len()
    );
    // Only an admin erases.
    let r = erase(&app, "ava_stone_1", app.key(Role::Manager)).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = erase(&app, "bad%01id", app.key(Role::Admin)).await;
    assert_eq!((r.status, r.code()), (400, "invalid_id"));
    let audit_before = app.audit_count().await;
    let r = erase(&app, "ava_stone_1", app.key(Role::Admin)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["deleted"].as_u64(), Some(before.len() as u64));
    assert_eq!(app.audit_count().await, audit_before + 1);
    let after = memory(&app, "ava_stone_1", app.key(Role::Viewer)).await;
    assert_eq!(after.status, 200);
    assert!(facts(&after).is_empty());
    assert_eq!(after.body["summary"], "");
    // Forgotten: the next conversation does not acknowledge the old rating.
    let c = open(&app).await;
    let t = say(&app, &c, "hi, my email is ava@example.com").await;
    assert!(!t.contains("sorry"), "{t}");
    let missing = memory(&app, "nobody_9", app.key(Role::Viewer)).await;
    assert_eq!((missing.status, missing.code()), (404, "user_not_found"));
    app.finish().await;
}
