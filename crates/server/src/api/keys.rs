//! API keys: list, create (the secret is shown once), revoke. Admin role;
//! nobody can mint a key with a role above their own.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use hc_domain::{ApiKeyId, ApiKeyRecord, AuditRecord, Role, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::keys::issue_key;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/keys", get(list_keys).post(create_key))
        .route("/v1/keys/{key_id}", delete(revoke_key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// owner, admin, manager, agent or viewer.
    #[schema(value_type = String)]
    pub role: Role,
    #[serde(default)]
    pub label: String,
    /// Requests per second for this key (0 = unlimited); default: the server's.
    pub rate_limit_per_sec: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The secret. Shown only in this response.
    pub key: String,
    #[schema(value_type = Object)]
    pub record: ApiKeyRecord,
}

/// Lists the tenant's keys (never the secrets).
#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    responses((status = 200, body = serde_json::Value)), security(("api_key" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Admin)?;
    let keys = state.platform.list_keys(&principal.key.tenant_id).await?;
    Ok(Json(json!({"items": keys})))
}

/// Creates a key. The response holds the only copy of the secret.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 403, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(req): JsonBody<CreateKey>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    principal.require(Role::Admin)?;
    if !principal.key.role.allows(req.role) {
        return Err(ApiError::forbidden(
            "a key cannot be given a role above the creator's",
        ));
    }
    if req.label.len() > 200 {
        return Err(ApiError::bad_request(
            "invalid_arguments",
            "label must be at most 200 bytes",
        ));
    }
    let issued = issue_key(
        &principal.key.tenant_id,
        req.role,
        &req.label,
        req.rate_limit_per_sec,
    );
    state
        .platform
        .insert_key(&issued.record, &issued.hash)
        .await?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: principal.key.tenant_id.clone(),
            actor: principal.actor().principal,
            action: "key.create".into(),
            target: format!("key:{}", issued.record.id),
            at_ms: now_ms(),
            detail: json!({"role": req.role, "label": req.label}),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: issued.secret,
            record: issued.record,
        }),
    ))
}

/// Revokes a key of this tenant; it stops working at once.
#[utoipa::path(delete, path = "/v1/keys/{key_id}", tag = "keys", params(("key_id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::openapi::ErrorBody)), security(("api_key" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Role::Admin)?;
    let id = ApiKeyId::parse(id).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
    let tenant = &principal.key.tenant_id;
    if !state.platform.revoke_key(tenant, &id, now_ms()).await? {
        return Err(ApiError::not_found("key"));
    }
    state.keys.evict(&id);
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: tenant.clone(),
            actor: principal.actor().principal,
            action: "key.revoke".into(),
            target: format!("key:{id}"),
            at_ms: now_ms(),
            detail: json!({}),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
