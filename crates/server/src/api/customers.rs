//! Customers: list (search by email or name) and read.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use hc_commerce::Page;
use hc_commerce::ports::CustomerFilter;
use hc_domain::{Customer, Role, UserId};
use serde::Deserialize;

use crate::api::PageQuery;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/customers", get(list_customers))
        .route("/v1/customers/{user_id}", get(get_customer))
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
    let id = UserId::parse(id).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
    Ok(Json(
        state
            .tools
            .retail()
            .customer(&principal.actor(), &id)
            .await?,
    ))
}
