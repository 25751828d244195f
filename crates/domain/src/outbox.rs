//! Outbound channel messages (SMS, email) and trigger webhooks as the durable outbox holds them:
//! what to send, and where each delivery stands. The store keeps them; the
//! server's outbox worker delivers them.

use serde::Serialize;

use crate::{ConversationId, TenantId};

/// What a delivery carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    Sms,
    Email,
    /// A trigger's webhook: `{url, trigger_id, event, body}`, POSTed as JSON
    /// and signed with the trigger's secret at delivery time.
    Webhook,
}

impl DeliveryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(Self::Sms),
            "email" => Some(Self::Email),
            "webhook" => Some(Self::Webhook),
            _ => None,
        }
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Delivered,
    /// Refused by the provider or out of attempts: never retried.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A message to deliver. The payload is the provider request without
/// credentials (those are read at delivery time, so none are stored here).
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub tenant_id: TenantId,
    pub conversation_id: Option<ConversationId>,
    pub kind: DeliveryKind,
    pub payload: serde_json::Value,
}

/// One outbox row.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub tenant_id: TenantId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    pub kind: DeliveryKind,
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    /// Attempts started so far.
    pub attempts: u32,
    pub next_attempt_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The provider's id of the delivered message (Twilio SID, Postmark MessageID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Deliveries per status, for one tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
}
