//! The pricing service's tables, tenant-scoped: per-item rules and prices,
//! the price history with each change's reason, the approvals queue, the
//! competitor feed and each tenant's learned demand model (an opaque JSON
//! document owned by `hc-pricing`). Rules and reasons are JSON documents the
//! store does not interpret; money is integer cents.
//!
//! A live price change is one transaction: the item's current price, the
//! catalog variant's price (so the catalog, the agent and the tracker show
//! it) and the history entry move together.

use async_trait::async_trait;
use hc_domain::{ItemId, Money, Product, TenantId};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use tracing::instrument;

use crate::db::SqlStore;
use crate::error::{Error, Result, corrupt, map};
use crate::retail::{decode, put_product, to_doc};

const DAY_MS: i64 = 86_400_000;

/// An item under pricing rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PricedItem {
    pub item_id: ItemId,
    /// The rules as the merchant gave them (the service's wire document).
    pub rules: serde_json::Value,
    /// The catalog price when the rules were first set.
    pub base: Money,
    pub current: Money,
    /// The price when the UTC day `day` began.
    pub day_open: Money,
    /// Days since the Unix epoch (UTC) of `day_open`.
    pub day: i64,
    pub updated_at_ms: i64,
    /// Units sold (purchases learned by pricing, at their own time) since
    /// `stock_since_ms`, when the rules' `stock` or `sell_by` last changed.
    pub sold_units: i64,
    pub stock_since_ms: i64,
}

impl PricedItem {
    /// The price the day opened with at `now_ms` (the current price on a new day).
    pub fn day_open_at(&self, now_ms: i64) -> Money {
        if now_ms.div_euclid(DAY_MS) == self.day {
            self.day_open
        } else {
            self.current
        }
    }
}

/// A price change to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPriceChange {
    pub item_id: ItemId,
    pub from: Option<Money>,
    pub to: Money,
    pub reason: serde_json::Value,
    pub at_ms: i64,
}

/// One entry of an item's price history. `status` is `live` (applied),
/// `pending` (queued for approval), `approved` (applied by a person) or
/// `rejected`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceHistoryEntry {
    pub id: i64,
    pub item_id: ItemId,
    pub from: Option<Money>,
    pub to: Money,
    pub status: String,
    pub reason: serde_json::Value,
    pub at_ms: i64,
}

/// Where a queued change stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    /// A newer proposal for the same item replaced it.
    Superseded,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "superseded" => Self::Superseded,
            _ => return None,
        })
    }
}

/// A change waiting for (or decided by) a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceApproval {
    pub id: i64,
    pub item_id: ItemId,
    pub from: Option<Money>,
    pub to: Money,
    pub reason: serde_json::Value,
    pub status: ApprovalStatus,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
}

/// One competitor price observation (`observed_at` in Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetitorObservation {
    pub item_id: ItemId,
    pub competitor: String,
    pub price: Money,
    pub observed_at: i64,
}

