//! Shared application state, built once at startup and passed explicitly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use hc_agent::ports::MemoryStore;
use hc_commerce::Tools;
use hc_domain::{KnowledgeHit, TenantId, ToolError};
use hc_knowledge::KnowledgeBase;
use hc_store::{
    ApiKeyStore, AuditStore, BehaviorStore, DashboardStore, ErasureStore, EventStore,
    IdempotencyStore, OperatorStore, OutboxStore, PricingStore, SettingsStore, SqlStore,
    TenantStore,
};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::KeyCache;
use crate::config::ServerConfig;

/// The platform stores the server needs (including the agent's long-term
/// customer memory, the pricing service's tables, and the dashboard's
/// operators, sessions and rollups), plus a liveness probe of the database.
#[async_trait]
pub trait Platform:
    TenantStore
    + ApiKeyStore
    + AuditStore
    + IdempotencyStore
    + MemoryStore
    + OutboxStore
    + EventStore
    + PricingStore
    + OperatorStore
    + DashboardStore
    + ErasureStore
    + BehaviorStore
    + SettingsStore
{
    async fn ping(&self) -> hc_store::Result<()>;
}

#[async_trait]
impl Platform for SqlStore {
    async fn ping(&self) -> hc_store::Result<()> {
        SqlStore::ping(self).await
    }
}

/// The loyalty service and the customer → account mapping (per-customer
/// keys, erasable one customer at a time).
pub struct LoyaltyApi {
    pub loyalty: hc_ledger::Loyalty,
    pub keys: hc_ledger::CustomerKeys,
    /// Seconds between expiry sweeps (0: none; spends still expire first).
    pub expiry_sweep_secs: AtomicU64,
    /// Seconds between agent reputation measurements (0: on request only).
    pub reputation_every_secs: AtomicU64,
    /// Range proofs for "balance at least" proofs.
    pub proofs: hc_ledger::Bulletproofs,
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
    /// Per-client-IP limits for the public tracker endpoint.
    pub tracker_limiter: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// The merchants' articles; set with [`AppState::with_knowledge`].
    pub knowledge: Option<Arc<KnowledgeBase>>,
    /// The transparency log; set with [`AppState::with_ledger`].
    pub ledger: Option<Arc<hc_ledger::Ledger>>,
    /// Loyalty points on the ledger; set with [`AppState::with_loyalty`].
    pub loyalty: Option<Arc<LoyaltyApi>>,
    /// The tenants' effective agent settings, shared with the agent and the tools.
    pub settings: Arc<crate::settings::SettingsCache>,
    /// Stored behavior batches, for the dashboard's live page.
    pub shopper_live: tokio::sync::broadcast::Sender<crate::dashboard::live::ShopperActivity>,
    /// The tenants' own LLM providers, as the agent uses them.
    pub tenant_brains: Arc<crate::tenant_brains::TenantBrains>,
    /// The purchase-intent model scoring live sessions (`events.intent_model`).
    pub intent: Option<Arc<hc_behavior::intent::IntentModel>>,
    /// The demo shop's tracker key, issued on the first `/demo` visit.
    pub demo_tracker_key: Arc<tokio::sync::OnceCell<String>>,
    /// Wakes this process's outbox worker after an enqueue.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// This process's pricing caches and its learning queue.
    pub pricing: Arc<crate::pricing::PricingRuntime>,
    /// Each tenant's session recommender, trained from its event log.
    pub recommenders: Arc<crate::api::recommendations::RecommenderCache>,
    /// The dashboard's sign-in throttles and rollup bookkeeping.
    pub dashboard: Arc<crate::dashboard::DashboardState>,
    /// Each tenant's customer models (churn, purchases, value, segments).
    pub customer_models: Arc<crate::behavior::CustomerModels>,
}

impl AppState {
    /// Serves the loyalty API over `loyalty` (which writes to the ledger),
    /// deriving account pseudonyms with the per-customer `keys`.
    pub fn with_loyalty(
        mut self,
        loyalty: hc_ledger::Loyalty,
        keys: hc_ledger::CustomerKeys,
    ) -> Self {
        let api = Arc::new(LoyaltyApi {
            loyalty,
            keys,
            expiry_sweep_secs: AtomicU64::new(0),
            reputation_every_secs: AtomicU64::new(0),
            proofs: hc_ledger::Bulletproofs::default(),
        });
        self.agent = self
            .agent
            .with_loyalty(Arc::new(crate::loyalty_port::AgentLoyalty(api.clone())));
        self.tools
            .retail()
            .use_loyalty_wallet(Arc::new(crate::loyalty_port::LedgerWallet(api.clone())));
        self.loyalty = Some(api);
        self
    }

    /// Measures deployed agents' reputations every `secs` seconds (after
    /// `with_loyalty`).
    pub fn with_reputation_every(self, secs: u64) -> Self {
        if let Some(l) = &self.loyalty {
            l.reputation_every_secs.store(secs, Ordering::Relaxed);
        }
        self
    }

    /// Expires overdue points every `secs` seconds (after `with_loyalty`).
    pub fn with_expiry_sweep(self, secs: u64) -> Self {
        if let Some(l) = &self.loyalty {
            l.expiry_sweep_secs.store(secs, Ordering::Relaxed);
        }
        self
    }

    /// Serves the ledger's checkpoint, tiles and proofs.
    pub fn with_ledger(mut self, ledger: Arc<hc_ledger::Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

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
