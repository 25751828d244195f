//! Test support: an in-memory retail store (one tenant's [`RetailDb`]) and a
//! small shop, so the gate and the dialogue can be tested against the real
//! retail tools without a database.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hc_commerce::ports::{
    CatalogStore, CustomerFilter, CustomerStore, OrderFilter, OrderStore, UnitOfWork,
};
use hc_commerce::text::fold;
use hc_commerce::{Page, PageRequest, Retail, RetailPolicy, RetailTx, StoreError, Tools};
use hc_domain::{
    AuditRecord, Customer, ItemId, Order, OrderId, Product, ProductId, RetailDb, TenantId, UserId,
};
use serde_json::json;

type StoreResult<T> = Result<T, StoreError>;

/// One tenant's retail data in memory; a transaction works on a copy and
/// replaces the data on commit.
#[derive(Clone, Default)]
pub struct MemStore {
    db: Arc<Mutex<RetailDb>>,
}

impl MemStore {
    pub fn new(db: RetailDb) -> Self {
        Self {
            db: Arc::new(Mutex::new(db)),
        }
    }

    /// The data as it is now.
    pub fn snapshot(&self) -> RetailDb {
        self.db.lock().expect("store lock").clone()
    }

    fn read<T>(&self, f: impl FnOnce(&RetailDb) -> T) -> T {
        f(&self.db.lock().expect("store lock"))
    }
}

fn page<T>(items: Vec<T>) -> Page<T> {
    Page {
        items,
        next_cursor: None,
    }
}

fn product_of(db: &RetailDb, item: &ItemId) -> Option<Product> {
    db.products
        .values()
        .find(|p| p.variants.contains_key(item))
        .cloned()
}

#[async_trait]
impl CatalogStore for MemStore {
    async fn product(&self, _: &TenantId, id: &ProductId) -> StoreResult<Option<Product>> {
        Ok(self.read(|db| db.products.get(id).cloned()))
    }

    async fn product_of_item(&self, _: &TenantId, item: &ItemId) -> StoreResult<Option<Product>> {
        Ok(self.read(|db| product_of(db, item)))
    }

    async fn product_names(&self, _: &TenantId) -> StoreResult<Vec<(String, ProductId)>> {
        Ok(self.read(|db| {
            db.products
                .values()
                .map(|p| (p.name.clone(), p.product_id.clone()))
                .collect()
        }))
    }

    async fn list_products(
        &self,
        _: &TenantId,
        query: Option<&str>,
        _: &PageRequest,
    ) -> StoreResult<Page<Product>> {
        let q = query.map(fold).unwrap_or_default();
        Ok(page(self.read(|db| {
            db.products
                .values()
                .filter(|p| fold(&p.name).contains(&q))
                .cloned()
                .collect()
        })))
    }
}

#[async_trait]
impl CustomerStore for MemStore {
    async fn customer(&self, _: &TenantId, id: &UserId) -> StoreResult<Option<Customer>> {
        Ok(self.read(|db| db.users.get(id).cloned()))
    }

    async fn find_by_email(&self, _: &TenantId, email: &str) -> StoreResult<Option<UserId>> {
        Ok(self.read(|db| {
            db.users
                .values()
                .find(|c| fold(&c.email) == fold(email))
                .map(|c| c.user_id.clone())
        }))
    }

    async fn find_by_name_zip(
        &self,
        _: &TenantId,
        first_name: &str,
        last_name: &str,
        zip: &str,
    ) -> StoreResult<Option<UserId>> {
        Ok(self.read(|db| {
            db.users
                .values()
                .find(|c| {
                    fold(&c.name.first_name) == fold(first_name)
                        && fold(&c.name.last_name) == fold(last_name)
                        && c.address.zip == zip
                })
                .map(|c| c.user_id.clone())
        }))
    }

    async fn list_customers(
        &self,
        _: &TenantId,
        _: &CustomerFilter,
        _: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        Ok(page(self.read(|db| db.users.values().cloned().collect())))
    }
}

#[async_trait]
impl OrderStore for MemStore {
    async fn order(&self, _: &TenantId, id: &OrderId) -> StoreResult<Option<Order>> {
        Ok(self.read(|db| db.orders.get(id).cloned()))
    }

    async fn list_orders(
        &self,
        _: &TenantId,
        filter: &OrderFilter,
        _: &PageRequest,
    ) -> StoreResult<Page<Order>> {
        Ok(page(self.read(|db| {
            db.orders
                .values()
                .filter(|o| filter.user_id.as_ref().is_none_or(|u| *u == o.user_id))
                .cloned()
                .collect()
        })))
    }
}

#[async_trait]
impl UnitOfWork for MemStore {
    async fn begin(&self, _: &TenantId) -> StoreResult<Box<dyn RetailTx>> {
        Ok(Box::new(MemTx {
            store: self.clone(),
            db: self.snapshot(),
        }))
    }
}

struct MemTx {
    store: MemStore,
    db: RetailDb,
}

#[async_trait]
impl RetailTx for MemTx {
    async fn order(&mut self, id: &OrderId) -> StoreResult<Option<Order>> {
        Ok(self.db.orders.get(id).cloned())
    }

    async fn customer(&mut self, id: &UserId) -> StoreResult<Option<Customer>> {
        Ok(self.db.users.get(id).cloned())
    }

    async fn product(&mut self, id: &ProductId) -> StoreResult<Option<Product>> {
        Ok(self.db.products.get(id).cloned())
    }

