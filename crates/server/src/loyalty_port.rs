//! The agent's `loyalty_balance` tool over the loyalty ledger: the
//! customer's points at the conversation's merchant (the customer id on the
//! ledger is the shop's user id), what they are worth, the tier and the
//! next expiry.

use std::sync::Arc;

use async_trait::async_trait;
use hc_domain::{TenantId, ToolError, UserId};
use serde_json::{Value, json};

use crate::state::LoyaltyApi;

/// [`hc_agent::LoyaltyPoints`] over the ledger.
pub struct AgentLoyalty(pub Arc<LoyaltyApi>);

#[async_trait]
impl hc_agent::LoyaltyPoints for AgentLoyalty {
    async fn balance(&self, tenant: &TenantId, user: &UserId) -> Result<Value, ToolError> {
        let api = &self.0;
        let me = tenant.as_str();
        let acct = api
            .keys
            .lookup(me, user.as_str(), |a| api.loyalty.read(|s| s.known(a)))
            .map_err(|e| ToolError {
                code: e.code().into(),
                message: "the loyalty ledger is unavailable".into(),
            })?;
        let at = api.loyalty.now();
        Ok(api.loyalty.read(|s| {
            let program = s.program(me);
            let points = acct.as_ref().map_or(0, |a| s.available(a, Some(me), at));
            let worth = program.and_then(|p| p.discount(points).ok());
            json!({
                "points": points,
                "worth": worth,
                "currency": program.map(|p| p.currency.clone()),
                "tier": acct.as_ref().and_then(|a| s.tier(me, a, at)).map(|t| t.0),
                "next_expiry": acct.as_ref().and_then(|a| s.next_expiry(a))
                    .map(|(at, points)| json!({"at": at, "points": points})),
                "program": program.is_some(),
                "max_order_share_pct": program.map(|p| f64::from(p.max_redeem_bp) / 100.0),
            })
        }))
    }
}
