//! What the behavior engine reads and writes about customers: each
//! customer's history assembled from orders, conversations, sessions and
//! `return` events; the tenant's fitted customer models; the batch scores;
//! triggers and their firings (each fires once per subject, its webhook
//! queued in the outbox in the same transaction). Tables `customer_models`,
//! `customer_scores`, `triggers`, `trigger_firings` (migration 0011).

use std::collections::HashMap;

use async_trait::async_trait;
use hc_domain::outbox::NewDelivery;
use hc_domain::{
    CustomerHistory, CustomerScoreRecord, Event, HistoryContact, HistoryLine, HistoryOrder,
    HistoryReturn, Money, TenantId, Trigger, UserId,
};
use serde::Deserialize;
use sqlx::Row;
use tracing::instrument;

use crate::db::SqlStore;
use crate::error::{Error, Result, corrupt, map};

const DAY_MS: i64 = 86_400_000;

/// A trigger match to record: fires (and queues `delivery`) only if this
/// `(trigger, subject)` never fired before.
#[derive(Clone, Debug)]
pub struct Firing {
    pub trigger_id: String,
    /// What it fired about: `session:<id>`, `customer:<id>:<scored_at>`.
    pub subject: String,
    pub delivery: NewDelivery,
}

/// A stored trigger with its sweep cursor.
#[derive(Clone, Debug)]
pub struct StoredTrigger {
    pub tenant_id: TenantId,
    pub trigger: Trigger,
    /// Sessions whose last event is at or before this were already examined.
    pub cursor_ms: i64,
}

/// Customer histories, models, scores and triggers.
#[async_trait]
pub trait BehaviorStore: Send + Sync {
    /// One customer's history as of `now_ms`; `None` when the tenant has no such customer.
    async fn customer_history(
        &self,
        t: &TenantId,
        user: &UserId,
        now_ms: i64,
    ) -> Result<Option<CustomerHistory>>;
    /// Histories of the customers whose ids come after `after`, in id order, at most `limit`.
    async fn customer_histories(
        &self,
        t: &TenantId,
        after: Option<&str>,
        limit: u32,
        now_ms: i64,
    ) -> Result<Vec<CustomerHistory>>;
    /// The tenant's fitted customer model (JSON artifact) and when it was fitted.
    async fn customer_model(&self, t: &TenantId) -> Result<Option<(String, i64)>>;
    async fn put_customer_model(
        &self,
        t: &TenantId,
        version: u32,
        doc: &str,
        fitted_at_ms: i64,
    ) -> Result<()>;
    async fn customer_score(
        &self,
        t: &TenantId,
        user: &UserId,
    ) -> Result<Option<CustomerScoreRecord>>;
    /// Stored scores of the customers with ids in `[from, through]`.
    async fn customer_scores_between(
        &self,
        t: &TenantId,
        from: &str,
        through: &str,
    ) -> Result<Vec<CustomerScoreRecord>>;
    /// Replaces the scores of these customers and records `firings`, in one
    /// transaction; returns the indexes of the firings that were new.
    async fn put_customer_scores(
        &self,
        t: &TenantId,
        scores: &[CustomerScoreRecord],
        firings: &[Firing],
    ) -> Result<Vec<usize>>;
    /// How many customers have a stored score.
    async fn count_customer_scores(&self, t: &TenantId) -> Result<u64>;

    async fn create_trigger(&self, t: &TenantId, trigger: &Trigger, secret: &str) -> Result<()>;
    async fn list_triggers(&self, t: &TenantId) -> Result<Vec<Trigger>>;
    /// A trigger and its signing secret.
    async fn trigger(&self, t: &TenantId, id: &str) -> Result<Option<(Trigger, String)>>;
    async fn delete_trigger(&self, t: &TenantId, id: &str) -> Result<bool>;
    /// Every tenant's triggers (for the background sweep).
    async fn all_triggers(&self) -> Result<Vec<StoredTrigger>>;
    /// Sessions of `t` whose last event is in `[from_ms, to_ms]`, oldest
    /// first, at most `limit`.
    async fn sessions_ended_between(
        &self,
        t: &TenantId,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
    ) -> Result<Vec<hc_domain::Session>>;
    /// Records `firings` and moves the trigger's cursor, in one transaction;
    /// returns the indexes of the firings that were new.
    async fn fire(
        &self,
        t: &TenantId,
        firings: &[Firing],
        cursor: Option<(&str, i64)>,
    ) -> Result<Vec<usize>>;
}

