//! Loyalty and agents, read from the ledger: the merchant's program, its
//! members' balances and tiers (top accounts by pseudonym: the log holds no
//! personal data and none is shown), its recent ledger entries, the latest
//! signed checkpoint with its verifier keys and how to verify it, the
//! networks it belongs to and its settlements; the agent registry (agents
//! the tenant owns or deploys) with each agent's reputation over the
//! periods reported on the log. Viewer role; nothing here writes.
//!
//! Everything comes from the loyalty state in memory (a pure function of
//! the log), scanned per page: fine for thousands of accounts and
//! operations, not yet for millions.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use hc_domain::Role;
use hc_ledger::{AccountId, LoyaltyOp};
use serde_json::{Value, json};

use super::charts::BarChart;
use super::{DashResult, PageCtx, Signed, format_money, format_time, render, require};
use crate::error::ApiError;
use crate::state::{AppState, LoyaltyApi};

/// Accounts listed by balance.
const TOP_ACCOUNTS: usize = 20;
/// Ledger entries listed.
const RECENT_ENTRIES: usize = 25;
/// Agents listed, and reporting periods charted per agent.
const MAX_AGENTS: usize = 50;
const MAX_PERIODS: usize = 60;

/// The account's operations on the log (earn, redeem, transfer, expiry,
/// forfeit), oldest first, as `{index, op}`.
pub fn operations_of(api: &LoyaltyApi, acct: &AccountId) -> Vec<Value> {
    let mut ops: Vec<(u64, Value)> = api.loyalty.read(|s| {
        s.applied_ops()
            .filter(|(_, _, op)| touches(op, acct))
            .map(|(_, index, op)| (index, serde_json::to_value(op).unwrap_or(Value::Null)))
            .collect()
    });
    ops.sort_by_key(|(i, _)| *i);
    ops.into_iter()
        .map(|(index, op)| json!({"index": index, "op": op}))
        .collect()
}

fn touches(op: &LoyaltyOp, acct: &AccountId) -> bool {
    match op {
        LoyaltyOp::Earn { account, .. }
        | LoyaltyOp::Redeem { account, .. }
        | LoyaltyOp::Expire { account, .. }
        | LoyaltyOp::Forfeit { account, .. } => account == acct,
        LoyaltyOp::Transfer { from, to, .. } => from == acct || to == acct,
        _ => false,
    }
}

/// A pseudonym shortened for reading (the full one is in the title).
fn short(a: &str) -> String {
    format!("{}…", &a[..a.len().min(12)])
}

/// Unix seconds → `YYYY-MM-DD HH:MM` UTC.
fn at_secs(secs: u64) -> String {
    format_time(secs.min(i64::MAX as u64 / 1000) as i64 * 1000)
}

/// What an operation was, its points and its account, for the entry table.
fn describe(op: &LoyaltyOp) -> (&'static str, String, String) {
    match op {
        LoyaltyOp::Earn {
            account, points, ..
        } => ("earn", points.to_string(), account.as_str().to_string()),
        LoyaltyOp::Redeem {
            account, points, ..
        } => ("redeem", points.to_string(), account.as_str().to_string()),
        LoyaltyOp::Transfer { from, points, .. } => {
            ("transfer", points.to_string(), from.as_str().to_string())
        }
        LoyaltyOp::Expire { account, points } => {
            ("expire", points.to_string(), account.as_str().to_string())
        }
        LoyaltyOp::Forfeit { account, points } => (
            "forfeit (erasure)",
            points.to_string(),
            account.as_str().to_string(),
        ),
        LoyaltyOp::Program { .. } => ("program", String::new(), String::new()),
        LoyaltyOp::NetworkCreate { .. } => ("network created", String::new(), String::new()),
        LoyaltyOp::NetworkAdmit { .. } => ("network admit", String::new(), String::new()),
        LoyaltyOp::NetworkJoin { .. } => ("network join", String::new(), String::new()),
        LoyaltyOp::NetworkLeave { .. } => ("network leave", String::new(), String::new()),
        LoyaltyOp::AgentRegister { .. } => ("agent registered", String::new(), String::new()),
        LoyaltyOp::AgentConfig { .. } => ("agent configuration", String::new(), String::new()),
        LoyaltyOp::AgentReputation { .. } => ("agent reputation", String::new(), String::new()),
        LoyaltyOp::AgentTransfer { .. } => ("agent transfer", String::new(), String::new()),
        LoyaltyOp::RevenueShare { .. } => ("revenue share", String::new(), String::new()),
        LoyaltyOp::AgentSale { .. } => ("agent sale", String::new(), String::new()),
        LoyaltyOp::AgentDeploy { .. } => ("agent deployment", String::new(), String::new()),
        LoyaltyOp::SettlementPaid { .. } => ("settlement paid", String::new(), String::new()),
        LoyaltyOp::Attest { .. } => ("receipt commitment", String::new(), String::new()),
        LoyaltyOp::BalanceCommitment { .. } => ("balance commitment", String::new(), String::new()),
    }
}

