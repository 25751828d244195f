//! Loyalty points, merchant networks and the agent registry on the log.
//! Accounts are pseudonyms (HMAC-SHA256 of a scope and a customer under a
//! key: per customer in `customer_keys`, or the legacy global key), so the
//! log holds no personal data. Every operation is one log entry carrying its
//! idempotency key and time; all state (`state::Balances`) is a pure
//! function of the log, which enforces the invariants: no negative balance,
//! no idempotency key used twice, minted − burned = outstanding, derived
//! fields (points from rules, expiry, settlements, reputation) as derived.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::privacy::{self, Blinding, FactReceipt, RangeProofs, ThresholdProof};

pub mod ops;
pub mod program;
pub mod state;

pub use ops::{LoyaltyOp, Settlement};
pub use program::{Campaign, EarnBasis, Program, Rate, Tier};
pub use state::{AgentRecord, Balances, Network, SettlementKey, Share};

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

/// One loyalty entry on the log. Version 1 (the first release) carries no
/// time; version 2 carries the unix time the service applied it at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    /// Format version; also marks the entry as a loyalty entry.
    loyalty: u8,
    idem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<u64>,
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

/// The loyalty service over a ledger: completes each operation's derived
/// fields and checks it against the current state, writes it to the log and
/// acknowledges it once durable.
pub struct Loyalty {
    ledger: Arc<Ledger>,
    state: Mutex<Balances>,
    failed: AtomicBool,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for Loyalty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loyalty").finish_non_exhaustive()
    }
}

