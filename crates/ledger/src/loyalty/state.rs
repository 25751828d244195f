//! Everything derived from the log's loyalty entries: balances as FIFO lots
//! (issuer, network, expiry), earn history for tiers, programs, networks,
//! settlement obligations and the agent registry. `complete` fills an
//! operation's derived fields, `check` enforces the invariants, `apply`
//! changes the state; the live service and the replay run the same three.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use super::ops::{LoyaltyOp, Settlement};
use super::program::{DAY, FULL_BP, Program, Rate, check_currency, check_id};
use super::{AccountId, EVENT_PREFIX, Event, MAX_POINTS_PER_OP};
use crate::error::{Error, Result};

/// Largest sale amount attributed to an agent (10^12 cents).
pub const MAX_SALE_CENTS: u64 = 1_000_000_000_000;

/// Points earned together: they are spent and expire together.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lot {
    issuer: Option<String>,
    network: Option<String>,
    expires_at: Option<u64>,
    points: u64,
}

impl Lot {
    fn expired(&self, at: u64) -> bool {
        self.expires_at.is_some_and(|e| e <= at)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Account {
    /// Oldest first.
    lots: VecDeque<Lot>,
    /// `(at, cumulative points earned up to and including at)`, for tiers.
    earned: Vec<(u64, u64)>,
}

impl Account {
    fn balance(&self) -> u64 {
        self.lots.iter().map(|l| l.points).sum()
    }

    fn due(&self, at: u64) -> u64 {
        self.lots
            .iter()
            .filter(|l| l.expired(at))
            .map(|l| l.points)
            .sum()
    }

    /// Points earned in the window `(at - days, at]`.
    fn window(&self, days: u32, at: u64) -> u64 {
        let total = self.earned.last().map_or(0, |e| e.1);
        let start = at.saturating_sub(u64::from(days) * DAY);
        let i = self.earned.partition_point(|e| e.0 <= start);
        let before = if i == 0 { 0 } else { self.earned[i - 1].1 };
        total - before
    }
}

/// A merchant network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    pub operator: String,
    pub currency: String,
    pub rate: Rate,
    pub admitted: BTreeSet<String>,
    pub members: BTreeSet<String>,
}

/// An agent instance in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRecord {
    pub owner: String,
    pub config_hash: String,
    pub registered_at: u64,
    /// 0–1000; none until a first period is reported.
    pub reputation_permille: Option<u32>,
    pub periods: u32,
    pub last_period_end: u64,
    pub conversations: u64,
    pub resolved: u64,
    /// Attributed sales per currency, in cents.
    pub sales_cents: BTreeMap<String, u64>,
}

/// A merchant's revenue-share rule for one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Share {
    pub merchant_bp: u32,
    pub developer_bp: u32,
    pub network_bp: u32,
    pub network: Option<String>,
}

/// Who owes whom, in which currency, under which network (none: an agent
/// developer's share).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SettlementKey {
    pub network: Option<String>,
    pub currency: String,
    pub from: String,
    pub to: String,
}

/// Balances and everything else derived from the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    accounts: BTreeMap<AccountId, Account>,
    applied: HashMap<String, (u64, LoyaltyOp)>,
    minted: u64,
    redeemed: u64,
    expired: u64,
    forfeited: u64,
    /// Time of the latest entry (entries' times never go back).
    last_at: u64,
    programs: BTreeMap<String, Program>,
    networks: BTreeMap<String, Network>,
    obligations: BTreeMap<SettlementKey, u64>,
    /// Payments recorded against `obligations`.
    paid: BTreeMap<SettlementKey, u64>,
    /// Each account's entries (log indices, in order).
    entries: BTreeMap<AccountId, Vec<u64>>,
    agents: BTreeMap<String, AgentRecord>,
    /// Merchant → (the agent serving its conversations, since when).
    deployments: BTreeMap<String, (String, u64)>,
    shares: BTreeMap<(String, String), Share>,
}

fn check_points(points: u64) -> Result<()> {
    if points == 0 || points > MAX_POINTS_PER_OP {
        return Err(Error::invalid(
            "points",
            format!("must be 1..={MAX_POINTS_PER_OP}"),
        ));
    }
    Ok(())
}

fn check_hash(h: &str) -> Result<()> {
    check_hex32("config_hash", h)
}

