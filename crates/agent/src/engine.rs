//! The conversation engine: opens conversations and runs turns. A turn is
//! serialised per conversation (in-process lock, plus the store's version
//! check across processes), understood by the NLU, answered by the dialogue
//! manager through the policy gate, and stored durably (customer message,
//! reply, tool calls and state in one transaction) before it is returned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hc_commerce::{Actor, Tools};
use hc_domain::outbox::NewDelivery;
use hc_domain::{
    Author, Channel, Conversation, ConversationId, ConversationStatus, Escalation, Message,
    TenantId, ToolCallRecord, now_ms,
};
use serde::Serialize;
use tracing::instrument;

use crate::config::{Brain, OnLlmFailure};
use crate::dialogue::{Dialogue, Outcome, Turn};
use crate::error::{Error, Result};
use crate::gate::Gate;
use crate::llm::brain::{LlmFailure, TurnInput};
use crate::llm::{self, DeltaSink};
use crate::memory::Memory;
use crate::nlu::Nlu;
use crate::nlu::Understanding;
use crate::nlu::intents::Intent;
use crate::ports::{ConversationStore, KnowledgeSearch, LoyaltyPoints, MemoryStore};
use crate::ports::{TenantBrainSource, TenantSettingsSource, TurnWrite};
use crate::replies::Voice;
use crate::state::DialogueState;

/// Longest accepted message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Turns a reply into an outbox delivery on the customer's channel (see
/// [`Agent::handle_delivering`]).
pub type Deliver = dyn Fn(&Conversation, &Message) -> Option<NewDelivery> + Send + Sync;

/// One async lock per live conversation, so its turns run one at a time.
type TurnLocks = HashMap<(TenantId, ConversationId), Arc<tokio::sync::Mutex<()>>>;

/// The result of one customer message.
#[derive(Clone, Debug, Serialize)]
pub struct TurnResult {
    pub reply: Message,
    pub tool_calls: Vec<ToolCallRecord>,
    pub status: ConversationStatus,
}

/// Something that happened to a conversation, for webhooks and live views.
#[derive(Clone, Debug, Serialize)]
pub struct AgentEvent {
    /// e.g. `conversation.escalated`, `conversation.resolved`, `conversation.handed_back`.
    pub event: &'static str,
    pub conversation: Conversation,
    /// The message the event is about, when there is one (e.g. a human's reply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

/// Statistics the dashboard shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub conversations: u64,
    pub open: u64,
    pub resolved: u64,
    pub escalated: u64,
    pub abandoned: u64,
    /// Resolved without a human, as a share of resolved, escalated and abandoned conversations.
    pub resolved_by_ai_rate: f64,
    pub escalation_rate: f64,
    /// Mean 1-5 rating, when any.
    pub csat: Option<f64>,
    pub ratings: u64,
    pub avg_first_response_ms: Option<f64>,
    pub avg_resolution_ms: Option<f64>,
    /// LLM calls, tokens and cost spent on these conversations.
    pub llm: hc_domain::LlmUsage,
}

/// The agent: NLU, dialogue and tools over a conversation store.
#[derive(Clone)]
pub struct Agent {
    tools: Tools,
    store: Arc<dyn ConversationStore>,
    nlu: Arc<Nlu>,
    voice: Arc<Voice>,
    brain: Arc<Brain>,
    locks: Arc<Mutex<TurnLocks>>,
    events: tokio::sync::broadcast::Sender<AgentEvent>,
    /// The merchant's articles, for `search_knowledge_base`; none by default.
    knowledge: Option<Arc<dyn KnowledgeSearch>>,
    /// The loyalty ledger, for `loyalty_balance`; none by default.
    loyalty: Option<Arc<dyn LoyaltyPoints>>,
    /// Long-term customer memory, when configured ([`Agent::with_memory`]).
    memory: Option<Arc<Memory>>,
    /// Per-tenant voice and escalation thresholds ([`Agent::with_settings`]).
    settings: Option<Arc<dyn TenantSettingsSource>>,
    /// Tenants' own LLM providers ([`Agent::with_tenant_brains`]).
    tenant_brains: Option<Arc<dyn TenantBrainSource>>,
}

