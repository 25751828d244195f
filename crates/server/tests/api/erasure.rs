//! GDPR erasure of a customer (`DELETE /v1/customers/{id}`): personal data
//! redacted or deleted everywhere, accounting records kept, another
//! customer untouched, viewers refused, and a second run changes nothing.

use hc_domain::Role;
use hc_store::EventStore as _;
use serde_json::json;

use crate::conversations::{open, say};
use crate::helpers::spawn_app;

#[tokio::test]
async fn erasing_a_customer_removes_their_personal_data_and_keeps_the_accounts() {
    let app = spawn_app().await;
    let owner = app.key(Role::Owner).to_string();
    let admin = app.key(Role::Admin).to_string();
    // A conversation (Zoe identifies and says her size), events by her and by Sam.
    let c = open(&app).await;
    say(&app, &c, "hi, zoe.muller@example.com here, i wear size M").await;
    let now = hc_domain::now_ms();
    let events = json!([
        {"event_id": "z1", "type": "product_view", "timestamp_ms": now - 2000, "session_id": "zs",
         "customer_id": "zoe_muller_1", "product_id": "1000000001", "page_type": "product"},
        {"event_id": "s1", "type": "product_view", "timestamp_ms": now - 2000, "session_id": "ss",
         "customer_id": "sam_lee_2", "product_id": "1000000001", "page_type": "product"}
    ]);
    let r = app.post("/v1/events", app.key(Role::Agent), &events).await;
    assert_eq!(r.status, 202, "{}", r.body);

    // A viewer may not erase; nothing changes.
    let r = app
        .delete("/v1/customers/zoe_muller_1", app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 403);
    let r = app.get("/v1/customers/zoe_muller_1", &owner).await;
    assert_eq!(r.body["email"], "Zoe.Muller@example.com", "{}", r.body);

    let r = app.delete("/v1/customers/zoe_muller_1", &admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let records = &r.body["records"];
    assert_eq!(records["customer"], true);
    assert_eq!(records["conversations_deleted"], 1, "{}", r.body);
    assert_eq!(records["events_unlinked"], 1, "{}", r.body);
    assert!(
        records["orders_redacted"].as_u64().unwrap() >= 1,
        "{}",
        r.body
    );

    // The record: placeholders; email lookup no longer finds her.
    let customer = app.get("/v1/customers/zoe_muller_1", &owner).await.body;
    let text = customer.to_string();
    assert!(
        !text.contains("Zoe") && !text.contains("example.com"),
        "{text}"
    );
    let r = app
        .tool(
            "find_user_id_by_email",
            &json!({"email": "zoe.muller@example.com"}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], "user_not_found", "{}", r.body);
    // Orders keep items and payments, with the address redacted.
    let order = customer["orders"][0].as_str().unwrap().to_string();
    let o = app
        .tool("get_order_details", &json!({"order_id": order}))
        .await
        .body["output"]
        .clone();
    assert_eq!(o["address"]["address1"], "erased");
    assert!(!o["items"].as_array().unwrap().is_empty());
    assert!(!o["payment_history"].as_array().unwrap().is_empty());
    // The conversation and the memory are gone.
    let r = app.get(&format!("/v1/conversations/{c}"), &owner).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app.get("/v1/customers/zoe_muller_1/memory", &owner).await;
    assert_eq!(r.body["facts"], json!([]), "{}", r.body);
    // Her event is unlinked; Sam's is not.
    let t = hc_domain::TenantId::parse("shop").unwrap();
    let user = |u: &str| hc_domain::UserId::parse(u).unwrap();
    let zoe = app
        .db
        .store
        .customer_events(&t, &user("zoe_muller_1"), 10)
        .await
        .unwrap();
    let sam = app
        .db
        .store
        .customer_events(&t, &user("sam_lee_2"), 10)
        .await
        .unwrap();
    assert!(zoe.is_empty(), "{zoe:?}");
    assert_eq!(sam.len(), 1);
    let r = app.get("/v1/customers/sam_lee_2", &owner).await;
    assert_eq!(r.body["email"], "sam@example.com");

    // Again: nothing more to do. Unknown customers: 404.
    let r = app.delete("/v1/customers/zoe_muller_1", &admin).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["records"]["orders_redacted"], 0, "{}", r.body);
    assert_eq!(r.body["records"]["conversations_deleted"], 0);
    let r = app.delete("/v1/customers/nobody_1", &admin).await;
    assert_eq!(r.status, 404, "{}", r.body);
}