/// The pricing service's storage port.
#[async_trait]
pub trait PricingStore: Send + Sync {
    /// Sets an item's rules. The first time, the item's catalog price becomes
    /// its base and current price; `Ok(None)` when the item is not in the catalog.
    async fn put_price_rules(
        &self,
        t: &TenantId,
        item: &ItemId,
        rules: &serde_json::Value,
        at_ms: i64,
    ) -> Result<Option<PricedItem>>;
    async fn priced_item(&self, t: &TenantId, item: &ItemId) -> Result<Option<PricedItem>>;
    /// Items with rules, by item id; only `items` when given.
    async fn priced_items(&self, t: &TenantId, items: Option<&[ItemId]>)
    -> Result<Vec<PricedItem>>;
    /// Makes a change live: the item's current price, the catalog variant's
    /// price and a `live` history entry, in one transaction. A `Conflict`
    /// when the current price is no longer `change.from`.
    async fn apply_price(&self, t: &TenantId, change: &NewPriceChange)
    -> Result<PriceHistoryEntry>;
    /// Queues a change for approval (superseding the item's pending one) and
    /// records it as `pending` in the history.
    async fn queue_price(&self, t: &TenantId, change: &NewPriceChange) -> Result<PriceApproval>;
    async fn price_approvals(
        &self,
        t: &TenantId,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<PriceApproval>>;
    async fn price_approval(&self, t: &TenantId, id: i64) -> Result<Option<PriceApproval>>;
    /// Decides a pending approval. Approving applies its price as
    /// [`PricingStore::apply_price`] would, from `expected_current`; a
    /// `Conflict` when the approval is no longer pending or the price moved.
    async fn decide_price(
        &self,
        t: &TenantId,
        id: i64,
        approve: bool,
        expected_current: Money,
        at_ms: i64,
    ) -> Result<Option<PriceApproval>>;
    /// Newest first, at most `limit`.
    async fn price_history(
        &self,
        t: &TenantId,
        item: &ItemId,
        limit: u32,
    ) -> Result<Vec<PriceHistoryEntry>>;
    /// Stores observations (the same item, competitor and time replaces); returns how many.
    async fn put_competitor_prices(
        &self,
        t: &TenantId,
        prices: &[CompetitorObservation],
    ) -> Result<u64>;
    async fn competitor_prices(
        &self,
        t: &TenantId,
        item: &ItemId,
    ) -> Result<Vec<CompetitorObservation>>;
    /// Sets a category's rules and enrols the category's catalog items that
    /// have no rules of their own (their rules become the JSON `null`:
    /// "the category's"). Returns how many items were enrolled.
    async fn put_category_rules(
        &self,
        t: &TenantId,
        category: &str,
        rules: &serde_json::Value,
        at_ms: i64,
    ) -> Result<u64>;
    /// Every category's rules, by category.
    async fn category_rules(&self, t: &TenantId) -> Result<Vec<(String, serde_json::Value)>>;
    /// Enrols catalog items added to ruled categories since; returns how many.
    async fn enrol_category_items(&self, t: &TenantId, at_ms: i64) -> Result<u64>;
    /// The demand rows of `items` (every item of the tenant when `None`) and
    /// of every category.
    async fn demand_rows(&self, t: &TenantId, items: Option<&[ItemId]>) -> Result<DemandRows>;
    /// One learning transaction: creates empty rows for `new` items (with
    /// their category) unless they exist, locks the rows of `items` and of
    /// their categories (in key order, so concurrent learners queue instead
    /// of deadlocking), hands them to `apply`, writes back what it returns
    /// and counts its sales against stock. Concurrent writers (threads or
    /// processes) never lose each other's updates.
    async fn learn_demand(
        &self,
        t: &TenantId,
        items: &[ItemId],
        new: &[(ItemId, Option<String>)],
        apply: DemandApply,
    ) -> Result<()>;
    /// Moves a legacy one-document model (`pricing_models`, before migration
    /// 0013) into rows: `rows` are inserted unless present, the document is
    /// deleted, in one transaction.
    async fn import_demand(&self, t: &TenantId, rows: &DemandRows) -> Result<()>;
    /// Makes many changes live in one transaction, in order (an item may
    /// change twice): each as [`PricingStore::apply_price`] would, refused
    /// alone (`Some(reason)` at its index) when its item has no rules or its
    /// current price is no longer `from`. Multi-row statements throughout.
    async fn apply_prices(
        &self,
        t: &TenantId,
        changes: &[NewPriceChange],
    ) -> Result<Vec<Option<String>>>;
    /// Every catalog variant's price, stock and category, in one read.
    async fn catalog_prices(&self, t: &TenantId) -> Result<Vec<CatalogPrice>>;
    /// Every competitor observation of the tenant at or after `since`.
    async fn competitor_prices_since(
        &self,
        t: &TenantId,
        since: i64,
    ) -> Result<Vec<CompetitorObservation>>;
    /// Counts purchases against the stock of items with rules: each sale at
    /// or after its item's `stock_since_ms` adds its units to `sold_units`.
    async fn record_sales(&self, t: &TenantId, sales: &[Sale]) -> Result<()>;
    /// The tenant's legacy one-document demand model, if not yet imported.
    async fn demand_model(&self, t: &TenantId) -> Result<Option<String>>;
}

fn item_id(raw: String) -> Result<ItemId> {
    ItemId::parse(raw).map_err(|e| Error::Corrupt(e.to_string()))
}

fn json(raw: String) -> Result<serde_json::Value> {
    serde_json::from_str(&raw).map_err(corrupt)
}

const ITEM_COLUMNS: &str = "item_id, rules, base_cents, current_cents, day_open_cents, open_day, \
     updated_at_ms, sold_units, stock_since_ms";

fn priced_item_of(r: &AnyRow) -> Result<PricedItem> {
    Ok(PricedItem {
        item_id: item_id(r.try_get(0).map_err(map)?)?,
        rules: json(r.try_get(1).map_err(map)?)?,
        base: Money::from_cents(r.try_get(2).map_err(map)?),
        current: Money::from_cents(r.try_get(3).map_err(map)?),
        day_open: Money::from_cents(r.try_get(4).map_err(map)?),
        day: r.try_get(5).map_err(map)?,
        updated_at_ms: r.try_get(6).map_err(map)?,
        sold_units: r.try_get(7).map_err(map)?,
        stock_since_ms: r.try_get(8).map_err(map)?,
    })
}

/// One stored part of a demand model: an item's (with its category) or a
/// category's. `doc` is '' for a row created but not yet learned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemandRow {
    pub key: String,
    pub category: Option<String>,
    pub doc: String,
}

/// The rows a learning batch or a repricing step works on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemandRows {
    pub items: Vec<DemandRow>,
    pub categories: Vec<DemandRow>,
}

/// What a learning batch writes back, in the same transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemandUpdate {
    pub items: Vec<DemandRow>,
    pub categories: Vec<DemandRow>,
    pub sales: Vec<Sale>,
}

/// Applies a learning batch to the locked rows (pure; an `Err` rolls back).
pub type DemandApply =
    Box<dyn FnOnce(DemandRows) -> std::result::Result<DemandUpdate, String> + Send>;

/// Rows per multi-row statement (5 parameters each: far below both backends' limits).
const CHUNK: usize = 500;

/// One purchase counted against an item's stock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sale {
    pub item_id: ItemId,
    pub units: i64,
    /// The purchase's own time.
    pub at_ms: i64,
}

/// What enrolment needs of a catalog product.
#[derive(Deserialize)]
struct CatalogEntry {
    #[serde(default)]
    category: Option<String>,
    variants: std::collections::BTreeMap<String, CatalogVariant>,
}

#[derive(Deserialize)]
struct CatalogVariant {
    price: Money,
    #[serde(default)]
    stock: Option<i64>,
}

/// What a repricing step needs of a catalog variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogPrice {
    pub item_id: ItemId,
    pub price: Money,
    pub stock: Option<i64>,
    pub category: Option<String>,
}

