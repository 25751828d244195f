//! Storage: SQLite (the embedded default) and PostgreSQL behind one sqlx
//! `Any` pool, chosen by URL. Implements the retail ports of `hc-commerce`
//! and the platform stores (tenants, API keys, audit, idempotency) defined
//! here, the agent's conversation and memory ports, the knowledge base's
//! articles and the pricing service's tables (rules, prices, history,
//! approvals, competitor feed, demand models), the operator dashboard's
//! accounts, sessions and conversation rollups, and the behavior engine's
//! customer histories, models, scores and triggers. Every query is scoped by
//! tenant. Aggregates are JSON documents in the τ-retail layout with indexed
//! lookup columns beside them.

mod behavior;
mod bulk;
mod conversations;
mod dashboard;
pub use bulk::ImportSummary;
mod db;
mod erasure;
mod error;
mod events;
mod inline;
mod knowledge;
mod memory;
mod operators;
mod outbox;
mod platform;
mod pricing;
mod retail;
mod secrets;
mod settings;
#[doc(hidden)]
pub mod testing;
mod turn_writer;

pub use behavior::{BehaviorStore, Firing, StoredTrigger};
pub use dashboard::{
    Assignment, ConversationFact, ConversationFilter, ConversationNote, DAY_MS, DailyRow,
    DashboardStore, Outcomes, RollupRefresh,
};
pub use db::{Backend, SqlStore, StoreConfig, Synchronous};
pub use erasure::{ErasureReport, ErasureStore, erased_address};
pub use error::{Error, Result};
pub use events::{Appended, EventStore, NewQuarantine, QUARANTINE_PAYLOAD_BYTES, QuarantineEntry};
pub use hc_domain::outbox::{Delivery, DeliveryKind, DeliveryStatus, NewDelivery, OutboxCounts};
pub use operators::{NewSession, OperatorSession, OperatorStore};
pub use outbox::{AttemptOutcome, OutboxStore};
pub use platform::{
    ApiKeyStore, AuditEntry, AuditStore, IdempotencyStore, Reservation, TenantStore,
};
pub use pricing::{
    ApprovalStatus, CatalogPrice, CompetitorObservation, DemandApply, DemandRow, DemandRows,
    DemandUpdate, NewPriceChange, PriceApproval, PriceHistoryEntry, PricedItem, PricingStore, Sale,
};
pub use secrets::SecretsKey;
pub use settings::{OperatorChange, OperatorChanged, SettingsStore, TenantLlm, WebhookEndpoint};
