//! Proofs of loyalty facts that do not reveal who the customer is.
//!
//! - **Receipts.** The log holds only a salted SHA-256 commitment to a fact
//!   (an `attest` entry with no account in it). The customer keeps the fact
//!   and the salt; with the entry's tlog-proof bundle anyone can check that
//!   the operator logged exactly that fact, and learns nothing else.
//! - **Threshold proofs.** The log holds a Pedersen commitment to an
//!   account's balance (a `balance_commitment` entry, again without the
//!   account). A Bulletproofs range proof shows that the committed balance
//!   minus a threshold lies in `[0, 2^64)`, i.e. the balance is at least the
//!   threshold, without revealing it.
//!
//! The range proofs come from the `bulletproofs` crate on the dalek
//! Ristretto group, behind the [`RangeProofs`] trait; nothing here is
//! hand-rolled cryptography.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::loyalty::{LoyaltyOp, decode_entry};
use crate::note::NoteVerifier;
use crate::proof::ProofBundle;

/// Format tag of a receipt file.
pub const RECEIPT_FORMAT: &str = "hc-loyalty-receipt/1";
/// Format tag of a threshold-proof file.
pub const THRESHOLD_FORMAT: &str = "hc-loyalty-threshold/1";
/// Bits of the range proved (balances are `u64`).
pub const RANGE_BITS: usize = 64;
const RECEIPT_DOMAIN: &[u8] = b"hc-loyalty-receipt/1\0";
/// Largest proof file accepted for verification.
pub const MAX_PROOF_FILE: usize = 64 * 1024;

/// A Pedersen blinding factor (a Ristretto scalar). Keep it secret: with it
/// and the balance, the commitment opens.
#[derive(Clone)]
pub struct Blinding(Scalar);

impl std::fmt::Debug for Blinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Blinding(<secret>)")
    }
}

impl Blinding {
    /// A uniformly random blinding from the operating system's RNG.
    pub fn random() -> Self {
        let mut wide = [0u8; 64];
        rand::rngs::OsRng.fill_bytes(&mut wide);
        Self(Scalar::from_bytes_mod_order_wide(&wide))
    }
}

/// Commitments and range proofs that a committed value is at least a
/// threshold. One implementation ([`Bulletproofs`]); the trait keeps the
/// proof system replaceable without touching the loyalty code.
pub trait RangeProofs: Send + Sync {
    /// The commitment to `value` under `blinding` (32 bytes, compressed).
    fn commit(&self, value: u64, blinding: &Blinding) -> [u8; 32];
    /// A proof that the value committed in `commitment` (which must be
    /// `commit(value, blinding)`) is at least `threshold`.
    fn prove_at_least(
        &self,
        value: u64,
        blinding: &Blinding,
        threshold: u64,
        commitment: &[u8; 32],
    ) -> Result<Vec<u8>>;
    /// Checks such a proof.
    fn verify_at_least(&self, commitment: &[u8; 32], threshold: u64, proof: &[u8]) -> Result<()>;
}

/// Single-value Bulletproofs range proofs over 64 bits with the crate's
/// default Pedersen generators.
pub struct Bulletproofs {
    pc: PedersenGens,
    bp: BulletproofGens,
}

impl std::fmt::Debug for Bulletproofs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bulletproofs")
    }
}

impl Default for Bulletproofs {
    fn default() -> Self {
        Self {
            pc: PedersenGens::default(),
            bp: BulletproofGens::new(RANGE_BITS, 1),
        }
    }
}

/// The transcript both sides start from: it binds the proof to the
/// threshold and the logged commitment.
fn transcript(threshold: u64, commitment: &[u8; 32]) -> Transcript {
    let mut t = Transcript::new(THRESHOLD_FORMAT.as_bytes());
    t.append_message(b"threshold", &threshold.to_le_bytes());
    t.append_message(b"commitment", commitment);
    t
}

fn bad_proof(reason: impl Into<String>) -> Error {
    Error::invalid("threshold proof", reason)
}

impl Bulletproofs {
    /// The commitment to `value − threshold`: `C − threshold·B`.
    fn shifted(&self, commitment: &[u8; 32], threshold: u64) -> Result<CompressedRistretto> {
        let point = CompressedRistretto(*commitment)
            .decompress()
            .ok_or_else(|| bad_proof("the commitment is not a valid group element"))?;
        Ok((point - Scalar::from(threshold) * self.pc.B).compress())
    }
}

impl RangeProofs for Bulletproofs {
    fn commit(&self, value: u64, blinding: &Blinding) -> [u8; 32] {
        self.pc
            .commit(Scalar::from(value), blinding.0)
            .compress()
            .to_bytes()
    }

