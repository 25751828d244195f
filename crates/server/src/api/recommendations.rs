//! `POST /v1/recommendations`: products to show next, from what shoppers of
//! this tenant viewed, carted and bought together (`hc_behavior::recs`:
//! session-kNN, sequential rules, popularity), trained from the tenant's own
//! event log and kept for [`MAX_AGE_MS`] before it is trained again.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use hc_behavior::recs::{RecConfig, Recommender};
use hc_domain::{EventType, ProductId, Role, TenantId};
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

/// One tenant's trained recommender and its product ids.
pub struct TenantModel {
    recommender: Option<Recommender>,
    products: Vec<String>,
    index: HashMap<String, u32>,
    sessions: usize,
    built_at_ms: i64,
}

/// The tenants' models in this process.
#[derive(Default)]
pub struct RecommenderCache {
    models: tokio::sync::Mutex<HashMap<TenantId, Arc<TenantModel>>>,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/recommendations", post(recommend))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendIn {
    /// Products the shopper is looking at or has in the cart, in order.
    #[serde(default)]
    pub product_ids: Vec<String>,
    /// A stored session whose viewed, carted and bought products are used too.
    pub session_id: Option<String>,
    /// How many (1–50, default 10).
    pub k: Option<u32>,
}

#[derive(Debug, Serialize)]
struct Recommended {
    product_id: String,
    score: f32,
    reason: &'static str,
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
        let sessions = sessions.clone();
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

async fn model(state: &AppState, t: &TenantId) -> ApiResult<Arc<TenantModel>> {
    let mut models = state.recommenders.models.lock().await;
    if let Some(m) = models.get(t)
        && hc_domain::now_ms() - m.built_at_ms < MAX_AGE_MS
    {
        return Ok(m.clone());
    }
    let m = Arc::new(train(state, t).await?);
    models.insert(t.clone(), m.clone());
    Ok(m)
}

/// Products to show next for a shopper's products and/or session, best
/// first, each with why: seen together with these products in similar
/// sessions, or popular in this shop. Products already in the query are
/// never recommended.
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
    let m = model(&state, t).await?;
    let session: Vec<u32> = query
        .iter()
        .filter_map(|p| m.index.get(p).copied())
        .collect();
    let exclude: std::collections::HashSet<u32> = session.iter().copied().collect();
    let recommendations: Vec<Recommended> = match &m.recommender {
        Some(r) => r
            .recommend_filtered(&session, k as usize, &|i| !exclude.contains(&i))
            .into_iter()
            .map(|s| Recommended {
                product_id: m.products[s.item as usize].clone(),
                score: s.score,
                reason: if s.score > 0.0 {
                    "seen with these products in similar sessions"
                } else {
                    "popular in this shop"
                },
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Json(json!({
        "recommendations": recommendations,
        "model": {"sessions": m.sessions, "products": m.products.len(), "built_at_ms": m.built_at_ms},
    })))
}