/// How the agent speaks and when it escalates, for one tenant's turn.
struct Tuning {
    voice: Arc<Voice>,
    limits: hc_domain::EscalationSettings,
    /// The tenant's accepted cancel reasons, when settings are wired.
    cancel_reasons: Option<Vec<String>>,
    /// The tenant's own brain, else the agent's.
    brain: Arc<Brain>,
}

/// A new conversation id: 128 bits from the OS random source. The id is also
/// the capability a public chat widget holds, so it must be unguessable.
fn new_id() -> ConversationId {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    ConversationId::parse(format!("conv_{hex}")).expect("valid id")
}

/// A new, empty, open conversation (not yet stored).
fn fresh_conversation(tenant: &TenantId, channel: Channel) -> Conversation {
    let now = now_ms();
    Conversation {
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
        usage: Default::default(),
        state: serde_json::to_value(DialogueState::default()).unwrap_or_default(),
    }
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
            brain: Arc::new(Brain::offline()),
            locks: Arc::default(),
            events: tokio::sync::broadcast::channel(1024).0,
            knowledge: None,
            loyalty: None,
            memory: None,
            settings: None,
            tenant_brains: None,
        }
    }

    /// Speaks in each tenant's voice (brand, tone, greeting) and escalates at
    /// its thresholds, read from `source`; without it, the configured voice
    /// and the default thresholds apply to every tenant.
    pub fn with_settings(mut self, source: Arc<dyn TenantSettingsSource>) -> Self {
        self.settings = Some(source);
        self
    }

    /// The tenant's voice and thresholds. Settings that cannot be read fall
    /// back to the configured voice (logged), so a turn never fails on them.
    async fn tuning(&self, tenant: &TenantId) -> Tuning {
        let mut t = self.tenant_tuning(tenant).await;
        if let Some(source) = &self.tenant_brains
            && let Some(own) = source.brain(tenant).await
        {
            t.brain = own;
        }
        // Without a tenant's own list, the retail policy's reasons (which the
        // cancel tool enforces) are what the offline brain asks for and matches.
        if t.cancel_reasons.is_none() {
            t.cancel_reasons = self
                .tools
                .retail()
                .policy_for(tenant)
                .await
                .ok()
                .map(|p| p.cancel_reasons);
        }
        t
    }

    async fn tenant_tuning(&self, tenant: &TenantId) -> Tuning {
        let configured = || Tuning {
            voice: self.voice.clone(),
            limits: Default::default(),
            cancel_reasons: None,
            brain: self.brain.clone(),
        };
        let Some(source) = &self.settings else {
            return configured();
        };
        match source.settings(tenant).await {
            Ok(s) => Tuning {
                voice: Arc::new(Voice::for_tenant(&s, &self.voice.brand)),
                limits: s.escalation,
                cancel_reasons: s.cancel_reasons.clone(),
                brain: self.brain.clone(),
            },
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "tenant settings unavailable; using the defaults");
                configured()
            }
        }
    }

    /// The opening line of a conversation in `tenant`'s voice.
    pub async fn greeting_for(&self, tenant: &TenantId) -> String {
        self.tenant_tuning(tenant).await.voice.greeting(None)
    }

    /// Answers a tenant's turns with its own LLM provider when `source` has
    /// one for it (the merchant set it in the dashboard); other tenants get
    /// the agent's brain.
    pub fn with_tenant_brains(mut self, source: Arc<dyn TenantBrainSource>) -> Self {
        self.tenant_brains = Some(source);
        self
    }

    /// Answers with `brain` (an LLM or hybrid) instead of the built-in engine alone.
    pub fn with_brain(mut self, brain: Brain) -> Self {
        self.brain = Arc::new(brain);
        self
    }

    pub fn brain(&self) -> &Brain {
        &self.brain
    }

    /// Gives the agent the customers' loyalty points (`loyalty_balance`).
    pub fn with_loyalty(mut self, loyalty: Arc<dyn LoyaltyPoints>) -> Self {
        self.loyalty = Some(loyalty);
        self
    }

    /// Gives the agent the merchant's knowledge base: policy questions are
    /// answered from its articles through the `search_knowledge_base` tool.
    pub fn with_knowledge(mut self, knowledge: Arc<dyn KnowledgeSearch>) -> Self {
        self.knowledge = Some(knowledge);
        self
    }

    /// Learns and uses long-term facts about customers, kept in `store`.
    pub fn with_memory(mut self, store: Arc<dyn MemoryStore>) -> Self {
        self.memory = Some(Arc::new(Memory::new(store, self.tools.retail().clone())));
        self
    }

    /// The long-term memory, when configured.
    pub fn memory(&self) -> Option<&Arc<Memory>> {
        self.memory.as_ref()
    }

    pub fn store(&self) -> &Arc<dyn ConversationStore> {
        &self.store
    }

    /// Conversation events (escalations, resolutions, hand-backs) as they happen.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<AgentEvent> {
        self.events.subscribe()
    }

    fn emit(&self, event: &'static str, conversation: &Conversation) {
        self.emit_message(event, conversation, None);
    }

    fn emit_message(
        &self,
        event: &'static str,
        conversation: &Conversation,
        message: Option<Message>,
    ) {
        // No subscriber is fine: events are a notification, not a queue of record.
        let _ = self.events.send(AgentEvent {
            event,
            conversation: conversation.clone(),
            message,
        });
    }

    /// Opens a conversation.
    pub async fn start(&self, tenant: &TenantId, channel: Channel) -> Result<Conversation> {
        let c = fresh_conversation(tenant, channel);
        self.store.create_conversation(&c).await?;
        Ok(c)
    }

    /// The live conversation (open or escalated) on `channel` tied to
    /// `external_key` (a phone number, a call id, a sender email), or a new one
    /// tied to it. Returns whether it is new. Concurrent callers with the same
    /// key get the same conversation: the store refuses a second live one and
    /// the loser reads the winner's.
    pub async fn continue_or_start(
        &self,
        tenant: &TenantId,
        channel: Channel,
        external_key: &str,
    ) -> Result<(Conversation, bool)> {
        for _ in 0..3 {
            if let Some(c) = self
                .store
                .find_by_external(tenant, channel, external_key)
                .await?
            {
                return Ok((c, false));
            }
            let c = fresh_conversation(tenant, channel);
            match self
                .store
                .create_external_conversation(&c, external_key)
                .await
            {
                Ok(()) => return Ok((c, true)),
                // Another request for the same key won the race: use its conversation.
                Err(hc_commerce::StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Store(hc_commerce::StoreError::Conflict(format!(
            "no live {} conversation could be opened for this sender",
            channel.as_str()
        ))))
    }

    /// The opening line of a conversation, in the configured voice.
    pub fn greeting(&self) -> String {
        self.voice.greeting(None)
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
    pub async fn handle(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        text: &str,
    ) -> Result<TurnResult> {
        self.handle_streaming(tenant, id, text, None).await
    }

    /// Like [`handle`](Self::handle), sending the reply's text to `deltas` as
    /// it is produced (token by token from an LLM; whole from the built-in engine).
    pub async fn handle_streaming(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        text: &str,
        deltas: Option<DeltaSink>,
    ) -> Result<TurnResult> {
        self.turn(tenant, id, text, deltas, None).await
    }

    /// Like [`handle`](Self::handle); `deliver` turns the agent's reply into
    /// an outbox delivery (an email answer, say) stored in the same
    /// transaction as the turn: both or neither.
    pub async fn handle_delivering(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        text: &str,
        deliver: &Deliver,
    ) -> Result<TurnResult> {
        self.turn(tenant, id, text, None, Some(deliver)).await
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %tenant, conversation = %id))]
    async fn turn(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        text: &str,
        deltas: Option<DeltaSink>,
        deliver: Option<&Deliver>,
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
            brain: None,
            usage: None,
        };
        let expected = c.version;
        // While a human has the conversation, the AI stays silent.
        if c.status == ConversationStatus::Escalated {
            c.message_count += 1;
            c.version += 1;
            c.updated_at_ms = received;
            let note = Message {
                seq: 0,
                author: Author::System,
                text: "A member of our team will reply here shortly.".into(),
                at_ms: received,
                intent: None,
                confidence: None,
                tool_calls: vec![],
                brain: None,
                usage: None,
            };
            // The acknowledgement is not stored, but goes out on the customer's channel.
            let delivery = deliver.and_then(|d| d(&c, &note));
            self.store
                .save_turn(
                    &TurnWrite::new(&c, expected, std::slice::from_ref(&customer_msg))
                        .delivering(delivery.as_ref()),
                )
                .await?;
            return Ok(TurnResult {
                reply: note,
                tool_calls: vec![],
                status: c.status,
            });
        }

        let understanding = self.nlu.understand(&text);
        let tuning = self.tuning(tenant).await;
        let mut state: DialogueState = serde_json::from_value(c.state.clone()).unwrap_or_default();
        let actor = Actor::new(tenant.clone(), format!("agent:{id}"));
        let llm = tuning.brain.llm_for(&understanding, &state, &text).cloned();
        let history = match llm {
            Some(_) => self.store.messages(tenant, id).await?,
            None => Vec::new(),
        };
        let mut gate = Gate::new(&self.tools, actor, &mut state)
            .with_knowledge(self.knowledge.as_deref())
            .with_loyalty(self.loyalty.as_deref())
            .with_memory(self.memory.as_deref());
        let mut usage = None;
        let mut brain = "offline";
        let mut turn = None;
        if let Some(llm) = &llm {
            // The tenant's cancel reasons, and what is remembered about an
            // authenticated customer, go into the system prompt.
            let reasons = match &tuning.cancel_reasons {
                Some(r) => r.clone(),
                None => self
                    .tools
                    .retail()
                    .policy_for(tenant)
                    .await
                    .map(|p| p.cancel_reasons)
                    .unwrap_or_default(),
            };
            let mut context = format!(
                "Accepted cancel reasons: {}.",
                reasons
                    .iter()
                    .map(|r| format!("\"{r}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Ok(facts) = gate.recall().await
                && !facts.is_empty()
            {
                context.push_str(&format!(
                    "\nRemembered about this customer from earlier conversations and orders: {}",
                    crate::memory::memory_summary(&facts)
                ));
            }
            let context = Some(context);
            let input = TurnInput {
                history: &history,
                text: &text,
                yes_no: understanding
                    .entities
                    .yes_no
                    .or(match understanding.intent {
                        Intent::Affirm => Some(true),
                        Intent::Deny => Some(false),
                        _ => None,
                    }),
                context,
                deltas: deltas.as_ref(),
            };
            match llm::brain::respond(llm, &mut gate, &tuning.voice, &[], input).await {
                Ok(t) => {
                    usage = Some(t.usage);
                    brain = "llm";
                    turn = Some(t.turn);
                }
                Err(f) => {
                    tracing::warn!(error = %f.error, conversation = %id, "llm turn failed; falling back");
                    usage = Some(f.usage).filter(|u| !u.is_zero());
                    turn = Some(
                        self.llm_fallback(&mut gate, &text, &understanding, f, &tuning)
                            .await,
                    );
                }
            }
        }
        let turn = match turn {
            Some(t) => t,
            None => {
                self.offline_turn(&mut gate, &text, &understanding, &tuning)
                    .await
            }
        };
        if brain != "llm"
            && let Some(sink) = &deltas
        {
            let _ = sink.send(turn.reply.clone());
        }
        gate.state_mut().llm_active = brain == "llm";
        let (calls, learned) = gate.into_parts();
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
        // Long-term memory: what this turn taught about the customer, stored with it.
        let facts = match &self.memory {
            Some(memory) => {
                memory
                    .learn_from_turn(&c, &mut state, &calls, &turn.outcome, learned)
                    .await
            }
            None => Vec::new(),
        };
        c.customer = state.customer.clone();
        c.state = serde_json::to_value(&state).unwrap_or_default();
        let reply = Message {
            seq: c.message_count + 2,
            author: Author::Agent,
            text: turn.reply,
            at_ms: now,
            intent: None,
            confidence: Some(understanding.confidence),
            tool_calls: calls,
            brain: Some(brain.to_string()),
            usage,
        };
        if let Some(u) = usage {
            c.usage += u;
        }
        let customer_msg = Message {
            intent: Some(understanding.intent.as_str().to_string()),
            confidence: Some(understanding.confidence),
            ..customer_msg
        };
        c.message_count += 2;
        c.version += 1;
        c.updated_at_ms = now;
        c.first_response_at_ms.get_or_insert(now);
        let turn_messages = [customer_msg, reply];
        let delivery = deliver.and_then(|d| d(&c, &turn_messages[1]));
        self.store
            .save_turn(
                &TurnWrite::new(&c, expected, &turn_messages)
                    .learning(&facts)
                    .delivering(delivery.as_ref()),
            )
            .await?;
        match turn.outcome {
            Outcome::Escalate(_) => self.emit("conversation.escalated", &c),
            Outcome::Rated(_) => self.emit("conversation.resolved", &c),
            _ => {}
        }
        // The calls are stored on the reply; the result carries them once, beside it.
        let [_, mut reply] = turn_messages;
        let tool_calls = std::mem::take(&mut reply.tool_calls);
        Ok(TurnResult {
            reply,
            tool_calls,
            status: c.status,
        })
    }
}

impl Agent {
    async fn offline_turn(
        &self,
        gate: &mut Gate<'_>,
        text: &str,
        u: &Understanding,
        tuning: &Tuning,
    ) -> Turn {
        let mut dialogue = Dialogue {
            gate,
            nlu: &self.nlu,
            voice: &tuning.voice,
            limits: tuning.limits,
            cancel_reasons: tuning.cancel_reasons.as_deref(),
            confidence: u.confidence,
            customer_cache: None,
            refused: false,
        };
        dialogue.respond(text, u).await
    }

    /// The turn when the LLM failed: the built-in engine answers, or a human takes over.
    async fn llm_fallback(
        &self,
        gate: &mut Gate<'_>,
        text: &str,
        u: &Understanding,
        failure: LlmFailure,
        tuning: &Tuning,
    ) -> Turn {
        let done = failure
            .done
            .map(|d| format!("{} I did this: {d}. ", tuning.voice.ok()))
            .unwrap_or_default();
        match tuning.brain.on_failure {
            OnLlmFailure::Handoff => Turn {
                reply: format!(
                    "{done}I'm connecting you with a member of our team. They'll see everything we've discussed."
                ),
                outcome: Outcome::Escalate(format!("the AI provider failed: {}", failure.error)),
            },
            OnLlmFailure::Offline if !done.is_empty() => Turn {
                reply: format!("{done}{}", tuning.voice.anything_else()),
                outcome: Outcome::Continue,
            },
            OnLlmFailure::Offline => self.offline_turn(gate, text, u, tuning).await,
        }
    }
}

impl Agent {
    /// Applies a staff action to a conversation under its turn lock and stores it with `message`.
    async fn staff_action(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        apply: impl FnOnce(&mut Conversation, &mut DialogueState) -> Result<Option<(Author, String)>>,
    ) -> Result<(Conversation, Option<Message>)> {
        self.staff_action_delivering(tenant, id, apply, |_, _| None)
            .await
    }

    /// [`Agent::staff_action`]; `deliver` may turn the stored message into an
    /// outbox delivery, saved in the same transaction.
    async fn staff_action_delivering(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        apply: impl FnOnce(&mut Conversation, &mut DialogueState) -> Result<Option<(Author, String)>>,
        deliver: impl FnOnce(&Conversation, &Message) -> Option<NewDelivery>,
    ) -> Result<(Conversation, Option<Message>)> {
        let lock = self.lock_for(tenant, id);
        let _serial = lock.lock().await;
        let mut c = self
            .store
            .conversation(tenant, id)
            .await?
            .ok_or_else(|| Error::ConversationNotFound(id.clone()))?;
        let expected = c.version;
        let mut state: DialogueState = serde_json::from_value(c.state.clone()).unwrap_or_default();
        let message = apply(&mut c, &mut state)?;
        let now = now_ms();
        let mut messages = Vec::new();
        if let Some((author, text)) = message {
            messages.push(Message {
                seq: c.message_count + 1,
                author,
                text,
                at_ms: now,
                intent: None,
                confidence: None,
                tool_calls: vec![],
                brain: None,
                usage: None,
            });
            c.message_count += 1;
        }
        c.state = serde_json::to_value(&state).unwrap_or_default();
        c.version += 1;
        c.updated_at_ms = now;
        let delivery = messages.last().and_then(|m| deliver(&c, m));
        self.store
            .save_turn(&TurnWrite::new(&c, expected, &messages).delivering(delivery.as_ref()))
            .await?;
        Ok((c, messages.pop()))
    }

    /// A human agent writes to the customer; an open conversation is taken over (escalated) first.
    pub async fn human_reply(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        agent: &str,
        text: &str,
    ) -> Result<Conversation> {
        self.human_reply_delivering(tenant, id, agent, text, |_, _| None)
            .await
    }

    /// The agent writes first (a trigger's proactive message): `text` is
    /// stored as the agent's message on the conversation, which stays with
    /// the AI, and `deliver` queues it on the conversation's channel in the
    /// same transaction. The customer's reply continues the conversation.
    pub async fn proactive_message_delivering(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        text: &str,
        deliver: impl FnOnce(&Conversation, &Message) -> Option<NewDelivery>,
    ) -> Result<Conversation> {
        let text = clean(text)?;
        let (c, message) = self
            .staff_action_delivering(
                tenant,
                id,
                |c, _| {
                    if !c.status.accepts_messages() {
                        return Err(Error::ConversationClosed(c.id.clone(), c.status.as_str()));
                    }
                    Ok(Some((Author::Agent, text)))
                },
                deliver,
            )
            .await?;
        self.emit_message("message.proactive", &c, message);
        Ok(c)
    }

    /// [`Agent::human_reply`]; `deliver` builds the outbox delivery that
    /// carries the stored reply to the customer's channel (SMS, email), stored
    /// in the same transaction as the message, or `None` to deliver nothing.
    pub async fn human_reply_delivering(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        agent: &str,
        text: &str,
        deliver: impl FnOnce(&Conversation, &Message) -> Option<NewDelivery>,
    ) -> Result<Conversation> {
        let text = clean(text)?;
        let agent = agent.to_string();
        let mut taken_over = false;
        let (c, message) = self
            .staff_action_delivering(
                tenant,
                id,
                |c, state| {
                    if !c.status.accepts_messages() {
                        return Err(Error::ConversationClosed(c.id.clone(), c.status.as_str()));
                    }
                    if c.status == ConversationStatus::Open {
                        taken_over = true;
                        c.status = ConversationStatus::Escalated;
                        c.escalation = Some(Escalation {
                            reason: format!("taken over by {agent}"),
                            summary: summary(state, ""),
                            at_ms: now_ms(),
                        });
                        state.proposal = None;
                    }
                    c.first_response_at_ms.get_or_insert(now_ms());
                    Ok(Some((Author::Human, text)))
                },
                deliver,
            )
            .await?;
        if taken_over {
            self.emit("conversation.escalated", &c);
        }
        self.emit_message("message.human", &c, message);
        Ok(c)
    }

    /// Hands an escalated conversation back to the AI.
    pub async fn hand_back(&self, tenant: &TenantId, id: &ConversationId) -> Result<Conversation> {
        let (c, _) = self
            .staff_action(tenant, id, |c, state| {
                if c.status != ConversationStatus::Escalated {
                    return Err(Error::InvalidMessage(format!(
                        "conversation is {}, not escalated",
                        c.status
                    )));
                }
                c.status = ConversationStatus::Open;
                state.failures = 0;
                state.out_of_scope = 0;
                state.proposal = None;
                Ok(Some((
                    Author::System,
                    "You're back with our AI assistant. How else can I help?".into(),
                )))
            })
            .await?;
        self.emit("conversation.handed_back", &c);
        Ok(c)
    }

    /// Closes a conversation as resolved or abandoned.
    pub async fn close(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        status: ConversationStatus,
    ) -> Result<Conversation> {
        if !matches!(
            status,
            ConversationStatus::Resolved | ConversationStatus::Abandoned
        ) {
            return Err(Error::InvalidMessage(
                "a conversation closes as resolved or abandoned".into(),
            ));
        }
        let (c, _) = self
            .staff_action(tenant, id, |c, _| {
                if !c.status.accepts_messages() {
                    return Err(Error::ConversationClosed(c.id.clone(), c.status.as_str()));
                }
                c.status = status;
                c.closed_at_ms = Some(now_ms());
                Ok(None)
            })
            .await?;
        let event = if status == ConversationStatus::Resolved {
            "conversation.resolved"
        } else {
            "conversation.abandoned"
        };
        self.emit(event, &c);
        Ok(c)
    }

    /// Marks the tenant's open conversations idle since before `idle_before_ms` as abandoned.
    /// Returns how many were closed.
    pub async fn abandon_idle(&self, tenant: &TenantId, idle_before_ms: i64) -> Result<usize> {
        let mut stale = Vec::new();
        let mut page =
            hc_commerce::PageRequest::new(None, Some(hc_commerce::PageRequest::MAX_LIMIT));
        loop {
            let batch = self
                .store
                .list_conversations(tenant, Some(ConversationStatus::Open), &page)
                .await?;
            stale.extend(
                batch
                    .items
                    .iter()
                    .filter(|c| c.updated_at_ms < idle_before_ms)
                    .map(|c| c.id.clone()),
            );
            match batch.next_cursor {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let mut closed = 0;
        for id in stale {
            // A message that arrived meanwhile wins: the conversation is no longer open or idle.
            match self.close(tenant, &id, ConversationStatus::Abandoned).await {
                Ok(_) => closed += 1,
                Err(Error::ConversationClosed(..))
                | Err(Error::Store(hc_commerce::StoreError::Conflict(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }

    /// Counts and rates over the tenant's conversations updated since `since_ms`.
    pub async fn stats(&self, tenant: &TenantId, since_ms: i64) -> Result<Stats> {
        let mut s = Stats::default();
        let (mut first_sum, mut first_n, mut res_sum, mut res_n, mut rating_sum) =
            (0.0, 0u64, 0.0, 0u64, 0.0);
        let mut resolved_by_ai = 0u64;
        let mut page =
            hc_commerce::PageRequest::new(None, Some(hc_commerce::PageRequest::MAX_LIMIT));
        'pages: loop {
            let batch = self.store.list_conversations(tenant, None, &page).await?;
            for c in &batch.items {
                if c.updated_at_ms < since_ms {
                    break 'pages;
                }
                s.conversations += 1;
                match c.status {
                    ConversationStatus::Open => s.open += 1,
                    ConversationStatus::Resolved => s.resolved += 1,
                    ConversationStatus::Escalated => s.escalated += 1,
                    ConversationStatus::Abandoned => s.abandoned += 1,
                }
                if c.status == ConversationStatus::Resolved && c.escalation.is_none() {
                    resolved_by_ai += 1;
                }
                if let Some(first) = c.first_response_at_ms {
                    first_sum += (first - c.created_at_ms) as f64;
                    first_n += 1;
                }
                if let (ConversationStatus::Resolved, Some(closed)) = (c.status, c.closed_at_ms) {
                    res_sum += (closed - c.created_at_ms) as f64;
                    res_n += 1;
                }
                if let Some(r) = c.satisfaction {
                    rating_sum += f64::from(r);
                    s.ratings += 1;
                }
                s.llm += c.usage;
            }
            match batch.next_cursor {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let decided = s.resolved + s.escalated + s.abandoned;
        if decided > 0 {
            s.resolved_by_ai_rate = resolved_by_ai as f64 / decided as f64;
        }
        if s.conversations > 0 {
            s.escalation_rate = s.escalated as f64 / s.conversations as f64;
        }
        s.csat = (s.ratings > 0).then(|| rating_sum / s.ratings as f64);
        s.avg_first_response_ms = (first_n > 0).then(|| first_sum / first_n as f64);
        s.avg_resolution_ms = (res_n > 0).then(|| res_sum / res_n as f64);
        Ok(s)
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