/// 32 bytes as 64 lowercase hex characters.
fn check_hex32(field: &'static str, h: &str) -> Result<()> {
    if h.len() != 64
        || !h
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Error::invalid(
            field,
            "must be 64 lowercase hex characters (32 bytes)",
        ));
    }
    Ok(())
}

fn mismatch(what: &str) -> Error {
    Error::invalid("entry", format!("its {what} differs from the one derived"))
}

impl Balances {
    /// Every point on the account (including points past expiry that no
    /// entry has expired yet).
    pub fn balance(&self, account: &AccountId) -> u64 {
        self.accounts.get(account).map_or(0, Account::balance)
    }

    /// Points spendable at `merchant` (any merchant when `None`) at `at`:
    /// not expired, and issued there, by a fellow network member, or with
    /// no issuer.
    pub fn available(&self, account: &AccountId, merchant: Option<&str>, at: u64) -> u64 {
        self.accounts.get(account).map_or(0, |a| {
            a.lots
                .iter()
                .filter(|l| !l.expired(at) && self.eligible(l, merchant))
                .map(|l| l.points)
                .sum()
        })
    }

    /// Points of the account past their expiry at `at`.
    pub fn due(&self, account: &AccountId, at: u64) -> u64 {
        self.accounts.get(account).map_or(0, |a| a.due(at))
    }

    /// The earliest expiry among the account's points, with the points.
    pub fn next_expiry(&self, account: &AccountId) -> Option<(u64, u64)> {
        let a = self.accounts.get(account)?;
        let first = a.lots.iter().filter_map(|l| l.expires_at).min()?;
        let points = a
            .lots
            .iter()
            .filter(|l| l.expires_at == Some(first))
            .map(|l| l.points)
            .sum();
        Some((first, points))
    }

    /// Whether the account appears in any entry.
    pub fn known(&self, account: &AccountId) -> bool {
        self.accounts.contains_key(account)
    }

    /// Every account with a non-zero balance.
    pub fn accounts(&self) -> impl Iterator<Item = (&AccountId, u64)> {
        self.accounts
            .iter()
            .map(|(id, a)| (id, a.balance()))
            .filter(|(_, b)| *b > 0)
    }

    /// Accounts holding points past their expiry at `at`, with those points.
    pub fn expiring(&self, at: u64) -> Vec<(AccountId, u64)> {
        self.accounts
            .iter()
            .map(|(id, a)| (id.clone(), a.due(at)))
            .filter(|(_, d)| *d > 0)
            .collect()
    }

    pub fn minted(&self) -> u64 {
        self.minted
    }

    /// Redeemed + expired + forfeited.
    pub fn burned(&self) -> u64 {
        self.redeemed + self.expired + self.forfeited
    }

    pub fn redeemed(&self) -> u64 {
        self.redeemed
    }

    pub fn expired(&self) -> u64 {
        self.expired
    }

    pub fn forfeited(&self) -> u64 {
        self.forfeited
    }

    /// Sum of all balances.
    pub fn outstanding(&self) -> u64 {
        self.accounts.values().map(Account::balance).sum()
    }

    pub fn last_at(&self) -> u64 {
        self.last_at
    }

    pub fn program(&self, merchant: &str) -> Option<&Program> {
        self.programs.get(merchant)
    }

    pub fn network(&self, network: &str) -> Option<&Network> {
        self.networks.get(network)
    }

    pub fn agent(&self, agent: &str) -> Option<&AgentRecord> {
        self.agents.get(agent)
    }

    /// The registered agent serving `merchant`'s conversations, and since
    /// when (unix seconds).
    pub fn deployment(&self, merchant: &str) -> Option<(&str, u64)> {
        self.deployments
            .get(merchant)
            .map(|(a, at)| (a.as_str(), *at))
    }

    /// Every deployment: (merchant, agent, since).
    pub fn deployments(&self) -> impl Iterator<Item = (&str, &str, u64)> {
        self.deployments
            .iter()
            .map(|(m, (a, at))| (m.as_str(), a.as_str(), *at))
    }

    pub fn share(&self, merchant: &str, agent: &str) -> Option<&Share> {
        self.shares.get(&(merchant.to_string(), agent.to_string()))
    }

