//! The agent's conversation port over SQL: a conversation document with a
//! version column for optimistic locking, and one row per message.

use async_trait::async_trait;
use hc_agent::ports::{ConversationStore, TurnWrite};
use hc_commerce::ports::{Page, PageRequest};
use hc_domain::outbox::NewDelivery;
use hc_domain::{
    Channel, Conversation, ConversationId, ConversationStatus, CustomerFact, Message, TenantId,
};
use sqlx::Row;

use crate::db::SqlStore;
use crate::error::{Error, Result, map};
use crate::memory::FactRow;
use crate::retail::{decode, to_doc};
use crate::turn_writer::{DeliveryRow, MessageRow, TurnJob};

/// The statements of one turn: the version-checked update and the messages.
async fn apply_turn(
    conn: &mut sqlx::AnyConnection,
    c: &Conversation,
    expected_version: i64,
    messages: &[Message],
    delivery: Option<&NewDelivery>,
    facts: &[CustomerFact],
) -> Result<()> {
    let updated = sqlx::query(
        "update conversations set status = $3, customer_id = $4, version = $5, doc = $6, \
             updated_at_ms = $7 where tenant_id = $1 and id = $2 and version = $8",
    )
    .bind(c.tenant_id.as_str())
    .bind(c.id.as_str())
    .bind(c.status.as_str())
    .bind(c.customer.as_ref().map(|u| u.to_string()))
    .bind(c.version)
    .bind(to_doc(c)?)
    .bind(c.updated_at_ms)
    .bind(expected_version)
    .execute(&mut *conn)
    .await
    .map_err(map)?;
    if updated.rows_affected() != 1 {
        return Err(Error::Conflict(format!(
            "conversation {} changed concurrently",
            c.id
        )));
    }
    if !messages.is_empty() {
        // One statement for the whole turn: fewer round trips on the write path.
        let rows: Vec<String> = (0..messages.len())
            .map(|i| {
                let b = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                )
            })
            .collect();
        let sql = format!(
            "insert into conversation_messages (tenant_id, conversation_id, seq, doc, at_ms) values {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in messages {
            q = q
                .bind(c.tenant_id.as_str())
                .bind(c.id.as_str())
                .bind(m.seq)
                .bind(to_doc(m)?)
                .bind(m.at_ms);
        }
        q.execute(&mut *conn).await.map_err(map)?;
    }
    if let Some(d) = delivery {
        crate::outbox::insert_delivery(&mut *conn, d).await?;
    }
    crate::memory::write_facts(conn, &c.tenant_id, facts).await?;
    Ok(())
}

/// Inserts a new conversation, tied to `external_key` when given. The partial
/// unique index `conversations_external_active` refuses a second live
/// conversation for the same key (`Conflict`).
async fn insert_conversation(
    pool: &sqlx::AnyPool,
    c: &Conversation,
    external_key: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "insert into conversations (tenant_id, id, status, customer_id, version, doc, \
         created_at_ms, updated_at_ms, channel, external_key) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(c.tenant_id.as_str())
    .bind(c.id.as_str())
    .bind(c.status.as_str())
    .bind(c.customer.as_ref().map(|u| u.to_string()))
    .bind(c.version)
    .bind(to_doc(c)?)
    .bind(c.created_at_ms)
    .bind(c.updated_at_ms)
    .bind(c.channel.as_str())
    .bind(external_key)
    .execute(pool)
    .await
    .map_err(map)?;
    Ok(())
}

