//! The agent's long-term memory port over SQL: one row per fact. Facts that
//! replace each other share a slot (the folded subject) and are written with
//! an upsert that keeps the newer; issues get a slot of their own and are
//! pruned to the newest `MAX_ISSUES` in the same transaction.

use async_trait::async_trait;
use hc_agent::ports::MemoryStore;
use hc_domain::{CustomerFact, FactKind, TenantId, UserId};
use sqlx::Row;
use tracing::instrument;

use crate::db::SqlStore;
use crate::error::{Error, Result, map};

fn slot(f: &CustomerFact) -> String {
    if f.kind.is_history() {
        format!("{:020}|{}|{}", f.learned_at_ms, f.source, f.value)
    } else {
        f.subject.to_lowercase()
    }
}

/// The upsert of one fact: the newer wins its slot.
pub(crate) const UPSERT_FACT: &str = "insert into customer_facts (tenant_id, user_id, kind, slot, \
     subject, value, source, learned_at_ms) values ($1, $2, $3, $4, $5, $6, $7, $8) \
     on conflict (tenant_id, user_id, kind, slot) do update set \
     subject = excluded.subject, value = excluded.value, source = excluded.source, \
     learned_at_ms = excluded.learned_at_ms \
     where excluded.learned_at_ms >= customer_facts.learned_at_ms";

/// Keeps the newest `$4` issues of one customer.
pub(crate) const PRUNE_ISSUES: &str = "delete from customer_facts where tenant_id = $1 \
     and user_id = $2 and kind = $3 and slot not in (select slot from customer_facts \
     where tenant_id = $1 and user_id = $2 and kind = $3 \
     order by learned_at_ms desc, slot desc limit $4)";

/// One fact as stored: `(user, kind, slot, subject, value, source, learned_at_ms)`.
#[derive(Debug)]
pub(crate) struct FactRow {
    pub user: String,
    pub kind: &'static str,
    pub slot: String,
    pub subject: String,
    pub value: String,
    pub source: String,
    pub learned_at_ms: i64,
}

impl FactRow {
    pub(crate) fn of(f: &CustomerFact) -> Self {
        Self {
            user: f.user_id.to_string(),
            kind: f.kind.as_str(),
            slot: slot(f),
            subject: f.subject.clone(),
            value: f.value.clone(),
            source: f.source.clone(),
            learned_at_ms: f.learned_at_ms,
        }
    }
}

/// The customers whose issue history must be pruned after storing `facts`.
pub(crate) fn pruned_users(facts: &[CustomerFact]) -> Vec<&UserId> {
    let mut users: Vec<&UserId> = facts
        .iter()
        .filter(|f| f.kind.is_history())
        .map(|f| &f.user_id)
        .collect();
    users.sort();
    users.dedup();
    users
}

/// Stores `facts` under the retention rules inside the caller's transaction.
pub(crate) async fn write_facts(
    conn: &mut sqlx::AnyConnection,
    t: &TenantId,
    facts: &[CustomerFact],
) -> Result<()> {
    for f in facts {
        let row = FactRow::of(f);
        sqlx::query(UPSERT_FACT)
            .bind(t.as_str())
            .bind(row.user)
            .bind(row.kind)
            .bind(row.slot)
            .bind(row.subject)
            .bind(row.value)
            .bind(row.source)
            .bind(row.learned_at_ms)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
    }
    for user in pruned_users(facts) {
        sqlx::query(PRUNE_ISSUES)
            .bind(t.as_str())
            .bind(user.as_str())
            .bind(FactKind::Issue.as_str())
            .bind(CustomerFact::MAX_ISSUES as i64)
            .execute(&mut *conn)
            .await
            .map_err(map)?;
    }
    Ok(())
}

#[async_trait]
impl MemoryStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, facts = facts.len()))]
    async fn remember(&self, t: &TenantId, facts: &[CustomerFact]) -> Result<()> {
        if facts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        write_facts(&mut tx, t, facts).await?;
        tx.commit().await.map_err(map)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t))]
    async fn recall(&self, t: &TenantId, user: &UserId) -> Result<Vec<CustomerFact>> {
        let rows = sqlx::query(
            "select kind, subject, value, source, learned_at_ms from customer_facts \
             where tenant_id = $1 and user_id = $2 order by learned_at_ms desc, kind, slot",
        )
        .bind(t.as_str())
        .bind(user.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(0).map_err(map)?;
                Ok(CustomerFact {
                    user_id: user.clone(),
                    kind: FactKind::parse(&kind)
                        .ok_or_else(|| Error::Corrupt(format!("unknown fact kind {kind}")))?,
                    subject: r.try_get(1).map_err(map)?,
                    value: r.try_get(2).map_err(map)?,
                    source: r.try_get(3).map_err(map)?,
                    learned_at_ms: r.try_get(4).map_err(map)?,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t))]
    async fn forget(&self, t: &TenantId, user: &UserId) -> Result<u64> {
        let done = sqlx::query("delete from customer_facts where tenant_id = $1 and user_id = $2")
            .bind(t.as_str())
            .bind(user.as_str())
            .execute(&self.write)
            .await
            .map_err(map)?;
        Ok(done.rows_affected())
    }
}
