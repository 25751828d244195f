//! The customer behavior engine's models (issue #4): pure logic over plain
//! inputs, no HTTP, SQL or async runtime.
//!
//! - [`clv`]: BG/NBD repeat purchasing and Gamma-Gamma spend (lifetime value).
//! - [`intent`]: purchase intent per session ([`gbt`] over session features).
//! - [`live`]: a live session's features from stored events (for [`intent`]).
//! - [`churn`]: churn probability from transaction history.
//! - [`customers`]: per-customer features and the shop's fitted customer
//!   models (churn, expected purchases, lifetime value, segments).
//! - [`recs`]: session-based next-item recommenders (session-kNN, sequential
//!   rules, popularity) and their blend.
//! - [`segments`]: k-means segments on RFM with readable names.
//! - Support: [`gbt`] (gradient-boosted trees), [`metrics`], [`optim`]
//!   (Nelder–Mead), [`special`] (log-gamma, 2F1), [`dates`], [`datasets`]
//!   (readers for the public evaluation layouts).

pub mod churn;
pub mod clv;
pub mod customers;
pub mod datasets;
pub mod dates;
pub mod error;
pub mod gbt;
pub mod intent;
pub mod live;
pub mod metrics;
pub mod optim;
pub mod recs;
pub mod segments;
pub mod special;

pub use error::{Error, Result};
