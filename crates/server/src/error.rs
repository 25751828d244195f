//! The one place errors become HTTP: `{"error": {"code", "message"}}` with a
//! fitting status. 5xx bodies are generic; the cause goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hc_commerce::error::ErrorKind;
use serde_json::json;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// Machine-readable specifics (e.g. `{"field": "freeze[1].end"}`), sent as `error.details`.
    /// Boxed: errors travel in every `Result` of the router and stay small.
    pub details: Option<Box<serde_json::Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
            details: None,
        }
    }

    /// Adds `error.details` to the response body.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    }
}

impl From<hc_commerce::Error> for ApiError {
    fn from(e: hc_commerce::Error) -> Self {
        let status = match e.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Rule => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Unavailable => {
                tracing::warn!(error = %e, "storage unavailable");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "storage is unavailable, retry later",
                );
            }
            ErrorKind::Internal => return Self::internal(e),
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<hc_store::Error> for ApiError {
    fn from(e: hc_store::Error) -> Self {
        hc_commerce::Error::Store(e).into()
    }
}

impl From<hc_knowledge::Error> for ApiError {
    fn from(e: hc_knowledge::Error) -> Self {
        use hc_knowledge::Error as K;
        let status = match &e {
            K::Invalid { .. } | K::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            K::NotFound(_) => StatusCode::NOT_FOUND,
            K::AlreadyExists(_) | K::Conflict(_) => StatusCode::CONFLICT,
            K::LimitReached(_) => StatusCode::UNPROCESSABLE_ENTITY,
            K::Unavailable(_) => {
                tracing::warn!(error = %e, "storage unavailable");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "storage is unavailable, retry later",
                );
            }
            K::Corrupt(_) | K::Index(_) => return Self::internal(e),
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<hc_ledger::Error> for ApiError {
    fn from(e: hc_ledger::Error) -> Self {
        use hc_ledger::Error as L;
        let status = match &e {
            L::Invalid { .. } | L::Verification(_) => StatusCode::BAD_REQUEST,
            L::NotFound(_) => StatusCode::NOT_FOUND,
            L::Conflict(_) => StatusCode::CONFLICT,
            L::InsufficientBalance { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            L::Unavailable(_) => {
                tracing::error!(error = %e, "ledger unavailable");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the ledger is unavailable",
                );
            }
            L::Inconsistent(_) | L::Corrupt { .. } | L::Io(_) => return Self::internal(e),
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.details {
            Some(details) => {
                json!({"error": {"code": self.code, "message": self.message, "details": details}})
            }
            None => json!({"error": {"code": self.code, "message": self.message}}),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
