//! `POST /v1/recommendations`: products to show next, from what shoppers of
//! this tenant viewed, carted and bought together (`hc_behavior::recs`:
//! session-kNN, sequential rules, popularity), trained from the tenant's own
//! event log and kept for [`MAX_AGE_MS`] before it is trained again (in the
//! background: requests keep using the previous model meanwhile). A
//! customer's purchases and recent sessions personalise the query; business
//! filters (already bought, in stock, category, price range) apply to every
//! result, checked against a catalog snapshot refreshed every
//! [`CATALOG_MAX_AGE_MS`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use hc_behavior::recs::{RecConfig, Recommender};
use hc_commerce::PageRequest;
use hc_domain::{EventType, Money, ProductId, Role, TenantId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

/// A trained model is used this long, then trained again on the next request.
pub const MAX_AGE_MS: i64 = 5 * 60 * 1000;
/// Most events read to train one tenant's model (the newest are kept).
const MAX_EVENTS: usize = 2_000_000;
const PAGE: u32 = 10_000;
const MAX_K: u32 = 50;
/// Most products in one query.
const MAX_QUERY: usize = 100;

/// A catalog snapshot is used this long, then refreshed in the background.
pub const CATALOG_MAX_AGE_MS: i64 = 30 * 1000;
/// Candidates each recommender component gives before filters; more when
/// filters are set, so a narrow filter still finds related products.
const CANDIDATES: usize = 100;
const CANDIDATES_FILTERED: usize = 2_000;
/// Most purchased products of a customer used as context (newest first).
const HISTORY_CONTEXT: usize = 20;

/// One tenant's trained recommender and its product ids.
pub struct TenantModel {
    recommender: Option<Recommender>,
    products: Vec<String>,
    index: HashMap<String, u32>,
    sessions: usize,
    built_at_ms: i64,
}

/// What filters need to know about one product.
struct ProductFacts {
    category: Option<String>,
    /// Each variant: (price, can be ordered now).
    variants: Vec<(Money, bool)>,
}

/// A tenant's catalog, by product id.
pub struct CatalogSnapshot {
    products: HashMap<String, ProductFacts>,
    built_at_ms: i64,
}

/// A cached value, and whether a refresh is already running.
struct Slot<T> {
    value: Arc<T>,
    refreshing: Arc<std::sync::atomic::AtomicBool>,
}

/// The tenants' models and catalog snapshots in this process.
#[derive(Default)]
pub struct RecommenderCache {
    models: tokio::sync::Mutex<HashMap<TenantId, Slot<TenantModel>>>,
    catalogs: tokio::sync::Mutex<HashMap<TenantId, Slot<CatalogSnapshot>>>,
    /// Serialises first builds, so concurrent first requests build once.
    first_build: tokio::sync::Mutex<()>,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/recommendations", post(recommend))
}

/// Business rules every recommendation must pass.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Leave out what the customer already bought (default true; needs `customer_id`).
    pub exclude_purchased: Option<bool>,
    /// Only products with a variant that can be ordered now: available and,
    /// where stock is tracked, in stock (default true). Products that are
    /// not in the catalog (known only from events) cannot be checked and are kept.
    pub in_stock_only: Option<bool>,
    /// Only this category (case-insensitive).
    pub category: Option<String>,
    /// Only products with a variant priced at least this (decimal).
    #[schema(value_type = Option<String>)]
    pub min_price: Option<Money>,
    /// Only products with a variant priced at most this (decimal).
    #[schema(value_type = Option<String>)]
    pub max_price: Option<Money>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendIn {
    /// Products the shopper is looking at or has in the cart, in order.
    #[serde(default)]
    pub product_ids: Vec<String>,
    /// A stored session whose viewed, carted and bought products are used too.
    pub session_id: Option<String>,
    /// A customer: their purchases and latest session personalise the results.
    pub customer_id: Option<String>,
    /// How many (1–50, default 10): the most results returned.
    pub k: Option<u32>,
    #[serde(default)]
    pub filters: Filters,
}

/// A recommended product and why.
#[derive(Debug, Clone, Serialize)]
pub struct Recommended {
    pub product_id: String,
    pub score: f32,
    pub reason: &'static str,
}

/// The events that say a shopper was interested in a product.
fn interest(kind: EventType) -> bool {
    matches!(
        kind,
        EventType::ProductView | EventType::AddToCart | EventType::Purchase
    )
}

async fn train(state: &AppState, t: &TenantId) -> ApiResult<TenantModel> {
    let mut by_session: HashMap<String, Vec<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut after = 0;
    let mut read = 0usize;
    loop {
        let page = state.platform.events_after(t, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        read += page.len();
        for e in page {
            let Some(p) = e.event.product_id.filter(|_| interest(e.event.kind)) else {
                continue;
            };
            let key = e.session_id.to_string();
            let items = by_session.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                Vec::new()
            });
            // A product viewed twice in a row counts once.
            if items.last() != Some(&p.to_string()) {
                items.push(p.to_string());
            }
        }
        if read >= MAX_EVENTS {
            break;
        }
    }
    let mut products: Vec<String> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let sessions: Vec<Vec<u32>> = order
        .iter()
        .filter_map(|k| by_session.get(k))
        .map(|items| {
            items
                .iter()
                .map(|p| {
                    *index.entry(p.clone()).or_insert_with(|| {
                        products.push(p.clone());
                        (products.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let n = sessions.len();
    let recommender = if products.is_empty() {
        None
    } else {
        Some(
            tokio::task::spawn_blocking(move || {
                Recommender::train(&sessions, RecConfig::default())
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?,
        )
    };
    Ok(TenantModel {
        recommender,
        products,
        index,
        sessions: n,
        built_at_ms: hc_domain::now_ms(),
    })
}

async fn load_catalog(state: &AppState, t: &TenantId) -> ApiResult<CatalogSnapshot> {
    let store = state.tools.retail().store();
    let mut products = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_products(
                t,
                None,
                &PageRequest::new(after.clone(), Some(PageRequest::MAX_LIMIT)),
            )
            .await?;
        for p in page.items {
            products.insert(
                p.product_id.to_string(),
                ProductFacts {
                    category: p.category.map(|c| c.to_lowercase()),
                    variants: p
                        .variants
                        .values()
                        .map(|v| (v.price, v.available && v.stock.is_none_or(|s| s > 0)))
                        .collect(),
                },
            );
        }
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    Ok(CatalogSnapshot {
        products,
        built_at_ms: hc_domain::now_ms(),
    })
}

type Slots<T> = tokio::sync::Mutex<HashMap<TenantId, Slot<T>>>;

/// A cached value younger than `max_age_ms`; an older one while a
/// background task builds its replacement (one at a time per tenant); the
/// first one built in place.
async fn cached<T, Fut>(
    cache: &Arc<RecommenderCache>,
    select: fn(&RecommenderCache) -> &Slots<T>,
    t: &TenantId,
    max_age_ms: i64,
    built_at: fn(&T) -> i64,
    build: Fut,
) -> ApiResult<Arc<T>>
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = ApiResult<T>> + Send + 'static,
{
    use std::sync::atomic::Ordering;
    let stale = {
        let map = select(cache).lock().await;
        match map.get(t) {
            Some(s) if hc_domain::now_ms() - built_at(&s.value) < max_age_ms => {
                return Ok(s.value.clone());
            }
            Some(s) => Some((s.value.clone(), s.refreshing.clone())),
            None => None,
        }
    };
    let Some((value, refreshing)) = stale else {
        let _one = cache.first_build.lock().await;
        if let Some(s) = select(cache).lock().await.get(t) {
            return Ok(s.value.clone());
        }
        let value = Arc::new(build.await?);
        select(cache).lock().await.insert(
            t.clone(),
            Slot {
                value: value.clone(),
                refreshing: Default::default(),
            },
        );
        return Ok(value);
    };
    if !refreshing.swap(true, Ordering::AcqRel) {
        let (cache, t) = (cache.clone(), t.clone());
        tokio::spawn(async move {
            match build.await {
                Ok(v) => {
                    select(&cache).lock().await.insert(
                        t,
                        Slot {
                            value: Arc::new(v),
                            refreshing: Default::default(),
                        },
                    );
                }
                Err(e) => {
                    tracing::warn!(tenant = %t, error = %e.message, "recommender refresh failed");
                    refreshing.store(false, Ordering::Release);
                }
            }
        });
    }
    Ok(value)
}

async fn model(state: &AppState, t: &TenantId) -> ApiResult<Arc<TenantModel>> {
    let (s, tt) = (state.clone(), t.clone());
    cached(
        &state.recommenders,
        |c| &c.models,
        t,
        MAX_AGE_MS,
        |m| m.built_at_ms,
        async move { train(&s, &tt).await },
    )
    .await
}

async fn catalog(state: &AppState, t: &TenantId) -> ApiResult<Arc<CatalogSnapshot>> {
    let (s, tt) = (state.clone(), t.clone());
    cached(
        &state.recommenders,
        |c| &c.catalogs,
        t,
        CATALOG_MAX_AGE_MS,
        |c| c.built_at_ms,
        async move { load_catalog(&s, &tt).await },
    )
    .await
}

/// What to recommend for, already checked.
#[derive(Debug, Default)]
pub struct Query {
    /// The shopper's current products, in order (oldest first).
    pub products: Vec<String>,
    /// Products the customer bought (newest first).
    pub purchased: Vec<String>,
    pub k: usize,
    pub filters: Filters,
}

impl Query {
    fn has_catalog_filters(&self) -> bool {
        self.filters.category.is_some()
            || self.filters.min_price.is_some()
            || self.filters.max_price.is_some()
    }
}

/// Does `p` pass the catalog filters?
fn passes(
    facts: Option<&ProductFacts>,
    f: &Filters,
    in_stock: bool,
    catalog_filters: bool,
) -> bool {
    let Some(p) = facts else {
        // Unknown to the catalog: cannot be checked against a category or
        // price, and its stock is unknown.
        return !catalog_filters;
    };
    if let Some(c) = &f.category
        && p.category.as_deref() != Some(c.to_lowercase().as_str())
    {
        return false;
    }
    p.variants.iter().any(|&(price, orderable)| {
        (!in_stock || orderable)
            && f.min_price.is_none_or(|m| price >= m)
            && f.max_price.is_none_or(|m| price <= m)
    })
}

/// The recommendations for `q`, best first, and the model they came from.
pub async fn recommend_for(
    state: &AppState,
    t: &TenantId,
    q: &Query,
) -> ApiResult<(Vec<Recommended>, Arc<TenantModel>)> {
    let m = model(state, t).await?;
    let Some(r) = &m.recommender else {
        return Ok((Vec::new(), m));
    };
    let in_stock = q.filters.in_stock_only.unwrap_or(true);
    let catalog_filters = q.has_catalog_filters();
    let cat = if in_stock || catalog_filters {
        Some(catalog(state, t).await?)
    } else {
        None
    };
    // The context: the customer's purchases (oldest first), then the current products.
    let history: Vec<u32> = q
        .purchased
        .iter()
        .take(HISTORY_CONTEXT)
        .rev()
        .filter_map(|p| m.index.get(p).copied())
        .collect();
    let current: Vec<u32> = q
        .products
        .iter()
        .filter_map(|p| m.index.get(p).copied())
        .collect();
    let session: Vec<u32> = history.iter().chain(&current).copied().collect();
    let mut exclude: std::collections::HashSet<u32> = current.iter().copied().collect();
    if q.filters.exclude_purchased.unwrap_or(true) {
        exclude.extend(q.purchased.iter().filter_map(|p| m.index.get(p).copied()));
    }
    let allow = |i: u32| {
        !exclude.contains(&i)
            && cat.as_ref().is_none_or(|c| {
                passes(
                    c.products.get(&m.products[i as usize]),
                    &q.filters,
                    in_stock,
                    catalog_filters,
                )
            })
    };
    let keep = if catalog_filters || in_stock || !exclude.is_empty() {
        CANDIDATES_FILTERED
    } else {
        CANDIDATES
    };
    let c = r.components(&session, keep);
    let from_history = current.is_empty() && !history.is_empty();
    let allow_dense = |d: u32| allow(r.catalog.id(d));
    let out = r
        .blend(&c, &r.config.weights, q.k, &allow_dense)
        .into_iter()
        .map(|(d, score)| Recommended {
            product_id: m.products[r.catalog.id(d) as usize].clone(),
            score,
            reason: if score <= 0.0 {
                "popular in this shop"
            } else if from_history {
                "bought together with what this customer bought"
            } else {
                "seen with these products in similar sessions"
            },
        })
        .collect();
    Ok((out, m))
}

/// The products `customer` bought, newest first (404 if unknown).
pub async fn purchased(
    state: &AppState,
    t: &TenantId,
    customer: &UserId,
) -> ApiResult<Vec<String>> {
    let h = state
        .platform
        .customer_history(t, customer, hc_domain::now_ms())
        .await?
        .ok_or_else(customer_not_found)?;
    let mut out: Vec<String> = Vec::new();
    for o in h.orders.iter().rev() {
        for l in &o.lines {
            if !out.contains(&l.product) {
                out.push(l.product.clone());
            }
        }
    }
    Ok(out)
}

pub fn customer_not_found() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "user_not_found",
        "customer not found",
    )
}

/// Products to show next for a shopper's products, session and/or customer,
/// best first, each with why: seen together with these products in similar
/// sessions, bought together with what the customer bought, or popular in
/// this shop. Products already in the query are never recommended; filters
/// apply to every result.
#[utoipa::path(post, path = "/v1/recommendations", tag = "events", request_body = RecommendIn,
    responses((status = 200, description = "`{recommendations: [{product_id, score, reason}], model: {sessions, products, built_at_ms}}`", body = serde_json::Value),
        (status = 400, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn recommend(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<RecommendIn>,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let t = &principal.key.tenant_id;
    let k = body.k.unwrap_or(10);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("k must be 1 to {MAX_K}"),
        ));
    }
    if body.product_ids.len() > MAX_QUERY {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("at most {MAX_QUERY} product_ids"),
        ));
    }
    let f = &body.filters;
    if let (Some(lo), Some(hi)) = (f.min_price, f.max_price)
        && lo > hi
    {
        return Err(ApiError::bad_request(
            "invalid_request",
            "min_price must not be above max_price",
        ));
    }
    if f.min_price.is_some_and(|m| m.cents() < 0) || f.max_price.is_some_and(|m| m.cents() < 0) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "prices must not be negative",
        ));
    }
    if f.category
        .as_ref()
        .is_some_and(|c| c.trim().is_empty() || c.len() > 200)
    {
        return Err(ApiError::bad_request(
            "invalid_request",
            "category must be 1 to 200 bytes",
        ));
    }
    let mut query: Vec<String> = Vec::new();
    for raw in &body.product_ids {
        let id = ProductId::parse(raw).map_err(|_| {
            ApiError::bad_request("invalid_request", format!("{raw:?} is not a product id"))
        })?;
        query.push(id.to_string());
    }
    if let Some(raw) = body.session_id {
        let id = super::events::session_id(raw)?;
        super::events::load_session(&state, t, &id).await?;
        let events = state.platform.session_events(t, &id, 1_000).await?;
        for e in events {
            if interest(e.event.kind)
                && let Some(p) = e.event.product_id
            {
                query.push(p.to_string());
            }
        }
    }
    let purchased = match &body.customer_id {
        Some(raw) => {
            let id = UserId::parse(raw.clone())
                .map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
            purchased(&state, t, &id).await?
        }
        None => Vec::new(),
    };
    let q = Query {
        products: query,
        purchased,
        k: k as usize,
        filters: body.filters,
    };
    let (recommendations, m) = recommend_for(&state, t, &q).await?;
    Ok(Json(json!({
        "recommendations": recommendations,
        "model": {"sessions": m.sessions, "products": m.products.len(), "built_at_ms": m.built_at_ms},
    })))
}
