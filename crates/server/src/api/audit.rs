//! The audit log: every write, newest first (admin role).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use hc_commerce::Page;
use hc_domain::Role;
use hc_store::AuditEntry;

use crate::api::PageQuery;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/audit", get(list_audit))
}

/// Lists audit records: who did what to which record, and when.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(PageQuery),
    responses((status = 200, description = "`{items: [{id, tenant_id, actor, action, target, at_ms, detail}], next_cursor}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    principal.require(Role::Admin)?;
    Ok(Json(
        state
            .platform
            .list_audit(&principal.key.tenant_id, &q.page())
            .await?,
    ))
}
