//! Store errors: the driver-free [`StoreError`] of `hc-commerce`, mapped from sqlx.

pub use hc_commerce::StoreError as Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn map(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(db.to_string()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            Error::Conflict(db.to_string())
        }
        sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. } => Error::Corrupt(e.to_string()),
        _ => Error::Unavailable(e.to_string()),
    }
}

pub(crate) fn corrupt(e: serde_json::Error) -> Error {
    Error::Corrupt(e.to_string())
}
