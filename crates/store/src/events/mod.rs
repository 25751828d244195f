//! Behavior events: the per-tenant append-only event log (deduplicated on
//! `event_id`), sessions with running counters, and the quarantine of
//! refused events. Tables `events`, `sessions`, `event_quarantine`
//! (migration 0008).
//!
//! A batch is stored whole or not at all, and `append_events` returns only
//! after its transaction committed. On a SQLite file the batches go through
//! a group-commit writer thread (`writer.rs`); on PostgreSQL and in-memory
//! SQLite through sqlx (`sql.rs`).

mod sessionize;
mod sql;
pub(crate) mod writer;

use async_trait::async_trait;
use hc_domain::{Event, Session, SessionId, StoredEvent, TenantId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use tracing::instrument;

use crate::db::SqlStore;
use crate::error::{Error, Result, corrupt, map};

/// What a stored batch added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    /// Events new to the log.
    pub accepted: u64,
    /// Events whose `event_id` was already stored (or repeated in the batch).
    pub duplicates: u64,
}

/// A refused event to keep for inspection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewQuarantine {
    /// Where it came from: `http`, `tracker` or `mqtt`.
    pub source: String,
    pub code: String,
    pub reason: String,
    /// The raw payload (cut to [`QUARANTINE_PAYLOAD_BYTES`]).
    pub payload: String,
}

/// A quarantined event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    pub id: i64,
    pub source: String,
    pub code: String,
    pub reason: String,
    pub payload: String,
    pub received_at_ms: i64,
}