pub struct AccountRow {
    pub account: String,
    pub short: String,
    pub balance: u64,
    pub tier: String,
}

pub struct EntryRow {
    pub index: u64,
    pub at: String,
    pub kind: &'static str,
    pub points: String,
    pub account: String,
    pub short: String,
}

pub struct NetworkRow {
    pub name: String,
    pub operator: String,
    pub currency: String,
    pub rate: String,
    pub members: String,
    pub standing: &'static str,
}

pub struct SettlementRow {
    pub network: String,
    pub counterparty: String,
    pub currency: String,
    pub receivable: String,
    pub payable: String,
    pub net: String,
}

#[derive(Default)]
pub struct ProgramView {
    pub currency: String,
    pub earn: String,
    pub redeem: String,
    pub expiry: String,
    pub tiers: Vec<(String, u64)>,
    pub window_days: u32,
}

#[derive(Template)]
#[template(path = "dashboard/loyalty.html")]
struct LoyaltyPage {
    page: PageCtx,
    enabled: bool,
    program: Option<ProgramView>,
    members: usize,
    outstanding: u64,
    tier_counts: Vec<(String, usize)>,
    accounts: Vec<AccountRow>,
    entries: Vec<EntryRow>,
    networks: Vec<NetworkRow>,
    settlements: Vec<SettlementRow>,
    checkpoint: Option<String>,
    keys: Vec<String>,
    origin: String,
}

fn rate(r: &hc_ledger::loyalty::Rate, per: &str) -> String {
    format!("{} points {per} {}", r.points, format_money(r.cents as i64))
}

/// Everything but the checkpoint, read under the loyalty lock.
struct Snapshot {
    program: Option<ProgramView>,
    members: usize,
    outstanding: u64,
    tier_counts: Vec<(String, usize)>,
    accounts: Vec<AccountRow>,
    entries: Vec<(u64, LoyaltyOp)>,
    networks: Vec<NetworkRow>,
    settlements: Vec<SettlementRow>,
}

fn snapshot(api: &LoyaltyApi, me: &str) -> Snapshot {
    let at = api.loyalty.now();
    let prefix = format!("{me}/");
    api.loyalty.read(|s| {
        let program = s.program(me).map(|p| ProgramView {
            currency: p.currency.clone(),
            earn: p
                .earn
                .as_ref()
                .map(|r| rate(r, "for"))
                .unwrap_or_else(|| "no purchase earn rule".into()),
            redeem: p
                .redeem
                .as_ref()
                .map(|r| rate(r, "are worth"))
                .unwrap_or_else(|| "no redemption rule".into()),
            expiry: p
                .expiry_days
                .map(|d| format!("after {d} days"))
                .unwrap_or_else(|| "never".into()),
            tiers: p
                .tiers
                .iter()
                .map(|t| (t.name.clone(), t.threshold))
                .collect(),
            window_days: p.tier_window_days,
        });
        // Accounts with points spendable at this merchant.
        let mut held: Vec<(String, u64, String)> = s
            .accounts()
            .filter_map(|(a, _)| {
                let here = s.available(a, Some(me), at);
                (here > 0).then(|| {
                    let tier = s.tier(me, a, at).map(|t| t.0).unwrap_or_default();
                    (a.as_str().to_string(), here, tier)
                })
            })
            .collect();
        let members = held.len();
        let outstanding = held.iter().map(|h| h.1).sum();
        let mut tiers: BTreeMap<String, usize> = BTreeMap::new();
        for h in &held {
            *tiers
                .entry(if h.2.is_empty() {
                    "no tier".into()
                } else {
                    h.2.clone()
                })
                .or_default() += 1;
        }
        held.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let accounts = held
            .into_iter()
            .take(TOP_ACCOUNTS)
            .map(|(account, balance, tier)| AccountRow {
                short: short(&account),
                account,
                balance,
                tier: if tier.is_empty() { "—".into() } else { tier },
            })
            .collect();
        let mut entries: Vec<(u64, LoyaltyOp)> = s
            .applied_ops()
            .filter(|(idem, _, _)| idem.starts_with(&prefix))
            .map(|(_, i, op)| (i, op.clone()))
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        entries.truncate(RECENT_ENTRIES);
        let networks = s
            .networks()
            .filter_map(|(name, n)| {
                let standing = if n.operator == me {
                    "operator"
                } else if n.members.contains(me) {
                    "member"
                } else if n.admitted.contains(me) {
                    "admitted, not joined"
                } else {
                    return None;
                };
                Some(NetworkRow {
                    name: name.to_string(),
                    operator: n.operator.clone(),
                    currency: n.currency.clone(),
                    rate: rate(&n.rate, "settle at"),
                    members: n.members.iter().cloned().collect::<Vec<_>>().join(", "),
                    standing,
                })
            })
            .collect();
        let mut pos: BTreeMap<(String, String, String), (u64, u64)> = BTreeMap::new();
        // What is still outstanding after recorded payments.
        for (k, _) in s.obligations() {
            let cents = s.outstanding_obligation(k);
            let net = k.network.clone().unwrap_or_else(|| "agent revenue".into());
            if k.to == me {
                pos.entry((net.clone(), k.from.clone(), k.currency.clone()))
                    .or_default()
                    .0 += cents;
            }
            if k.from == me {
                pos.entry((net, k.to.clone(), k.currency.clone()))
                    .or_default()
                    .1 += cents;
            }
        }
        let settlements = pos
            .into_iter()
            .map(|((network, counterparty, currency), (rec, pay))| {
                let (rec, pay) = (
                    rec.min(i64::MAX as u64) as i64,
                    pay.min(i64::MAX as u64) as i64,
                );
                SettlementRow {
                    network,
                    counterparty,
                    currency,
                    receivable: format_money(rec),
                    payable: format_money(pay),
                    net: format_money(rec - pay),
                }
            })
            .collect();
        Snapshot {
            program,
            members,
            outstanding,
            tier_counts: tiers.into_iter().collect(),
            accounts,
            entries,
            networks,
            settlements,
        }
    })
}

