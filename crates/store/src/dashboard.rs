//! What the operator dashboard reads, aggregated ahead of time so a page
//! never scans conversations: one fact row per conversation
//! (`conversation_facts`), sums per tenant, UTC day and channel
//! (`conversation_daily`) and label counts (intents, escalation reasons:
//! `conversation_daily_labels`). [`DashboardStore::refresh_rollup`] folds in
//! the conversations updated since the tenant's watermark: its cost is the
//! number of conversations changed since the last refresh (plus the rows of
//! the days they were created on), not the size of the history. Also the
//! inbox's private notes and assignments, and API keys' last use.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use hc_commerce::ports::{Page, PageRequest};
use hc_domain::{
    ApiKeyId, Author, Conversation, ConversationId, ConversationStatus, Message, OperatorId,
    TenantId,
};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::SqlStore;
use crate::error::{Error, Result, map};
use crate::retail::decode;

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// Conversations updated this long before the watermark are read again on
/// the next refresh: a turn stamped before a refresh may commit after it.
pub const ROLLUP_OVERLAP_MS: i64 = 5_000;

/// Longest label (intent or escalation reason) kept in the rollup.
const MAX_LABEL: usize = 80;

/// One conversation as the overview counts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConversationFact {
    pub conversation_id: ConversationId,
    /// UTC day of creation (days since 1970-01-01).
    pub day: i64,
    pub channel: String,
    pub status: String,
    pub customer_id: Option<String>,
    /// Resolved without a human.
    pub by_ai: bool,
    /// Went to a human at some point.
    pub escalated: bool,
    pub first_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub rating: Option<i64>,
    /// The first understood intent of the customer.
    pub intent: Option<String>,
    pub escalation_reason: Option<String>,
    /// Orders placed in the conversation, and their payments.
    pub revenue_cents: i64,
    pub orders: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

fn label(raw: &str) -> String {
    let raw = raw.trim();
    if raw.starts_with("taken over by") {
        return "taken over by staff".into();
    }
    raw.chars().take(MAX_LABEL).collect()
}

impl ConversationFact {
    /// The fact row of a conversation and its messages.
    pub fn of(c: &Conversation, messages: &[Message]) -> Self {
        let intent = messages
            .iter()
            .filter(|m| m.author == Author::Customer)
            .find_map(|m| m.intent.as_deref())
            .map(label);
        let mut revenue_cents = 0;
        let mut orders = 0;
        for call in messages.iter().flat_map(|m| &m.tool_calls) {
            if call.name != "place_order" || call.error.is_some() {
                continue;
            }
            let Some(out) = &call.output else { continue };
            orders += 1;
            if let Some(payments) = out.get("payment_history").and_then(|p| p.as_array()) {
                for p in payments {
                    if p.get("transaction_type").and_then(|t| t.as_str()) == Some("payment") {
                        let amount = p.get("amount").and_then(|a| a.as_f64()).unwrap_or(0.0);
                        revenue_cents += (amount * 100.0).round() as i64;
                    }
                }
            }
        }
        let resolved = c.status == ConversationStatus::Resolved;
        Self {
            conversation_id: c.id.clone(),
            day: c.created_at_ms.div_euclid(DAY_MS),
            channel: c.channel.as_str().into(),
            status: c.status.as_str().into(),
            customer_id: c.customer.as_ref().map(|u| u.to_string()),
            by_ai: resolved && c.escalation.is_none(),
            escalated: c.escalation.is_some(),
            first_response_ms: c.first_response_at_ms.map(|t| (t - c.created_at_ms).max(0)),
            resolution_ms: c
                .closed_at_ms
                .filter(|_| resolved)
                .map(|t| (t - c.created_at_ms).max(0)),
            rating: c.satisfaction.map(i64::from),
            intent,
            escalation_reason: c.escalation.as_ref().map(|e| label(&e.reason)),
            revenue_cents,
            orders,
            created_at_ms: c.created_at_ms,
            updated_at_ms: c.updated_at_ms,
        }
    }
}

