//! The sqlx write path for event batches: PostgreSQL, and SQLite databases
//! without a file (in memory). One transaction per batch; on PostgreSQL a
//! per-tenant advisory lock serialises a tenant's batches, so sessions are
//! updated without races and the log's `seq` order is its commit order.

use std::collections::{HashMap, HashSet};

use hc_domain::{Event, Session, SessionId};
use sqlx::{AssertSqlSafe, Row};

use super::{Appended, sessionize, writer::UPSERT_SESSION};
use crate::db::{Backend, SqlStore};
use crate::error::{Result, corrupt, map};

/// Rows per multi-row statement (8 parameters each, well under both limits).
const CHUNK: usize = 500;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn append(
    store: &SqlStore,
    tenant: &str,
    events: &[Event],
    docs: &[String],
    received_at_ms: i64,
) -> Result<Appended> {
    let mut tx = store.begin_write().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock(hashtext($1))::text")
            .bind(format!("hc-events:{tenant}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
    }
    // Duplicates: within the batch, then against the log.
    let mut seen = HashSet::with_capacity(events.len());
    let mut candidates = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        if seen.insert(e.event_id.as_str()) {
            candidates.push(i);
        }
    }
    let mut stored: HashSet<String> = HashSet::new();
    for chunk in candidates.chunks(CHUNK) {
        let sql = format!(
            "select event_id from events where tenant_id = $1 and event_id in ({})",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(tenant);
        for &i in chunk {
            q = q.bind(events[i].event_id.as_str());
        }
        for row in q.fetch_all(&mut *tx).await.map_err(map)? {
            stored.insert(row.try_get(0).map_err(map)?);
        }
    }
    let fresh: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| !stored.contains(events[i].event_id.as_str()))
        .collect();
    let fresh_events: Vec<&Event> = fresh.iter().map(|&i| &events[i]).collect();

    // The latest stored session of each sender id.
    let senders: Vec<&str> = fresh_events
        .iter()
        .map(|e| e.session_id.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut latest: HashMap<SessionId, Session> = HashMap::new();
    for chunk in senders.chunks(CHUNK) {
        let sql = format!(
            "select doc from sessions where tenant_id = $1 and sender_id in ({})",
            placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(tenant);
        for s in chunk {
            q = q.bind(*s);
        }
        for row in q.fetch_all(&mut *tx).await.map_err(map)? {
            let doc: String = row.try_get(0).map_err(map)?;
            let s: Session = serde_json::from_str(&doc).map_err(corrupt)?;
            let keep = latest
                .get(&s.sender_session_id)
                .is_none_or(|l| l.ordinal < s.ordinal);
            if keep {
                latest.insert(s.sender_session_id.clone(), s);
            }
        }
    }
    let plan = sessionize::plan(&fresh_events, &latest);

    let mut accepted = 0u64;
    let rows: Vec<(usize, &SessionId)> = fresh.iter().copied().zip(&plan.assignments).collect();
    for chunk in rows.chunks(CHUNK) {
        let values = (0..chunk.len())
            .map(|r| format!("({})", placeholders(1 + r * 8, 8)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "insert into events (tenant_id, event_id, session_id, type, ts_ms, customer_id, doc, \
             received_at_ms) values {values} on conflict (tenant_id, event_id) do nothing"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for &(i, session) in chunk {
            let e = &events[i];
            q = q
                .bind(tenant)
                .bind(e.event_id.as_str())
                .bind(session.as_str())
                .bind(e.kind.as_str())
                .bind(e.timestamp_ms)
                .bind(e.customer_id.as_ref().map(|c| c.as_str().to_string()))
                .bind(docs[i].as_str())
                .bind(received_at_ms);
        }
        accepted += q.execute(&mut *tx).await.map_err(map)?.rows_affected();
    }
    for s in &plan.sessions {
        sqlx::query(UPSERT_SESSION)
            .bind(tenant)
            .bind(s.id.as_str())
            .bind(s.sender_session_id.as_str())
            .bind(i64::from(s.ordinal))
            .bind(s.customer_id.as_ref().map(|c| c.as_str().to_string()))
            .bind(s.started_at_ms)
            .bind(s.last_event_at_ms)
            .bind(serde_json::to_string(s).map_err(corrupt)?)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
    }
    tx.commit().await.map_err(map)?;
    Ok(Appended {
        accepted,
        duplicates: events.len() as u64 - accepted,
    })
}