/// The time each entry was applied at (read from the log; empty when unreadable).
fn entry_times(ledger: &hc_ledger::Ledger, indexes: &[u64]) -> Vec<String> {
    indexes
        .iter()
        .map(|&i| {
            ledger
                .log()
                .entry(i)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v["at"].as_u64())
                .map(at_secs)
                .unwrap_or_default()
        })
        .collect()
}

/// `/dashboard/loyalty`.
pub async fn loyalty_page(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let me = signed.operator.tenant_id.as_str().to_string();
    let page = PageCtx::new(&signed, "Loyalty", "Loyalty");
    let (checkpoint, keys, origin) = match state.ledger.clone() {
        Some(ledger) => {
            let l = ledger.clone();
            let note = tokio::task::spawn_blocking(move || l.checkpoint())
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::from)?;
            let keys = ledger.verifiers().iter().map(|v| v.to_vkey()).collect();
            (Some(note), keys, ledger.origin().to_string())
        }
        None => (None, Vec::new(), String::new()),
    };
    let Some(api) = state.loyalty.clone() else {
        return render(&LoyaltyPage {
            page,
            enabled: false,
            program: None,
            members: 0,
            outstanding: 0,
            tier_counts: Vec::new(),
            accounts: Vec::new(),
            entries: Vec::new(),
            networks: Vec::new(),
            settlements: Vec::new(),
            checkpoint,
            keys,
            origin,
        });
    };
    let snap = snapshot(&api, &me);
    let indexes: Vec<u64> = snap.entries.iter().map(|e| e.0).collect();
    let times = {
        let ledger = api.loyalty.ledger().clone();
        tokio::task::spawn_blocking(move || entry_times(&ledger, &indexes))
            .await
            .map_err(ApiError::internal)?
    };
    let entries = snap
        .entries
        .iter()
        .zip(times)
        .map(|((index, op), at)| {
            let (kind, points, account) = describe(op);
            EntryRow {
                index: *index,
                at,
                kind,
                points,
                short: if account.is_empty() {
                    String::new()
                } else {
                    short(&account)
                },
                account,
            }
        })
        .collect();
    render(&LoyaltyPage {
        page,
        enabled: true,
        program: snap.program,
        members: snap.members,
        outstanding: snap.outstanding,
        tier_counts: snap.tier_counts,
        accounts: snap.accounts,
        entries,
        networks: snap.networks,
        settlements: snap.settlements,
        checkpoint,
        keys,
        origin,
    })
}

