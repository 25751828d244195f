//! The storage the agent needs (conversations, long-term customer memory).
//! Implemented by `hc-store` for SQLite and PostgreSQL.

use async_trait::async_trait;
use hc_commerce::ports::{Page, PageRequest, StoreResult};
use hc_domain::{
    Conversation, ConversationId, ConversationStatus, CustomerFact, Message, TenantId, UserId,
};

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
    /// Atomically saves the conversation and appends `messages`, only if the
    /// stored version is still `expected_version` (else `Conflict`, nothing written).
    async fn save_turn(
        &self,
        conversation: &Conversation,
        expected_version: i64,
        messages: &[Message],
    ) -> StoreResult<()>;
    /// Most recently updated first; the cursor is opaque.
    async fn list_conversations(
        &self,
        t: &TenantId,
        status: Option<ConversationStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Conversation>>;
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
