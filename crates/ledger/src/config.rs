//! The ledger's settings (`[ledger]` in the config file) and where it lives
//! under the data directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::keys::KeyDir;
use crate::ledger::Ledger;
use crate::log::{LogOptions, MAX_ENTRY_BYTES, Recovery};
use crate::note::NoteVerifier;

/// Ledger settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    /// Whether the server opens and serves the ledger.
    pub enabled: bool,
    /// The log's origin line: a unique name, conventionally a URL prefix
    /// without scheme (e.g. `shop.example.com/ledger`). It is also the key name.
    pub origin: String,
    /// The log's directory (default `<data_dir>/ledger/log`).
    pub dir: Option<PathBuf>,
    /// The signing keys' directory (default `<data_dir>/ledger/keys`).
    pub keys_dir: Option<PathBuf>,
    /// Largest entry accepted, in bytes (at most 65535).
    pub max_entry_bytes: usize,
    /// Least time between checkpoints signed on demand (`GET /ledger/checkpoint`
    /// signs when the log grew; each signature costs two fsyncs). A proof
    /// bundle for a newer entry signs at once.
    pub checkpoint_interval_ms: u64,
    /// Seconds between sweeps that expire overdue loyalty points (0: none;
    /// a spend always expires its account's overdue points first).
    pub expiry_sweep_secs: u64,
    /// Seconds between measurements of deployed agents' outcomes, each
    /// writing their reputation entries (0: only on request).
    pub reputation_every_secs: u64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            origin: "hypercommerce.local/ledger".into(),
            dir: None,
            keys_dir: None,
            max_entry_bytes: MAX_ENTRY_BYTES,
            checkpoint_interval_ms: 1_000,
            expiry_sweep_secs: 3_600,
            reputation_every_secs: 86_400,
        }
    }
}

impl LedgerConfig {
    pub fn log_dir(&self, data_dir: &Path) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| data_dir.join("ledger").join("log"))
    }

    pub fn keys_dir(&self, data_dir: &Path) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("ledger").join("keys"))
    }

    /// The loyalty pseudonymizer, its key created on first use in the keys
    /// directory.
    pub fn pseudonymizer(&self, data_dir: &Path) -> Result<crate::loyalty::Pseudonymizer> {
        let key = KeyDir::new(&self.keys_dir(data_dir)).pseudonym_key()?;
        Ok(crate::loyalty::Pseudonymizer::new(key))
    }

    /// Per-customer pseudonym keys (`<keys_dir>/customers/`), with the
    /// global key deriving the accounts made before them.
    pub fn customer_keys(&self, data_dir: &Path) -> Result<crate::customer_keys::CustomerKeys> {
        let keys = KeyDir::new(&self.keys_dir(data_dir));
        let index = keys.secret_key("customer-index.key")?;
        Ok(crate::customer_keys::CustomerKeys::new(
            &self.keys_dir(data_dir).join("customers"),
            index,
            self.pseudonymizer(data_dir)?,
        ))
    }

    /// Opens the ledger; generates a signing key first when none exists yet
    /// (returned so the caller can publish it).
    pub fn open(&self, data_dir: &Path) -> Result<(Ledger, Recovery, Option<NoteVerifier>)> {
        let keys = KeyDir::new(&self.keys_dir(data_dir));
        let generated = if keys.exists() {
            None
        } else {
            Some(keys.generate(&self.origin)?)
        };
        let opts = LogOptions {
            max_entry_bytes: self.max_entry_bytes,
            ..LogOptions::default()
        };
        let (ledger, recovery) =
            Ledger::open(&self.log_dir(data_dir), &self.origin, keys.signers()?, opts)?;
        let ledger = ledger.with_checkpoint_interval(std::time::Duration::from_millis(
            self.checkpoint_interval_ms,
        ));
        Ok((ledger, recovery, generated))
    }
}