fn check_idem(idem: &str) -> Result<()> {
    if idem.is_empty()
        || idem.len() > MAX_IDEM_LEN
        || !idem.bytes().all(|b| b.is_ascii_graphic())
        || idem.starts_with('~')
    {
        return Err(Error::invalid(
            "idempotency key",
            format!("must be 1..={MAX_IDEM_LEN} printable ASCII characters, not starting with '~'"),
        ));
    }
    Ok(())
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Loyalty {
    /// Rebuilds the state from the whole log.
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
            clock: Box::new(unix_now),
        })
    }

    /// Uses `clock` (unix seconds) instead of the system clock.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// The service's time: the clock, never before the last entry.
    pub fn now(&self) -> u64 {
        let last = self.lock().last_at();
        (self.clock)().max(last)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Balances> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `op` once per idempotency key; derived fields are computed
    /// here (give them empty or as derived). Reusing a key for the same
    /// request returns the original receipt; for another, a conflict.
    /// Points past their expiry are expired (an entry of their own) before
    /// a spend from their account. Rejected operations change nothing.
    pub fn submit(&self, idem: &str, op: LoyaltyOp) -> Result<Receipt> {
        check_idem(idem)?;
        Ok(self.submit_checked(idem, op)?.0)
    }

    /// Like [`submit`](Self::submit), also returning the operation as
    /// written (with its derived fields).
    pub fn submit_op(&self, idem: &str, op: LoyaltyOp) -> Result<(Receipt, LoyaltyOp)> {
        check_idem(idem)?;
        self.submit_checked(idem, op)
    }

    fn submit_checked(&self, idem: &str, op: LoyaltyOp) -> Result<(Receipt, LoyaltyOp)> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(Error::Unavailable(
                "an earlier loyalty write failed; reopen the ledger".into(),
            ));
        }
        let (range, replayed, written) = {
            let mut st = self.lock();
            if let Some((index, previous)) = st.applied(idem) {
                if previous.request() != op.request() {
                    return Err(Error::Conflict(format!(
                        "idempotency key {idem:?} was used for another operation"
                    )));
                }
                (*index..*index + 1, true, previous.clone())
            } else {
                let at = (self.clock)().max(st.last_at());
                // Checked as if expired points were gone (they cannot be
                // spent), so a rejected spend writes no expiry either.
                let done = st.complete(&op, at)?;
                let expire = op.spends_from().and_then(|a| {
                    let due = st.due(a, at);
                    (due > 0).then(|| LoyaltyOp::Expire {
                        account: a.clone(),
                        points: due,
                    })
                });
                let mut batch = Vec::new();
                if let Some(e) = &expire {
                    st.check(e, at)?;
                    let mut probe = st.clone();
                    probe.apply(0, String::new(), e.clone(), at);
                    probe.check(&done, at)?;
                    batch.push((Self::expire_idem(e, at), e.clone()));
                } else {
                    st.check(&done, at)?;
                }
                batch.push((idem.to_string(), done.clone()));
                let mut first = None;
                let mut last = 0;
                for (key, op) in batch {
                    let bytes = Self::encode(&key, &op, at)?;
                    // Enqueued under the state lock so the log's order is
                    // the order operations were checked in; durability is
                    // awaited outside it, so concurrent operations share an
                    // fsync.
                    let range = self.ledger.log().enqueue(&[bytes])?;
                    first.get_or_insert(range.start);
                    last = range.end;
                    st.apply(range.start, key, op, at);
                }
                let first = first.expect("one entry at least");
                (first..last, false, done)
            }
        };
        if let Err(e) = self.ledger.log().wait_durable(range.clone()) {
            self.failed.store(true, Ordering::SeqCst);
            return Err(e);
        }
        Ok((
            Receipt {
                index: range.end - 1,
                replayed,
            },
            written,
        ))
    }

    fn expire_idem(op: &LoyaltyOp, at: u64) -> String {
        match op {
            LoyaltyOp::Expire { account, .. } => format!("~expire/{}/{at}", account.as_str()),
            _ => unreachable!("only expiries get system keys"),
        }
    }

    fn encode(idem: &str, op: &LoyaltyOp, at: u64) -> Result<Vec<u8>> {
        let event = Event {
            loyalty: 2,
            idem: idem.to_string(),
            at: Some(at),
            op: op.clone(),
        };
        serde_json::to_vec(&event).map_err(|e| Error::invalid("event", e.to_string()))
    }

    /// Writes an expiry entry for every account holding points past their
    /// expiry now; returns how many accounts and points expired.
    pub fn expire_due(&self) -> Result<(usize, u64)> {
        let mut accounts = 0;
        let mut points = 0;
        let at = self.now();
        let due = self.lock().expiring(at);
        for (account, _) in due {
            // Re-derived under the lock: a spend may have expired them since.
            let mut st = self.lock();
            let now_due = st.due(&account, at);
            if now_due == 0 {
                continue;
            }
            let op = LoyaltyOp::Expire {
                account,
                points: now_due,
            };
            st.check(&op, at)?;
            let key = Self::expire_idem(&op, at);
            let range = self.ledger.log().enqueue(&[Self::encode(&key, &op, at)?])?;
            st.apply(range.start, key, op, at);
            drop(st);
            if let Err(e) = self.ledger.log().wait_durable(range) {
                self.failed.store(true, Ordering::SeqCst);
                return Err(e);
            }
            accounts += 1;
            points += now_due;
        }
        Ok((accounts, points))
    }

    /// Every point on the account (see [`Balances::balance`]).
    pub fn balance(&self, account: &AccountId) -> u64 {
        self.lock().balance(account)
    }

    /// Reads the current state under the lock.
    pub fn read<T>(&self, f: impl FnOnce(&Balances) -> T) -> T {
        f(&self.lock())
    }

    /// A copy of the current state (including operations whose fsync is in
    /// flight).
    pub fn snapshot(&self) -> Balances {
        self.lock().clone()
    }

    /// A receipt for the loyalty entry at `index`, which must concern
    /// `account`: the entry's fact without the account (what happened, how
    /// many points, at which merchant, when) is committed to with a fresh
    /// salt in a new `attest` entry, and the customer gets the fact, the
    /// salt and that entry's proof bundle. Anyone can verify the receipt;
    /// the log shows only the commitment.
    pub fn receipt(&self, account: &AccountId, index: u64) -> Result<FactReceipt> {
        let not_found = || Error::NotFound(format!("loyalty entry {index} of this account"));
        if index >= self.ledger.log().size() {
            return Err(not_found());
        }
        let data = self.ledger.log().entry(index)?;
        if !data.starts_with(EVENT_PREFIX) {
            return Err(not_found());
        }
        let (op, at) = decode_entry(&data)?;
        let fact = fact_of(&op, account, at.unwrap_or(0), self.ledger.origin())
            .ok_or_else(not_found)?
            .to_string();
        let salt = privacy::random_salt();
        let commitment = privacy::fact_commitment(&salt, &fact);
        let idem = format!("~attest/{commitment}");
        let (receipt, _) = self.submit_checked(&idem, LoyaltyOp::Attest { commitment })?;
        Ok(FactReceipt {
            format: privacy::RECEIPT_FORMAT.to_string(),
            fact,
            salt: hex::encode(salt),
            proof: self.ledger.proof_bundle(receipt.index)?,
        })
    }

    /// A proof that `account` holds at least `threshold` points now
    /// (points past their expiry do not count), without revealing the
    /// balance: a Pedersen commitment to the balance goes on the log in a
    /// `balance_commitment` entry (no account in it) and a range proof
    /// shows that the committed value minus `threshold` is not negative.
    pub fn prove_balance_at_least(
        &self,
        proofs: &dyn RangeProofs,
        account: &AccountId,
        threshold: u64,
    ) -> Result<ThresholdProof> {
        let blinding = Blinding::random();
        let (balance, commitment) = {
            let st = self.lock();
            let at = (self.clock)().max(st.last_at());
            let balance = st.balance(account) - st.due(account, at);
            if balance < threshold {
                return Err(Error::InsufficientBalance {
                    balance,
                    requested: threshold,
                });
            }
            (balance, proofs.commit(balance, &blinding))
        };
        let hex_commitment = hex::encode(commitment);
        let range = proofs.prove_at_least(balance, &blinding, threshold, &commitment)?;
        let (receipt, _) = self.submit_checked(
            &format!("~balance/{hex_commitment}"),
            LoyaltyOp::BalanceCommitment {
                commitment: hex_commitment.clone(),
            },
        )?;
        Ok(ThresholdProof {
            format: privacy::THRESHOLD_FORMAT.to_string(),
            threshold,
            commitment: hex_commitment,
            range_proof: B64.encode(range),
            proof: self.ledger.proof_bundle(receipt.index)?,
        })
    }
}

