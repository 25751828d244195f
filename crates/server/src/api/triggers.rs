//! Triggers: merchant rules that POST a signed webhook (through the durable
//! outbox, retried) when a customer's churn risk crosses a threshold or a
//! session ends with an abandoned cart. See `crate::behavior`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use hc_domain::{AuditRecord, NewTrigger, Role, Trigger, TriggerCondition, now_ms};
use rand::RngCore;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

/// Most triggers per tenant.
const MAX_TRIGGERS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/triggers", get(list_triggers).post(create_trigger))
        .route("/v1/triggers/{id}", delete(delete_trigger))
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Creates a trigger. The answer carries `secret` once: each webhook has
/// `X-HC-Signature: sha256=<hex HMAC-SHA256 of the body under it>`. Admin only.
#[utoipa::path(post, path = "/v1/triggers", tag = "triggers",
    request_body(content = serde_json::Value, description = "`{name, webhook_url, condition: {kind: churn_risk, threshold} | {kind: cart_abandoned, min_cart_value?, min_intent?}, message?}`: `message` (plain text, `{first_name}` replaced) is emailed to the customer by the agent when the trigger fires about a known customer"),
    responses((status = 201, description = "`{trigger, secret}`", body = serde_json::Value),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_trigger(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<NewTrigger>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Role::Admin)?;
    let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_trigger", m);
    body.validate().map_err(|e| invalid(e.to_string()))?;
    if let TriggerCondition::CartAbandoned {
        min_intent: Some(_),
        ..
    } = body.condition
        && state.intent.is_none()
    {
        return Err(invalid(
            "min_intent needs a purchase-intent model; this server has none (events.intent_model)"
                .into(),
        ));
    }
    let t = &principal.key.tenant_id;
    if state.platform.list_triggers(t).await?.len() >= MAX_TRIGGERS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_triggers",
            format!("a tenant may have at most {MAX_TRIGGERS} triggers"),
        ));
    }
    let trigger = Trigger {
        id: format!("trg_{}", random_hex(8)),
        name: body.name.trim().to_string(),
        condition: body.condition,
        webhook_url: body.webhook_url,
        message: body.message.map(|m| m.trim().to_string()),
        created_at_ms: now_ms(),
    };
    let secret = format!("whsec_{}", random_hex(24));
    state.platform.create_trigger(t, &trigger, &secret).await?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor: principal.actor().principal,
            action: "trigger.create".into(),
            target: format!("trigger:{}", trigger.id),
            at_ms: now_ms(),
            detail: json!({"name": trigger.name, "condition": trigger.condition, "webhook_url": trigger.webhook_url, "message": trigger.message}),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"trigger": trigger, "secret": secret})),
    ))
}

/// The tenant's triggers (secrets are never shown again).
#[utoipa::path(get, path = "/v1/triggers", tag = "triggers",
    responses((status = 200, description = "`{items: [trigger]}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_triggers(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let items = state
        .platform
        .list_triggers(&principal.key.tenant_id)
        .await?;
    Ok(Json(json!({"items": items})))
}

/// Deletes a trigger; its webhooks still waiting in the outbox are not sent. Admin only.
#[utoipa::path(delete, path = "/v1/triggers/{id}", tag = "triggers", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete_trigger(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Role::Admin)?;
    let t = &principal.key.tenant_id;
    if id.len() > 64 || !state.platform.delete_trigger(t, &id).await? {
        return Err(ApiError::not_found("trigger"));
    }
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor: principal.actor().principal,
            action: "trigger.delete".into(),
            target: format!("trigger:{id}"),
            at_ms: now_ms(),
            detail: json!({}),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
