//! Agent reputations measured by the server (issue #6): each merchant that
//! deploys a registered agent (an `agent_deploy` entry) has its
//! conversations counted, and every `ledger.reputation_every_secs` each
//! deployed agent gets one `agent_reputation` entry for the period since
//! its last one: conversations, resolved by the AI without a human, and the
//! customers' ratings. The merchant's own data is all that leaves the
//! store, as sums.

use std::collections::BTreeMap;
use std::time::Duration;

use hc_domain::TenantId;
use hc_ledger::LoyaltyOp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::loyalty::{loyalty, submit};
use crate::error::ApiResult;
use crate::state::AppState;

/// One reported period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Measured {
    pub agent_id: String,
    /// The merchants whose conversations were counted.
    pub merchants: Vec<String>,
    pub period_start: u64,
    pub period_end: u64,
    pub conversations: u64,
    pub resolved: u64,
    /// None when nobody rated a conversation.
    pub satisfaction_permille: Option<u32>,
    /// The agent's reputation after this period.
    pub reputation_permille: u32,
}

/// A 1–5 rating average as 0–1000.
fn satisfaction(sum: i64, n: i64) -> Option<u32> {
    (n > 0).then(|| {
        let avg = sum as f64 / n as f64;
        (((avg - 1.0) / 4.0).clamp(0.0, 1.0) * 1000.0).round() as u32
    })
}

/// Measures every deployed agent's outcomes since its last reported period
/// (or its deployment) up to now and writes one reputation entry per agent
/// that served at least one conversation. Returns what was written.
pub async fn measure(state: &AppState) -> ApiResult<Vec<Measured>> {
    let api = loyalty(state)?;
    let now = api.loyalty.now();
    // agent → (last period end, [(merchant, deployed since)]).
    let plan: BTreeMap<String, (u64, Vec<(String, u64)>)> = api.loyalty.read(|s| {
        let mut plan: BTreeMap<String, (u64, Vec<(String, u64)>)> = BTreeMap::new();
        for (merchant, agent, since) in s.deployments() {
            let last = s.agent(agent).map_or(0, |r| r.last_period_end);
            plan.entry(agent.to_string())
                .or_insert_with(|| (last, Vec::new()))
                .1
                .push((merchant.to_string(), since));
        }
        plan
    });
    let mut written = Vec::new();
    for (agent, (last_end, merchants)) in plan {
        let mut totals = hc_store::Outcomes::default();
        let mut counted = Vec::new();
        let mut period_start = u64::MAX;
        for (merchant, since) in merchants {
            let start = last_end.max(since);
            let Ok(tenant) = TenantId::parse(&merchant) else {
                continue;
            };
            if start >= now || !matches!(state.platform.tenant(&tenant).await, Ok(Some(_))) {
                continue; // not served here
            }
            crate::dashboard::fresh_rollup(state, &tenant).await?;
            let o = state
                .platform
                .outcomes(&tenant, (start * 1000) as i64, (now * 1000) as i64)
                .await?;
            period_start = period_start.min(start);
            totals.conversations += o.conversations;
            totals.resolved_by_ai += o.resolved_by_ai;
            totals.rating_sum += o.rating_sum;
            totals.rating_n += o.rating_n;
            counted.push(merchant);
        }
        if totals.conversations == 0 {
            continue;
        }
        let op = LoyaltyOp::AgentReputation {
            agent: agent.clone(),
            period_start,
            period_end: now,
            conversations: totals.conversations as u64,
            resolved: totals.resolved_by_ai as u64,
            satisfaction_permille: satisfaction(totals.rating_sum, totals.rating_n),
            reputation_permille: 0,
        };
        let (_, op) = submit(&api, format!("measured/{agent}/{now}"), op).await?;
        if let LoyaltyOp::AgentReputation {
            conversations,
            resolved,
            satisfaction_permille,
            reputation_permille,
            ..
        } = op
        {
            written.push(Measured {
                agent_id: agent,
                merchants: counted,
                period_start,
                period_end: now,
                conversations,
                resolved,
                satisfaction_permille,
                reputation_permille,
            });
        }
    }
    Ok(written)
}

/// Runs [`measure`] every `secs` seconds.
pub fn spawn(state: AppState, secs: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate: wait a period
        loop {
            tick.tick().await;
            match measure(&state).await {
                Ok(w) if !w.is_empty() => {
                    tracing::info!(agents = w.len(), "agent reputations measured")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "reputation measurement failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::satisfaction;

    #[test]
    fn ratings_map_from_one_to_five_onto_zero_to_a_thousand() {
        assert_eq!(satisfaction(0, 0), None);
        assert_eq!(satisfaction(5, 5), Some(0));
        assert_eq!(satisfaction(25, 5), Some(1000));
        assert_eq!(satisfaction(4 + 5, 2), Some(875));
    }
}
