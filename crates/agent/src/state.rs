//! Short-term memory: the dialogue state carried between turns (stored with
//! the conversation). Long-term memory is in [`crate::memory`].

use hc_domain::{Address, ItemId, OrderId, PaymentMethodId, UserId};

use crate::nlu::entities::PaymentHint;
use crate::nlu::intents::Intent;
use serde::{Deserialize, Serialize};

/// What the customer is trying to get done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalKind {
    OrderStatus,
    Track,
    Cancel,
    Return,
    Exchange,
    ModifyItems,
    ModifyOrderAddress,
    ModifyPayment,
    ChangeDefaultAddress,
    Buy,
    /// The customer's loyalty points.
    Loyalty,
}

impl GoalKind {
    /// Whether the goal needs a specific order.
    pub fn needs_order(self) -> bool {
        !matches!(
            self,
            GoalKind::ChangeDefaultAddress | GoalKind::Buy | GoalKind::Loyalty
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            GoalKind::OrderStatus => "check an order's status",
            GoalKind::Track => "track an order",
            GoalKind::Cancel => "cancel an order",
            GoalKind::Return => "return items",
            GoalKind::Exchange => "exchange items",
            GoalKind::ModifyItems => "change items in a pending order",
            GoalKind::ModifyOrderAddress => "change an order's shipping address",
            GoalKind::ModifyPayment => "change an order's payment method",
            GoalKind::ChangeDefaultAddress => "change their default address",
            GoalKind::Buy => "buy a product",
            GoalKind::Loyalty => "check their loyalty points",
        }
    }
}

/// A goal and the slots collected for it so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub kind: GoalKind,
    pub order_id: Option<OrderId>,
    pub reason: Option<String>,
    pub items: Vec<ItemId>,
    pub new_items: Vec<ItemId>,
    pub payment: Option<PaymentMethodId>,
    pub address: Option<Address>,
    /// The product being bought.
    #[serde(default)]
    pub product_id: Option<hc_domain::ProductId>,
    /// Units to buy.
    #[serde(default)]
    pub quantity: Option<u32>,
    /// What the customer said while pursuing this goal, for resolving "the sneakers".
    #[serde(default)]
    pub context: String,
    /// A size remembered from last time, offered and awaiting a yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_offer: Option<String>,
    /// A remembered size was offered for this goal (offered once only).
    #[serde(default)]
    pub memory_offered: bool,
    /// The payment method as the customer named it, kept until the order
    /// (and so the customer's methods) is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_hint: Option<PaymentHint>,
}

impl Goal {
    pub fn new(kind: GoalKind) -> Self {
        Self {
            kind,
            order_id: None,
            reason: None,
            items: Vec::new(),
            new_items: Vec::new(),
            payment: None,
            address: None,
            product_id: None,
            quantity: None,
            context: String::new(),
            memory_offer: None,
            memory_offered: false,
            payment_hint: None,
        }
    }
}

/// A fully specified write, stated to the customer and awaiting an explicit yes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub tool: String,
    pub arguments: serde_json::Value,
    /// The exact action as told to the customer.
    pub description: String,
    /// Further writes asked for in the same message, each fully specified
    /// and read back with this one in a numbered list: one yes covers
    /// exactly these and this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<FurtherAction>,
}

impl Proposal {
    pub fn new(tool: impl Into<String>, arguments: serde_json::Value, description: String) -> Self {
        Self {
            tool: tool.into(),
            arguments,
            description,
            also: Vec::new(),
        }
    }

    /// Every action read back, in the order told: this one, then the further ones.
    pub fn actions(&self) -> Vec<Action<'_>> {
        std::iter::once(Action {
            tool: &self.tool,
            arguments: &self.arguments,
            description: &self.description,
        })
        .chain(self.also.iter().map(|a| Action {
            tool: &a.tool,
            arguments: &a.arguments,
            description: &a.description,
        }))
        .collect()
    }
}

/// One write of a [`Proposal`], as read back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Action<'a> {
    pub tool: &'a str,
    pub arguments: &'a serde_json::Value,
    pub description: &'a str,
}

/// A write read back together with a [`Proposal`]'s first one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FurtherAction {
    pub tool: String,
    pub arguments: serde_json::Value,
    pub description: String,
    /// The request it answers, queued again when the customer changes the
    /// proposal instead of answering it.
    pub request: QueuedRequest,
}

/// Everything the engine remembers between turns of one conversation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DialogueState {
    /// The authenticated customer. Set only by a successful lookup tool.
    pub customer: Option<UserId>,
    pub goal: Option<Goal>,
    pub proposal: Option<Proposal>,
    /// The fingerprints of the writes the customer just confirmed: the
    /// actions read back and named in the yes. The gate lets each run once.
    #[serde(default, deserialize_with = "one_or_many")]
    pub confirmed: Vec<String>,
    /// Consecutive turns the engine could not make progress on.
    pub failures: u32,
    /// Declined out-of-scope requests so far.
    pub out_of_scope: u32,
    /// What was looked up and done, for the handoff summary.
    pub log: Vec<String>,
    /// The satisfaction question has been asked.
    pub awaiting_rating: bool,
    /// A name given without a zip, kept until the zip arrives.
    #[serde(default)]
    pub pending_name: Option<(String, String)>,
    /// The last reply, to notice when the engine repeats itself.
    #[serde(default)]
    pub last_reply: String,
    /// The LLM brain answered the last turn (hybrid mode keeps its thread going).
    #[serde(default)]
    pub llm_active: bool,
    /// Further requests from one message, handled once the current goal is done.
    #[serde(default)]
    pub queue: Vec<QueuedRequest>,
    /// Facts were already derived from the customer's orders in this conversation.
    #[serde(default)]
    pub memory_from_orders: bool,
    /// The order of the last write done, for a follow-up request about the
    /// same order ("… and charge my visa instead").
    #[serde(default)]
    pub last_order: Option<OrderId>,
}

/// `confirmed` as stored before a yes could cover several actions (one
/// fingerprint or none) or as a list.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Stored>::deserialize(d)? {
        None => Vec::new(),
        Some(Stored::One(f)) => vec![f],
        Some(Stored::Many(f)) => f,
    })
}

/// A request made in the same message as another, waiting its turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedRequest {
    /// The task; `None` for a question ([`QueuedRequest::question`]).
    #[serde(default)]
    pub kind: Option<GoalKind>,
    /// A question to answer (a product or policy question), when not a task.
    #[serde(default)]
    pub question: Option<Intent>,
    /// The clause that asked for it.
    pub text: String,
    /// An address given elsewhere in the message ("… and send my order there").
    #[serde(default)]
    pub address: Option<Address>,
    /// About the same order as the request before it.
    #[serde(default)]
    pub same_order: bool,
    /// The order it is about, when already known ("cancel both orders": the
    /// second one waits here).
    #[serde(default)]
    pub order_id: Option<OrderId>,
}

impl QueuedRequest {
    pub fn task(kind: GoalKind, text: impl Into<String>) -> Self {
        Self {
            kind: Some(kind),
            question: None,
            text: text.into(),
            address: None,
            same_order: false,
            order_id: None,
        }
    }
}
