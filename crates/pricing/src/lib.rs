//! Dynamic pricing engine: demand learning, pricing policies, guardrails and a
//! market simulator. Pure: no I/O, no async.

pub mod demand;
pub mod error;
pub mod guardrails;
pub mod learn;
pub mod lp;
pub mod policy;
pub mod reprice;
pub mod sample;
pub mod sim;

pub use error::{Error, Result};