/// One tenant-day-channel of the rollup (sums; averages are sum / n).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DailyRow {
    pub day: i64,
    pub conversations: i64,
    pub open: i64,
    pub resolved: i64,
    pub resolved_by_ai: i64,
    pub escalated: i64,
    pub abandoned: i64,
    pub first_response_sum_ms: i64,
    pub first_response_n: i64,
    pub resolution_sum_ms: i64,
    pub resolution_n: i64,
    pub rating_sum: i64,
    pub rating_n: i64,
    pub revenue_cents: i64,
    pub orders: i64,
}

/// What the conversations created in a time window came to (the measured
/// outcomes behind an agent's reputation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    pub conversations: i64,
    pub resolved_by_ai: i64,
    pub escalated: i64,
    pub rating_sum: i64,
    pub rating_n: i64,
}

/// Positional arguments of a statement assembled from the filters given,
/// numbered `$1, $2, …` as they are added (the same on both backends).
#[derive(Default)]
struct Params(Vec<Param>);

enum Param {
    Text(String),
    Int(i64),
}

impl Params {
    fn text(&mut self, v: &str) -> String {
        self.0.push(Param::Text(v.to_owned()));
        format!("${}", self.0.len())
    }

    fn int(&mut self, v: i64) -> String {
        self.0.push(Param::Int(v));
        format!("${}", self.0.len())
    }

    fn bind<'q>(
        self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for a in self.0 {
            q = match a {
                Param::Text(v) => q.bind(v),
                Param::Int(v) => q.bind(v),
            };
        }
        q
    }
}

/// Which conversations a search returns; every field optional.
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub channel: Option<String>,
    pub intent: Option<String>,
    pub rating: Option<i64>,
    /// Created on or after this UTC day.
    pub from_day: Option<i64>,
    /// Created on or before this UTC day.
    pub to_day: Option<i64>,
    /// Exact customer id, or the start of one.
    pub customer: Option<String>,
}

/// A private note on a conversation (never shown to the customer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConversationNote {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub at_ms: i64,
}

/// Who took over an escalated conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub conversation_id: ConversationId,
    pub operator_id: OperatorId,
    pub operator_email: String,
    pub at_ms: i64,
}

/// What a rollup refresh did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollupRefresh {
    pub conversations: usize,
    pub days: usize,
}