    /// Gross obligations (never netted on the log).
    pub fn obligations(&self) -> impl Iterator<Item = (&SettlementKey, u64)> {
        self.obligations.iter().map(|(k, v)| (k, *v))
    }

    /// Payments recorded against each obligation.
    pub fn paid(&self) -> impl Iterator<Item = (&SettlementKey, u64)> {
        self.paid.iter().map(|(k, v)| (k, *v))
    }

    /// What is still owed under `key` (obligations minus payments).
    pub fn outstanding_obligation(&self, key: &SettlementKey) -> u64 {
        self.obligations.get(key).copied().unwrap_or(0) - self.paid.get(key).copied().unwrap_or(0)
    }

    /// The operation an idempotency key applied, with its log index.
    pub fn applied(&self, idem: &str) -> Option<&(u64, LoyaltyOp)> {
        self.applied.get(idem)
    }

    /// Every applied operation with its idempotency key and log index, in
    /// no particular order (a scan of everything held in memory).
    pub fn applied_ops(&self) -> impl Iterator<Item = (&str, u64, &LoyaltyOp)> {
        self.applied
            .iter()
            .map(|(idem, (index, op))| (idem.as_str(), *index, op))
    }

    /// Every network by name.
    pub fn networks(&self) -> impl Iterator<Item = (&str, &Network)> {
        self.networks.iter().map(|(n, net)| (n.as_str(), net))
    }

    /// Every registered agent by id.
    pub fn agents(&self) -> impl Iterator<Item = (&str, &AgentRecord)> {
        self.agents.iter().map(|(a, rec)| (a.as_str(), rec))
    }

    /// Every merchant's revenue-share rule: `((merchant, agent), share)`.
    pub fn shares(&self) -> impl Iterator<Item = (&(String, String), &Share)> {
        self.shares.iter()
    }

    /// The account's tier at `merchant`'s program at `at`, with the points
    /// earned in the program's window.
    pub fn tier(&self, merchant: &str, account: &AccountId, at: u64) -> Option<(String, u64)> {
        let p = self.programs.get(merchant)?;
        let window = self
            .accounts
            .get(account)
            .map_or(0, |a| a.window(p.tier_window_days, at));
        p.tier_for(window).map(|t| (t.name.clone(), window))
    }

    /// Points earned into the account within `days` before `at`.
    pub fn window_points(&self, account: &AccountId, days: u32, at: u64) -> u64 {
        self.accounts.get(account).map_or(0, |a| a.window(days, at))
    }

    fn eligible(&self, lot: &Lot, merchant: Option<&str>) -> bool {
        let Some(m) = merchant else { return true };
        match (&lot.issuer, &lot.network) {
            (None, _) => true,
            (Some(i), _) if i == m => true,
            (Some(i), Some(n)) => self
                .networks
                .get(n)
                .is_some_and(|net| net.members.contains(i) && net.members.contains(m)),
            (Some(_), None) => false,
        }
    }

    fn active_member(&self, network: &str, merchant: &str) -> Result<&Network> {
        let net = self
            .networks
            .get(network)
            .ok_or_else(|| Error::NotFound(format!("network {network:?}")))?;
        if !net.members.contains(merchant) {
            return Err(Error::invalid(
                "network",
                format!("merchant {merchant:?} is not a member of network {network:?}"),
            ));
        }
        Ok(net)
    }

    fn agent_rec(&self, agent: &str) -> Result<&AgentRecord> {
        self.agents
            .get(agent)
            .ok_or_else(|| Error::NotFound(format!("agent {agent:?}")))
    }