/// The parts of a rules document that define the stock being counted.
fn stock_terms(rules: &serde_json::Value) -> (serde_json::Value, serde_json::Value) {
    let get = |k: &str| rules.get(k).cloned().unwrap_or(serde_json::Value::Null);
    (get("stock"), get("sell_by"))
}

const HISTORY_COLUMNS: &str = "id, item_id, from_cents, to_cents, status, reason, at_ms";

fn history_of(r: &AnyRow) -> Result<PriceHistoryEntry> {
    Ok(PriceHistoryEntry {
        id: r.try_get(0).map_err(map)?,
        item_id: item_id(r.try_get(1).map_err(map)?)?,
        from: r
            .try_get::<Option<i64>, _>(2)
            .map_err(map)?
            .map(Money::from_cents),
        to: Money::from_cents(r.try_get(3).map_err(map)?),
        status: r.try_get(4).map_err(map)?,
        reason: json(r.try_get(5).map_err(map)?)?,
        at_ms: r.try_get(6).map_err(map)?,
    })
}

const APPROVAL_COLUMNS: &str =
    "id, item_id, from_cents, to_cents, reason, status, created_at_ms, decided_at_ms";

fn approval_of(r: &AnyRow) -> Result<PriceApproval> {
    let status: String = r.try_get(5).map_err(map)?;
    Ok(PriceApproval {
        id: r.try_get(0).map_err(map)?,
        item_id: item_id(r.try_get(1).map_err(map)?)?,
        from: r
            .try_get::<Option<i64>, _>(2)
            .map_err(map)?
            .map(Money::from_cents),
        to: Money::from_cents(r.try_get(3).map_err(map)?),
        reason: json(r.try_get(4).map_err(map)?)?,
        status: ApprovalStatus::parse(&status)
            .ok_or_else(|| Error::Corrupt(format!("unknown approval status {status}")))?,
        created_at_ms: r.try_get(6).map_err(map)?,
        decided_at_ms: r.try_get(7).map_err(map)?,
    })
}

