//! What the agent needs from outside: conversation storage and long-term
//! customer memory (implemented by `hc-store` for SQLite and PostgreSQL), and
//! the merchant's knowledge base (implemented over `hc-knowledge` by the
//! server, the composition root) and the merchant's settings (implemented by
//! the server over the platform store).

use async_trait::async_trait;
use hc_commerce::ports::{Page, PageRequest, StoreResult};
use hc_domain::outbox::NewDelivery;
use hc_domain::{
    Channel, Conversation, ConversationId, ConversationStatus, CustomerFact, KnowledgeHit, Message,
    TenantId, TenantSettings, ToolError, UserId,
};
use serde_json::Value;

/// One durable turn: the conversation as it now is and what goes with it.
#[derive(Debug, Clone, Copy)]
pub struct TurnWrite<'a> {
    pub conversation: &'a Conversation,
    /// The version read before the turn (optimistic lock).
    pub expected_version: i64,
    /// Appended in order.
    pub messages: &'a [Message],
    /// The last message, for the customer's own channel (SMS, email).
    pub delivery: Option<&'a NewDelivery>,
    /// What the turn taught about its customer (long-term memory).
    pub facts: &'a [CustomerFact],
}

impl<'a> TurnWrite<'a> {
    pub fn new(
        conversation: &'a Conversation,
        expected_version: i64,
        messages: &'a [Message],
    ) -> Self {
        Self {
            conversation,
            expected_version,
            messages,
            delivery: None,
            facts: &[],
        }
    }

    /// Also adds `delivery` to the outbox.
    pub fn delivering(self, delivery: Option<&'a NewDelivery>) -> Self {
        Self { delivery, ..self }
    }

    /// Also stores `facts` in long-term memory.
    pub fn learning(self, facts: &'a [CustomerFact]) -> Self {
        Self { facts, ..self }
    }
}

/// Conversations and their messages, scoped by tenant.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Stores a new conversation; `Conflict` if the id exists.
    async fn create_conversation(&self, conversation: &Conversation) -> StoreResult<()>;
    async fn conversation(
        &self,
        t: &TenantId,
        id: &ConversationId,
    ) -> StoreResult<Option<Conversation>>;
    /// All messages, in order.
    async fn messages(&self, t: &TenantId, id: &ConversationId) -> StoreResult<Vec<Message>>;
    /// Atomically saves the conversation and appends the turn's messages, only
    /// if the stored version is still `expected_version` (else `Conflict`,
    /// nothing written). In the same transaction it adds the turn's outbox
    /// delivery and stores the customer facts it taught (under the retention
    /// rules of [`MemoryStore::remember`]): all of it is stored or none.
    async fn save_turn(&self, turn: &TurnWrite<'_>) -> StoreResult<()>;
    /// Stores a new conversation tied to `external_key` on its channel (a phone
    /// number, a call id, a sender email). `Conflict` if the id exists or if
    /// another conversation on that channel with that key still accepts
    /// messages: at most one live conversation per key, even across processes.
    async fn create_external_conversation(
        &self,
        conversation: &Conversation,
        external_key: &str,
    ) -> StoreResult<()>;
    /// The most recently updated conversation on `channel` tied to
    /// `external_key` that still accepts messages (open or escalated).
    async fn find_by_external(
        &self,
        t: &TenantId,
        channel: Channel,
        external_key: &str,
    ) -> StoreResult<Option<Conversation>>;
    /// Most recently updated first; the cursor is opaque.
    async fn list_conversations(
        &self,
        t: &TenantId,
        status: Option<ConversationStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Conversation>>;
}

/// Full-text search over the merchant's articles (shipping, returns, FAQs),
/// behind the `search_knowledge_base` tool.
#[async_trait]
pub trait KnowledgeSearch: Send + Sync {
    /// The best-matching articles, best first, at most `limit`. The error is
    /// recorded as the tool call's error (e.g. `invalid_query`, `unavailable`).
    async fn search(
        &self,
        tenant: &TenantId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KnowledgeHit>, ToolError>;
}

/// The customer's loyalty points at this merchant, behind the
/// `loyalty_balance` tool. The server implements it over the loyalty ledger.
#[async_trait]
pub trait LoyaltyPoints: Send + Sync {
    /// `{points, worth, currency, tier, next_expiry, program,
    /// max_order_share_pct}` for the customer (their own account at this
    /// merchant; zero points when they have none), and with `order_total`
    /// also `usable_points` and `usable_discount` on such an order. The
    /// error is recorded as the tool call's error.
    async fn balance(
        &self,
        tenant: &TenantId,
        user: &UserId,
        order_total: Option<hc_domain::Money>,
    ) -> Result<Value, ToolError>;
}

/// Long-term memory: facts about customers, scoped by tenant. Implementations
/// apply the retention rules of [`hc_domain::merge_fact`]: one fact per
/// (user, kind, subject), the newer winning; the newest
/// [`hc_domain::CustomerFact::MAX_ISSUES`] issues per customer.
#[async_trait]
pub trait MemoryStore: Send + Sync {
    /// Stores `facts` (any customers of the tenant) under the retention rules.
    async fn remember(&self, t: &TenantId, facts: &[CustomerFact]) -> StoreResult<()>;
    /// Every fact kept about the customer, newest first.
    async fn recall(&self, t: &TenantId, user: &UserId) -> StoreResult<Vec<CustomerFact>>;
    /// Erases every fact about the customer (GDPR erasure); returns how many were deleted.
    async fn forget(&self, t: &TenantId, user: &UserId) -> StoreResult<u64>;
}

/// The merchant's agent settings (brand voice, escalation thresholds). The
/// server implements it over the platform store with a short-lived cache.
#[async_trait]
pub trait TenantSettingsSource: Send + Sync {
    /// The tenant's effective settings: `brand` filled in (the tenant's name
    /// when it set none).
    async fn settings(&self, t: &TenantId) -> StoreResult<std::sync::Arc<TenantSettings>>;
}

/// A tenant's own LLM provider, set by the merchant (dashboard settings).
/// The server implements it over the stored, encrypted settings with a
/// short-lived cache.
#[async_trait]
pub trait TenantBrainSource: Send + Sync {
    /// The brain for the tenant's turns when it set its own provider; `None`
    /// when it did not (the agent's configured brain answers).
    async fn brain(&self, t: &TenantId) -> Option<std::sync::Arc<crate::Brain>>;
}
