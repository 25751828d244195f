//! Errors of the pricing engine: what a caller must decide about.

/// A pricing error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that can never be priced (NaN, negative, absurd, wrong shape).
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Rules that contradict each other (floor above ceiling, …).
    #[error("conflicting rules: {0}")]
    Conflict(String),
    /// The linear program had no solution (should not happen: `x = 0` is feasible).
    #[error("linear program failed: {0}")]
    Lp(String),
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
