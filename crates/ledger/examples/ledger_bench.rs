//! Measures the ledger: durable appends/s with group commit and with one
//! fsync per append (same run, same disk, same concurrency), inclusion proof
//! generation, a full audit, and Bulletproofs range proofs (prove and verify).
//!
//! `cargo run --release -p hc-ledger --example ledger_bench -- [threads] [seconds] [audit_entries]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hc_ledger::{Ledger, LogOptions, Loyalty, LoyaltyOp, NoteSigner, Pseudonymizer, audit};

fn appends_per_second(group_commit: bool, threads: usize, secs: f64) -> (f64, u64) {
    let dir = tempfile::tempdir_in(".").expect("tempdir");
    let opts = LogOptions {
        group_commit,
        ..LogOptions::default()
    };
    let (log, _) = hc_ledger::Log::open(dir.path(), opts).expect("open");
    let log = Arc::new(log);
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let (log, count) = (Arc::clone(&log), Arc::clone(&count));
            std::thread::spawn(move || {
                let mut i = 0u64;
                while Instant::now() < deadline {
                    // A ~100-byte loyalty event.
                    let e = format!(
                        "{{\"kind\":\"earn\",\"account\":\"{t:08x}{i:024x}\",\"points\":{i},\"idem\":\"{t}-{i}\"}}"
                    );
                    log.append(e.as_bytes()).expect("append");
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("join");
    }
    let n = count.load(Ordering::Relaxed);
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

/// Durable loyalty earns/s: each thread earns for its own customers.
fn loyalty_ops_per_second(threads: usize, secs: f64) -> f64 {
    let dir = tempfile::tempdir_in(".").expect("tempdir");
    let signer = NoteSigner::from_seed("bench/loyalty", [6; 32]).expect("key");
    let (ledger, _) = Ledger::open(
        dir.path(),
        "bench/loyalty",
        vec![signer],
        LogOptions::default(),
    )
    .expect("open");
    let loyalty = Arc::new(Loyalty::open(Arc::new(ledger)).expect("loyalty"));
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let (loyalty, count) = (Arc::clone(&loyalty), Arc::clone(&count));
            std::thread::spawn(move || {
                let p = Pseudonymizer::new([9; 32]);
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let account = p.account("bench", &format!("customer-{t}-{}", i % 100));
                    loyalty
                        .submit(&format!("order-{t}-{i}"), LoyaltyOp::earn(account, 10))
                        .expect("earn");
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("join");
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let secs: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let audit_n: u32 = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    let (group, n1) = appends_per_second(true, threads, secs);
    let (single, n2) = appends_per_second(false, threads, secs);
    println!("appends, {threads} appender threads, {secs} s each, ~100-byte entries:");
    println!("  group commit:        {group:>10.0} appends/s ({n1} durable)");
    println!("  fsync per append:    {single:>10.0} appends/s ({n2} durable)");
    let loyalty = loyalty_ops_per_second(threads, secs);
    println!("  loyalty earns:       {loyalty:>10.0} ops/s (checked, idempotent, durable)");

    // A 1M-entry ledger for proof generation and the audit.
    let dir = tempfile::tempdir_in(".").expect("tempdir");
    let signer = NoteSigner::from_seed("bench/ledger", [5; 32]).expect("key");
    let (ledger, _) = Ledger::open(
        dir.path(),
        "bench/ledger",
        vec![signer.clone()],
        LogOptions::default(),
    )
    .expect("open");
    let t = Instant::now();
    let batch: Vec<Vec<u8>> = (0..10_000u32)
        .map(|i| format!("{{\"kind\":\"earn\",\"points\":{i},\"pad\":\"{:060}\"}}", i).into_bytes())
        .collect();
    for _ in 0..audit_n / 10_000 {
        ledger.log().append_all(&batch).expect("append");
    }
    println!(
        "built a {}-entry ledger in {:.2} s (10,000-entry batches)",
        ledger.log().size(),
        t.elapsed().as_secs_f64()
    );
    ledger.checkpoint().expect("checkpoint");
    let size = ledger.log().size();
    let reps = 100_000u64;
    let t = Instant::now();
    let mut total = 0usize;
    for k in 0..reps {
        let index = (k * 7_919) % size;
        total += ledger.inclusion_proof(index, size).expect("proof").len();
    }
    let per = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "inclusion proof generation at size {size}: {:.2} µs per proof ({} hashes on average)",
        per * 1e6,
        total as u64 / reps
    );
    drop(ledger);
    let t = Instant::now();
    let report = audit(dir.path(), &[signer.verifier()], Some("bench/ledger")).expect("audit");
    println!(
        "full audit of {} entries: {:.2} s",
        report.entries,
        t.elapsed().as_secs_f64()
    );
    range_proofs();
}

/// Bulletproofs "balance ≥ threshold" proofs: proving and verifying 64-bit
/// range proofs, with a cheap baseline (a Pedersen commitment) timed in the
/// same run.
fn range_proofs() {
    use hc_ledger::RangeProofs as _;
    use hc_ledger::privacy::Blinding;
    let bp = hc_ledger::Bulletproofs::default();
    let reps = 200;
    let blindings: Vec<Blinding> = (0..reps).map(|_| Blinding::random()).collect();
    let t = Instant::now();
    let commitments: Vec<[u8; 32]> = blindings
        .iter()
        .enumerate()
        .map(|(i, r)| bp.commit(10_000 + i as u64, r))
        .collect();
    let commit = t.elapsed().as_secs_f64() / reps as f64;
    let t = Instant::now();
    let proofs: Vec<Vec<u8>> = blindings
        .iter()
        .zip(&commitments)
        .enumerate()
        .map(|(i, (r, c))| {
            bp.prove_at_least(10_000 + i as u64, r, 5_000, c)
                .expect("prove")
        })
        .collect();
    let prove = t.elapsed().as_secs_f64() / reps as f64;
    let t = Instant::now();
    let mut samples = Vec::with_capacity(reps);
    for (p, c) in proofs.iter().zip(&commitments) {
        let one = Instant::now();
        bp.verify_at_least(c, 5_000, p).expect("verify");
        samples.push(one.elapsed().as_secs_f64());
    }
    let verify = t.elapsed().as_secs_f64() / reps as f64;
    samples.sort_by(f64::total_cmp);
    let p99 = samples[samples.len() * 99 / 100 - 1];
    println!(
        "range proofs (64-bit, {reps} each, {} bytes): commit {:.3} ms, prove {:.2} ms, verify {:.2} ms mean / {:.2} ms p99",
        proofs[0].len(),
        commit * 1e3,
        prove * 1e3,
        verify * 1e3,
        p99 * 1e3
    );
}
