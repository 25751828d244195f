//! The conversation engine: opens conversations and runs turns. A turn is
//! serialised per conversation (in-process lock, plus the store's version
//! check across processes), understood by the NLU, answered by the dialogue
//! manager through the policy gate, and stored durably (customer message,
//! reply, tool calls and state in one transaction) before it is returned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hc_commerce::{Actor, Tools};
use hc_domain::{
    Author, Channel, Conversation, ConversationId, ConversationStatus, Escalation, Message,
    TenantId, ToolCallRecord, now_ms,
};
use serde::Serialize;
use tracing::instrument;

use crate::dialogue::{Dialogue, Outcome};
use crate::error::{Error, Result};
use crate::gate::Gate;
use crate::nlu::Nlu;
use crate::ports::ConversationStore;
use crate::replies::Voice;
use crate::state::DialogueState;

/// Longest accepted message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// One async lock per live conversation, so its turns run one at a time.
type TurnLocks = HashMap<(TenantId, ConversationId), Arc<tokio::sync::Mutex<()>>>;

/// The result of one customer message.
#[derive(Clone, Debug, Serialize)]
pub struct TurnResult {
    pub reply: Message,
    pub tool_calls: Vec<ToolCallRecord>,
    pub status: ConversationStatus,
}

/// The agent: NLU, dialogue and tools over a conversation store.
#[derive(Clone)]
pub struct Agent {
    tools: Tools,
    store: Arc<dyn ConversationStore>,
    nlu: Arc<Nlu>,
    voice: Arc<Voice>,
    locks: Arc<Mutex<TurnLocks>>,
}

fn new_id() -> ConversationId {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    let a = h.finish();
    let mut h2 = std::collections::hash_map::RandomState::new().build_hasher();
    h2.write_u64(a);
    ConversationId::parse(format!("conv_{a:016x}{:08x}", h2.finish() as u32)).expect("valid id")
}

fn clean(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::InvalidMessage("the message is empty".into()));
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Error::InvalidMessage(format!(
            "a message may be at most {MAX_MESSAGE_BYTES} bytes"
        )));
    }
    // Control characters other than newlines and tabs are dropped, not stored.
    Ok(text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect())
}

