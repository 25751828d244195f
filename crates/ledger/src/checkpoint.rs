//! C2SP tlog-checkpoint: the signed body `origin\nsize\nbase64(root)\n`
//! (plus optional extension lines), and signing/opening it as a note.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{Error, Result};
use crate::merkle::Hash;
use crate::note::{self, NoteSigner, NoteVerifier};

/// A tree head: the log's origin (its unique name), size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Optional extension lines after the root, without newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.to_string(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text of the checkpoint.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a checkpoint body (the text of the signed note).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |r: &str| Error::invalid("checkpoint", r.to_string());
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("missing origin"))?;
        let size = lines.next().ok_or_else(|| bad("missing size"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad("size is not a canonical decimal"));
        }
        let size: u64 = size.parse().map_err(|_| bad("size out of range"))?;
        let root = lines.next().ok_or_else(|| bad("missing root hash"))?;
        let root = B64
            .decode(root)
            .map_err(|_| bad("root hash is not base64"))?;
        let root: Hash = root
            .try_into()
            .map_err(|_| bad("root hash is not 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint as a note with every key.
    pub fn sign(&self, signers: &[NoteSigner]) -> Result<String> {
        note::sign(&self.to_text(), signers)
    }

    /// Opens a signed checkpoint with known keys, checking the origin when
    /// one is expected.
    pub fn open(
        msg: &str,
        verifiers: &[NoteVerifier],
        expected_origin: Option<&str>,
    ) -> Result<Self> {
        let opened = note::open(msg, verifiers)?;
        let cp = Self::parse(&opened.text)?;
        if let Some(origin) = expected_origin
            && cp.origin != origin
        {
            return Err(Error::verification(format!(
                "checkpoint origin {:?} is not the expected {origin:?}",
                cp.origin
            )));
        }
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_text_round_trips() {
        let cp = Checkpoint::new("example.com/log", 42, [9; 32]);
        let text = cp.to_text();
        assert_eq!(
            text,
            "example.com/log\n42\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n"
        );
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
    }

    #[test]
    fn malformed_checkpoints_are_rejected() {
        for bad in [
            "",
            "origin\n",
            "origin\n01\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n",
            "origin\n-1\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n",
            "origin\n1\nCQkJ\n",
            "origin\n1\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn signed_checkpoint_opens_only_with_its_key_and_origin() {
        let s = NoteSigner::from_seed("example.com/log", [3; 32]).unwrap();
        let cp = Checkpoint::new("example.com/log", 7, [1; 32]);
        let msg = cp.sign(std::slice::from_ref(&s)).unwrap();
        assert_eq!(
            Checkpoint::open(&msg, &[s.verifier()], Some("example.com/log")).unwrap(),
            cp
        );
        assert!(Checkpoint::open(&msg, &[s.verifier()], Some("other")).is_err());
        let forged = msg.replacen("\n7\n", "\n8\n", 1);
        assert!(Checkpoint::open(&forged, &[s.verifier()], None).is_err());
    }
}
