//! Shared application state, built once at startup and passed explicitly.

use std::sync::Arc;

use async_trait::async_trait;
use hc_agent::ports::MemoryStore;
use hc_commerce::Tools;
use hc_domain::{KnowledgeHit, TenantId, ToolError};
use hc_knowledge::KnowledgeBase;
use hc_store::{
    ApiKeyStore, AuditStore, IdempotencyStore, OutboxStore, PricingStore, SqlStore, TenantStore,
};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::KeyCache;
use crate::config::ServerConfig;

/// The platform stores the server needs (including the agent's long-term
/// customer memory and the pricing service's tables), plus a liveness probe
/// of the database.
#[async_trait]
pub trait Platform:
    TenantStore + ApiKeyStore + AuditStore + IdempotencyStore + MemoryStore + OutboxStore + PricingStore
{
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
    /// Outgoing HTTP (Twilio's and Postmark's APIs).
    pub http: reqwest::Client,
    /// Per-client-IP limits for the public widget endpoints.
    pub widget_limiter: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// The merchants' articles; set with [`AppState::with_knowledge`].
    pub knowledge: Option<Arc<KnowledgeBase>>,
    /// The tenants' effective agent settings, shared with the agent and the tools.
    pub settings: Arc<crate::settings::SettingsCache>,
    /// Wakes this process's outbox worker after an enqueue.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Serialises updates of the tenants' demand models in this process.
    pub pricing_lock: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// Serves the knowledge-base API and gives the agent its
    /// `search_knowledge_base` tool.
    pub fn with_knowledge(mut self, knowledge: Arc<KnowledgeBase>) -> Self {
        self.agent = self
            .agent
            .with_knowledge(Arc::new(AgentKnowledge(knowledge.clone())));
        self.knowledge = Some(knowledge);
        self
    }
}

/// The agent's knowledge port over the knowledge base.
struct AgentKnowledge(Arc<KnowledgeBase>);

#[async_trait]
impl hc_agent::KnowledgeSearch for AgentKnowledge {
    async fn search(
        &self,
        tenant: &TenantId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KnowledgeHit>, ToolError> {
        self.0
            .answer(tenant, query, limit)
            .await
            .map_err(|e| match e {
                hc_knowledge::Error::InvalidQuery(_) => ToolError {
                    code: e.code().into(),
                    message: e.to_string(),
                },
                other => {
                    tracing::warn!(error = %other, "knowledge search failed");
                    ToolError {
                        code: other.code().into(),
                        message: "the knowledge base is unavailable".into(),
                    }
                }
            })
    }
}
