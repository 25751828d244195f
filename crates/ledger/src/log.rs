//! The durable append-only entry log with group commit.
//!
//! One file, `entries.log`: an 8-byte magic, then one record per entry:
//! `u32 big-endian length || SHA-256 leaf hash (32 bytes) || data`. The stored
//! leaf hash doubles as the record checksum. An append is acknowledged only
//! after the batch holding it has been written and `fdatasync`ed; concurrent
//! appenders queue behind one leader that writes the whole queue with one
//! write and one fsync (group commit). On open, records are re-hashed; a bad
//! record at the tail (a torn write) is truncated, a bad record followed by
//! good data is corruption and refuses to open.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, RwLock};

use crate::error::{Error, Result};
use crate::merkle::{Hash, Tree, hash_leaf};

pub(crate) const MAGIC: &[u8; 8] = b"HCLEDG01";
pub(crate) const RECORD_HEADER: usize = 4 + 32;
/// Entry bundles encode lengths as uint16, which bounds an entry.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;
pub(crate) const ENTRIES_FILE: &str = "entries.log";

/// How the log commits.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// Largest entry accepted (at most [`MAX_ENTRY_BYTES`]).
    pub max_entry_bytes: usize,
    /// Group commit: one fsync covers every queued append. Off, each append
    /// gets its own write and fsync (the baseline for benchmarks).
    pub group_commit: bool,
    /// Upper bound on the bytes one batch writes.
    pub max_batch_bytes: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            max_entry_bytes: MAX_ENTRY_BYTES,
            group_commit: true,
            max_batch_bytes: 8 << 20,
        }
    }
}

/// What opening the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Durable entries in the log.
    pub entries: u64,
    /// Bytes of a torn tail that were cut off.
    pub truncated_bytes: u64,
}

struct Pending {
    hash: Hash,
    record: Vec<u8>,
}

struct State {
    queue: Vec<Pending>,
    /// Index the next append receives.
    next: u64,
    /// Entries durable on disk (and in the index).
    durable: u64,
    /// File length covering the durable entries.
    end: u64,
    flushing: bool,
    failed: Option<String>,
}

struct Index {
    tree: Tree,
    /// File offset of each entry's data, and its length.
    spans: Vec<(u64, u32)>,
}

/// A durable, append-only log of entries with an in-memory Merkle tree.
pub struct Log {
    dir: PathBuf,
    file: File,
    opts: LogOptions,
    state: Mutex<State>,
    flushed: Condvar,
    index: RwLock<Index>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("dir", &self.dir)
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

/// Encodes one record.
pub(crate) fn encode_record(data: &[u8]) -> (Hash, Vec<u8>) {
    let hash = hash_leaf(data);
    let mut record = Vec::with_capacity(RECORD_HEADER + data.len());
    record.extend_from_slice(&(data.len() as u32).to_be_bytes());
    record.extend_from_slice(&hash);
    record.extend_from_slice(data);
    (hash, record)
}

/// Why a record could not be read.
pub(crate) enum RecordError {
    /// The file ends inside the record.
    Truncated,
    /// The record is complete but wrong.
    Bad(String),
}

/// A record read back: its stored hash and data, or why it is unreadable.
pub(crate) type RecordResult = std::result::Result<(Hash, Vec<u8>), RecordError>;

/// Reads records sequentially from an entries file.
pub(crate) struct RecordReader<R> {
    inner: R,
    pub(crate) pos: u64,
}

impl<R: Read> RecordReader<R> {
    pub(crate) fn new(mut inner: R) -> Result<Option<Self>> {
        let mut magic = [0u8; 8];
        match read_full(&mut inner, &mut magic)? {
            0 => return Ok(None),
            8 if &magic == MAGIC => {}
            _ => {
                return Err(Error::Corrupt {
                    index: 0,
                    reason: "not a ledger entries file (bad magic)".into(),
                });
            }
        }
        Ok(Some(Self { inner, pos: 8 }))
    }

