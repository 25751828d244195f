//! The HTTP server: the composition root that wires the engines to axum.
//! Engines know nothing of HTTP; this crate owns routing, JSON errors, API
//! keys and roles, rate limits, idempotency, audit of platform writes,
//! metrics, OpenAPI and the human-readable API reference.

mod api;
mod app;
mod auth;
pub mod behavior;
mod channels;
mod config;
pub mod dashboard;
mod error;
mod extract;
mod idempotency;
mod ingest;
mod keys;
mod loyalty_port;
mod mqtt;
mod observe;
mod openapi;
pub mod outbox;
pub mod pricing;
mod proactive;
mod quotes;
pub mod reputation;
mod settings;
mod state;
mod tenant_brains;
mod tenant_webhooks;
mod webhooks;

pub use app::{Application, install_tls_provider, load_intent_model};
pub use config::{
    BehaviorConfig, ChannelsConfig, DashboardConfig, EventsConfig, MqttConfig, OutboxConfig,
    ServerConfig,
};
pub use error::ApiError;
pub use keys::{IssuedKey, issue_key};
pub use settings::SettingsCache;
pub use state::{AppState, Platform};
