//! The pricing service: a thin adapter between the store and the pure engine
//! of `hc-pricing`. It turns the merchant's wire rules into engine
//! [`Rules`], builds each item's situation (current price, the day's opening
//! price, the lowest recent competitor price) and context, runs one
//! repricing step with the tenant's learned [`DemandBook`], and stores what
//! came out: `auto` changes go live (item price, catalog variant price and
//! history in one transaction), `approve` changes wait in the approvals queue.
//!
//! Learning: [`observe`] is the entry point for shopper behaviour, fed by
//! the events pipeline through [`crate::ingest`]'s learning queue and by
//! `POST /v1/pricing/observations`. The book is stored per item and per
//! category; a batch reads, updates and writes back only its own items'
//! and categories' rows in one locking transaction, so concurrent learners
//! (in this process or others on the same database) never lose updates.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use axum::http::StatusCode;
use hc_domain::{ItemId, Money, TenantId, now_ms};
use hc_pricing::demand::Context;
use hc_pricing::guardrails::{FreezeWindow, Mode, Rules, Situation};
use hc_pricing::learn::{DemandBook, Observation, StockPlan};
use hc_pricing::reprice::{
    self as engine, Approvals, CompetitorPrice, ItemInput, LivePolicy, PriceChange, Reason,
    Repriced, Status,
};
use hc_store::{
    ApprovalStatus, CompetitorObservation, DemandApply, DemandRow, DemandRows, DemandUpdate,
    NewPriceChange, PriceApproval, PricedItem, Sale,
};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Competitor observations older than this do not count in the rules.
pub const COMPETITOR_MAX_AGE_SECS: i64 = 7 * 86_400;
/// Candidate prices per item for the Thompson step.
const GRID_POINTS: usize = 11;

/// Most freeze windows one set of rules may hold.
pub const MAX_FREEZE_WINDOWS: usize = 100;

/// A period during which the price does not move (a campaign, a printed
/// catalogue): `[start, end)`, RFC 3339 times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFreeze {
    pub start: String,
    pub end: String,
}

/// The merchant's rules for one item as sent and stored: money as decimal
/// numbers in the store currency, percentages as percent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRules {
    /// Unit cost; required (the floor is cost plus `min_margin_pct`).
    pub cost: Option<f64>,
    #[serde(default)]
    pub min_price: Option<f64>,
    #[serde(default)]
    pub max_price: Option<f64>,
    /// Largest change per repricing step, percent of the current price.
    #[serde(default)]
    pub max_change_pct: Option<f64>,
    /// Largest change within a UTC day, percent of the day's opening price.
    #[serde(default)]
    pub max_change_day_pct: Option<f64>,
    /// Minimum margin over cost, percent.
    #[serde(default)]
    pub min_margin_pct: Option<f64>,
    /// Minimum advertised price.
    #[serde(default)]
    pub map_price: Option<f64>,
    /// Wanted cents ending (99 for x.99).
    #[serde(default)]
    pub ending_cents: Option<u8>,
    /// Never more than this percent above the lowest competitor seen in the last 7 days.
    #[serde(default)]
    pub competitor_max_above_pct: Option<f64>,
    #[serde(default)]
    pub mode: Mode,
    /// `ts_contextual_update` (default), `ts_contextual_fixed`,
    /// `ts_contextual` (blind to stock) or `fixed` (hold the base price, guarded).
    #[serde(default)]
    pub policy: Option<String>,
    /// Units to sell until `sell_by`, counted from when this rule is set
    /// (without it, the catalog variant's `stock`).
    #[serde(default)]
    pub stock: Option<i64>,
    /// RFC 3339 time by which the stock is to be sold; without it the
    /// horizon is open and stock does not shape the price.
    #[serde(default)]
    pub sell_by: Option<String>,
    /// Windows during which the price holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freeze: Vec<WireFreeze>,
}

/// A refused rules document: `error.details.field` names the field
/// (`freeze[1].end`) and the message says why.
fn invalid_rules(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_rules", format!("{field}: {why}"))
        .with_details(serde_json::json!({ "field": field }))
}

