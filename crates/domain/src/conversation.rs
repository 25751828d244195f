//! Conversations between a shopper and the agent (or a human): channel,
//! status, the messages, and every tool call with its arguments, result and
//! the engine's confidence.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{ConversationId, TenantId, UserId};

/// Where a conversation happens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Chat,
    Email,
    Sms,
    Voice,
    Api,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
            Channel::Api => "api",
        }
    }
}

/// Lifecycle of a conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    #[default]
    Open,
    Resolved,
    Escalated,
    Abandoned,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 4] = [
        ConversationStatus::Open,
        ConversationStatus::Resolved,
        ConversationStatus::Escalated,
        ConversationStatus::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Resolved => "resolved",
            ConversationStatus::Escalated => "escalated",
            ConversationStatus::Abandoned => "abandoned",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the shopper can still talk to the agent.
    pub fn accepts_messages(self) -> bool {
        matches!(
            self,
            ConversationStatus::Open | ConversationStatus::Escalated
        )
    }
}

impl fmt::Display for ConversationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Customer,
    /// The AI agent.
    Agent,
    /// A human support agent.
    Human,
    System,
}

/// One tool call made while answering a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    pub name: String,
    pub arguments: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ToolError>,
    /// The engine's confidence in the decision that led to this call, 0 to 1.
    pub confidence: f32,
}

/// A tool's refusal: the stable code and the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolError {
    pub code: String,
    pub message: String,
}

/// One message in a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Position in the conversation, from 1.
    pub seq: i64,
    pub author: Author,
    pub text: String,
    pub at_ms: i64,
    /// The understood intent of a customer message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRecord>,
    /// Which brain wrote an agent message: `offline` or `llm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brain: Option<String>,
    /// Model usage spent on this message, when an LLM wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<LlmUsage>,
}

/// LLM tokens and cost spent, per message and summed per conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmUsage {
    /// Model calls made.
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// At the configured prices, in millionths of a US dollar.
    pub cost_micros: u64,
    /// Wall time spent waiting for the provider, in microseconds.
    #[serde(default)]
    pub provider_micros: u64,
}

impl LlmUsage {
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

impl std::ops::AddAssign for LlmUsage {
    fn add_assign(&mut self, o: Self) {
        self.calls += o.calls;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cost_micros += o.cost_micros;
        self.provider_micros += o.provider_micros;
    }
}

/// Why and how a conversation went to a human.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub reason: String,
    /// Who the customer is, what they want, what was checked and done.
    pub summary: String,
    pub at_ms: i64,
}

/// A conversation and its bookkeeping (messages are stored separately).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub status: ConversationStatus,
    /// The authenticated customer, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<UserId>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at_ms: Option<i64>,
    /// 1 to 5, when the customer answered the satisfaction question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// Messages so far (the next message gets `message_count + 1`).
    pub message_count: i64,
    /// Incremented on every change; writers compare it (optimistic locking).
    pub version: i64,
    /// LLM tokens and cost spent on this conversation so far.
    #[serde(default, skip_serializing_if = "LlmUsage::is_zero")]
    pub usage: LlmUsage,
    /// The engine's dialogue state, opaque here.
    #[serde(default)]
    pub state: serde_json::Value,
}