impl SqlStore {
    /// One turn (with its outbox delivery and facts): through the SQLite
    /// group-commit writer, or its own transaction elsewhere.
    async fn write_turn(&self, w: &TurnWrite<'_>) -> Result<()> {
        let c = w.conversation;
        if w.delivery.is_some_and(|d| d.tenant_id != c.tenant_id) {
            return Err(Error::Conflict("delivery of another tenant".into()));
        }
        if w.facts
            .iter()
            .any(|f| c.customer.as_ref() != Some(&f.user_id))
        {
            return Err(Error::Conflict(
                "facts about someone other than the conversation's customer".into(),
            ));
        }
        if let Some(turns) = &self.turns {
            let (done, acknowledged) = tokio::sync::oneshot::channel();
            let job = TurnJob {
                tenant: c.tenant_id.to_string(),
                id: c.id.to_string(),
                status: c.status.as_str(),
                customer: c.customer.as_ref().map(|u| u.to_string()),
                version: c.version,
                doc: to_doc(c)?,
                updated_at_ms: c.updated_at_ms,
                expected_version: w.expected_version,
                messages: w
                    .messages
                    .iter()
                    .map(|m| {
                        Ok(MessageRow {
                            seq: m.seq,
                            doc: to_doc(m)?,
                            at_ms: m.at_ms,
                        })
                    })
                    .collect::<Result<_>>()?,
                delivery: w.delivery.map(DeliveryRow::of),
                facts: w.facts.iter().map(FactRow::of).collect(),
                prune: crate::memory::pruned_users(w.facts)
                    .into_iter()
                    .map(|u| u.to_string())
                    .collect(),
                done,
            };
            turns
                .send(job)
                .await
                .map_err(|_| Error::Unavailable("the turn writer has stopped".into()))?;
            return acknowledged
                .await
                .map_err(|_| Error::Unavailable("the turn writer has stopped".into()))?;
        }
        let mut tx = self.begin_write().await?;
        apply_turn(
            &mut tx,
            c,
            w.expected_version,
            w.messages,
            w.delivery,
            w.facts,
        )
        .await?;
        tx.commit().await.map_err(map)
    }
}

#[async_trait]
impl ConversationStore for SqlStore {
    async fn create_conversation(&self, c: &Conversation) -> Result<()> {
        insert_conversation(&self.write, c, None).await
    }

    async fn create_external_conversation(
        &self,
        c: &Conversation,
        external_key: &str,
    ) -> Result<()> {
        insert_conversation(&self.write, c, Some(external_key)).await
    }

    async fn find_by_external(
        &self,
        t: &TenantId,
        channel: Channel,
        external_key: &str,
    ) -> Result<Option<Conversation>> {
        sqlx::query(
            "select doc from conversations where tenant_id = $1 and channel = $2 \
             and external_key = $3 and status in ('open', 'escalated') \
             order by updated_at_ms desc limit 1",
        )
        .bind(t.as_str())
        .bind(channel.as_str())
        .bind(external_key)
        .fetch_optional(&self.read)
        .await
        .map_err(map)?
        .map(|r| decode(&r.try_get::<String, _>(0).map_err(map)?))
        .transpose()
    }

    async fn conversation(
        &self,
        t: &TenantId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>> {
        const SQL: &str = "select doc from conversations where tenant_id = $1 and id = $2";
        self.point_read(SQL, t, id.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn messages(&self, t: &TenantId, id: &ConversationId) -> Result<Vec<Message>> {
        sqlx::query(
            "select doc from conversation_messages where tenant_id = $1 and conversation_id = $2 \
             order by seq",
        )
        .bind(t.as_str())
        .bind(id.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| decode(&r.try_get::<String, _>(0).map_err(map)?))
        .collect()
    }

    async fn save_turn(&self, turn: &TurnWrite<'_>) -> Result<()> {
        self.write_turn(turn).await
    }

    async fn list_conversations(
        &self,
        t: &TenantId,
        status: Option<ConversationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Conversation>> {
        // Cursor: "<updated_at_ms>:<id>" of the last item seen (newest first).
        let (before_ms, before_id) = page
            .after
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .and_then(|(ms, id)| Some((ms.parse::<i64>().ok()?, id.to_string())))
            .unwrap_or((i64::MAX, String::new()));
        // Two statements rather than `($2 = '' or status = $2)`, which keeps
        // SQLite from using either index and sorts the whole tenant.
        let q = match status {
            Some(s) => sqlx::query(
                "select doc from conversations where tenant_id = $1 and status = $2 \
                 and (updated_at_ms < $3 or (updated_at_ms = $3 and id < $4)) \
                 order by updated_at_ms desc, id desc limit $5",
            )
            .bind(t.as_str())
            .bind(s.as_str()),
            None => sqlx::query(
                "select doc from conversations where tenant_id = $1 and $2 = '' \
                 and (updated_at_ms < $3 or (updated_at_ms = $3 and id < $4)) \
                 order by updated_at_ms desc, id desc limit $5",
            )
            .bind(t.as_str())
            .bind(""),
        };
        let rows = q
            .bind(before_ms)
            .bind(if before_id.is_empty() {
                "\u{10FFFF}".to_string()
            } else {
                before_id
            })
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.read)
            .await
            .map_err(map)?;
        let mut items: Vec<Conversation> = rows
            .iter()
            .map(|r| decode(&r.try_get::<String, _>(0).map_err(map)?))
            .collect::<Result<_>>()?;
        let next_cursor = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            items
                .last()
                .map(|c| format!("{}:{}", c.updated_at_ms, c.id))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