fn freeze_windows(wire: &[WireFreeze]) -> ApiResult<Vec<FreezeWindow>> {
    if wire.len() > MAX_FREEZE_WINDOWS {
        return Err(invalid_rules(
            "freeze",
            format!("at most {MAX_FREEZE_WINDOWS} windows"),
        ));
    }
    wire.iter()
        .enumerate()
        .map(|(i, w)| {
            let at = |field: &str, s: &str| {
                parse_rfc3339(s).ok_or_else(|| {
                    invalid_rules(&format!("freeze[{i}].{field}"), "must be an RFC 3339 time")
                })
            };
            let (start, end) = (at("start", &w.start)?, at("end", &w.end)?);
            if end <= start {
                return Err(invalid_rules(
                    &format!("freeze[{i}].end"),
                    "must be after start",
                ));
            }
            Ok(FreezeWindow { start, end })
        })
        .collect()
}

/// Maps an engine error about rules to the API: malformed is 400, contradictory 422.
fn rules_error(e: hc_pricing::Error) -> ApiError {
    match e {
        hc_pricing::Error::Conflict(why) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "conflicting_rules",
            format!("the rules contradict each other: {why}"),
        ),
        other => ApiError::bad_request("invalid_rules", other.to_string()),
    }
}

fn money(field: &str, v: Option<f64>, positive: bool) -> ApiResult<Option<Money>> {
    let Some(x) = v else { return Ok(None) };
    if !x.is_finite() || x < 0.0 || (positive && x == 0.0) {
        let what = if positive { "positive" } else { "non-negative" };
        return Err(invalid_rules(field, format!("must be a {what} amount")));
    }
    let m = Money::from_decimal(x).map_err(|e| invalid_rules(field, e))?;
    if m.cents() > 1_000_000_000 {
        return Err(invalid_rules(
            field,
            "is implausibly large (over 10,000,000)",
        ));
    }
    Ok(Some(m))
}

fn percent(field: &str, v: Option<f64>) -> ApiResult<Option<f64>> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && (0.0..=1000.0).contains(&x) => Ok(Some(x / 100.0)),
        Some(_) => Err(invalid_rules(field, "must be a percentage in 0..=1000")),
    }
}

impl WireRules {
    /// The engine's rules, or a clear error (nothing is stored on error).
    pub fn to_rules(&self) -> ApiResult<Rules> {
        if self.cost.is_none() {
            return Err(invalid_rules(
                "cost",
                "is required (the floor is cost plus margin)",
            ));
        }
        if let Some(p) = &self.policy
            && LivePolicy::parse(p).is_none()
        {
            let names: Vec<&str> = LivePolicy::ALL.iter().map(|p| p.name()).collect();
            return Err(invalid_rules(
                "policy",
                format!("must be one of {}", names.join(", ")),
            ));
        }
        if self
            .stock
            .is_some_and(|s| !(0..=1_000_000_000).contains(&s))
        {
            return Err(invalid_rules("stock", "must be 0 to 1,000,000,000 units"));
        }
        if let Some(s) = &self.sell_by {
            parse_rfc3339(s).ok_or_else(|| invalid_rules("sell_by", "must be an RFC 3339 time"))?;
        }
        let rules = Rules {
            cost: money("cost", self.cost, false)?,
            min_margin: percent("min_margin_pct", self.min_margin_pct)?.unwrap_or(0.0),
            min_price: money("min_price", self.min_price, true)?,
            max_price: money("max_price", self.max_price, true)?,
            map_price: money("map_price", self.map_price, true)?,
            max_change_step: percent("max_change_pct", self.max_change_pct)?,
            max_change_day: percent("max_change_day_pct", self.max_change_day_pct)?,
            ending_cents: self.ending_cents,
            freeze: freeze_windows(&self.freeze)?,
            competitor_max_above: percent(
                "competitor_max_above_pct",
                self.competitor_max_above_pct,
            )?,
            mode: self.mode,
        };
        rules.validate().map_err(rules_error)?;
        Ok(rules)
    }

    /// Rules for a whole category: as for an item, but stock is per item.
    pub fn to_category_rules(&self) -> ApiResult<Rules> {
        if self.stock.is_some() {
            return Err(invalid_rules(
                "stock",
                "is per item: set it in the item's own rules",
            ));
        }
        if self.sell_by.is_some() {
            return Err(invalid_rules(
                "sell_by",
                "is per item: set it in the item's own rules",
            ));
        }
        self.to_rules()
    }

    /// The item's policy (`ts_contextual_update` unless named).
    pub fn policy(&self) -> LivePolicy {
        self.policy
            .as_deref()
            .and_then(LivePolicy::parse)
            .unwrap_or_default()
    }
}

/// Parses an RFC 3339 time (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`) to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn day_of_week(unix_secs: i64) -> u8 {
    (unix_secs.div_euclid(86_400) + 3).rem_euclid(7) as u8
}

