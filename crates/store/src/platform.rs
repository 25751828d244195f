//! Platform stores: tenants, API keys, the audit log and idempotency records.

use async_trait::async_trait;
use hc_commerce::ports::{Page, PageRequest};
use hc_domain::{ApiKeyId, ApiKeyRecord, AuditRecord, Role, Tenant, TenantId, TenantSettings};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use tracing::instrument;

use crate::db::SqlStore;
use crate::error::{Error, Result, map};
use crate::retail::insert_audit;

/// Tenants (merchants).
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates a tenant; `Conflict` if the id is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>>;
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;
    /// The tenant whose channel settings receive on `address` (an E.164
    /// number or a lowercased email address).
    async fn tenant_for_address(&self, address: &str) -> Result<Option<TenantId>>;
    /// The tenant's stored agent settings: `None` when the tenant does not
    /// exist, the defaults when it never set any.
    async fn tenant_settings(&self, t: &TenantId) -> Result<Option<TenantSettings>>;
    /// Replaces the tenant's settings and writes `audit` in the same
    /// transaction; false (nothing written) if the tenant does not exist.
    /// The channel addresses in the settings (phone numbers, email addresses)
    /// are claimed for the tenant: `Conflict`, nothing written, if another
    /// tenant holds one.
    async fn put_tenant_settings(
        &self,
        t: &TenantId,
        settings: &TenantSettings,
        audit: &AuditRecord,
    ) -> Result<bool>;
}

/// API keys, looked up by the SHA-256 hash of the secret.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn insert_key(&self, key: &ApiKeyRecord, key_hash: &str) -> Result<()>;
    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>>;
    async fn list_keys(&self, t: &TenantId) -> Result<Vec<ApiKeyRecord>>;
    /// Marks a key revoked; false if no such key in this tenant.
    async fn revoke_key(&self, t: &TenantId, id: &ApiKeyId, at_ms: i64) -> Result<bool>;
}

/// One audit log row.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// The audit log of writes that do not go through a retail transaction.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn record_audit(&self, record: &AuditRecord) -> Result<()>;
    /// Newest first; the cursor is the id of the last entry seen.
    async fn list_audit(&self, t: &TenantId, page: &PageRequest) -> Result<Page<AuditEntry>>;
}

/// Outcome of reserving an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// First use: run the request, then `complete` (or `release` on failure).
    Reserved,
    /// The same request already completed: replay this response.
    Completed { status: u16, body: String },
    /// The same key is being processed right now (or the process died while it was).
    InProgress,
    /// The key was used before with a different request.
    Mismatch,
}

/// Idempotency keys, per tenant and API key.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn reserve(
        &self,
        t: &TenantId,
        key_id: &str,
        idem_key: &str,
        request_hash: &str,
    ) -> Result<Reservation>;
    async fn complete(
        &self,
        t: &TenantId,
        key_id: &str,
        idem_key: &str,
        status: u16,
        body: &str,
    ) -> Result<()>;
    async fn release(&self, t: &TenantId, key_id: &str, idem_key: &str) -> Result<()>;
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

fn tenant_of(r: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: TenantId::parse(r.try_get::<String, _>("id").map_err(map)?).map_err(corrupt)?,
        name: r.try_get("name").map_err(map)?,
        created_at_ms: r.try_get("created_at_ms").map_err(map)?,
    })
}

fn key_of(r: &AnyRow) -> Result<ApiKeyRecord> {
    let role: String = r.try_get("role").map_err(map)?;
    let limit: Option<i64> = r.try_get("rate_limit_per_sec").map_err(map)?;
    Ok(ApiKeyRecord {
        id: ApiKeyId::parse(r.try_get::<String, _>("id").map_err(map)?).map_err(corrupt)?,
        tenant_id: TenantId::parse(r.try_get::<String, _>("tenant_id").map_err(map)?)
            .map_err(corrupt)?,
        role: role.parse::<Role>().map_err(corrupt)?,
        label: r.try_get("label").map_err(map)?,
        prefix: r.try_get("prefix").map_err(map)?,
        rate_limit_per_sec: limit.map(|l| l.clamp(0, u32::MAX as i64) as u32),
        created_at_ms: r.try_get("created_at_ms").map_err(map)?,
        revoked_at_ms: r.try_get("revoked_at_ms").map_err(map)?,
    })
}

