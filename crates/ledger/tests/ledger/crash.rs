//! kill -9 mid-append: the test re-executes its own binary as an appender
//! process, reads the indices it acknowledges, SIGKILLs it while appends are
//! in flight, reopens the log and checks every acknowledged entry.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hc_ledger::{Log, LogOptions};

const ROLE_ENV: &str = "HC_LEDGER_CRASH_APPENDER_DIR";

/// The child's role: append forever from 8 threads, printing each
/// acknowledged entry as `ack <index> <data> end`.
fn run_appender(dir: &str) -> ! {
    let (log, _) = Log::open(std::path::Path::new(dir), LogOptions::default()).unwrap();
    let log = Arc::new(log);
    let deadline = Instant::now() + Duration::from_secs(60);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let data = format!("thread{t}-entry{i}-{}", "x".repeat((i % 50) as usize));
                    let index = log.append(data.as_bytes()).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {index} {data} end").unwrap();
                    out.flush().unwrap();
                    i += 1;
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    std::process::exit(0)
}

#[test]
fn every_acknowledged_entry_survives_kill_9_mid_append() {
    if let Ok(dir) = std::env::var(ROLE_ENV) {
        run_appender(&dir);
    }
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash::every_acknowledged_entry_survives_kill_9_mid_append",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ROLE_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acked = Vec::new();
        let target = 3000 + round * 1000;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let parts: Vec<&str> = line.split(' ').collect();
            if let ["ack", index, data, "end"] = parts[..] {
                acked.push((index.parse::<u64>().unwrap(), data.to_string()));
            }
            if acked.len() >= target {
                // SIGKILL while the other threads are appending.
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();
        assert!(acked.len() >= target, "appender stopped early");
        let (log, recovery) = Log::open(dir.path(), LogOptions::default()).unwrap();
        let max = acked.iter().map(|(i, _)| *i).max().unwrap();
        assert!(recovery.entries > max, "acknowledged entry {max} lost");
        for (index, data) in &acked {
            assert_eq!(
                log.entry(*index).unwrap(),
                data.as_bytes(),
                "round {round}: entry {index}"
            );
        }
        // The tree reopened from disk is the tree of exactly these entries.
        let all = log.entries(0..log.size()).unwrap();
        let rebuilt =
            hc_ledger::Tree::from_leaf_hashes(all.iter().map(|e| hc_ledger::hash_leaf(e)));
        assert_eq!(rebuilt.root(), log.with_tree(|t| t.root()));
    }
}