/// The dashboard's reads and its few writes.
#[async_trait]
pub trait DashboardStore: Send + Sync {
    /// Folds the conversations updated since the watermark into the rollup.
    async fn refresh_rollup(&self, t: &TenantId) -> Result<RollupRefresh>;
    /// Rollup rows for days `from..=to`, summed over channels (or one channel), by day.
    async fn daily(
        &self,
        t: &TenantId,
        from_day: i64,
        to_day: i64,
        channel: Option<&str>,
    ) -> Result<Vec<DailyRow>>;
    /// The most frequent labels of `kind` (`intent` or `escalation`) over the days.
    async fn top_labels(
        &self,
        t: &TenantId,
        kind: &str,
        from_day: i64,
        to_day: i64,
        channel: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>>;
    /// Conversations waiting for a human now (escalated).
    async fn waiting_for_human(&self, t: &TenantId) -> Result<i64>;
    /// Sums over the conversations created in `[from_ms, to_ms)`, as of the
    /// last rollup refresh.
    async fn outcomes(&self, t: &TenantId, from_ms: i64, to_ms: i64) -> Result<Outcomes>;
    /// Facts matching `filter`, most recently updated first; cursor `<updated_at_ms>:<id>`.
    async fn search_conversations(
        &self,
        t: &TenantId,
        filter: &ConversationFilter,
        page: &PageRequest,
    ) -> Result<Page<ConversationFact>>;
    /// The distinct intents seen, for the search form.
    async fn known_intents(&self, t: &TenantId) -> Result<Vec<String>>;
    async fn add_note(
        &self,
        t: &TenantId,
        id: &ConversationId,
        author: &str,
        text: &str,
        at_ms: i64,
    ) -> Result<i64>;
    async fn notes(&self, t: &TenantId, id: &ConversationId) -> Result<Vec<ConversationNote>>;
    /// Assigns the conversation to an operator (replacing any earlier one).
    async fn assign(&self, t: &TenantId, a: &Assignment) -> Result<()>;
    async fn unassign(&self, t: &TenantId, id: &ConversationId) -> Result<()>;
    /// The tenant's assignments, by conversation.
    async fn assignments(&self, t: &TenantId) -> Result<HashMap<ConversationId, Assignment>>;
    /// Records that a key was used (callers throttle this).
    async fn touch_key(&self, id: &ApiKeyId, at_ms: i64) -> Result<()>;
    /// When each of the tenant's keys was last used.
    async fn keys_last_used(&self, t: &TenantId) -> Result<HashMap<ApiKeyId, i64>>;
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

const FACT_COLUMNS: &str = "conversation_id, day, channel, status, customer_id, by_ai, escalated, \
     first_response_ms, resolution_ms, rating, intent, escalation_reason, revenue_cents, orders, \
     created_at_ms, updated_at_ms";

fn fact_of(r: &AnyRow) -> Result<ConversationFact> {
    Ok(ConversationFact {
        conversation_id: ConversationId::parse(
            r.try_get::<String, _>("conversation_id").map_err(map)?,
        )
        .map_err(corrupt)?,
        day: r.try_get("day").map_err(map)?,
        channel: r.try_get("channel").map_err(map)?,
        status: r.try_get("status").map_err(map)?,
        customer_id: r.try_get("customer_id").map_err(map)?,
        by_ai: r.try_get::<i64, _>("by_ai").map_err(map)? != 0,
        escalated: r.try_get::<i64, _>("escalated").map_err(map)? != 0,
        first_response_ms: r.try_get("first_response_ms").map_err(map)?,
        resolution_ms: r.try_get("resolution_ms").map_err(map)?,
        rating: r.try_get("rating").map_err(map)?,
        intent: r.try_get("intent").map_err(map)?,
        escalation_reason: r.try_get("escalation_reason").map_err(map)?,
        revenue_cents: r.try_get("revenue_cents").map_err(map)?,
        orders: r.try_get("orders").map_err(map)?,
        created_at_ms: r.try_get("created_at_ms").map_err(map)?,
        updated_at_ms: r.try_get("updated_at_ms").map_err(map)?,
    })
}

/// Conversations read per batch while refreshing.
const REFRESH_BATCH: i64 = 500;

impl SqlStore {
    async fn upsert_fact(
        tx: &mut sqlx::AnyConnection,
        t: &TenantId,
        f: &ConversationFact,
    ) -> Result<()> {
        let sql = sqlx::AssertSqlSafe(format!(
            "insert into conversation_facts (tenant_id, {FACT_COLUMNS}) values \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             on conflict (tenant_id, conversation_id) do update set status = excluded.status, \
             customer_id = excluded.customer_id, by_ai = excluded.by_ai, \
             escalated = excluded.escalated, first_response_ms = excluded.first_response_ms, \
             resolution_ms = excluded.resolution_ms, rating = excluded.rating, \
             intent = excluded.intent, escalation_reason = excluded.escalation_reason, \
             revenue_cents = excluded.revenue_cents, orders = excluded.orders, \
             updated_at_ms = excluded.updated_at_ms"
        ));
        sqlx::query(sql)
            .bind(t.as_str())
            .bind(f.conversation_id.as_str())
            .bind(f.day)
            .bind(f.channel.clone())
            .bind(f.status.clone())
            .bind(f.customer_id.clone())
            .bind(i64::from(f.by_ai))
            .bind(i64::from(f.escalated))
            .bind(f.first_response_ms)
            .bind(f.resolution_ms)
            .bind(f.rating)
            .bind(f.intent.clone())
            .bind(f.escalation_reason.clone())
            .bind(f.revenue_cents)
            .bind(f.orders)
            .bind(f.created_at_ms)
            .bind(f.updated_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        Ok(())
    }

    /// Recomputes one day's rollup rows from its facts.
    async fn roll_day(tx: &mut sqlx::AnyConnection, t: &TenantId, day: i64) -> Result<()> {
        for table in ["conversation_daily", "conversation_daily_labels"] {
            let sql = sqlx::AssertSqlSafe(format!(
                "delete from {table} where tenant_id = $1 and day = $2"
            ));
            sqlx::query(sql)
                .bind(t.as_str())
                .bind(day)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        sqlx::query(
            "insert into conversation_daily (tenant_id, day, channel, conversations, open, \
             resolved, resolved_by_ai, escalated, abandoned, first_response_sum_ms, \
             first_response_n, resolution_sum_ms, resolution_n, rating_sum, rating_n, \
             revenue_cents, orders) \
             select tenant_id, day, channel, count(*), \
             sum(case when status = 'open' then 1 else 0 end), \
             sum(case when status = 'resolved' then 1 else 0 end), \
             sum(by_ai), sum(escalated), \
             sum(case when status = 'abandoned' then 1 else 0 end), \
             coalesce(sum(first_response_ms), 0), count(first_response_ms), \
             coalesce(sum(resolution_ms), 0), count(resolution_ms), \
             coalesce(sum(rating), 0), count(rating), sum(revenue_cents), sum(orders) \
             from conversation_facts where tenant_id = $1 and day = $2 \
             group by tenant_id, day, channel",
        )
        .bind(t.as_str())
        .bind(day)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        for (kind, column) in [("intent", "intent"), ("escalation", "escalation_reason")] {
            let sql = sqlx::AssertSqlSafe(format!(
                "insert into conversation_daily_labels (tenant_id, day, channel, kind, label, n) \
                 select tenant_id, day, channel, '{kind}', {column}, count(*) \
                 from conversation_facts where tenant_id = $1 and day = $2 \
                 and {column} is not null group by tenant_id, day, channel, {column}"
            ));
            sqlx::query(sql)
                .bind(t.as_str())
                .bind(day)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        Ok(())
    }
}

#[async_trait]
impl DashboardStore for SqlStore {
    async fn refresh_rollup(&self, t: &TenantId) -> Result<RollupRefresh> {
        let watermark: i64 =
            sqlx::query("select updated_before_ms from rollup_watermarks where tenant_id = $1")
                .bind(t.as_str())
                .fetch_optional(&self.read)
                .await
                .map_err(map)?
                .map(|r| r.try_get::<i64, _>(0))
                .transpose()
                .map_err(map)?
                .unwrap_or(0);
        let mut cursor = ((watermark - ROLLUP_OVERLAP_MS).max(0), String::new());
        let mut done = RollupRefresh::default();
        loop {
            let rows = sqlx::query(
                "select doc from conversations where tenant_id = $1 \
                 and (updated_at_ms > $2 or (updated_at_ms = $2 and id > $3)) \
                 order by updated_at_ms, id limit $4",
            )
            .bind(t.as_str())
            .bind(cursor.0)
            .bind(cursor.1.clone())
            .bind(REFRESH_BATCH)
            .fetch_all(&self.read)
            .await
            .map_err(map)?;
            let mut facts = Vec::with_capacity(rows.len());
            for r in &rows {
                let c: Conversation = decode(&r.try_get::<String, _>("doc").map_err(map)?)?;
                let messages = hc_agent::ports::ConversationStore::messages(self, t, &c.id).await?;
                cursor = (c.updated_at_ms, c.id.to_string());
                facts.push(ConversationFact::of(&c, &messages));
            }
            if facts.is_empty() {
                break;
            }
            // One bounded transaction per batch: the writer is never held long.
            let days: BTreeSet<i64> = facts.iter().map(|f| f.day).collect();
            let mut tx = self.begin_write().await?;
            for f in &facts {
                Self::upsert_fact(&mut tx, t, f).await?;
            }
            for day in &days {
                Self::roll_day(&mut tx, t, *day).await?;
            }
            sqlx::query(
                "insert into rollup_watermarks (tenant_id, updated_before_ms) values ($1, $2) \
                 on conflict (tenant_id) do update set updated_before_ms = \
                 case when excluded.updated_before_ms > rollup_watermarks.updated_before_ms \
                 then excluded.updated_before_ms else rollup_watermarks.updated_before_ms end",
            )
            .bind(t.as_str())
            .bind(cursor.0)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
            tx.commit().await.map_err(map)?;
            done.conversations += facts.len();
            done.days += days.len();
            if (rows.len() as i64) < REFRESH_BATCH {
                break;
            }
        }
        Ok(done)
    }

    async fn daily(
        &self,
        t: &TenantId,
        from_day: i64,
        to_day: i64,
        channel: Option<&str>,
    ) -> Result<Vec<DailyRow>> {
        // PostgreSQL sums bigints to numeric: cast back for the Any driver.
        let rows = sqlx::query(
            "select day, cast(sum(conversations) as bigint) as conversations, \
             cast(sum(open) as bigint) as open, cast(sum(resolved) as bigint) as resolved, \
             cast(sum(resolved_by_ai) as bigint) as resolved_by_ai, \
             cast(sum(escalated) as bigint) as escalated, \
             cast(sum(abandoned) as bigint) as abandoned, \
             cast(sum(first_response_sum_ms) as bigint) as first_response_sum_ms, \
             cast(sum(first_response_n) as bigint) as first_response_n, \
             cast(sum(resolution_sum_ms) as bigint) as resolution_sum_ms, \
             cast(sum(resolution_n) as bigint) as resolution_n, \
             cast(sum(rating_sum) as bigint) as rating_sum, \
             cast(sum(rating_n) as bigint) as rating_n, \
             cast(sum(revenue_cents) as bigint) as revenue_cents, \
             cast(sum(orders) as bigint) as orders \
             from conversation_daily where tenant_id = $1 and day >= $2 and day <= $3 \
             and ($4 = '' or channel = $4) group by day order by day",
        )
        .bind(t.as_str())
        .bind(from_day)
        .bind(to_day)
        .bind(channel.unwrap_or_default().to_string())
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                let g = |c: &str| r.try_get::<i64, _>(c).map_err(map);
                Ok(DailyRow {
                    day: g("day")?,
                    conversations: g("conversations")?,
                    open: g("open")?,
                    resolved: g("resolved")?,
                    resolved_by_ai: g("resolved_by_ai")?,
                    escalated: g("escalated")?,
                    abandoned: g("abandoned")?,
                    first_response_sum_ms: g("first_response_sum_ms")?,
                    first_response_n: g("first_response_n")?,
                    resolution_sum_ms: g("resolution_sum_ms")?,
                    resolution_n: g("resolution_n")?,
                    rating_sum: g("rating_sum")?,
                    rating_n: g("rating_n")?,
                    revenue_cents: g("revenue_cents")?,
                    orders: g("orders")?,
                })
            })
            .collect()
    }

    async fn top_labels(
        &self,
        t: &TenantId,
        kind: &str,
        from_day: i64,
        to_day: i64,
        channel: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "select label, cast(sum(n) as bigint) as n from conversation_daily_labels \
             where tenant_id = $1 and kind = $2 and day >= $3 and day <= $4 \
             and ($5 = '' or channel = $5) group by label order by n desc, label limit $6",
        )
        .bind(t.as_str())
        .bind(kind.to_string())
        .bind(from_day)
        .bind(to_day)
        .bind(channel.unwrap_or_default().to_string())
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("label").map_err(map)?,
                    r.try_get("n").map_err(map)?,
                ))
            })
            .collect()
    }

    async fn waiting_for_human(&self, t: &TenantId) -> Result<i64> {
        sqlx::query(
            "select count(*) from conversations where tenant_id = $1 and status = 'escalated'",
        )
        .bind(t.as_str())
        .fetch_one(&self.read)
        .await
        .map_err(map)?
        .try_get::<i64, _>(0)
        .map_err(map)
    }

    async fn outcomes(&self, t: &TenantId, from_ms: i64, to_ms: i64) -> Result<Outcomes> {
        // The day bounds let the (tenant_id, day) index narrow the scan.
        let row = sqlx::query(
            "select cast(count(*) as bigint), cast(coalesce(sum(by_ai), 0) as bigint), \
             cast(coalesce(sum(escalated), 0) as bigint), cast(coalesce(sum(rating), 0) as bigint), \
             cast(count(rating) as bigint) \
             from conversation_facts where tenant_id = $1 and day >= $2 and day <= $3 \
             and created_at_ms >= $4 and created_at_ms < $5",
        )
        .bind(t.as_str())
        .bind(from_ms.div_euclid(DAY_MS))
        .bind(to_ms.div_euclid(DAY_MS))
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(&self.read)
        .await
        .map_err(map)?;
        let n = |i: usize| row.try_get::<i64, _>(i).map_err(map);
        Ok(Outcomes {
            conversations: n(0)?,
            resolved_by_ai: n(1)?,
            escalated: n(2)?,
            rating_sum: n(3)?,
            rating_n: n(4)?,
        })
    }

    async fn search_conversations(
        &self,
        t: &TenantId,
        f: &ConversationFilter,
        page: &PageRequest,
    ) -> Result<Page<ConversationFact>> {
        let (before_ms, before_id) = page
            .after
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .and_then(|(ms, id)| Some((ms.parse::<i64>().ok()?, id.to_string())))
            .unwrap_or((i64::MAX, "\u{10FFFF}".to_string()));
        // Only the filters given become conditions: `($n = '' or col = $n)`
        // hides from the planner which index serves the order, and SQLite
        // then sorted the whole tenant from the day index (seconds at 1M).
        let mut p = Params::default();
        let mut sql = format!(
            "select {FACT_COLUMNS} from conversation_facts where tenant_id = {}",
            p.text(t.as_str())
        );
        if let Some(status) = f.status {
            sql += &format!(" and status = {}", p.text(status.as_str()));
        }
        if let Some(channel) = &f.channel {
            sql += &format!(" and channel = {}", p.text(channel));
        }
        if let Some(intent) = &f.intent {
            sql += &format!(" and intent = {}", p.text(intent));
        }
        if let Some(rating) = f.rating {
            sql += &format!(" and rating = {}", p.int(rating));
        }
        if let Some(from) = f.from_day {
            sql += &format!(" and day >= {}", p.int(from));
        }
        if let Some(to) = f.to_day {
            sql += &format!(" and day <= {}", p.int(to));
        }
        // A prefix as a range: the same SQL on both backends, and indexable.
        if let Some(prefix) = f.customer.as_deref().filter(|c| !c.is_empty()) {
            sql += &format!(
                " and customer_id >= {} and customer_id < {}",
                p.text(prefix),
                p.text(&format!("{prefix}\u{10FFFF}"))
            );
        }
        let (ms, id) = (p.int(before_ms), p.text(&before_id));
        sql += &format!(
            " and (updated_at_ms < {ms} or (updated_at_ms = {ms} and conversation_id < {id})) \
             order by updated_at_ms desc, conversation_id desc limit {}",
            p.int(i64::from(page.limit) + 1)
        );
        let rows = p
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(&self.read)
            .await
            .map_err(map)?;
        let mut items: Vec<ConversationFact> = rows.iter().map(fact_of).collect::<Result<_>>()?;
        let next_cursor = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            items
                .last()
                .map(|c| format!("{}:{}", c.updated_at_ms, c.conversation_id))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn known_intents(&self, t: &TenantId) -> Result<Vec<String>> {
        sqlx::query(
            "select distinct label from conversation_daily_labels where tenant_id = $1 \
             and kind = 'intent' order by label limit 200",
        )
        .bind(t.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| r.try_get(0).map_err(map))
        .collect()
    }

    async fn add_note(
        &self,
        t: &TenantId,
        id: &ConversationId,
        author: &str,
        text: &str,
        at_ms: i64,
    ) -> Result<i64> {
        sqlx::query(
            "insert into conversation_notes (tenant_id, conversation_id, author, text, at_ms) \
             values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(t.as_str())
        .bind(id.as_str())
        .bind(author.to_string())
        .bind(text.to_string())
        .bind(at_ms)
        .fetch_one(&self.write)
        .await
        .map_err(map)?
        .try_get::<i64, _>(0)
        .map_err(map)
    }

    async fn notes(&self, t: &TenantId, id: &ConversationId) -> Result<Vec<ConversationNote>> {
        sqlx::query(
            "select id, author, text, at_ms from conversation_notes \
             where tenant_id = $1 and conversation_id = $2 order by id",
        )
        .bind(t.as_str())
        .bind(id.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| {
            Ok(ConversationNote {
                id: r.try_get("id").map_err(map)?,
                author: r.try_get("author").map_err(map)?,
                text: r.try_get("text").map_err(map)?,
                at_ms: r.try_get("at_ms").map_err(map)?,
            })
        })
        .collect()
    }

    async fn assign(&self, t: &TenantId, a: &Assignment) -> Result<()> {
        sqlx::query(
            "insert into conversation_assignments (tenant_id, conversation_id, operator_id, \
             operator_email, at_ms) values ($1, $2, $3, $4, $5) \
             on conflict (tenant_id, conversation_id) do update set \
             operator_id = excluded.operator_id, operator_email = excluded.operator_email, \
             at_ms = excluded.at_ms",
        )
        .bind(t.as_str())
        .bind(a.conversation_id.as_str())
        .bind(a.operator_id.as_str())
        .bind(a.operator_email.clone())
        .bind(a.at_ms)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn unassign(&self, t: &TenantId, id: &ConversationId) -> Result<()> {
        sqlx::query(
            "delete from conversation_assignments where tenant_id = $1 and conversation_id = $2",
        )
        .bind(t.as_str())
        .bind(id.as_str())
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn assignments(&self, t: &TenantId) -> Result<HashMap<ConversationId, Assignment>> {
        sqlx::query(
            "select conversation_id, operator_id, operator_email, at_ms \
             from conversation_assignments where tenant_id = $1",
        )
        .bind(t.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| {
            let a = Assignment {
                conversation_id: ConversationId::parse(
                    r.try_get::<String, _>("conversation_id").map_err(map)?,
                )
                .map_err(corrupt)?,
                operator_id: OperatorId::parse(r.try_get::<String, _>("operator_id").map_err(map)?)
                    .map_err(corrupt)?,
                operator_email: r.try_get("operator_email").map_err(map)?,
                at_ms: r.try_get("at_ms").map_err(map)?,
            };
            Ok((a.conversation_id.clone(), a))
        })
        .collect()
    }

    async fn touch_key(&self, id: &ApiKeyId, at_ms: i64) -> Result<()> {
        sqlx::query("update api_keys set last_used_at_ms = $2 where id = $1")
            .bind(id.as_str())
            .bind(at_ms)
            .execute(&self.write)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn keys_last_used(&self, t: &TenantId) -> Result<HashMap<ApiKeyId, i64>> {
        sqlx::query(
            "select id, last_used_at_ms from api_keys where tenant_id = $1 \
             and last_used_at_ms is not null",
        )
        .bind(t.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(|r| {
            Ok((
                ApiKeyId::parse(r.try_get::<String, _>("id").map_err(map)?).map_err(corrupt)?,
                r.try_get("last_used_at_ms").map_err(map)?,
            ))
        })
        .collect()
    }
}
