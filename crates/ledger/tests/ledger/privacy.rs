//! Receipts and threshold proofs: a third party verifies them with the
//! operator's public key alone, learns the fact (or that the balance is at
//! least the threshold) and never the account; every forgery fails.

use std::sync::Arc;

use hc_ledger::loyalty::Balances;
use hc_ledger::privacy::fact_commitment;
use hc_ledger::{
    Bulletproofs, Error, FactReceipt, Ledger, LogOptions, Loyalty, LoyaltyOp, Pseudonymizer,
    ThresholdProof,
};

use crate::{ORIGIN, signer};

fn open(dir: &std::path::Path) -> Loyalty {
    let (ledger, _) = Ledger::open(dir, ORIGIN, vec![signer(1)], LogOptions::default()).unwrap();
    Loyalty::open(Arc::new(ledger)).unwrap()
}

fn verifiers() -> Vec<hc_ledger::NoteVerifier> {
    vec![signer(1).verifier()]
}

fn entry_text(l: &Loyalty, index: u64) -> String {
    String::from_utf8(l.ledger().log().entry(index).unwrap()).unwrap()
}

#[test]
fn a_receipt_verifies_offline_and_the_log_holds_only_its_commitment() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(dir.path());
    let p = Pseudonymizer::new([7; 32]);
    let alice = p.account("shop", "alice");
    let bob = p.account("shop", "bob");
    let earn = l
        .submit("e-1", LoyaltyOp::earn(alice.clone(), 120))
        .unwrap();
    let receipt = l.receipt(&alice, earn.index).unwrap();

    // Round trip through the file format, then verify as a third party.
    let text = receipt.to_json();
    let verified = FactReceipt::parse(&text)
        .unwrap()
        .verify(&verifiers(), Some(ORIGIN))
        .unwrap();
    assert_eq!(verified.fact["op"], "earn");
    assert_eq!(verified.fact["points"], 120);
    assert_eq!(verified.fact["log"], ORIGIN);
    assert!(verified.index > earn.index);
    assert!(
        !text.contains(alice.as_str()),
        "the receipt names no account"
    );
    // The attest entry on the log: a commitment, no account, no points.
    let logged = entry_text(&l, verified.index);
    assert!(logged.contains("\"attest\""), "{logged}");
    assert!(
        !logged.contains(alice.as_str()) && !logged.contains("120"),
        "{logged}"
    );

    // Someone else's entry gives no receipt; neither does a missing index.
    assert!(matches!(
        l.receipt(&bob, earn.index),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(l.receipt(&alice, 999), Err(Error::NotFound(_))));
}

#[test]
fn a_receipt_with_a_changed_fact_salt_key_or_proof_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(dir.path());
    let alice = Pseudonymizer::new([7; 32]).account("shop", "alice");
    let earn = l
        .submit("e-1", LoyaltyOp::earn(alice.clone(), 120))
        .unwrap();
    let good = l.receipt(&alice, earn.index).unwrap();
    good.verify(&verifiers(), None).unwrap();

    let mut inflated = good.clone();
    inflated.fact = inflated.fact.replace("120", "1200");
    assert!(inflated.verify(&verifiers(), None).is_err());
    let mut salted = good.clone();
    salted.salt = "00".repeat(32);
    assert!(salted.verify(&verifiers(), None).is_err());
    let other_key = vec![signer(2).verifier()];
    assert!(good.verify(&other_key, None).is_err());
    // The proof of the earn entry itself is not a receipt.
    let mut wrong_entry = good.clone();
    wrong_entry.proof = l.ledger().proof_bundle(earn.index).unwrap();
    assert!(wrong_entry.verify(&verifiers(), None).is_err());
    assert!(FactReceipt::parse("{\"format\":\"other\"}").is_err());
    assert!(FactReceipt::parse(&"x".repeat(70_000)).is_err());
}