    /// Fills the derived fields of `op` (given as [`LoyaltyOp::request`])
    /// from the state at time `at`, checking everything the derivation
    /// needs.
    pub fn complete(&self, op: &LoyaltyOp, at: u64) -> Result<LoyaltyOp> {
        let mut op = op.request();
        match &mut op {
            LoyaltyOp::Earn {
                account,
                points,
                merchant,
                network,
                basis,
                expires_at,
            } => {
                if let Some(n) = network {
                    let m = merchant.as_deref().ok_or_else(|| {
                        Error::invalid("earn", "a network earn names its merchant")
                    })?;
                    self.active_member(n, m)?;
                }
                let program = merchant.as_deref().and_then(|m| self.programs.get(m));
                if let Some(b) = basis {
                    let p = program.ok_or_else(|| {
                        Error::invalid("earn", "the merchant has no loyalty program")
                    })?;
                    let window = self
                        .accounts
                        .get(account)
                        .map_or(0, |a| a.window(p.tier_window_days, at));
                    let (pts, done) = p.earn_points(b, window, at)?;
                    *points = pts;
                    *b = done;
                }
                *expires_at = program.and_then(|p| p.expires_at(at));
            }
            LoyaltyOp::Redeem {
                account,
                points,
                merchant,
                discount_cents,
                settlements,
            } => {
                let Some(m) = merchant.as_deref() else {
                    return Ok(op);
                };
                *discount_cents = self
                    .programs
                    .get(m)
                    .and_then(|p| p.redeem)
                    .map(|r| r.cents_for(*points));
                // Which lots the redemption takes, oldest eligible first.
                let mut left = *points;
                let mut by_issuer: BTreeMap<(String, String), u64> = BTreeMap::new();
                if let Some(a) = self.accounts.get(account) {
                    for lot in &a.lots {
                        if left == 0 {
                            break;
                        }
                        if lot.expired(at) || !self.eligible(lot, Some(m)) {
                            continue;
                        }
                        let take = lot.points.min(left);
                        left -= take;
                        if let (Some(i), Some(n)) = (&lot.issuer, &lot.network)
                            && i != m
                        {
                            *by_issuer.entry((n.clone(), i.clone())).or_default() += take;
                        }
                    }
                }
                for ((n, issuer), pts) in by_issuer {
                    let net = &self.networks[&n];
                    settlements.push(Settlement {
                        from: issuer,
                        to: m.to_string(),
                        cents: net.rate.cents_for(pts),
                        currency: net.currency.clone(),
                        points: pts,
                        network: Some(n),
                    });
                }
            }
            LoyaltyOp::AgentReputation {
                agent,
                conversations,
                resolved,
                satisfaction_permille,
                reputation_permille,
                ..
            } => {
                let rec = self.agent_rec(agent)?;
                if *conversations == 0 || *resolved > *conversations {
                    return Err(Error::invalid(
                        "reputation",
                        "conversations must be ≥ 1 and resolved ≤ conversations",
                    ));
                }
                if satisfaction_permille.is_some_and(|s| s > 1000) {
                    return Err(Error::invalid("reputation", "satisfaction is 0..=1000"));
                }
                let resolution = (*resolved * 1000 / *conversations) as u32;
                // Without ratings, the resolution rate alone.
                let score =
                    satisfaction_permille.map_or(resolution, |s| (resolution * 6 + s * 4) / 10);
                *reputation_permille = match rec.reputation_permille {
                    None => score,
                    Some(prev) => (prev * 7 + score * 3) / 10,
                };
            }
            LoyaltyOp::AgentSale {
                agent,
                merchant,
                amount_cents,
                currency,
                settlements,
            } => {
                let rec = self.agent_rec(agent)?;
                let share = self
                    .shares
                    .get(&(merchant.clone(), agent.clone()))
                    .ok_or_else(|| {
                        Error::NotFound(format!(
                            "a revenue share of merchant {merchant:?} for agent {agent:?}"
                        ))
                    })?;
                check_currency(currency)?;
                if *amount_cents == 0 || *amount_cents > MAX_SALE_CENTS {
                    return Err(Error::invalid(
                        "amount",
                        format!("must be 1..={MAX_SALE_CENTS} cents"),
                    ));
                }
                let part = |bp: u32| {
                    (u128::from(*amount_cents) * u128::from(bp) / u128::from(FULL_BP)) as u64
                };
                let dev = part(share.developer_bp);
                if dev > 0 && rec.owner != *merchant {
                    settlements.push(Settlement {
                        from: merchant.clone(),
                        to: rec.owner.clone(),
                        cents: dev,
                        currency: currency.clone(),
                        points: 0,
                        network: None,
                    });
                }
                let net = part(share.network_bp);
                if let Some(n) = &share.network
                    && net > 0
                {
                    let operator = &self.networks[n].operator;
                    if operator != merchant {
                        settlements.push(Settlement {
                            from: merchant.clone(),
                            to: operator.clone(),
                            cents: net,
                            currency: currency.clone(),
                            points: 0,
                            network: Some(n.clone()),
                        });
                    }
                }
            }
            _ => {}
        }
        Ok(op)
    }

