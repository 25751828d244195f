//! Outbound channel messages: the durable outbox (SMS and email waiting to be
//! delivered, retried, delivered or given up on) and each channel
//! conversation's reply contact (where replies go). Table `outbox` and column
//! `conversations.contact`, migration 0007.

use async_trait::async_trait;
use hc_domain::outbox::{Delivery, DeliveryKind, DeliveryStatus, NewDelivery, OutboxCounts};
use hc_domain::{ConversationId, TenantId};
use sqlx::Row;
use sqlx::any::AnyRow;
use tracing::instrument;

use crate::db::{Backend, SqlStore};
use crate::error::{Error, Result, map};

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered {
        provider_id: String,
    },
    /// Try again at `at_ms`.
    Retry {
        error: String,
        at_ms: i64,
    },
    /// Give up.
    Failed {
        error: String,
    },
}

/// The outbox and reply contacts.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Records where replies to this conversation go (replacing the previous contact).
    async fn set_contact(
        &self,
        t: &TenantId,
        id: &ConversationId,
        contact: &serde_json::Value,
    ) -> Result<()>;
    /// The conversation's reply contact, if an inbound message left one.
    async fn contact(&self, t: &TenantId, id: &ConversationId)
    -> Result<Option<serde_json::Value>>;
    /// Adds a pending delivery, due at once; returns its id.
    async fn enqueue(&self, delivery: &NewDelivery) -> Result<i64>;
    /// Claims up to `limit` pending deliveries due at `now_ms` (any tenant),
    /// oldest first: each gets one more attempt and is not due again before
    /// `now_ms + lease_ms`, so a sender that dies mid-attempt leaves it for a
    /// later claim. Concurrent claimers (other processes) never get the same row.
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Records how a claimed attempt ended.
    async fn finish_attempt(&self, id: i64, outcome: &AttemptOutcome, now_ms: i64) -> Result<()>;
    async fn outbox_counts(&self, t: &TenantId) -> Result<OutboxCounts>;
    /// The tenant's deliveries, newest first, optionally of one status.
    async fn list_deliveries(
        &self,
        t: &TenantId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
}

pub(crate) const COLUMNS: &str = "id, tenant_id, conversation_id, kind, payload, status, attempts, \
    next_attempt_at_ms, last_error, provider_id, created_at_ms, updated_at_ms";

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

pub(crate) fn delivery_of(r: &AnyRow) -> Result<Delivery> {
    let kind: String = r.try_get("kind").map_err(map)?;
    let status: String = r.try_get("status").map_err(map)?;
    let payload: String = r.try_get("payload").map_err(map)?;
    let conversation: Option<String> = r.try_get("conversation_id").map_err(map)?;
    let attempts: i64 = r.try_get("attempts").map_err(map)?;
    Ok(Delivery {
        id: r.try_get("id").map_err(map)?,
        tenant_id: TenantId::parse(r.try_get::<String, _>("tenant_id").map_err(map)?)
            .map_err(corrupt)?,
        conversation_id: conversation
            .map(ConversationId::parse)
            .transpose()
            .map_err(corrupt)?,
        kind: DeliveryKind::parse(&kind).ok_or_else(|| corrupt(format!("kind {kind}")))?,
        payload: serde_json::from_str(&payload).map_err(corrupt)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("status {status}")))?,
        attempts: attempts.clamp(0, u32::MAX as i64) as u32,
        next_attempt_at_ms: r.try_get("next_attempt_at_ms").map_err(map)?,
        last_error: r.try_get("last_error").map_err(map)?,
        provider_id: r.try_get("provider_id").map_err(map)?,
        created_at_ms: r.try_get("created_at_ms").map_err(map)?,
        updated_at_ms: r.try_get("updated_at_ms").map_err(map)?,
    })
}