/// The parts of an order document the history needs.
#[derive(Deserialize)]
struct LightOrder {
    items: Vec<LightItem>,
    #[serde(default)]
    return_items: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct LightItem {
    product_id: String,
    item_id: String,
    price: Money,
}

#[derive(Deserialize)]
struct LightConversation {
    #[serde(default)]
    satisfaction: Option<u8>,
}

fn units(m: Money) -> f64 {
    m.cents() as f64 / 100.0
}

/// Adds an order row to `h`: a placed order, and its returned units.
fn add_order(
    h: &mut CustomerHistory,
    id: String,
    status: &str,
    doc: &str,
    at: i64,
    updated: i64,
) -> Result<()> {
    if status == "cancelled" {
        return Ok(());
    }
    let o: LightOrder = serde_json::from_str(doc).map_err(corrupt)?;
    if let Some(returned) = o.return_items.filter(|r| !r.is_empty()) {
        let mut left: Vec<&LightItem> = o.items.iter().collect();
        let mut lines = Vec::new();
        for item in &returned {
            if let Some(i) = left.iter().position(|l| &l.item_id == item) {
                let l = left.swap_remove(i);
                lines.push(HistoryLine {
                    product: l.product_id.clone(),
                    value: units(l.price),
                });
            }
        }
        h.returns.push(HistoryReturn {
            at_ms: updated,
            lines,
        });
    }
    h.orders.push(HistoryOrder {
        id,
        at_ms: at,
        lines: o
            .items
            .into_iter()
            .map(|i| HistoryLine {
                product: i.product_id,
                value: units(i.price),
            })
            .collect(),
    });
    Ok(())
}

fn add_return_event(h: &mut CustomerHistory, doc: &str) -> Result<()> {
    let e: Event = serde_json::from_str(doc).map_err(corrupt)?;
    let product = e
        .product_id
        .map(|p| p.to_string())
        .or(e.item_id.map(|i| i.to_string()))
        .unwrap_or_default();
    let quantity = e.quantity.unwrap_or(1).max(1);
    let value = e.price.map(units).unwrap_or(0.0);
    h.returns.push(HistoryReturn {
        at_ms: e.timestamp_ms,
        lines: (0..quantity)
            .map(|_| HistoryLine {
                product: product.clone(),
                value,
            })
            .collect(),
    });
    Ok(())
}

fn add_contact(h: &mut CustomerHistory, at: i64, doc: &str) -> Result<()> {
    let c: LightConversation = serde_json::from_str(doc).map_err(corrupt)?;
    h.contacts.push(HistoryContact {
        at_ms: at,
        rating: c.satisfaction.filter(|r| (1..=5).contains(r)),
    });
    Ok(())
}

fn finish(h: &mut CustomerHistory) {
    h.orders.sort_by_key(|o| o.at_ms);
    h.returns.sort_by_key(|r| r.at_ms);
    h.contacts.sort_by_key(|c| c.at_ms);
}

fn score_of(r: &sqlx::any::AnyRow) -> Result<CustomerScoreRecord> {
    let orders: i64 = r.try_get("orders").map_err(map)?;
    Ok(CustomerScoreRecord {
        user_id: r.try_get("user_id").map_err(map)?,
        orders: orders.clamp(0, u32::MAX as i64) as u32,
        churn: r.try_get("churn").map_err(map)?,
        churn_basis: r.try_get("churn_basis").map_err(map)?,
        p_alive: r.try_get("p_alive").map_err(map)?,
        expected_purchases_90d: r.try_get("expected_purchases_90d").map_err(map)?,
        clv_365d: r.try_get("clv_365d").map_err(map)?,
        segment: r.try_get("segment").map_err(map)?,
        scored_at_ms: r.try_get("scored_at_ms").map_err(map)?,
    })
}

const SCORE_COLUMNS: &str = "user_id, orders, churn, churn_basis, p_alive, \
    expected_purchases_90d, clv_365d, segment, scored_at_ms";

fn trigger_of(t: &TenantId, r: &sqlx::any::AnyRow) -> Result<Trigger> {
    let doc: String = r.try_get("doc").map_err(map)?;
    let _ = t;
    serde_json::from_str(&doc).map_err(corrupt)
}

/// Records new firings on `tx`: the firing row first (so two processes
/// cannot both queue the webhook), then its outbox delivery. Returns the
/// indexes (into `firings`) of those recorded now; the others had fired.
async fn record_firings(
    tx: &mut sqlx::AnyConnection,
    t: &TenantId,
    firings: &[Firing],
) -> Result<Vec<usize>> {
    let now = hc_domain::now_ms();
    let mut fired = Vec::new();
    for (index, f) in firings.iter().enumerate() {
        let inserted = sqlx::query(
            "insert into trigger_firings (tenant_id, trigger_id, subject, delivery_id, fired_at_ms) \
             values ($1, $2, $3, 0, $4) on conflict (tenant_id, trigger_id, subject) do nothing",
        )
        .bind(t.as_str())
        .bind(&f.trigger_id)
        .bind(&f.subject)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map)?
        .rows_affected();
        if inserted == 0 {
            continue;
        }
        let id = crate::outbox::insert_delivery(tx, &f.delivery).await?;
        sqlx::query(
            "update trigger_firings set delivery_id = $4 \
             where tenant_id = $1 and trigger_id = $2 and subject = $3",
        )
        .bind(t.as_str())
        .bind(&f.trigger_id)
        .bind(&f.subject)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        fired.push(index);
    }
    Ok(fired)
}

