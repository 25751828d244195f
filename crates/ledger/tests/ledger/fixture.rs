//! A frozen ledger written by this version (`tests/fixtures/v1`): later
//! versions must keep opening, auditing and proving it. Regenerate only for a
//! deliberate format change: `HC_LEDGER_WRITE_FIXTURE=1 cargo test -p hc-ledger fixture`.

use std::path::{Path, PathBuf};

use hc_ledger::{Ledger, LogOptions, NoteSigner, audit, verify_proof_bundle};

const ORIGIN: &str = "fixture.hypercommerce/ledger";
/// The root of the fixture's 20 entries, frozen.
const ROOT_HEX: &str = "5b092e34cdd7d4840668c033d287143f454b324aafb421503dfec66d83134a60";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

fn signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [9; 32]).unwrap()
}

fn write_fixture(dir: &Path) {
    for f in ["entries.log", "checkpoint", "checkpoints.history"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let (ledger, _) = Ledger::open(dir, ORIGIN, vec![signer()], LogOptions::default()).unwrap();
    for i in 0..20 {
        ledger
            .append(format!("fixture entry {i}").as_bytes())
            .unwrap();
        if i == 9 {
            ledger.checkpoint().unwrap();
        }
    }
    ledger.checkpoint().unwrap();
    std::fs::write(
        dir.join("vkey"),
        format!("{}\n", signer().verifier().to_vkey()),
    )
    .unwrap();
}

#[test]
fn the_v1_fixture_still_opens_audits_and_proves() {
    let src = fixture_dir();
    if std::env::var_os("HC_LEDGER_WRITE_FIXTURE").is_some() {
        write_fixture(&src);
    }
    // Work on a copy: opening must not be able to alter the fixture.
    let dir = tempfile::tempdir().unwrap();
    for f in ["entries.log", "checkpoint", "checkpoints.history", "vkey"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let vkey = std::fs::read_to_string(dir.path().join("vkey")).unwrap();
    let key = hc_ledger::NoteVerifier::from_vkey(&vkey).unwrap();
    let report = audit(dir.path(), std::slice::from_ref(&key), Some(ORIGIN)).unwrap();
    assert_eq!(report.entries, 20);
    assert_eq!(report.checkpoints_checked, 2);
    let (ledger, rec) =
        Ledger::open(dir.path(), ORIGIN, vec![signer()], LogOptions::default()).unwrap();
    assert_eq!(rec.truncated_bytes, 0);
    assert_eq!(hex::encode(ledger.log().with_tree(|t| t.root())), ROOT_HEX);
    assert_eq!(ledger.log().entry(13).unwrap(), b"fixture entry 13");
    let bundle = ledger.proof_bundle(13).unwrap();
    let v = verify_proof_bundle(&bundle, &[key], Some(ORIGIN), None).unwrap();
    assert_eq!(v.checkpoint.size, 20);
}
