//! Dynamic pricing: per-item rules, repricing steps, the current price with
//! its last change, the price history, the approvals queue, the competitor
//! feed (JSON or CSV) and learning observations. Reads need a viewer key,
//! writes a manager key. The work is in [`crate::pricing`].

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_domain::{AuditRecord, ItemId, Money, Role, TenantId, now_ms};
use hc_store::{ApprovalStatus, CompetitorObservation, PriceApproval, PriceHistoryEntry};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Query, body_error, parse_json};
use crate::pricing::{self, ObserveOut, PricingObservation, RepriceOut, WireRules};
use crate::state::AppState;

/// Most rows one competitor import or observation batch may carry.
const MAX_BATCH: usize = 10_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/pricing/items/{item_id}/rules",
            get(get_rules).put(put_rules),
        )
        .route(
            "/v1/pricing/categories/{category}/rules",
            get(get_category_rules).put(put_category_rules),
        )
        .route("/v1/pricing/items/{item_id}", get(get_price))
        .route("/v1/pricing/quote/{item_id}", get(quote))
        .route("/v1/pricing/items/{item_id}/history", get(get_history))
        .route("/v1/pricing/reprice", post(reprice))
        .route("/v1/pricing/approvals", get(list_approvals))
        .route("/v1/pricing/approvals/{id}/approve", post(approve))
        .route("/v1/pricing/approvals/{id}/reject", post(reject))
        .route("/v1/pricing/competitors", post(post_competitors))
        .route("/v1/pricing/observations", post(post_observations))
}

fn item_id(raw: String) -> ApiResult<ItemId> {
    ItemId::parse(raw).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
}

async fn audit(
    state: &AppState,
    principal: &Principal,
    action: &str,
    target: String,
    detail: Value,
) -> ApiResult<()> {
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: principal.key.tenant_id.clone(),
            actor: principal.actor().principal,
            action: action.into(),
            target,
            at_ms: now_ms(),
            detail,
        })
        .await?;
    Ok(())
}

/// Sets an item's pricing rules. The first time, the item's catalog price
/// becomes its base and current price.
#[utoipa::path(put, path = "/v1/pricing/items/{item_id}/rules", tag = "pricing",
    params(("item_id" = String, Path)),
    request_body(content = serde_json::Value, description = "`{cost, min_price?, max_price?, max_change_pct?, max_change_day_pct?, min_margin_pct?, map_price?, ending_cents?, competitor_max_above_pct?, mode?: \"auto\"|\"approve\", policy?: \"ts_contextual\"|\"fixed\", stock?, sell_by?: RFC 3339}`: money as decimal numbers, percentages in percent. Unknown fields are refused."),
    responses((status = 200, body = serde_json::Value, description = "`{item_id, rules, base_price, current_price}`"),
              (status = 400, body = crate::openapi::ErrorBody, description = "`invalid_rules` (missing cost, negative, absurd or non-finite amounts, bad percentages, unknown policy), `invalid_json`; nothing stored"),
              (status = 404, body = crate::openapi::ErrorBody, description = "the item is not in the catalog"),
              (status = 422, body = crate::openapi::ErrorBody, description = "`conflicting_rules`: e.g. the floor is above the ceiling; nothing stored")),
    security(("api_key" = [])))]
pub async fn put_rules(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(raw): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Manager)?;
    let id = item_id(id)?;
    let wire = wire_rules(raw)?;
    let (item, doc) = set_item_rules(
        &state,
        &principal.key.tenant_id,
        principal.actor().principal,
        &id,
        &wire,
    )
    .await?;
    Ok(Json(json!({
        "item_id": item.item_id,
        "rules": doc,
        "base_price": item.base,
        "current_price": item.current,
    })))
}

/// Validates `wire` (the engine's checks: nothing is stored on error),
/// stores it as item `id`'s rules and audits `pricing.rules.put` as
/// `actor`. Returns the priced item and the stored document. The first
/// time, the item's catalog price becomes its base and current price.
pub async fn set_item_rules(
    state: &AppState,
    t: &TenantId,
    actor: String,
    id: &ItemId,
    wire: &WireRules,
) -> ApiResult<(hc_store::PricedItem, Value)> {
    wire.to_rules()?;
    let doc = serde_json::to_value(wire).map_err(ApiError::internal)?;
    let item = state
        .platform
        .put_price_rules(t, id, &doc, now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("item"))?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor,
            action: "pricing.rules.put".into(),
            target: format!("item:{id}"),
            at_ms: now_ms(),
            detail: doc.clone(),
        })
        .await?;
    Ok((item, doc))
}

fn wire_rules(raw: Value) -> ApiResult<WireRules> {
    if !raw.is_object() {
        return Err(ApiError::bad_request(
            "invalid_rules",
            "the rules must be a JSON object",
        ));
    }
    serde_json::from_value(raw).map_err(|e| ApiError::bad_request("invalid_rules", e.to_string()))
}

