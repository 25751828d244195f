//! `hypercommerce ledger …`: the operator's signing keys (keygen, rotation)
//! and offline checks anyone can run (verify a checkpoint or proof bundle
//! against a public key; audit a whole log).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use hc_ledger::{KeyDir, NoteVerifier};
use serde_json::json;

use crate::settings::Settings;

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Generate the log's signing key (once); prints the public verifier key.
    Keygen {
        /// The log's origin, also the key name (default: `ledger.origin`).
        #[arg(long)]
        origin: Option<String>,
        /// Default: `ledger.keys_dir`, else `<data-dir>/ledger/keys`.
        #[arg(long)]
        keys_dir: Option<PathBuf>,
    },
    /// Rotate the signing key: a new key becomes current and the previous one
    /// keeps co-signing checkpoints until `retire-key`. Prints both public keys.
    RotateKey {
        #[arg(long)]
        keys_dir: Option<PathBuf>,
    },
    /// Stop co-signing with the previous key (after verifiers have the new one).
    RetireKey {
        #[arg(long)]
        keys_dir: Option<PathBuf>,
    },
    /// Verify offline, against the log's public key: a signed checkpoint, a
    /// tlog-proof bundle, a customer's receipt for a loyalty fact, or a
    /// proof that a balance is at least a threshold. Exits non-zero with the
    /// reason when it does not verify.
    #[command(group(clap::ArgGroup::new("what").required(true)
        .args(["checkpoint", "proof", "receipt", "threshold_proof"])))]
    Verify {
        /// A verifier key (`name+keyid+base64`) or a file of them; repeatable.
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// Require this origin.
        #[arg(long)]
        origin: Option<String>,
        /// A signed checkpoint file.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// A proof bundle file (`c2sp.org/tlog-proof@v1`).
        #[arg(long)]
        proof: Option<PathBuf>,
        /// The entry the bundle proves (default: the bundle's `extra`).
        #[arg(long, requires = "proof")]
        entry: Option<PathBuf>,
        /// A receipt file (`hc-loyalty-receipt/1`, from
        /// `POST /v1/loyalty/customers/{id}/receipts`).
        #[arg(long)]
        receipt: Option<PathBuf>,
        /// A threshold-proof file (`hc-loyalty-threshold/1`, from
        /// `POST /v1/loyalty/customers/{id}/threshold-proofs`).
        #[arg(long)]
        threshold_proof: Option<PathBuf>,
    },
    /// Re-read the whole log, re-hash every entry and check the tree against
    /// every signed checkpoint. Exits non-zero naming the first tampered entry.
    Audit {
        /// Default: `ledger.dir`, else `<data-dir>/ledger/log`.
        #[arg(long)]
        log_dir: Option<PathBuf>,
        /// Verifier keys (default: the public keys in the keys directory).
        #[arg(long = "key")]
        keys: Vec<String>,
        #[arg(long)]
        origin: Option<String>,
    },
}