    fn prove_at_least(
        &self,
        value: u64,
        blinding: &Blinding,
        threshold: u64,
        commitment: &[u8; 32],
    ) -> Result<Vec<u8>> {
        let excess = value
            .checked_sub(threshold)
            .ok_or(Error::InsufficientBalance {
                balance: value,
                requested: threshold,
            })?;
        if self.commit(value, blinding) != *commitment {
            return Err(bad_proof("the commitment does not open to the value"));
        }
        let mut t = transcript(threshold, commitment);
        let (proof, shifted) = RangeProof::prove_single_with_rng(
            &self.bp,
            &self.pc,
            &mut t,
            excess,
            &blinding.0,
            RANGE_BITS,
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| bad_proof(format!("cannot prove: {e:?}")))?;
        debug_assert_eq!(shifted, self.shifted(commitment, threshold)?);
        Ok(proof.to_bytes())
    }

    fn verify_at_least(&self, commitment: &[u8; 32], threshold: u64, proof: &[u8]) -> Result<()> {
        let shifted = self.shifted(commitment, threshold)?;
        let proof = RangeProof::from_bytes(proof)
            .map_err(|e| bad_proof(format!("malformed range proof: {e:?}")))?;
        let mut t = transcript(threshold, commitment);
        proof
            .verify_single_with_rng(
                &self.bp,
                &self.pc,
                &mut t,
                &shifted,
                RANGE_BITS,
                &mut rand::rngs::OsRng,
            )
            .map_err(|_| bad_proof("the range proof does not verify for this threshold"))
    }
}

/// The salted commitment a receipt's entry holds: SHA-256 over a domain
/// tag, the salt and the fact's exact bytes, as 64 lowercase hex.
pub fn fact_commitment(salt: &[u8], fact: &str) -> String {
    let mut h = Sha256::new();
    h.update(RECEIPT_DOMAIN);
    h.update((salt.len() as u64).to_be_bytes());
    h.update(salt);
    h.update(fact.as_bytes());
    hex::encode(h.finalize())
}

/// A random 32-byte salt.
pub fn random_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

/// A customer's receipt for a loyalty fact: the fact (JSON text without
/// any identity), the salt, and the tlog-proof bundle of the `attest`
/// entry holding their commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactReceipt {
    pub format: String,
    /// The fact, as the exact JSON text that was committed to.
    pub fact: String,
    /// Hex.
    pub salt: String,
    /// `c2sp.org/tlog-proof@v1` text of the `attest` entry.
    pub proof: String,
}

/// What a verified receipt proves.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedFact {
    pub fact: serde_json::Value,
    pub index: u64,
    pub checkpoint: Checkpoint,
}

/// A proof that a balance committed on the log is at least `threshold`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdProof {
    pub format: String,
    pub threshold: u64,
    /// Hex of the compressed Pedersen commitment in the logged entry.
    pub commitment: String,
    /// Base64 of the Bulletproofs range proof.
    pub range_proof: String,
    /// `c2sp.org/tlog-proof@v1` text of the `balance_commitment` entry.
    pub proof: String,
}

/// What a verified threshold proof proves.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedThreshold {
    pub threshold: u64,
    pub index: u64,
    /// Unix seconds the balance was committed at.
    pub at: Option<u64>,
    pub checkpoint: Checkpoint,
}

fn parse_file<T: for<'de> Deserialize<'de>>(
    text: &str,
    what: &'static str,
    format: &str,
) -> Result<T> {
    if text.len() > MAX_PROOF_FILE {
        return Err(Error::invalid(
            what,
            format!("larger than {MAX_PROOF_FILE} bytes"),
        ));
    }
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::invalid(what, format!("not JSON: {e}")))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(format) {
        return Err(Error::invalid(what, format!("format must be {format:?}")));
    }
    serde_json::from_value(v).map_err(|e| Error::invalid(what, e.to_string()))
}

/// Verifies the bundle and returns the logged operation, its index, time
/// and the checkpoint.
fn logged_op(
    bundle: &str,
    verifiers: &[NoteVerifier],
    origin: Option<&str>,
) -> Result<(LoyaltyOp, Option<u64>, u64, Checkpoint)> {
    let v = ProofBundle::parse(bundle)?.verify(verifiers, origin, None)?;
    let entry = v.entry.unwrap_or_default();
    let (op, at) = decode_entry(&entry)?;
    Ok((op, at, v.index, v.checkpoint))
}

impl FactReceipt {
    pub fn parse(text: &str) -> Result<Self> {
        parse_file(text, "receipt", RECEIPT_FORMAT)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a receipt serialises")
    }