fn category_name(raw: String) -> ApiResult<String> {
    let c = raw.trim();
    if c.is_empty() || c.chars().count() > 100 || c.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_id",
            "a category is 1 to 100 printable characters",
        ));
    }
    Ok(c.to_owned())
}

/// Sets a category's pricing rules: every catalog item of the category
/// (its product's `category`) without rules of its own is priced by them,
/// including items added to the category later. An item's own rules
/// replace the category's entirely. `stock` and `sell_by` are per item.
#[utoipa::path(put, path = "/v1/pricing/categories/{category}/rules", tag = "pricing",
    params(("category" = String, Path)),
    request_body(content = serde_json::Value, description = "The item rules' fields except `stock` and `sell_by`"),
    responses((status = 200, body = serde_json::Value, description = "`{category, rules, enrolled}`: `enrolled` items were priced by no rules before"),
              (status = 400, body = crate::openapi::ErrorBody, description = "`invalid_rules` with `details.field`; nothing stored"),
              (status = 422, body = crate::openapi::ErrorBody, description = "`conflicting_rules`; nothing stored")),
    security(("api_key" = [])))]
pub async fn put_category_rules(
    State(state): State<AppState>,
    principal: Principal,
    Path(category): Path<String>,
    JsonBody(raw): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Manager)?;
    let category = category_name(category)?;
    let wire = wire_rules(raw)?;
    wire.to_category_rules()?;
    let doc = serde_json::to_value(&wire).map_err(ApiError::internal)?;
    let enrolled = state
        .platform
        .put_category_rules(&principal.key.tenant_id, &category, &doc, now_ms())
        .await?;
    audit(
        &state,
        &principal,
        "pricing.category_rules.put",
        format!("category:{category}"),
        doc.clone(),
    )
    .await?;
    Ok(Json(
        json!({"category": category, "rules": doc, "enrolled": enrolled}),
    ))
}