    async fn product_of_item(&mut self, item: &ItemId) -> StoreResult<Option<Product>> {
        Ok(product_of(&self.db, item))
    }

    async fn put_order(&mut self, order: &Order) -> StoreResult<()> {
        self.db.orders.insert(order.order_id.clone(), order.clone());
        Ok(())
    }

    async fn put_customer(&mut self, customer: &Customer) -> StoreResult<()> {
        self.db
            .users
            .insert(customer.user_id.clone(), customer.clone());
        Ok(())
    }

    async fn put_product(&mut self, product: &Product) -> StoreResult<()> {
        self.db
            .products
            .insert(product.product_id.clone(), product.clone());
        Ok(())
    }

    async fn audit(&mut self, _: &AuditRecord) -> StoreResult<()> {
        Ok(())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        *self.store.db.lock().expect("store lock") = self.db;
        Ok(())
    }
}

/// The shop's one customer.
pub const USER: &str = "noor_haddad_4417";
pub const EMAIL: &str = "noor.haddad4417@example.com";
/// A pending order: a desk lamp, paid by visa.
pub const LAMP_ORDER: &str = "#W7000001";
/// A delivered order: a t-shirt and a water bottle, paid by PayPal.
pub const SHIRT_ORDER: &str = "#W7000002";
/// Another pending order: a water bottle, paid by gift card.
pub const BOTTLE_ORDER: &str = "#W7000003";
pub const LAMP: &str = "7100000001";
pub const SHIRT: &str = "7200000001";
pub const BOTTLE: &str = "7300000001";

fn item(
    product: &str,
    name: &str,
    id: &str,
    price: f64,
    options: serde_json::Value,
) -> serde_json::Value {
    json!({"name": name, "product_id": product, "item_id": id, "price": price, "options": options})
}

fn order(
    id: &str,
    status: &str,
    items: serde_json::Value,
    amount: f64,
    method: &str,
) -> serde_json::Value {
    json!({
        "order_id": id, "user_id": USER,
        "address": {"address1": "12 Quarry Lane", "address2": "", "city": "Austin",
                    "country": "USA", "state": "TX", "zip": "78701"},
        "items": items, "status": status, "fulfillments": [],
        "payment_history": [{"transaction_type": "payment", "amount": amount,
                             "payment_method_id": method}]
    })
}

/// The shop: one customer with a visa, PayPal and a gift card, and three
/// orders (two pending, one delivered).
pub fn shop() -> RetailDb {
    let lamp = json!({"color": "black", "brightness": "high"});
    let shirt = json!({"color": "red", "size": "L"});
    let bottle = json!({"capacity": "750ml", "color": "blue"});
    serde_json::from_value(json!({
        "products": {
            "7100000000": {"name": "Desk Lamp", "product_id": "7100000000", "variants": {
                LAMP: {"item_id": LAMP, "options": lamp.clone(), "available": true, "price": 80.0},
                "7100000002": {"item_id": "7100000002",
                               "options": {"color": "white", "brightness": "high"},
                               "available": true, "price": 85.0}}},
            "7200000000": {"name": "T-Shirt", "product_id": "7200000000", "variants": {
                SHIRT: {"item_id": SHIRT, "options": shirt.clone(), "available": true, "price": 20.0}}},
            "7300000000": {"name": "Water Bottle", "product_id": "7300000000", "variants": {
                BOTTLE: {"item_id": BOTTLE, "options": bottle.clone(), "available": true, "price": 30.0}}}
        },
        "users": {
            USER: {
                "user_id": USER, "email": EMAIL,
                "name": {"first_name": "Noor", "last_name": "Haddad"},
                "address": {"address1": "12 Quarry Lane", "address2": "", "city": "Austin",
                            "country": "USA", "state": "TX", "zip": "78701"},
                "payment_methods": {
                    "credit_card_7000001": {"source": "credit_card", "id": "credit_card_7000001",
                                            "brand": "visa", "last_four": "4242"},
                    "paypal_7000001": {"source": "paypal", "id": "paypal_7000001"},
                    "gift_card_7000001": {"source": "gift_card", "id": "gift_card_7000001",
                                          "balance": 100.0}
                },
                "orders": [LAMP_ORDER, SHIRT_ORDER, BOTTLE_ORDER]
            }
        },
        "orders": {
            LAMP_ORDER: order(LAMP_ORDER, "pending",
                              json!([item("7100000000", "Desk Lamp", LAMP, 80.0, lamp)]),
                              80.0, "credit_card_7000001"),
            SHIRT_ORDER: order(SHIRT_ORDER, "delivered",
                               json!([item("7200000000", "T-Shirt", SHIRT, 20.0, shirt),
                                      item("7300000000", "Water Bottle", BOTTLE, 30.0, bottle.clone())]),
                               50.0, "paypal_7000001"),
            BOTTLE_ORDER: order(BOTTLE_ORDER, "pending",
                                json!([item("7300000000", "Water Bottle", BOTTLE, 30.0, bottle)]),
                                30.0, "gift_card_7000001")
        }
    }))
    .expect("the test shop is valid τ-retail data")
}

/// The retail tools over `store`, with the default policy.
pub fn tools(store: &MemStore) -> Tools {
    Tools::new(Retail::new(
        Arc::new(store.clone()),
        RetailPolicy::default(),
    ))
}

/// The actor of test conversations.
pub fn actor() -> hc_commerce::Actor {
    hc_commerce::Actor::new(TenantId::parse("shop").expect("tenant id"), "agent:test")
}
