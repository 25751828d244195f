//! A customer's loyalty history and the proofs that reveal no identity
//! (issue #6): a receipt for one of their entries (a salted commitment on
//! the log, verifiable by anyone with the fact, the salt and the proof
//! bundle), and a proof that their balance is at least a threshold
//! (a Pedersen commitment on the log and a Bulletproofs range proof). Both
//! verify offline with `hypercommerce ledger verify --receipt` /
//! `--threshold-proof` and the log's public key.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_domain::Role;
use hc_ledger::loyalty::HistoryEntry;
use hc_ledger::{AccountId, FactReceipt, ThresholdProof};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::loyalty::{check_customer, loyalty, scope};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Query};
use crate::state::{AppState, LoyaltyApi};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/loyalty/customers/{customer_id}/history",
            get(get_history),
        )
        .route(
            "/v1/loyalty/customers/{customer_id}/receipts",
            post(create_receipt),
        )
        .route(
            "/v1/loyalty/customers/{customer_id}/threshold-proofs",
            post(create_threshold_proof),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub network: Option<String>,
    /// Entries to skip, newest first (default 0).
    pub offset: Option<usize>,
    /// 1 to 200 (default 50).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub account: String,
    /// Newest first: `{index, fact: {op, points, merchant?, at, ...}}`.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<HistoryEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptIn {
    /// The log index of one of the customer's entries (`log_index` of a
    /// write, or an index from the history).
    pub index: u64,
    #[serde(default)]
    pub network: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdIn {
    /// Points the balance is shown to reach (0 to 10^18).
    pub threshold: u64,
    #[serde(default)]
    pub network: Option<String>,
}

/// The customer's existing account (404 when they have none).
fn existing_account(
    api: &LoyaltyApi,
    principal: &Principal,
    network: Option<&str>,
    customer: &str,
) -> ApiResult<AccountId> {
    let scope = scope(api, principal, network)?;
    check_customer(customer)?;
    api.keys
        .lookup(&scope, customer, |a| api.loyalty.read(|s| s.known(a)))?
        .ok_or_else(|| ApiError::not_found("loyalty account"))
}

/// The customer's loyalty entries, newest first (viewer role).
#[utoipa::path(get, path = "/v1/loyalty/customers/{customer_id}/history", tag = "loyalty",
    params(("customer_id" = String, Path), HistoryQuery),
    responses((status = 200, body = HistoryOut), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<HistoryOut>> {
    principal.require(Role::Viewer)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1 to 200",
        ));
    }
    let api = loyalty(&state)?;
    let acct = existing_account(&api, &principal, q.network.as_deref(), &customer_id)?;
    let offset = q.offset.unwrap_or(0);
    let entries = {
        let (api, acct) = (api.clone(), acct.clone());
        tokio::task::spawn_blocking(move || api.loyalty.history(&acct, offset, limit))
            .await
            .map_err(ApiError::internal)??
    };
    Ok(Json(HistoryOut {
        account: acct.as_str().to_string(),
        entries,
    }))
}

/// A receipt for one of the customer's entries (agent role). The log gets a
/// new `attest` entry holding only a salted commitment; the answer is the
/// receipt file `{format, fact, salt, proof}` to hand to the customer.
#[utoipa::path(post, path = "/v1/loyalty/customers/{customer_id}/receipts", tag = "loyalty",
    params(("customer_id" = String, Path)), request_body = ReceiptIn,
    responses((status = 200, description = "`hc-loyalty-receipt/1`: `{format, fact, salt, proof}`", body = serde_json::Value),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_receipt(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
    JsonBody(body): JsonBody<ReceiptIn>,
) -> ApiResult<Json<FactReceipt>> {
    principal.require(Role::Agent)?;
    let api = loyalty(&state)?;
    let acct = existing_account(&api, &principal, body.network.as_deref(), &customer_id)?;
    let receipt = tokio::task::spawn_blocking(move || api.loyalty.receipt(&acct, body.index))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(receipt))
}

/// A proof that the customer's spendable balance is at least `threshold`
/// (agent role), revealing neither the balance nor the customer. A balance
/// below the threshold is 422 `insufficient_balance` and writes nothing.
#[utoipa::path(post, path = "/v1/loyalty/customers/{customer_id}/threshold-proofs", tag = "loyalty",
    params(("customer_id" = String, Path)), request_body = ThresholdIn,
    responses((status = 200, description = "`hc-loyalty-threshold/1`: `{format, threshold, commitment, range_proof, proof}`", body = serde_json::Value),
              (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, description = "`insufficient_balance`", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_threshold_proof(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
    JsonBody(body): JsonBody<ThresholdIn>,
) -> ApiResult<Json<ThresholdProof>> {
    principal.require(Role::Agent)?;
    if body.threshold > 1_000_000_000_000_000_000 {
        return Err(ApiError::bad_request(
            "invalid_threshold",
            "threshold must be 0 to 10^18",
        ));
    }
    let api = loyalty(&state)?;
    let acct = existing_account(&api, &principal, body.network.as_deref(), &customer_id)?;
    let proof = tokio::task::spawn_blocking(move || {
        api.loyalty
            .prove_balance_at_least(&api.proofs, &acct, body.threshold)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(proof))
}