pub struct AgentView {
    pub id: String,
    pub owner: String,
    pub relation: &'static str,
    pub config_hash: String,
    pub registered: String,
    pub reputation: String,
    pub periods: u32,
    pub conversations: u64,
    pub resolved: u64,
    pub sales: String,
    pub share: String,
    pub chart: Option<BarChart>,
}

#[derive(Template)]
#[template(path = "dashboard/agents.html")]
struct AgentsPage {
    page: PageCtx,
    enabled: bool,
    agents: Vec<AgentView>,
}

fn permille(p: u32) -> String {
    format!("{:.1}%", f64::from(p) / 10.0)
}

/// A chart id from an agent id (letters, digits and `-` only).
fn chart_id(i: usize) -> String {
    format!("rep-{i}")
}

/// `/dashboard/agents`: agents this tenant owns or has a revenue share with.
pub async fn agents_page(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let me = signed.operator.tenant_id.as_str().to_string();
    let page = PageCtx::new(&signed, "Agents", "Agents");
    let Some(api) = state.loyalty.clone() else {
        return render(&AgentsPage {
            page,
            enabled: false,
            agents: Vec::new(),
        });
    };
    let agents = api.loyalty.read(|s| {
        let deployed: BTreeMap<String, String> = s
            .shares()
            .filter(|((m, _), _)| m == &me)
            .map(|((_, a), sh)| {
                (
                    a.clone(),
                    format!(
                        "merchant {}%, developer {}%, network {}%",
                        f64::from(sh.merchant_bp) / 100.0,
                        f64::from(sh.developer_bp) / 100.0,
                        f64::from(sh.network_bp) / 100.0
                    ),
                )
            })
            .collect();
        let mut history: BTreeMap<String, Vec<(u64, u64, u32)>> = BTreeMap::new();
        for (_, index, op) in s.applied_ops() {
            if let LoyaltyOp::AgentReputation {
                agent,
                period_end,
                reputation_permille,
                ..
            } = op
            {
                history.entry(agent.clone()).or_default().push((
                    index,
                    *period_end,
                    *reputation_permille,
                ));
            }
        }
        s.agents()
            .filter(|(id, rec)| rec.owner == me || deployed.contains_key(*id))
            .take(MAX_AGENTS)
            .enumerate()
            .map(|(i, (id, rec))| {
                let mut points = history.remove(id).unwrap_or_default();
                points.sort_by_key(|p| p.0);
                let skip = points.len().saturating_sub(MAX_PERIODS);
                let points: Vec<(String, f64)> = points
                    .into_iter()
                    .skip(skip)
                    .map(|(_, end, rep)| (at_secs(end), f64::from(rep) / 10.0))
                    .collect();
                let chart = (!points.is_empty()).then(|| {
                    let title = format!("Reputation of {id} per reported period");
                    let first = &points[0];
                    let last = &points[points.len() - 1];
                    let description = format!(
                        "{title}: {} periods, {:.1}% after the period ending {}, {:.1}% after the one ending {}.",
                        points.len(),
                        first.1,
                        first.0,
                        last.1,
                        last.0
                    );
                    BarChart::new(chart_id(i), title, &points, Some(100.0), |v| {
                        format!("{v:.1}%")
                    })
                    .with_text("Period ending (UTC)", description)
                });
                AgentView {
                    id: id.to_string(),
                    owner: rec.owner.clone(),
                    relation: if rec.owner == me {
                        "owned"
                    } else {
                        "deployed here"
                    },
                    config_hash: rec.config_hash.clone(),
                    registered: at_secs(rec.registered_at),
                    reputation: rec
                        .reputation_permille
                        .map(permille)
                        .unwrap_or_else(|| "no period reported".into()),
                    periods: rec.periods,
                    conversations: rec.conversations,
                    resolved: rec.resolved,
                    sales: rec
                        .sales_cents
                        .iter()
                        .map(|(c, v)| {
                            format!("{} {c}", format_money((*v).min(i64::MAX as u64) as i64))
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    share: deployed.get(id).cloned().unwrap_or_default(),
                    chart,
                }
            })
            .collect()
    });
    render(&AgentsPage {
        page,
        enabled: true,
        agents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_described_without_personal_data() {
        let a = AccountId::parse(&"ab".repeat(32)).unwrap();
        let (kind, points, account) = describe(&LoyaltyOp::earn(a.clone(), 7));
        assert_eq!((kind, points.as_str()), ("earn", "7"));
        assert_eq!(account, a.as_str());
        assert_eq!(short(a.as_str()), "abababababab…");
        assert!(touches(&LoyaltyOp::transfer(a.clone(), a.clone(), 1), &a));
    }
}
