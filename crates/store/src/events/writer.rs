//! The SQLite group-commit writer for event batches (the pattern of
//! `turn_writer.rs`): one thread owns a rusqlite connection, drains every
//! batch waiting at that moment into one transaction (a savepoint per batch,
//! so one failing batch leaves the others intact) and acknowledges each batch
//! only after the commit. Event documents are serialised by the callers.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use hc_domain::{Event, Session, SessionId};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use super::{Appended, sessionize};
use crate::db::Synchronous;
use crate::error::{Error, Result};

/// Largest number of batches committed together.
const MAX_JOBS: usize = 64;

const LATEST_SESSION: &str = "select doc from sessions where tenant_id = ?1 and sender_id = ?2 \
     order by ordinal desc limit 1";
const INSERT_EVENT: &str = "insert into events (tenant_id, event_id, session_id, type, ts_ms, \
     customer_id, doc, received_at_ms) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
     on conflict (tenant_id, event_id) do nothing";
pub(crate) const UPSERT_SESSION: &str = "insert into sessions (tenant_id, id, sender_id, ordinal, \
     customer_id, started_at_ms, last_event_at_ms, doc) values ($1, $2, $3, $4, $5, $6, $7, $8) \
     on conflict (tenant_id, id) do update set customer_id = excluded.customer_id, \
     started_at_ms = excluded.started_at_ms, last_event_at_ms = excluded.last_event_at_ms, \
     doc = excluded.doc";

/// One batch waiting for the writer, already validated and serialised.
#[derive(Debug)]
pub(crate) struct EventJob {
    pub tenant: String,
    pub events: Vec<Event>,
    pub docs: Vec<String>,
    pub received_at_ms: i64,
    pub done: oneshot::Sender<Result<Appended>>,
}

fn unavailable(e: rusqlite::Error) -> Error {
    Error::Unavailable(e.to_string())
}

/// Opens the writer's connection to `path` and starts its thread; it ends
/// when every sender is dropped.
pub(crate) fn spawn(
    path: PathBuf,
    synchronous: Synchronous,
    busy_timeout: Duration,
) -> Result<mpsc::Sender<EventJob>> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags).map_err(unavailable)?;
    conn.busy_timeout(busy_timeout).map_err(unavailable)?;
    conn.execute_batch(match synchronous {
        Synchronous::Normal => "pragma synchronous = normal;",
        Synchronous::Full => "pragma synchronous = full;",
    })
    .map_err(unavailable)?;
    let (sender, mut queue) = mpsc::channel::<EventJob>(1024);
    std::thread::Builder::new()
        .name("hc-event-writer".into())
        .spawn(move || {
            while let Some(first) = queue.blocking_recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_JOBS {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                write_jobs(&conn, batch);
            }
        })
        .map_err(|e| Error::Unavailable(format!("cannot start the event writer: {e}")))?;
    Ok(sender)
}

fn corrupt(e: serde_json::Error) -> Error {
    Error::Corrupt(e.to_string())
}