#[async_trait]
impl TenantStore for SqlStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        sqlx::query("insert into tenants (id, name, created_at_ms) values ($1, $2, $3)")
            .bind(tenant.id.as_str())
            .bind(tenant.name.clone())
            .bind(tenant.created_at_ms)
            .execute(&self.write)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>> {
        sqlx::query("select id, name, created_at_ms from tenants where id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?
            .as_ref()
            .map(tenant_of)
            .transpose()
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        sqlx::query("select id, name, created_at_ms from tenants order by id")
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(tenant_of)
            .collect()
    }

    async fn tenant_for_address(&self, address: &str) -> Result<Option<TenantId>> {
        let row = sqlx::query("select tenant_id from channel_addresses where address = $1")
            .bind(address)
            .fetch_optional(&self.read)
            .await
            .map_err(map)?;
        row.map(|r| TenantId::parse(r.try_get::<String, _>(0).map_err(map)?).map_err(corrupt))
            .transpose()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t))]
    async fn tenant_settings(&self, t: &TenantId) -> Result<Option<TenantSettings>> {
        let Some(row) = sqlx::query("select settings from tenants where id = $1")
            .bind(t.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)?
        else {
            return Ok(None);
        };
        let doc: Option<String> = row.try_get("settings").map_err(map)?;
        let mut settings: TenantSettings = match doc {
            None => return Ok(Some(TenantSettings::default())),
            Some(doc) => serde_json::from_str(&doc).map_err(corrupt)?,
        };
        if let Some(key) = &self.secrets {
            crate::secrets::open_channels(key, t, &mut settings.channels)?;
        }
        Ok(Some(settings))
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t))]
    async fn put_tenant_settings(
        &self,
        t: &TenantId,
        settings: &TenantSettings,
        audit: &AuditRecord,
    ) -> Result<bool> {
        if audit.tenant_id != *t {
            return Err(Error::Conflict("audit record of another tenant".into()));
        }
        let doc = match &self.secrets {
            Some(key) => {
                let mut sealed = settings.clone();
                crate::secrets::seal_channels(key, t, &mut sealed.channels)?;
                serde_json::to_string(&sealed)
            }
            None => serde_json::to_string(settings),
        }
        .map_err(corrupt)?;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("update tenants set settings = $1 where id = $2")
            .bind(doc)
            .bind(t.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?
            .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        // The addresses the tenant receives on, unique across tenants: a
        // number another tenant holds fails the whole write (`Conflict`).
        sqlx::query("delete from channel_addresses where tenant_id = $1")
            .bind(t.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        for address in settings.channels.addresses() {
            sqlx::query("insert into channel_addresses (address, tenant_id) values ($1, $2)")
                .bind(address.clone())
                .bind(t.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| match map(e) {
                    Error::Conflict(_) => {
                        Error::Conflict(format!("{address} is already used by another tenant"))
                    }
                    other => other,
                })?;
        }
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await.map_err(map)?;
        Ok(true)
    }
}

const KEY_COLUMNS: &str =
    "id, tenant_id, role, label, prefix, rate_limit_per_sec, created_at_ms, revoked_at_ms";

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn insert_key(&self, key: &ApiKeyRecord, key_hash: &str) -> Result<()> {
        sqlx::query(
            "insert into api_keys (id, tenant_id, key_hash, prefix, role, label, \
             rate_limit_per_sec, created_at_ms, revoked_at_ms) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(key.id.as_str())
        .bind(key.tenant_id.as_str())
        .bind(key_hash)
        .bind(key.prefix.clone())
        .bind(key.role.as_str())
        .bind(key.label.clone())
        .bind(key.rate_limit_per_sec.map(i64::from))
        .bind(key.created_at_ms)
        .bind(key.revoked_at_ms)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {KEY_COLUMNS} from api_keys where key_hash = $1"
        ));
        sqlx::query(sql)
            .bind(key_hash)
            .fetch_optional(&self.read)
            .await
            .map_err(map)?
            .as_ref()
            .map(key_of)
            .transpose()
    }

    async fn list_keys(&self, t: &TenantId) -> Result<Vec<ApiKeyRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {KEY_COLUMNS} from api_keys where tenant_id = $1 order by created_at_ms, id"
        ));
        sqlx::query(sql)
            .bind(t.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(map)?
            .iter()
            .map(key_of)
            .collect()
    }

    async fn revoke_key(&self, t: &TenantId, id: &ApiKeyId, at_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "update api_keys set revoked_at_ms = coalesce(revoked_at_ms, $3) \
             where tenant_id = $1 and id = $2",
        )
        .bind(t.as_str())
        .bind(id.as_str())
        .bind(at_ms)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record_audit(&self, record: &AuditRecord) -> Result<()> {
        insert_audit(&self.write, record).await
    }

    async fn list_audit(&self, t: &TenantId, page: &PageRequest) -> Result<Page<AuditEntry>> {
        let before = page
            .after
            .as_deref()
            .and_then(|c| c.parse::<i64>().ok())
            .unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "select id, tenant_id, actor, action, target, at_ms, detail from audit_log \
             where tenant_id = $1 and id < $2 order by id desc limit $3",
        )
        .bind(t.as_str())
        .bind(before)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let detail: String = r.try_get("detail").map_err(map)?;
            items.push(AuditEntry {
                id: r.try_get("id").map_err(map)?,
                record: AuditRecord {
                    tenant_id: t.clone(),
                    actor: r.try_get("actor").map_err(map)?,
                    action: r.try_get("action").map_err(map)?,
                    target: r.try_get("target").map_err(map)?,
                    at_ms: r.try_get("at_ms").map_err(map)?,
                    detail: serde_json::from_str(&detail).map_err(corrupt)?,
                },
            });
        }
        let next_cursor = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            items.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn reserve(
        &self,
        t: &TenantId,
        key_id: &str,
        idem_key: &str,
        request_hash: &str,
    ) -> Result<Reservation> {
        let inserted = sqlx::query(
            "insert into idempotency_keys (tenant_id, key_id, idem_key, request_hash, created_at_ms) \
             values ($1, $2, $3, $4, $5) on conflict do nothing",
        )
        .bind(t.as_str())
        .bind(key_id)
        .bind(idem_key)
        .bind(request_hash)
        .bind(hc_domain::now_ms())
        .execute(&self.write)
        .await
        .map_err(map)?;
        if inserted.rows_affected() == 1 {
            return Ok(Reservation::Reserved);
        }
        let row = sqlx::query(
            "select request_hash, status_code, response from idempotency_keys \
             where tenant_id = $1 and key_id = $2 and idem_key = $3",
        )
        .bind(t.as_str())
        .bind(key_id)
        .bind(idem_key)
        .fetch_one(&self.read)
        .await
        .map_err(map)?;
        let stored_hash: String = row.try_get(0).map_err(map)?;
        let status: Option<i64> = row.try_get(1).map_err(map)?;
        let body: Option<String> = row.try_get(2).map_err(map)?;
        Ok(match (stored_hash == request_hash, status, body) {
            (false, _, _) => Reservation::Mismatch,
            (true, Some(status), Some(body)) => Reservation::Completed {
                status: status as u16,
                body,
            },
            _ => Reservation::InProgress,
        })
    }

    async fn complete(
        &self,
        t: &TenantId,
        key_id: &str,
        idem_key: &str,
        status: u16,
        body: &str,
    ) -> Result<()> {
        sqlx::query(
            "update idempotency_keys set status_code = $4, response = $5 \
             where tenant_id = $1 and key_id = $2 and idem_key = $3",
        )
        .bind(t.as_str())
        .bind(key_id)
        .bind(idem_key)
        .bind(i64::from(status))
        .bind(body)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn release(&self, t: &TenantId, key_id: &str, idem_key: &str) -> Result<()> {
        sqlx::query(
            "delete from idempotency_keys where tenant_id = $1 and key_id = $2 and idem_key = $3 \
             and status_code is null",
        )
        .bind(t.as_str())
        .bind(key_id)
        .bind(idem_key)
        .execute(&self.write)
        .await
        .map_err(map)?;
        Ok(())
    }
}
