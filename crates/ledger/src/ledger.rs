//! The ledger: the durable log plus its signed checkpoints. It persists the
//! last signed checkpoint (and a history of all of them) and refuses to sign a
//! checkpoint that is not consistent with the last one.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::log::{Log, LogOptions, Recovery, write_atomic};
use crate::merkle::{Hash, verify_consistency};
use crate::note::{NoteSigner, NoteVerifier};
use crate::proof::ProofBundle;

pub(crate) const CHECKPOINT_FILE: &str = "checkpoint";
pub(crate) const HISTORY_FILE: &str = "checkpoints.history";

#[derive(Debug, Clone)]
struct Signed {
    checkpoint: Checkpoint,
    note: String,
    /// When this process signed it (`None` when loaded from disk).
    at: Option<Instant>,
}

/// A signed, durable transparency log.
#[derive(Debug)]
pub struct Ledger {
    log: Log,
    origin: String,
    signers: Vec<NoteSigner>,
    last: Mutex<Option<Signed>>,
    /// Least time between two checkpoints signed on demand.
    interval: Duration,
}

/// The body of a signed note (without checking signatures).
pub(crate) fn note_body(note: &str) -> Result<&str> {
    note.rfind("\n\n")
        .map(|i| &note[..i + 1])
        .ok_or_else(|| Error::invalid("note", "no signature block"))
}

impl Ledger {
    /// Opens the ledger in `dir`, checking that the log still extends the
    /// last signed checkpoint.
    pub fn open(
        dir: &Path,
        origin: &str,
        signers: Vec<NoteSigner>,
        opts: LogOptions,
    ) -> Result<(Self, Recovery)> {
        if origin.is_empty() || origin.contains('\n') {
            return Err(Error::invalid("origin", "must be one non-empty line"));
        }
        if signers.is_empty() {
            return Err(Error::invalid(
                "signers",
                "at least one signing key is needed",
            ));
        }
        let (log, recovery) = Log::open(dir, opts)?;
        let last = match std::fs::read_to_string(dir.join(CHECKPOINT_FILE)) {
            Ok(note) => {
                let checkpoint = Checkpoint::parse(note_body(&note)?)?;
                Some(Signed {
                    checkpoint,
                    note,
                    at: None,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(s) = &last {
            let cp = &s.checkpoint;
            if cp.origin != origin {
                return Err(Error::Inconsistent(format!(
                    "the log's last checkpoint is for origin {:?}, not {origin:?}",
                    cp.origin
                )));
            }
            if cp.size > log.size() {
                return Err(Error::Inconsistent(format!(
                    "a checkpoint for {} entries was signed but the log holds {}",
                    cp.size,
                    log.size()
                )));
            }
            if log.with_tree(|t| t.root_at(cp.size))? != cp.root {
                return Err(Error::Inconsistent(format!(
                    "the log's first {} entries no longer match the signed checkpoint",
                    cp.size
                )));
            }
        }
        Ok((
            Self {
                log,
                origin: origin.to_string(),
                signers,
                last: Mutex::new(last),
                interval: Duration::ZERO,
            },
            recovery,
        ))
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The public keys of the signing keys.
    pub fn verifiers(&self) -> Vec<NoteVerifier> {
        self.signers.iter().map(NoteSigner::verifier).collect()
    }

    /// Appends one entry durably.
    pub fn append(&self, data: &[u8]) -> Result<u64> {
        self.log.append(data)
    }

    /// Signs on-demand checkpoints at most once per `interval` (each costs
    /// two fsyncs), however often they are asked for. Default: no limit.
    pub fn with_checkpoint_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The latest signed checkpoint, signing a new one first if the log grew
    /// and the last one is older than the checkpoint interval.
    pub fn checkpoint(&self) -> Result<String> {
        self.checkpoint_covering(0)
    }

    /// Like [`checkpoint`](Self::checkpoint), but signs regardless of the
    /// interval when the last checkpoint does not cover entry `index`.
    fn checkpoint_covering(&self, index: u64) -> Result<String> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let (size, root) = self.log.with_tree(|t| (t.size(), t.root()));
        if let Some(s) = last.as_ref() {
            let fresh = s.at.is_some_and(|at| at.elapsed() < self.interval);
            if s.checkpoint.size == size || (fresh && index < s.checkpoint.size) {
                return Ok(s.note.clone());
            }
        }
        let signed = self.sign_locked(last.as_ref(), size, root)?;
        let note = signed.note.clone();
        *last = Some(signed);
        Ok(note)
    }

    /// Signs `(size, root)` after checking it extends the last checkpoint.
    pub fn sign_tree_head(&self, size: u64, root: Hash) -> Result<String> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let signed = self.sign_locked(last.as_ref(), size, root)?;
        let note = signed.note.clone();
        *last = Some(signed);
        Ok(note)
    }

    fn sign_locked(&self, last: Option<&Signed>, size: u64, root: Hash) -> Result<Signed> {
        if let Some(prev) = last {
            let p = &prev.checkpoint;
            if size < p.size {
                return Err(Error::Inconsistent(format!(
                    "tree size {size} is smaller than the signed size {}",
                    p.size
                )));
            }
            if size == p.size && root != p.root {
                return Err(Error::Inconsistent(format!(
                    "a different root was already signed for size {size}"
                )));
            }
            if size > p.size {
                let proof = self.log.with_tree(|t| {
                    if size > t.size() {
                        return Err(Error::Inconsistent(format!(
                            "tree size {size} is beyond the log's {}",
                            t.size()
                        )));
                    }
                    t.consistency_proof(p.size, size)
                })?;
                verify_consistency(p.size, size, &p.root, &root, &proof).map_err(|e| {
                    Error::Inconsistent(format!(
                        "size {size} does not extend the signed size {}: {e}",
                        p.size
                    ))
                })?;
            }
        }
        let checkpoint = Checkpoint::new(&self.origin, size, root);
        let note = checkpoint.sign(&self.signers)?;
        let dir = self.log.dir();
        let mut history = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(HISTORY_FILE))?;
        history.write_all(format!("{}\n", B64.encode(&note)).as_bytes())?;
        history.sync_data()?;
        write_atomic(&dir.join(CHECKPOINT_FILE), note.as_bytes(), false)?;
        Ok(Signed {
            checkpoint,
            note,
            at: Some(Instant::now()),
        })
    }

    /// An offline proof bundle (tlog-proof, entry in `extra`) for entry
    /// `index` against the latest checkpoint.
    pub fn proof_bundle(&self, index: u64) -> Result<String> {
        let note = self.checkpoint_covering(index)?;
        let cp = Checkpoint::parse(note_body(&note)?)?;
        if index >= cp.size {
            return Err(Error::NotFound(format!(
                "entry {index} (the checkpoint covers {} entries)",
                cp.size
            )));
        }
        let hashes = self.log.with_tree(|t| t.inclusion_proof(index, cp.size))?;
        let entry = self.log.entry(index)?;
        Ok(ProofBundle {
            extra: Some(entry),
            index,
            hashes,
            checkpoint: note,
        }
        .to_text())
    }

    /// Inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.log.with_tree(|t| t.inclusion_proof(index, size))
    }

    /// Consistency proof between tree sizes `old` and `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.log.with_tree(|t| t.consistency_proof(old, new))
    }
}
