//! Bulk import and export of a tenant's retail database in the τ-retail
//! `db.json` layout.

use hc_domain::{AuditRecord, RetailDb, TenantId, now_ms};
use sqlx::Row;
use tracing::{info, instrument};

use crate::db::SqlStore;
use crate::error::{Error, Result, map};
use crate::retail::{decode, insert_audit, put_customer, put_order, put_product};

/// Counts of what an import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub products: usize,
    pub users: usize,
    pub orders: usize,
}

impl SqlStore {
    /// Imports (upserts) a whole τ-retail database into a tenant in one
    /// transaction. Records with the same ids are replaced. Item ids must be
    /// unique across products.
    #[instrument(level = "debug", skip_all, fields(tenant = %t))]
    pub async fn import_retail(
        &self,
        t: &TenantId,
        db: &RetailDb,
        actor: &str,
    ) -> Result<ImportSummary> {
        let mut seen = std::collections::HashMap::new();
        for p in db.products.values() {
            hc_commerce::service::validate_product(p)
                .map_err(|e| Error::Conflict(e.to_string()))?;
            for item in p.variants.keys() {
                if let Some(other) = seen.insert(item.clone(), p.product_id.clone()) {
                    return Err(Error::Conflict(format!(
                        "item {item} belongs to products {other} and {}",
                        p.product_id
                    )));
                }
            }
        }
        let mut tx = self.begin_write().await?;
        for p in db.products.values() {
            put_product(&mut tx, t, p).await?;
        }
        for c in db.users.values() {
            put_customer(&mut *tx, t, c).await?;
        }
        for o in db.orders.values() {
            put_order(&mut *tx, t, o).await?;
        }
        let summary = ImportSummary {
            products: db.products.len(),
            users: db.users.len(),
            orders: db.orders.len(),
        };
        insert_audit(
            &mut *tx,
            &AuditRecord {
                tenant_id: t.clone(),
                actor: actor.to_string(),
                action: "import.tau_retail".into(),
                target: format!("tenant:{t}"),
                at_ms: now_ms(),
                detail: serde_json::to_value(summary).unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await.map_err(map)?;
        info!(?summary, "imported τ-retail database");
        Ok(summary)
    }

    /// Exports a tenant's retail database in the τ-retail layout.
    #[instrument(level = "debug", skip_all, fields(tenant = %t))]
    pub async fn export_retail(&self, t: &TenantId) -> Result<RetailDb> {
        let mut db = RetailDb::default();
        for row in self
            .all_docs(
                "select doc from products where tenant_id = $1 order by product_id",
                t,
            )
            .await?
        {
            let p: hc_domain::Product = decode(&row)?;
            db.products.insert(p.product_id.clone(), p);
        }
        for row in self
            .all_docs(
                "select doc from customers where tenant_id = $1 order by user_id",
                t,
            )
            .await?
        {
            let c: hc_domain::Customer = decode(&row)?;
            db.users.insert(c.user_id.clone(), c);
        }
        for row in self
            .all_docs(
                "select doc from orders where tenant_id = $1 order by order_id",
                t,
            )
            .await?
        {
            let o: hc_domain::Order = decode(&row)?;
            db.orders.insert(o.order_id.clone(), o);
        }
        Ok(db)
    }

    async fn all_docs(&self, sql: &'static str, t: &TenantId) -> Result<Vec<String>> {
        sqlx::query(sql)
            .bind(t.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(|r| r.try_get::<String, _>(0).map_err(map))
            .collect()
    }
}

/// Conversations per statement of [`SqlStore::import_conversations`].
const CONVERSATION_ROWS: usize = 200;

impl SqlStore {
    /// Inserts conversations with their messages as they are, many rows per
    /// statement, in one transaction (no turn checks, no outbox, no facts):
    /// for seeding benchmarks and bulk migrations. Every conversation must be
    /// of tenant `t`; an existing id is a `Conflict` and nothing is written.
    #[instrument(level = "debug", skip_all, fields(tenant = %t, n = items.len()))]
    pub async fn import_conversations(
        &self,
        t: &TenantId,
        items: &[(hc_domain::Conversation, Vec<hc_domain::Message>)],
    ) -> Result<()> {
        if items.iter().any(|(c, _)| c.tenant_id != *t) {
            return Err(Error::Conflict("a conversation of another tenant".into()));
        }
        let placeholders = |rows: usize, cols: usize| {
            (0..rows)
                .map(|i| {
                    let cells: Vec<String> =
                        (1..=cols).map(|k| format!("${}", i * cols + k)).collect();
                    format!("({})", cells.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut tx = self.begin_write().await?;
        for chunk in items.chunks(CONVERSATION_ROWS) {
            let sql = sqlx::AssertSqlSafe(format!(
                "insert into conversations (tenant_id, id, status, customer_id, version, doc, \
                 created_at_ms, updated_at_ms, channel) values {}",
                placeholders(chunk.len(), 9)
            ));
            let mut q = sqlx::query(sql);
            for (c, _) in chunk {
                q = q
                    .bind(c.tenant_id.as_str())
                    .bind(c.id.as_str())
                    .bind(c.status.as_str())
                    .bind(c.customer.as_ref().map(|u| u.to_string()))
                    .bind(c.version)
                    .bind(crate::retail::to_doc(c)?)
                    .bind(c.created_at_ms)
                    .bind(c.updated_at_ms)
                    .bind(c.channel.as_str());
            }
            q.execute(&mut *tx).await.map_err(map)?;
            let messages: Vec<_> = chunk
                .iter()
                .flat_map(|(c, ms)| ms.iter().map(move |m| (c, m)))
                .collect();
            for part in messages.chunks(CONVERSATION_ROWS) {
                let sql = sqlx::AssertSqlSafe(format!(
                    "insert into conversation_messages (tenant_id, conversation_id, seq, doc, \
                     at_ms) values {}",
                    placeholders(part.len(), 5)
                ));
                let mut q = sqlx::query(sql);
                for (c, m) in part {
                    q = q
                        .bind(c.tenant_id.as_str())
                        .bind(c.id.as_str())
                        .bind(m.seq)
                        .bind(crate::retail::to_doc(m)?)
                        .bind(m.at_ms);
                }
                q.execute(&mut *tx).await.map_err(map)?;
            }
        }
        tx.commit().await.map_err(map)?;
        info!(tenant = %t, conversations = items.len(), "conversations imported");
        Ok(())
    }
}
