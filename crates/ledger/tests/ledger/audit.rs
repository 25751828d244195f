//! The audit re-reads the whole log and fails loudly on any tampered byte.

use hc_ledger::{Error, audit, hash_leaf};

use crate::{ORIGIN, open_ledger, signer};

const RECORD: u64 = 4 + 32;

fn build(dir: &std::path::Path, n: u32, checkpoint_every: u32) -> Vec<u64> {
    let ledger = open_ledger(dir);
    let mut offsets = Vec::new();
    let mut pos = 8u64;
    for i in 0..n {
        let data = format!("loyalty entry {i:05}");
        offsets.push(pos);
        pos += RECORD + data.len() as u64;
        ledger.append(data.as_bytes()).unwrap();
        if (i + 1) % checkpoint_every == 0 {
            ledger.checkpoint().unwrap();
        }
    }
    ledger.checkpoint().unwrap();
    offsets
}

#[test]
fn a_clean_log_passes_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 1000, 100);
    let report = audit(dir.path(), &[signer(1).verifier()], Some(ORIGIN)).unwrap();
    assert_eq!(report.entries, 1000);
    assert_eq!(report.latest.size, 1000);
    assert_eq!(report.unsigned_tail, 0);
    assert_eq!(report.checkpoints_checked, 10);
}

#[test]
fn a_flipped_data_byte_is_named_by_entry() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = build(dir.path(), 500, 100);
    let path = dir.path().join("entries.log");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(offsets[317] + RECORD + 4) as usize] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    match audit(dir.path(), &[signer(1).verifier()], Some(ORIGIN)) {
        Err(Error::Corrupt { index, reason }) => {
            assert_eq!(index, 317);
            assert!(reason.contains("entry 317"), "{reason}");
        }
        other => panic!("audit passed a tampered log: {other:?}"),
    }
}

#[test]
fn data_rewritten_with_its_stored_hash_is_caught_by_the_signed_roots() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = build(dir.path(), 500, 100);
    let path = dir.path().join("entries.log");
    let mut bytes = std::fs::read(&path).unwrap();
    // Rewrite entry 250 consistently (same length, fresh leaf hash).
    let at = offsets[250] as usize;
    let forged = b"loyalty entry 99999";
    bytes[at + RECORD as usize..at + RECORD as usize + forged.len()].copy_from_slice(forged);
    bytes[at + 4..at + 36].copy_from_slice(&hash_leaf(forged));
    std::fs::write(&path, &bytes).unwrap();
    match audit(dir.path(), &[signer(1).verifier()], Some(ORIGIN)) {
        Err(Error::Corrupt { index, reason }) => {
            assert_eq!(index, 200, "{reason}");
            assert!(reason.contains("200..300"), "{reason}");
        }
        other => panic!("audit passed a rewritten log: {other:?}"),
    }
}

#[test]
fn a_forged_checkpoint_fails_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 10, 100);
    let path = dir.path().join("checkpoint");
    let note = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, note.replacen("\n10\n", "\n9\n", 1)).unwrap();
    assert!(matches!(
        audit(dir.path(), &[signer(1).verifier()], Some(ORIGIN)),
        Err(Error::Verification(_))
    ));
}

#[test]
fn a_truncated_log_fails_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = build(dir.path(), 50, 100);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("entries.log"))
        .unwrap();
    f.set_len(offsets[40]).unwrap();
    assert!(matches!(
        audit(dir.path(), &[signer(1).verifier()], Some(ORIGIN)),
        Err(Error::Corrupt { index: 40, .. })
    ));
}
