//! tlog-tiles computed from the log agree with the tree: a client that
//! rebuilds the root from tiles gets the checkpoint's root.

use hc_ledger::merkle::{Hash, hash_children, hash_leaf};
use hc_ledger::tiles::parse_entry_bundle;
use hc_ledger::{Error, TilePath};

use crate::open_ledger;

fn hashes(bytes: &[u8]) -> Vec<Hash> {
    bytes.chunks(32).map(|c| c.try_into().unwrap()).collect()
}

fn tile(p: &str) -> TilePath {
    TilePath::parse(p).unwrap()
}

#[test]
fn full_and_partial_tiles_hold_the_tree_s_hashes_and_entries() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(dir.path());
    let n = 256 * 2 + 10;
    for i in 0..n {
        ledger.append(format!("e{i}").as_bytes()).unwrap();
    }
    let log = ledger.log();
    // Level 0, tile 1: leaf hashes 256..512.
    let t = hashes(&log.tile(&tile("0/001")).unwrap());
    assert_eq!(t.len(), 256);
    assert_eq!(t[0], hash_leaf(b"e256"));
    // The partial rightmost tile.
    let p = hashes(&log.tile(&tile("0/002.p/10")).unwrap());
    assert_eq!(p.len(), 10);
    assert_eq!(p[9], hash_leaf(b"e521"));
    assert!(matches!(
        log.tile(&tile("0/002.p/11")),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(log.tile(&tile("0/002")), Err(Error::NotFound(_))));
    // Level 1 partial tile: the roots of the two full 256-leaf subtrees.
    let l1 = hashes(&log.tile(&tile("1/000.p/2")).unwrap());
    let root512 = log.with_tree(|tr| tr.root_at(512)).unwrap();
    assert_eq!(hash_children(&l1[0], &l1[1]), root512);
    assert_eq!(l1[0], log.with_tree(|tr| tr.root_at(256)).unwrap());
    // Entry bundles.
    let b = parse_entry_bundle(&log.tile(&tile("entries/001")).unwrap()).unwrap();
    assert_eq!(b.len(), 256);
    assert_eq!(b[5], b"e261");
    let b = parse_entry_bundle(&log.tile(&tile("entries/002.p/10")).unwrap()).unwrap();
    assert_eq!(b.last().unwrap(), b"e521");
}
