//! Group commit, torn-tail recovery and corruption detection on reopen.

use std::io::Write;
use std::sync::Arc;

use hc_ledger::{Error, Log, LogOptions};

fn entries_path(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("entries.log")
}

#[test]
fn concurrent_appenders_get_distinct_indices_and_everything_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = Log::open(dir.path(), LogOptions::default()).unwrap();
    let log = Arc::new(log);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..200)
                    .map(|i| {
                        let data = format!("t{t}-{i}");
                        (log.append(data.as_bytes()).unwrap(), data)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let acked: Vec<(u64, String)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(log.size(), 1600);
    let mut indices: Vec<u64> = acked.iter().map(|(i, _)| *i).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..1600).collect::<Vec<_>>());
    let root = log.with_tree(|t| t.root());
    drop(log);
    let (log, rec) = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(rec.entries, 1600);
    assert_eq!(rec.truncated_bytes, 0);
    assert_eq!(log.with_tree(|t| t.root()), root);
    for (i, data) in acked {
        assert_eq!(log.entry(i).unwrap(), data.as_bytes());
    }
}

#[test]
fn empty_and_oversized_entries_are_rejected_and_leave_the_log_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = Log::open(dir.path(), LogOptions::default()).unwrap();
    log.append(b"ok").unwrap();
    assert!(matches!(log.append(b""), Err(Error::Invalid { .. })));
    assert!(matches!(
        log.append(&vec![1u8; 65_536]),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        log.append_all(&[b"fine".to_vec(), vec![]]),
        Err(Error::Invalid { .. })
    ));
    assert_eq!(log.size(), 1);
    log.append(&vec![7u8; 65_535]).unwrap();
    assert_eq!(log.entry(1).unwrap().len(), 65_535);
}

#[test]
fn a_torn_tail_is_truncated_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = Log::open(dir.path(), LogOptions::default()).unwrap();
        for i in 0..10u8 {
            log.append(&[i; 20]).unwrap();
        }
    }
    let len = std::fs::metadata(entries_path(dir.path())).unwrap().len();
    // Half a record: a header claiming 20 bytes and only 5 of them.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(entries_path(dir.path()))
        .unwrap();
    let mut partial = 20u32.to_be_bytes().to_vec();
    partial.extend_from_slice(&[0xAB; 32 + 5]);
    f.write_all(&partial).unwrap();
    drop(f);
    let (log, rec) = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(rec.entries, 10);
    assert_eq!(rec.truncated_bytes, partial.len() as u64);
    assert_eq!(
        std::fs::metadata(entries_path(dir.path())).unwrap().len(),
        len
    );
    // The log goes on from the last durable entry.
    assert_eq!(log.append(b"next").unwrap(), 10);
}

#[test]
fn a_zero_filled_tail_is_truncated_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = Log::open(dir.path(), LogOptions::default()).unwrap();
        log.append(b"one").unwrap();
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(entries_path(dir.path()))
        .unwrap();
    f.write_all(&[0u8; 4096]).unwrap();
    drop(f);
    let (_, rec) = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(rec.entries, 1);
    assert_eq!(rec.truncated_bytes, 4096);
}

#[test]
fn a_flipped_byte_in_the_middle_refuses_to_open_and_names_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = Log::open(dir.path(), LogOptions::default()).unwrap();
        for i in 0..5u8 {
            log.append(&[i; 10]).unwrap();
        }
    }
    // Entry 2's data starts at 8 + 2 × 46 + 36.
    let mut bytes = std::fs::read(entries_path(dir.path())).unwrap();
    bytes[8 + 2 * 46 + 36 + 3] ^= 1;
    std::fs::write(entries_path(dir.path()), &bytes).unwrap();
    match Log::open(dir.path(), LogOptions::default()) {
        Err(Error::Corrupt { index, .. }) => assert_eq!(index, 2),
        other => panic!("expected corruption at entry 2, got {other:?}"),
    }
}

#[test]
fn per_append_fsync_mode_gives_the_same_log() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LogOptions {
        group_commit: false,
        ..LogOptions::default()
    };
    let (log, _) = Log::open(dir.path(), opts.clone()).unwrap();
    let log = Arc::new(log);
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for i in 0..20 {
                    log.append(format!("{t}/{i}").as_bytes()).unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(log.size(), 80);
    drop(log);
    assert_eq!(Log::open(dir.path(), opts).unwrap().1.entries, 80);
}