/// The longest payload kept in the quarantine.
pub const QUARANTINE_PAYLOAD_BYTES: usize = 4096;

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The event log, sessions and quarantine.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores a validated batch durably (all of it or nothing); duplicates
    /// are counted, not stored again.
    async fn append_events(&self, t: &TenantId, events: Vec<Event>) -> Result<Appended>;
    /// The log after `after_seq`, in order, at most `limit` events.
    async fn events_after(
        &self,
        t: &TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    async fn session(&self, t: &TenantId, id: &SessionId) -> Result<Option<Session>>;
    /// A session's events by time, at most `limit`.
    async fn session_events(
        &self,
        t: &TenantId,
        id: &SessionId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    /// How many sessions of `customer` started before `before_ms` (returning visitors).
    async fn customer_sessions_before(
        &self,
        t: &TenantId,
        customer: &UserId,
        before_ms: i64,
    ) -> Result<u64>;
    /// The events of `customer`'s sessions (a session belongs to the
    /// customer an event of it named), by time, at most `limit`.
    async fn customer_events(
        &self,
        t: &TenantId,
        customer: &UserId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    /// How many events the tenant's log holds.
    async fn count_events(&self, t: &TenantId) -> Result<u64>;
    async fn quarantine(&self, t: &TenantId, entries: Vec<NewQuarantine>) -> Result<()>;
    /// The newest quarantined events first.
    async fn quarantined(&self, t: &TenantId, limit: u32) -> Result<Vec<QuarantineEntry>>;
}

fn stored_event(r: &AnyRow) -> Result<StoredEvent> {
    let doc: String = r.try_get("doc").map_err(map)?;
    let session: String = r.try_get("session_id").map_err(map)?;
    Ok(StoredEvent {
        seq: r.try_get("seq").map_err(map)?,
        session_id: SessionId::parse_stored(session).map_err(|e| Error::Corrupt(e.to_string()))?,
        received_at_ms: r.try_get("received_at_ms").map_err(map)?,
        event: serde_json::from_str(&doc).map_err(corrupt)?,
    })
}

#[async_trait]
impl EventStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, n = events.len()))]
    async fn append_events(&self, t: &TenantId, events: Vec<Event>) -> Result<Appended> {
        if events.is_empty() {
            return Ok(Appended::default());
        }
        let docs = events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()
            .map_err(corrupt)?;
        let received_at_ms = hc_domain::now_ms();
        match &self.events {
            Some(writer) => {
                let (done, answer) = tokio::sync::oneshot::channel();
                let job = writer::EventJob {
                    tenant: t.as_str().to_string(),
                    events,
                    docs,
                    received_at_ms,
                    done,
                };
                writer
                    .send(job)
                    .await
                    .map_err(|_| Error::Unavailable("the event writer stopped".into()))?;
                answer
                    .await
                    .map_err(|_| Error::Unavailable("the event writer stopped".into()))?
            }
            None => sql::append(self, t.as_str(), &events, &docs, received_at_ms).await,
        }
    }

    async fn events_after(
        &self,
        t: &TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        sqlx::query(
            "select seq, session_id, doc, received_at_ms from events \
             where tenant_id = $1 and seq > $2 order by seq limit $3",
        )
        .bind(t.as_str())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(stored_event)
        .collect()
    }

    async fn session(&self, t: &TenantId, id: &SessionId) -> Result<Option<Session>> {
        let row = sqlx::query("select doc from sessions where tenant_id = $1 and id = $2")
            .bind(t.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?;
        row.map(|r| {
            let doc: String = r.try_get(0).map_err(map)?;
            serde_json::from_str(&doc).map_err(corrupt)
        })
        .transpose()
    }

    async fn session_events(
        &self,
        t: &TenantId,
        id: &SessionId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        sqlx::query(
            "select seq, session_id, doc, received_at_ms from events \
             where tenant_id = $1 and session_id = $2 order by ts_ms, seq limit $3",
        )
        .bind(t.as_str())
        .bind(id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(stored_event)
        .collect()
    }

    async fn customer_sessions_before(
        &self,
        t: &TenantId,
        customer: &UserId,
        before_ms: i64,
    ) -> Result<u64> {
        let row = sqlx::query(
            "select count(*) from sessions where tenant_id = $1 and customer_id = $2 \
             and started_at_ms < $3",
        )
        .bind(t.as_str())
        .bind(customer.as_str())
        .bind(before_ms)
        .fetch_one(&self.read)
        .await
        .map_err(map)?;
        let n: i64 = row.try_get(0).map_err(map)?;
        Ok(n.max(0) as u64)
    }

    async fn customer_events(
        &self,
        t: &TenantId,
        customer: &UserId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        sqlx::query(
            "select e.seq, e.session_id, e.doc, e.received_at_ms from sessions s \
             join events e on e.tenant_id = s.tenant_id and e.session_id = s.id \
             where s.tenant_id = $1 and s.customer_id = $2 \
             order by e.ts_ms, e.seq limit $3",
        )
        .bind(t.as_str())
        .bind(customer.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(stored_event)
        .collect()
    }

    async fn count_events(&self, t: &TenantId) -> Result<u64> {
        let row = sqlx::query("select count(*) from events where tenant_id = $1")
            .bind(t.as_str())
            .fetch_one(&self.read)
            .await
            .map_err(map)?;
        let n: i64 = row.try_get(0).map_err(map)?;
        Ok(n.max(0) as u64)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, n = entries.len()))]
    async fn quarantine(&self, t: &TenantId, entries: Vec<NewQuarantine>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let now = hc_domain::now_ms();
        let mut tx = self.begin_write().await?;
        for e in &entries {
            sqlx::query(
                "insert into event_quarantine (tenant_id, source, code, reason, payload, \
                 received_at_ms) values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(t.as_str())
            .bind(e.source.as_str())
            .bind(e.code.as_str())
            .bind(cut(&e.reason, 1024))
            .bind(cut(&e.payload, QUARANTINE_PAYLOAD_BYTES))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn quarantined(&self, t: &TenantId, limit: u32) -> Result<Vec<QuarantineEntry>> {
        let rows = sqlx::query(
            "select id, source, code, reason, payload, received_at_ms from event_quarantine \
             where tenant_id = $1 order by id desc limit $2",
        )
        .bind(t.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                Ok(QuarantineEntry {
                    id: r.try_get("id").map_err(map)?,
                    source: r.try_get("source").map_err(map)?,
                    code: r.try_get("code").map_err(map)?,
                    reason: r.try_get("reason").map_err(map)?,
                    payload: r.try_get("payload").map_err(map)?,
                    received_at_ms: r.try_get("received_at_ms").map_err(map)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cutting_keeps_whole_characters() {
        assert_eq!(super::cut("héllo", 2), "h");
        assert_eq!(super::cut("abc", 10), "abc");
    }
}