    /// Checks the checkpoint's signature, the entry's inclusion, and that
    /// the entry is an `attest` of exactly this fact and salt.
    pub fn verify(&self, verifiers: &[NoteVerifier], origin: Option<&str>) -> Result<VerifiedFact> {
        let bad = |r: &str| Error::invalid("receipt", r.to_string());
        let salt = hex::decode(&self.salt).map_err(|_| bad("salt is not hex"))?;
        let fact: serde_json::Value =
            serde_json::from_str(&self.fact).map_err(|_| bad("fact is not JSON"))?;
        let (op, _, index, checkpoint) = logged_op(&self.proof, verifiers, origin)?;
        match op {
            LoyaltyOp::Attest { commitment }
                if commitment == fact_commitment(&salt, &self.fact) =>
            {
                Ok(VerifiedFact {
                    fact,
                    index,
                    checkpoint,
                })
            }
            LoyaltyOp::Attest { .. } => Err(bad(
                "the fact or salt does not match the commitment on the log",
            )),
            _ => Err(bad("the proven entry is not a receipt commitment")),
        }
    }
}

impl ThresholdProof {
    pub fn parse(text: &str) -> Result<Self> {
        parse_file(text, "threshold proof", THRESHOLD_FORMAT)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a proof serialises")
    }

    /// Checks the checkpoint's signature, the entry's inclusion, that the
    /// entry commits to `commitment`, and the range proof for `threshold`.
    pub fn verify(
        &self,
        proofs: &dyn RangeProofs,
        verifiers: &[NoteVerifier],
        origin: Option<&str>,
    ) -> Result<VerifiedThreshold> {
        let commitment: [u8; 32] = hex::decode(&self.commitment)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad_proof("commitment must be 32 bytes of hex"))?;
        let range = B64
            .decode(&self.range_proof)
            .map_err(|_| bad_proof("range_proof is not base64"))?;
        let (op, at, index, checkpoint) = logged_op(&self.proof, verifiers, origin)?;
        match op {
            LoyaltyOp::BalanceCommitment { commitment: logged } if logged == self.commitment => {
                proofs.verify_at_least(&commitment, self.threshold, &range)?;
                Ok(VerifiedThreshold {
                    threshold: self.threshold,
                    index,
                    at,
                    checkpoint,
                })
            }
            LoyaltyOp::BalanceCommitment { .. } => {
                Err(bad_proof("the commitment differs from the one on the log"))
            }
            _ => Err(bad_proof("the proven entry is not a balance commitment")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_proof_verifies_exactly_for_thresholds_up_to_the_balance() {
        let bp = Bulletproofs::default();
        let r = Blinding::random();
        let c = bp.commit(1_250, &r);
        for threshold in [0, 1, 1_000, 1_250] {
            let proof = bp.prove_at_least(1_250, &r, threshold, &c).unwrap();
            bp.verify_at_least(&c, threshold, &proof).unwrap();
        }
        // A proof for 1,000 says nothing about 1,251 (nor about 999).
        let proof = bp.prove_at_least(1_250, &r, 1_000, &c).unwrap();
        assert!(bp.verify_at_least(&c, 1_251, &proof).is_err());
        assert!(bp.verify_at_least(&c, 999, &proof).is_err());
    }

    #[test]
    fn no_proof_is_made_for_a_threshold_above_the_balance() {
        let bp = Bulletproofs::default();
        let r = Blinding::random();
        let c = bp.commit(10, &r);
        assert!(matches!(
            bp.prove_at_least(10, &r, 11, &c),
            Err(Error::InsufficientBalance {
                balance: 10,
                requested: 11
            })
        ));
    }

    #[test]
    fn a_proof_against_another_commitment_or_tampered_bytes_fails() {
        let bp = Bulletproofs::default();
        let r = Blinding::random();
        let c = bp.commit(500, &r);
        let other = bp.commit(500, &Blinding::random());
        let proof = bp.prove_at_least(500, &r, 100, &c).unwrap();
        assert!(bp.verify_at_least(&other, 100, &proof).is_err());
        let mut tampered = proof.clone();
        tampered[40] ^= 1;
        assert!(bp.verify_at_least(&c, 100, &tampered).is_err());
        assert!(
            bp.verify_at_least(&c, 100, &proof[..proof.len() - 1])
                .is_err()
        );
        assert!(bp.verify_at_least(&[0xff; 32], 100, &proof).is_err());
    }

    #[test]
    fn commitments_hide_equal_balances_behind_different_blindings() {
        let bp = Bulletproofs::default();
        assert_ne!(
            bp.commit(42, &Blinding::random()),
            bp.commit(42, &Blinding::random())
        );
    }

    #[test]
    fn a_fact_commitment_depends_on_every_byte_of_salt_and_fact() {
        let a = fact_commitment(b"salt", r#"{"points":10}"#);
        assert_eq!(a.len(), 64);
        assert_ne!(a, fact_commitment(b"salu", r#"{"points":10}"#));
        assert_ne!(a, fact_commitment(b"salt", r#"{"points":11}"#));
        // The salt is length-prefixed: moving a byte across the boundary
        // changes the commitment.
        assert_ne!(fact_commitment(b"ab", "c"), fact_commitment(b"a", "bc"));
    }
}
