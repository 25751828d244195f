//! The SQLite group-commit writer for conversation turns.
//!
//! Every chat message ends in one durable write (the conversation document
//! and the turn's messages). One thread owns a rusqlite connection to the
//! database file, drains every turn waiting at that moment into one
//! transaction (each turn in its own savepoint, so one turn's version
//! conflict leaves the others intact), and acknowledges each turn only after
//! the commit. Many concurrent conversations then cost one commit, not one
//! each; and the statements run on the writer's own thread with cached
//! prepared statements, instead of four hand-offs per turn to sqlx's
//! connection worker. Documents are serialised by the caller, so that work is
//! spread over the async workers rather than queued behind the writer.
//!
//! Databases without a file (in-memory) and PostgreSQL write turns through
//! sqlx in the caller's own transaction instead (see `conversations.rs`).

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::{mpsc, oneshot};

use hc_domain::{CustomerFact, FactKind};

use crate::db::Synchronous;
use crate::error::{Error, Result};
use crate::memory::{FactRow, PRUNE_ISSUES, UPSERT_FACT};

/// Largest number of turns committed together.
const MAX_BATCH: usize = 512;

// `?N` parameters: SQLite numbers `$N` ones by first appearance, not by N.
const UPDATE_CONVERSATION: &str = "update conversations set status = ?3, \
     customer_id = ?4, version = ?5, doc = ?6, updated_at_ms = ?7 \
     where tenant_id = ?1 and id = ?2 and version = ?8";
const INSERT_DELIVERY: &str = "insert into outbox (tenant_id, conversation_id, kind, payload, \
     status, attempts, next_attempt_at_ms, created_at_ms, updated_at_ms) \
     values (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?5)";
const INSERT_MESSAGE: &str = "insert into conversation_messages \
     (tenant_id, conversation_id, seq, doc, at_ms) values (?1, ?2, ?3, ?4, ?5)";

/// One stored message of a turn, already serialised.
#[derive(Debug)]
pub(crate) struct MessageRow {
    pub seq: i64,
    pub doc: String,
    pub at_ms: i64,
}

/// An outbox delivery stored with its turn (see `outbox.rs`), already serialised.
#[derive(Debug)]
pub(crate) struct DeliveryRow {
    pub conversation: Option<String>,
    pub kind: &'static str,
    pub payload: String,
}

impl DeliveryRow {
    pub(crate) fn of(d: &hc_domain::outbox::NewDelivery) -> Self {
        Self {
            conversation: d.conversation_id.as_ref().map(|c| c.to_string()),
            kind: d.kind.as_str(),
            payload: d.payload.to_string(),
        }
    }
}

/// One turn waiting for the writer, already serialised.
#[derive(Debug)]
pub(crate) struct TurnJob {
    pub tenant: String,
    pub id: String,
    pub status: &'static str,
    pub customer: Option<String>,
    pub version: i64,
    pub doc: String,
    pub updated_at_ms: i64,
    pub expected_version: i64,
    pub messages: Vec<MessageRow>,
    pub delivery: Option<DeliveryRow>,
    /// Customer facts the turn taught (long-term memory).
    pub facts: Vec<FactRow>,
    /// Customers whose issue history is pruned after the facts are stored.
    pub prune: Vec<String>,
    pub done: oneshot::Sender<Result<()>>,
}

fn unavailable(e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::Conflict(e.to_string())
        }
        _ => Error::Unavailable(e.to_string()),
    }
}