/// Adds a pending delivery, due at once, on `conn` (inside the caller's
/// transaction when it has one); returns its id.
pub(crate) async fn insert_delivery(
    conn: &mut sqlx::AnyConnection,
    d: &NewDelivery,
) -> Result<i64> {
    let now = hc_domain::now_ms();
    let row = sqlx::query(
        "insert into outbox (tenant_id, conversation_id, kind, payload, status, attempts, \
             next_attempt_at_ms, created_at_ms, updated_at_ms) \
             values ($1, $2, $3, $4, 'pending', 0, $5, $5, $5) returning id",
    )
    .bind(d.tenant_id.as_str())
    .bind(d.conversation_id.as_ref().map(|c| c.to_string()))
    .bind(d.kind.as_str())
    .bind(d.payload.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(map)?;
    row.try_get(0).map_err(map)
}

#[async_trait]
impl OutboxStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, conversation = %id))]
    async fn set_contact(
        &self,
        t: &TenantId,
        id: &ConversationId,
        contact: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query("update conversations set contact = $3 where tenant_id = $1 and id = $2")
            .bind(t.as_str())
            .bind(id.as_str())
            .bind(contact.to_string())
            .execute(&self.write)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn contact(
        &self,
        t: &TenantId,
        id: &ConversationId,
    ) -> Result<Option<serde_json::Value>> {
        let row = sqlx::query("select contact from conversations where tenant_id = $1 and id = $2")
            .bind(t.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?;
        let Some(row) = row else { return Ok(None) };
        let doc: Option<String> = row.try_get(0).map_err(map)?;
        doc.map(|d| serde_json::from_str(&d).map_err(corrupt))
            .transpose()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %d.tenant_id, kind = d.kind.as_str()))]
    async fn enqueue(&self, d: &NewDelivery) -> Result<i64> {
        let mut conn = self.write.acquire().await.map_err(map)?;
        insert_delivery(&mut conn, d).await
    }

    #[instrument(level = "debug", skip(self))]
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        // PostgreSQL: rows another process is claiming are skipped, not waited
        // for. SQLite has one writer, so the statement alone is atomic.
        let skip_locked = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " for update skip locked",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "update outbox set attempts = attempts + 1, next_attempt_at_ms = $2, updated_at_ms = $1 \
             where id in (select id from outbox where status = 'pending' and next_attempt_at_ms <= $1 \
             order by next_attempt_at_ms, id limit $3{skip_locked}) returning {COLUMNS}"
        ));
        let rows = sqlx::query(sql)
            .bind(now_ms)
            .bind(now_ms.saturating_add(lease_ms))
            .bind(i64::from(limit))
            .fetch_all(&self.write)
            .await
            .map_err(map)?;
        let mut out = rows.iter().map(delivery_of).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    #[instrument(level = "debug", skip(self, outcome))]
    async fn finish_attempt(&self, id: i64, outcome: &AttemptOutcome, now_ms: i64) -> Result<()> {
        let q = match outcome {
            AttemptOutcome::Delivered { provider_id } => sqlx::query(
                "update outbox set status = 'delivered', provider_id = $2, last_error = null, \
                 updated_at_ms = $3 where id = $1",
            )
            .bind(id)
            .bind(provider_id.clone())
            .bind(now_ms),
            AttemptOutcome::Retry { error, at_ms } => sqlx::query(
                "update outbox set last_error = $2, next_attempt_at_ms = $3, updated_at_ms = $4 \
                 where id = $1 and status = 'pending'",
            )
            .bind(id)
            .bind(error.clone())
            .bind(*at_ms)
            .bind(now_ms),
            AttemptOutcome::Failed { error } => sqlx::query(
                "update outbox set status = 'failed', last_error = $2, updated_at_ms = $3 \
                 where id = $1",
            )
            .bind(id)
            .bind(error.clone())
            .bind(now_ms),
        };
        q.execute(&self.write).await.map_err(map)?;
        Ok(())
    }

    async fn outbox_counts(&self, t: &TenantId) -> Result<OutboxCounts> {
        let rows = sqlx::query(
            "select status, count(*) as n from outbox where tenant_id = $1 group by status",
        )
        .bind(t.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        let mut counts = OutboxCounts::default();
        for r in &rows {
            let status: String = r.try_get(0).map_err(map)?;
            let n: i64 = r.try_get(1).map_err(map)?;
            let n = n.max(0) as u64;
            match DeliveryStatus::parse(&status) {
                Some(DeliveryStatus::Pending) => counts.pending = n,
                Some(DeliveryStatus::Delivered) => counts.delivered = n,
                Some(DeliveryStatus::Failed) => counts.failed = n,
                None => return Err(corrupt(format!("status {status}"))),
            }
        }
        Ok(counts)
    }

    async fn list_deliveries(
        &self,
        t: &TenantId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from outbox where tenant_id = $1 and ($2 = '' or status = $2) \
             order by id desc limit $3"
        ));
        sqlx::query(sql)
            .bind(t.as_str())
            .bind(status.map(|s| s.as_str()).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(delivery_of)
            .collect()
    }
}