    /// Checks a completed operation against the state at `at`: derived
    /// fields as derived, and every invariant (no negative balance, no
    /// overflow, expired points expired before a spend).
    pub fn check(&self, op: &LoyaltyOp, at: u64) -> Result<()> {
        let completed = self.complete(op, at)?;
        if &completed != op {
            return Err(mismatch(
                "derived data (points, tier, expiry, discount or settlements)",
            ));
        }
        if let Some(account) = op.spends_from() {
            let due = self.due(account, at);
            if due > 0 {
                return Err(Error::invalid(
                    "entry",
                    format!("{due} points of the account expired and must be expired first"),
                ));
            }
        }
        let insufficient = |balance: u64, requested: u64| {
            if balance < requested {
                Err(Error::InsufficientBalance { balance, requested })
            } else {
                Ok(())
            }
        };
        match op {
            LoyaltyOp::Earn {
                account,
                points,
                merchant,
                ..
            } => {
                check_points(*points)?;
                if let Some(m) = merchant {
                    check_id("merchant", m)?;
                }
                if self.minted.checked_add(*points).is_none()
                    || self.balance(account).checked_add(*points).is_none()
                {
                    return Err(Error::invalid("points", "total points would overflow"));
                }
                Ok(())
            }
            LoyaltyOp::Redeem {
                account,
                points,
                merchant,
                ..
            } => {
                check_points(*points)?;
                insufficient(self.available(account, merchant.as_deref(), at), *points)
            }
            LoyaltyOp::Transfer { from, to, points } => {
                check_points(*points)?;
                if from == to {
                    return Err(Error::invalid(
                        "transfer",
                        "from and to are the same account",
                    ));
                }
                insufficient(self.balance(from), *points)?;
                if self.balance(to).checked_add(*points).is_none() {
                    return Err(Error::invalid("points", "total points would overflow"));
                }
                Ok(())
            }
            LoyaltyOp::Expire { account, points } => {
                let due = self.due(account, at);
                if *points == 0 || *points != due {
                    return Err(Error::invalid(
                        "expire",
                        format!("{due} points are due to expire, not {points}"),
                    ));
                }
                Ok(())
            }
            LoyaltyOp::Forfeit { account, points } => {
                let balance = self.balance(account);
                if *points == 0 || *points != balance {
                    return Err(Error::invalid(
                        "forfeit",
                        format!("a forfeit takes the whole balance ({balance}), not {points}"),
                    ));
                }
                Ok(())
            }
            LoyaltyOp::Program { merchant, program } => {
                check_id("merchant", merchant)?;
                program.validate()
            }
            LoyaltyOp::NetworkCreate {
                network,
                operator,
                currency,
                rate,
            } => {
                check_id("network", network)?;
                check_id("operator", operator)?;
                check_currency(currency)?;
                Program {
                    currency: currency.clone(),
                    earn: None,
                    events: BTreeMap::new(),
                    campaigns: Vec::new(),
                    expiry_days: None,
                    tier_window_days: 1,
                    tiers: Vec::new(),
                    redeem: Some(*rate),
                    max_redeem_bp: FULL_BP,
                }
                .validate()
                .map_err(|_| Error::invalid("rate", "points and cents must both be 1..=1000000"))?;
                if self.networks.contains_key(network) {
                    return Err(Error::Conflict(format!("network {network:?} exists")));
                }
                Ok(())
            }
            LoyaltyOp::NetworkAdmit { network, merchant } => {
                check_id("merchant", merchant)?;
                let net = self
                    .networks
                    .get(network)
                    .ok_or_else(|| Error::NotFound(format!("network {network:?}")))?;
                if net.admitted.contains(merchant) || net.members.contains(merchant) {
                    return Err(Error::Conflict(format!(
                        "{merchant:?} is already admitted to {network:?}"
                    )));
                }
                Ok(())
            }
            LoyaltyOp::NetworkJoin { network, merchant } => {
                let net = self
                    .networks
                    .get(network)
                    .ok_or_else(|| Error::NotFound(format!("network {network:?}")))?;
                if net.members.contains(merchant) {
                    return Err(Error::Conflict(format!(
                        "{merchant:?} is already a member of {network:?}"
                    )));
                }
                if !net.admitted.contains(merchant) {
                    return Err(Error::invalid(
                        "network",
                        format!("{merchant:?} was not admitted by the network's operator"),
                    ));
                }
                Ok(())
            }
            LoyaltyOp::NetworkLeave { network, merchant } => {
                self.active_member(network, merchant).map(|_| ())
            }
            LoyaltyOp::AgentRegister {
                agent,
                owner,
                config_hash,
            } => {
                check_id("agent", agent)?;
                check_id("owner", owner)?;
                check_hash(config_hash)?;
                if self.agents.contains_key(agent) {
                    return Err(Error::Conflict(format!("agent {agent:?} is registered")));
                }
                Ok(())
            }
            LoyaltyOp::AgentConfig { agent, config_hash } => {
                check_hash(config_hash)?;
                self.agent_rec(agent).map(|_| ())
            }
            LoyaltyOp::AgentReputation {
                agent,
                period_start,
                period_end,
                ..
            } => {
                let rec = self.agent_rec(agent)?;
                if period_end <= period_start || *period_end > at {
                    return Err(Error::invalid(
                        "period",
                        "the period must end after it starts and not in the future",
                    ));
                }
                if *period_start < rec.last_period_end {
                    return Err(Error::invalid(
                        "period",
                        format!(
                            "overlaps the last reported period (ended at {})",
                            rec.last_period_end
                        ),
                    ));
                }
                Ok(())
            }
            LoyaltyOp::AgentTransfer { agent, from, to } => {
                check_id("owner", to)?;
                let rec = self.agent_rec(agent)?;
                if &rec.owner != from {
                    return Err(Error::invalid(
                        "transfer",
                        format!("{from:?} does not own agent {agent:?}"),
                    ));
                }
                if from == to {
                    return Err(Error::invalid(
                        "transfer",
                        "the agent already has this owner",
                    ));
                }
                Ok(())
            }
            LoyaltyOp::AgentDeploy { merchant, agent } => {
                check_id("merchant", merchant)?;
                if let Some(a) = agent {
                    self.agent_rec(a)?;
                }
                if self.deployments.get(merchant).map(|(a, _)| a) == agent.as_ref() {
                    return Err(Error::Conflict(format!(
                        "{merchant:?} already has this deployment"
                    )));
                }
                Ok(())
            }
            LoyaltyOp::RevenueShare {
                merchant,
                agent,
                merchant_bp,
                developer_bp,
                network_bp,
                network,
            } => {
                check_id("merchant", merchant)?;
                self.agent_rec(agent)?;
                let total =
                    u64::from(*merchant_bp) + u64::from(*developer_bp) + u64::from(*network_bp);
                if total != u64::from(FULL_BP) {
                    return Err(Error::invalid(
                        "revenue share",
                        "merchant, developer and network shares must add up to 100%",
                    ));
                }
                match network {
                    Some(n) => {
                        self.active_member(n, merchant)?;
                    }
                    None if *network_bp > 0 => {
                        return Err(Error::invalid(
                            "revenue share",
                            "a network share needs the network",
                        ));
                    }
                    None => {}
                }
                Ok(())
            }
            // Everything an attributed sale needs is checked by `complete`.
            LoyaltyOp::AgentSale { .. } => Ok(()),
            LoyaltyOp::SettlementPaid {
                from,
                to,
                cents,
                currency,
                network,
                reference,
            } => {
                if reference.is_empty()
                    || reference.chars().count() > 100
                    || reference.chars().any(char::is_control)
                {
                    return Err(Error::invalid(
                        "reference",
                        "must be 1 to 100 characters without control characters",
                    ));
                }
                let key = SettlementKey {
                    network: network.clone(),
                    currency: currency.clone(),
                    from: from.clone(),
                    to: to.clone(),
                };
                let owed = self.outstanding_obligation(&key);
                if *cents == 0 || *cents > owed {
                    return Err(Error::invalid(
                        "cents",
                        format!(
                            "must be 1..={owed}: what {from:?} still owes {to:?} in {currency}"
                        ),
                    ));
                }
                Ok(())
            }
            LoyaltyOp::Attest { commitment } => check_hex32("commitment", commitment),
            LoyaltyOp::BalanceCommitment { commitment } => check_hex32("commitment", commitment),
        }
    }