impl SqlStore {
    /// Fills the histories in `by_user` (ids in `[from, through]`) from
    /// orders, conversations, sessions and return events.
    async fn fill_histories(
        &self,
        t: &TenantId,
        from: &str,
        through: &str,
        now_ms: i64,
        by_user: &mut HashMap<String, CustomerHistory>,
    ) -> Result<()> {
        let rows = sqlx::query(
            "select user_id, order_id, status, doc, created_at_ms, updated_at_ms from orders \
             where tenant_id = $1 and user_id >= $2 and user_id <= $3",
        )
        .bind(t.as_str())
        .bind(from)
        .bind(through)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        for r in &rows {
            let user: String = r.try_get(0).map_err(map)?;
            if let Some(h) = by_user.get_mut(&user) {
                let status: String = r.try_get(2).map_err(map)?;
                let doc: String = r.try_get(3).map_err(map)?;
                add_order(
                    h,
                    r.try_get(1).map_err(map)?,
                    &status,
                    &doc,
                    r.try_get(4).map_err(map)?,
                    r.try_get(5).map_err(map)?,
                )?;
            }
        }
        let rows = sqlx::query(
            "select customer_id, created_at_ms, doc from conversations \
             where tenant_id = $1 and customer_id >= $2 and customer_id <= $3",
        )
        .bind(t.as_str())
        .bind(from)
        .bind(through)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        for r in &rows {
            let user: String = r.try_get(0).map_err(map)?;
            if let Some(h) = by_user.get_mut(&user) {
                let doc: String = r.try_get(2).map_err(map)?;
                add_contact(h, r.try_get(1).map_err(map)?, &doc)?;
            }
        }
        let rows = sqlx::query(
            "select customer_id, min(started_at_ms), max(last_event_at_ms), \
                    count(case when last_event_at_ms >= $4 then 1 end) \
             from sessions where tenant_id = $1 and customer_id >= $2 and customer_id <= $3 \
             group by customer_id",
        )
        .bind(t.as_str())
        .bind(from)
        .bind(through)
        .bind(now_ms - 30 * DAY_MS)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        for r in &rows {
            let user: String = r.try_get(0).map_err(map)?;
            if let Some(h) = by_user.get_mut(&user) {
                h.first_seen_ms = r.try_get(1).map_err(map)?;
                h.last_seen_ms = r.try_get(2).map_err(map)?;
                let n: i64 = r.try_get(3).map_err(map)?;
                h.sessions_last_30d = n.clamp(0, u32::MAX as i64) as u32;
            }
        }
        let rows = sqlx::query(
            "select customer_id, doc from events where tenant_id = $1 and type = 'return' \
             and customer_id >= $2 and customer_id <= $3",
        )
        .bind(t.as_str())
        .bind(from)
        .bind(through)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        for r in &rows {
            let user: String = r.try_get(0).map_err(map)?;
            if let Some(h) = by_user.get_mut(&user) {
                let doc: String = r.try_get(1).map_err(map)?;
                add_return_event(h, &doc)?;
            }
        }
        for h in by_user.values_mut() {
            finish(h);
        }
        Ok(())
    }

    fn seal_trigger_secret(&self, t: &TenantId, id: &str, secret: &str) -> Result<String> {
        match &self.secrets {
            Some(k) => k.seal(t, &format!("trigger:{id}"), secret),
            None => Ok(secret.to_string()),
        }
    }

    fn open_trigger_secret(&self, t: &TenantId, id: &str, stored: &str) -> Result<String> {
        match &self.secrets {
            Some(k) => k.open(t, &format!("trigger:{id}"), stored),
            None => Ok(stored.to_string()),
        }
    }
}