/// The rules that price an item: its own, or (when its stored rules are
/// `null`) those of its catalog category.
pub fn stored_rules(
    item: &PricedItem,
    category: Option<&str>,
    categories: &[(String, serde_json::Value)],
) -> ApiResult<(WireRules, Rules)> {
    let doc = if item.rules.is_null() {
        category
            .and_then(|c| categories.iter().find(|(name, _)| name == c))
            .map(|(_, r)| r)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "no_rules",
                    "the item has no rules of its own and its category has none",
                )
            })?
    } else {
        &item.rules
    };
    let wire: WireRules = serde_json::from_value(doc.clone()).map_err(ApiError::internal)?;
    let rules = wire.to_rules()?;
    Ok((wire, rules))
}

/// What the catalog says about a variant besides its price.
#[derive(Clone, Debug, Default)]
pub struct CatalogView {
    pub stock: Option<i64>,
    pub category: Option<String>,
}

fn situation(item: &PricedItem, competitors: &[CompetitorObservation], at_ms: i64) -> Situation {
    let now = at_ms.div_euclid(1000);
    let prices: Vec<CompetitorPrice> = competitors
        .iter()
        .map(|c| CompetitorPrice {
            item: c.item_id.to_string(),
            competitor: c.competitor.clone(),
            price: c.price,
            observed_at: c.observed_at,
        })
        .collect();
    Situation {
        now,
        current: Some(item.current),
        day_open: Some(item.day_open_at(at_ms)),
        lowest_competitor: engine::lowest_competitor(
            &prices,
            item.item_id.as_str(),
            now,
            COMPETITOR_MAX_AGE_SECS,
        ),
    }
}

/// Candidate prices: `GRID_POINTS` evenly spaced over the rules' band
/// (half to one and a half times the base price where the rules are silent).
fn grid(rules: &Rules, fixed: bool, base: Money) -> Vec<f64> {
    let b = base.to_decimal();
    if fixed {
        return vec![b];
    }
    let lo = rules.min_price.map_or(b * 0.5, Money::to_decimal);
    let hi = rules.max_price.map_or(b * 1.5, Money::to_decimal).max(lo);
    (0..GRID_POINTS)
        .map(|i| {
            let p = lo + (hi - lo) * i as f64 / (GRID_POINTS - 1) as f64;
            ((p * 100.0).round() / 100.0).max(0.01)
        })
        .collect()
}

/// This process's pricing state: the quote cache, tenants whose legacy model was imported,
/// items known to have demand rows (no catalog lookup needed), and the
/// learning queue fed by event ingestion.
#[derive(Default)]
pub struct PricingRuntime {
    /// Quotes served from memory (`GET /v1/pricing/quote/{item}`).
    pub quotes: crate::quotes::QuoteCache,
    imported: Mutex<HashSet<TenantId>>,
    known: Mutex<HashSet<(TenantId, ItemId)>>,
    pub(crate) learner: tokio::sync::OnceCell<tokio::sync::mpsc::Sender<crate::ingest::LearnJob>>,
}

impl PricingRuntime {
    /// A runtime whose quotes live `quote_ttl` in memory (zero: not cached).
    pub fn new(quote_ttl: std::time::Duration) -> Self {
        Self {
            quotes: crate::quotes::QuoteCache::new(quote_ttl, 1_000_000),
            ..Self::default()
        }
    }
}

