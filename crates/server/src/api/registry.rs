//! The agent registry on the ledger (issue #6): AI agent instances with
//! their owner (the developer's tenant) and a SHA-256 of their configuration
//! (persona, policy, model), reputations from measured outcomes reported per
//! period, ownership transfer, and revenue-share rules that turn sales
//! attributed to an agent into settlement entries. The registry is a shared
//! record: any tenant's viewer reads an agent; only its owner changes it.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use hc_domain::{Money, Role};
use hc_ledger::LoyaltyOp;
use hc_ledger::loyalty::AgentRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::api::loyalty::{admin_key, loyalty, scoped_key, submit, tenant};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/registry/agents", post(register_agent))
        .route("/v1/registry/agents/{agent}", get(get_agent))
        .route("/v1/registry/agents/{agent}/config", put(put_agent_config))
        .route(
            "/v1/registry/agents/{agent}/reputation",
            post(report_outcomes),
        )
        .route("/v1/registry/agents/{agent}/transfer", post(transfer_agent))
        .route(
            "/v1/registry/agents/{agent}/revenue-share",
            put(put_revenue_share),
        )
        .route("/v1/registry/agents/{agent}/sales", post(record_sale))
        .route(
            "/v1/registry/deployment",
            get(get_deployment).put(put_deployment),
        )
        .route("/v1/registry/measure", post(measure_now))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentIn {
    /// The registered agent that serves this merchant's conversations
    /// (null: none).
    pub agent_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentOut {
    pub merchant: String,
    pub agent_id: Option<String>,
    /// Unix seconds the deployment was recorded at.
    pub since: Option<u64>,
}

fn deployment_out(state: &AppState, merchant: String) -> ApiResult<DeploymentOut> {
    let d = loyalty(state)?.loyalty.read(|s| {
        s.deployment(&merchant)
            .map(|(a, since)| (a.to_string(), since))
    });
    Ok(DeploymentOut {
        merchant,
        agent_id: d.as_ref().map(|(a, _)| a.clone()),
        since: d.map(|(_, since)| since),
    })
}

/// Which registered agent serves this merchant's conversations (viewer role).
#[utoipa::path(get, path = "/v1/registry/deployment", tag = "registry",
    responses((status = 200, body = DeploymentOut)),
    security(("api_key" = [])))]