    /// The log indices of the account's entries, oldest first.
    pub fn entries_of(&self, account: &AccountId) -> &[u64] {
        self.entries.get(account).map_or(&[], Vec::as_slice)
    }

    /// Applies a checked operation at `at`.
    pub(crate) fn apply(&mut self, index: u64, idem: String, op: LoyaltyOp, at: u64) {
        self.last_at = self.last_at.max(at);
        for a in op.accounts() {
            self.entries.entry(a.clone()).or_default().push(index);
        }
        match &op {
            LoyaltyOp::Earn {
                account,
                points,
                merchant,
                network,
                expires_at,
                ..
            } => {
                let a = self.accounts.entry(account.clone()).or_default();
                let total = a.earned.last().map_or(0, |e| e.1) + points;
                match a.earned.last_mut() {
                    Some(last) if last.0 == at => last.1 = total,
                    _ => a.earned.push((at, total)),
                }
                a.lots.push_back(Lot {
                    issuer: merchant.clone(),
                    network: network.clone(),
                    expires_at: *expires_at,
                    points: *points,
                });
                self.minted += points;
            }
            LoyaltyOp::Redeem {
                account,
                points,
                merchant,
                settlements,
                ..
            } => {
                let merchant = merchant.clone();
                let mut left = *points;
                let mut lots =
                    std::mem::take(&mut self.accounts.get_mut(account).expect("checked").lots);
                for lot in lots.iter_mut() {
                    if left == 0 {
                        break;
                    }
                    if lot.expired(at) || !self.eligible(lot, merchant.as_deref()) {
                        continue;
                    }
                    let take = lot.points.min(left);
                    lot.points -= take;
                    left -= take;
                }
                lots.retain(|l| l.points > 0);
                self.accounts.get_mut(account).expect("checked").lots = lots;
                self.redeemed += points;
                self.settle(settlements);
            }
            LoyaltyOp::Transfer { from, to, points } => {
                let mut left = *points;
                let mut moved = Vec::new();
                let src = &mut self.accounts.get_mut(from).expect("checked").lots;
                while left > 0 {
                    let front = src.front_mut().expect("checked balance");
                    let take = front.points.min(left);
                    let mut part = front.clone();
                    part.points = take;
                    front.points -= take;
                    if front.points == 0 {
                        src.pop_front();
                    }
                    left -= take;
                    moved.push(part);
                }
                self.accounts
                    .entry(to.clone())
                    .or_default()
                    .lots
                    .extend(moved);
            }
            LoyaltyOp::Expire { account, points } => {
                let a = self.accounts.get_mut(account).expect("checked");
                a.lots.retain(|l| !l.expired(at));
                self.expired += points;
            }
            LoyaltyOp::Forfeit { account, points } => {
                self.accounts
                    .get_mut(account)
                    .expect("checked")
                    .lots
                    .clear();
                self.forfeited += points;
            }
            LoyaltyOp::Program { merchant, program } => {
                self.programs.insert(merchant.clone(), program.clone());
            }
            LoyaltyOp::NetworkCreate {
                network,
                operator,
                currency,
                rate,
            } => {
                self.networks.insert(
                    network.clone(),
                    Network {
                        operator: operator.clone(),
                        currency: currency.clone(),
                        rate: *rate,
                        admitted: BTreeSet::new(),
                        members: BTreeSet::new(),
                    },
                );
            }
            LoyaltyOp::NetworkAdmit { network, merchant } => {
                let net = self.networks.get_mut(network).expect("checked");
                net.admitted.insert(merchant.clone());
            }
            LoyaltyOp::NetworkJoin { network, merchant } => {
                let net = self.networks.get_mut(network).expect("checked");
                net.admitted.remove(merchant);
                net.members.insert(merchant.clone());
            }
            LoyaltyOp::NetworkLeave { network, merchant } => {
                let net = self.networks.get_mut(network).expect("checked");
                net.members.remove(merchant);
            }
            LoyaltyOp::AgentRegister {
                agent,
                owner,
                config_hash,
            } => {
                self.agents.insert(
                    agent.clone(),
                    AgentRecord {
                        owner: owner.clone(),
                        config_hash: config_hash.clone(),
                        registered_at: at,
                        reputation_permille: None,
                        periods: 0,
                        last_period_end: 0,
                        conversations: 0,
                        resolved: 0,
                        sales_cents: BTreeMap::new(),
                    },
                );
            }
            LoyaltyOp::AgentConfig { agent, config_hash } => {
                self.agents.get_mut(agent).expect("checked").config_hash = config_hash.clone();
            }
            LoyaltyOp::AgentReputation {
                agent,
                period_end,
                conversations,
                resolved,
                reputation_permille,
                ..
            } => {
                let rec = self.agents.get_mut(agent).expect("checked");
                rec.reputation_permille = Some(*reputation_permille);
                rec.periods += 1;
                rec.last_period_end = *period_end;
                rec.conversations += conversations;
                rec.resolved += resolved;
            }
            LoyaltyOp::AgentTransfer { agent, to, .. } => {
                self.agents.get_mut(agent).expect("checked").owner = to.clone();
            }
            LoyaltyOp::AgentDeploy { merchant, agent } => match agent {
                Some(a) => {
                    self.deployments.insert(merchant.clone(), (a.clone(), at));
                }
                None => {
                    self.deployments.remove(merchant);
                }
            },
            LoyaltyOp::RevenueShare {
                merchant,
                agent,
                merchant_bp,
                developer_bp,
                network_bp,
                network,
            } => {
                self.shares.insert(
                    (merchant.clone(), agent.clone()),
                    Share {
                        merchant_bp: *merchant_bp,
                        developer_bp: *developer_bp,
                        network_bp: *network_bp,
                        network: network.clone(),
                    },
                );
            }
            LoyaltyOp::AgentSale {
                agent,
                amount_cents,
                currency,
                settlements,
                ..
            } => {
                let rec = self.agents.get_mut(agent).expect("checked");
                let total = rec.sales_cents.entry(currency.clone()).or_default();
                *total = total.saturating_add(*amount_cents);
                self.settle(settlements);
            }
            LoyaltyOp::SettlementPaid {
                from,
                to,
                cents,
                currency,
                network,
                ..
            } => {
                let key = SettlementKey {
                    network: network.clone(),
                    currency: currency.clone(),
                    from: from.clone(),
                    to: to.clone(),
                };
                *self.paid.entry(key).or_default() += cents;
            }
            LoyaltyOp::Attest { .. } | LoyaltyOp::BalanceCommitment { .. } => {}
        }
        self.applied.insert(idem, (index, op));
    }

