//! The REST API: one module per resource, each owning its router, wire types
//! and `verb_noun` handlers.

pub mod audit;
pub mod catalog;
pub mod channels;
pub mod console;
pub mod conversations;
pub mod customers;
pub mod events;
pub mod health;
pub mod keys;
pub mod knowledge;
pub mod ledger;
pub mod loyalty;
pub mod loyalty_proofs;
pub mod orders;
pub mod pricing;
pub mod recommendations;
pub mod registry;
pub mod settings;
pub mod settlements;
pub mod tools;
pub mod tracker;
pub mod triggers;
pub mod widget;

use axum::Router;

use crate::state::AppState;

/// Routes that need an API key (`/v1/...`).
pub fn v1() -> Router<AppState> {
    Router::new()
        .merge(tools::router())
        .merge(catalog::router())
        .merge(conversations::router())
        .merge(customers::router())
        .merge(events::router())
        .merge(orders::router())
        .merge(keys::router())
        .merge(knowledge::router())
        .merge(audit::router())
        .merge(settings::router())
        .merge(loyalty::router())
        .merge(loyalty_proofs::router())
        .merge(registry::router())
        .merge(settlements::router())
        .merge(pricing::router())
        .merge(recommendations::router())
        .merge(triggers::router())
}

/// Pagination query shared by list endpoints.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Cursor from the previous page's `next_cursor`.
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

impl PageQuery {
    pub fn page(&self) -> hc_commerce::PageRequest {
        hc_commerce::PageRequest::new(self.after.clone(), self.limit)
    }
}
