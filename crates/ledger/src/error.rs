//! Errors of the ledger. Each variant names what the caller must decide.

/// What went wrong in the ledger.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Caller input is malformed or out of bounds (empty or oversized entry,
    /// bad tile path, index beyond the tree, unparsable note or key).
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// A proof, signature or checkpoint did not verify.
    #[error("verification failed: {0}")]
    Verification(String),
    /// Signing would produce a checkpoint inconsistent with one already signed.
    #[error("inconsistent checkpoint: {0}")]
    Inconsistent(String),
    /// Bytes on disk are not what the log wrote (tampering or media failure).
    #[error("log corrupt at entry {index}: {reason}")]
    Corrupt { index: u64, reason: String },
    /// An idempotency key was reused with a different operation.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A redeem or transfer asks for more points than the account holds.
    #[error("insufficient balance: the account holds {balance} points, {requested} requested")]
    InsufficientBalance { balance: u64, requested: u64 },
    /// The requested tile, entry or key does not exist (yet).
    #[error("not found: {0}")]
    NotFound(String),
    /// An earlier write or fsync failed: the log refuses further appends until
    /// it is reopened (which recovers the last durable state).
    #[error("log unavailable: {0}")]
    Unavailable(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            reason: reason.into(),
        }
    }

    /// A stable snake_case code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid",
            Self::Verification(_) => "verification_failed",
            Self::Inconsistent(_) => "inconsistent",
            Self::Corrupt { .. } => "corrupt",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "idempotency_key_reused",
            Self::InsufficientBalance { .. } => "insufficient_balance",
            Self::Unavailable(_) => "unavailable",
            Self::Io(_) => "io",
        }
    }

    pub(crate) fn verification(reason: impl Into<String>) -> Self {
        Self::Verification(reason.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
