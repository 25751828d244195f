//! Behavior events: `POST /v1/events` (a JSON array, or NDJSON by
//! `Content-Type`), the replay of the event log, sessions and the
//! quarantine of refused events.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_domain::{Role, SessionId, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::ingest::{Framing, IngestError, Source, ingest, split_body};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/events",
            // The events body limit is applied in the handler (`events.body_limit_bytes`).
            post(post_events)
                .get(list_events)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/events/quarantine", get(list_quarantine))
        .route("/v1/sessions/{id}", get(get_session))
        .route("/v1/sessions/{id}/insights", get(get_session_insights))
}

/// `202 {"accepted": n, "duplicates": d}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// Events new to the log (stored durably before this answer).
    pub accepted: u64,
    /// Events whose `event_id` was already stored (or repeated in the batch).
    pub duplicates: u64,
}

/// The answer to a batch that was not stored: 422 listing every bad event
/// by index, 503 if storage failed.
pub fn ingest_error(e: IngestError) -> Response {
    match e {
        IngestError::Invalid { total, invalid } => {
            let body = json!({"error": {
                "code": "invalid_events",
                "message": format!("{} of {total} events are invalid; nothing was stored", invalid.len()),
                "events": invalid,
            }});
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
        IngestError::Store(e) => ApiError::from(e).into_response(),
    }
}

/// Reads a body of at most `limit` bytes (413 beyond).
pub async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("an events body may be at most {limit} bytes"),
        )
    })
}

/// Checks the batch size: 400 when empty, 413 over `max`.
pub fn check_batch(n: usize, max: usize) -> Result<(), ApiError> {
    if n == 0 {
        return Err(ApiError::bad_request(
            "empty_batch",
            "send at least one event",
        ));
    }
    if n > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("a batch may hold at most {max} events; this one has {n}"),
        ));
    }
    Ok(())
}

/// Stores a batch of events. Answers 202 only once the batch is durable; if
/// any event is invalid, 422 lists each bad one by index and nothing is stored.
/// Needs a tracker key or the `agent` role.
#[utoipa::path(post, path = "/v1/events", tag = "events",
    request_body(content = serde_json::Value, description = "A JSON array of events, or NDJSON with `Content-Type: application/x-ndjson`. See docs/EVENTS.md for the schema."),
    responses((status = 202, body = Accepted), (status = 422, description = "`error.events`: `[{index, event_id, code, message}]`", body = crate::openapi::ErrorBody),
        (status = 413, body = crate::openapi::ErrorBody), (status = 429, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn post_events(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match post_events_inner(&state, &principal, &headers, body).await {
        Ok(r) => r,
        Err(e) => e,
    }
}

async fn post_events_inner(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    if principal.key.role != Role::Tracker {
        principal
            .require(Role::Agent)
            .map_err(|e| e.into_response())?;
    }
    let cfg = &state.config.events;
    let bytes = read_body(body, cfg.body_limit_bytes)
        .await
        .map_err(|e| e.into_response())?;
    let framing = Framing::of_content_type(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let payloads = split_body(&bytes, framing).map_err(|e| e.into_response())?;
    let max = if principal.key.role == Role::Tracker {
        cfg.tracker_max_batch
    } else {
        cfg.max_batch
    };
    check_batch(payloads.len(), max).map_err(|e| e.into_response())?;
    let source = if principal.key.role == Role::Tracker {
        Source::Tracker
    } else {
        Source::Api
    };
    let appended = ingest(state, &principal.key.tenant_id, source, &payloads)
        .await
        .map_err(ingest_error)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            accepted: appended.accepted,
            duplicates: appended.duplicates,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReplayQuery {
    /// Cursor: the `seq` after which to read (`next_cursor` of the previous page); 0 or absent for the start.
    pub after: Option<i64>,
    /// Events per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// Replays the tenant's event log in order, a page at a time.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(ReplayQuery),
    responses((status = 200, description = "`{items: [{seq, session, received_at_ms, event}], next_cursor}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReplayQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let after = q.after.unwrap_or(0).max(0);
    let items = state
        .platform
        .events_after(&principal.key.tenant_id, after, limit)
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuarantineQuery {
    /// Entries, 1 to 500 (default 50).
    pub limit: Option<u32>,
}

/// The newest refused events with their reasons.
#[utoipa::path(get, path = "/v1/events/quarantine", tag = "events", params(QuarantineQuery),
    responses((status = 200, description = "`{items: [{id, source, code, reason, payload, received_at_ms}]}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_quarantine(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<QuarantineQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let items = state
        .platform
        .quarantined(
            &principal.key.tenant_id,
            q.limit.unwrap_or(50).clamp(1, 500),
        )
        .await?;
    Ok(Json(json!({"items": items})))
}

/// Most events returned with a session.
const SESSION_EVENTS: u32 = 1000;

pub(crate) fn session_id(raw: String) -> ApiResult<SessionId> {
    SessionId::parse_stored(raw).map_err(|_| ApiError::not_found("session"))
}

/// Loads a session of `tenant` or answers 404.
pub(crate) async fn load_session(
    state: &AppState,
    tenant: &TenantId,
    id: &SessionId,
) -> ApiResult<hc_domain::Session> {
    state
        .platform
        .session(tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("session"))
}

/// A session: counters, whether it is closed (30 minutes without events), and its events by time.
#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, description = "`{session, closed, events}`", body = serde_json::Value), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_session(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let t = &principal.key.tenant_id;
    let id = session_id(id)?;
    let session = load_session(&state, t, &id).await?;
    let events = state
        .platform
        .session_events(t, &id, SESSION_EVENTS)
        .await?;
    let closed = session.is_closed(hc_domain::now_ms());
    Ok(Json(
        json!({"session": session, "closed": closed, "events": events}),
    ))
}

/// A live session's features (the Online Shoppers layout, from its stored
/// events) and its purchase-intent score, which changes with each event.
#[utoipa::path(get, path = "/v1/sessions/{id}/insights", tag = "events", params(("id" = String, Path)),
    responses((status = 200, description = "`{session_id, closed, returning_visitor, features, intent: {probability, threshold, likely_to_buy} | null}`", body = serde_json::Value),
        (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_session_insights(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let t = &principal.key.tenant_id;
    let id = session_id(id)?;
    let session = load_session(&state, t, &id).await?;
    let returning = match &session.customer_id {
        Some(c) => {
            state
                .platform
                .customer_sessions_before(t, c, session.started_at_ms)
                .await?
                > 0
        }
        None => false,
    };
    let features = hc_behavior::live::session_features(&session, returning);
    let intent = state.intent.as_ref().map(|m| {
        let p = m.score(&features);
        json!({"probability": p, "threshold": m.model.threshold, "likely_to_buy": p >= m.model.threshold})
    });
    Ok(Json(json!({
        "session_id": session.id,
        "closed": session.is_closed(hc_domain::now_ms()),
        "returning_visitor": returning,
        "features": features,
        "intent": intent,
    })))
}