async fn insert_history(
    conn: &mut sqlx::AnyConnection,
    t: &TenantId,
    change: &NewPriceChange,
    status: &str,
) -> Result<PriceHistoryEntry> {
    let sql = sqlx::AssertSqlSafe(format!(
        "insert into price_history (tenant_id, item_id, from_cents, to_cents, status, reason, at_ms) \
         values ($1, $2, $3, $4, $5, $6, $7) returning {HISTORY_COLUMNS}"
    ));
    let row = sqlx::query(sql)
        .bind(t.as_str())
        .bind(change.item_id.as_str())
        .bind(change.from.map(Money::cents))
        .bind(change.to.cents())
        .bind(status)
        .bind(change.reason.to_string())
        .bind(change.at_ms)
        .fetch_one(&mut *conn)
        .await
        .map_err(map)?;
    history_of(&row)
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn demand_row(r: &AnyRow, with_category: bool) -> Result<DemandRow> {
    Ok(DemandRow {
        key: r.try_get(0).map_err(map)?,
        category: if with_category {
            r.try_get(1).map_err(map)?
        } else {
            None
        },
        doc: r.try_get(if with_category { 2 } else { 1 }).map_err(map)?,
    })
}

impl SqlStore {
    /// Item rows by key (all when `keys` is `None`), optionally locked.
    async fn demand_items_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        keys: Option<&[String]>,
        lock: bool,
    ) -> Result<Vec<DemandRow>> {
        self.demand_rows_in(conn, t, "pricing_demand_items", "item_id", keys, lock)
            .await
    }

    /// Category rows by key (all when `None`), optionally locked.
    async fn demand_categories_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        keys: Option<&[String]>,
        lock: bool,
    ) -> Result<Vec<DemandRow>> {
        self.demand_rows_in(conn, t, "pricing_demand_categories", "category", keys, lock)
            .await
    }

    /// The rows of one demand table (`key` its key column; item rows also
    /// carry their category), by key in key order, optionally locked.
    async fn demand_rows_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        table: &'static str,
        key: &'static str,
        keys: Option<&[String]>,
        lock: bool,
    ) -> Result<Vec<DemandRow>> {
        let with_category = key == "item_id";
        let columns = if with_category {
            "item_id, category, doc"
        } else {
            "category, doc"
        };
        let suffix = if lock { self.for_update() } else { "" };
        let Some(keys) = keys else {
            let sql = sqlx::AssertSqlSafe(format!(
                "select {columns} from {table} where tenant_id = $1"
            ));
            let rows = sqlx::query(sql)
                .bind(t.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(map)?;
            return rows.iter().map(|r| demand_row(r, with_category)).collect();
        };
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let sql = sqlx::AssertSqlSafe(format!(
                "select {columns} from {table} where tenant_id = $1 \
                 and {key} in ({}) order by {key}{suffix}",
                placeholders(2, chunk.len())
            ));
            let mut q = sqlx::query(sql).bind(t.as_str());
            for k in chunk {
                q = q.bind(k.as_str());
            }
            let rows = q.fetch_all(&mut *conn).await.map_err(map)?;
            for r in &rows {
                out.push(demand_row(r, with_category)?);
            }
        }
        Ok(out)
    }

    /// Multi-row upsert (`replace`) or insert-unless-present of demand rows.
    async fn write_demand(
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        items: &[DemandRow],
        categories: &[DemandRow],
        replace: bool,
    ) -> Result<()> {
        let now = hc_domain::now_ms();
        for chunk in items.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("($1, ${}, ${}, ${}, $2)", 3 + 3 * i, 4 + 3 * i, 5 + 3 * i))
                .collect::<Vec<_>>()
                .join(", ");
            let action = if replace {
                "do update set doc = excluded.doc, category = excluded.category, \
                 updated_at_ms = excluded.updated_at_ms"
            } else {
                "do nothing"
            };
            let sql = sqlx::AssertSqlSafe(format!(
                "insert into pricing_demand_items (tenant_id, item_id, category, doc, updated_at_ms) \
                 values {values} on conflict (tenant_id, item_id) {action}"
            ));
            let mut q = sqlx::query(sql).bind(t.as_str()).bind(now);
            for r in chunk {
                q = q
                    .bind(r.key.as_str())
                    .bind(r.category.clone())
                    .bind(r.doc.as_str());
            }
            q.execute(&mut *conn).await.map_err(map)?;
        }
        for chunk in categories.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("($1, ${}, ${}, $2)", 3 + 2 * i, 4 + 2 * i))
                .collect::<Vec<_>>()
                .join(", ");
            let action = if replace {
                "do update set doc = excluded.doc, updated_at_ms = excluded.updated_at_ms"
            } else {
                "do nothing"
            };
            let sql = sqlx::AssertSqlSafe(format!(
                "insert into pricing_demand_categories (tenant_id, category, doc, updated_at_ms) \
                 values {values} on conflict (tenant_id, category) {action}"
            ));
            let mut q = sqlx::query(sql).bind(t.as_str()).bind(now);
            for r in chunk {
                q = q.bind(r.key.as_str()).bind(r.doc.as_str());
            }
            q.execute(&mut *conn).await.map_err(map)?;
        }
        Ok(())
    }

    /// Inserts a `null`-rules row for every catalog item of `categories`
    /// that has no pricing row yet.
    async fn enrol_in(
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        categories: &[String],
        at_ms: i64,
    ) -> Result<u64> {
        if categories.is_empty() {
            return Ok(0);
        }
        let rows = sqlx::query("select doc from products where tenant_id = $1")
            .bind(t.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(map)?;
        let priced: std::collections::HashSet<String> =
            sqlx::query("select item_id from pricing_items where tenant_id = $1")
                .bind(t.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(map)?
                .iter()
                .map(|r| r.try_get(0).map_err(map))
                .collect::<Result<_>>()?;
        let mut missing: Vec<(String, i64)> = Vec::new();
        for r in rows {
            let doc: String = r.try_get(0).map_err(map)?;
            let entry: CatalogEntry = serde_json::from_str(&doc).map_err(corrupt)?;
            if !entry
                .category
                .as_ref()
                .is_some_and(|c| categories.contains(c))
            {
                continue;
            }
            for (item, v) in entry.variants {
                if !priced.contains(&item) {
                    missing.push((item, v.price.cents()));
                }
            }
        }
        let mut enrolled = 0;
        for chunk in missing.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| {
                    let (a, b) = (4 + 2 * i, 5 + 2 * i);
                    format!("($1, ${a}, 'null', ${b}, ${b}, ${b}, $2, $3, 0, $3)")
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = sqlx::AssertSqlSafe(format!(
                "insert into pricing_items (tenant_id, item_id, rules, base_cents, current_cents, \
                 day_open_cents, open_day, updated_at_ms, sold_units, stock_since_ms) \
                 values {values} on conflict (tenant_id, item_id) do nothing"
            ));
            let mut q = sqlx::query(sql)
                .bind(t.as_str())
                .bind(at_ms.div_euclid(DAY_MS))
                .bind(at_ms);
            for (item, cents) in chunk {
                q = q.bind(item.as_str()).bind(*cents);
            }
            enrolled += q.execute(&mut *conn).await.map_err(map)?.rows_affected();
        }
        Ok(enrolled)
    }

    async fn locked_item(
        &self,
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        item: &ItemId,
    ) -> Result<Option<PricedItem>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ITEM_COLUMNS} from pricing_items where tenant_id = $1 and item_id = $2{}",
            self.for_update()
        ));
        let row = sqlx::query(sql)
            .bind(t.as_str())
            .bind(item.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(map)?;
        row.as_ref().map(priced_item_of).transpose()
    }

    async fn product_doc_of_item(
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        item: &ItemId,
    ) -> Result<Option<Product>> {
        let row = sqlx::query(
            "select p.doc from product_items i join products p \
             on p.tenant_id = i.tenant_id and p.product_id = i.product_id \
             where i.tenant_id = $1 and i.item_id = $2",
        )
        .bind(t.as_str())
        .bind(item.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map)?;
        row.map(|r| decode(&r.try_get::<String, _>(0).map_err(map)?))
            .transpose()
    }

    /// The live change inside the caller's transaction.
    async fn apply_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        t: &TenantId,
        change: &NewPriceChange,
        status: &str,
    ) -> Result<PriceHistoryEntry> {
        let item = self
            .locked_item(conn, t, &change.item_id)
            .await?
            .ok_or_else(|| Error::Conflict(format!("item {} has no rules", change.item_id)))?;
        if let Some(from) = change.from
            && from != item.current
        {
            return Err(Error::Conflict(format!(
                "the price of item {} moved from {from} to {}",
                change.item_id, item.current
            )));
        }
        let today = change.at_ms.div_euclid(DAY_MS);
        let (day_open, day) = if today == item.day {
            (item.day_open, item.day)
        } else {
            (item.current, today)
        };
        sqlx::query(
            "update pricing_items set current_cents = $3, day_open_cents = $4, open_day = $5, \
             updated_at_ms = $6 where tenant_id = $1 and item_id = $2",
        )
        .bind(t.as_str())
        .bind(change.item_id.as_str())
        .bind(change.to.cents())
        .bind(day_open.cents())
        .bind(day)
        .bind(change.at_ms)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
        // The catalog shows the live price.
        if let Some(mut product) = Self::product_doc_of_item(conn, t, &change.item_id).await?
            && let Some(variant) = product.variants.get_mut(&change.item_id)
        {
            variant.price = change.to;
            put_product(&mut *conn, t, &product).await?;
        }
        insert_history(conn, t, change, status).await
    }
}

