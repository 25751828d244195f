//! Point reads on SQLite, run inline on the calling thread.
//!
//! sqlx runs every SQLite statement on a per-connection worker thread and
//! hands requests and rows across channels; for a primary-key lookup that
//! takes microseconds, the two thread hand-offs cost more than the query
//! (about a third of all CPU in the read benchmark). This reader keeps a few
//! read-only rusqlite connections and runs those lookups directly on the
//! async worker. WAL readers never wait for the writer, so the call cannot
//! stall behind a write. Writes and every other query stay on sqlx.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, Result};

/// The database file a `sqlite:` URL names; `None` for in-memory databases
/// and other URLs.
pub(crate) fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || path.starts_with("file:") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// A small pool of read-only connections to one SQLite file.
#[derive(Debug)]
pub(crate) struct InlineReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

fn unavailable(e: rusqlite::Error) -> Error {
    Error::Unavailable(e.to_string())
}

impl InlineReader {
    /// A reader for a `sqlite:` URL that names a file; `None` for in-memory databases.
    pub(crate) fn for_url(url: &str, max_idle: usize) -> Option<Self> {
        Some(Self {
            path: sqlite_file(url)?,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
        })
    }

    fn connect(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(unavailable)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(unavailable)?;
        Ok(conn)
    }

    /// Runs `sql` with two text parameters and returns the first column of the first row.
    pub(crate) fn text(&self, sql: &str, a: &str, b: &str) -> Result<Option<String>> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        let result = conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_row([a, b], |row| row.get::<_, String>(0))
                    .optional()
            })
            .map_err(unavailable);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::InlineReader;

    #[test]
    fn only_file_urls_get_an_inline_reader() {
        let r = InlineReader::for_url("sqlite:///tmp/x/hc.db?mode=rwc", 2).unwrap();
        assert_eq!(r.path.to_str(), Some("/tmp/x/hc.db"));
        assert!(InlineReader::for_url("sqlite::memory:", 2).is_none());
        assert!(InlineReader::for_url("postgres://localhost/db", 2).is_none());
    }

    #[test]
    fn reads_see_rows_committed_by_another_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        writer
            .execute_batch("pragma journal_mode = wal; create table t (a text, b text, v text);")
            .unwrap();
        let r = InlineReader::for_url(&format!("sqlite://{}", path.display()), 1).unwrap();
        let q = "select v from t where a = ?1 and b = ?2";
        assert_eq!(r.text(q, "x", "y").unwrap(), None);
        writer
            .execute("insert into t values ('x', 'y', 'first')", [])
            .unwrap();
        assert_eq!(r.text(q, "x", "y").unwrap().as_deref(), Some("first"));
        writer.execute("update t set v = 'second'", []).unwrap();
        assert_eq!(
            r.text(q, "x", "y").unwrap().as_deref(),
            Some("second"),
            "pooled connection is not stale"
        );
    }
}