impl Agent {
    pub fn new(
        tools: Tools,
        store: Arc<dyn ConversationStore>,
        nlu: Arc<Nlu>,
        voice: Voice,
    ) -> Self {
        Self {
            tools,
            store,
            nlu,
            voice: Arc::new(voice),
            locks: Arc::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn ConversationStore> {
        &self.store
    }

    /// Opens a conversation.
    pub async fn start(&self, tenant: &TenantId, channel: Channel) -> Result<Conversation> {
        let now = now_ms();
        let c = Conversation {
            id: new_id(),
            tenant_id: tenant.clone(),
            channel,
            status: ConversationStatus::Open,
            customer: None,
            created_at_ms: now,
            updated_at_ms: now,
            first_response_at_ms: None,
            closed_at_ms: None,
            satisfaction: None,
            escalation: None,
            message_count: 0,
            version: 0,
            state: serde_json::to_value(DialogueState::default()).unwrap_or_default(),
        };
        self.store.create_conversation(&c).await?;
        Ok(c)
    }

    pub async fn conversation(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
    ) -> Result<(Conversation, Vec<Message>)> {
        let c = self
            .store
            .conversation(tenant, id)
            .await?
            .ok_or_else(|| Error::ConversationNotFound(id.clone()))?;
        let messages = self.store.messages(tenant, id).await?;
        Ok((c, messages))
    }

    fn lock_for(&self, tenant: &TenantId, id: &ConversationId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks
            .entry((tenant.clone(), id.clone()))
            .or_default()
            .clone()
    }

    /// Handles one customer message and returns the agent's reply.
    #[instrument(level = "debug", skip_all, fields(tenant = %tenant, conversation = %id))]
    pub async fn handle(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        text: &str,
    ) -> Result<TurnResult> {
        let text = clean(text)?;
        let lock = self.lock_for(tenant, id);
        let _serial = lock.lock().await;
        let mut c = self
            .store
            .conversation(tenant, id)
            .await?
            .ok_or_else(|| Error::ConversationNotFound(id.clone()))?;
        if !c.status.accepts_messages() {
            return Err(Error::ConversationClosed(id.clone(), c.status.as_str()));
        }
        let received = now_ms();
        let customer_msg = Message {
            seq: c.message_count + 1,
            author: Author::Customer,
            text: text.clone(),
            at_ms: received,
            intent: None,
            confidence: None,
            tool_calls: vec![],
        };
        let expected = c.version;
        // While a human has the conversation, the AI stays silent.
        if c.status == ConversationStatus::Escalated {
            c.message_count += 1;
            c.version += 1;
            c.updated_at_ms = received;
            self.store
                .save_turn(&c, expected, std::slice::from_ref(&customer_msg))
                .await?;
            let note = Message {
                seq: 0,
                author: Author::System,
                text: "A member of our team will reply here shortly.".into(),
                at_ms: received,
                intent: None,
                confidence: None,
                tool_calls: vec![],
            };
            return Ok(TurnResult {
                reply: note,
                tool_calls: vec![],
                status: c.status,
            });
        }

        let understanding = self.nlu.understand(&text);
        let mut state: DialogueState = serde_json::from_value(c.state.clone()).unwrap_or_default();
        let actor = Actor::new(tenant.clone(), format!("agent:{id}"));
        let mut gate = Gate::new(&self.tools, actor, &mut state);
        let turn = {
            let mut dialogue = Dialogue {
                gate: &mut gate,
                voice: &self.voice,
                confidence: understanding.confidence,
            };
            dialogue.respond(&text, &understanding).await
        };
        let calls = gate.into_calls();
        let now = now_ms();
        match &turn.outcome {
            Outcome::Continue => {}
            Outcome::Wrap => state.awaiting_rating = true,
            Outcome::Rated(r) => {
                c.satisfaction = Some(*r);
                c.status = ConversationStatus::Resolved;
                c.closed_at_ms = Some(now);
            }
            Outcome::Escalate(reason) => {
                c.status = ConversationStatus::Escalated;
                c.escalation = Some(Escalation {
                    reason: reason.clone(),
                    summary: summary(&state, &understanding.text),
                    at_ms: now,
                });
            }
        }
        c.customer = state.customer.clone();
        c.state = serde_json::to_value(&state).unwrap_or_default();
        let reply = Message {
            seq: c.message_count + 2,
            author: Author::Agent,
            text: turn.reply,
            at_ms: now,
            intent: None,
            confidence: Some(understanding.confidence),
            tool_calls: calls.clone(),
        };
        let customer_msg = Message {
            intent: Some(understanding.intent.as_str().to_string()),
            confidence: Some(understanding.confidence),
            ..customer_msg
        };
        c.message_count += 2;
        c.version += 1;
        c.updated_at_ms = now;
        c.first_response_at_ms.get_or_insert(now);
        self.store
            .save_turn(&c, expected, &[customer_msg, reply.clone()])
            .await?;
        Ok(TurnResult {
            reply,
            tool_calls: calls,
            status: c.status,
        })
    }
}

/// The handoff summary: who, what they want, what was checked and done, and the last message.
fn summary(state: &DialogueState, last: &str) -> String {
    let who = state
        .customer
        .as_ref()
        .map(|c| format!("Customer {c} (verified)"))
        .unwrap_or_else(|| "Customer not yet identified".into());
    let want = state
        .goal
        .as_ref()
        .map(|g| format!("wants to {}", g.kind.describe()))
        .unwrap_or_else(|| "request unclear".into());
    let order = state
        .goal
        .as_ref()
        .and_then(|g| g.order_id.as_ref())
        .map(|o| format!(" (order {o})"))
        .unwrap_or_default();
    let log = if state.log.is_empty() {
        "nothing checked or done yet".to_string()
    } else {
        state.log.join("; ")
    };
    format!(
        "{who}; {want}{order}. So far: {log}. Last message: \"{}\"",
        last.chars().take(300).collect::<String>()
    )
}
