//! `Idempotency-Key` on write requests: the first request with a key runs and
//! its response (any status below 500) is stored; a retry with the same key
//! and the same request replays that response without acting again. The same
//! key with a different request is refused; a retry while the first is still
//! running gets 409. A 5xx releases the key so the client can retry.
//! Keys are scoped to the API key that sent them.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hc_store::Reservation;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(raw_key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    if !is_write(req.method()) {
        return next.run(req).await;
    }
    let idem_key = match raw_key.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) => k.to_string(),
        _ => {
            return ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    let Some(principal) = req.extensions().get::<Principal>().cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    // Event batches have their own, larger limit (`events.body_limit_bytes`).
    let limit = if parts.uri.path() == "/v1/events" {
        state.config.events.body_limit_bytes
    } else {
        state.config.body_limit_bytes
    };
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body is too large",
            )
            .into_response();
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update([0]);
    hasher.update(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(""));
    hasher.update([0]);
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());

    let tenant = &principal.key.tenant_id;
    let key_id = principal.key.id.as_str();
    match state
        .platform
        .reserve(tenant, key_id, &idem_key, &request_hash)
        .await
    {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(Reservation::Completed { status, body }) => return replay(status, body),
        Ok(Reservation::InProgress) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being processed",
            )
            .into_response();
        }
        Ok(Reservation::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            )
            .into_response();
        }
        Ok(Reservation::Reserved) => {}
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let outcome = if parts.status.is_server_error() {
        state.platform.release(tenant, key_id, &idem_key).await
    } else {
        let text = String::from_utf8_lossy(&body);
        state
            .platform
            .complete(tenant, key_id, &idem_key, parts.status.as_u16(), &text)
            .await
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "could not record idempotency outcome");
    }
    Response::from_parts(parts, Body::from(body))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
