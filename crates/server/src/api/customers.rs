//! Customers: list (search by email or name), read, the agent's long-term
//! memory of a customer (read; erase for GDPR requests), and behavior
//! insights (churn, expected purchases, lifetime value, segment, intent,
//! recommendations) with on-demand batch rescoring.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use hc_commerce::Page;
use hc_commerce::ports::CustomerFilter;
use hc_domain::{AuditRecord, Customer, CustomerFact, Role, UserId, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::PageQuery;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/customers", get(list_customers))
        .route(
            "/v1/customers/{user_id}",
            get(get_customer).delete(delete_customer),
        )
        .route("/v1/customers/{user_id}/insights", get(get_insights))
        .route("/v1/customers/rescore", axum::routing::post(post_rescore))
        .route(
            "/v1/customers/{user_id}/memory",
            get(get_memory).delete(delete_memory),
        )
}

/// The memory store the agent uses (the platform's unless the agent was given another).
pub(crate) fn memory_store(state: &AppState) -> std::sync::Arc<dyn hc_agent::ports::MemoryStore> {
    match state.agent.memory() {
        Some(m) => m.store().clone(),
        None => state.platform.clone(),
    }
}

fn user_id(raw: String) -> ApiResult<UserId> {
    UserId::parse(raw).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    /// Exact email, case-insensitive.
    pub email: Option<String>,
    /// Substring of "first last", case- and accent-insensitive.
    pub name: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// Lists customers, optionally by email or name.
#[utoipa::path(get, path = "/v1/customers", tag = "customers", params(CustomerQuery),
    responses((status = 200, description = "`{items: [Customer], next_cursor}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_customers(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<Json<Page<Customer>>> {
    principal.require(Role::Viewer)?;
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    }
    .page();
    let filter = CustomerFilter {
        email: q.email,
        name: q.name,
    };
    let store = state.tools.retail().store();
    Ok(Json(
        store
            .list_customers(&principal.key.tenant_id, &filter, &page)
            .await?,
    ))
}

/// Reads one customer.
#[utoipa::path(get, path = "/v1/customers/{user_id}", tag = "customers",
    params(("user_id" = String, Path)),
    responses((status = 200, description = "The customer (τ-retail layout)", body = serde_json::Value),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_customer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Customer>> {
    principal.require(Role::Viewer)?;
    let id = user_id(id)?;
    Ok(Json(
        state
            .tools
            .retail()
            .customer(&principal.actor(), &id)
            .await?,
    ))
}

/// What the agent remembers about a customer.
#[derive(Serialize)]
pub struct Memory {
    pub user_id: UserId,
    /// Newest first.
    pub facts: Vec<CustomerFact>,
    /// The short text a language model gets in its system prompt.
    pub summary: String,
}

/// The result of erasing a customer's memory.
#[derive(Serialize)]
pub struct Erased {
    pub user_id: UserId,
    pub deleted: u64,
}

/// What the agent remembers about a customer (sizes, colours, issues, last rating).
#[utoipa::path(get, path = "/v1/customers/{user_id}/memory", tag = "customers",
    params(("user_id" = String, Path)),
    responses((status = 200, description = "`{user_id, facts: [{user_id, kind: size|color|preference|issue|satisfaction|note, subject, value, source, learned_at_ms}], summary}`, newest first", body = serde_json::Value),
              (status = 404, description = "user_not_found", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_memory(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Memory>> {
    principal.require(Role::Viewer)?;
    let id = user_id(id)?;
    // Only customers of this tenant: another tenant's id is simply unknown.
    state
        .tools
        .retail()
        .customer(&principal.actor(), &id)
        .await?;
    let facts = memory_store(&state)
        .recall(&principal.key.tenant_id, &id)
        .await?;
    Ok(Json(Memory {
        summary: hc_agent::memory_summary(&facts),
        user_id: id,
        facts,
    }))
}

/// Erases everything the agent remembers about a customer (GDPR erasure). Audited.
/// Works whether or not the customer record still exists; erasing twice deletes nothing.
#[utoipa::path(delete, path = "/v1/customers/{user_id}/memory", tag = "customers",
    params(("user_id" = String, Path)),
    responses((status = 200, description = "`{user_id, deleted}`: how many facts were erased", body = serde_json::Value),
              (status = 403, description = "needs the admin role", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete_memory(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Erased>> {
    principal.require(Role::Admin)?;
    let id = user_id(id)?;
    let deleted = forget_memory(
        &state,
        &principal.key.tenant_id,
        &id,
        principal.actor().principal,
    )
    .await?;
    Ok(Json(Erased {
        user_id: id,
        deleted,
    }))
}

/// What erasing a customer did.
#[derive(Debug, Serialize)]
pub struct CustomerErasure {
    pub user_id: UserId,
    /// The store: the customer record and order addresses redacted,
    /// conversations deleted, events and sessions unlinked.
    pub records: hc_store::ErasureReport,
    /// Long-term memory facts deleted.
    pub memory_facts: u64,
    /// The loyalty account: balance forfeited and pseudonym key deleted
    /// (`null` when loyalty is off on this server).
    pub loyalty: Option<crate::api::loyalty::ErasureOut>,
}

/// GDPR erasure of customer `id` of tenant `t` as `actor`: the store's
/// personal data ([`hc_store::ErasureStore`]), the agent's memory, and the
/// loyalty account (crypto-shredding, see docs/LEDGER.md). Audited as
/// `customer.erase`. Running it again changes nothing more.
pub async fn erase_customer(
    state: &AppState,
    t: &hc_domain::TenantId,
    id: &UserId,
    actor: String,
) -> ApiResult<CustomerErasure> {
    let records = state.platform.erase_customer(t, id).await?;
    if !records.customer {
        return Err(ApiError::not_found("user"));
    }
    // The agent may keep memory in a store of its own.
    let memory_facts =
        records.memory_facts_deleted + forget_memory(state, t, id, actor.clone()).await?;
    let loyalty = if state.loyalty.is_some() {
        Some(crate::api::loyalty::erase(state, t, id.to_string(), None).await?)
    } else {
        None
    };
    let out = CustomerErasure {
        user_id: id.clone(),
        records,
        memory_facts,
        loyalty,
    };
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor,
            action: "customer.erase".into(),
            target: format!("customer:{id}"),
            at_ms: now_ms(),
            detail: serde_json::to_value(&out).unwrap_or_default(),
        })
        .await?;
    Ok(out)
}

/// GDPR erasure of a customer (admin role): personal data redacted or
/// deleted everywhere, orders kept for the merchant's accounts with the
/// address redacted, loyalty crypto-shredded.
#[utoipa::path(delete, path = "/v1/customers/{user_id}", tag = "customers",
    params(("user_id" = String, Path)),
    responses((status = 200, description = "`{user_id, records: {customer, orders_redacted, conversations_deleted, events_unlinked, sessions_unlinked, memory_facts_deleted}, memory_facts, loyalty}`", body = serde_json::Value),
              (status = 403, description = "needs the admin role", body = crate::openapi::ErrorBody),
              (status = 404, description = "user_not_found", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete_customer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<CustomerErasure>> {
    principal.require(Role::Admin)?;
    let id = user_id(id)?;
    Ok(Json(
        erase_customer(
            &state,
            &principal.key.tenant_id,
            &id,
            principal.actor().principal,
        )
        .await?,
    ))
}

/// Erases what the agent remembers about `id` (the customer's long-term
/// memory facts) and writes `customer.memory.erase` to the audit log as
/// `actor`. Returns how many facts were deleted.
pub async fn forget_memory(
    state: &AppState,
    t: &hc_domain::TenantId,
    id: &UserId,
    actor: String,
) -> ApiResult<u64> {
    let deleted = memory_store(state).forget(t, id).await?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor,
            action: "customer.memory.erase".into(),
            target: format!("customer:{id}"),
            at_ms: now_ms(),
            detail: json!({"deleted": deleted}),
        })
        .await?;
    Ok(deleted)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InsightsQuery {
    /// Recommendations to include, 0 to 50 (default 5).
    pub k: Option<u32>,
}

/// An amount in currency units as `Money` (decimal on the wire, cents rounded).
fn money(v: Option<f64>) -> Option<hc_domain::Money> {
    v.and_then(|x| hc_domain::Money::from_decimal((x * 100.0).round() / 100.0).ok())
}

/// A customer's behavior: features from their own orders, returns, support
/// conversations and visits; churn probability, expected purchases and
/// lifetime value (BG/NBD + Gamma-Gamma), segment, the purchase intent of
/// their live session, and recommendations, each with the main reasons.
/// Scores the shop's data cannot support yet are `null`, listed with the
/// reason in `unavailable`.
#[utoipa::path(get, path = "/v1/customers/{user_id}/insights", tag = "customers",
    params(("user_id" = String, Path), InsightsQuery),
    responses((status = 200, description = "`{customer_id, as_of_ms, features, churn, purchases, clv, segment, intent, recommendations, reasons, unavailable, stored_score, model}` (docs/BEHAVIOR.md)", body = serde_json::Value),
              (status = 404, description = "user_not_found", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_insights(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<InsightsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let k = q.k.unwrap_or(5);
    if k > 50 {
        return Err(ApiError::bad_request("invalid_query", "k must be 0 to 50"));
    }
    let id = user_id(id)?;
    Ok(Json(
        insights(&state, &principal.key.tenant_id, &id, k).await?,
    ))
}

/// The body of `GET /v1/customers/{id}/insights` for `id` of tenant `t`
/// with `k` recommendations (0 to 50); `user_not_found` when the customer
/// has no history in this tenant.
pub async fn insights(
    state: &AppState,
    t: &hc_domain::TenantId,
    id: &UserId,
    k: u32,
) -> ApiResult<serde_json::Value> {
    use crate::api::recommendations as recs;
    let now = now_ms();
    let history = state
        .platform
        .customer_history(t, id, now)
        .await?
        .ok_or_else(recs::customer_not_found)?;
    let model = crate::behavior::model(state, t).await?;
    let s = {
        let (m, h) = (model.clone(), history.clone());
        tokio::task::spawn_blocking(move || m.score(&h, now))
            .await
            .map_err(ApiError::internal)?
    };
    // The live session, if the customer has one that is still open.
    let mut intent = serde_json::Value::Null;
    let mut live_products: Vec<String> = Vec::new();
    if let Some(sid) = &history.latest_session
        && let Ok(sid) = hc_domain::SessionId::parse_stored(sid.clone())
        && let Some(session) = state.platform.session(t, &sid).await?
        && !session.is_closed(now)
    {
        let returning = state
            .platform
            .customer_sessions_before(t, id, session.started_at_ms)
            .await?
            > 0;
        let features = hc_behavior::live::session_features(&session, returning);
        intent = match &state.intent {
            Some(m) => {
                let p = m.score(&features);
                json!({"session_id": session.id, "probability": p, "threshold": m.model.threshold,
                       "likely_to_buy": p >= m.model.threshold})
            }
            None => json!({"session_id": session.id, "probability": null,
                           "reason": "no purchase-intent model is configured (events.intent_model)"}),
        };
        for e in state.platform.session_events(t, &sid, 1_000).await? {
            if matches!(
                e.event.kind,
                hc_domain::EventType::ProductView | hc_domain::EventType::AddToCart
            ) && let Some(p) = e.event.product_id
            {
                live_products.push(p.to_string());
            }
        }
    }
    let recommendations = if k == 0 {
        Vec::new()
    } else {
        let mut purchased: Vec<String> = Vec::new();
        for o in history.orders.iter().rev() {
            for l in &o.lines {
                if !purchased.contains(&l.product) {
                    purchased.push(l.product.clone());
                }
            }
        }
        let query = recs::Query {
            products: live_products,
            purchased,
            k: k as usize,
            filters: recs::Filters::default(),
        };
        recs::recommend_for(state, t, &query).await?.0
    };
    let p = &s.profile;
    let stored = state.platform.customer_score(t, id).await?;
    Ok(json!({
        "customer_id": id,
        "as_of_ms": now,
        "features": {
            "orders": p.orders,
            "recency_days": p.recency_days,
            "tenure_days": p.tenure_days,
            "monetary": money(Some(p.monetary)),
            "avg_order_value": money(p.avg_order_value),
            "orders_last_90d": p.orders_last_90d,
            "orders_prev_90d": p.orders_prev_90d,
            "spend_trend": p.spend_trend,
            "mean_days_between_orders": p.mean_days_between_orders,
            "returned_items": p.returned_items,
            "returned_value_share": p.returned_value_share,
            "support_contacts": p.support_contacts,
            "support_contacts_last_90d": p.support_contacts_last_90d,
            "satisfaction": p.satisfaction,
            "last_rating": p.last_rating,
            "sessions_last_30d": p.sessions_last_30d,
            "days_since_last_seen": p.days_since_last_seen,
        },
        "churn": s.churn,
        "purchases": s.expected_purchases_90d.map(|n90| json!({
            "next_90_days": n90,
            "next_365_days": s.expected_purchases_365d,
            "p_alive": s.p_alive,
            "basis": "bg_nbd",
        })),
        "clv": s.clv_365d.map(|v| json!({
            "next_365_days": money(Some(v)),
            "expected_order_value": money(s.expected_order_value),
            "basis": "bg_nbd+gamma_gamma",
        })),
        "segment": s.segment,
        "intent": intent,
        "recommendations": recommendations,
        "reasons": s.reasons,
        "unavailable": s.unavailable,
        "stored_score": stored,
        "model": crate::behavior::model_summary(&model),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RescoreQuery {
    /// Refit the models first (default true); false reuses a fresh stored model.
    pub refit: Option<bool>,
}

/// Refits the tenant's customer models and scores every customer now
/// (stored in `customer_scores`; churn-risk triggers fire). Admin only.
#[utoipa::path(post, path = "/v1/customers/rescore", tag = "customers", params(RescoreQuery),
    responses((status = 200, description = "`{customers, scored_churn, triggers_fired, fit_seconds, score_seconds, model}`", body = serde_json::Value),
              (status = 403, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn post_rescore(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<RescoreQuery>,
) -> ApiResult<Json<crate::behavior::RescoreReport>> {
    principal.require(Role::Admin)?;
    let t = &principal.key.tenant_id;
    let report = crate::behavior::rescore(&state, t, q.refit.unwrap_or(true)).await?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor: principal.actor().principal,
            action: "customers.rescore".into(),
            target: "customers".into(),
            at_ms: now_ms(),
            detail: json!({"customers": report.customers, "triggers_fired": report.triggers_fired}),
        })
        .await?;
    Ok(Json(report))
}
