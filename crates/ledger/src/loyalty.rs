//! Loyalty points on the log. Accounts are pseudonyms (HMAC-SHA256 of tenant
//! and customer under an operator-held key), so the log holds no personal
//! data: deleting the key (crypto-shredding) unlinks the accounts from people
//! while the log stays verifiable. Every earn, redeem and transfer is one log
//! entry carrying its idempotency key; balances are a pure function of the
//! log (`Balances::replay`), which enforces the invariants: no negative
//! balance, no idempotency key used twice, minted − burned = outstanding.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ledger::Ledger;

/// Most points one operation may move.
pub const MAX_POINTS_PER_OP: u64 = 1_000_000_000;
const MAX_IDEM_LEN: usize = 200;
const EVENT_PREFIX: &[u8] = b"{\"loyalty\":";

/// Derives account pseudonyms. Give each tenant its own key to be able to
/// shred one tenant's mapping without touching the others.
pub struct Pseudonymizer {
    key: [u8; 32],
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(<key>)")
    }
}

impl Pseudonymizer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The account of `customer` at `tenant`: hex HMAC-SHA256 over both,
    /// length-prefixed so that no two pairs collide by concatenation.
    pub fn account(&self, tenant: &str, customer: &str) -> AccountId {
        let mut mac = hmac::Hmac::<sha2_hmac::Sha256>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        for part in [tenant, customer] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        AccountId(hex::encode(mac.finalize().into_bytes()))
    }
}

/// A pseudonymous account: 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self> {
        if s.len() != 64
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(Error::invalid(
                "account",
                "must be 64 lowercase hex characters",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<AccountId> for String {
    fn from(a: AccountId) -> Self {
        a.0
    }
}

/// A loyalty operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LoyaltyOp {
    /// Points minted into an account (a purchase, an event, a campaign).
    Earn { account: AccountId, points: u64 },
    /// Points burned from an account (spent as a discount).
    Redeem { account: AccountId, points: u64 },
    /// Points moved between accounts.
    Transfer {
        from: AccountId,
        to: AccountId,
        points: u64,
    },
}

impl LoyaltyOp {
    fn points(&self) -> u64 {
        match self {
            Self::Earn { points, .. }
            | Self::Redeem { points, .. }
            | Self::Transfer { points, .. } => *points,
        }
    }
}

/// One loyalty entry on the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    /// Format version; also marks the entry as a loyalty entry.
    loyalty: u8,
    idem: String,
    op: LoyaltyOp,
}

/// The outcome of a submitted operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The operation's log index.
    pub index: u64,
    /// True when the idempotency key had already been applied (nothing new
    /// was written).
    pub replayed: bool,
}

/// Balances and counters derived from the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    balances: BTreeMap<AccountId, u64>,
    applied: HashMap<String, (u64, LoyaltyOp)>,
    minted: u64,
    burned: u64,
}

impl Balances {
    pub fn balance(&self, account: &AccountId) -> u64 {
        self.balances.get(account).copied().unwrap_or(0)
    }

    /// Every account with a non-zero balance.
    pub fn accounts(&self) -> impl Iterator<Item = (&AccountId, u64)> {
        self.balances.iter().map(|(a, b)| (a, *b))
    }

    pub fn minted(&self) -> u64 {
        self.minted
    }

    pub fn burned(&self) -> u64 {
        self.burned
    }

    /// Sum of all balances.
    pub fn outstanding(&self) -> u64 {
        self.balances.values().sum()
    }

    /// Rebuilds balances from the log's entries (non-loyalty entries are
    /// skipped); an entry that breaks an invariant is corruption.
    pub fn replay(entries: impl IntoIterator<Item = (u64, Vec<u8>)>) -> Result<Self> {
        let mut b = Self::default();
        b.replay_more(entries)?;
        Ok(b)
    }

    /// Continues a replay with the log's next entries.
    pub fn replay_more(&mut self, entries: impl IntoIterator<Item = (u64, Vec<u8>)>) -> Result<()> {
        let b = self;
        for (index, data) in entries {
            if !data.starts_with(EVENT_PREFIX) {
                continue;
            }
            let corrupt = |reason: String| Error::Corrupt { index, reason };
            let ev: Event = serde_json::from_slice(&data)
                .map_err(|e| corrupt(format!("malformed loyalty entry: {e}")))?;
            if b.applied.contains_key(&ev.idem) {
                return Err(corrupt(format!(
                    "idempotency key {:?} applied twice",
                    ev.idem
                )));
            }
            b.check(&ev.op)
                .map_err(|e| corrupt(format!("loyalty entry breaks an invariant: {e}")))?;
            b.apply(index, ev.idem, ev.op);
        }
        Ok(())
    }

