//! The tenant's agent settings: brand voice (brand, tone, greeting), policy
//! parameters (cancel reasons, gift-card refunds, escalation thresholds) and
//! its own channel accounts (Twilio, Postmark, the voice handoff number).
//! Viewers read the effective settings, secrets redacted as `{"set": true}`;
//! admins replace them (a secret sent as `{"set": true}` keeps the stored one).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use hc_domain::{AuditRecord, Role, TenantSettings, now_ms};
use serde_json::json;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/settings", get(get_settings).put(put_settings))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_settings", message)
}

/// The tenant's effective settings, defaults filled in (`brand`: the
/// tenant's name; `cancel_reasons`: the server's).
#[utoipa::path(get, path = "/v1/settings", tag = "settings",
    responses((status = 200, body = serde_json::Value, description = "`{brand, tone, greeting, cancel_reasons, refund_to_gift_card, escalation: {min_confidence, max_failures, max_out_of_scope}, channels?: {twilio?: {account_sid, auth_token: {set: true}, phone_numbers}, postmark?: {server_token: {set: true}, from, inbound_addresses, inbound_user, inbound_password: {set: true}}, voice_handoff_number?}}`; secrets are never returned")),
    security(("api_key" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<TenantSettings>> {
    principal.require(Role::Viewer)?;
    let settings = state.settings.effective(&principal.key.tenant_id).await?;
    Ok(Json(settings.redacted()))
}

/// Replaces the tenant's settings (absent fields take their defaults) and
/// returns the effective ones. Applies to the next turn and tool call.
#[utoipa::path(put, path = "/v1/settings", tag = "settings",
    request_body(content = serde_json::Value, description = "`brand` (1–100 chars, default the tenant's name), `tone` (`friendly` | `formal`), `greeting` (1–300 chars), `cancel_reasons` (1–20 reasons of 1–60 chars, default the server's), `refund_to_gift_card` (default true), `escalation`: `min_confidence` (0–1, default 0.35), `max_failures` (1–10, default 3), `max_out_of_scope` (1–10, default 2); `channels`: `twilio` {`account_sid`, `auth_token`, `phone_numbers` (1–10, E.164)}, `postmark` {`server_token`, `from`, `inbound_addresses`, `inbound_user`, `inbound_password`}, `voice_handoff_number` (E.164). A secret given as `{\"set\": true}` keeps the stored value. Unknown fields are refused."),
    responses((status = 200, body = serde_json::Value), (status = 400, body = crate::openapi::ErrorBody, description = "`invalid_settings`, `invalid_json`"), (status = 403, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody, description = "`channel_address_taken`: a number or address belongs to another tenant; nothing changed")),
    security(("api_key" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(raw): JsonBody<serde_json::Value>,
) -> ApiResult<Json<TenantSettings>> {
    principal.require(Role::Admin)?;
    if !raw.is_object() {
        return Err(invalid("the settings must be a JSON object"));
    }
    let mut settings: TenantSettings =
        serde_json::from_value(raw).map_err(|e| invalid(e.to_string()))?;
    let tenant = &principal.key.tenant_id;
    let stored = state
        .platform
        .tenant_settings(tenant)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    settings
        .keep_secrets_from(&stored)
        .map_err(|e| invalid(e.to_string()))?;
    settings.validate().map_err(|e| invalid(e.to_string()))?;
    let audit = AuditRecord {
        tenant_id: tenant.clone(),
        actor: principal.actor().principal,
        action: "settings.update".into(),
        target: format!("tenant:{tenant}"),
        at_ms: now_ms(),
        detail: json!(settings.redacted()),
    };
    let written = state
        .platform
        .put_tenant_settings(tenant, &settings, &audit)
        .await;
    // Whatever happened, the next read goes to the store.
    state.settings.invalidate(tenant);
    match written {
        Ok(true) => {}
        Ok(false) => return Err(ApiError::not_found("tenant")),
        Err(hc_store::Error::Conflict(why)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "channel_address_taken",
                why,
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let effective = state.settings.effective(tenant).await?;
    Ok(Json(effective.redacted()))
}