pub async fn get_deployment(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<DeploymentOut>> {
    principal.require(Role::Viewer)?;
    Ok(Json(deployment_out(&state, tenant(&principal))?))
}

/// Records on the ledger that a registered agent (any owner's) serves this
/// merchant's conversations from now on (admin role); its measured
/// outcomes here then feed that agent's reputation.
#[utoipa::path(put, path = "/v1/registry/deployment", tag = "registry", request_body = DeploymentIn,
    responses((status = 200, body = DeploymentOut), (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn put_deployment(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<DeploymentIn>,
) -> ApiResult<Json<DeploymentOut>> {
    principal.require(Role::Admin)?;
    let op = LoyaltyOp::AgentDeploy {
        merchant: tenant(&principal),
        agent: body.agent_id,
    };
    submit(&loyalty(&state)?, admin_key(&principal, "deploy"), op).await?;
    Ok(Json(deployment_out(&state, tenant(&principal))?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasuredOut {
    /// One entry per agent that served conversations since its last period.
    pub reported: Vec<crate::reputation::Measured>,
}

/// Measures every deployed agent's outcomes now instead of waiting for the
/// next scheduled run (owner role), and writes their reputation entries.
#[utoipa::path(post, path = "/v1/registry/measure", tag = "registry",
    responses((status = 200, body = MeasuredOut)),
    security(("api_key" = [])))]
pub async fn measure_now(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<MeasuredOut>> {
    principal.require(Role::Owner)?;
    Ok(Json(MeasuredOut {
        reported: crate::reputation::measure(&state).await?,
    }))
}

/// An agent's configuration: only its SHA-256 goes on the log.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentConfigIn {
    #[schema(value_type = Object)]
    pub persona: serde_json::Value,
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
    pub model: String,
}

impl AgentConfigIn {
    /// SHA-256 of the configuration's JSON (serde_json writes object keys
    /// sorted, so equal configurations hash equally).
    fn hash(&self) -> String {
        let canonical = serde_json::to_vec(&serde_json::json!({
            "model": self.model, "persona": self.persona, "policy": self.policy,
        }))
        .expect("JSON values serialise");
        hex::encode(Sha256::digest(&canonical))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterIn {
    /// 1 to 64 letters, digits, '-', '_' or '.'; unique on the ledger.
    pub agent_id: String,
    pub config: AgentConfigIn,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentOut {
    pub agent_id: String,
    pub owner: String,
    pub config_hash: String,
    pub registered_at: u64,
    /// 0–1000, smoothed over the reported periods.
    pub reputation_permille: Option<u32>,
    pub periods: u32,
    pub conversations: u64,
    pub resolved: u64,
    /// Attributed sales per currency.
    #[schema(value_type = Object)]
    pub sales: std::collections::BTreeMap<String, f64>,
}

fn agent_out(state: &AppState, agent: &str) -> ApiResult<AgentOut> {
    let rec: Option<AgentRecord> = loyalty(state)?.loyalty.read(|s| s.agent(agent).cloned());
    let rec = rec.ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(AgentOut {
        agent_id: agent.to_string(),
        owner: rec.owner,
        config_hash: rec.config_hash,
        registered_at: rec.registered_at,
        reputation_permille: rec.reputation_permille,
        periods: rec.periods,
        conversations: rec.conversations,
        resolved: rec.resolved,
        sales: rec
            .sales_cents
            .into_iter()
            .map(|(c, v)| {
                (
                    c,
                    Money::from_cents(v.min(i64::MAX as u64) as i64).to_decimal(),
                )
            })
            .collect(),
    })
}

fn require_owner(state: &AppState, principal: &Principal, agent: &str) -> ApiResult<()> {
    if agent_out(state, agent)?.owner != tenant(principal) {
        return Err(ApiError::forbidden("only the agent's owner can change it"));
    }
    Ok(())
}

/// Registers an agent instance owned by the tenant (admin role).
#[utoipa::path(post, path = "/v1/registry/agents", tag = "registry", request_body = RegisterIn,
    responses((status = 200, body = AgentOut), (status = 409, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn register_agent(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<RegisterIn>,
) -> ApiResult<Json<AgentOut>> {
    principal.require(Role::Admin)?;
    let api = loyalty(&state)?;
    let op = LoyaltyOp::AgentRegister {
        agent: body.agent_id.clone(),
        owner: tenant(&principal),
        config_hash: body.config.hash(),
    };
    submit(&api, admin_key(&principal, "agent"), op).await?;
    Ok(Json(agent_out(&state, &body.agent_id)?))
}

/// An agent's registry record (viewer role of any tenant).
#[utoipa::path(get, path = "/v1/registry/agents/{agent}", tag = "registry",
    params(("agent" = String, Path)),
    responses((status = 200, body = AgentOut), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_agent(
    State(state): State<AppState>,
    principal: Principal,
    Path(agent): Path<String>,
) -> ApiResult<Json<AgentOut>> {
    principal.require(Role::Viewer)?;
    Ok(Json(agent_out(&state, &agent)?))
}

/// Records a new configuration (admin role of the owner).
#[utoipa::path(put, path = "/v1/registry/agents/{agent}/config", tag = "registry",
    params(("agent" = String, Path)), request_body = AgentConfigIn,
    responses((status = 200, body = AgentOut), (status = 403, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn put_agent_config(
    State(state): State<AppState>,
    principal: Principal,
    Path(agent): Path<String>,
    JsonBody(body): JsonBody<AgentConfigIn>,
) -> ApiResult<Json<AgentOut>> {
    principal.require(Role::Admin)?;
    require_owner(&state, &principal, &agent)?;
    let op = LoyaltyOp::AgentConfig {
        agent: agent.clone(),
        config_hash: body.hash(),
    };
    submit(&loyalty(&state)?, admin_key(&principal, "agent-config"), op).await?;
    Ok(Json(agent_out(&state, &agent)?))
}

/// Measured outcomes over one period (unix seconds).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomesIn {
    pub period_start: u64,
    pub period_end: u64,
    pub conversations: u64,
    /// Conversations resolved without a human.
    pub resolved: u64,
    /// Mean satisfaction, 0.0 to 1.0.
    pub satisfaction: f64,
}

/// Reports an agent's measured outcomes for a period after the last one
/// (admin role of the owner). The reputation is derived on the log:
/// 0.6 × resolution rate + 0.4 × satisfaction, smoothed 70/30 with the
/// previous reputation.
#[utoipa::path(post, path = "/v1/registry/agents/{agent}/reputation", tag = "registry",
    params(("agent" = String, Path)), request_body = OutcomesIn,
    responses((status = 200, body = AgentOut), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn report_outcomes(
    State(state): State<AppState>,
    principal: Principal,
    Path(agent): Path<String>,
    JsonBody(body): JsonBody<OutcomesIn>,
) -> ApiResult<Json<AgentOut>> {
    principal.require(Role::Admin)?;
    require_owner(&state, &principal, &agent)?;
    if !(0.0..=1.0).contains(&body.satisfaction) {
        return Err(ApiError::bad_request(
            "invalid_satisfaction",
            "satisfaction must be 0.0 to 1.0",
        ));
    }
    let op = LoyaltyOp::AgentReputation {
        agent: agent.clone(),
        period_start: body.period_start,
        period_end: body.period_end,
        conversations: body.conversations,
        resolved: body.resolved,
        satisfaction_permille: Some((body.satisfaction * 1000.0).round() as u32),
        reputation_permille: 0,
    };
    submit(&loyalty(&state)?, admin_key(&principal, "reputation"), op).await?;
    Ok(Json(agent_out(&state, &agent)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferAgentIn {
    /// The new owner's tenant id.
    pub to_tenant: String,
}

/// Transfers the agent to another tenant (owner role of the owner).
#[utoipa::path(post, path = "/v1/registry/agents/{agent}/transfer", tag = "registry",
    params(("agent" = String, Path)), request_body = TransferAgentIn,
    responses((status = 200, body = AgentOut), (status = 403, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn transfer_agent(
    State(state): State<AppState>,
    principal: Principal,
    Path(agent): Path<String>,
    JsonBody(body): JsonBody<TransferAgentIn>,
) -> ApiResult<Json<AgentOut>> {
    principal.require(Role::Owner)?;
    require_owner(&state, &principal, &agent)?;
    let op = LoyaltyOp::AgentTransfer {
        agent: agent.clone(),
        from: tenant(&principal),
        to: body.to_tenant,
    };
    submit(
        &loyalty(&state)?,
        admin_key(&principal, "agent-transfer"),
        op,
    )
    .await?;
    Ok(Json(agent_out(&state, &agent)?))
}

/// Shares in basis points (10000 = 100%); they must add up to 10000.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareIn {
    pub merchant_bp: u32,
    pub developer_bp: u32,
    #[serde(default)]
    pub network_bp: u32,
    /// The network whose operator gets `network_bp` (the tenant must be a
    /// member).
    #[serde(default)]
    pub network: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareOut {
    pub agent_id: String,
    pub merchant: String,
    pub merchant_bp: u32,
    pub developer_bp: u32,
    pub network_bp: u32,
    pub network: Option<String>,
}

/// Sets the tenant's revenue share for sales its deployment of the agent
/// makes (admin role).
#[utoipa::path(put, path = "/v1/registry/agents/{agent}/revenue-share", tag = "registry",
    params(("agent" = String, Path)), request_body = ShareIn,
    responses((status = 200, body = ShareOut), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn put_revenue_share(
    State(state): State<AppState>,
    principal: Principal,
    Path(agent): Path<String>,
    JsonBody(body): JsonBody<ShareIn>,
) -> ApiResult<Json<ShareOut>> {
    principal.require(Role::Admin)?;
    let merchant = tenant(&principal);
    let op = LoyaltyOp::RevenueShare {
        merchant: merchant.clone(),
        agent: agent.clone(),
        merchant_bp: body.merchant_bp,
        developer_bp: body.developer_bp,
        network_bp: body.network_bp,
        network: body.network.clone(),
    };
    submit(&loyalty(&state)?, admin_key(&principal, "share"), op).await?;
    Ok(Json(ShareOut {
        agent_id: agent,
        merchant,
        merchant_bp: body.merchant_bp,
        developer_bp: body.developer_bp,
        network_bp: body.network_bp,
        network: body.network,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleIn {
    /// The order the agent made; one sale per order (the idempotency key).
    pub order_id: String,
    #[schema(value_type = f64)]
    pub amount: Money,
    pub currency: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementOut {
    pub from: String,
    pub to: String,
    #[schema(value_type = f64)]
    pub amount: Money,
    pub currency: String,
    pub network: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SaleOut {
    pub log_index: u64,
    pub replayed: bool,
    pub settlements: Vec<SettlementOut>,
}

/// Records a sale attributed to the agent at this merchant (agent role):
/// the merchant's revenue share becomes settlement entries to the agent's
/// developer and the network's operator.
#[utoipa::path(post, path = "/v1/registry/agents/{agent}/sales", tag = "registry",
    params(("agent" = String, Path)), request_body = SaleIn,
    responses((status = 200, body = SaleOut), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn record_sale(
    State(state): State<AppState>,
    principal: Principal,
    Path(agent): Path<String>,
    JsonBody(body): JsonBody<SaleIn>,
) -> ApiResult<Json<SaleOut>> {
    principal.require(Role::Agent)?;
    let amount = u64::try_from(body.amount.cents())
        .ok()
        .filter(|c| *c > 0)
        .ok_or_else(|| ApiError::bad_request("invalid_amount", "amount must be positive"))?;
    let idem = scoped_key(&principal, &format!("sale/{}", body.order_id))?;
    let op = LoyaltyOp::AgentSale {
        agent,
        merchant: tenant(&principal),
        amount_cents: amount,
        currency: body.currency,
        settlements: Vec::new(),
    };
    let (r, op) = submit(&loyalty(&state)?, idem, op).await?;
    let LoyaltyOp::AgentSale { settlements, .. } = op else {
        return Err(ApiError::internal(
            "a sale was recorded as another operation",
        ));
    };
    Ok(Json(SaleOut {
        log_index: r.index,
        replayed: r.replayed,
        settlements: settlements
            .into_iter()
            .map(|s| SettlementOut {
                from: s.from,
                to: s.to,
                amount: Money::from_cents(s.cents.min(i64::MAX as u64) as i64),
                currency: s.currency,
                network: s.network,
            })
            .collect(),
    }))
}