    fn check(&self, op: &LoyaltyOp) -> Result<()> {
        let points = op.points();
        if points == 0 || points > MAX_POINTS_PER_OP {
            return Err(Error::invalid(
                "points",
                format!("must be 1..={MAX_POINTS_PER_OP}"),
            ));
        }
        let spend = |account: &AccountId| {
            let balance = self.balance(account);
            if balance < points {
                return Err(Error::InsufficientBalance {
                    balance,
                    requested: points,
                });
            }
            Ok(())
        };
        match op {
            LoyaltyOp::Earn { account, .. } => {
                if self.minted.checked_add(points).is_none()
                    || self.balance(account).checked_add(points).is_none()
                {
                    return Err(Error::invalid("points", "total points would overflow"));
                }
                Ok(())
            }
            LoyaltyOp::Redeem { account, .. } => spend(account),
            LoyaltyOp::Transfer { from, to, .. } => {
                if from == to {
                    return Err(Error::invalid(
                        "transfer",
                        "from and to are the same account",
                    ));
                }
                spend(from)
            }
        }
    }

    /// Applies a checked operation.
    fn apply(&mut self, index: u64, idem: String, op: LoyaltyOp) {
        let points = op.points();
        match &op {
            LoyaltyOp::Earn { account, .. } => {
                *self.balances.entry(account.clone()).or_default() += points;
                self.minted += points;
            }
            LoyaltyOp::Redeem { account, .. } => {
                self.debit(account, points);
                self.burned += points;
            }
            LoyaltyOp::Transfer { from, to, .. } => {
                self.debit(from, points);
                *self.balances.entry(to.clone()).or_default() += points;
            }
        }
        self.applied.insert(idem, (index, op));
    }

    fn debit(&mut self, account: &AccountId, points: u64) {
        let b = self.balances.get_mut(account).expect("checked balance");
        *b -= points;
        if *b == 0 {
            self.balances.remove(account);
        }
    }
}

/// The loyalty service over a ledger: checks each operation against the
/// current balances, writes it to the log and acknowledges it once durable.
pub struct Loyalty {
    ledger: Arc<Ledger>,
    state: Mutex<Balances>,
    failed: AtomicBool,
}

impl std::fmt::Debug for Loyalty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loyalty").finish_non_exhaustive()
    }
}

fn check_idem(idem: &str) -> Result<()> {
    if idem.is_empty() || idem.len() > MAX_IDEM_LEN || !idem.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "idempotency key",
            format!("must be 1..={MAX_IDEM_LEN} printable ASCII characters"),
        ));
    }
    Ok(())
}

impl Loyalty {
    /// Rebuilds the balances from the whole log.
    pub fn open(ledger: Arc<Ledger>) -> Result<Self> {
        let size = ledger.log().size();
        let mut state = Balances::default();
        let mut start = 0;
        while start < size {
            let end = (start + 4096).min(size);
            let chunk = ledger.log().entries(start..end)?;
            state.replay_more((start..end).zip(chunk))?;
            start = end;
        }
        Ok(Self {
            ledger,
            state: Mutex::new(state),
            failed: AtomicBool::new(false),
        })
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Applies `op` once per idempotency key. Reusing a key with the same
    /// operation returns the original receipt; with another operation it is
    /// a conflict. Rejected operations change nothing.
    pub fn submit(&self, idem: &str, op: LoyaltyOp) -> Result<Receipt> {
        check_idem(idem)?;
        if self.failed.load(Ordering::SeqCst) {
            return Err(Error::Unavailable(
                "an earlier loyalty write failed; reopen the ledger".into(),
            ));
        }
        let (range, replayed) = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((index, previous)) = st.applied.get(idem) {
                if previous != &op {
                    return Err(Error::Conflict(format!(
                        "idempotency key {idem:?} was used for another operation"
                    )));
                }
                (*index..*index + 1, true)
            } else {
                st.check(&op)?;
                let event = Event {
                    loyalty: 1,
                    idem: idem.to_string(),
                    op: op.clone(),
                };
                let bytes = serde_json::to_vec(&event)
                    .map_err(|e| Error::invalid("event", e.to_string()))?;
                // Enqueued under the state lock so the log's order is the
                // order balances were checked in; durability is awaited
                // outside it, so concurrent operations share an fsync.
                let range = self.ledger.log().enqueue(&[bytes])?;
                st.apply(range.start, idem.to_string(), op);
                (range, false)
            }
        };
        if let Err(e) = self.ledger.log().wait_durable(range.clone()) {
            self.failed.store(true, Ordering::SeqCst);
            return Err(e);
        }
        Ok(Receipt {
            index: range.start,
            replayed,
        })
    }

    pub fn balance(&self, account: &AccountId) -> u64 {
        self.snapshot().balance(account)
    }

    /// A copy of the current balances (including operations whose fsync is
    /// in flight).
    pub fn snapshot(&self) -> Balances {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
