//! The pricing service: a thin adapter between the store and the pure engine
//! of `hc-pricing`. It turns the merchant's wire rules into engine
//! [`Rules`], builds each item's situation (current price, the day's opening
//! price, the lowest recent competitor price) and context, runs one
//! repricing step with the tenant's learned [`DemandBook`], and stores what
//! came out: `auto` changes go live (item price, catalog variant price and
//! history in one transaction), `approve` changes wait in the approvals queue.
//!
//! Learning: [`observe`] is the entry point for shopper behaviour. The
//! events pipeline (`POST /v1/events`, built separately) should call it for
//! every `product_view` (with the price shown, `purchased: false`) and every
//! `purchase` (price paid, quantity, `purchased: true`), with the event's own
//! timestamp. Until that lands, `POST /v1/pricing/observations` feeds it.
//! The tenant's book is one JSON document in the store, read-modified-written
//! under a process-wide lock (one server process per database for learning).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use hc_domain::{ItemId, Money, TenantId, now_ms};
use hc_pricing::demand::Context;
use hc_pricing::guardrails::{Mode, Rules, Situation};
use hc_pricing::learn::{DemandBook, Observation};
use hc_pricing::reprice::{
    self as engine, Approvals, CompetitorPrice, ItemInput, PriceChange, Reason, Repriced, Status,
};
use hc_store::{ApprovalStatus, CompetitorObservation, NewPriceChange, PriceApproval, PricedItem};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Competitor observations older than this do not count in the rules.
pub const COMPETITOR_MAX_AGE_SECS: i64 = 7 * 86_400;
/// Candidate prices per item for the Thompson step.
const GRID_POINTS: usize = 11;
/// The policies an item may name.
pub const POLICIES: [&str; 2] = [engine::POLICY, "fixed"];

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
    /// `ts_contextual` (default) or `fixed` (hold the base price, guarded).
    #[serde(default)]
    pub policy: Option<String>,
    /// Units to sell until `sell_by` (stored for the inventory-aware policies).
    #[serde(default)]
    pub stock: Option<i64>,
    /// RFC 3339 time.
    #[serde(default)]
    pub sell_by: Option<String>,
}

