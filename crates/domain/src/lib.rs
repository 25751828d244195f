//! HyperCommerce domain model: typed ids, money in integer cents, the retail
//! model (a superset of the public τ-retail benchmark database) and the
//! platform records (tenants, API keys, audit). Depends on serde only.

pub mod channels;
pub mod conversation;
pub mod customer_history;
pub mod error;
pub mod events;
pub mod ids;
pub mod knowledge;
pub mod memory;
pub mod money;
pub mod outbox;
pub mod platform;
pub mod retail;
pub mod session;
pub mod settings;
pub mod triggers;

pub use channels::{ChannelSettings, PostmarkSettings, Secret, TwilioSettings};
pub use conversation::{
    Author, Channel, Conversation, ConversationStatus, Escalation, LlmUsage, Message,
    ToolCallRecord, ToolError,
};
pub use customer_history::{
    CustomerHistory, CustomerScoreRecord, HistoryContact, HistoryLine, HistoryOrder, HistoryReturn,
};
pub use error::{Error, Result};
pub use events::{Event, EventLimits, EventType, PageType, Rejection, SessionId, StoredEvent};
pub use ids::{
    ApiKeyId, ArticleId, ConversationId, EventId, ItemId, OperatorId, OrderId, PaymentMethodId,
    ProductId, TenantId, UserId,
};
pub use knowledge::{Article, ArticleSlug, KnowledgeHit};
pub use memory::{CustomerFact, FactKind, merge_fact};
pub use money::Money;
pub use platform::{ApiKeyRecord, AuditRecord, Operator, Role, Tenant};
pub use retail::{
    Address, CartLine, Customer, Fulfillment, LoyaltyPayment, Order, OrderItem, OrderStatus,
    Payment, PaymentMethod, PersonName, Product, RetailDb, TransactionType, Variant,
};
pub use session::{PageStats, SESSION_GAP_MS, Session};
pub use settings::{EscalationSettings, TenantSettings, Tone};
pub use triggers::{NewTrigger, Trigger, TriggerCondition};

/// Milliseconds since the Unix epoch, the one time representation stored and
/// sent on the wire.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
