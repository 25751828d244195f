//! The public behavior tracker: `/t.js` (one script tag on the shop) and the
//! endpoint it posts to, `POST /t/v1/events?key=<tracker key>`. A page cannot
//! keep a secret, so the key there is a tracker key (role `tracker`): it can
//! post events and nothing else. Requests are limited per client IP and per
//! key; batches are small (`events.tracker_max_batch`). The body is a JSON
//! array sent as `text/plain` (a CORS "simple" request, so `sendBeacon`
//! works without a preflight).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_domain::Role;
use serde::Deserialize;

use crate::api::events::{Accepted, check_batch, ingest_error, read_body};
use crate::auth::resolve_key;
use crate::error::ApiError;
use crate::extract::Query;
use crate::ingest::{Framing, Source, ingest, split_body};
use crate::state::AppState;

const TRACKER_JS: &str = include_str!("../../assets/t.js");

/// Largest tracker request body.
const TRACKER_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/t.js", get(tracker_js)).route(
        "/t/v1/events",
        post(post_tracker_events)
            .options(preflight)
            .layer(DefaultBodyLimit::disable()),
    )
}

pub async fn tracker_js() -> Response {
    let mut r = TRACKER_JS.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    r
}

/// CORS preflight (only needed when a page posts with a JSON content type).
pub async fn preflight() -> Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackerQuery {
    /// The public tracker key.
    pub key: String,
}

/// Stores a small batch of events from a shop page.
pub async fn post_tracker_events(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(q): Query<TrackerQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    cors(
        match tracker_inner(&state, addr, &q.key, &headers, body).await {
            Ok(r) => r,
            Err(r) => r,
        },
    )
}

async fn tracker_inner(
    state: &AppState,
    addr: SocketAddr,
    key: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    if state.tracker_limiter.check_key(&addr.ip()).is_err() {
        metrics::counter!("hc_http_rate_limited_total").increment(1);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many tracker requests from this address",
        );
        e.retry_after_secs = Some(1);
        return Err(e.into_response());
    }
    let record = resolve_key(state, key)
        .await
        .map_err(|e| e.into_response())?;
    if record.role != Role::Tracker {
        return Err(ApiError::forbidden(
            "only a tracker key may be used here (never put other keys in a page)",
        )
        .into_response());
    }
    let bytes = read_body(body, TRACKER_BODY_BYTES)
        .await
        .map_err(|e| e.into_response())?;
    let framing = Framing::of_content_type(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let payloads = split_body(&bytes, framing).map_err(|e| e.into_response())?;
    check_batch(payloads.len(), state.config.events.tracker_max_batch)
        .map_err(|e| e.into_response())?;
    let appended = ingest(state, &record.tenant_id, Source::Tracker, &payloads)
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