#[async_trait]
impl BehaviorStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, user = %user))]
    async fn customer_history(
        &self,
        t: &TenantId,
        user: &UserId,
        now_ms: i64,
    ) -> Result<Option<CustomerHistory>> {
        let exists = sqlx::query("select 1 from customers where tenant_id = $1 and user_id = $2")
            .bind(t.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?;
        if exists.is_none() {
            return Ok(None);
        }
        let id = user.to_string();
        let mut by_user = HashMap::from([(
            id.clone(),
            CustomerHistory {
                customer: id.clone(),
                ..Default::default()
            },
        )]);
        self.fill_histories(t, &id, &id, now_ms, &mut by_user)
            .await?;
        let mut h = by_user.remove(&id).expect("inserted above");
        h.latest_session = sqlx::query(
            "select id from sessions where tenant_id = $1 and customer_id = $2 \
             order by last_event_at_ms desc limit 1",
        )
        .bind(t.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.read)
        .await
        .map_err(map)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(map)?;
        Ok(Some(h))
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, limit))]
    async fn customer_histories(
        &self,
        t: &TenantId,
        after: Option<&str>,
        limit: u32,
        now_ms: i64,
    ) -> Result<Vec<CustomerHistory>> {
        let ids: Vec<String> = sqlx::query(
            "select user_id from customers where tenant_id = $1 and user_id > $2 \
             order by user_id limit $3",
        )
        .bind(t.as_str())
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| r.try_get(0).map_err(map))
        .collect::<Result<_>>()?;
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Ok(Vec::new());
        };
        let mut by_user: HashMap<String, CustomerHistory> = ids
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    CustomerHistory {
                        customer: id.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        self.fill_histories(t, first, last, now_ms, &mut by_user)
            .await?;
        Ok(ids.iter().filter_map(|id| by_user.remove(id)).collect())
    }

    async fn customer_model(&self, t: &TenantId) -> Result<Option<(String, i64)>> {
        sqlx::query("select doc, fitted_at_ms from customer_models where tenant_id = $1")
            .bind(t.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?
            .map(|r| Ok((r.try_get(0).map_err(map)?, r.try_get(1).map_err(map)?)))
            .transpose()
    }

    async fn put_customer_model(
        &self,
        t: &TenantId,
        version: u32,
        doc: &str,
        fitted_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "insert into customer_models (tenant_id, version, doc, fitted_at_ms) values ($1, $2, $3, $4) \
             on conflict (tenant_id) do update set version = excluded.version, doc = excluded.doc, \
             fitted_at_ms = excluded.fitted_at_ms",
        )
        .bind(t.as_str())
        .bind(i64::from(version))
        .bind(doc)
        .bind(fitted_at_ms)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn customer_score(
        &self,
        t: &TenantId,
        user: &UserId,
    ) -> Result<Option<CustomerScoreRecord>> {
        let sql = format!(
            "select {SCORE_COLUMNS} from customer_scores where tenant_id = $1 and user_id = $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?
            .map(|r| score_of(&r))
            .transpose()
    }

    async fn customer_scores_between(
        &self,
        t: &TenantId,
        from: &str,
        through: &str,
    ) -> Result<Vec<CustomerScoreRecord>> {
        let sql = format!(
            "select {SCORE_COLUMNS} from customer_scores \
             where tenant_id = $1 and user_id >= $2 and user_id <= $3 order by user_id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.as_str())
            .bind(from)
            .bind(through)
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(score_of)
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, n = scores.len()))]
    async fn put_customer_scores(
        &self,
        t: &TenantId,
        scores: &[CustomerScoreRecord],
        firings: &[Firing],
    ) -> Result<Vec<usize>> {
        const ROWS: usize = 400;
        let mut tx = self.begin_write().await?;
        for chunk in scores.chunks(ROWS) {
            let mut sql = String::from(
                "insert into customer_scores (tenant_id, user_id, orders, churn, churn_basis, p_alive, \
                 expected_purchases_90d, clv_365d, segment, scored_at_ms) values ",
            );
            for i in 0..chunk.len() {
                let b = i * 9 + 1;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "($1, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                ));
            }
            sql.push_str(
                " on conflict (tenant_id, user_id) do update set orders = excluded.orders, \
                 churn = excluded.churn, churn_basis = excluded.churn_basis, p_alive = excluded.p_alive, \
                 expected_purchases_90d = excluded.expected_purchases_90d, clv_365d = excluded.clv_365d, \
                 segment = excluded.segment, scored_at_ms = excluded.scored_at_ms",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(t.as_str());
            for s in chunk {
                q = q
                    .bind(s.user_id.as_str())
                    .bind(i64::from(s.orders))
                    .bind(s.churn)
                    .bind(s.churn_basis.as_deref())
                    .bind(s.p_alive)
                    .bind(s.expected_purchases_90d)
                    .bind(s.clv_365d)
                    .bind(s.segment.as_deref())
                    .bind(s.scored_at_ms);
            }
            q.execute(&mut *tx).await.map_err(map)?;
        }
        let fired = record_firings(&mut tx, t, firings).await?;
        tx.commit().await.map_err(map)?;
        Ok(fired)
    }

    async fn count_customer_scores(&self, t: &TenantId) -> Result<u64> {
        let n: i64 = sqlx::query("select count(*) from customer_scores where tenant_id = $1")
            .bind(t.as_str())
            .fetch_one(&self.read)
            .await
            .map_err(map)?
            .try_get(0)
            .map_err(map)?;
        Ok(n.max(0) as u64)
    }

    async fn create_trigger(&self, t: &TenantId, trigger: &Trigger, secret: &str) -> Result<()> {
        let doc = serde_json::to_string(trigger).map_err(corrupt)?;
        let sealed = self.seal_trigger_secret(t, &trigger.id, secret)?;
        sqlx::query(
            "insert into triggers (tenant_id, id, doc, secret, cursor_ms, created_at_ms) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(t.as_str())
        .bind(&trigger.id)
        .bind(doc)
        .bind(sealed)
        // A new trigger looks at sessions that end from now on.
        .bind(trigger.created_at_ms - hc_domain::SESSION_GAP_MS)
        .bind(trigger.created_at_ms)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn list_triggers(&self, t: &TenantId) -> Result<Vec<Trigger>> {
        sqlx::query("select doc from triggers where tenant_id = $1 order by created_at_ms, id")
            .bind(t.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(|r| trigger_of(t, r))
            .collect()
    }

    async fn trigger(&self, t: &TenantId, id: &str) -> Result<Option<(Trigger, String)>> {
        let Some(r) =
            sqlx::query("select doc, secret from triggers where tenant_id = $1 and id = $2")
                .bind(t.as_str())
                .bind(id)
                .fetch_optional(&self.read)
                .await
                .map_err(map)?
        else {
            return Ok(None);
        };
        let stored: String = r.try_get("secret").map_err(map)?;
        Ok(Some((
            trigger_of(t, &r)?,
            self.open_trigger_secret(t, id, &stored)?,
        )))
    }

    async fn delete_trigger(&self, t: &TenantId, id: &str) -> Result<bool> {
        let n = sqlx::query("delete from triggers where tenant_id = $1 and id = $2")
            .bind(t.as_str())
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(map)?
            .rows_affected();
        Ok(n > 0)
    }

    async fn all_triggers(&self) -> Result<Vec<StoredTrigger>> {
        sqlx::query(
            "select tenant_id, doc, cursor_ms from triggers order by tenant_id, created_at_ms",
        )
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| {
            let tenant: String = r.try_get(0).map_err(map)?;
            let tenant_id = TenantId::parse(tenant).map_err(|e| Error::Corrupt(e.to_string()))?;
            Ok(StoredTrigger {
                trigger: trigger_of(&tenant_id, r)?,
                cursor_ms: r.try_get(2).map_err(map)?,
                tenant_id,
            })
        })
        .collect()
    }

    async fn sessions_ended_between(
        &self,
        t: &TenantId,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
    ) -> Result<Vec<hc_domain::Session>> {
        sqlx::query(
            "select doc from sessions where tenant_id = $1 and last_event_at_ms >= $2 \
             and last_event_at_ms <= $3 order by last_event_at_ms limit $4",
        )
        .bind(t.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| {
            let doc: String = r.try_get(0).map_err(map)?;
            serde_json::from_str(&doc).map_err(corrupt)
        })
        .collect()
    }

    async fn fire(
        &self,
        t: &TenantId,
        firings: &[Firing],
        cursor: Option<(&str, i64)>,
    ) -> Result<Vec<usize>> {
        let mut tx = self.begin_write().await?;
        let fired = record_firings(&mut tx, t, firings).await?;
        if let Some((id, at)) = cursor {
            sqlx::query(
                "update triggers set cursor_ms = $3 where tenant_id = $1 and id = $2 and cursor_ms < $3",
            )
            .bind(t.as_str())
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(fired)
    }
}
