//! GDPR erasure of one customer's personal data, in one transaction:
//!
//! - the customer record: name, email and address replaced by placeholders,
//!   the cart emptied (the user id, saved payment-method ids and the order
//!   list stay, because orders point at them);
//! - every order's shipping address replaced by the placeholder address
//!   (items, prices and payments stay: they are the merchant's accounting
//!   records);
//! - the customer's conversations and their messages, private notes,
//!   assignments and rollup facts deleted (the daily rollup's counts, which
//!   name nobody, stay);
//! - behavior events and sessions unlinked from the customer (the customer
//!   id removed from the row and from the stored event), so aggregate
//!   analytics still add up;
//! - long-term memory facts, customer scores and trigger firings about the
//!   customer deleted.
//!
//! The loyalty ledger is erased separately by deleting the customer's
//! pseudonym key (`hc_ledger::CustomerKeys::erase`).

use async_trait::async_trait;
use hc_domain::{Address, Customer, Order, PersonName, TenantId, UserId};
use serde::Serialize;
use sqlx::Row;

use crate::db::SqlStore;
use crate::error::{Error, Result, map};
use crate::retail::{decode, put_customer, put_order};

/// What an erasure changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// False when the tenant has no such customer (nothing else was done).
    pub customer: bool,
    pub orders_redacted: u64,
    pub conversations_deleted: u64,
    pub events_unlinked: u64,
    pub sessions_unlinked: u64,
    pub memory_facts_deleted: u64,
}

/// The placeholder an erased customer's personal fields become.
pub fn erased_address() -> Address {
    Address {
        address1: "erased".into(),
        address2: String::new(),
        city: "erased".into(),
        country: "erased".into(),
        state: "erased".into(),
        zip: "00000".into(),
    }
}

/// Runs `sql` with the tenant and one id (`$1`, `$2`); rows affected.
async fn exec(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sql: &'static str,
    t: &TenantId,
    id: &str,
) -> Result<u64> {
    Ok(sqlx::query(sql)
        .bind(t.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(map)?
        .rows_affected())
}

#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// Erases the customer's personal data (see the module documentation).
    /// Running it again changes nothing more.
    async fn erase_customer(&self, t: &TenantId, user: &UserId) -> Result<ErasureReport>;
}

#[async_trait]
impl ErasureStore for SqlStore {
    async fn erase_customer(&self, t: &TenantId, user: &UserId) -> Result<ErasureReport> {
        let mut tx = self.begin_write().await?;
        let lock = self.for_update();
        // `lock` is a constant suffix (" for update" or nothing).
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select doc from customers where tenant_id = $1 and user_id = $2{lock}"
        )))
        .bind(t.as_str())
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map)?;
        let Some(row) = row else {
            return Ok(ErasureReport::default());
        };
        let mut report = ErasureReport {
            customer: true,
            ..ErasureReport::default()
        };
        let mut customer: Customer = decode(&row.try_get::<String, _>(0).map_err(map)?)?;
        customer.name = PersonName {
            first_name: "Erased".into(),
            last_name: "Customer".into(),
        };
        customer.email = format!("erased.{}@invalid", customer.user_id);
        customer.address = erased_address();
        customer.cart.clear();
        put_customer(&mut *tx, t, &customer).await?;

        let orders = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select doc from orders where tenant_id = $1 and user_id = $2{lock}"
        )))
        .bind(t.as_str())
        .bind(user.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(map)?;
        for row in orders {
            let mut order: Order = decode(&row.try_get::<String, _>(0).map_err(map)?)?;
            if order.address != erased_address() {
                order.address = erased_address();
                put_order(&mut *tx, t, &order).await?;
                report.orders_redacted += 1;
            }
        }

        let conversations: Vec<String> =
            sqlx::query("select id from conversations where tenant_id = $1 and customer_id = $2")
                .bind(t.as_str())
                .bind(user.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(map)?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<std::result::Result<_, _>>()
                .map_err(map)?;
        for id in &conversations {
            for table in [
                "delete from conversation_messages where tenant_id = $1 and conversation_id = $2",
                "delete from conversation_notes where tenant_id = $1 and conversation_id = $2",
                "delete from conversation_assignments where tenant_id = $1 and conversation_id = $2",
                "delete from conversation_facts where tenant_id = $1 and conversation_id = $2",
                "delete from conversations where tenant_id = $1 and id = $2",
            ] {
                exec(&mut tx, table, t, id).await?;
            }
        }
        report.conversations_deleted = conversations.len() as u64;

        let events =
            sqlx::query("select seq, doc from events where tenant_id = $1 and customer_id = $2")
                .bind(t.as_str())
                .bind(user.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(map)?;
        for row in &events {
            let seq: i64 = row.try_get(0).map_err(map)?;
            let mut doc: serde_json::Value =
                serde_json::from_str(&row.try_get::<String, _>(1).map_err(map)?)
                    .map_err(|e| Error::Corrupt(format!("event {seq}: {e}")))?;
            if let Some(o) = doc.as_object_mut() {
                o.remove("customer_id");
            }
            sqlx::query(
                "update events set customer_id = null, doc = $1 where tenant_id = $2 and seq = $3",
            )
            .bind(doc.to_string())
            .bind(t.as_str())
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        report.events_unlinked = events.len() as u64;
        let user = user.as_str();
        report.sessions_unlinked = exec(
            &mut tx,
            "update sessions set customer_id = null where tenant_id = $1 and customer_id = $2",
            t,
            user,
        )
        .await?;
        report.memory_facts_deleted = exec(
            &mut tx,
            "delete from customer_facts where tenant_id = $1 and user_id = $2",
            t,
            user,
        )
        .await?;
        for q in [
            "delete from customer_scores where tenant_id = $1 and user_id = $2",
            "delete from trigger_firings where tenant_id = $1 and subject = $2",
        ] {
            exec(&mut tx, q, t, user).await?;
        }
        tx.commit().await.map_err(map)?;
        Ok(report)
    }
}
