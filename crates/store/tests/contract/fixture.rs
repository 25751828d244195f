//! A small τ-retail database used across the contract tests.

use hc_domain::{RetailDb, Tenant, TenantId};
use hc_store::TenantStore;

pub const MINI_DB: &str = r##"{
  "products": {
    "1000000001": {"name": "T-Shirt", "product_id": "1000000001", "variants": {
      "2000000001": {"item_id": "2000000001", "options": {"color": "blue", "size": "M"}, "available": true, "price": 50.88},
      "2000000002": {"item_id": "2000000002", "options": {"color": "red", "size": "L"}, "available": true, "price": 46.85},
      "2000000003": {"item_id": "2000000003", "options": {"color": "black", "size": "S"}, "available": false, "price": 49.0}}},
    "1000000002": {"name": "Water Bottle", "product_id": "1000000002", "variants": {
      "2000000011": {"item_id": "2000000011", "options": {"capacity": "750ml"}, "available": true, "price": 47.76},
      "2000000012": {"item_id": "2000000012", "options": {"capacity": "1L"}, "available": true, "price": 52.3}}}
  },
  "users": {
    "zoe_muller_1": {"user_id": "zoe_muller_1", "name": {"first_name": "Zoë", "last_name": "Müller"},
      "address": {"address1": "1 Elm St", "address2": "", "city": "Austin", "country": "USA", "state": "TX", "zip": "78701"},
      "email": "Zoe.Muller@example.com",
      "payment_methods": {
        "gift_card_1": {"source": "gift_card", "id": "gift_card_1", "balance": 100},
        "credit_card_1": {"source": "credit_card", "id": "credit_card_1", "brand": "visa", "last_four": "4242"}},
      "orders": ["#W0000001", "#W0000002"]},
    "sam_lee_2": {"user_id": "sam_lee_2", "name": {"first_name": "Sam", "last_name": "Lee_%"},
      "address": {"address1": "2 Oak Ave", "address2": "Apt 3", "city": "Denver", "country": "USA", "state": "CO", "zip": "80202"},
      "email": "sam@example.com",
      "payment_methods": {"paypal_2": {"source": "paypal", "id": "paypal_2"}},
      "orders": ["#W0000003"]}
  },
  "orders": {
    "#W0000001": {"order_id": "#W0000001", "user_id": "zoe_muller_1",
      "address": {"address1": "1 Elm St", "address2": "", "city": "Austin", "country": "USA", "state": "TX", "zip": "78701"},
      "items": [{"name": "T-Shirt", "product_id": "1000000001", "item_id": "2000000001", "price": 50.88, "options": {"color": "blue", "size": "M"}}],
      "status": "pending", "fulfillments": [],
      "payment_history": [{"transaction_type": "payment", "amount": 50.88, "payment_method_id": "gift_card_1"}]},
    "#W0000002": {"order_id": "#W0000002", "user_id": "zoe_muller_1",
      "address": {"address1": "1 Elm St", "address2": "", "city": "Austin", "country": "USA", "state": "TX", "zip": "78701"},
      "items": [{"name": "Water Bottle", "product_id": "1000000002", "item_id": "2000000011", "price": 47.76, "options": {"capacity": "750ml"}}],
      "status": "delivered", "fulfillments": [{"tracking_id": ["123456789012"], "item_ids": ["2000000011"]}],
      "payment_history": [{"transaction_type": "payment", "amount": 47.76, "payment_method_id": "credit_card_1"}]},
    "#W0000003": {"order_id": "#W0000003", "user_id": "sam_lee_2",
      "address": {"address1": "2 Oak Ave", "address2": "Apt 3", "city": "Denver", "country": "USA", "state": "CO", "zip": "80202"},
      "items": [{"name": "T-Shirt", "product_id": "1000000001", "item_id": "2000000002", "price": 46.85, "options": {"color": "red", "size": "L"}}],
      "status": "cancelled", "fulfillments": [], "cancel_reason": "ordered by mistake",
      "payment_history": [{"transaction_type": "payment", "amount": 46.85, "payment_method_id": "paypal_2"},
                          {"transaction_type": "refund", "amount": 46.85, "payment_method_id": "paypal_2"}]}
  }
}"##;

pub fn mini_db() -> RetailDb {
    serde_json::from_str(MINI_DB).expect("fixture parses")
}

pub fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// Creates a tenant and imports the mini database into it.
pub async fn seeded(store: &hc_store::SqlStore, id: &str) -> TenantId {
    let t = tenant(id);
    store
        .create_tenant(&Tenant {
            id: t.clone(),
            name: id.to_string(),
            created_at_ms: 1,
        })
        .await
        .unwrap();
    store.import_retail(&t, &mini_db(), "test").await.unwrap();
    t
}
