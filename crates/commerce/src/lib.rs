//! The retail actions and their rules: the single place where business rules
//! live. Knows nothing of HTTP or SQL; it works over the store traits in
//! [`ports`], which the `store` crate implements.
//!
//! - [`rules`] holds the pure state transitions (cancel, modify, exchange,
//!   return, place order) applied to loaded aggregates.
//! - [`service::Retail`] loads aggregates inside one transaction, applies a rule,
//!   saves, audits and commits.
//! - [`tools`] is the agent's tool registry: JSON-schema descriptions and the
//!   dispatch from `(name, JSON arguments)` to the service.

pub mod calc;
pub mod demo;
pub mod error;
pub mod ports;
pub mod rules;
pub mod service;
pub mod text;
pub mod tools;

pub use error::{Error, Result};
pub use ports::{Actor, Page, PageRequest, PolicySource, RetailStore, RetailTx, StoreError};
pub use service::{Retail, RetailPolicy};
pub use tools::{ToolKind, ToolSpec, Tools};
