//! The loyalty ledger behind the agent and the retail tools: the agent's
//! `loyalty_balance` tool (the customer's points at the conversation's
//! merchant — the customer id on the ledger is the shop's user id — what
//! they are worth, the tier, the next expiry, what may be used on an order),
//! and the wallet that lets `place_order`/`checkout_cart` take points as
//! part payment and gives them back when such an order is cancelled.

use std::sync::Arc;

use async_trait::async_trait;
use hc_domain::{Money, TenantId, ToolError, UserId};
use hc_ledger::LoyaltyOp;
use serde_json::{Value, json};

use crate::state::LoyaltyApi;

/// [`hc_agent::LoyaltyPoints`] over the ledger.
pub struct AgentLoyalty(pub Arc<LoyaltyApi>);

#[async_trait]
impl hc_agent::LoyaltyPoints for AgentLoyalty {
    async fn balance(
        &self,
        tenant: &TenantId,
        user: &UserId,
        order_total: Option<Money>,
    ) -> Result<Value, ToolError> {
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
            let usable = order_total.and_then(|t| {
                let cents = u64::try_from(t.cents()).ok()?;
                let p = program?;
                let n = p.max_points_for_order(cents).ok()?.min(points);
                Some((n, p.discount(n).ok()?))
            });
            json!({
                "usable_points": usable.map(|u| u.0),
                "usable_discount": usable.map(|u| u.1),
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

/// [`hc_commerce::ports::LoyaltyWallet`] over the ledger: points paying
/// part of an order placed at this merchant (by the agent or the tools API).
pub struct LedgerWallet(pub Arc<LoyaltyApi>);

impl LedgerWallet {
    async fn submit(&self, idem: String, op: LoyaltyOp) -> Result<LoyaltyOp, String> {
        let api = self.0.clone();
        tokio::task::spawn_blocking(move || api.loyalty.submit_op(&idem, op))
            .await
            .map_err(|e| e.to_string())?
            .map(|(_, op)| op)
            .map_err(|e| e.to_string())
    }
}

#[async_trait]
impl hc_commerce::ports::LoyaltyWallet for LedgerWallet {
    async fn redeem(
        &self,
        tenant: &TenantId,
        user: &UserId,
        points: u64,
        order_total: Money,
        key: &str,
    ) -> Result<Money, String> {
        let api = &self.0;
        let me = tenant.as_str();
        let total = u64::try_from(order_total.cents()).unwrap_or(0);
        let max = api.loyalty.read(|s| match s.program(me) {
            None => Err("this shop has no loyalty program".to_string()),
            Some(p) => p.max_points_for_order(total).map_err(|e| e.to_string()),
        })?;
        if points > max {
            return Err(format!("at most {max} points can be used on this order"));
        }
        let account = api
            .keys
            .lookup(me, user.as_str(), |a| api.loyalty.read(|s| s.known(a)))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the customer has no loyalty points here".to_string())?;
        let op = LoyaltyOp::Redeem {
            account,
            points,
            merchant: Some(me.to_string()),
            discount_cents: None,
            settlements: Vec::new(),
        };
        match self.submit(format!("{me}/{key}"), op).await? {
            LoyaltyOp::Redeem {
                discount_cents: Some(c),
                ..
            } => Ok(Money::from_cents(c.min(i64::MAX as u64) as i64)),
            _ => Err("the program sets no point value".into()),
        }
    }

    async fn restore(
        &self,
        tenant: &TenantId,
        user: &UserId,
        points: u64,
        key: &str,
    ) -> Result<(), String> {
        let api = &self.0;
        let me = tenant.as_str();
        let account = api
            .keys
            .account(me, user.as_str(), |a| api.loyalty.read(|s| s.known(a)))
            .map_err(|e| e.to_string())?;
        let op = LoyaltyOp::Earn {
            account,
            points,
            merchant: Some(me.to_string()),
            network: None,
            basis: None,
            expires_at: None,
        };
        self.submit(format!("{me}/{key}"), op).await.map(|_| ())
    }
}