/// Decodes a loyalty entry into its operation and time (none for version
/// 1 entries).
pub(crate) fn decode_entry(data: &[u8]) -> Result<(LoyaltyOp, Option<u64>)> {
    if !data.starts_with(EVENT_PREFIX) {
        return Err(Error::invalid("entry", "not a loyalty entry"));
    }
    let ev: Event = serde_json::from_slice(data)
        .map_err(|e| Error::invalid("entry", format!("malformed loyalty entry: {e}")))?;
    Ok((ev.op, ev.at))
}

/// One entry of an account's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// The entry's log index (ask for a receipt with it).
    pub index: u64,
    /// The operation from the account's side, as a receipt states it.
    pub fact: serde_json::Value,
}

impl Loyalty {
    /// The account's entries, newest first, at most `limit`, skipping the
    /// `offset` newest.
    pub fn history(
        &self,
        account: &AccountId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let indices: Vec<u64> = self.read(|s| {
            s.entries_of(account)
                .iter()
                .rev()
                .skip(offset)
                .take(limit)
                .copied()
                .collect()
        });
        let mut out = Vec::with_capacity(indices.len());
        for index in indices {
            let (op, at) = decode_entry(&self.ledger.log().entry(index)?)?;
            if let Some(fact) = fact_of(&op, account, at.unwrap_or(0), self.ledger.origin()) {
                out.push(HistoryEntry { index, fact });
            }
        }
        Ok(out)
    }
}

/// What a receipt states about `account`'s entry: the operation from the
/// account's side, without any account id.
fn fact_of(op: &LoyaltyOp, account: &AccountId, at: u64, log: &str) -> Option<serde_json::Value> {
    let fact = match op {
        LoyaltyOp::Earn {
            account: a,
            points,
            merchant,
            network,
            ..
        } if a == account => serde_json::json!({
            "op": "earn", "points": points, "merchant": merchant, "network": network,
        }),
        LoyaltyOp::Redeem {
            account: a,
            points,
            merchant,
            discount_cents,
            ..
        } if a == account => serde_json::json!({
            "op": "redeem", "points": points, "merchant": merchant,
            "discount_cents": discount_cents,
        }),
        LoyaltyOp::Transfer { from, points, .. } if from == account => {
            serde_json::json!({"op": "transfer_out", "points": points})
        }
        LoyaltyOp::Transfer { to, points, .. } if to == account => {
            serde_json::json!({"op": "transfer_in", "points": points})
        }
        LoyaltyOp::Expire { account: a, points } if a == account => {
            serde_json::json!({"op": "expire", "points": points})
        }
        LoyaltyOp::Forfeit { account: a, points } if a == account => {
            serde_json::json!({"op": "forfeit", "points": points})
        }
        _ => return None,
    };
    let mut fact = fact;
    fact["at"] = at.into();
    fact["log"] = log.into();
    Some(fact)
}
