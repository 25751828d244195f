//! Shared application state, built once at startup and passed explicitly.

use std::sync::Arc;

use async_trait::async_trait;
use hc_commerce::Tools;
use hc_store::{ApiKeyStore, AuditStore, IdempotencyStore, SqlStore, TenantStore};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::KeyCache;
use crate::config::ServerConfig;

/// The platform stores the server needs, plus a liveness probe of the database.
#[async_trait]
pub trait Platform: TenantStore + ApiKeyStore + AuditStore + IdempotencyStore {
    async fn ping(&self) -> hc_store::Result<()>;
}

#[async_trait]
impl Platform for SqlStore {
    async fn ping(&self) -> hc_store::Result<()> {
        SqlStore::ping(self).await
    }
}

/// Everything a handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub tools: Tools,
    pub agent: hc_agent::Agent,
    pub platform: Arc<dyn Platform>,
    pub keys: Arc<KeyCache>,
    pub config: Arc<ServerConfig>,
    pub metrics: PrometheusHandle,
    /// Per-client-IP limits for the public widget endpoints.
    /// Outgoing HTTP (Postmark's email API).
    pub http: reqwest::Client,
    pub widget_limiter: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
}
