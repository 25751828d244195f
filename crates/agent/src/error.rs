//! Errors of the conversation engine.

use hc_commerce::StoreError;
use hc_domain::ConversationId;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("conversation {0} not found")]
    ConversationNotFound(ConversationId),
    #[error("conversation {0} is {1} and takes no more messages")]
    ConversationClosed(ConversationId, &'static str),
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::ConversationNotFound(_) => "conversation_not_found",
            Error::ConversationClosed(..) => "conversation_closed",
            Error::InvalidMessage(_) => "invalid_message",
            Error::Store(StoreError::Conflict(_)) => "conflict",
            Error::Store(StoreError::Unavailable(_)) => "unavailable",
            Error::Store(StoreError::Corrupt(_)) => "internal",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
