//! Dashboard operators and their server-side sessions. Passwords arrive
//! already hashed (argon2, by the server); sessions are stored under the
//! SHA-256 of their token, so a copy of the database signs nobody in.

use async_trait::async_trait;
use hc_domain::{AuditRecord, Operator, OperatorId, Role, TenantId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::SqlStore;
use crate::error::{Error, Result, map};
use crate::retail::insert_audit;

/// A stored session with its operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorSession {
    pub operator: Operator,
    /// The token every form of this session must carry back.
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
}

/// A session to store (`token_hash`: hex SHA-256 of the cookie's token).
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub operator: &'a Operator,
    pub csrf_token: &'a str,
    pub at_ms: i64,
}

/// Operator accounts and sessions, scoped by tenant.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Creates an operator with its password hash and writes `audit` in the
    /// same transaction; `Conflict` if the email is taken in the tenant.
    async fn insert_operator(
        &self,
        op: &Operator,
        password_hash: &str,
        audit: &AuditRecord,
    ) -> Result<()>;
    /// The operator with this (normalised) email in the tenant, and its password hash.
    async fn operator_by_email(
        &self,
        t: &TenantId,
        email: &str,
    ) -> Result<Option<(Operator, String)>>;
    async fn list_operators(&self, t: &TenantId) -> Result<Vec<Operator>>;
    /// Replaces an operator's password hash and ends all their sessions;
    /// false if no such operator in the tenant.
    async fn set_operator_password(
        &self,
        t: &TenantId,
        id: &OperatorId,
        password_hash: &str,
    ) -> Result<bool>;
    async fn create_session(&self, s: &NewSession<'_>) -> Result<()>;
    /// The session stored under `token_hash`, with its operator.
    async fn operator_session(&self, token_hash: &str) -> Result<Option<OperatorSession>>;
    /// Records activity on a session (idle expiry counts from here).
    async fn touch_session(&self, token_hash: &str, at_ms: i64) -> Result<()>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Deletes sessions created before `created_before_ms` or idle since
    /// before `idle_before_ms`; returns how many.
    async fn purge_sessions(&self, created_before_ms: i64, idle_before_ms: i64) -> Result<u64>;
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

const OPERATOR_COLUMNS: &str =
    "o.id, o.tenant_id, o.email, o.role, o.created_at_ms, o.disabled_at_ms";

fn operator_of(r: &AnyRow) -> Result<Operator> {
    let role: String = r.try_get("role").map_err(map)?;
    Ok(Operator {
        id: OperatorId::parse(r.try_get::<String, _>("id").map_err(map)?).map_err(corrupt)?,
        tenant_id: TenantId::parse(r.try_get::<String, _>("tenant_id").map_err(map)?)
            .map_err(corrupt)?,
        email: r.try_get("email").map_err(map)?,
        role: role.parse::<Role>().map_err(corrupt)?,
        created_at_ms: r.try_get("created_at_ms").map_err(map)?,
        disabled_at_ms: r.try_get("disabled_at_ms").map_err(map)?,
    })
}

#[async_trait]
impl OperatorStore for SqlStore {
    async fn insert_operator(
        &self,
        op: &Operator,
        password_hash: &str,
        audit: &AuditRecord,
    ) -> Result<()> {
        if audit.tenant_id != op.tenant_id {
            return Err(Error::Conflict("audit record of another tenant".into()));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into operator_users (id, tenant_id, email, password_hash, role, \
             created_at_ms, disabled_at_ms) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(op.id.as_str())
        .bind(op.tenant_id.as_str())
        .bind(op.email.clone())
        .bind(password_hash)
        .bind(op.role.as_str())
        .bind(op.created_at_ms)
        .bind(op.disabled_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(|e| match map(e) {
            Error::Conflict(_) => Error::Conflict(format!(
                "an operator with email {} already exists in this tenant",
                op.email
            )),
            other => other,
        })?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await.map_err(map)
    }

    async fn operator_by_email(
        &self,
        t: &TenantId,
        email: &str,
    ) -> Result<Option<(Operator, String)>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {OPERATOR_COLUMNS}, o.password_hash from operator_users o \
             where o.tenant_id = $1 and o.email = $2"
        ));
        let Some(row) = sqlx::query(sql)
            .bind(t.as_str())
            .bind(email)
            .fetch_optional(&self.read)
            .await
            .map_err(map)?
        else {
            return Ok(None);
        };
        Ok(Some((
            operator_of(&row)?,
            row.try_get("password_hash").map_err(map)?,
        )))
    }

    async fn list_operators(&self, t: &TenantId) -> Result<Vec<Operator>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {OPERATOR_COLUMNS} from operator_users o where o.tenant_id = $1 \
             order by o.email"
        ));
        sqlx::query(sql)
            .bind(t.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(operator_of)
            .collect()
    }

    async fn set_operator_password(
        &self,
        t: &TenantId,
        id: &OperatorId,
        password_hash: &str,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "update operator_users set password_hash = $3 where tenant_id = $1 and id = $2",
        )
        .bind(t.as_str())
        .bind(id.as_str())
        .bind(password_hash)
        .execute(&mut *tx)
        .await
        .map_err(map)?
        .rows_affected();
        sqlx::query("delete from operator_sessions where tenant_id = $1 and operator_id = $2")
            .bind(t.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(n > 0)
    }

    async fn create_session(&self, s: &NewSession<'_>) -> Result<()> {
        sqlx::query(
            "insert into operator_sessions (token_hash, operator_id, tenant_id, csrf_token, \
             created_at_ms, last_seen_at_ms) values ($1, $2, $3, $4, $5, $5)",
        )
        .bind(s.token_hash)
        .bind(s.operator.id.as_str())
        .bind(s.operator.tenant_id.as_str())
        .bind(s.csrf_token)
        .bind(s.at_ms)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn operator_session(&self, token_hash: &str) -> Result<Option<OperatorSession>> {
        // The tenant is checked twice: the session's and the operator's must agree.
        let sql = sqlx::AssertSqlSafe(format!(
            "select {OPERATOR_COLUMNS}, s.csrf_token, s.created_at_ms as s_created, \
             s.last_seen_at_ms from operator_sessions s \
             join operator_users o on o.id = s.operator_id and o.tenant_id = s.tenant_id \
             where s.token_hash = $1"
        ));
        let Some(row) = sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await
            .map_err(map)?
        else {
            return Ok(None);
        };
        Ok(Some(OperatorSession {
            operator: operator_of(&row)?,
            csrf_token: row.try_get("csrf_token").map_err(map)?,
            created_at_ms: row.try_get("s_created").map_err(map)?,
            last_seen_at_ms: row.try_get("last_seen_at_ms").map_err(map)?,
        }))
    }

    async fn touch_session(&self, token_hash: &str, at_ms: i64) -> Result<()> {
        sqlx::query("update operator_sessions set last_seen_at_ms = $2 where token_hash = $1")
            .bind(token_hash)
            .bind(at_ms)
            .execute(&self.write)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("delete from operator_sessions where token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn purge_sessions(&self, created_before_ms: i64, idle_before_ms: i64) -> Result<u64> {
        Ok(sqlx::query(
            "delete from operator_sessions where created_at_ms < $1 or last_seen_at_ms < $2",
        )
        .bind(created_before_ms)
        .bind(idle_before_ms)
        .execute(&self.write)
        .await
        .map_err(map)?
        .rows_affected())
    }
}