#[test]
fn a_threshold_proof_shows_the_balance_is_at_least_the_threshold_and_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(dir.path());
    let bp = Bulletproofs::default();
    let alice = Pseudonymizer::new([7; 32]).account("shop", "alice");
    l.submit("e-1", LoyaltyOp::earn(alice.clone(), 700))
        .unwrap();
    l.submit("r-1", LoyaltyOp::redeem(alice.clone(), 200))
        .unwrap();

    let proof = l.prove_balance_at_least(&bp, &alice, 500).unwrap();
    let text = proof.to_json();
    let verified = ThresholdProof::parse(&text)
        .unwrap()
        .verify(&bp, &verifiers(), Some(ORIGIN))
        .unwrap();
    assert_eq!(verified.threshold, 500);
    assert!(verified.at.is_some());
    // Neither the file nor the logged entry holds the balance or account.
    let logged = entry_text(&l, verified.index);
    assert!(logged.contains("balance_commitment"), "{logged}");
    for haystack in [&text, &logged] {
        assert!(!haystack.contains(alice.as_str()));
        assert!(!haystack.contains("\"500\"") && !haystack.contains(":500,"));
    }

    // Claiming a higher threshold with the same proof fails.
    let mut raised = proof.clone();
    raised.threshold = 501;
    assert!(raised.verify(&bp, &verifiers(), None).is_err());
    // Swapping in another commitment fails (it is not the logged one).
    let mut swapped = proof.clone();
    swapped.commitment = "11".repeat(32);
    assert!(swapped.verify(&bp, &verifiers(), None).is_err());
    // Tampered range-proof bytes fail.
    let mut tampered = proof.clone();
    tampered.range_proof = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut bytes = b64.decode(&proof.range_proof).unwrap();
        bytes[10] ^= 1;
        b64.encode(bytes)
    };
    assert!(tampered.verify(&bp, &verifiers(), None).is_err());
    // A wrong key fails.
    assert!(proof.verify(&bp, &[signer(2).verifier()], None).is_err());
}

#[test]
fn no_threshold_proof_above_the_balance_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(dir.path());
    let bp = Bulletproofs::default();
    let alice = Pseudonymizer::new([7; 32]).account("shop", "alice");
    l.submit("e-1", LoyaltyOp::earn(alice.clone(), 100))
        .unwrap();
    let size = l.ledger().log().size();
    assert!(matches!(
        l.prove_balance_at_least(&bp, &alice, 101),
        Err(Error::InsufficientBalance {
            balance: 100,
            requested: 101
        })
    ));
    assert_eq!(l.ledger().log().size(), size);
}

#[test]
fn receipts_and_commitments_replay_and_history_lists_the_accounts_entries() {
    let dir = tempfile::tempdir().unwrap();
    let bp = Bulletproofs::default();
    let p = Pseudonymizer::new([7; 32]);
    let (alice, bob) = (p.account("shop", "alice"), p.account("shop", "bob"));
    let live = {
        let l = open(dir.path());
        let e = l
            .submit("e-1", LoyaltyOp::earn(alice.clone(), 300))
            .unwrap();
        l.submit("t-1", LoyaltyOp::transfer(alice.clone(), bob.clone(), 50))
            .unwrap();
        l.receipt(&alice, e.index).unwrap();
        l.prove_balance_at_least(&bp, &alice, 100).unwrap();
        let history = l.history(&alice, 0, 10).unwrap();
        let ops: Vec<_> = history.iter().map(|h| h.fact["op"].clone()).collect();
        assert_eq!(ops, ["transfer_out", "earn"], "newest first");
        assert_eq!(l.history(&bob, 0, 10).unwrap()[0].fact["op"], "transfer_in");
        assert_eq!(l.history(&alice, 1, 10).unwrap().len(), 1);
        l.snapshot()
    };
    let reopened = open(dir.path());
    assert_eq!(reopened.snapshot(), live);
    let size = reopened.ledger().log().size();
    let replayed =
        Balances::replay((0..size).zip(reopened.ledger().log().entries(0..size).unwrap())).unwrap();
    assert_eq!(replayed, live);
}

#[test]
fn a_malformed_commitment_entry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(dir.path());
    for bad in ["", "XYZ", &"a".repeat(63), &"A".repeat(64)] {
        assert!(
            l.submit(
                "c-1",
                LoyaltyOp::Attest {
                    commitment: bad.to_string()
                }
            )
            .is_err()
        );
    }
    // The commitment function is the one a verifier recomputes.
    assert_eq!(fact_commitment(b"s", "{}").len(), 64);
}
