//! Errors of the knowledge base. Each variant names what the caller must
//! decide and maps to a stable snake_case code.

use hc_domain::ArticleSlug;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// An article field is out of bounds (title, body, tags, slug).
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The search text is empty or too long.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("article {0} not found")]
    NotFound(ArticleSlug),
    /// Creating an article whose slug is taken.
    #[error("an article with slug {0} already exists")]
    AlreadyExists(ArticleSlug),
    /// A new article would exceed the tenant's article limit.
    #[error("the knowledge base already holds its maximum of {0} articles")]
    LimitReached(usize),
    /// The database could not be reached or timed out; retrying may help.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A concurrent change or a uniqueness constraint got in the way.
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The search engine failed (a bug, not bad input).
    #[error("search index error: {0}")]
    Index(String),
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid_article",
            Error::InvalidQuery(_) => "invalid_query",
            Error::NotFound(_) => "article_not_found",
            Error::AlreadyExists(_) => "already_exists",
            Error::LimitReached(_) => "knowledge_base_full",
            Error::Unavailable(_) => "unavailable",
            Error::Conflict(_) => "conflict",
            Error::Corrupt(_) | Error::Index(_) => "internal",
        }
    }
}

impl From<hc_domain::Error> for Error {
    fn from(e: hc_domain::Error) -> Self {
        match e {
            hc_domain::Error::Invalid { kind, reason } => Error::Invalid {
                field: kind,
                reason,
            },
        }
    }
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Self {
        Error::Index(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
