//! The operations written to the log. Each is one entry; fields marked
//! *derived* are computed from the state at the entry's time (`complete`) and
//! recomputed on replay, so an entry whose derived fields disagree with the
//! log before it is corruption.

use serde::{Deserialize, Serialize};

use super::AccountId;
use super::program::{EarnBasis, Program, Rate};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Money owed by one party (a merchant, by tenant id) to another, recorded
/// with the operation that created the obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settlement {
    pub from: String,
    pub to: String,
    pub cents: u64,
    pub currency: String,
    /// The points redeemed (cross-merchant redemptions).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub points: u64,
    /// The network whose rate or share applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

/// A loyalty, network or agent-registry operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LoyaltyOp {
    /// Points minted into an account. With `basis`, `points` is derived
    /// from the merchant's program; `expires_at` is derived from it too.
    Earn {
        account: AccountId,
        points: u64,
        /// The issuing merchant (tenant id).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        merchant: Option<String>,
        /// The network whose member id the account is (redeemable at its
        /// other members).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        network: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        basis: Option<EarnBasis>,
        /// Derived.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<u64>,
    },
    /// Points burned from an account as a discount at `merchant`, oldest
    /// eligible points first.
    Redeem {
        account: AccountId,
        points: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        merchant: Option<String>,
        /// Derived: the discount at the merchant's point value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        discount_cents: Option<u64>,
        /// Derived: what each issuing merchant owes `merchant`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        settlements: Vec<Settlement>,
    },
    /// Points moved between accounts (oldest first, keeping their issuer
    /// and expiry).
    Transfer {
        from: AccountId,
        to: AccountId,
        points: u64,
    },
    /// Every point of the account whose expiry has passed, burned.
    Expire {
        account: AccountId,
        points: u64,
    },
    /// The whole balance burned because the customer was erased.
    Forfeit {
        account: AccountId,
        points: u64,
    },
    /// A merchant publishes (or replaces) its program.
    Program {
        merchant: String,
        program: Program,
    },
    /// A merchant network; `rate` is what a point redeemed across members
    /// settles at.
    NetworkCreate {
        network: String,
        operator: String,
        currency: String,
        rate: Rate,
    },
    /// The operator admits a merchant (who then joins).
    NetworkAdmit {
        network: String,
        merchant: String,
    },
    /// An admitted merchant joins.
    NetworkJoin {
        network: String,
        merchant: String,
    },
    NetworkLeave {
        network: String,
        merchant: String,
    },
    /// An AI agent instance, owned by a tenant (its developer).
    AgentRegister {
        agent: String,
        owner: String,
        config_hash: String,
    },
    AgentConfig {
        agent: String,
        config_hash: String,
    },
    /// Measured outcomes over a period; the reputation is derived.
    AgentReputation {
        agent: String,
        period_start: u64,
        period_end: u64,
        conversations: u64,
        resolved: u64,
        /// None when no customer rated a conversation in the period.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        satisfaction_permille: Option<u32>,
        /// Derived.
        #[serde(default)]
        reputation_permille: u32,
    },
    AgentTransfer {
        agent: String,
        from: String,
        to: String,
    },
    /// A merchant's conversations are served by `agent` from now on (none:
    /// by no registered agent); its measured outcomes feed the agent's
    /// reputation.
    AgentDeploy {
        merchant: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// A merchant's split of sales attributed to an agent.
    RevenueShare {
        merchant: String,
        agent: String,
        merchant_bp: u32,
        developer_bp: u32,
        network_bp: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        network: Option<String>,
    },
    /// A sale attributed to an agent; settlements are derived from the share.
    AgentSale {
        agent: String,
        merchant: String,
        amount_cents: u64,
        currency: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        settlements: Vec<Settlement>,
    },
    /// A payment made against an obligation (`from` paid `to`), recorded
    /// by the party paid. Never more than is outstanding.
    SettlementPaid {
        from: String,
        to: String,
        cents: u64,
        currency: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        network: Option<String>,
        /// The payment's reference (a bank or payout id), 1–100 printable
        /// characters.
        reference: String,
    },
    /// A salted SHA-256 commitment to a loyalty fact (a customer's
    /// receipt); the fact and salt stay with the customer.
    Attest {
        commitment: String,
    },
    /// A Pedersen commitment (compressed Ristretto, hex) to an account's
    /// balance, for proofs that the balance is at least a threshold.
    BalanceCommitment {
        commitment: String,
    },
}

impl LoyaltyOp {
    /// A plain earn (no merchant, no program).
    pub fn earn(account: AccountId, points: u64) -> Self {
        Self::Earn {
            account,
            points,
            merchant: None,
            network: None,
            basis: None,
            expires_at: None,
        }
    }

    /// A plain redemption (no merchant).
    pub fn redeem(account: AccountId, points: u64) -> Self {
        Self::Redeem {
            account,
            points,
            merchant: None,
            discount_cents: None,
            settlements: Vec::new(),
        }
    }

    pub fn transfer(from: AccountId, to: AccountId, points: u64) -> Self {
        Self::Transfer { from, to, points }
    }

    /// The operation as a caller asks for it: derived fields cleared. Two
    /// submissions with one idempotency key must agree on this.
    pub fn request(&self) -> Self {
        let mut op = self.clone();
        match &mut op {
            Self::Earn {
                points,
                basis,
                expires_at,
                ..
            } => {
                if let Some(b) = basis {
                    *points = 0;
                    *b = b.request();
                }
                *expires_at = None;
            }
            Self::Redeem {
                discount_cents,
                settlements,
                ..
            } => {
                *discount_cents = None;
                settlements.clear();
            }
            Self::AgentReputation {
                reputation_permille,
                ..
            } => *reputation_permille = 0,
            Self::AgentSale { settlements, .. } => settlements.clear(),
            _ => {}
        }
        op
    }

    /// The accounts the operation touches.
    pub fn accounts(&self) -> Vec<&AccountId> {
        match self {
            Self::Earn { account, .. }
            | Self::Redeem { account, .. }
            | Self::Expire { account, .. }
            | Self::Forfeit { account, .. } => vec![account],
            Self::Transfer { from, to, .. } => vec![from, to],
            _ => Vec::new(),
        }
    }

    /// The account points are taken from, if any.
    pub(crate) fn spends_from(&self) -> Option<&AccountId> {
        match self {
            Self::Redeem { account, .. } => Some(account),
            Self::Transfer { from, .. } => Some(from),
            _ => None,
        }
    }
}
