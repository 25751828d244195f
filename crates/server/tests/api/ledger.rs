//! The ledger's public HTTP surface through the real router: checkpoint,
//! tlog-tiles, proofs and offline bundles, verified with hc-ledger's
//! verifier as an outside client would.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hc_ledger::merkle::{Hash, hash_leaf};
use hc_ledger::tiles::parse_entry_bundle;
use hc_ledger::{
    Checkpoint, Ledger, LogOptions, NoteSigner, verify_checkpoint, verify_consistency,
    verify_inclusion, verify_proof_bundle,
};

use crate::helpers::{TestApp, spawn_app, spawn_app_with_ledger};

const ORIGIN: &str = "shop.test/ledger";

fn signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [11; 32]).unwrap()
}

async fn app_with_entries(n: u32) -> (TestApp, Arc<Ledger>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, _) =
        Ledger::open(dir.path(), ORIGIN, vec![signer()], LogOptions::default()).unwrap();
    let ledger = Arc::new(ledger);
    let batch: Vec<Vec<u8>> = (0..n).map(|i| format!("entry-{i}").into_bytes()).collect();
    if n > 0 {
        ledger.log().append_all(&batch).unwrap();
    }
    (spawn_app_with_ledger(ledger.clone()).await, ledger, dir)
}

async fn get_bytes(app: &TestApp, path: &str) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    // No API key: these endpoints are public.
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.bytes().await.unwrap().to_vec(), headers)
}

async fn checkpoint(app: &TestApp) -> Checkpoint {
    let (status, body, _) = get_bytes(app, "/ledger/checkpoint").await;
    assert_eq!(status, 200);
    verify_checkpoint(
        &String::from_utf8(body).unwrap(),
        &[signer().verifier()],
        Some(ORIGIN),
    )
    .unwrap()
}

fn hashes(bytes: &[u8]) -> Vec<Hash> {
    bytes.chunks(32).map(|c| c.try_into().unwrap()).collect()
}

#[tokio::test]
async fn a_client_rebuilds_the_signed_root_from_public_tiles() {
    let (app, _ledger, _dir) = app_with_entries(600).await;
    let cp = checkpoint(&app).await;
    assert_eq!(cp.size, 600);
    // 600 = 2 full level-0 tiles + a partial of 88; level 1 has 2 hashes.
    let (s, full, headers) = get_bytes(&app, "/ledger/tile/0/001").await;
    assert_eq!(s, 200);
    assert_eq!(full.len(), 256 * 32);
    assert!(
        headers[reqwest::header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let (s, partial, _) = get_bytes(&app, "/ledger/tile/0/002.p/88").await;
    assert_eq!(s, 200);
    let (s, level1, _) = get_bytes(&app, "/ledger/tile/1/000.p/2").await;
    assert_eq!(s, 200);
    // Root of 600 = H(H(l1[0], l1[1]), root of the 88 leaves of tile 2).
    let right = hc_ledger::merkle::root_of(&hashes(&partial));
    let l1 = hashes(&level1);
    let left = hc_ledger::merkle::hash_children(&l1[0], &l1[1]);
    assert_eq!(hc_ledger::merkle::hash_children(&left, &right), cp.root);
    // The entry bundle holds the entries whose leaf hashes are in the tile.
    let (s, bundle, _) = get_bytes(&app, "/ledger/tile/entries/002.p/88").await;
    assert_eq!(s, 200);
    let entries = parse_entry_bundle(&bundle).unwrap();
    assert_eq!(entries[0], b"entry-512");
    let leaf_hashes: Vec<Hash> = entries.iter().map(|e| hash_leaf(e)).collect();
    assert_eq!(leaf_hashes, hashes(&partial));
}

#[tokio::test]
async fn missing_and_malformed_tiles_are_rejected_with_json_errors() {
    let (app, _ledger, _dir) = app_with_entries(10).await;
    for (path, status, code) in [
        ("/ledger/tile/0/000", 404, "not_found"),
        ("/ledger/tile/0/000.p/11", 404, "not_found"),
        ("/ledger/tile/entries/001", 404, "not_found"),
        ("/ledger/tile/0/0000", 400, "invalid"),
        ("/ledger/tile/9/000", 400, "invalid"),
        ("/ledger/tile/0/000.p/0", 400, "invalid"),
        ("/ledger/tile/0/a.b/001", 400, "invalid"),
        ("/ledger/tile/entries", 400, "invalid"),
    ] {
        let r = app.get(path, "").await;
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.code(), code, "{path}");
    }
}

#[tokio::test]
async fn inclusion_and_consistency_proofs_verify_against_signed_checkpoints() {
    let (app, ledger, _dir) = app_with_entries(100).await;
    let old = checkpoint(&app).await;
    let more: Vec<Vec<u8>> = (100..250)
        .map(|i| format!("entry-{i}").into_bytes())
        .collect();
    ledger.log().append_all(&more).unwrap();
    let new = checkpoint(&app).await;
    assert_eq!(new.size, 250);

    let r = app.get("/ledger/proof/inclusion?index=42", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["tree_size"], 250);
    let proof: Vec<Hash> = r.body["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    verify_inclusion(42, 250, &hash_leaf(b"entry-42"), &proof, &new.root).unwrap();
    assert!(verify_inclusion(42, 250, &hash_leaf(b"entry-43"), &proof, &new.root).is_err());

    let r = app
        .get("/ledger/proof/consistency?old_size=100&new_size=250", "")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let proof: Vec<Hash> = r.body["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    verify_consistency(100, 250, &old.root, &new.root, &proof).unwrap();

    // Proofs for sizes the log does not have, and bad parameters.
    let r = app
        .get("/ledger/proof/inclusion?index=5&tree_size=999", "")
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid"));
    let r = app.get("/ledger/proof/inclusion?index=300", "").await;
    assert_eq!((r.status, r.code()), (400, "invalid"));
    let r = app
        .get("/ledger/proof/consistency?old_size=200&new_size=100", "")
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid"));
    let r = app.get("/ledger/proof/inclusion?index=-1", "").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
}

#[tokio::test]
async fn proof_bundles_verify_offline_with_the_published_key() {
    let (app, _ledger, _dir) = app_with_entries(37).await;
    let (s, keys, _) = get_bytes(&app, "/ledger/keys").await;
    assert_eq!(s, 200);
    let vkey = String::from_utf8(keys).unwrap();
    assert_eq!(vkey.trim(), signer().verifier().to_vkey());
    let (s, bundle, _) = get_bytes(&app, "/ledger/proof/bundle/36").await;
    assert_eq!(s, 200);
    let bundle = String::from_utf8(bundle).unwrap();
    let key = hc_ledger::NoteVerifier::from_vkey(&vkey).unwrap();
    let v = verify_proof_bundle(&bundle, std::slice::from_ref(&key), Some(ORIGIN), None).unwrap();
    assert_eq!(v.entry.as_deref(), Some(&b"entry-36"[..]));
    // A tampered entry in the bundle fails.
    let forged = bundle.replacen(&B64.encode(b"entry-36"), &B64.encode(b"entry-99"), 1);
    assert!(verify_proof_bundle(&forged, &[key], Some(ORIGIN), None).is_err());
    let r = app.get("/ledger/proof/bundle/37", "").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.get("/ledger/proof/bundle/abc", "").await;
    assert_eq!((r.status, r.code()), (400, "invalid"));
}

#[tokio::test]
async fn without_a_ledger_the_endpoints_answer_unavailable() {
    let app = spawn_app().await;
    let r = app.get("/ledger/checkpoint", "").await;
    assert_eq!((r.status, r.code()), (503, "unavailable"));
}