fn invalid_rules(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_rules", format!("{field}: {why}"))
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
            && !POLICIES.contains(&p.as_str())
        {
            return Err(invalid_rules(
                "policy",
                format!("must be one of {}", POLICIES.join(", ")),
            ));
        }
        if self.stock.is_some_and(|s| s < 0) {
            return Err(invalid_rules("stock", "must be zero or more units"));
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
            freeze: Vec::new(),
            competitor_max_above: percent(
                "competitor_max_above_pct",
                self.competitor_max_above_pct,
            )?,
            mode: self.mode,
        };
        rules.validate().map_err(rules_error)?;
        Ok(rules)
    }

    fn fixed(&self) -> bool {
        self.policy.as_deref() == Some("fixed")
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

/// The stored wire rules of an item, parsed.
pub fn stored_rules(item: &PricedItem) -> ApiResult<(WireRules, Rules)> {
    let wire: WireRules = serde_json::from_value(item.rules.clone()).map_err(ApiError::internal)?;
    let rules = wire.to_rules()?;
    Ok((wire, rules))
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

async fn load_book(state: &AppState, t: &TenantId) -> ApiResult<DemandBook> {
    match state.platform.demand_model(t).await? {
        Some(doc) => serde_json::from_str(&doc).map_err(ApiError::internal),
        None => Ok(DemandBook::default()),
    }
}

/// Registers `item` in `book` (reference: its base price under rules, else
/// its catalog price; category from the catalog). `false` when unknown.
async fn ensure_registered(
    state: &AppState,
    t: &TenantId,
    book: &mut DemandBook,
    item: &ItemId,
    base: Option<Money>,
) -> ApiResult<bool> {
    if book.item(item.as_str()).is_some() {
        return Ok(true);
    }
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
    let Some(reference) = base.or(catalog_price) else {
        return Ok(false);
    };
    let category = product.as_ref().and_then(|p| p.category.as_deref());
    Ok(book
        .register(item.as_str(), reference.to_decimal(), category)
        .is_ok())
}

/// Name recorded as the policy of a price the merchant set in the catalog.
pub const CATALOG_EDIT: &str = "catalog_edit";

/// The catalog is what shoppers see: when the merchant changed the variant's
/// price there (`PUT /v1/products/…`) since pricing last set it, that price
/// becomes the item's current one, recorded in the history as a
/// `catalog_edit`, before anything is decided from it.
async fn sync_with_catalog(
    state: &AppState,
    t: &TenantId,
    item: PricedItem,
    at_ms: i64,
) -> ApiResult<PricedItem> {
    let product = state
        .tools
        .retail()
        .store()
        .product_of_item(t, &item.item_id)
        .await?;
    let Some(shown) = product
        .as_ref()
        .and_then(|p| p.variants.get(&item.item_id))
        .map(|v| v.price)
    else {
        return Ok(item);
    };
    if shown == item.current {
        return Ok(item);
    }
    let change = NewPriceChange {
        item_id: item.item_id.clone(),
        from: Some(item.current),
        to: shown,
        reason: serde_json::json!({ "policy": CATALOG_EDIT }),
        at_ms,
    };
    state.platform.apply_price(t, &change).await?;
    Ok(state
        .platform
        .priced_item(t, &item.item_id)
        .await?
        .unwrap_or(item))
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
    fixed: bool,
    grid: Vec<f64>,
    situation: Situation,
    context: Context,
}

/// The pure step, apart from the awaits (the thread RNG is not `Send`).
fn step(book: &DemandBook, prepared: &[Prepared]) -> Repriced {
    let inputs: Vec<ItemInput<'_>> = prepared
        .iter()
        .map(|p| ItemInput {
            item: p.item.item_id.as_str(),
            grid: &p.grid,
            rules: &p.rules,
            situation: p.situation,
            context: p.context,
        })
        .collect();
    engine::reprice(book, &inputs, &mut rand::thread_rng())
}

/// One repricing step for the tenant's items with rules (or only `only`).
pub async fn reprice(
    state: &AppState,
    t: &TenantId,
    only: Option<&[ItemId]>,
) -> ApiResult<RepriceOut> {
    let at_ms = now_ms();
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
    let mut book = load_book(state, t).await?;
    let mut prepared = Vec::with_capacity(items.len());
    for item in items {
        let item = sync_with_catalog(state, t, item, at_ms).await?;
        let (wire, rules) = match stored_rules(&item) {
            Ok(r) => r,
            Err(e) => {
                errors.push(ItemError {
                    item_id: item.item_id.to_string(),
                    message: e.message,
                });
                continue;
            }
        };
        ensure_registered(state, t, &mut book, &item.item_id, Some(item.base)).await?;
        let competitors = state.platform.competitor_prices(t, &item.item_id).await?;
        let situation = situation(&item, &competitors, at_ms);
        let context = Context {
            day_of_week: day_of_week(situation.now),
            competitor_price: situation.lowest_competitor.map(Money::to_decimal),
            ..Context::default()
        };
        prepared.push(Prepared {
            grid: grid(&rules, wire.fixed(), item.base),
            fixed: wire.fixed(),
            item,
            rules,
            situation,
            context,
        });
    }
    let out = step(&book, &prepared);
    let mut prices = out.prices;
    errors.extend(
        out.errors
            .into_iter()
            .map(|(item_id, message)| ItemError { item_id, message }),
    );
    let mut changes = Vec::with_capacity(out.changes.len());
    for mut change in out.changes {
        let Some(p) = prepared
            .iter()
            .find(|p| p.item.item_id.as_str() == change.item)
        else {
            continue;
        };
        if p.fixed {
            change.reason.policy = "fixed".into();
        }
        let new = NewPriceChange {
            item_id: p.item.item_id.clone(),
            from: change.from,
            to: change.to,
            reason: serde_json::to_value(&change.reason).map_err(ApiError::internal)?,
            at_ms,
        };
        let approval_id = match change.status {
            Status::Pending => Some(state.platform.queue_price(t, &new).await?.id),
            _ => match state.platform.apply_price(t, &new).await {
                Ok(_) => None,
                Err(hc_store::Error::Conflict(why)) => {
                    // Moved concurrently: the item keeps the price it has now.
                    prices.remove(&change.item);
                    errors.push(ItemError {
                        item_id: change.item.clone(),
                        message: why,
                    });
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
        };
        changes.push(ChangeOut {
            change,
            approval_id,
        });
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
    let item = sync_with_catalog(state, t, item, at_ms).await?;
    if approve {
        let (_, rules) = stored_rules(&item)?;
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
    match state
        .platform
        .decide_price(t, id, approve, item.current, at_ms)
        .await
    {
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

/// Feeds the tenant's demand book. Events for unknown items or with
/// implausible prices or context are quarantined (reported, not learned).
pub async fn observe(
    state: &AppState,
    t: &TenantId,
    events: &[PricingObservation],
) -> ApiResult<ObserveOut> {
    let _guard = state.pricing_lock.lock().await;
    let mut book = load_book(state, t).await?;
    let mut out = ObserveOut {
        accepted: 0,
        quarantined: Vec::new(),
    };
    // Items known to the book need no store round trip; new ones are looked
    // up once per batch.
    let mut unknown: std::collections::HashSet<&ItemId> = std::collections::HashSet::new();
    for (index, event) in events.iter().enumerate() {
        let known = if book.item(event.item_id.as_str()).is_some() {
            true
        } else if unknown.contains(&event.item_id) {
            false
        } else {
            let base = state
                .platform
                .priced_item(t, &event.item_id)
                .await?
                .map(|p| p.base);
            let ok = ensure_registered(state, t, &mut book, &event.item_id, base).await?;
            if !ok {
                unknown.insert(&event.item_id);
            }
            ok
        };
        let learned = if known {
            book.observe(&event.to_engine()).map_err(|e| e.to_string())
        } else {
            Err("the item is not in the catalog".to_string())
        };
        match learned {
            Ok(()) => out.accepted += 1,
            Err(reason) => out.quarantined.push(Quarantined {
                index,
                item_id: event.item_id.to_string(),
                reason,
            }),
        }
    }
    if out.accepted > 0 {
        let doc = serde_json::to_string(&book).map_err(ApiError::internal)?;
        state.platform.put_demand_model(t, &doc).await?;
    }
    Ok(out)
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