/// Sessionizes and stores one batch, skipping repeats within the batch and
/// the events in `skip` (indices already known to be stored). Optimistic:
/// events are inserted without looking them up first, so the common case
/// (no duplicates) costs one insert each; if an insert finds its id already
/// stored, the indices of those events are returned instead, and the caller
/// rolls the batch back and runs it again without them (the sessions must
/// not count them).
fn apply(
    conn: &Connection,
    job: &EventJob,
    skip: &HashSet<usize>,
) -> Result<std::result::Result<Appended, Vec<usize>>> {
    let t = job.tenant.as_str();
    let mut seen = HashSet::with_capacity(job.events.len());
    let mut fresh = Vec::with_capacity(job.events.len());
    for (i, e) in job.events.iter().enumerate() {
        if seen.insert(e.event_id.as_str()) && !skip.contains(&i) {
            fresh.push(i);
        }
    }
    let events: Vec<&Event> = fresh.iter().map(|&i| &job.events[i]).collect();
    let mut latest: HashMap<SessionId, Session> = HashMap::new();
    {
        let mut load = conn.prepare_cached(LATEST_SESSION).map_err(unavailable)?;
        let mut looked_up: HashSet<&SessionId> = HashSet::new();
        for e in &events {
            if !looked_up.insert(&e.session_id) {
                continue;
            }
            let doc: Option<String> = load
                .query_row(params![t, e.session_id.as_str()], |r| r.get(0))
                .optional()
                .map_err(unavailable)?;
            if let Some(doc) = doc {
                latest.insert(
                    e.session_id.clone(),
                    serde_json::from_str(&doc).map_err(corrupt)?,
                );
            }
        }
    }
    let plan = sessionize::plan(&events, &latest);
    let mut stored_before = Vec::new();
    {
        let mut insert = conn.prepare_cached(INSERT_EVENT).map_err(unavailable)?;
        for (k, &i) in fresh.iter().enumerate() {
            let e = &job.events[i];
            let inserted = insert
                .execute(params![
                    t,
                    e.event_id.as_str(),
                    plan.assignments[k].as_str(),
                    e.kind.as_str(),
                    e.timestamp_ms,
                    e.customer_id.as_ref().map(|c| c.as_str()),
                    job.docs[i],
                    job.received_at_ms
                ])
                .map_err(unavailable)?;
            if inserted == 0 {
                stored_before.push(i);
            }
        }
    }
    if !stored_before.is_empty() {
        return Ok(Err(stored_before));
    }
    let mut upsert = conn.prepare_cached(UPSERT_SESSION).map_err(unavailable)?;
    for s in &plan.sessions {
        let doc = serde_json::to_string(s).map_err(corrupt)?;
        upsert
            .execute(params![
                t,
                s.id.as_str(),
                s.sender_session_id.as_str(),
                i64::from(s.ordinal),
                s.customer_id.as_ref().map(|c| c.as_str()),
                s.started_at_ms,
                s.last_event_at_ms,
                doc
            ])
            .map_err(unavailable)?;
    }
    let accepted = fresh.len() as u64;
    Ok(Ok(Appended {
        accepted,
        duplicates: job.events.len() as u64 - accepted,
    }))
}

/// One batch in a savepoint of its own; retried without the events found
/// already stored (a single writer, so the second run finds none).
fn apply_in_savepoint(conn: &Connection, job: &EventJob) -> Result<Appended> {
    let mut skip = HashSet::new();
    for _ in 0..3 {
        conn.execute_batch("savepoint batch").map_err(unavailable)?;
        match apply(conn, job, &skip) {
            Ok(Ok(a)) => {
                conn.execute_batch("release batch").map_err(unavailable)?;
                return Ok(a);
            }
            Ok(Err(stored)) => {
                conn.execute_batch("rollback to batch; release batch")
                    .map_err(unavailable)?;
                skip.extend(stored);
            }
            Err(e) => {
                conn.execute_batch("rollback to batch; release batch")
                    .map_err(unavailable)?;
                return Err(e);
            }
        }
    }
    Err(Error::Conflict(
        "events kept appearing while the batch was written".into(),
    ))
}

fn write_jobs(conn: &Connection, jobs: Vec<EventJob>) {
    let fail_all = |jobs: Vec<EventJob>, e: Error| {
        for job in jobs {
            let _ = job.done.send(Err(e.clone()));
        }
    };
    if let Err(e) = conn.execute_batch("begin immediate") {
        return fail_all(jobs, unavailable(e));
    }
    let outcomes: Vec<Result<Appended>> =
        jobs.iter().map(|j| apply_in_savepoint(conn, j)).collect();
    match conn.execute_batch("commit") {
        Ok(()) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.done.send(outcome);
            }
        }
        Err(e) => {
            let _ = conn.execute_batch("rollback");
            fail_all(jobs, unavailable(e));
        }
    }
}