pub fn run(settings: &Settings, cmd: LedgerCommand) -> Result<()> {
    let cfg = &settings.ledger;
    let keys_dir = |d: Option<PathBuf>| d.unwrap_or_else(|| cfg.keys_dir(&settings.data_dir));
    match cmd {
        LedgerCommand::Keygen {
            origin,
            keys_dir: d,
        } => {
            let origin = origin.unwrap_or_else(|| cfg.origin.clone());
            let v = KeyDir::new(&keys_dir(d)).generate(&origin)?;
            println!("{}", v.to_vkey());
        }
        LedgerCommand::RotateKey { keys_dir: d } => {
            let (new, old) = KeyDir::new(&keys_dir(d)).rotate()?;
            println!(
                "{}",
                json!({"current": new.to_vkey(), "previous": old.to_vkey()})
            );
        }
        LedgerCommand::RetireKey { keys_dir: d } => {
            match KeyDir::new(&keys_dir(d)).retire_previous()? {
                Some(old) => println!("{}", json!({"retired": old.to_vkey()})),
                None => bail!("there is no previous key to retire"),
            }
        }
        LedgerCommand::Verify {
            keys,
            origin,
            checkpoint,
            proof,
            entry,
            receipt,
            threshold_proof,
        } => {
            let verifiers = parse_keys(&keys)?;
            let origin = origin.as_deref();
            if let Some(path) = receipt {
                let v = hc_ledger::FactReceipt::parse(&read_text(&path)?)
                    .and_then(|r| r.verify(&verifiers, origin))
                    .context("receipt does NOT verify")?;
                println!(
                    "{}",
                    json!({"verified": "receipt", "fact": v.fact, "index": v.index,
                           "origin": v.checkpoint.origin, "tree_size": v.checkpoint.size})
                );
            } else if let Some(path) = threshold_proof {
                let proofs = hc_ledger::Bulletproofs::default();
                let v = hc_ledger::ThresholdProof::parse(&read_text(&path)?)
                    .and_then(|p| p.verify(&proofs, &verifiers, origin))
                    .context("threshold proof does NOT verify")?;
                println!(
                    "{}",
                    json!({"verified": "balance_at_least", "threshold": v.threshold,
                           "committed_at": v.at, "index": v.index,
                           "origin": v.checkpoint.origin, "tree_size": v.checkpoint.size})
                );
            } else if let Some(path) = checkpoint {
                let note = read_text(&path)?;
                let cp = hc_ledger::verify_checkpoint(&note, &verifiers, origin)
                    .context("checkpoint does NOT verify")?;
                println!(
                    "{}",
                    json!({"verified": "checkpoint", "origin": cp.origin, "tree_size": cp.size,
                           "root": B64.encode(cp.root)})
                );
            } else if let Some(path) = proof {
                let bundle = read_text(&path)?;
                let entry = entry
                    .map(|p| {
                        std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
                    })
                    .transpose()?;
                let v =
                    hc_ledger::verify_proof_bundle(&bundle, &verifiers, origin, entry.as_deref())
                        .context("proof bundle does NOT verify")?;
                let entry = v.entry.unwrap_or_default();
                println!(
                    "{}",
                    json!({"verified": "inclusion", "index": v.index, "origin": v.checkpoint.origin,
                           "tree_size": v.checkpoint.size, "root": B64.encode(v.checkpoint.root),
                           "entry": String::from_utf8(entry.clone()).unwrap_or_else(|_| B64.encode(&entry))})
                );
            }
        }
        LedgerCommand::Audit {
            log_dir,
            keys,
            origin,
        } => {
            let log_dir = log_dir.unwrap_or_else(|| cfg.log_dir(&settings.data_dir));
            let verifiers = if keys.is_empty() {
                let dir = cfg.keys_dir(&settings.data_dir);
                let mut v = Vec::new();
                for which in ["current.vkey", "previous.vkey"] {
                    let p = dir.join(which);
                    if p.exists() {
                        v.push(NoteVerifier::from_vkey(&read_text(&p)?)?);
                    }
                }
                if v.is_empty() {
                    bail!("no --key given and no public key in {}", dir.display());
                }
                v
            } else {
                parse_keys(&keys)?
            };
            let report = hc_ledger::audit(&log_dir, &verifiers, origin.as_deref())
                .with_context(|| format!("AUDIT FAILED for {}", log_dir.display()))?;
            println!(
                "{}",
                json!({"audit": "ok", "entries": report.entries,
                       "checkpoints_checked": report.checkpoints_checked,
                       "checkpoints_unverifiable": report.checkpoints_unverifiable,
                       "latest_checkpoint_size": report.latest.size,
                       "unsigned_tail": report.unsigned_tail})
            );
        }
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Each argument is a verifier key, or a file holding one per line.
fn parse_keys(args: &[String]) -> Result<Vec<NoteVerifier>> {
    let mut out = Vec::new();
    for a in args {
        let path = Path::new(a);
        if path.is_file() {
            for line in read_text(path)?.lines().filter(|l| !l.trim().is_empty()) {
                out.push(NoteVerifier::from_vkey(line)?);
            }
        } else {
            out.push(
                NoteVerifier::from_vkey(a)
                    .with_context(|| format!("{a:?} is neither a key file nor a verifier key"))?,
            );
        }
    }
    Ok(out)
}
