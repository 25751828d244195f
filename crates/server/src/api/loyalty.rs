//! Loyalty (issue #6) on the ledger: the tenant's program (earn rules,
//! expiry, tiers, point value), earn / redeem / transfer / balance, discount
//! quotes for the agent and checkout, customer erasure, and merchant
//! networks with their settlements. The merchant is the caller's tenant.
//! Points writes need the agent role, reads the viewer role, the program and
//! erasure the admin role, networks the owner role. A body's
//! `idempotency_key` is scoped to the tenant: resending it returns the
//! original receipt.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use hc_domain::{Money, Role};
use hc_ledger::loyalty::{EarnBasis, Rate};
use hc_ledger::{AccountId, LoyaltyOp, Program};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Query};
use crate::state::{AppState, LoyaltyApi};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/loyalty/earn", post(earn_points))
        .route("/v1/loyalty/redeem", post(redeem_points))
        .route("/v1/loyalty/transfer", post(transfer_points))
        .route("/v1/loyalty/discount", post(quote_discount))
        .route("/v1/loyalty/balance/{customer_id}", get(get_balance))
        .route("/v1/loyalty/program", get(get_program).put(put_program))
        .route(
            "/v1/loyalty/customers/{customer_id}",
            delete(erase_customer),
        )
        .route("/v1/loyalty/networks", post(create_network))
        .route("/v1/loyalty/networks/{network}", get(get_network))
        .route("/v1/loyalty/networks/{network}/admit", post(admit_merchant))
        .route("/v1/loyalty/networks/{network}/join", post(join_network))
        .route("/v1/loyalty/networks/{network}/leave", post(leave_network))
}

/// An earn: `points` as given (goodwill, manual), or computed by the
/// program from `amount` spent (a purchase) or an `event_type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarnIn {
    /// The tenant's customer id, or with `network` the network's member
    /// number (never written to the log: only its pseudonym).
    pub customer_id: String,
    /// A network the tenant is a member of: the points are redeemable at
    /// its other members.
    #[serde(default)]
    pub network: Option<String>,
    #[serde(default)]
    pub points: Option<u64>,
    /// The amount spent, in the program's currency.
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Money>,
    #[serde(default)]
    pub event_type: Option<String>,
    /// 1 to 100 characters, unique per operation within the tenant.
    pub idempotency_key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemIn {
    pub customer_id: String,
    #[serde(default)]
    pub network: Option<String>,
    /// 1 to 1,000,000,000.
    pub points: u64,
    /// The order's total: refused (`exceeds_order`) when the discount would
    /// pass the program's share of it.
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    pub order_total: Option<Money>,
    pub idempotency_key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    pub from_customer_id: String,
    pub to_customer_id: String,
    #[serde(default)]
    pub network: Option<String>,
    pub points: u64,
    pub idempotency_key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteIn {
    pub customer_id: String,
    #[serde(default)]
    pub network: Option<String>,
    #[schema(value_type = f64)]
    pub order_total: Money,
}

/// The outcome of a loyalty write.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoyaltyReceipt {
    /// The (source) account's pseudonym.
    pub account: String,
    /// Points spendable here after the operation.
    pub balance: u64,
    /// The points the operation moved.
    pub points: u64,
    /// The tier the earn was computed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<String>,
    /// When the earned points expire (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// A redemption's discount at the program's point value.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub discount: Option<Money>,
    /// Points of other network members redeemed (settled between merchants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settled_points: Option<u64>,
    /// The operation's index in the ledger (verifiable with a proof bundle).
    pub log_index: u64,
    /// True when this idempotency key had already been applied.
    pub replayed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Expiry {
    pub at: u64,
    pub points: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceOut {
    /// None when the customer has no account (never earned, or erased).
    pub account: Option<String>,
    /// Points spendable at this merchant now.
    pub balance: u64,
    /// Every point on the account (other merchants' included).
    pub total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Points earned in the program's tier window.
    pub window_points: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_expiry: Option<Expiry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteOut {
    /// Points spendable here.
    pub available_points: u64,
    /// The most points usable on this order.
    pub points: u64,
    #[schema(value_type = f64)]
    pub discount: Money,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScopeQuery {
    /// The customer id is this network's member number.
    pub network: Option<String>,
}

pub(crate) fn loyalty(state: &AppState) -> ApiResult<Arc<LoyaltyApi>> {
    state.loyalty.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "loyalty is not enabled on this server",
        )
    })
}

pub(crate) fn tenant(principal: &Principal) -> String {
    principal.key.tenant_id.as_str().to_string()
}

/// The pseudonym scope: the tenant, or a network it belongs to.
pub(crate) fn scope(
    api: &LoyaltyApi,
    principal: &Principal,
    network: Option<&str>,
) -> ApiResult<String> {
    scope_of(api, &tenant(principal), network)
}

/// The pseudonym scope of tenant `me`: itself, or a network it belongs to.
fn scope_of(api: &LoyaltyApi, me: &str, network: Option<&str>) -> ApiResult<String> {
    let me = me.to_string();
    match network {
        None => Ok(me),
        Some(n) => {
            let member = api
                .loyalty
                .read(|s| s.network(n).map(|net| net.members.contains(&me)));
            match member {
                None => Err(ApiError::not_found("network")),
                Some(false) => Err(ApiError::forbidden(format!(
                    "this tenant is not a member of network {n:?}"
                ))),
                Some(true) => Ok(format!("net:{n}")),
            }
        }
    }
}

pub(crate) fn check_customer(customer: &str) -> ApiResult<()> {
    if customer.is_empty() || customer.len() > 128 || customer.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_customer",
            "customer_id must be 1 to 128 characters without control characters",
        ));
    }
    Ok(())
}

