//! Settlements between merchants (issue #6): what cross-merchant
//! redemptions and agent revenue shares make one merchant owe another,
//! payments recorded against those obligations, and what stays
//! outstanding. Obligations and payments are both entries on the ledger; a
//! payment can never exceed what is outstanding.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_domain::{Money, Role};
use hc_ledger::LoyaltyOp;
use hc_ledger::loyalty::SettlementKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::loyalty::{cents, loyalty, network_out, scoped_key, submit, tenant};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/loyalty/networks/{network}/settlements",
            get(get_settlements),
        )
        .route("/v1/loyalty/settlements", get(list_obligations))
        .route("/v1/loyalty/settlements/payments", post(record_payment))
}

/// A net position between two merchants (what is still outstanding).
#[derive(Debug, Serialize, ToSchema)]
pub struct Position {
    pub counterparty: String,
    pub currency: String,
    /// What the counterparty still owes this merchant.
    #[schema(value_type = f64)]
    pub receivable: Money,
    /// What this merchant still owes the counterparty.
    #[schema(value_type = f64)]
    pub payable: Money,
    /// receivable − payable.
    #[schema(value_type = f64)]
    pub net: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementsOut {
    pub network: String,
    /// The caller's positions against each member it has dealt with.
    pub positions: Vec<Position>,
    /// Obligations between every pair (the operator only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<Obligation>>,
}

/// One obligation: everything `from` has come to owe `to` in a currency
/// (under a network, or as an agent developer's share when none).
#[derive(Debug, Serialize, ToSchema)]
pub struct Obligation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    pub from: String,
    pub to: String,
    pub currency: String,
    /// Gross: every obligation ever recorded.
    #[schema(value_type = f64)]
    pub amount: Money,
    #[schema(value_type = f64)]
    pub paid: Money,
    #[schema(value_type = f64)]
    pub outstanding: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationsOut {
    /// Every obligation the caller owes or is owed.
    pub obligations: Vec<Obligation>,
}

/// A payment received: `from` paid the caller against what it owes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// The paying merchant's tenant id.
    pub from: String,
    /// The network the obligation is under (none: an agent revenue share).
    #[serde(default)]
    pub network: Option<String>,
    pub currency: String,
    #[schema(value_type = f64)]
    pub amount: Money,
    /// The payment's reference (bank transfer or payout id), 1–100 characters.
    pub reference: String,
    pub idempotency_key: String,
}

fn money(cents: u64) -> Money {
    Money::from_cents(cents.min(i64::MAX as u64) as i64)
}

/// Every obligation matching `keep`, with what was paid against it.
fn obligations(
    api: &crate::state::LoyaltyApi,
    keep: impl Fn(&SettlementKey) -> bool,
) -> Vec<Obligation> {
    api.loyalty.read(|s| {
        let paid: BTreeMap<&SettlementKey, u64> = s.paid().collect();
        s.obligations()
            .filter(|(k, _)| keep(k))
            .map(|(k, owed)| {
                let p = paid.get(k).copied().unwrap_or(0);
                Obligation {
                    network: k.network.clone(),
                    from: k.from.clone(),
                    to: k.to.clone(),
                    currency: k.currency.clone(),
                    amount: money(owed),
                    paid: money(p),
                    outstanding: money(owed - p),
                }
            })
            .collect()
    })
}

/// Settlement balances in the network (viewer role of a member or of the
/// operator): cross-merchant redemptions and agent revenue shares paid to
/// the operator, less payments recorded, netted per counterparty.
#[utoipa::path(get, path = "/v1/loyalty/networks/{network}/settlements", tag = "loyalty",
    params(("network" = String, Path)),
    responses((status = 200, body = SettlementsOut), (status = 403, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_settlements(
    State(state): State<AppState>,
    principal: Principal,
    Path(network): Path<String>,
) -> ApiResult<Json<SettlementsOut>> {
    principal.require(Role::Viewer)?;
    let api = loyalty(&state)?;
    let me = tenant(&principal);
    let net = network_out(&api, &network)?;
    let operator = net.operator == me;
    let rows = obligations(&api, |k| k.network.as_deref() == Some(network.as_str()));
    let involved = rows.iter().any(|o| o.from == me || o.to == me);
    if !operator && !net.members.contains(&me) && !involved {
        return Err(ApiError::forbidden(
            "only the network's members and operator see its settlements",
        ));
    }
    let mut pos: BTreeMap<(String, String), (Money, Money)> = BTreeMap::new();
    for o in &rows {
        if o.to == me {
            pos.entry((o.from.clone(), o.currency.clone()))
                .or_default()
                .0 += o.outstanding;
        }
        if o.from == me {
            pos.entry((o.to.clone(), o.currency.clone())).or_default().1 += o.outstanding;
        }
    }
    Ok(Json(SettlementsOut {
        network,
        positions: pos
            .into_iter()
            .map(|((counterparty, currency), (rec, pay))| Position {
                counterparty,
                currency,
                receivable: rec,
                payable: pay,
                net: rec - pay,
            })
            .collect(),
        all: operator.then_some(rows),
    }))
}

/// Everything the caller owes or is owed, in every network and as agent
/// revenue shares, with payments and what is outstanding (viewer role).
#[utoipa::path(get, path = "/v1/loyalty/settlements", tag = "loyalty",
    responses((status = 200, body = ObligationsOut)),
    security(("api_key" = [])))]
pub async fn list_obligations(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<ObligationsOut>> {
    principal.require(Role::Viewer)?;
    let api = loyalty(&state)?;
    let me = tenant(&principal);
    Ok(Json(ObligationsOut {
        obligations: obligations(&api, |k| k.from == me || k.to == me),
    }))
}

/// Records a payment the caller received (admin role): `from` paid this
/// merchant against an obligation. More than is outstanding is 400
/// `invalid_cents` and writes nothing.
#[utoipa::path(post, path = "/v1/loyalty/settlements/payments", tag = "loyalty",
    request_body = PaymentIn,
    responses((status = 200, body = Obligation), (status = 400, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn record_payment(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<PaymentIn>,
) -> ApiResult<Json<Obligation>> {
    principal.require(Role::Admin)?;
    let api = loyalty(&state)?;
    let me = tenant(&principal);
    let idem = scoped_key(&principal, &body.idempotency_key)?;
    let amount = cents(body.amount, "amount")?;
    let key = SettlementKey {
        network: body.network.clone(),
        currency: body.currency.clone(),
        from: body.from.clone(),
        to: me.clone(),
    };
    if api
        .loyalty
        .read(|s| s.obligations().all(|(k, _)| k != &key))
    {
        return Err(ApiError::not_found("obligation"));
    }
    let op = LoyaltyOp::SettlementPaid {
        from: body.from,
        to: me,
        cents: amount,
        currency: body.currency,
        network: body.network,
        reference: body.reference,
    };
    submit(&api, idem, op).await?;
    obligations(&api, |k| k == &key)
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::not_found("obligation"))
}