/// A category's pricing rules.
#[utoipa::path(get, path = "/v1/pricing/categories/{category}/rules", tag = "pricing",
    params(("category" = String, Path)),
    responses((status = 200, body = serde_json::Value, description = "`{category, rules}`"),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_category_rules(
    State(state): State<AppState>,
    principal: Principal,
    Path(category): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let category = category_name(category)?;
    let rules = state
        .platform
        .category_rules(&principal.key.tenant_id)
        .await?
        .into_iter()
        .find(|(c, _)| *c == category)
        .ok_or_else(|| ApiError::not_found("category rules"))?
        .1;
    Ok(Json(json!({"category": category, "rules": rules})))
}

/// An item's pricing rules (`rules: null` and `source: "category"` when its
/// category's rules price it).
#[utoipa::path(get, path = "/v1/pricing/items/{item_id}/rules", tag = "pricing",
    params(("item_id" = String, Path)),
    responses((status = 200, body = serde_json::Value, description = "`{item_id, rules, source: \"item\"|\"category\"}`"),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_rules(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let id = item_id(id)?;
    let item = state
        .platform
        .priced_item(&principal.key.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("pricing rules"))?;
    let source = if item.rules.is_null() {
        "category"
    } else {
        "item"
    };
    Ok(Json(
        json!({"item_id": item.item_id, "rules": item.rules, "source": source}),
    ))
}

/// An item's current and base price, its last change with its reason, and
/// its pending approval if any.
#[utoipa::path(get, path = "/v1/pricing/items/{item_id}", tag = "pricing",
    params(("item_id" = String, Path)),
    responses((status = 200, body = serde_json::Value, description = "`{item_id, current_price, base_price, mode, last_change: {id, from, to, status, reason: {policy, proposed, estimated_conversion, clips: [{rule, from, to}]}, at_ms} | null, pending_approval: Approval | null}`"),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_price(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let id = item_id(id)?;
    let t = &principal.key.tenant_id;
    let item = state
        .platform
        .priced_item(t, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("priced item"))?;
    let last = state.platform.price_history(t, &id, 1).await?;
    let pending = state
        .platform
        .price_approvals(t, Some(ApprovalStatus::Pending))
        .await?
        .into_iter()
        .find(|a| a.item_id == id);
    Ok(Json(json!({
        "item_id": item.item_id,
        "current_price": item.current,
        "base_price": item.base,
        "mode": item.rules.get("mode"),
        "last_change": last.first(),
        "pending_approval": pending,
    })))
}

/// The price a shopper sees now: the item's live catalog price, which the
/// repricing steps set (the same the catalog, the agent and the tracker
/// show). No pricing decision is made per request: the quote comes from
/// this process's quote cache (`server.quote_cache_ms`), else from one
/// primary-key read of the catalog.
#[utoipa::path(get, path = "/v1/pricing/quote/{item_id}", tag = "pricing",
    params(("item_id" = String, Path)),
    responses((status = 200, body = serde_json::Value, description = "`{item_id, price, available}`"),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn quote(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let id = item_id(id)?;
    let t = &principal.key.tenant_id;
    let cache = &state.pricing.quotes;
    let quote = match cache.get(t, &id) {
        Some(q) => q,
        None => {
            let loaded = std::time::Instant::now();
            let product = state.tools.retail().store().product_of_item(t, &id).await?;
            let variant = product
                .as_ref()
                .and_then(|p| p.variants.get(&id))
                .ok_or_else(|| ApiError::not_found("item"))?;
            let q = crate::quotes::Quote {
                price: variant.price,
                available: variant.available,
            };
            cache.put(t, id.clone(), q, loaded);
            q
        }
    };
    Ok(Json(
        json!({"item_id": id, "price": quote.price, "available": quote.available}),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Newest entries to return, 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// An item's price history, newest first: every change with its status
/// (`live`, `pending`, `approved`, `rejected`) and reason.
#[utoipa::path(get, path = "/v1/pricing/items/{item_id}/history", tag = "pricing",
    params(("item_id" = String, Path), HistoryQuery),
    responses((status = 200, body = serde_json::Value, description = "`{items: [{id, item_id, from, to, status, reason, at_ms}]}`")),
    security(("api_key" = [])))]
pub async fn get_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let id = item_id(id)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let items: Vec<PriceHistoryEntry> = state
        .platform
        .price_history(&principal.key.tenant_id, &id, limit)
        .await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepriceRequest {
    #[serde(default)]
    pub item_ids: Option<Vec<String>>,
}

/// One pricing step for every item with rules (or only `item_ids`): a
/// Thompson draw from the learned demand, then the item's rules. `auto`
/// changes go live (the catalog shows them); `approve` changes are queued.
#[utoipa::path(post, path = "/v1/pricing/reprice", tag = "pricing",
    request_body(content = serde_json::Value, description = "Optional `{item_ids: [...]}`"),
    responses((status = 200, body = serde_json::Value, description = "`{prices: {item_id: price}, changes: [{item, from, to, reason, status: live|pending, at, approval_id?}], errors: [{item_id, message}]}`; pending changes do not move `prices`")),
    security(("api_key" = [])))]
pub async fn reprice(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<Option<RepriceRequest>>,
) -> ApiResult<Json<RepriceOut>> {
    principal.require(Role::Manager)?;
    let only = body
        .unwrap_or_default()
        .item_ids
        .map(|ids| ids.into_iter().map(item_id).collect::<ApiResult<Vec<_>>>())
        .transpose()?;
    let out = pricing::reprice(&state, &principal.key.tenant_id, only.as_deref()).await?;
    Ok(Json(out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsQuery {
    /// `pending` (default), `approved`, `rejected`, `superseded` or `all`.
    pub status: Option<String>,
}

/// The approvals queue.
#[utoipa::path(get, path = "/v1/pricing/approvals", tag = "pricing", params(ApprovalsQuery),
    responses((status = 200, body = serde_json::Value, description = "`{items: [{id, item_id, from, to, reason, status, created_at_ms, decided_at_ms}]}`"),
              (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_approvals(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ApprovalsQuery>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let status = match q.status.as_deref().unwrap_or("pending") {
        "all" => None,
        s => Some(ApprovalStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_arguments", format!("unknown status {s}"))
        })?),
    };
    let items: Vec<PriceApproval> = state
        .platform
        .price_approvals(&principal.key.tenant_id, status)
        .await?;
    Ok(Json(json!({ "items": items })))
}

async fn decide(
    state: AppState,
    principal: Principal,
    id: String,
    approve: bool,
) -> ApiResult<Json<PriceApproval>> {
    principal.require(Role::Manager)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_id", "approval ids are integers"))?;
    let done = pricing::decide(&state, &principal.key.tenant_id, id, approve).await?;
    let action = if approve {
        "pricing.approve"
    } else {
        "pricing.reject"
    };
    audit(
        &state,
        &principal,
        action,
        format!("item:{}", done.item_id),
        json!({"approval": id, "to": done.to}),
    )
    .await?;
    Ok(Json(done))
}

/// Approves a pending change after re-checking the item's rules now; the
/// price goes live in the catalog.
#[utoipa::path(post, path = "/v1/pricing/approvals/{id}/approve", tag = "pricing",
    params(("id" = i64, Path)),
    responses((status = 200, body = serde_json::Value, description = "The decided approval"),
              (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody, description = "`not_pending`; `outside_rules`: the rules no longer allow the price (it stays pending); `price_moved`")),
    security(("api_key" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<PriceApproval>> {
    decide(state, principal, id, true).await
}

/// Rejects a pending change; the price stays.
#[utoipa::path(post, path = "/v1/pricing/approvals/{id}/reject", tag = "pricing",
    params(("id" = i64, Path)),
    responses((status = 200, body = serde_json::Value, description = "The decided approval"),
              (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody, description = "`not_pending`")),
    security(("api_key" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<PriceApproval>> {
    decide(state, principal, id, false).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompetitorIn {
    item_id: String,
    competitor: String,
    price: f64,
    /// Unix seconds; default now.
    #[serde(default)]
    observed_at: Option<i64>,
}

fn invalid_feed(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_competitor_prices", message)
}

fn competitor_rows(
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> ApiResult<Vec<CompetitorObservation>> {
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let rows: Vec<(String, String, Money, i64)> = if csv {
        let text = std::str::from_utf8(body).map_err(|_| invalid_feed("the CSV is not UTF-8"))?;
        hc_pricing::reprice::parse_competitor_csv(text, now)
            .map_err(|e| invalid_feed(e.to_string()))?
            .into_iter()
            .map(|p| (p.item, p.competitor, p.price, p.observed_at))
            .collect()
    } else {
        let items: Vec<CompetitorIn> = parse_json(body).map_err(|e| invalid_feed(e.message))?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let bad = |why: &str| invalid_feed(format!("row {i}: {why}"));
                if !(p.price.is_finite() && p.price > 0.0 && p.price <= 10_000_000.0) {
                    return Err(bad("price must be positive and plausible"));
                }
                let price = Money::from_decimal(p.price).map_err(|e| bad(&e.to_string()))?;
                Ok((p.item_id, p.competitor, price, p.observed_at.unwrap_or(now)))
            })
            .collect::<ApiResult<_>>()?
    };
    if rows.len() > MAX_BATCH {
        return Err(invalid_feed(format!("at most {MAX_BATCH} rows per import")));
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, (item, competitor, price, observed_at))| {
            let bad = |why: String| invalid_feed(format!("row {i}: {why}"));
            if competitor.trim().is_empty() || competitor.len() > 100 {
                return Err(bad("competitor must be 1 to 100 characters".into()));
            }
            if observed_at < 0 || observed_at > now + 86_400 {
                return Err(bad(
                    "observed_at must be Unix seconds, not in the future".into()
                ));
            }
            Ok(CompetitorObservation {
                item_id: ItemId::parse(item).map_err(|e| bad(e.to_string()))?,
                competitor,
                price,
                observed_at,
            })
        })
        .collect()
}

/// Adds competitor prices: a JSON array of `{item_id, competitor, price,
/// observed_at?}` or, with `Content-Type: text/csv`, a CSV with header
/// `item_id,competitor,price[,observed_at]` (Unix seconds). Any bad row
/// refuses the whole import.
#[utoipa::path(post, path = "/v1/pricing/competitors", tag = "pricing",
    request_body(content = serde_json::Value, description = "JSON array or text/csv"),
    responses((status = 200, body = serde_json::Value, description = "`{stored: n}`"),
              (status = 400, body = crate::openapi::ErrorBody, description = "`invalid_competitor_prices` naming the row; nothing stored")),
    security(("api_key" = [])))]
pub async fn post_competitors(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Manager)?;
    let body = body.map_err(body_error)?;
    let rows = competitor_rows(&headers, &body, now_ms() / 1000)?;
    let stored = state
        .platform
        .put_competitor_prices(&principal.key.tenant_id, &rows)
        .await?;
    Ok(Json(json!({ "stored": stored })))
}

/// Feeds the demand model: each `{item_id, price_shown, purchased,
/// quantity?, context?: {day_of_week?, inventory_level?, competitor_price?,
/// season?, campaign?}, at}` (`at`: the event's Unix seconds) is a
/// `product_view` (`purchased: false`) or a `purchase`. Until the events
/// pipeline calls [`crate::pricing::observe`] itself, this is its door.
#[utoipa::path(post, path = "/v1/pricing/observations", tag = "pricing",
    request_body(content = serde_json::Value, description = "A JSON array of observations"),
    responses((status = 200, body = serde_json::Value, description = "`{accepted, quarantined: [{index, item_id, reason}]}`: unknown items, implausible prices or context are quarantined, never learned"),
              (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn post_observations(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(events): JsonBody<Vec<PricingObservation>>,
) -> ApiResult<Json<ObserveOut>> {
    principal.require(Role::Manager)?;
    if events.len() > MAX_BATCH {
        return Err(ApiError::bad_request(
            "invalid_arguments",
            format!("at most {MAX_BATCH} observations per request"),
        ));
    }
    let t: &TenantId = &principal.key.tenant_id;
    Ok(Json(pricing::observe(&state, t, &events).await?))
}