/// The customer's account, its key created on first use.
fn account(api: &LoyaltyApi, scope: &str, customer: &str) -> ApiResult<AccountId> {
    check_customer(customer)?;
    Ok(api
        .keys
        .account(scope, customer, |a| api.loyalty.read(|s| s.known(a)))?)
}

pub(crate) fn scoped_key(principal: &Principal, key: &str) -> ApiResult<String> {
    if key.is_empty() || key.len() > 100 {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "idempotency_key must be 1 to 100 characters",
        ));
    }
    Ok(format!("{}/{key}", principal.key.tenant_id))
}

/// A unique key for an administrative entry (its own checks make repeats
/// harmless).
pub(crate) fn admin_key(principal: &Principal, what: &str) -> String {
    format!(
        "{}/{what}/{:016x}",
        principal.key.tenant_id,
        rand::random::<u64>()
    )
}

/// Submits off the async workers (the write waits for an fsync).
pub(crate) async fn submit(
    api: &Arc<LoyaltyApi>,
    idem: String,
    op: LoyaltyOp,
) -> ApiResult<(hc_ledger::Receipt, LoyaltyOp)> {
    let api = api.clone();
    Ok(
        tokio::task::spawn_blocking(move || api.loyalty.submit_op(&idem, op))
            .await
            .map_err(ApiError::internal)??,
    )
}

fn receipt(
    api: &LoyaltyApi,
    merchant: &str,
    shown: &AccountId,
    r: hc_ledger::Receipt,
    op: &LoyaltyOp,
) -> LoyaltyReceipt {
    let at = api.loyalty.now();
    let mut out = LoyaltyReceipt {
        account: shown.as_str().to_string(),
        balance: api.loyalty.read(|s| s.available(shown, Some(merchant), at)),
        points: 0,
        tier: None,
        campaigns: Vec::new(),
        expires_at: None,
        discount: None,
        settled_points: None,
        log_index: r.index,
        replayed: r.replayed,
    };
    match op {
        LoyaltyOp::Earn {
            points,
            basis,
            expires_at,
            ..
        } => {
            out.points = *points;
            out.expires_at = *expires_at;
            if let Some(b) = basis {
                out.tier = b.tier.clone();
                out.campaigns = b.campaigns.clone();
            }
        }
        LoyaltyOp::Redeem {
            points,
            discount_cents,
            settlements,
            ..
        } => {
            out.points = *points;
            out.discount = discount_cents.map(|c| Money::from_cents(c as i64));
            let settled: u64 = settlements.iter().map(|s| s.points).sum();
            out.settled_points = (settled > 0).then_some(settled);
        }
        LoyaltyOp::Transfer { points, .. } => out.points = *points,
        _ => {}
    }
    out
}

