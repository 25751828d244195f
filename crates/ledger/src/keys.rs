//! The operator's signing keys on disk, and their rotation.
//!
//! A key directory holds `current.key` (+ `current.vkey`) and, during a
//! rotation, `previous.key` (+ `previous.vkey`). Checkpoints are signed by
//! every key present, so verifiers holding either public key keep verifying
//! while they move to the new one; retiring removes the previous key.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::log::write_atomic;
use crate::note::{NoteSigner, NoteVerifier};

const CURRENT: &str = "current";
const PREVIOUS: &str = "previous";

/// A directory of signing keys.
#[derive(Debug, Clone)]
pub struct KeyDir {
    dir: PathBuf,
}

impl KeyDir {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, which: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{which}.{ext}"))
    }

    /// Whether a current key exists.
    pub fn exists(&self) -> bool {
        self.path(CURRENT, "key").exists()
    }

    /// Generates the first key for log `name`; refuses to overwrite one.
    pub fn generate(&self, name: &str) -> Result<NoteVerifier> {
        if self.exists() {
            return Err(Error::invalid(
                "key directory",
                format!("{} already holds a key; rotate instead", self.dir.display()),
            ));
        }
        let signer = NoteSigner::generate(name)?;
        self.write(CURRENT, &signer)?;
        Ok(signer.verifier())
    }

    /// Makes the current key the previous one and generates a new current
    /// key with the same name. Returns `(new, previous)` public keys.
    pub fn rotate(&self) -> Result<(NoteVerifier, NoteVerifier)> {
        let old = self
            .read(CURRENT)?
            .ok_or_else(|| Error::NotFound(format!("no current key in {}", self.dir.display())))?;
        let new = NoteSigner::generate(old.name())?;
        self.write(PREVIOUS, &old)?;
        self.write(CURRENT, &new)?;
        Ok((new.verifier(), old.verifier()))
    }

    /// Deletes the previous key: checkpoints are signed by the current one only.
    pub fn retire_previous(&self) -> Result<Option<NoteVerifier>> {
        let Some(old) = self.read(PREVIOUS)? else {
            return Ok(None);
        };
        std::fs::remove_file(self.path(PREVIOUS, "key"))?;
        std::fs::remove_file(self.path(PREVIOUS, "vkey"))?;
        crate::log::sync_dir(&self.dir)?;
        Ok(Some(old.verifier()))
    }

    /// The loyalty pseudonyms' HMAC key (`pseudonym.key`, 32 random bytes in
    /// hex), created on first use. Deleting it unlinks every account from its
    /// customer (crypto-shredding).
    pub fn pseudonym_key(&self) -> Result<[u8; 32]> {
        self.secret_key("pseudonym.key")
    }

    /// A 32-byte secret in `<dir>/<name>` (hex), created on first use.
    pub fn secret_key(&self, name: &str) -> Result<[u8; 32]> {
        let path = self.dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| Error::invalid("pseudonym key", "must be 64 hex characters")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                std::fs::create_dir_all(&self.dir)?;
                write_atomic(&path, format!("{}\n", hex::encode(key)).as_bytes(), true)?;
                Ok(key)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The signing keys: current first, then previous if present.
    pub fn signers(&self) -> Result<Vec<NoteSigner>> {
        let current = self
            .read(CURRENT)?
            .ok_or_else(|| Error::NotFound(format!("no signing key in {}", self.dir.display())))?;
        let mut out = vec![current];
        out.extend(self.read(PREVIOUS)?);
        Ok(out)
    }

    fn read(&self, which: &str) -> Result<Option<NoteSigner>> {
        match std::fs::read_to_string(self.path(which, "key")) {
            Ok(text) => Ok(Some(NoteSigner::from_skey(&text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn write(&self, which: &str, signer: &NoteSigner) -> Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        write_atomic(
            &self.path(which, "key"),
            format!("{}\n", signer.to_skey()).as_bytes(),
            true,
        )?;
        write_atomic(
            &self.path(which, "vkey"),
            format!("{}\n", signer.verifier().to_vkey()).as_bytes(),
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_the_old_key_as_cosigner_until_retired() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path());
        let first = keys.generate("example.com/log").unwrap();
        assert!(keys.generate("example.com/log").is_err(), "overwrote a key");
        let (second, previous) = keys.rotate().unwrap();
        assert_eq!(previous, first);
        assert_ne!(second.key_id(), first.key_id());
        let signers = keys.signers().unwrap();
        assert_eq!(signers.len(), 2);
        assert_eq!(signers[0].verifier(), second);
        assert_eq!(keys.retire_previous().unwrap(), Some(first));
        assert_eq!(keys.signers().unwrap().len(), 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("current.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
