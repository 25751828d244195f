//! Untrusted text never panics a parser, and what parses re-encodes to the
//! same bytes (one canonical form).

use hc_ledger::note::open;
use hc_ledger::{Checkpoint, NoteVerifier, ProofBundle, TilePath};
use proptest::prelude::*;

use crate::signer;

proptest! {
    #[test]
    fn tile_paths_parse_canonically_or_fail(s in "[0-9xep./a-z]{0,24}") {
        if let Ok(t) = TilePath::parse(&s) {
            prop_assert_eq!(t.to_path(), s);
        }
    }

    #[test]
    fn tile_paths_round_trip(level in 0u8..8, index in any::<u64>(), width in proptest::option::of(1u16..256)) {
        let t = TilePath { kind: hc_ledger::TileKind::Hash { level }, index, width };
        prop_assert_eq!(TilePath::parse(&t.to_path()).unwrap(), t);
    }

    #[test]
    fn checkpoints_and_bundles_and_notes_never_panic(s in "(?s).{0,300}") {
        if let Ok(cp) = Checkpoint::parse(&s) {
            prop_assert_eq!(cp.to_text(), s.clone());
        }
        let _ = ProofBundle::parse(&s);
        let _ = NoteVerifier::from_vkey(&s);
        let _ = open(&s, &[signer(1).verifier()]);
    }
}
