//! Offline audit: re-reads the whole entries file, re-hashes every entry,
//! rebuilds the tree and checks it against every signed checkpoint on record.
//! Fails naming the first tampered entry (or the narrowest range the signed
//! checkpoints allow when stored hashes were rewritten along with the data).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::ledger::{CHECKPOINT_FILE, HISTORY_FILE};
use crate::log::{ENTRIES_FILE, MAX_ENTRY_BYTES, RecordError, RecordReader};
use crate::merkle::Tree;
use crate::note::NoteVerifier;

/// What a successful audit checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries re-read and re-hashed.
    pub entries: u64,
    /// Signed checkpoints whose roots were recomputed and matched.
    pub checkpoints_checked: usize,
    /// Checkpoints in the history signed by keys not given (not checked).
    pub checkpoints_unverifiable: usize,
    /// The latest signed checkpoint.
    pub latest: Checkpoint,
    /// Entries after the latest checkpoint (checked for integrity only).
    pub unsigned_tail: u64,
}

/// Audits the ledger in `dir` against the given public keys.
pub fn audit(dir: &Path, verifiers: &[NoteVerifier], origin: Option<&str>) -> Result<AuditReport> {
    let tree = rehash_entries(dir)?;
    let note = std::fs::read_to_string(dir.join(CHECKPOINT_FILE))
        .map_err(|e| Error::NotFound(format!("checkpoint file: {e}")))?;
    let latest = Checkpoint::open(&note, verifiers, origin)?;
    let mut checkpoints = vec![latest.clone()];
    let mut unverifiable = 0;
    if let Ok(f) = File::open(dir.join(HISTORY_FILE)) {
        for line in BufReader::new(f).lines() {
            let line = line?;
            let note = B64
                .decode(line.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| Error::invalid("checkpoint history", "line is not a base64 note"))?;
            match Checkpoint::open(&note, verifiers, origin) {
                Ok(cp) => checkpoints.push(cp),
                Err(Error::Verification(reason))
                    if reason.contains("no signature by a known key") =>
                {
                    unverifiable += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
    checkpoints.sort_by_key(|c| c.size);
    checkpoints.dedup();
    let mut good_up_to = 0;
    for cp in &checkpoints {
        if cp.size > tree.size() {
            return Err(Error::Corrupt {
                index: tree.size(),
                reason: format!(
                    "the log holds {} entries but a checkpoint for {} was signed: entries are missing",
                    tree.size(),
                    cp.size
                ),
            });
        }
        if tree.root_at(cp.size)? != cp.root {
            return Err(Error::Corrupt {
                index: good_up_to,
                reason: format!(
                    "the recomputed root at size {} differs from the signed checkpoint: an entry in {}..{} was altered (with its stored hash)",
                    cp.size, good_up_to, cp.size
                ),
            });
        }
        good_up_to = cp.size;
    }
    let latest_size = checkpoints.last().map_or(0, |c| c.size);
    Ok(AuditReport {
        entries: tree.size(),
        checkpoints_checked: checkpoints.len(),
        checkpoints_unverifiable: unverifiable,
        latest,
        unsigned_tail: tree.size() - latest_size,
    })
}

fn rehash_entries(dir: &Path) -> Result<Tree> {
    let file = File::open(dir.join(ENTRIES_FILE))?;
    let mut tree = Tree::new();
    let Some(mut reader) = RecordReader::new(BufReader::with_capacity(1 << 20, file))? else {
        return Ok(tree);
    };
    loop {
        let index = tree.size();
        match reader.next_record(MAX_ENTRY_BYTES)? {
            None => return Ok(tree),
            Some(Ok((hash, _))) => tree.push(hash),
            Some(Err(RecordError::Bad(reason))) => {
                return Err(Error::Corrupt {
                    index,
                    reason: format!("entry {index} was tampered with: {reason}"),
                });
            }
            Some(Err(RecordError::Truncated)) => {
                return Err(Error::Corrupt {
                    index,
                    reason: format!("entry {index} is truncated (torn write or cut file)"),
                });
            }
        }
    }
}