pub(crate) fn cents(m: Money, what: &'static str) -> ApiResult<u64> {
    u64::try_from(m.cents())
        .ok()
        .filter(|c| *c > 0)
        .ok_or_else(|| ApiError::bad_request("invalid_amount", format!("{what} must be positive")))
}

/// Mints points into a customer's account (agent role): `points` as given,
/// or computed by the tenant's program from `amount` or `event_type` (tier
/// multiplier and active campaigns applied).
#[utoipa::path(post, path = "/v1/loyalty/earn", tag = "loyalty", request_body = EarnIn,
    responses((status = 200, body = LoyaltyReceipt), (status = 400, body = crate::openapi::ErrorBody),
              (status = 409, description = "`idempotency_key_reused`", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn earn_points(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<EarnIn>,
) -> ApiResult<Json<LoyaltyReceipt>> {
    principal.require(Role::Agent)?;
    let api = loyalty(&state)?;
    let me = tenant(&principal);
    let scope = scope(&api, &principal, body.network.as_deref())?;
    let idem = scoped_key(&principal, &body.idempotency_key)?;
    let basis = match (body.points, body.amount, body.event_type) {
        (Some(_), None, None) => None,
        (None, amount, event_type) if amount.is_some() || event_type.is_some() => Some(EarnBasis {
            amount_cents: amount.map(|a| cents(a, "amount")).transpose()?,
            event_type,
            ..EarnBasis::default()
        }),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_earn",
                "give either points, or an amount and/or an event_type",
            ));
        }
    };
    let acct = account(&api, &scope, &body.customer_id)?;
    let op = LoyaltyOp::Earn {
        account: acct.clone(),
        points: body.points.unwrap_or(0),
        merchant: Some(me.clone()),
        network: body.network,
        basis,
        expires_at: None,
    };
    let (r, op) = submit(&api, idem, op).await?;
    Ok(Json(receipt(&api, &me, &acct, r, &op)))
}

