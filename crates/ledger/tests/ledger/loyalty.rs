//! Loyalty on the log: the invariants hold for any sequence of operations
//! (property test), balances are recomputable from the log alone, and
//! concurrent spends never overdraw.

use std::sync::Arc;

use hc_ledger::loyalty::Balances;
use hc_ledger::{AccountId, Error, Ledger, LogOptions, Loyalty, LoyaltyOp, Pseudonymizer};
use proptest::prelude::*;

use crate::{ORIGIN, signer};

fn open(dir: &std::path::Path) -> Loyalty {
    let (ledger, _) = Ledger::open(dir, ORIGIN, vec![signer(1)], LogOptions::default()).unwrap();
    Loyalty::open(Arc::new(ledger)).unwrap()
}

fn accounts() -> Vec<AccountId> {
    let p = Pseudonymizer::new([42; 32]);
    (0..4)
        .map(|i| p.account("shop", &format!("customer-{i}")))
        .collect()
}

#[test]
fn pseudonyms_are_stable_keyed_and_carry_no_identity() {
    let p = Pseudonymizer::new([1; 32]);
    let a = p.account("shop", "alice@example.com");
    assert_eq!(a, p.account("shop", "alice@example.com"));
    assert_ne!(a, p.account("other-shop", "alice@example.com"));
    assert_ne!(
        a,
        Pseudonymizer::new([2; 32]).account("shop", "alice@example.com")
    );
    // Length-prefixed: moving a character between the parts changes the id.
    assert_ne!(p.account("ab", "c"), p.account("a", "bc"));
    assert!(!a.as_str().contains("alice"));
    assert_eq!(a.as_str().len(), 64);
}

#[test]
fn idempotency_keys_replay_and_conflict_and_overdrafts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(dir.path());
    let [a, b, ..] = &accounts()[..] else {
        unreachable!()
    };
    let earn = LoyaltyOp::earn(a.clone(), 100);
    let first = l.submit("order-1", earn.clone()).unwrap();
    assert!(!first.replayed);
    let again = l.submit("order-1", earn).unwrap();
    assert_eq!((again.index, again.replayed), (first.index, true));
    assert_eq!(l.balance(a), 100);
    let size = l.ledger().log().size();
    assert!(matches!(
        l.submit("order-1", LoyaltyOp::earn(a.clone(), 5)),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        l.submit("r-1", LoyaltyOp::redeem(a.clone(), 101)),
        Err(Error::InsufficientBalance {
            balance: 100,
            requested: 101
        })
    ));
    assert!(matches!(
        l.submit("t-1", LoyaltyOp::transfer(b.clone(), a.clone(), 1)),
        Err(Error::InsufficientBalance { balance: 0, .. })
    ));
    assert!(matches!(
        l.submit("t-2", LoyaltyOp::transfer(a.clone(), a.clone(), 1)),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        l.submit("e-0", LoyaltyOp::earn(a.clone(), 0)),
        Err(Error::Invalid { .. })
    ));
    assert!(l.submit("", LoyaltyOp::earn(a.clone(), 1)).is_err());
    assert_eq!(l.ledger().log().size(), size, "rejections wrote to the log");
    assert_eq!(l.balance(a), 100);
}

#[test]
fn concurrent_redeems_never_overdraw() {
    let dir = tempfile::tempdir().unwrap();
    let l = Arc::new(open(dir.path()));
    let a = accounts()[0].clone();
    l.submit("seed", LoyaltyOp::earn(a.clone(), 100)).unwrap();
    let handles: Vec<_> = (0..16)
        .map(|t| {
            let (l, a) = (Arc::clone(&l), a.clone());
            std::thread::spawn(move || {
                (0..10)
                    .filter(|i| {
                        l.submit(&format!("r-{t}-{i}"), LoyaltyOp::redeem(a.clone(), 3))
                            .is_ok()
                    })
                    .count()
            })
        })
        .collect();
    let accepted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(accepted, 33, "100 points buy 33 redeems of 3");
    assert_eq!(l.balance(&a), 1);
    let s = l.snapshot();
    assert_eq!(s.minted() - s.burned(), s.outstanding());
}

#[derive(Debug, Clone)]
struct Step {
    kind: u8,
    from: usize,
    to: usize,
    points: u64,
    idem: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..3, 0usize..4, 0usize..4, 1u64..60, 0u8..24).prop_map(|(kind, from, to, points, idem)| {
        Step {
            kind,
            from,
            to,
            points,
            idem,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn invariants_hold_for_any_sequence_and_balances_replay_from_the_log(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let accts = accounts();
        {
            let l = open(dir.path());
            for s in &steps {
                let op = match s.kind {
                    0 => LoyaltyOp::earn(accts[s.from].clone(), s.points),
                    1 => LoyaltyOp::redeem(accts[s.from].clone(), s.points),
                    _ => LoyaltyOp::transfer(accts[s.from].clone(), accts[s.to].clone(), s.points),
                };
                let before = l.snapshot();
                let size = l.ledger().log().size();
                match l.submit(&format!("k{}", s.idem), op) {
                    Ok(r) if r.replayed => {
                        prop_assert_eq!(l.snapshot(), before.clone());
                        prop_assert_eq!(l.ledger().log().size(), size);
                    }
                    Ok(r) => {
                        prop_assert_eq!(r.index, size);
                        prop_assert_eq!(l.ledger().log().size(), size + 1);
                    }
                    Err(e) => {
                        // Rejected: nothing changed, and the reason is a rule.
                        prop_assert!(matches!(e, Error::Conflict(_) | Error::InsufficientBalance { .. } | Error::Invalid { .. }), "{e}");
                        prop_assert_eq!(l.snapshot(), before.clone());
                        prop_assert_eq!(l.ledger().log().size(), size);
                    }
                }
                let now = l.snapshot();
                prop_assert_eq!(now.minted() - now.burned(), now.outstanding());
            }
            let live = l.snapshot();
            // Recomputable from the log alone: reopen and replay.
            drop(l);
            let reopened = open(dir.path());
            prop_assert_eq!(reopened.snapshot(), live.clone());
            let entries = reopened.ledger().log().entries(0..reopened.ledger().log().size()).unwrap();
            let replayed = Balances::replay(entries.into_iter().enumerate().map(|(i, e)| (i as u64, e))).unwrap();
            prop_assert_eq!(replayed, live);
        }
    }
}

#[test]
fn a_log_entry_that_overdraws_is_reported_as_corruption_on_replay() {
    let a = accounts()[0].clone();
    let bad = format!(
        r#"{{"loyalty":1,"idem":"x","op":{{"type":"redeem","account":"{}","points":5}}}}"#,
        a.as_str()
    );
    match Balances::replay([(0u64, b"not loyalty".to_vec()), (1, bad.into_bytes())]) {
        Err(Error::Corrupt { index, .. }) => assert_eq!(index, 1),
        other => panic!("{other:?}"),
    }
}
