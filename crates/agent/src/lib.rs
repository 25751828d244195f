//! The support and sales agent: natural-language understanding, dialogue
//! management with code-enforced policy gates, and conversations over the
//! retail tools of `hc-commerce`. Knows nothing of HTTP or SQL.
//!
//! - [`nlu`]: trained intent classifier, corpus, entity extraction.
//! - [`gate`]: the policy every brain's tool calls pass through, and the
//!   `search_knowledge_base` tool over the merchant's articles.
//! - [`dialogue`]: the built-in offline brain (slot filling, confirmation).
//! - [`llm`]: the optional LLM brain (OpenAI-compatible, Anthropic) and hybrid mode.
//! - [`engine::Agent`]: conversations, turns, durable storage, escalation.
//! - [`memory`]: long-term facts about each customer, learned and recalled.

pub mod config;
pub mod dialogue;
pub mod engine;
pub mod error;
pub mod gate;
pub mod llm;
pub mod memory;
pub mod nlu;
pub mod ports;
pub mod replies;
pub mod state;
#[cfg(test)]
mod testkit;

pub use config::{AgentConfig, Brain, BrainMode, OnLlmFailure};
pub use engine::{Agent, AgentEvent, Deliver, Stats, TurnResult};
pub use error::{Error, Result};
pub use gate::{KNOWLEDGE_TOOL, LOYALTY_TOOL, knowledge_tool_spec, loyalty_tool_spec};
pub use memory::{Memory, memory_summary};
pub use ports::{KnowledgeSearch, LoyaltyPoints, TenantBrainSource, TenantSettingsSource};
pub use replies::{Tone, Voice};