/// Burns points as a discount at this merchant (agent role): oldest
/// spendable points first, other network members' points settled at the
/// network's rate. More than the spendable balance is 422
/// `insufficient_balance`; a discount above the program's share of
/// `order_total` is 400 `exceeds_order`.
#[utoipa::path(post, path = "/v1/loyalty/redeem", tag = "loyalty", request_body = RedeemIn,
    responses((status = 200, body = LoyaltyReceipt), (status = 422, description = "`insufficient_balance`", body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn redeem_points(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<RedeemIn>,
) -> ApiResult<Json<LoyaltyReceipt>> {
    principal.require(Role::Agent)?;
    let api = loyalty(&state)?;
    let me = tenant(&principal);
    let scope = scope(&api, &principal, body.network.as_deref())?;
    let idem = scoped_key(&principal, &body.idempotency_key)?;
    if let Some(total) = body.order_total {
        let total = cents(total, "order_total")?;
        let max = api.loyalty.read(|s| {
            s.program(&me)
                .map(|p| p.max_points_for_order(total))
                .transpose()
        })?;
        if let Some(max) = max
            && body.points > max
        {
            return Err(ApiError::bad_request(
                "exceeds_order",
                format!("at most {max} points can be used on this order"),
            ));
        }
    }
    let acct = account(&api, &scope, &body.customer_id)?;
    let op = LoyaltyOp::Redeem {
        account: acct.clone(),
        points: body.points,
        merchant: Some(me.clone()),
        discount_cents: None,
        settlements: Vec::new(),
    };
    let (r, op) = submit(&api, idem, op).await?;
    Ok(Json(receipt(&api, &me, &acct, r, &op)))
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
    let me = tenant(&principal);
    let scope = scope(&api, &principal, body.network.as_deref())?;
    let idem = scoped_key(&principal, &body.idempotency_key)?;
    let from = account(&api, &scope, &body.from_customer_id)?;
    let to = account(&api, &scope, &body.to_customer_id)?;
    let op = LoyaltyOp::transfer(from.clone(), to, body.points);
    let (r, op) = submit(&api, idem, op).await?;
    Ok(Json(receipt(&api, &me, &from, r, &op)))
}

/// What a customer's points are worth on an order (viewer role; writes
/// nothing): the most points usable under the program's cap, and their
/// discount.
#[utoipa::path(post, path = "/v1/loyalty/discount", tag = "loyalty", request_body = QuoteIn,
    responses((status = 200, body = QuoteOut), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn quote_discount(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<QuoteIn>,
) -> ApiResult<Json<QuoteOut>> {
    principal.require(Role::Viewer)?;
    let api = loyalty(&state)?;
    let me = tenant(&principal);
    let scope = scope(&api, &principal, body.network.as_deref())?;
    check_customer(&body.customer_id)?;
    let total = cents(body.order_total, "order_total")?;
    let acct = api.keys.lookup(&scope, &body.customer_id, |a| {
        api.loyalty.read(|s| s.known(a))
    })?;
    let at = api.loyalty.now();
    let quote = api.loyalty.read(|s| -> hc_ledger::Result<QuoteOut> {
        let p = s
            .program(&me)
            .ok_or_else(|| hc_ledger::Error::NotFound("this merchant's loyalty program".into()))?;
        let available = acct.as_ref().map_or(0, |a| s.available(a, Some(&me), at));
        let points = available.min(p.max_points_for_order(total)?);
        Ok(QuoteOut {
            available_points: available,
            points,
            discount: p.discount(points)?,
        })
    })?;
    Ok(Json(quote))
}

/// A customer's balance here, tier and next expiry (viewer role).
#[utoipa::path(get, path = "/v1/loyalty/balance/{customer_id}", tag = "loyalty",
    params(("customer_id" = String, Path), ScopeQuery),
    responses((status = 200, body = BalanceOut)),
    security(("api_key" = [])))]
pub async fn get_balance(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Json<BalanceOut>> {
    principal.require(Role::Viewer)?;
    let api = loyalty(&state)?;
    let scope = scope(&api, &principal, q.network.as_deref())?;
    Ok(Json(balance(
        &api,
        &tenant(&principal),
        &scope,
        &customer_id,
    )?))
}

/// `customer_id`'s balance at merchant `me` (pseudonym scope `scope`), its
/// tier and next expiry; all zero when the customer has no account.
pub(crate) fn balance(
    api: &LoyaltyApi,
    me: &str,
    scope: &str,
    customer_id: &str,
) -> ApiResult<BalanceOut> {
    check_customer(customer_id)?;
    let acct = api
        .keys
        .lookup(scope, customer_id, |a| api.loyalty.read(|s| s.known(a)))?;
    let at = api.loyalty.now();
    let Some(acct) = acct else {
        return Ok(BalanceOut {
            account: None,
            balance: 0,
            total: 0,
            tier: None,
            window_points: 0,
            next_expiry: None,
        });
    };
    Ok(api.loyalty.read(|s| {
        let window = s
            .program(me)
            .map_or(0, |p| s.window_points(&acct, p.tier_window_days, at));
        BalanceOut {
            balance: s.available(&acct, Some(me), at),
            total: s.balance(&acct),
            tier: s.tier(me, &acct, at).map(|t| t.0),
            window_points: window,
            next_expiry: s
                .next_expiry(&acct)
                .map(|(at, points)| Expiry { at, points }),
            account: Some(acct.as_str().to_string()),
        }
    }))
}

/// The tenant's loyalty program (viewer role).
#[utoipa::path(get, path = "/v1/loyalty/program", tag = "loyalty",
    responses((status = 200, body = Object), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_program(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Program>> {
    principal.require(Role::Viewer)?;
    let api = loyalty(&state)?;
    let me = tenant(&principal);
    api.loyalty
        .read(|s| s.program(&me).cloned())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("loyalty program"))
}

/// Publishes the tenant's program on the log (admin role); it applies to
/// earns and redemptions from then on.
#[utoipa::path(put, path = "/v1/loyalty/program", tag = "loyalty", request_body = Object,
    responses((status = 200, body = Object), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn put_program(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(program): JsonBody<Program>,
) -> ApiResult<Json<Program>> {
    principal.require(Role::Admin)?;
    let api = loyalty(&state)?;
    let op = LoyaltyOp::Program {
        merchant: tenant(&principal),
        program: program.clone(),
    };
    submit(&api, admin_key(&principal, "program"), op).await?;
    Ok(Json(program))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureOut {
    /// Whether the customer had an account.
    pub erased: bool,
    /// Points forfeited (burned on the log) with the account.
    pub forfeited_points: u64,
    /// True for an account made before per-customer keys: the global key
    /// still derives it.
    pub legacy: bool,
}

/// GDPR erasure (admin role): forfeits the customer's balance on the log,
/// then deletes their pseudonym key, so the log (unchanged, still
/// verifiable) can no longer be linked to them.
#[utoipa::path(delete, path = "/v1/loyalty/customers/{customer_id}", tag = "loyalty",
    params(("customer_id" = String, Path), ScopeQuery),
    responses((status = 200, body = ErasureOut)),
    security(("api_key" = [])))]
pub async fn erase_customer(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult<Json<ErasureOut>> {
    principal.require(Role::Admin)?;
    Ok(Json(
        erase(
            &state,
            &principal.key.tenant_id,
            customer_id,
            q.network.as_deref(),
        )
        .await?,
    ))
}

/// Erases tenant `t`'s customer from loyalty (or, with `network`, the
/// network member number): forfeits the balance on the log, then deletes
/// the pseudonym key (crypto-shredding). Nothing to do without an account.
pub(crate) async fn erase(
    state: &AppState,
    t: &hc_domain::TenantId,
    customer_id: String,
    network: Option<&str>,
) -> ApiResult<ErasureOut> {
    let api = loyalty(state)?;
    let scope = scope_of(&api, t.as_str(), network)?;
    check_customer(&customer_id)?;
    let known = |a: &AccountId| api.loyalty.read(|s| s.known(a));
    let Some(acct) = api.keys.lookup(&scope, &customer_id, known)? else {
        return Ok(ErasureOut {
            erased: false,
            forfeited_points: 0,
            legacy: false,
        });
    };
    let balance = api.loyalty.balance(&acct);
    if balance > 0 {
        let op = LoyaltyOp::Forfeit {
            account: acct.clone(),
            points: balance,
        };
        let idem = format!("{t}/erase/{:016x}", rand::random::<u64>());
        submit(&api, idem, op).await?;
    }
    let erasure = {
        let api = api.clone();
        tokio::task::spawn_blocking(move || {
            api.keys
                .erase(&scope, &customer_id, |a| api.loyalty.read(|s| s.known(a)))
        })
        .await
        .map_err(ApiError::internal)??
    };
    Ok(ErasureOut {
        erased: erasure.account.is_some(),
        forfeited_points: balance,
        legacy: erasure.legacy,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkIn {
    /// 1 to 64 letters, digits, '-', '_' or '.'.
    pub network: String,
    pub currency: String,
    /// What a point redeemed at another member settles at: `points` points
    /// for `cents` cents.
    #[schema(value_type = Object)]
    pub rate: Rate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantIn {
    /// The merchant's tenant id.
    pub merchant: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkOut {
    pub network: String,
    pub operator: String,
    pub currency: String,
    #[schema(value_type = Object)]
    pub rate: Rate,
    pub members: Vec<String>,
    pub admitted: Vec<String>,
}

pub(crate) fn network_out(api: &LoyaltyApi, network: &str) -> ApiResult<NetworkOut> {
    api.loyalty
        .read(|s| {
            s.network(network).map(|n| NetworkOut {
                network: network.to_string(),
                operator: n.operator.clone(),
                currency: n.currency.clone(),
                rate: n.rate,
                members: n.members.iter().cloned().collect(),
                admitted: n.admitted.iter().cloned().collect(),
            })
        })
        .ok_or_else(|| ApiError::not_found("network"))
}

/// Creates a merchant network operated by the tenant (owner role). The
/// operator admits members; members join.
#[utoipa::path(post, path = "/v1/loyalty/networks", tag = "loyalty", request_body = NetworkIn,
    responses((status = 200, body = NetworkOut), (status = 409, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_network(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<NetworkIn>,
) -> ApiResult<Json<NetworkOut>> {
    principal.require(Role::Owner)?;
    let api = loyalty(&state)?;
    let op = LoyaltyOp::NetworkCreate {
        network: body.network.clone(),
        operator: tenant(&principal),
        currency: body.currency,
        rate: body.rate,
    };
    submit(&api, admin_key(&principal, "network"), op).await?;
    Ok(Json(network_out(&api, &body.network)?))
}

/// A network's operator, rate and members (viewer role).
#[utoipa::path(get, path = "/v1/loyalty/networks/{network}", tag = "loyalty",
    params(("network" = String, Path)),
    responses((status = 200, body = NetworkOut), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_network(
    State(state): State<AppState>,
    principal: Principal,
    Path(network): Path<String>,
) -> ApiResult<Json<NetworkOut>> {
    principal.require(Role::Viewer)?;
    let api = loyalty(&state)?;
    Ok(Json(network_out(&api, &network)?))
}

/// Admits a merchant (owner role of the network's operator).
#[utoipa::path(post, path = "/v1/loyalty/networks/{network}/admit", tag = "loyalty",
    params(("network" = String, Path)), request_body = MerchantIn,
    responses((status = 200, body = NetworkOut), (status = 403, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn admit_merchant(
    State(state): State<AppState>,
    principal: Principal,
    Path(network): Path<String>,
    JsonBody(body): JsonBody<MerchantIn>,
) -> ApiResult<Json<NetworkOut>> {
    principal.require(Role::Owner)?;
    let api = loyalty(&state)?;
    if network_out(&api, &network)?.operator != tenant(&principal) {
        return Err(ApiError::forbidden(
            "only the network's operator admits merchants",
        ));
    }
    let op = LoyaltyOp::NetworkAdmit {
        network: network.clone(),
        merchant: body.merchant,
    };
    submit(&api, admin_key(&principal, "admit"), op).await?;
    Ok(Json(network_out(&api, &network)?))
}

async fn membership(
    state: &AppState,
    principal: &Principal,
    network: String,
    join: bool,
) -> ApiResult<Json<NetworkOut>> {
    principal.require(Role::Owner)?;
    let api = loyalty(state)?;
    let merchant = tenant(principal);
    let op = if join {
        LoyaltyOp::NetworkJoin {
            network: network.clone(),
            merchant,
        }
    } else {
        LoyaltyOp::NetworkLeave {
            network: network.clone(),
            merchant,
        }
    };
    submit(&api, admin_key(principal, "membership"), op).await?;
    Ok(Json(network_out(&api, &network)?))
}

/// Joins a network the tenant was admitted to (owner role).
#[utoipa::path(post, path = "/v1/loyalty/networks/{network}/join", tag = "loyalty",
    params(("network" = String, Path)),
    responses((status = 200, body = NetworkOut), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn join_network(
    State(state): State<AppState>,
    principal: Principal,
    Path(network): Path<String>,
) -> ApiResult<Json<NetworkOut>> {
    membership(&state, &principal, network, true).await
}

/// Leaves a network (owner role): its points stop being spendable at the
/// other members, and theirs here.
#[utoipa::path(post, path = "/v1/loyalty/networks/{network}/leave", tag = "loyalty",
    params(("network" = String, Path)),
    responses((status = 200, body = NetworkOut), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn leave_network(
    State(state): State<AppState>,
    principal: Principal,
    Path(network): Path<String>,
) -> ApiResult<Json<NetworkOut>> {
    membership(&state, &principal, network, false).await
}
