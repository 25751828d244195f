//! The loyalty ledger's transparency log: RFC 6962 Merkle hashing and proofs
//! (`merkle`), a durable group-committed entry log (`log`), C2SP signed notes
//! and checkpoints (`note`, `checkpoint`), keys and rotation (`keys`), the
//! signed ledger that never signs two inconsistent checkpoints (`ledger`),
//! tlog-tiles (`tiles`), configuration and on-disk layout (`config`), tlog-proof bundles (`proof`) and the offline audit
//! (`audit`), loyalty points, merchant networks and the agent registry recorded on the log (`loyalty`), per-customer pseudonym keys (`customer_keys`), and receipts and Bulletproofs threshold proofs that reveal no identity (`privacy`). Pure library: no HTTP, SQL or async runtime.

pub mod audit;
pub mod checkpoint;
pub mod config;
pub mod customer_keys;
pub mod error;
pub mod keys;
pub mod ledger;
pub mod log;
pub mod loyalty;
pub mod merkle;
pub mod note;
pub mod privacy;
pub mod proof;
pub mod tiles;

pub use audit::{AuditReport, audit};
pub use checkpoint::Checkpoint;
pub use config::LedgerConfig;
pub use customer_keys::{CustomerKeys, Erasure};
pub use error::{Error, Result};
pub use keys::KeyDir;
pub use ledger::Ledger;
pub use log::{Log, LogOptions, MAX_ENTRY_BYTES, Recovery};
pub use loyalty::{AccountId, Balances, Loyalty, LoyaltyOp, Program, Pseudonymizer, Receipt};
pub use merkle::{Hash, Tree, hash_leaf, verify_consistency, verify_inclusion};
pub use note::{NoteSigner, NoteVerifier};
pub use privacy::{Bulletproofs, FactReceipt, RangeProofs, ThresholdProof};
pub use proof::{ProofBundle, VerifiedProof};
pub use tiles::{TileKind, TilePath};

/// Verifies a signed checkpoint offline against the given public keys.
pub fn verify_checkpoint(
    note: &str,
    verifiers: &[NoteVerifier],
    origin: Option<&str>,
) -> Result<Checkpoint> {
    Checkpoint::open(note, verifiers, origin)
}

/// Verifies a tlog-proof bundle offline: the checkpoint's signature and the
/// entry's inclusion (the entry given, or the bundle's `extra`).
pub fn verify_proof_bundle(
    bundle: &str,
    verifiers: &[NoteVerifier],
    origin: Option<&str>,
    entry: Option<&[u8]>,
) -> Result<VerifiedProof> {
    ProofBundle::parse(bundle)?.verify(verifiers, origin, entry)
}
