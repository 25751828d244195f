//! Per-customer pseudonym keys, for erasing one customer (crypto-shredding).
//!
//! A customer's account is `HMAC(customer key, scope, customer)` where the
//! customer key is 32 random bytes kept in its own file,
//! `<dir>/<xx>/<index>.key`, `index = HMAC(index key, scope, customer)`.
//! Deleting that file unlinks the account on the log from the customer for
//! good: the log, its checkpoints and proofs are untouched, and nobody —
//! the operator included — can recompute the account from the customer id.
//!
//! Accounts created before per-customer keys (the legacy scheme,
//! `HMAC(global key, scope, customer)`) stay reachable: a customer with no
//! key file whose legacy account has history keeps it. Erasing such a
//! customer leaves a tombstone so the service never re-links them, but the
//! global key still derives the legacy account: it is reported as such.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::log::{sync_dir, write_atomic};
use crate::loyalty::{AccountId, Pseudonymizer};

const TOMBSTONE: &str = "erased";

/// The result of an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The account that was unlinked (none when the customer had none).
    pub account: Option<AccountId>,
    /// True when it was a legacy account (still derivable with the global
    /// key).
    pub legacy: bool,
}

/// A directory of per-customer keys.
#[derive(Debug)]
pub struct CustomerKeys {
    dir: PathBuf,
    index: Pseudonymizer,
    legacy: Pseudonymizer,
}

impl CustomerKeys {
    /// Keys under `dir`; `index_key` names the files, `legacy` derives the
    /// accounts made before per-customer keys.
    pub fn new(dir: &Path, index_key: [u8; 32], legacy: Pseudonymizer) -> Self {
        Self {
            dir: dir.to_path_buf(),
            index: Pseudonymizer::new(index_key),
            legacy,
        }
    }

    fn path(&self, scope: &str, customer: &str) -> PathBuf {
        let index = self.index.account(scope, customer);
        let name = index.as_str();
        self.dir.join(&name[..2]).join(format!("{name}.key"))
    }

    fn read(&self, path: &Path) -> Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(t) => Ok(Some(t.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn derive(key_hex: &str, scope: &str, customer: &str) -> Result<AccountId> {
        let key: [u8; 32] = hex::decode(key_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::invalid("customer key", "must be 64 hex characters"))?;
        Ok(Pseudonymizer::new(key).account(scope, customer))
    }

    /// The customer's account if they have one (no key is created).
    /// `known` tells whether an account has history on the log.
    pub fn lookup(
        &self,
        scope: &str,
        customer: &str,
        known: impl Fn(&AccountId) -> bool,
    ) -> Result<Option<AccountId>> {
        match self.read(&self.path(scope, customer))? {
            Some(t) if t == TOMBSTONE => Ok(None),
            Some(t) => Ok(Some(Self::derive(&t, scope, customer)?)),
            None => {
                let legacy = self.legacy.account(scope, customer);
                Ok(known(&legacy).then_some(legacy))
            }
        }
    }

    /// The customer's account, creating their key on first use. An erased
    /// customer who comes back gets a new, unrelated account.
    pub fn account(
        &self,
        scope: &str,
        customer: &str,
        known: impl Fn(&AccountId) -> bool,
    ) -> Result<AccountId> {
        let path = self.path(scope, customer);
        match self.read(&path)? {
            Some(t) if t != TOMBSTONE => return Self::derive(&t, scope, customer),
            Some(_) => {}
            None => {
                let legacy = self.legacy.account(scope, customer);
                if known(&legacy) {
                    return Ok(legacy);
                }
            }
        }
        let key: [u8; 32] = rand::random();
        let parent = path.parent().expect("sharded path");
        std::fs::create_dir_all(parent)?;
        write_atomic(&path, format!("{}\n", hex::encode(key)).as_bytes(), true)?;
        Self::derive(&hex::encode(key), scope, customer)
    }

    /// Deletes the customer's key (or tombstones a legacy account), durably.
    pub fn erase(
        &self,
        scope: &str,
        customer: &str,
        known: impl Fn(&AccountId) -> bool,
    ) -> Result<Erasure> {
        let path = self.path(scope, customer);
        let parent = path.parent().expect("sharded path").to_path_buf();
        match self.read(&path)? {
            Some(t) if t == TOMBSTONE => Ok(Erasure {
                account: None,
                legacy: false,
            }),
            Some(t) => {
                let account = Self::derive(&t, scope, customer)?;
                std::fs::remove_file(&path)?;
                sync_dir(&parent)?;
                Ok(Erasure {
                    account: Some(account),
                    legacy: false,
                })
            }
            None => {
                let legacy = self.legacy.account(scope, customer);
                if !known(&legacy) {
                    return Ok(Erasure {
                        account: None,
                        legacy: false,
                    });
                }
                std::fs::create_dir_all(&parent)?;
                write_atomic(&path, format!("{TOMBSTONE}\n").as_bytes(), true)?;
                Ok(Erasure {
                    account: Some(legacy),
                    legacy: true,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasing_one_customer_unlinks_only_them_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let keys = CustomerKeys::new(dir.path(), [7; 32], Pseudonymizer::new([9; 32]));
        let none = |_: &AccountId| false;
        let alice = keys.account("shop", "alice", none).unwrap();
        let bob = keys.account("shop", "bob", none).unwrap();
        assert_eq!(keys.account("shop", "alice", none).unwrap(), alice);
        assert_ne!(alice, Pseudonymizer::new([9; 32]).account("shop", "alice"));
        let e = keys.erase("shop", "alice", none).unwrap();
        assert_eq!((e.account, e.legacy), (Some(alice.clone()), false));
        assert_eq!(keys.lookup("shop", "alice", none).unwrap(), None);
        assert_eq!(keys.account("shop", "bob", none).unwrap(), bob);
        let again = keys.account("shop", "alice", none).unwrap();
        assert_ne!(again, alice, "an erased customer was re-linked");
        // No file anywhere still holds the erased key's account derivation.
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 2);
    }

    #[test]
    fn legacy_accounts_stay_reachable_and_are_tombstoned_on_erasure() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = Pseudonymizer::new([9; 32]);
        let old = legacy.account("shop", "carol");
        let keys = CustomerKeys::new(dir.path(), [7; 32], Pseudonymizer::new([9; 32]));
        let known = |a: &AccountId| *a == old;
        assert_eq!(keys.account("shop", "carol", known).unwrap(), old);
        let e = keys.erase("shop", "carol", known).unwrap();
        assert_eq!((e.account, e.legacy), (Some(old.clone()), true));
        assert_eq!(keys.lookup("shop", "carol", known).unwrap(), None);
        assert_ne!(keys.account("shop", "carol", known).unwrap(), old);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
