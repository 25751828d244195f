//! The storage this crate needs, as narrow per-aggregate traits. The `store`
//! crate implements them for SQLite and PostgreSQL; every call is scoped to
//! one tenant.

use async_trait::async_trait;
use hc_domain::{
    AuditRecord, Customer, ItemId, Money, Order, OrderId, OrderStatus, Product, ProductId,
    TenantId, TenantSettings, UserId,
};

/// A storage failure, free of any driver type.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or timed out; retrying may help.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A concurrent change or a uniqueness constraint got in the way.
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// Who acts, for which tenant. Carried into every write for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub tenant: TenantId,
    /// E.g. `key:<id>`, `cli`, `agent:<conversation>`.
    pub principal: String,
}

impl Actor {
    pub fn new(tenant: TenantId, principal: impl Into<String>) -> Self {
        Self {
            tenant,
            principal: principal.into(),
        }
    }
}

/// Keyset pagination: records after the cursor, ordered by id.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: u32,
}

impl PageRequest {
    pub const MAX_LIMIT: u32 = 200;

    pub fn new(after: Option<String>, limit: Option<u32>) -> Self {
        Self {
            after,
            limit: limit.unwrap_or(50).clamp(1, Self::MAX_LIMIT),
        }
    }
}

/// One page of records and the cursor for the next, if any.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Filters for listing customers. Name and email are matched folded
/// (case- and diacritic-insensitive); name matches a substring of "first last".
#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Filters for listing orders.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub user_id: Option<UserId>,
    pub status: Option<OrderStatus>,
}

/// Read access to the catalog.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn product(&self, t: &TenantId, id: &ProductId) -> StoreResult<Option<Product>>;
    /// The product that has `item` among its variants.
    async fn product_of_item(&self, t: &TenantId, item: &ItemId) -> StoreResult<Option<Product>>;
    /// `(name, product_id)` of every product.
    async fn product_names(&self, t: &TenantId) -> StoreResult<Vec<(String, ProductId)>>;
    /// Products whose folded name contains the folded `query`, if given.
    async fn list_products(
        &self,
        t: &TenantId,
        query: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Product>>;
}

/// Read access to customers.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn customer(&self, t: &TenantId, id: &UserId) -> StoreResult<Option<Customer>>;
    async fn find_by_email(&self, t: &TenantId, email: &str) -> StoreResult<Option<UserId>>;
    async fn find_by_name_zip(
        &self,
        t: &TenantId,
        first_name: &str,
        last_name: &str,
        zip: &str,
    ) -> StoreResult<Option<UserId>>;
    async fn list_customers(
        &self,
        t: &TenantId,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>>;
}

/// Read access to orders.
#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn order(&self, t: &TenantId, id: &OrderId) -> StoreResult<Option<Order>>;
    async fn list_orders(
        &self,
        t: &TenantId,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Order>>;
}

/// Opens write transactions.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Begins a transaction for one tenant. Rows read through it are locked
    /// against concurrent writers until commit or drop (drop rolls back).
    async fn begin(&self, t: &TenantId) -> StoreResult<Box<dyn RetailTx>>;
}

/// One write transaction, scoped to the tenant it was opened for.
#[async_trait]
pub trait RetailTx: Send {
    async fn order(&mut self, id: &OrderId) -> StoreResult<Option<Order>>;
    async fn customer(&mut self, id: &UserId) -> StoreResult<Option<Customer>>;
    async fn product(&mut self, id: &ProductId) -> StoreResult<Option<Product>>;
    async fn product_of_item(&mut self, item: &ItemId) -> StoreResult<Option<Product>>;
    async fn put_order(&mut self, order: &Order) -> StoreResult<()>;
    async fn put_customer(&mut self, customer: &Customer) -> StoreResult<()>;
    async fn put_product(&mut self, product: &Product) -> StoreResult<()>;
    async fn audit(&mut self, record: &AuditRecord) -> StoreResult<()>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Everything the retail service needs from storage.
pub trait RetailStore: CatalogStore + CustomerStore + OrderStore + UnitOfWork {}

impl<T: CatalogStore + CustomerStore + OrderStore + UnitOfWork> RetailStore for T {}

/// Loyalty points as part payment of an order. The server implements it
/// over the loyalty ledger (the customer id there is the user id).
#[async_trait]
pub trait LoyaltyWallet: Send + Sync {
    /// Burns `points` of the customer's points at this merchant as a
    /// discount on an order of `order_total`, once per `key` (a repeat
    /// returns the first discount). The program's point value and its cap on
    /// an order's share apply. `Err` is the reason, for the customer.
    async fn redeem(
        &self,
        t: &TenantId,
        user: &UserId,
        points: u64,
        order_total: Money,
        key: &str,
    ) -> std::result::Result<Money, String>;
    /// Gives back `points` burned for an order that was cancelled or never
    /// placed, once per `key`.
    async fn restore(
        &self,
        t: &TenantId,
        user: &UserId,
        points: u64,
        key: &str,
    ) -> std::result::Result<(), String>;
}

/// The merchant's settings, read by the retail actions for their per-tenant
/// policy (cancel reasons, refunds to gift cards). The server implements it
/// over the platform store with a short-lived cache.
#[async_trait]
pub trait PolicySource: Send + Sync {
    /// The tenant's stored settings (the defaults when it never set any).
    async fn settings(&self, t: &TenantId) -> StoreResult<std::sync::Arc<TenantSettings>>;
}
