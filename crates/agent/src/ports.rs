//! The storage the agent needs. Implemented by `hc-store` for SQLite and
//! PostgreSQL.

use async_trait::async_trait;
use hc_commerce::ports::{Page, PageRequest, StoreResult};
use hc_domain::{Channel, Conversation, ConversationId, ConversationStatus, Message, TenantId};

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
