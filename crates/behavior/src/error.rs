//! Errors of the behavior engine. Each variant names what the caller must
//! decide: fix the input, or give the model more data.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input data (a row, a column, a parameter) is malformed or out of range.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A CSV file is malformed (with the 1-based line where known).
    #[error("{path}: line {line}: {reason}")]
    Parse {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// There is not enough data to fit the model (no rows, one class only…).
    #[error("not enough data: {0}")]
    InsufficientData(String),
    /// A model artifact cannot be loaded (unknown version, corrupt JSON).
    #[error("model artifact: {0}")]
    Artifact(String),
}

impl Error {
    /// Stable snake_case code for clients that branch on the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid_input",
            Error::Io { .. } => "io_error",
            Error::Parse { .. } => "invalid_file",
            Error::InsufficientData(_) => "insufficient_data",
            Error::Artifact(_) => "invalid_artifact",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
