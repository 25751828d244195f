//! What the dashboard's settings screens change beyond the agent settings
//! document: operators' roles and accounts (never leaving a tenant without
//! an active owner), the tenant's own LLM provider (its key sealed at rest
//! like the channel secrets) and its outgoing webhook endpoints (their
//! signing secrets sealed too) with the log of webhook deliveries.

use async_trait::async_trait;
use hc_domain::outbox::{Delivery, DeliveryKind};
use hc_domain::{AuditRecord, OperatorId, Role, TenantId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::SqlStore;
use crate::error::{Error, Result, map};
use crate::retail::insert_audit;

/// A tenant's own LLM provider. `api_key` is the plain key on reads (opened)
/// and on writes (sealed by the store when a secrets key is set).
#[derive(Clone, PartialEq, Eq)]
pub struct TenantLlm {
    /// `openai` or `anthropic` (the server checks the value).
    pub provider: String,
    /// Empty: the provider's public endpoint.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub updated_at_ms: i64,
}

impl std::fmt::Debug for TenantLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLlm")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[set]"))
            .field("updated_at_ms", &self.updated_at_ms)
            .finish()
    }
}

/// An outgoing webhook endpoint (its secret is read on its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub tenant_id: TenantId,
    pub url: String,
    pub description: String,
    pub created_at_ms: i64,
}

/// A change to an operator's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorChange {
    Role(Role),
    /// Disables the account at this time and ends its sessions.
    Disable(i64),
    /// Enables a disabled account.
    Enable,
}

/// What an [`OperatorChange`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorChanged {
    Done,
    NotFound,
    /// Refused: the tenant would be left without an active owner.
    LastOwner,
}

#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// Changes an operator's role or whether it may sign in, and writes
    /// `audit` in the same transaction, unless that would leave the tenant
    /// without an active owner.
    async fn change_operator(
        &self,
        t: &TenantId,
        id: &OperatorId,
        change: OperatorChange,
        audit: &AuditRecord,
    ) -> Result<OperatorChanged>;

    /// The tenant's LLM provider, `None` when it set none (the server's applies).
    async fn tenant_llm(&self, t: &TenantId) -> Result<Option<TenantLlm>>;
    /// Replaces the tenant's LLM provider (`None`: back to the server's) and
    /// writes `audit` in the same transaction.
    async fn put_tenant_llm(
        &self,
        t: &TenantId,
        llm: Option<&TenantLlm>,
        audit: &AuditRecord,
    ) -> Result<()>;

    async fn list_webhook_endpoints(&self, t: &TenantId) -> Result<Vec<WebhookEndpoint>>;
    /// The endpoint and its (opened) signing secret.
    async fn webhook_endpoint(
        &self,
        t: &TenantId,
        id: &str,
    ) -> Result<Option<(WebhookEndpoint, String)>>;
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        secret: &str,
        audit: &AuditRecord,
    ) -> Result<()>;
    /// False (nothing written) if no such endpoint in the tenant.
    async fn delete_webhook_endpoint(
        &self,
        t: &TenantId,
        id: &str,
        audit: &AuditRecord,
    ) -> Result<bool>;
    /// The tenant's webhook deliveries (endpoints' and triggers'), newest first.
    async fn webhook_deliveries(&self, t: &TenantId, limit: u32) -> Result<Vec<Delivery>>;
}

fn same_tenant(t: &TenantId, audit: &AuditRecord) -> Result<()> {
    if audit.tenant_id != *t {
        return Err(Error::Conflict("audit record of another tenant".into()));
    }
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

const LLM_KEY_NAME: &str = "llm.api_key";

fn webhook_secret_name(id: &str) -> String {
    format!("webhooks.{id}.secret")
}

fn endpoint_of(r: &AnyRow) -> Result<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: r.try_get("id").map_err(map)?,
        tenant_id: TenantId::parse(r.try_get::<String, _>("tenant_id").map_err(map)?)
            .map_err(corrupt)?,
        url: r.try_get("url").map_err(map)?,
        description: r.try_get("description").map_err(map)?,
        created_at_ms: r.try_get("created_at_ms").map_err(map)?,
    })
}

impl SqlStore {
    fn seal_secret(&self, t: &TenantId, name: &str, plain: &str) -> Result<String> {
        match &self.secrets {
            Some(key) => key.seal(t, name, plain),
            None => Ok(plain.to_string()),
        }
    }

    fn open_secret(&self, t: &TenantId, name: &str, stored: &str) -> Result<String> {
        match &self.secrets {
            Some(key) => key.open(t, name, stored),
            None => Ok(stored.to_string()),
        }
    }
}

