//! Loyalty points (issue #6): earn, redeem and transfer for a tenant's
//! customers, recorded on the transparency log under pseudonymous accounts.
//! Writes need the agent role (the agent and checkout apply redemptions),
//! balances the viewer role. The body's `idempotency_key` is scoped to the
//! tenant: resending it returns the original receipt.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_domain::Role;
use hc_ledger::{AccountId, LoyaltyOp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::{AppState, LoyaltyApi};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/loyalty/earn", post(earn_points))
        .route("/v1/loyalty/redeem", post(redeem_points))
        .route("/v1/loyalty/transfer", post(transfer_points))
        .route("/v1/loyalty/balance/{customer_id}", get(get_balance))
}

/// Points for one customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointsIn {
    /// The tenant's customer id (never written to the log: only its pseudonym).
    pub customer_id: String,
    /// 1 to 1,000,000,000.
    pub points: u64,
    /// 1 to 100 characters, unique per operation within the tenant.
    pub idempotency_key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    pub from_customer_id: String,
    pub to_customer_id: String,
    pub points: u64,
    pub idempotency_key: String,
}

/// The outcome of a loyalty write.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoyaltyReceipt {
    /// The (source) account's pseudonym.
    pub account: String,
    /// Its balance after the operation.
    pub balance: u64,
    /// The operation's index in the ledger (verifiable with a proof bundle).
    pub log_index: u64,
    /// True when this idempotency key had already been applied.
    pub replayed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceOut {
    pub account: String,
    pub balance: u64,
}

fn loyalty(state: &AppState) -> ApiResult<Arc<LoyaltyApi>> {
    state.loyalty.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "loyalty is not enabled on this server",
        )
    })
}

fn account(api: &LoyaltyApi, principal: &Principal, customer: &str) -> ApiResult<AccountId> {
    if customer.is_empty() || customer.len() > 128 || customer.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_customer",
            "customer_id must be 1 to 128 characters without control characters",
        ));
    }
    Ok(api
        .pseudonyms
        .account(principal.key.tenant_id.as_str(), customer))
}

fn scoped_key(principal: &Principal, key: &str) -> ApiResult<String> {
    if key.is_empty() || key.len() > 100 {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "idempotency_key must be 1 to 100 characters",
        ));
    }
    Ok(format!("{}/{key}", principal.key.tenant_id))
}

async fn submit(
    api: Arc<LoyaltyApi>,
    idem: String,
    op: LoyaltyOp,
    shown: AccountId,
) -> ApiResult<Json<LoyaltyReceipt>> {
    let receipt = tokio::task::spawn_blocking({
        let api = api.clone();
        move || api.loyalty.submit(&idem, op)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(LoyaltyReceipt {
        balance: api.loyalty.balance(&shown),
        account: shown.as_str().to_string(),
        log_index: receipt.index,
        replayed: receipt.replayed,
    }))
}

/// Mints points into a customer's account (agent role).
#[utoipa::path(post, path = "/v1/loyalty/earn", tag = "loyalty", request_body = PointsIn,
    responses((status = 200, body = LoyaltyReceipt), (status = 400, body = crate::openapi::ErrorBody),
              (status = 409, description = "`idempotency_key_reused`", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn earn_points(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<PointsIn>,
) -> ApiResult<Json<LoyaltyReceipt>> {
    on_one_account(&state, &principal, body, |account, points| {
        LoyaltyOp::Earn { account, points }
    })
    .await
}

/// Burns points from a customer's account, e.g. as a checkout discount
/// (agent role). More than the balance is refused with 422 `insufficient_balance`.
#[utoipa::path(post, path = "/v1/loyalty/redeem", tag = "loyalty", request_body = PointsIn,
    responses((status = 200, body = LoyaltyReceipt), (status = 422, description = "`insufficient_balance`", body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn redeem_points(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<PointsIn>,
) -> ApiResult<Json<LoyaltyReceipt>> {
    on_one_account(&state, &principal, body, |account, points| {
        LoyaltyOp::Redeem { account, points }
    })
    .await
}

/// An earn or a redemption: the customer's account, the tenant-scoped
/// idempotency key, then the operation `op` builds.
async fn on_one_account(
    state: &AppState,
    principal: &Principal,
    body: PointsIn,
    op: impl FnOnce(AccountId, u64) -> LoyaltyOp,
) -> ApiResult<Json<LoyaltyReceipt>> {
    principal.require(Role::Agent)?;
    let api = loyalty(state)?;
    let acct = account(&api, principal, &body.customer_id)?;
    let idem = scoped_key(principal, &body.idempotency_key)?;
    submit(api, idem, op(acct.clone(), body.points), acct).await
}

/// Moves points between two customers of the tenant (agent role).
#[utoipa::path(post, path = "/v1/loyalty/transfer", tag = "loyalty", request_body = TransferIn,
    responses((status = 200, body = LoyaltyReceipt), (status = 422, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn transfer_points(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<TransferIn>,
) -> ApiResult<Json<LoyaltyReceipt>> {
    principal.require(Role::Agent)?;
    let api = loyalty(&state)?;
    let from = account(&api, &principal, &body.from_customer_id)?;
    let to = account(&api, &principal, &body.to_customer_id)?;
    let idem = scoped_key(&principal, &body.idempotency_key)?;
    let op = LoyaltyOp::Transfer {
        from: from.clone(),
        to,
        points: body.points,
    };
    submit(api, idem, op, from).await
}

/// A customer's balance (viewer role).
#[utoipa::path(get, path = "/v1/loyalty/balance/{customer_id}", tag = "loyalty",
    params(("customer_id" = String, Path)),
    responses((status = 200, body = BalanceOut)),
    security(("api_key" = [])))]
pub async fn get_balance(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
) -> ApiResult<Json<BalanceOut>> {
    principal.require(Role::Viewer)?;
    let api = loyalty(&state)?;
    let acct = account(&api, &principal, &customer_id)?;
    Ok(Json(BalanceOut {
        balance: api.loyalty.balance(&acct),
        account: acct.as_str().to_string(),
    }))
}