    fn settle(&mut self, settlements: &[Settlement]) {
        for s in settlements {
            let key = SettlementKey {
                network: s.network.clone(),
                currency: s.currency.clone(),
                from: s.from.clone(),
                to: s.to.clone(),
            };
            let v = self.obligations.entry(key).or_default();
            *v = v.saturating_add(s.cents);
        }
    }

    /// Rebuilds the state from the log's entries (non-loyalty entries are
    /// skipped); an entry that breaks an invariant is corruption.
    pub fn replay(entries: impl IntoIterator<Item = (u64, Vec<u8>)>) -> Result<Self> {
        let mut b = Self::default();
        b.replay_more(entries)?;
        Ok(b)
    }

    /// Continues a replay with the log's next entries.
    pub fn replay_more(&mut self, entries: impl IntoIterator<Item = (u64, Vec<u8>)>) -> Result<()> {
        for (index, data) in entries {
            if !data.starts_with(EVENT_PREFIX) {
                continue;
            }
            let corrupt = |reason: String| Error::Corrupt { index, reason };
            let ev: Event = serde_json::from_slice(&data)
                .map_err(|e| corrupt(format!("malformed loyalty entry: {e}")))?;
            let at = match (ev.loyalty, ev.at) {
                (1, None) => self.last_at,
                (2, Some(at)) if at >= self.last_at => at,
                (2, Some(at)) => {
                    return Err(corrupt(format!(
                        "its time {at} is before the previous entry's {}",
                        self.last_at
                    )));
                }
                (v, _) => return Err(corrupt(format!("unknown loyalty entry version {v}"))),
            };
            if self.applied.contains_key(&ev.idem) {
                return Err(corrupt(format!(
                    "idempotency key {:?} applied twice",
                    ev.idem
                )));
            }
            self.check(&ev.op, at)
                .map_err(|e| corrupt(format!("loyalty entry breaks an invariant: {e}")))?;
            self.apply(index, ev.idem, ev.op, at);
        }
        Ok(())
    }
}