/// Opens the writer's connection to `path` and starts its thread. The
/// thread ends when every sender is dropped.
pub(crate) fn spawn(
    path: PathBuf,
    synchronous: Synchronous,
    busy_timeout: Duration,
) -> Result<mpsc::Sender<TurnJob>> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags).map_err(unavailable)?;
    conn.busy_timeout(busy_timeout).map_err(unavailable)?;
    conn.execute_batch(match synchronous {
        Synchronous::Normal => "pragma foreign_keys = on; pragma synchronous = normal;",
        Synchronous::Full => "pragma foreign_keys = on; pragma synchronous = full;",
    })
    .map_err(unavailable)?;
    let (sender, mut queue) = mpsc::channel::<TurnJob>(4096);
    std::thread::Builder::new()
        .name("hc-turn-writer".into())
        .spawn(move || {
            while let Some(first) = queue.blocking_recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                write_batch(&conn, batch);
            }
        })
        .map_err(|e| Error::Unavailable(format!("cannot start the turn writer: {e}")))?;
    Ok(sender)
}

/// The version-checked update and the inserts of one turn.
fn apply(conn: &Connection, job: &TurnJob) -> Result<()> {
    let updated = conn
        .prepare_cached(UPDATE_CONVERSATION)
        .and_then(|mut s| {
            s.execute(params![
                job.tenant,
                job.id,
                job.status,
                job.customer,
                job.version,
                job.doc,
                job.updated_at_ms,
                job.expected_version
            ])
        })
        .map_err(unavailable)?;
    if updated != 1 {
        return Err(Error::Conflict(format!(
            "conversation {} changed concurrently",
            job.id
        )));
    }
    let mut insert = conn.prepare_cached(INSERT_MESSAGE).map_err(unavailable)?;
    for m in &job.messages {
        insert
            .execute(params![job.tenant, job.id, m.seq, m.doc, m.at_ms])
            .map_err(unavailable)?;
    }
    if let Some(d) = &job.delivery {
        conn.prepare_cached(INSERT_DELIVERY)
            .and_then(|mut s| {
                s.execute(params![
                    job.tenant,
                    d.conversation,
                    d.kind,
                    d.payload,
                    hc_domain::now_ms()
                ])
            })
            .map_err(unavailable)?;
    }
    if !job.facts.is_empty() {
        let mut upsert = conn.prepare_cached(UPSERT_FACT).map_err(unavailable)?;
        for f in &job.facts {
            upsert
                .execute(params![
                    job.tenant,
                    f.user,
                    f.kind,
                    f.slot,
                    f.subject,
                    f.value,
                    f.source,
                    f.learned_at_ms
                ])
                .map_err(unavailable)?;
        }
    }
    for user in &job.prune {
        conn.prepare_cached(PRUNE_ISSUES)
            .and_then(|mut s| {
                s.execute(params![
                    job.tenant,
                    user,
                    FactKind::Issue.as_str(),
                    CustomerFact::MAX_ISSUES as i64
                ])
            })
            .map_err(unavailable)?;
    }
    Ok(())
}

/// One turn inside the batch's transaction, in a savepoint of its own.
fn apply_in_savepoint(conn: &Connection, job: &TurnJob) -> Result<()> {
    conn.execute_batch("savepoint turn").map_err(unavailable)?;
    match apply(conn, job) {
        Ok(()) => {
            conn.execute_batch("release turn").map_err(unavailable)?;
            Ok(())
        }
        Err(e) => {
            conn.execute_batch("rollback to turn; release turn")
                .map_err(unavailable)?;
            Err(e)
        }
    }
}

fn write_batch(conn: &Connection, batch: Vec<TurnJob>) {
    let fail_all = |batch: Vec<TurnJob>, e: Error| {
        for job in batch {
            let _ = job.done.send(Err(e.clone()));
        }
    };
    if let Err(e) = conn.execute_batch("begin immediate") {
        return fail_all(batch, unavailable(e));
    }
    let outcomes: Vec<Result<()>> = batch
        .iter()
        .map(|job| apply_in_savepoint(conn, job))
        .collect();
    match conn.execute_batch("commit") {
        Ok(()) => {
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.done.send(outcome);
            }
        }
        Err(e) => {
            // Nothing of the batch is durable: undo it and tell every caller.
            let _ = conn.execute_batch("rollback");
            fail_all(batch, unavailable(e));
        }
    }
}
