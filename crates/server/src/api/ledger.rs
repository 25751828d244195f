//! The transparency log over HTTP, public read (no API key): the C2SP
//! tlog-tiles static API (`/ledger/checkpoint`, `/ledger/tile/<L>/<N>[.p/<W>]`,
//! `/ledger/tile/entries/<N>[.p/<W>]`) that existing transparency-log tooling
//! mirrors and verifies, plus convenience endpoints for inclusion and
//! consistency proofs, offline proof bundles (C2SP tlog-proof) and the
//! log's public keys.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hc_ledger::{Ledger, TilePath};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ledger/checkpoint", get(get_checkpoint))
        .route("/ledger/keys", get(get_keys))
        .route("/ledger/tile/{*path}", get(get_tile))
        .route("/ledger/proof/inclusion", get(get_inclusion_proof))
        .route("/ledger/proof/consistency", get(get_consistency_proof))
        .route("/ledger/proof/bundle/{index}", get(get_proof_bundle))
}

fn ledger(state: &AppState) -> ApiResult<Arc<Ledger>> {
    state.ledger.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the ledger is not enabled on this server",
        )
    })
}

/// Runs file I/O (reads, signing with fsync) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> hc_ledger::Result<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

fn text(body: String, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// The latest signed checkpoint (C2SP tlog-checkpoint as a signed note);
/// signed on demand when the log has grown.
#[utoipa::path(get, path = "/ledger/checkpoint", tag = "ledger",
    responses((status = 200, content_type = "text/plain", body = String), (status = 503, body = crate::openapi::ErrorBody)))]
pub async fn get_checkpoint(State(state): State<AppState>) -> ApiResult<Response> {
    let ledger = ledger(&state)?;
    let note = blocking(move || ledger.checkpoint()).await?;
    Ok(text(note, "no-cache"))
}

/// The log's verifier keys (`name+keyid+base64key`, one a line). Verifiers
/// should obtain them out of band; this is for convenience.
#[utoipa::path(get, path = "/ledger/keys", tag = "ledger",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn get_keys(State(state): State<AppState>) -> ApiResult<Response> {
    let ledger = ledger(&state)?;
    let keys: String = ledger
        .verifiers()
        .iter()
        .map(|v| format!("{}\n", v.to_vkey()))
        .collect();
    Ok(text(keys, "no-cache"))
}

/// A hash tile (`<L>/<N>[.p/<W>]`) or entry bundle (`entries/<N>[.p/<W>]`)
/// as in C2SP tlog-tiles. Full tiles never change and are cacheable forever.
#[utoipa::path(get, path = "/ledger/tile/{path}", tag = "ledger",
    params(("path" = String, Path, description = "e.g. `0/x001/234`, `1/000.p/7`, `entries/005`")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 400, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn get_tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> ApiResult<Response> {
    let ledger = ledger(&state)?;
    let tile = TilePath::parse(&path)?;
    let bytes = blocking(move || ledger.log().tile(&tile)).await?;
    let cache = if tile.width.is_none() {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=5"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The entry's index.
    pub index: u64,
    /// Tree size of the checkpoint to prove against (default: the latest).
    pub tree_size: Option<u64>,
}

/// A Merkle proof: base64 SHA-256 hashes in RFC 6962 order.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub hashes: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub old_size: u64,
    /// Default: the latest checkpoint's size.
    pub new_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub hashes: Vec<String>,
}

fn b64_all(hashes: &[hc_ledger::Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

async fn latest_size(ledger: Arc<Ledger>) -> ApiResult<u64> {
    let note = blocking(move || ledger.checkpoint()).await?;
    let body = note
        .rfind("\n\n")
        .map(|i| &note[..i + 1])
        .ok_or_else(|| ApiError::internal("checkpoint without signatures"))?;
    Ok(hc_ledger::Checkpoint::parse(body)?.size)
}

/// Inclusion proof of an entry in a tree of the given size.
#[utoipa::path(get, path = "/ledger/proof/inclusion", tag = "ledger", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 400, body = crate::openapi::ErrorBody)))]
pub async fn get_inclusion_proof(
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<InclusionProof>> {
    let ledger = ledger(&state)?;
    let tree_size = match q.tree_size {
        Some(s) => s,
        None => latest_size(ledger.clone()).await?,
    };
    let hashes = ledger.inclusion_proof(q.index, tree_size)?;
    Ok(Json(InclusionProof {
        index: q.index,
        tree_size,
        hashes: b64_all(&hashes),
    }))
}

/// Consistency proof between two tree sizes.
#[utoipa::path(get, path = "/ledger/proof/consistency", tag = "ledger", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = crate::openapi::ErrorBody)))]
pub async fn get_consistency_proof(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProof>> {
    let ledger = ledger(&state)?;
    let new_size = match q.new_size {
        Some(s) => s,
        None => latest_size(ledger.clone()).await?,
    };
    let hashes = ledger.consistency_proof(q.old_size, new_size)?;
    Ok(Json(ConsistencyProof {
        old_size: q.old_size,
        new_size,
        hashes: b64_all(&hashes),
    }))
}

/// An offline proof bundle (C2SP tlog-proof) for an entry against the latest
/// checkpoint; the entry itself is in the `extra` line. Verify with
/// `hypercommerce ledger verify --proof FILE --key VKEY`.
#[utoipa::path(get, path = "/ledger/proof/bundle/{index}", tag = "ledger",
    params(("index" = u64, Path, description = "The entry's index")),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn get_proof_bundle(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> ApiResult<Response> {
    let index: u64 = index
        .parse()
        .map_err(|_| ApiError::bad_request("invalid", "index must be a non-negative integer"))?;
    let ledger = ledger(&state)?;
    let bundle = blocking(move || ledger.proof_bundle(index)).await?;
    Ok(text(bundle, "no-cache"))
}