#[async_trait]
impl SettingsStore for SqlStore {
    async fn change_operator(
        &self,
        t: &TenantId,
        id: &OperatorId,
        change: OperatorChange,
        audit: &AuditRecord,
    ) -> Result<OperatorChanged> {
        same_tenant(t, audit)?;
        let mut tx = self.begin_write().await?;
        // The tenant's active owners, locked (PostgreSQL) so two concurrent
        // demotions cannot both see the other one still there.
        let sql = sqlx::AssertSqlSafe(format!(
            "select id from operator_users where tenant_id = $1 and role = 'owner' \
             and disabled_at_ms is null{}",
            self.for_update()
        ));
        let owners: Vec<String> = sqlx::query(sql)
            .bind(t.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(map)?
            .iter()
            .map(|r| r.try_get::<String, _>("id").map_err(map))
            .collect::<Result<_>>()?;
        let sql = sqlx::AssertSqlSafe(format!(
            "select role, disabled_at_ms from operator_users where tenant_id = $1 and id = $2{}",
            self.for_update()
        ));
        let found = sqlx::query(sql)
            .bind(t.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?;
        if found.is_none() {
            return Ok(OperatorChanged::NotFound);
        }
        let is_active_owner = owners.iter().any(|o| o == id.as_str());
        let stays_active_owner = match change {
            OperatorChange::Role(r) => r == Role::Owner,
            OperatorChange::Disable(_) => false,
            OperatorChange::Enable => true,
        };
        if is_active_owner && !stays_active_owner && owners.len() <= 1 {
            return Ok(OperatorChanged::LastOwner);
        }
        let q = match change {
            OperatorChange::Role(r) => {
                sqlx::query("update operator_users set role = $3 where tenant_id = $1 and id = $2")
                    .bind(t.as_str())
                    .bind(id.as_str())
                    .bind(r.as_str())
            }
            OperatorChange::Disable(at) => sqlx::query(
                "update operator_users set disabled_at_ms = $3 where tenant_id = $1 and id = $2",
            )
            .bind(t.as_str())
            .bind(id.as_str())
            .bind(at),
            OperatorChange::Enable => sqlx::query(
                "update operator_users set disabled_at_ms = null where tenant_id = $1 and id = $2",
            )
            .bind(t.as_str())
            .bind(id.as_str()),
        };
        q.execute(&mut *tx).await.map_err(map)?;
        if !matches!(change, OperatorChange::Enable) {
            // A new role or a disabled account: its open sessions end now.
            sqlx::query("delete from operator_sessions where tenant_id = $1 and operator_id = $2")
                .bind(t.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await.map_err(map)?;
        Ok(OperatorChanged::Done)
    }

    async fn tenant_llm(&self, t: &TenantId) -> Result<Option<TenantLlm>> {
        let Some(r) = sqlx::query(
            "select provider, base_url, model, api_key, updated_at_ms from tenant_llm \
             where tenant_id = $1",
        )
        .bind(t.as_str())
        .fetch_optional(&self.read)
        .await
        .map_err(map)?
        else {
            return Ok(None);
        };
        let sealed: Option<String> = r.try_get("api_key").map_err(map)?;
        Ok(Some(TenantLlm {
            provider: r.try_get("provider").map_err(map)?,
            base_url: r.try_get("base_url").map_err(map)?,
            model: r.try_get("model").map_err(map)?,
            api_key: sealed
                .map(|s| self.open_secret(t, LLM_KEY_NAME, &s))
                .transpose()?,
            updated_at_ms: r.try_get("updated_at_ms").map_err(map)?,
        }))
    }

    async fn put_tenant_llm(
        &self,
        t: &TenantId,
        llm: Option<&TenantLlm>,
        audit: &AuditRecord,
    ) -> Result<()> {
        same_tenant(t, audit)?;
        let sealed = llm
            .and_then(|l| l.api_key.as_deref())
            .map(|k| self.seal_secret(t, LLM_KEY_NAME, k))
            .transpose()?;
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from tenant_llm where tenant_id = $1")
            .bind(t.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        if let Some(l) = llm {
            sqlx::query(
                "insert into tenant_llm (tenant_id, provider, base_url, model, api_key, \
                 updated_at_ms) values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(t.as_str())
            .bind(l.provider.clone())
            .bind(l.base_url.clone())
            .bind(l.model.clone())
            .bind(sealed)
            .bind(l.updated_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await.map_err(map)
    }

    async fn list_webhook_endpoints(&self, t: &TenantId) -> Result<Vec<WebhookEndpoint>> {
        sqlx::query(
            "select id, tenant_id, url, description, created_at_ms from webhook_endpoints \
             where tenant_id = $1 order by created_at_ms, id",
        )
        .bind(t.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?
        .iter()
        .map(endpoint_of)
        .collect()
    }

    async fn webhook_endpoint(
        &self,
        t: &TenantId,
        id: &str,
    ) -> Result<Option<(WebhookEndpoint, String)>> {
        let Some(r) = sqlx::query(
            "select id, tenant_id, url, description, created_at_ms, secret \
             from webhook_endpoints where tenant_id = $1 and id = $2",
        )
        .bind(t.as_str())
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(map)?
        else {
            return Ok(None);
        };
        let sealed: String = r.try_get("secret").map_err(map)?;
        let secret = self.open_secret(t, &webhook_secret_name(id), &sealed)?;
        Ok(Some((endpoint_of(&r)?, secret)))
    }

    async fn insert_webhook_endpoint(
        &self,
        e: &WebhookEndpoint,
        secret: &str,
        audit: &AuditRecord,
    ) -> Result<()> {
        same_tenant(&e.tenant_id, audit)?;
        let sealed = self.seal_secret(&e.tenant_id, &webhook_secret_name(&e.id), secret)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into webhook_endpoints (id, tenant_id, url, description, secret, \
             created_at_ms) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(e.id.clone())
        .bind(e.tenant_id.as_str())
        .bind(e.url.clone())
        .bind(e.description.clone())
        .bind(sealed)
        .bind(e.created_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await.map_err(map)
    }

    async fn delete_webhook_endpoint(
        &self,
        t: &TenantId,
        id: &str,
        audit: &AuditRecord,
    ) -> Result<bool> {
        same_tenant(t, audit)?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("delete from webhook_endpoints where tenant_id = $1 and id = $2")
            .bind(t.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map)?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    async fn webhook_deliveries(&self, t: &TenantId, limit: u32) -> Result<Vec<Delivery>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {} from outbox where tenant_id = $1 and kind = $2 order by id desc limit $3",
            crate::outbox::COLUMNS
        ));
        sqlx::query(sql)
            .bind(t.as_str())
            .bind(DeliveryKind::Webhook.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(crate::outbox::delivery_of)
            .collect()
    }
}