    /// The next record's `(hash, data)`, `Ok(None)` at a clean end of file.
    pub(crate) fn next_record(&mut self, max: usize) -> Result<Option<RecordResult>> {
        let mut header = [0u8; RECORD_HEADER];
        let n = read_full(&mut self.inner, &mut header)?;
        if n == 0 {
            return Ok(None);
        }
        if n < RECORD_HEADER {
            return Ok(Some(Err(RecordError::Truncated)));
        }
        let len = u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        if len == 0 || len > max {
            return Ok(Some(Err(RecordError::Bad(format!(
                "record length {len} out of bounds"
            )))));
        }
        let mut data = vec![0u8; len];
        if read_full(&mut self.inner, &mut data)? < len {
            return Ok(Some(Err(RecordError::Truncated)));
        }
        let stored: Hash = header[4..].try_into().expect("32 bytes");
        if hash_leaf(&data) != stored {
            return Ok(Some(Err(RecordError::Bad(
                "data does not match its stored leaf hash".into(),
            ))));
        }
        self.pos += (RECORD_HEADER + len) as u64;
        Ok(Some(Ok((stored, data))))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

impl Log {
    /// Opens (or creates) the log in `dir`, recovering from a torn tail.
    pub fn open(dir: &Path, opts: LogOptions) -> Result<(Self, Recovery)> {
        if opts.max_entry_bytes == 0 || opts.max_entry_bytes > MAX_ENTRY_BYTES {
            return Err(Error::invalid(
                "max_entry_bytes",
                format!("must be 1..={MAX_ENTRY_BYTES}"),
            ));
        }
        std::fs::create_dir_all(dir)?;
        let path = dir.join(ENTRIES_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let file_len = file.metadata()?.len();
        let mut tree = Tree::new();
        let mut spans = Vec::new();
        let mut truncated_bytes = 0;
        let mut end = MAGIC.len() as u64;
        match RecordReader::new(BufReader::with_capacity(1 << 20, &file))? {
            None => {
                file.write_all_at(MAGIC, 0)?;
                file.sync_all()?;
                sync_dir(dir)?;
            }
            Some(mut reader) => loop {
                let start = reader.pos;
                match reader.next_record(MAX_ENTRY_BYTES)? {
                    None => break,
                    Some(Ok((hash, data))) => {
                        tree.push(hash);
                        spans.push((start + RECORD_HEADER as u64, data.len() as u32));
                        end = reader.pos;
                    }
                    Some(Err(err)) => {
                        let index = spans.len() as u64;
                        if !tail_is_torn(&file, start, file_len, &err)? {
                            let RecordError::Bad(reason) = err else {
                                unreachable!("a truncated record is always a torn tail")
                            };
                            return Err(Error::Corrupt { index, reason });
                        }
                        truncated_bytes = file_len - start;
                        file.set_len(start)?;
                        file.sync_all()?;
                        break;
                    }
                }
            },
        }
        let entries = spans.len() as u64;
        let log = Self {
            dir: dir.to_path_buf(),
            file,
            opts,
            state: Mutex::new(State {
                queue: Vec::new(),
                next: entries,
                durable: entries,
                end,
                flushing: false,
                failed: None,
            }),
            flushed: Condvar::new(),
            index: RwLock::new(Index { tree, spans }),
        };
        Ok((
            log,
            Recovery {
                entries,
                truncated_bytes,
            },
        ))
    }

    /// The directory holding the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one entry; returns its index once it is durable.
    pub fn append(&self, data: &[u8]) -> Result<u64> {
        Ok(self.append_all(&[data])?.start)
    }

    /// Appends entries in order; returns their index range once all are durable.
    pub fn append_all<D: AsRef<[u8]>>(&self, entries: &[D]) -> Result<Range<u64>> {
        let range = self.enqueue(entries)?;
        self.wait_durable(range.clone())?;
        Ok(range)
    }

    /// Queues entries in order and returns the indices they will have,
    /// without waiting: callers that must order their appends with other
    /// state enqueue under their own lock, then [`wait_durable`](Self::wait_durable)
    /// outside it (so group commit still batches them). Not acknowledged
    /// until `wait_durable` returns.
    pub fn enqueue<D: AsRef<[u8]>>(&self, entries: &[D]) -> Result<Range<u64>> {
        if entries.is_empty() {
            return Err(Error::invalid("entries", "nothing to append"));
        }
        let mut records = Vec::with_capacity(entries.len());
        for e in entries {
            let data = e.as_ref();
            if data.is_empty() || data.len() > self.opts.max_entry_bytes {
                return Err(Error::invalid(
                    "entry",
                    format!(
                        "length {} is outside 1..={}",
                        data.len(),
                        self.opts.max_entry_bytes
                    ),
                ));
            }
            let (hash, record) = encode_record(data);
            records.push(Pending { hash, record });
        }
        let mut st = self.lock_state();
        if let Some(f) = &st.failed {
            return Err(Error::Unavailable(f.clone()));
        }
        let first = st.next;
        st.next += records.len() as u64;
        st.queue.extend(records);
        Ok(first..st.next)
    }

    /// Waits until the entries in `range` (from [`enqueue`](Self::enqueue))
    /// are durable, writing batches as the leader when no write is in flight.
    pub fn wait_durable(&self, range: Range<u64>) -> Result<()> {
        let last = range.end.saturating_sub(1);
        let mut st = self.lock_state();
        if range.end > st.next {
            return Err(Error::invalid("range", "entries were never enqueued"));
        }
        loop {
            if st.durable > last {
                return Ok(());
            }
            if let Some(f) = &st.failed {
                return Err(Error::Unavailable(f.clone()));
            }
            if st.flushing {
                st = self.flushed.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st.flushing = true;
            let batch = self.take_batch(&mut st.queue);
            let offset = st.end;
            drop(st);
            let written = self.write_batch(offset, &batch);
            st = self.lock_state();
            match written {
                Ok(bytes) => {
                    st.end += bytes;
                    st.durable += batch.len() as u64;
                }
                Err(e) => {
                    st.failed = Some(format!("write or fsync failed: {e}"));
                }
            }
            st.flushing = false;
            self.flushed.notify_all();
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_batch(&self, queue: &mut Vec<Pending>) -> Vec<Pending> {
        if !self.opts.group_commit {
            return vec![queue.remove(0)];
        }
        let mut bytes = 0;
        let mut n = 0;
        for p in queue.iter() {
            if n > 0 && bytes + p.record.len() > self.opts.max_batch_bytes {
                break;
            }
            bytes += p.record.len();
            n += 1;
        }
        queue.drain(..n).collect()
    }

    /// Writes and syncs a batch at `offset`, then publishes it to the index.
    fn write_batch(&self, offset: u64, batch: &[Pending]) -> Result<u64> {
        let total: usize = batch.iter().map(|p| p.record.len()).sum();
        let mut buf = Vec::with_capacity(total);
        for p in batch {
            buf.extend_from_slice(&p.record);
        }
        self.file.write_all_at(&buf, offset)?;
        self.file.sync_data()?;
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        let mut pos = offset;
        for p in batch {
            index.tree.push(p.hash);
            let len = p.record.len() - RECORD_HEADER;
            index.spans.push((pos + RECORD_HEADER as u64, len as u32));
            pos += p.record.len() as u64;
        }
        Ok(total as u64)
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        self.read_index(|i| i.tree.size())
    }

    /// Runs `f` on the current Merkle tree.
    pub fn with_tree<T>(&self, f: impl FnOnce(&Tree) -> T) -> T {
        self.read_index(|i| f(&i.tree))
    }

    fn read_index<T>(&self, f: impl FnOnce(&Index) -> T) -> T {
        f(&self.index.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The data of entry `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>> {
        let (offset, len) = self
            .read_index(|i| i.spans.get(index as usize).copied())
            .ok_or_else(|| Error::NotFound(format!("entry {index}")))?;
        let mut data = vec![0u8; len as usize];
        self.file.read_exact_at(&mut data, offset)?;
        Ok(data)
    }

    /// The data of the entries in `range` (all must exist).
    pub fn entries(&self, range: Range<u64>) -> Result<Vec<Vec<u8>>> {
        let spans: Vec<(u64, u32)> = self
            .read_index(|i| {
                i.spans
                    .get(range.start as usize..range.end as usize)
                    .map(<[_]>::to_vec)
            })
            .ok_or_else(|| Error::NotFound(format!("entries {range:?}")))?;
        let Some(&(first, _)) = spans.first() else {
            return Ok(Vec::new());
        };
        let (last_off, last_len) = *spans.last().expect("non-empty");
        let mut buf = vec![0u8; (last_off + last_len as u64 - first) as usize];
        self.file.read_exact_at(&mut buf, first)?;
        Ok(spans
            .iter()
            .map(|&(off, len)| {
                let s = (off - first) as usize;
                buf[s..s + len as usize].to_vec()
            })
            .collect())
    }
}

/// A bad record is a torn tail when nothing durable can follow it: it runs
/// past the end of the file, or everything after it is zeros (a file
/// extended by the filesystem without its data).
fn tail_is_torn(file: &File, start: u64, file_len: u64, err: &RecordError) -> Result<bool> {
    if matches!(err, RecordError::Truncated) {
        return Ok(true);
    }
    let mut header = [0u8; 4];
    file.read_exact_at(&mut header, start)?;
    let claimed = start + RECORD_HEADER as u64 + u64::from(u32::from_be_bytes(header));
    if claimed >= file_len {
        return Ok(true);
    }
    let mut rest = Vec::new();
    let mut f = file.try_clone()?;
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(start))?;
    f.read_to_end(&mut rest)?;
    Ok(rest.iter().all(|&b| b == 0))
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync
/// of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .ok_or_else(|| Error::invalid("path", "no parent directory"))?;
    let tmp = path.with_extension("tmp");
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    if private {
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}
