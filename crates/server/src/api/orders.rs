//! Orders: list (by customer or status) and read. Order ids contain `#`:
//! encode it as `%23` in paths.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use hc_commerce::Page;
use hc_commerce::ports::OrderFilter;
use hc_domain::{Order, OrderId, OrderStatus, Role, UserId};
use serde::Deserialize;

use crate::api::PageQuery;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders", get(list_orders))
        .route("/v1/orders/{order_id}", get(get_order))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    pub user_id: Option<String>,
    /// e.g. `pending`, `delivered`, `return requested`.
    pub status: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// Lists orders, optionally for one customer or in one status.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, description = "`{items: [Order], next_cursor}`", body = serde_json::Value),
              (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_orders(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<OrderQuery>,
) -> ApiResult<Json<Page<Order>>> {
    principal.require(Role::Viewer)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_status",
                format!(
                    "unknown order status '{}'",
                    s.chars().take(40).collect::<String>()
                ),
            )
        })?),
    };
    let user_id = q
        .user_id
        .map(UserId::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    }
    .page();
    let store = state.tools.retail().store();
    Ok(Json(
        store
            .list_orders(
                &principal.key.tenant_id,
                &OrderFilter { user_id, status },
                &page,
            )
            .await?,
    ))
}

/// Reads one order.
#[utoipa::path(get, path = "/v1/orders/{order_id}", tag = "orders",
    params(("order_id" = String, Path, description = "e.g. %23W0000001")),
    responses((status = 200, description = "The order (τ-retail layout)", body = serde_json::Value),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Order>> {
    principal.require(Role::Viewer)?;
    let id = OrderId::parse(id).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
    Ok(Json(
        state.tools.retail().order(&principal.actor(), &id).await?,
    ))
}
