//! Checkpoints: signed, persisted, never inconsistent; key rotation; proof
//! bundles verified offline.

use hc_ledger::{
    Checkpoint, Error, KeyDir, Ledger, LogOptions, verify_checkpoint, verify_proof_bundle,
};

use crate::{ORIGIN, open_ledger, signer};

#[test]
fn checkpoints_are_signed_persisted_and_reused_until_the_log_grows() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path());
    let empty = ledger.checkpoint().unwrap();
    let cp = verify_checkpoint(&empty, &[signer(1).verifier()], Some(ORIGIN)).unwrap();
    assert_eq!(cp.size, 0);
    for i in 0..5u8 {
        ledger.append(&[i]).unwrap();
    }
    let note = ledger.checkpoint().unwrap();
    assert_eq!(
        ledger.checkpoint().unwrap(),
        note,
        "re-signed without growth"
    );
    let cp = verify_checkpoint(&note, &[signer(1).verifier()], Some(ORIGIN)).unwrap();
    assert_eq!(cp.size, 5);
    assert_eq!(cp.root, ledger.log().with_tree(|t| t.root()));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("checkpoint")).unwrap(),
        note
    );
    // A forged signature (another key with the same name) is refused.
    assert!(verify_checkpoint(&note, &[signer(2).verifier()], Some(ORIGIN)).is_err());
}

#[test]
fn the_ledger_never_signs_a_checkpoint_inconsistent_with_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path());
    for i in 0..4u8 {
        ledger.append(&[i]).unwrap();
    }
    ledger.checkpoint().unwrap();
    let root4 = ledger.log().with_tree(|t| t.root());
    // Same size, other root.
    assert!(matches!(
        ledger.sign_tree_head(4, [0; 32]),
        Err(Error::Inconsistent(_))
    ));
    // Smaller size.
    let root3 = ledger.log().with_tree(|t| t.root_at(3)).unwrap();
    assert!(matches!(
        ledger.sign_tree_head(3, root3),
        Err(Error::Inconsistent(_))
    ));
    ledger.append(&[9]).unwrap();
    // Larger size whose root does not extend the signed tree.
    assert!(matches!(
        ledger.sign_tree_head(5, [1; 32]),
        Err(Error::Inconsistent(_))
    ));
    // The consistent head signs.
    let root5 = ledger.log().with_tree(|t| t.root());
    ledger.sign_tree_head(5, root5).unwrap();
    let _ = root4;
}

#[test]
fn reopening_a_log_rewritten_under_a_signed_checkpoint_fails() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ledger = open_ledger(dir.path());
        ledger.append(b"a").unwrap();
        ledger.append(b"b").unwrap();
        ledger.checkpoint().unwrap();
    }
    // Replace the whole log with different (self-consistent) entries.
    std::fs::remove_file(dir.path().join("entries.log")).unwrap();
    {
        let (log, _) = hc_ledger::Log::open(dir.path(), LogOptions::default()).unwrap();
        log.append(b"x").unwrap();
        log.append(b"y").unwrap();
    }
    let err = Ledger::open(dir.path(), ORIGIN, vec![signer(1)], LogOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Inconsistent(_)), "{err}");
}

#[test]
fn proof_bundles_verify_offline_and_reject_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path());
    for i in 0..300u32 {
        ledger.append(format!("entry {i}").as_bytes()).unwrap();
    }
    let bundle = ledger.proof_bundle(123).unwrap();
    assert!(bundle.starts_with("c2sp.org/tlog-proof@v1\nextra "));
    let keys = [signer(1).verifier()];
    let v = verify_proof_bundle(&bundle, &keys, Some(ORIGIN), None).unwrap();
    assert_eq!(v.index, 123);
    assert_eq!(v.entry.as_deref(), Some(&b"entry 123"[..]));
    assert_eq!(v.checkpoint.size, 300);
    // The wrong entry, the wrong index, the wrong key: refused.
    assert!(verify_proof_bundle(&bundle, &keys, Some(ORIGIN), Some(b"entry 124")).is_err());
    let wrong_index = bundle.replacen("index 123\n", "index 122\n", 1);
    assert!(verify_proof_bundle(&wrong_index, &keys, Some(ORIGIN), None).is_err());
    assert!(verify_proof_bundle(&bundle, &[signer(2).verifier()], Some(ORIGIN), None).is_err());
    // A proof for another tree size: the checkpoint of size 300 is swapped
    // for a later one, so the proof no longer fits.
    ledger.append(b"one more").unwrap();
    let later = ledger.checkpoint().unwrap();
    let old_note = &bundle[bundle.find(ORIGIN).unwrap()..];
    let swapped = bundle.replacen(old_note, &later, 1);
    assert!(verify_proof_bundle(&swapped, &keys, Some(ORIGIN), None).is_err());
    assert!(matches!(
        ledger.proof_bundle(10_000),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn rotated_keys_cosign_until_the_old_one_is_retired() {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyDir::new(&dir.path().join("keys"));
    let old = keys.generate(ORIGIN).unwrap();
    let (new, _) = keys.rotate().unwrap();
    let data = dir.path().join("log");
    let (ledger, _) = Ledger::open(
        &data,
        ORIGIN,
        keys.signers().unwrap(),
        LogOptions::default(),
    )
    .unwrap();
    ledger.append(b"a").unwrap();
    let note = ledger.checkpoint().unwrap();
    // Verifiers holding either key accept it.
    verify_checkpoint(&note, std::slice::from_ref(&old), Some(ORIGIN)).unwrap();
    verify_checkpoint(&note, std::slice::from_ref(&new), Some(ORIGIN)).unwrap();
    drop(ledger);
    keys.retire_previous().unwrap();
    let (ledger, _) = Ledger::open(
        &data,
        ORIGIN,
        keys.signers().unwrap(),
        LogOptions::default(),
    )
    .unwrap();
    ledger.append(b"b").unwrap();
    let note = ledger.checkpoint().unwrap();
    assert!(verify_checkpoint(&note, &[old], Some(ORIGIN)).is_err());
    let cp: Checkpoint = verify_checkpoint(&note, &[new], Some(ORIGIN)).unwrap();
    assert_eq!(cp.size, 2);
}

#[test]
fn on_demand_checkpoints_respect_the_interval_but_bundles_are_always_covered() {
    let dir = tempfile::tempdir().unwrap();
    let ledger =
        open_ledger(dir.path()).with_checkpoint_interval(std::time::Duration::from_secs(3600));
    ledger.append(b"a").unwrap();
    let first = ledger.checkpoint().unwrap();
    ledger.append(b"b").unwrap();
    // Within the interval: the same checkpoint, though the log grew.
    assert_eq!(ledger.checkpoint().unwrap(), first);
    // A bundle for the new entry signs a covering checkpoint anyway.
    let bundle = ledger.proof_bundle(1).unwrap();
    let v = verify_proof_bundle(&bundle, &[signer(1).verifier()], Some(ORIGIN), None).unwrap();
    assert_eq!(v.checkpoint.size, 2);
    assert_ne!(ledger.checkpoint().unwrap(), first);
}
