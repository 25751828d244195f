//! C2SP tlog-proof: an offline proof bundle holding a leaf index, its
//! inclusion proof and a signed checkpoint. Our bundles also carry the entry
//! itself in the optional `extra` line, so a bundle verifies on its own.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::merkle::{Hash, hash_leaf, verify_inclusion};
use crate::note::NoteVerifier;

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofBundle {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub hashes: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    pub index: u64,
    pub entry: Option<Vec<u8>>,
    pub checkpoint: Checkpoint,
}

impl ProofBundle {
    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    pub fn parse(text: &str) -> Result<Self> {
        let bad = |r: &str| Error::invalid("proof bundle", r.to_string());
        let mut rest = text
            .strip_prefix(HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or_else(|| bad("missing c2sp.org/tlog-proof@v1 header"))?;
        let next_line = |rest: &mut &str| -> Result<String> {
            let (line, after) = rest.split_once('\n').ok_or_else(|| bad("truncated"))?;
            *rest = after;
            Ok(line.to_string())
        };
        let mut line = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(e) = line.strip_prefix("extra ") {
            extra = Some(B64.decode(e).map_err(|_| bad("extra is not base64"))?);
            line = next_line(&mut rest)?;
        }
        let index = line
            .strip_prefix("index ")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| bad("missing or malformed index line"))?;
        let mut hashes = Vec::new();
        loop {
            let line = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            let h = B64.decode(&line).map_err(|_| bad("hash is not base64"))?;
            hashes.push(h.try_into().map_err(|_| bad("hash is not 32 bytes"))?);
            if hashes.len() > 64 {
                return Err(bad("too many hashes"));
            }
        }
        Ok(Self {
            extra,
            index,
            hashes,
            checkpoint: rest.to_string(),
        })
    }

    /// Verifies the checkpoint signature and the inclusion of the entry (given,
    /// or else the bundle's `extra`) in the checkpoint's tree.
    pub fn verify(
        &self,
        verifiers: &[NoteVerifier],
        origin: Option<&str>,
        entry: Option<&[u8]>,
    ) -> Result<VerifiedProof> {
        let checkpoint = Checkpoint::open(&self.checkpoint, verifiers, origin)?;
        let entry = entry
            .map(<[u8]>::to_vec)
            .or_else(|| self.extra.clone())
            .ok_or_else(|| Error::invalid("proof bundle", "no entry given and none in extra"))?;
        verify_inclusion(
            self.index,
            checkpoint.size,
            &hash_leaf(&entry),
            &self.hashes,
            &checkpoint.root,
        )?;
        Ok(VerifiedProof {
            index: self.index,
            entry: Some(entry),
            checkpoint,
        })
    }
}
