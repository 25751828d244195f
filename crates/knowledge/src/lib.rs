//! The merchant's knowledge base (SPEC "Memory → Institutional"): articles
//! such as shipping, returns and FAQs, written in Markdown, stored through
//! the [`ArticleStore`] port (SQL is the source of truth) and searched with
//! tantivy. Knows nothing of HTTP or SQL.
//!
//! - [`KnowledgeBase`]: validation, writes, and search over per-tenant
//!   in-memory indexes, built lazily from the store and kept in step on
//!   every write made through it.
//! - [`markdown`]: Markdown to plain text, title extraction.
//! - [`demo`]: the demo shop's articles.

mod base;
pub mod demo;
mod error;
mod index;
pub mod markdown;
pub mod ports;

pub use base::{ArticleDraft, ArticlePage, KnowledgeBase, KnowledgeConfig};
pub use error::{Error, Result};
pub use ports::{ArticleStore, Upserted};

#[cfg(test)]
mod tests;