/// The rows of a book: one per item (with its category) and per category.
fn book_rows(book: &DemandBook) -> Result<DemandRows, String> {
    let items = book
        .items()
        .map(|(k, d)| {
            Ok(DemandRow {
                key: k.to_owned(),
                category: d.category.clone(),
                doc: serde_json::to_string(d).map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<_, String>>()?;
    let categories = book
        .categories()
        .map(|(k, m)| {
            Ok(DemandRow {
                key: k.to_owned(),
                category: None,
                doc: serde_json::to_string(m).map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(DemandRows { items, categories })
}

/// A book from stored rows; an empty item row is registered from `new`
/// (reference price and category), starting from its category's curve.
fn book_from_rows(
    rows: &DemandRows,
    new: &HashMap<String, (f64, Option<String>)>,
) -> Result<DemandBook, String> {
    let mut book = DemandBook::default();
    for c in rows.categories.iter().filter(|c| !c.doc.is_empty()) {
        book.insert_category(
            &c.key,
            serde_json::from_str(&c.doc).map_err(|e| format!("category {}: {e}", c.key))?,
        );
    }
    for r in &rows.items {
        if r.doc.is_empty() {
            if let Some((reference, category)) = new.get(&r.key) {
                book.register(&r.key, *reference, category.as_deref())
                    .map_err(|e| e.to_string())?;
            }
        } else {
            book.insert_item(
                &r.key,
                serde_json::from_str(&r.doc).map_err(|e| format!("item {}: {e}", r.key))?,
            );
        }
    }
    Ok(book)
}

/// Moves the tenant's legacy one-document model into rows, once per process.
async fn import_legacy(state: &AppState, t: &TenantId) -> ApiResult<()> {
    if state.pricing.imported.lock().expect("lock").contains(t) {
        return Ok(());
    }
    if let Some(doc) = state.platform.demand_model(t).await? {
        let book: DemandBook = serde_json::from_str(&doc).map_err(ApiError::internal)?;
        let rows = book_rows(&book).map_err(ApiError::internal)?;
        state.platform.import_demand(t, &rows).await?;
        tracing::info!(tenant = %t, items = rows.items.len(), "imported the legacy demand model");
    }
    state
        .pricing
        .imported
        .lock()
        .expect("lock")
        .insert(t.clone());
    Ok(())
}

/// The learned demand of `items` (all of the tenant's when `None`).
async fn load_book(
    state: &AppState,
    t: &TenantId,
    items: Option<&[ItemId]>,
) -> ApiResult<DemandBook> {
    import_legacy(state, t).await?;
    let rows = state.platform.demand_rows(t, items).await?;
    book_from_rows(&rows, &HashMap::new()).map_err(ApiError::internal)
}

/// The tenant's learned demand rows, parsed (for tests and inspection).
pub async fn demand_book(state: &AppState, t: &TenantId) -> ApiResult<DemandBook> {
    load_book(state, t, None).await
}

/// Name recorded as the policy of a price the merchant set in the catalog.
pub const CATALOG_EDIT: &str = "catalog_edit";

/// The catalog is what shoppers see: when the merchant changed the variant's
/// price there (`PUT /v1/products/…`) since pricing last set it, that price
/// becomes the item's current one, recorded in the history as a
/// `catalog_edit`, before anything is decided from it.
///
/// Also returns the variant's catalog stock and its product's category.
async fn sync_with_catalog(
    state: &AppState,
    t: &TenantId,
    item: PricedItem,
    at_ms: i64,
) -> ApiResult<(PricedItem, CatalogView)> {
    let product = state
        .tools
        .retail()
        .store()
        .product_of_item(t, &item.item_id)
        .await?;
    let Some((shown, stock)) = product
        .as_ref()
        .and_then(|p| p.variants.get(&item.item_id))
        .map(|v| (v.price, v.stock))
    else {
        return Ok((item, CatalogView::default()));
    };
    let view = CatalogView {
        stock,
        category: product.as_ref().and_then(|p| p.category.clone()),
    };
    if shown == item.current {
        return Ok((item, view));
    }
    let change = NewPriceChange {
        item_id: item.item_id.clone(),
        from: Some(item.current),
        to: shown,
        reason: serde_json::json!({ "policy": CATALOG_EDIT }),
        at_ms,
    };
    state.platform.apply_price(t, &change).await?;
    let item = state
        .platform
        .priced_item(t, &item.item_id)
        .await?
        .unwrap_or(item);
    Ok((item, view))
}

/// The stock plan of an item with a deadline (`sell_by` in the future) and
/// a stock (its `stock` rule less the units sold since, else the catalog's),
/// in shoppers: the item's observed shopper rate times the time left.
/// `None` (the horizon is open, or the rate is not known yet) prices the
/// item without regard to stock.
fn stock_plan(
    wire: &WireRules,
    item: &PricedItem,
    catalog_stock: Option<i64>,
    book: &DemandBook,
    now: i64,
) -> Option<StockPlan> {
    let sell_by = wire.sell_by.as_deref().and_then(parse_rfc3339)?;
    let left = sell_by - now;
    if left <= 0 {
        return None;
    }
    let (remaining, initial) = match wire.stock {
        Some(s) => ((s - item.sold_units).max(0), s),
        None => {
            let s = catalog_stock?.max(0);
            (s, s)
        }
    };
    let rate = book.shopper_rate(item.item_id.as_str())?;
    let season = (sell_by - item.stock_since_ms.div_euclid(1000)).max(left);
    Some(StockPlan {
        remaining: remaining as f64,
        initial: initial as f64,
        shoppers_left: rate * left as f64,
        shoppers_total: rate * season as f64,
    })
}

/// One change of a step as returned by the API.
#[derive(Debug, Serialize)]
pub struct ChangeOut {
    #[serde(flatten)]
    pub change: PriceChange,
    /// The approvals-queue id of a pending change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<i64>,
}

/// An item a step could not price; its price stays.
#[derive(Debug, Serialize)]
pub struct ItemError {
    pub item_id: String,
    pub message: String,
}

/// The result of `POST /v1/pricing/reprice`.
#[derive(Debug, Serialize)]
pub struct RepriceOut {
    pub prices: BTreeMap<String, Money>,
    pub changes: Vec<ChangeOut>,
    pub errors: Vec<ItemError>,
}

struct Prepared {
    item: PricedItem,
    rules: Rules,
    policy: LivePolicy,
    stock: Option<StockPlan>,
    grid: Vec<f64>,
    situation: Situation,
    context: Context,
}

/// The step's random source: seeded from `server.pricing_seed` when set
/// (reproducible steps for tests and demos), else from the OS.
fn step_rng(state: &AppState) -> rand::rngs::StdRng {
    match state.config.pricing_seed {
        Some(seed) => rand::rngs::StdRng::seed_from_u64(seed),
        None => rand::rngs::StdRng::from_entropy(),
    }
}

/// The pure step, apart from the awaits.
fn step(state: &AppState, book: &DemandBook, prepared: &[Prepared]) -> Repriced {
    let inputs: Vec<ItemInput<'_>> = prepared
        .iter()
        .map(|p| ItemInput {
            item: p.item.item_id.as_str(),
            grid: &p.grid,
            rules: &p.rules,
            situation: p.situation,
            context: p.context,
            policy: p.policy,
            stock: p.stock,
        })
        .collect();
    engine::reprice(book, &inputs, &mut step_rng(state))
}

/// One repricing step for the tenant's items with rules (or only `only`),
/// in a fixed number of statements whatever the number of items: the
/// priced items, the catalog, the recent competitor prices and the demand
/// rows are each read once; the live changes (and the catalog edits found
/// on the way) are written in one transaction by
/// [`hc_store::PricingStore::apply_prices`].
pub async fn reprice(
    state: &AppState,
    t: &TenantId,
    only: Option<&[ItemId]>,
) -> ApiResult<RepriceOut> {
    let at_ms = now_ms();
    if only.is_none() {
        // Catalog items added to a ruled category since are priced too.
        state.platform.enrol_category_items(t, at_ms).await?;
    }
    let categories = state.platform.category_rules(t).await?;
    let items = state.platform.priced_items(t, only).await?;
    let mut errors = Vec::new();
    if let Some(wanted) = only {
        for id in wanted {
            if !items.iter().any(|i| &i.item_id == id) {
                errors.push(ItemError {
                    item_id: id.to_string(),
                    message: "the item has no pricing rules".into(),
                });
            }
        }
    }
    if items.is_empty() {
        return Ok(RepriceOut {
            prices: BTreeMap::new(),
            changes: Vec::new(),
            errors,
        });
    }
    let now = at_ms.div_euclid(1000);
    let catalog: HashMap<ItemId, hc_store::CatalogPrice> = state
        .platform
        .catalog_prices(t)
        .await?
        .into_iter()
        .map(|c| (c.item_id.clone(), c))
        .collect();
    let mut competitors: HashMap<ItemId, Vec<CompetitorObservation>> = HashMap::new();
    for c in state
        .platform
        .competitor_prices_since(t, now - COMPETITOR_MAX_AGE_SECS)
        .await?
    {
        competitors.entry(c.item_id.clone()).or_default().push(c);
    }
    let mut book = match only {
        Some(_) => {
            let ids: Vec<ItemId> = items.iter().map(|i| i.item_id.clone()).collect();
            load_book(state, t, Some(&ids)).await?
        }
        None => load_book(state, t, None).await?,
    };
    // The catalog is what shoppers see: a price the merchant set there since
    // pricing last did becomes the current one, recorded as a catalog edit.
    let mut edits = Vec::new();
    let mut prepared = Vec::with_capacity(items.len());
    for mut item in items {
        let view = catalog.get(&item.item_id);
        if let Some(shown) = view.map(|v| v.price)
            && shown != item.current
        {
            edits.push(NewPriceChange {
                item_id: item.item_id.clone(),
                from: Some(item.current),
                to: shown,
                reason: serde_json::json!({ "policy": CATALOG_EDIT }),
                at_ms,
            });
            if at_ms.div_euclid(86_400_000) != item.day {
                item.day_open = item.current;
                item.day = at_ms.div_euclid(86_400_000);
            }
            item.current = shown;
        }
        let category = view.and_then(|v| v.category.as_deref());
        let (wire, rules) = match stored_rules(&item, category, &categories) {
            Ok(r) => r,
            Err(e) => {
                errors.push(ItemError {
                    item_id: item.item_id.to_string(),
                    message: e.message,
                });
                continue;
            }
        };
        if book.item(item.item_id.as_str()).is_none() {
            // Registered in memory (reference: the base price); learning stores it.
            let _ = book.register(item.item_id.as_str(), item.base.to_decimal(), category);
        }
        let none = Vec::new();
        let seen = competitors.get(&item.item_id).unwrap_or(&none);
        let situation = situation(&item, seen, at_ms);
        let context = Context {
            day_of_week: day_of_week(situation.now),
            competitor_price: situation.lowest_competitor.map(Money::to_decimal),
            ..Context::default()
        };
        let policy = wire.policy();
        let stock = if policy.uses_stock() {
            stock_plan(
                &wire,
                &item,
                view.and_then(|v| v.stock),
                &book,
                situation.now,
            )
        } else {
            None
        };
        prepared.push(Prepared {
            grid: grid(&rules, policy == LivePolicy::Fixed, item.base),
            policy,
            stock,
            item,
            rules,
            situation,
            context,
        });
    }
    let out = step(state, &book, &prepared);
    let mut prices = out.prices;
    errors.extend(
        out.errors
            .into_iter()
            .map(|(item_id, message)| ItemError { item_id, message }),
    );
    let by_item: HashMap<&str, &Prepared> = prepared
        .iter()
        .map(|p| (p.item.item_id.as_str(), p))
        .collect();
    let mut live: Vec<NewPriceChange> = edits;
    let first_live = live.len();
    let mut changes = Vec::with_capacity(out.changes.len());
    let mut live_changes = Vec::new();
    for change in out.changes {
        let Some(p) = by_item.get(change.item.as_str()) else {
            continue;
        };
        let new = NewPriceChange {
            item_id: p.item.item_id.clone(),
            from: change.from,
            to: change.to,
            reason: serde_json::to_value(&change.reason).map_err(ApiError::internal)?,
            at_ms,
        };
        match change.status {
            Status::Pending => {
                let approval_id = Some(state.platform.queue_price(t, &new).await?.id);
                changes.push(ChangeOut {
                    change,
                    approval_id,
                });
            }
            _ => {
                live.push(new);
                live_changes.push(change);
            }
        }
    }
    // Catalog edits whose item then failed still count: they are what shoppers see.
    let outcome = state.platform.apply_prices(t, &live).await?;
    state.pricing.quotes.forget_tenant(t);
    for (i, refused) in outcome.iter().enumerate() {
        let Some(why) = refused else { continue };
        let item = live[i].item_id.to_string();
        if i < first_live {
            errors.push(ItemError {
                item_id: item,
                message: why.clone(),
            });
            continue;
        }
        // Moved concurrently: the item keeps the price it has now.
        prices.remove(&item);
        errors.push(ItemError {
            item_id: item,
            message: why.clone(),
        });
    }
    for (k, change) in live_changes.into_iter().enumerate() {
        if outcome[first_live + k].is_none() {
            changes.push(ChangeOut {
                change,
                approval_id: None,
            });
        }
    }
    Ok(RepriceOut {
        prices,
        changes,
        errors,
    })
}

/// Approves (re-checking the item's rules in today's situation) or rejects
/// a pending change.
pub async fn decide(
    state: &AppState,
    t: &TenantId,
    id: i64,
    approve: bool,
) -> ApiResult<PriceApproval> {
    let approval = state
        .platform
        .price_approval(t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    if approval.status != ApprovalStatus::Pending {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_pending",
            format!("approval {id} is {}", approval.status.as_str()),
        ));
    }
    let at_ms = now_ms();
    let item = state
        .platform
        .priced_item(t, &approval.item_id)
        .await?
        .ok_or_else(|| ApiError::not_found("priced item"))?;
    let (item, catalog) = sync_with_catalog(state, t, item, at_ms).await?;
    if approve {
        let categories = state.platform.category_rules(t).await?;
        let (_, rules) = stored_rules(&item, catalog.category.as_deref(), &categories)?;
        let competitors = state.platform.competitor_prices(t, &item.item_id).await?;
        let situation = situation(&item, &competitors, at_ms);
        let reason: Reason =
            serde_json::from_value(approval.reason.clone()).map_err(ApiError::internal)?;
        let mut queue = Approvals::default();
        queue.submit(&[PriceChange {
            item: item.item_id.to_string(),
            from: approval.from,
            to: approval.to,
            reason,
            status: Status::Pending,
            at: approval.created_at_ms / 1000,
        }]);
        queue
            .approve(item.item_id.as_str(), &rules, &situation)
            .map_err(|e| match e {
                hc_pricing::Error::Conflict(why) => {
                    ApiError::new(StatusCode::CONFLICT, "outside_rules", why)
                }
                other => rules_error(other),
            })?;
    }
    let decided = state
        .platform
        .decide_price(t, id, approve, item.current, at_ms)
        .await;
    state.pricing.quotes.forget_tenant(t);
    match decided {
        Ok(Some(done)) => Ok(done),
        Ok(None) => Err(ApiError::not_found("approval")),
        Err(hc_store::Error::Conflict(why)) => {
            Err(ApiError::new(StatusCode::CONFLICT, "price_moved", why))
        }
        Err(e) => Err(e.into()),
    }
}

/// What a shopper saw besides the price; every field optional. The day of
/// the week defaults to the event's own.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireContext {
    pub day_of_week: Option<u8>,
    pub inventory_level: Option<f64>,
    pub competitor_price: Option<f64>,
    pub season: Option<f64>,
    #[serde(default)]
    pub campaign: bool,
}

/// One shopper reaction to a shown price: a `product_view` (`purchased:
/// false`) or a `purchase` (`purchased: true`, `quantity` ≥ 1).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingObservation {
    pub item_id: ItemId,
    pub price_shown: f64,
    pub purchased: bool,
    #[serde(default)]
    pub quantity: u32,
    #[serde(default)]
    pub context: WireContext,
    /// The event's own time, Unix seconds.
    pub at: i64,
}

impl PricingObservation {
    fn to_engine(&self) -> Observation {
        let c = self.context;
        Observation {
            item: self.item_id.to_string(),
            price_shown: self.price_shown,
            purchased: self.purchased,
            quantity: self.quantity,
            context: Context {
                day_of_week: c.day_of_week.unwrap_or_else(|| day_of_week(self.at)),
                inventory_level: c.inventory_level.unwrap_or_default(),
                competitor_price: c.competitor_price,
                season: c.season.unwrap_or_default(),
                campaign: c.campaign,
            },
            at: self.at,
        }
    }
}

/// An observation that taught nothing, with why.
#[derive(Debug, Serialize)]
pub struct Quarantined {
    pub index: usize,
    pub item_id: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct ObserveOut {
    pub accepted: usize,
    pub quarantined: Vec<Quarantined>,
}

/// Feeds the tenant's demand book: one locking transaction over the
/// batch's items and their categories. Events for items not in the catalog
/// or with implausible prices or context are quarantined (reported, not
/// learned); every learned purchase counts against its item's stock.
pub async fn observe(
    state: &AppState,
    t: &TenantId,
    events: &[PricingObservation],
) -> ApiResult<ObserveOut> {
    import_legacy(state, t).await?;
    let distinct: BTreeSet<&ItemId> = events.iter().map(|e| &e.item_id).collect();
    let unknown: Vec<&ItemId> = {
        let known = state.pricing.known.lock().expect("lock");
        distinct
            .iter()
            .filter(|i| !known.contains(&(t.clone(), (**i).clone())))
            .copied()
            .collect()
    };
    // Items seen for the first time by this process are looked up once.
    let mut new: HashMap<String, (f64, Option<String>)> = HashMap::new();
    let mut absent: HashSet<ItemId> = HashSet::new();
    for item in unknown {
        let base = state.platform.priced_item(t, item).await?.map(|p| p.base);
        let product = state
            .tools
            .retail()
            .store()
            .product_of_item(t, item)
            .await?;
        let catalog_price = product
            .as_ref()
            .and_then(|p| p.variants.get(item))
            .map(|v| v.price);
        match base.or(catalog_price) {
            Some(reference) if reference.is_positive() => {
                let category = product.as_ref().and_then(|p| p.category.clone());
                new.insert(item.to_string(), (reference.to_decimal(), category));
            }
            _ => {
                absent.insert(item.clone());
            }
        }
    }
    let items: Vec<ItemId> = distinct
        .into_iter()
        .filter(|i| !absent.contains(*i))
        .cloned()
        .collect();
    let creating: Vec<(ItemId, Option<String>)> = items
        .iter()
        .filter_map(|i| new.get(i.as_str()).map(|(_, c)| (i.clone(), c.clone())))
        .collect();
    let result = std::sync::Arc::new(Mutex::new(None));
    let sink = result.clone();
    let batch = events.to_vec();
    let learn = move |rows: DemandRows| -> Result<DemandUpdate, String> {
        let mut book = book_from_rows(&rows, &new)?;
        let mut out = ObserveOut {
            accepted: 0,
            quarantined: Vec::new(),
        };
        let mut sales = Vec::new();
        for (index, event) in batch.iter().enumerate() {
            let learned = if absent.contains(&event.item_id) {
                Err("the item is not in the catalog".to_string())
            } else {
                book.observe(&event.to_engine()).map_err(|e| e.to_string())
            };
            match learned {
                Ok(()) => {
                    out.accepted += 1;
                    if event.purchased {
                        sales.push(Sale {
                            item_id: event.item_id.clone(),
                            units: i64::from(event.quantity),
                            at_ms: event.at.saturating_mul(1000),
                        });
                    }
                }
                Err(reason) => out.quarantined.push(Quarantined {
                    index,
                    item_id: event.item_id.to_string(),
                    reason,
                }),
            }
        }
        let rows = book_rows(&book)?;
        *sink.lock().expect("lock") = Some(out);
        Ok(DemandUpdate {
            items: rows.items,
            categories: rows.categories,
            sales,
        })
    };
    if items.is_empty() {
        learn(DemandRows::default()).map_err(ApiError::internal)?;
    } else {
        let apply: DemandApply = Box::new(learn);
        state
            .platform
            .learn_demand(t, &items, &creating, apply)
            .await?;
        let mut known = state.pricing.known.lock().expect("lock");
        for i in items {
            known.insert((t.clone(), i));
        }
    }
    let out = result.lock().expect("lock").take();
    out.ok_or_else(|| ApiError::internal("the learning batch produced no result"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_offsets_and_refuses_nonsense() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-21T22:00:00Z"), Some(1_795_298_400));
        assert_eq!(
            parse_rfc3339("2026-11-21T23:00:00.123+01:00"),
            Some(1_795_298_400)
        );
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "2023-02-29T00:00:00Z",
            "2026-11-21",
            "2026-11-21T22:00:00",
            "2026-13-01T00:00:00Z",
            "2026-11-21T22:00:00+1:00",
            "yesterday at noon, roughly",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        // 2026-11-21 is a Saturday.
        assert_eq!(day_of_week(1_795_298_400), 5);
    }

    #[test]
    fn wire_rules_convert_or_explain() {
        let ok = WireRules {
            cost: Some(20.0),
            min_price: Some(25.0),
            max_price: Some(60.0),
            max_change_pct: Some(10.0),
            ..WireRules::default()
        };
        let rules = ok.to_rules().unwrap();
        assert_eq!(rules.max_change_step, Some(0.1));
        assert_eq!(rules.min_price, Some(Money::from_cents(2_500)));
        let g = grid(&rules, false, Money::from_cents(4_000));
        assert_eq!(ok.policy(), LivePolicy::TsContextualUpdate);
        assert_eq!((g[0], g[10], g.len()), (25.0, 60.0, 11));
        assert_eq!(grid(&rules, true, Money::from_cents(4_000)), vec![40.0]);
        for (bad, code) in [
            (
                WireRules {
                    cost: None,
                    ..ok.clone()
                },
                "invalid_rules",
            ),
            (
                WireRules {
                    min_price: Some(-1.0),
                    ..ok.clone()
                },
                "invalid_rules",
            ),
            (
                WireRules {
                    max_price: Some(1e12),
                    ..ok.clone()
                },
                "invalid_rules",
            ),
            (
                WireRules {
                    cost: Some(f64::NAN),
                    ..ok.clone()
                },
                "invalid_rules",
            ),
            (
                WireRules {
                    max_change_pct: Some(f64::INFINITY),
                    ..ok.clone()
                },
                "invalid_rules",
            ),
            (
                WireRules {
                    policy: Some("magic".into()),
                    ..ok.clone()
                },
                "invalid_rules",
            ),
            (
                WireRules {
                    sell_by: Some("soon".into()),
                    ..ok.clone()
                },
                "invalid_rules",
            ),
            (
                WireRules {
                    min_price: Some(70.0),
                    ..ok.clone()
                },
                "conflicting_rules",
            ),
        ] {
            assert_eq!(bad.to_rules().unwrap_err().code, code, "{bad:?}");
        }
    }
}