#[async_trait]
impl PricingStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, item = %item))]
    async fn put_price_rules(
        &self,
        t: &TenantId,
        item: &ItemId,
        rules: &serde_json::Value,
        at_ms: i64,
    ) -> Result<Option<PricedItem>> {
        let mut tx = self.begin_write().await?;
        let existing = self.locked_item(&mut tx, t, item).await?;
        if let Some(old) = &existing {
            // The count of units sold restarts when the stock being sold changes.
            let restart = stock_terms(&old.rules) != stock_terms(rules);
            sqlx::query(
                "update pricing_items set rules = $3, updated_at_ms = $4, \
                 sold_units = case when $5 = 1 then 0 else sold_units end, \
                 stock_since_ms = case when $5 = 1 then $4 else stock_since_ms end \
                 where tenant_id = $1 and item_id = $2",
            )
            .bind(t.as_str())
            .bind(item.as_str())
            .bind(rules.to_string())
            .bind(at_ms)
            .bind(i64::from(restart))
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        } else {
            let Some(product) = Self::product_doc_of_item(&mut tx, t, item).await? else {
                return Ok(None);
            };
            let Some(variant) = product.variants.get(item) else {
                return Ok(None);
            };
            let price = variant.price.cents();
            sqlx::query(
                "insert into pricing_items (tenant_id, item_id, rules, base_cents, current_cents, \
                 day_open_cents, open_day, updated_at_ms, sold_units, stock_since_ms) \
                 values ($1, $2, $3, $4, $4, $4, $5, $6, 0, $6)",
            )
            .bind(t.as_str())
            .bind(item.as_str())
            .bind(rules.to_string())
            .bind(price)
            .bind(at_ms.div_euclid(DAY_MS))
            .bind(at_ms)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        let stored = self.locked_item(&mut tx, t, item).await?;
        tx.commit().await.map_err(map)?;
        Ok(stored)
    }

    async fn priced_item(&self, t: &TenantId, item: &ItemId) -> Result<Option<PricedItem>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ITEM_COLUMNS} from pricing_items where tenant_id = $1 and item_id = $2"
        ));
        let row = sqlx::query(sql)
            .bind(t.as_str())
            .bind(item.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?;
        row.as_ref().map(priced_item_of).transpose()
    }

    async fn priced_items(
        &self,
        t: &TenantId,
        items: Option<&[ItemId]>,
    ) -> Result<Vec<PricedItem>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ITEM_COLUMNS} from pricing_items where tenant_id = $1 order by item_id"
        ));
        let rows = sqlx::query(sql)
            .bind(t.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(map)?;
        let all = rows
            .iter()
            .map(priced_item_of)
            .collect::<Result<Vec<_>>>()?;
        Ok(match items {
            None => all,
            Some(wanted) => all
                .into_iter()
                .filter(|p| wanted.contains(&p.item_id))
                .collect(),
        })
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, item = %change.item_id))]
    async fn apply_price(
        &self,
        t: &TenantId,
        change: &NewPriceChange,
    ) -> Result<PriceHistoryEntry> {
        let mut tx = self.begin_write().await?;
        let entry = self.apply_in(&mut tx, t, change, "live").await?;
        tx.commit().await.map_err(map)?;
        Ok(entry)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, item = %change.item_id))]
    async fn queue_price(&self, t: &TenantId, change: &NewPriceChange) -> Result<PriceApproval> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "update price_approvals set status = 'superseded', decided_at_ms = $3 \
             where tenant_id = $1 and item_id = $2 and status = 'pending'",
        )
        .bind(t.as_str())
        .bind(change.item_id.as_str())
        .bind(change.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        let sql = sqlx::AssertSqlSafe(format!(
            "insert into price_approvals (tenant_id, item_id, from_cents, to_cents, reason, \
             status, created_at_ms) values ($1, $2, $3, $4, $5, 'pending', $6) \
             returning {APPROVAL_COLUMNS}"
        ));
        let row = sqlx::query(sql)
            .bind(t.as_str())
            .bind(change.item_id.as_str())
            .bind(change.from.map(Money::cents))
            .bind(change.to.cents())
            .bind(change.reason.to_string())
            .bind(change.at_ms)
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
        let approval = approval_of(&row)?;
        insert_history(&mut tx, t, change, "pending").await?;
        tx.commit().await.map_err(map)?;
        Ok(approval)
    }

    async fn price_approvals(
        &self,
        t: &TenantId,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<PriceApproval>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {APPROVAL_COLUMNS} from price_approvals where tenant_id = $1 \
             and ($2 = '' or status = $2) order by id"
        ));
        let rows = sqlx::query(sql)
            .bind(t.as_str())
            .bind(status.map(ApprovalStatus::as_str).unwrap_or_default())
            .fetch_all(&self.read)
            .await
            .map_err(map)?;
        rows.iter().map(approval_of).collect()
    }

    async fn price_approval(&self, t: &TenantId, id: i64) -> Result<Option<PriceApproval>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {APPROVAL_COLUMNS} from price_approvals where tenant_id = $1 and id = $2"
        ));
        let row = sqlx::query(sql)
            .bind(t.as_str())
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map)?;
        row.as_ref().map(approval_of).transpose()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, approval = id))]
    async fn decide_price(
        &self,
        t: &TenantId,
        id: i64,
        approve: bool,
        expected_current: Money,
        at_ms: i64,
    ) -> Result<Option<PriceApproval>> {
        let mut tx = self.begin_write().await?;
        let sql = sqlx::AssertSqlSafe(format!(
            "select {APPROVAL_COLUMNS} from price_approvals where tenant_id = $1 and id = $2{}",
            self.for_update()
        ));
        let row = sqlx::query(sql)
            .bind(t.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?;
        let Some(approval) = row.as_ref().map(approval_of).transpose()? else {
            return Ok(None);
        };
        if approval.status != ApprovalStatus::Pending {
            return Err(Error::Conflict(format!(
                "approval {id} is {}, not pending",
                approval.status.as_str()
            )));
        }
        let change = NewPriceChange {
            item_id: approval.item_id.clone(),
            from: Some(expected_current),
            to: approval.to,
            reason: approval.reason.clone(),
            at_ms,
        };
        let status = if approve {
            self.apply_in(&mut tx, t, &change, "approved").await?;
            ApprovalStatus::Approved
        } else {
            insert_history(&mut tx, t, &change, "rejected").await?;
            ApprovalStatus::Rejected
        };
        sqlx::query(
            "update price_approvals set status = $3, decided_at_ms = $4 \
             where tenant_id = $1 and id = $2",
        )
        .bind(t.as_str())
        .bind(id)
        .bind(status.as_str())
        .bind(at_ms)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(Some(PriceApproval {
            status,
            decided_at_ms: Some(at_ms),
            ..approval
        }))
    }

    async fn price_history(
        &self,
        t: &TenantId,
        item: &ItemId,
        limit: u32,
    ) -> Result<Vec<PriceHistoryEntry>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {HISTORY_COLUMNS} from price_history where tenant_id = $1 and item_id = $2 \
             order by id desc limit $3"
        ));
        let rows = sqlx::query(sql)
            .bind(t.as_str())
            .bind(item.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(map)?;
        rows.iter().map(history_of).collect()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, n = prices.len()))]
    async fn put_competitor_prices(
        &self,
        t: &TenantId,
        prices: &[CompetitorObservation],
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        for p in prices {
            sqlx::query(
                "insert into competitor_prices (tenant_id, item_id, competitor, price_cents, \
                 observed_at) values ($1, $2, $3, $4, $5) on conflict (tenant_id, item_id, \
                 competitor, observed_at) do update set price_cents = excluded.price_cents",
            )
            .bind(t.as_str())
            .bind(p.item_id.as_str())
            .bind(p.competitor.clone())
            .bind(p.price.cents())
            .bind(p.observed_at)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(prices.len() as u64)
    }

    async fn competitor_prices(
        &self,
        t: &TenantId,
        item: &ItemId,
    ) -> Result<Vec<CompetitorObservation>> {
        let rows = sqlx::query(
            "select item_id, competitor, price_cents, observed_at from competitor_prices \
             where tenant_id = $1 and item_id = $2 order by observed_at, competitor",
        )
        .bind(t.as_str())
        .bind(item.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                Ok(CompetitorObservation {
                    item_id: item_id(r.try_get(0).map_err(map)?)?,
                    competitor: r.try_get(1).map_err(map)?,
                    price: Money::from_cents(r.try_get(2).map_err(map)?),
                    observed_at: r.try_get(3).map_err(map)?,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, category))]
    async fn put_category_rules(
        &self,
        t: &TenantId,
        category: &str,
        rules: &serde_json::Value,
        at_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into pricing_categories (tenant_id, category, rules, updated_at_ms) \
             values ($1, $2, $3, $4) on conflict (tenant_id, category) do update set \
             rules = excluded.rules, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(t.as_str())
        .bind(category)
        .bind(rules.to_string())
        .bind(at_ms)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        let enrolled = Self::enrol_in(&mut tx, t, &[category.to_owned()], at_ms).await?;
        tx.commit().await.map_err(map)?;
        Ok(enrolled)
    }

    async fn category_rules(&self, t: &TenantId) -> Result<Vec<(String, serde_json::Value)>> {
        let rows = sqlx::query(
            "select category, rules from pricing_categories where tenant_id = $1 order by category",
        )
        .bind(t.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(map)?,
                    json(r.try_get(1).map_err(map)?)?,
                ))
            })
            .collect()
    }

    async fn enrol_category_items(&self, t: &TenantId, at_ms: i64) -> Result<u64> {
        let categories: Vec<String> = self
            .category_rules(t)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        if categories.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let enrolled = Self::enrol_in(&mut tx, t, &categories, at_ms).await?;
        tx.commit().await.map_err(map)?;
        Ok(enrolled)
    }

    async fn demand_rows(&self, t: &TenantId, items: Option<&[ItemId]>) -> Result<DemandRows> {
        let mut conn = self.read.acquire().await.map_err(map)?;
        let keys: Option<Vec<String>> = items.map(|i| i.iter().map(|k| k.to_string()).collect());
        let items = self
            .demand_items_in(&mut conn, t, keys.as_deref(), false)
            .await?;
        let categories = self.demand_categories_in(&mut conn, t, None, false).await?;
        Ok(DemandRows { items, categories })
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, items = items.len()))]
    async fn learn_demand(
        &self,
        t: &TenantId,
        items: &[ItemId],
        new: &[(ItemId, Option<String>)],
        apply: DemandApply,
    ) -> Result<()> {
        let mut keys: Vec<String> = items.iter().map(|i| i.to_string()).collect();
        keys.sort();
        keys.dedup();
        let mut fresh: Vec<DemandRow> = new
            .iter()
            .map(|(i, c)| DemandRow {
                key: i.to_string(),
                category: c.clone(),
                doc: String::new(),
            })
            .collect();
        fresh.sort_by(|a, b| a.key.cmp(&b.key));
        let mut tx = self.begin_write().await?;
        Self::write_demand(&mut tx, t, &fresh, &[], false).await?;
        let rows = self.demand_items_in(&mut tx, t, Some(&keys), true).await?;
        let mut cats: Vec<String> = rows.iter().filter_map(|r| r.category.clone()).collect();
        cats.sort();
        cats.dedup();
        let empty: Vec<DemandRow> = cats
            .iter()
            .map(|c| DemandRow {
                key: c.clone(),
                category: None,
                doc: String::new(),
            })
            .collect();
        Self::write_demand(&mut tx, t, &[], &empty, false).await?;
        let categories = self
            .demand_categories_in(&mut tx, t, Some(&cats), true)
            .await?;
        let update = apply(DemandRows {
            items: rows,
            categories,
        })
        .map_err(Error::Corrupt)?;
        Self::write_demand(&mut tx, t, &update.items, &update.categories, true).await?;
        Self::sales_in(&mut tx, t, &update.sales).await?;
        tx.commit().await.map_err(map)?;
        Ok(())
    }

    async fn import_demand(&self, t: &TenantId, rows: &DemandRows) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::write_demand(&mut tx, t, &rows.items, &rows.categories, false).await?;
        sqlx::query("delete from pricing_models where tenant_id = $1")
            .bind(t.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, n = changes.len()))]
    async fn apply_prices(
        &self,
        t: &TenantId,
        changes: &[NewPriceChange],
    ) -> Result<Vec<Option<String>>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys: Vec<String> = changes.iter().map(|c| c.item_id.to_string()).collect();
        keys.sort();
        keys.dedup();
        let mut tx = self.begin_write().await?;
        // (current, day_open, day) of every item, locked.
        let mut rows: std::collections::HashMap<String, (i64, i64, i64)> =
            std::collections::HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let sql = sqlx::AssertSqlSafe(format!(
                "select item_id, current_cents, day_open_cents, open_day from pricing_items \
                 where tenant_id = $1 and item_id in ({}) order by item_id{}",
                placeholders(2, chunk.len()),
                self.for_update()
            ));
            let mut q = sqlx::query(sql).bind(t.as_str());
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for r in q.fetch_all(&mut *tx).await.map_err(map)? {
                rows.insert(
                    r.try_get(0).map_err(map)?,
                    (
                        r.try_get(1).map_err(map)?,
                        r.try_get(2).map_err(map)?,
                        r.try_get(3).map_err(map)?,
                    ),
                );
            }
        }
        let mut outcome = Vec::with_capacity(changes.len());
        let mut applied: Vec<&NewPriceChange> = Vec::with_capacity(changes.len());
        for c in changes {
            let Some(row) = rows.get_mut(c.item_id.as_str()) else {
                outcome.push(Some(format!("item {} has no rules", c.item_id)));
                continue;
            };
            if let Some(from) = c.from
                && from.cents() != row.0
            {
                outcome.push(Some(format!(
                    "the price of item {} moved from {from} to {}",
                    c.item_id,
                    Money::from_cents(row.0)
                )));
                continue;
            }
            let today = c.at_ms.div_euclid(DAY_MS);
            if today != row.2 {
                *row = (row.0, row.0, today);
            }
            row.0 = c.to.cents();
            applied.push(c);
            outcome.push(None);
        }
        let touched: std::collections::HashSet<&str> =
            applied.iter().map(|c| c.item_id.as_str()).collect();
        let mut moved: Vec<(&String, &(i64, i64, i64))> = rows
            .iter()
            .filter(|(k, _)| touched.contains(k.as_str()))
            .collect();
        moved.sort();
        let now = applied.first().map_or(0, |c| c.at_ms);
        for chunk in moved.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| {
                    let b = 3 + 4 * i;
                    format!(
                        "(${b}, cast(${} as bigint), cast(${} as bigint), cast(${} as bigint))",
                        b + 1,
                        b + 2,
                        b + 3
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = sqlx::AssertSqlSafe(format!(
                "update pricing_items set current_cents = v.column2, day_open_cents = v.column3, \
                 open_day = v.column4, updated_at_ms = $2 from (values {values}) as v \
                 where pricing_items.tenant_id = $1 and pricing_items.item_id = v.column1"
            ));
            let mut q = sqlx::query(sql).bind(t.as_str()).bind(now);
            for (k, (current, open, day)) in chunk {
                q = q.bind(k.as_str()).bind(*current).bind(*open).bind(*day);
            }
            q.execute(&mut *tx).await.map_err(map)?;
        }
        // The catalog shows the live prices: each touched product once.
        let final_price: std::collections::HashMap<&str, i64> =
            moved.iter().map(|(k, r)| (k.as_str(), r.0)).collect();
        let moved_keys: Vec<&str> = final_price.keys().copied().collect();
        let mut products: std::collections::BTreeMap<String, Product> = Default::default();
        for chunk in moved_keys.chunks(CHUNK) {
            let sql = sqlx::AssertSqlSafe(format!(
                "select p.product_id, p.doc from product_items i join products p \
                 on p.tenant_id = i.tenant_id and p.product_id = i.product_id \
                 where i.tenant_id = $1 and i.item_id in ({})",
                placeholders(2, chunk.len())
            ));
            let mut q = sqlx::query(sql).bind(t.as_str());
            for k in chunk {
                q = q.bind(*k);
            }
            for r in q.fetch_all(&mut *tx).await.map_err(map)? {
                let id: String = r.try_get(0).map_err(map)?;
                if let std::collections::btree_map::Entry::Vacant(slot) = products.entry(id) {
                    let doc: String = r.try_get(1).map_err(map)?;
                    slot.insert(decode(&doc)?);
                }
            }
        }
        let mut docs: Vec<(String, String)> = Vec::with_capacity(products.len());
        for (id, mut p) in products {
            for (item, v) in p.variants.iter_mut() {
                if let Some(cents) = final_price.get(item.as_str()) {
                    v.price = Money::from_cents(*cents);
                }
            }
            docs.push((id, to_doc(&p)?));
        }
        for chunk in docs.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 3 + 2 * i, 4 + 2 * i))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = sqlx::AssertSqlSafe(format!(
                "update products set doc = v.column2, updated_at_ms = $2 from (values {values}) as v \
                 where products.tenant_id = $1 and products.product_id = v.column1"
            ));
            let mut q = sqlx::query(sql).bind(t.as_str()).bind(now);
            for (id, doc) in chunk {
                q = q.bind(id.as_str()).bind(doc.as_str());
            }
            q.execute(&mut *tx).await.map_err(map)?;
        }
        for chunk in applied.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| {
                    let b = 2 + 5 * i;
                    format!(
                        "($1, ${b}, cast(${} as bigint), cast(${} as bigint), 'live', ${}, cast(${} as bigint))",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = sqlx::AssertSqlSafe(format!(
                "insert into price_history (tenant_id, item_id, from_cents, to_cents, status, \
                 reason, at_ms) values {values}"
            ));
            let mut q = sqlx::query(sql).bind(t.as_str());
            for c in chunk {
                q = q
                    .bind(c.item_id.as_str())
                    .bind(c.from.map(Money::cents))
                    .bind(c.to.cents())
                    .bind(c.reason.to_string())
                    .bind(c.at_ms);
            }
            q.execute(&mut *tx).await.map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(outcome)
    }

    async fn catalog_prices(&self, t: &TenantId) -> Result<Vec<CatalogPrice>> {
        let rows = sqlx::query("select doc from products where tenant_id = $1")
            .bind(t.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(map)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let doc: String = r.try_get(0).map_err(map)?;
            let entry: CatalogEntry = serde_json::from_str(&doc).map_err(corrupt)?;
            for (item, v) in entry.variants {
                out.push(CatalogPrice {
                    item_id: item_id(item)?,
                    price: v.price,
                    stock: v.stock,
                    category: entry.category.clone(),
                });
            }
        }
        Ok(out)
    }

    async fn competitor_prices_since(
        &self,
        t: &TenantId,
        since: i64,
    ) -> Result<Vec<CompetitorObservation>> {
        let rows = sqlx::query(
            "select item_id, competitor, price_cents, observed_at from competitor_prices \
             where tenant_id = $1 and observed_at >= $2 order by observed_at, competitor",
        )
        .bind(t.as_str())
        .bind(since)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                Ok(CompetitorObservation {
                    item_id: item_id(r.try_get(0).map_err(map)?)?,
                    competitor: r.try_get(1).map_err(map)?,
                    price: Money::from_cents(r.try_get(2).map_err(map)?),
                    observed_at: r.try_get(3).map_err(map)?,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, n = sales.len()))]
    async fn record_sales(&self, t: &TenantId, sales: &[Sale]) -> Result<()> {
        if sales.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        Self::sales_in(&mut tx, t, sales).await?;
        tx.commit().await.map_err(map)?;
        Ok(())
    }

    async fn demand_model(&self, t: &TenantId) -> Result<Option<String>> {
        let row = sqlx::query("select doc from pricing_models where tenant_id = $1")
            .bind(t.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?;
        row.map(|r| r.try_get::<String, _>(0).map_err(map))
            .transpose()
    }
}

impl SqlStore {
    /// Adds sold units to items whose stock count started at or before the sale.
    async fn sales_in(conn: &mut sqlx::AnyConnection, t: &TenantId, sales: &[Sale]) -> Result<()> {
        for sale in sales {
            sqlx::query(
                "update pricing_items set sold_units = sold_units + $3 \
                 where tenant_id = $1 and item_id = $2 and stock_since_ms <= $4",
            )
            .bind(t.as_str())
            .bind(sale.item_id.as_str())
            .bind(sale.units)
            .bind(sale.at_ms)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
        }
        Ok(())
    }
}
