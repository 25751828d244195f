//! Customers: list (search by email or name), read, and the agent's
//! long-term memory of a customer (read; erase for GDPR requests).

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
        .route("/v1/customers/{user_id}", get(get_customer))
        .route(
            "/v1/customers/{user_id}/memory",
            get(get_memory).delete(delete_memory),
        )
}

/// The memory store the agent uses (the platform's unless the agent was given another).
fn memory_store(state: &AppState) -> std::sync::Arc<dyn hc_agent::ports::MemoryStore> {
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
    let deleted = memory_store(&state)
        .forget(&principal.key.tenant_id, &id)
        .await?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: principal.key.tenant_id.clone(),
            actor: principal.actor().principal,
            action: "customer.memory.erase".into(),
            target: format!("customer:{id}"),
            at_ms: now_ms(),
            detail: json!({"deleted": deleted}),
        })
        .await?;
    Ok(Json(Erased {
        user_id: id,
        deleted,
    }))
}
