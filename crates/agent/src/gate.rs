//! The policy gate: every tool call a brain makes inside a conversation goes
//! through here, whichever brain asks (the offline engine or an LLM). The
//! gate, not the brain, enforces SPEC §5's conversation policy:
//!
//! - account data only after the customer is authenticated, and only their
//!   own records (another customer's order looks exactly like a missing one);
//! - one customer per conversation;
//! - a write runs only if the customer explicitly confirmed that exact call
//!   (the same tool and arguments) in their last message. A yes to several
//!   actions read back together confirms each of them, once, and nothing
//!   else: [`DialogueState::confirmed`] holds one fingerprint per action read
//!   back and named in the yes, and each call uses up its own.
//!
//! Every call, allowed or refused, is recorded with the engine's confidence.
//!
//! Besides the retail tools of `hc-commerce`, the gate runs
//! [`KNOWLEDGE_TOOL`] (`search_knowledge_base`) over the merchant's articles
//! when the agent has a knowledge base: public information, so it needs no
//! authentication.
//!
//! [`LOYALTY_TOOL`] (`loyalty_balance`) reads the authenticated customer's
//! own points when the agent has a loyalty ledger.
//!
//! Long-term memory is read through [`Gate::recall`] under the same rule as
//! account data: only the authenticated customer's own facts.

use hc_commerce::{Actor, Tools};
use hc_domain::{CustomerFact, OrderId, ToolCallRecord, ToolError, UserId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::memory::Memory;
use crate::ports::{KnowledgeSearch, LoyaltyPoints};
use crate::state::DialogueState;

/// The knowledge-base tool's name.
pub const KNOWLEDGE_TOOL: &str = "search_knowledge_base";
/// The loyalty-balance tool's name.
pub const LOYALTY_TOOL: &str = "loyalty_balance";

/// [`LOYALTY_TOOL`]'s name, description and JSON schema.
pub fn loyalty_tool_spec() -> crate::llm::ToolSpec {
    crate::llm::ToolSpec {
        name: LOYALTY_TOOL.to_string(),
        description: "The authenticated customer's loyalty points at this shop: spendable points, what they are worth as a discount, the currency, their tier, the next points to expire (unix time), and the program's rules (the largest share of an order points may pay).".to_string(),
        parameters: json!({
            "type": "object",
            "properties": {
                "user_id": {"type": "string", "description": "The customer's user id."},
                "order_total": {"type": "number", "description": "An order's total: also returns usable_points and usable_discount, the points that may pay part of it (pass them as place_order's loyalty_points)."}
            },
            "required": ["user_id"],
            "additionalProperties": false
        }),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoyaltyArgs {
    user_id: UserId,
    #[serde(default)]
    order_total: Option<hc_domain::Money>,
}

/// Hits returned when the caller does not say.
const KNOWLEDGE_DEFAULT_HITS: usize = 3;

/// [`KNOWLEDGE_TOOL`]'s name, description and JSON schema, for brains that pick tools.
pub fn knowledge_tool_spec() -> crate::llm::ToolSpec {
    crate::llm::ToolSpec {
        name: KNOWLEDGE_TOOL.to_string(),
        description: "Search the shop's help articles (shipping, returns and refunds, exchanges, cancellations, payment methods, warranty, contact) for a policy question. Returns the best articles with a matching passage; answer from the passage and cite the article's title.".to_string(),
        parameters: json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "The customer's question or its key words, e.g. 'refund time to credit card'."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 10, "description": "At most this many articles (default 3)."}
            },
            "required": ["query"],
            "additionalProperties": false
        }),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeArgs {
    query: String,
    limit: Option<usize>,
}

const ORDER_TOOLS: [&str; 8] = [
    "get_order_details",
    "track_order",
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "exchange_delivered_order_items",
    "return_delivered_order_items",
];
const USER_TOOLS: [&str; 8] = [
    LOYALTY_TOOL,
    "get_user_details",
    "modify_user_address",
    "place_order",
    "add_to_cart",
    "remove_from_cart",
    "view_cart",
    "checkout_cart",
];
/// Writes that buy or change nothing yet, so they need no confirmation.
const UNCONFIRMED_WRITES: [&str; 2] = ["add_to_cart", "remove_from_cart"];
const LOOKUP_TOOLS: [&str; 2] = ["find_user_id_by_email", "find_user_id_by_name_zip"];

/// A stable fingerprint of a tool call, for matching confirmations.
pub fn fingerprint(name: &str, arguments: &Value) -> String {
    format!("{name}:{arguments}")
}

fn refusal(code: &str, message: &str) -> ToolError {
    ToolError {
        code: code.into(),
        message: message.into(),
    }
}

/// Runs tools for one conversation turn under the policy.
pub struct Gate<'a> {
    tools: &'a Tools,
    knowledge: Option<&'a dyn KnowledgeSearch>,
    loyalty: Option<&'a dyn LoyaltyPoints>,
    actor: Actor,
    pub(crate) state: &'a mut DialogueState,
    pub(crate) calls: Vec<ToolCallRecord>,
    memory: Option<&'a Memory>,
    /// The customer's facts, read at most once per turn.
    facts: Option<Vec<CustomerFact>>,
    /// Facts derived during the turn, stored with it.
    learned: Vec<CustomerFact>,
}

impl<'a> Gate<'a> {
    pub fn new(tools: &'a Tools, actor: Actor, state: &'a mut DialogueState) -> Self {
        Self {
            tools,
            knowledge: None,
            loyalty: None,
            actor,
            state,
            calls: Vec::new(),
            memory: None,
            facts: None,
            learned: Vec::new(),
        }
    }

    /// The tool registry behind the gate (its specs are what a brain may call).
    pub fn tools(&self) -> &Tools {
        self.tools
    }

    /// Makes [`KNOWLEDGE_TOOL`] available through this gate.
    pub fn with_knowledge(mut self, knowledge: Option<&'a dyn KnowledgeSearch>) -> Self {
        self.knowledge = knowledge;
        self
    }

    /// Whether [`KNOWLEDGE_TOOL`] is available.
    pub fn has_knowledge(&self) -> bool {
        self.knowledge.is_some()
    }

    /// Makes [`LOYALTY_TOOL`] available through this gate.
    pub fn with_loyalty(mut self, loyalty: Option<&'a dyn LoyaltyPoints>) -> Self {
        self.loyalty = loyalty;
        self
    }

    /// Whether [`LOYALTY_TOOL`] is available.
    pub fn has_loyalty(&self) -> bool {
        self.loyalty.is_some()
    }

    /// Gives the brain read access to long-term memory (see [`Gate::recall`]).
    pub fn with_memory(mut self, memory: Option<&'a Memory>) -> Self {
        self.memory = memory;
        self
    }

    /// The authenticated customer's long-term memory, newest first: empty
    /// without a memory store, refused before authentication. The first read
    /// in a conversation first learns from the customer's orders.
    pub async fn recall(&mut self) -> Result<Vec<CustomerFact>, ToolError> {
        let Some(customer) = self.state.customer.clone() else {
            return Err(refusal(
                "authentication_required",
                "the customer must be identified (email, or name and zip) first",
            ));
        };
        let Some(memory) = self.memory else {
            return Ok(Vec::new());
        };
        if self.facts.is_none() {
            let mut facts = memory.recall(&self.actor, &customer).await;
            if !self.state.memory_from_orders {
                self.state.memory_from_orders = true;
                let fresh = memory
                    .learn_from_orders(&self.actor, &customer, &facts)
                    .await;
                for f in &fresh {
                    hc_domain::merge_fact(&mut facts, f.clone());
                }
                // Newest first, as stored facts are recalled.
                facts.sort_by_key(|f| std::cmp::Reverse(f.learned_at_ms));
                self.learned.extend(fresh);
            }
            self.facts = Some(facts);
        }
        Ok(self.facts.clone().unwrap_or_default())
    }

    /// The dialogue state the gate enforces (and updates on identification).
    pub fn state_mut(&mut self) -> &mut DialogueState {
        self.state
    }

    /// Checks the policy, runs the tool, records the call. The error is what
    /// the brain sees (and may phrase for the customer).
    pub async fn call(
        &mut self,
        name: &str,
        arguments: Value,
        confidence: f32,
    ) -> Result<Value, ToolError> {
        let result = match self.check(name, &arguments).await {
            Ok(()) => self.run(name, &arguments).await,
            Err(e) => Err(e),
        };
        self.calls.push(ToolCallRecord {
            name: name.to_string(),
            arguments,
            output: result.as_ref().ok().cloned(),
            error: result.as_ref().err().cloned(),
            confidence,
        });
        result
    }

    async fn search_knowledge(&self, arguments: &Value) -> Result<Value, ToolError> {
        let Some(knowledge) = self.knowledge else {
            return Err(refusal("unknown_tool", "this agent has no knowledge base"));
        };
        let args = KnowledgeArgs::deserialize(arguments)
            .map_err(|e| refusal("invalid_arguments", &e.to_string()))?;
        let limit = args.limit.unwrap_or(KNOWLEDGE_DEFAULT_HITS).clamp(1, 10);
        let hits = knowledge
            .search(&self.actor.tenant, &args.query, limit)
            .await?;
        Ok(serde_json::to_value(hits).unwrap_or(Value::Null))
    }

    async fn run(&mut self, name: &str, arguments: &Value) -> Result<Value, ToolError> {
        if name == KNOWLEDGE_TOOL {
            return self.search_knowledge(arguments).await;
        }
        if name == LOYALTY_TOOL {
            let Some(loyalty) = self.loyalty else {
                return Err(refusal(
                    "unknown_tool",
                    "this shop has no loyalty program here",
                ));
            };
            let args = LoyaltyArgs::deserialize(arguments)
                .map_err(|e| refusal("invalid_arguments", &e.to_string()))?;
            return loyalty
                .balance(&self.actor.tenant, &args.user_id, args.order_total)
                .await;
        }
        let out = self
            .tools
            .call(&self.actor, name, arguments.clone())
            .await
            .map_err(|e| refusal(e.code(), &e.to_string()))?;
        let value: Value = serde_json::from_str(out.get()).unwrap_or(Value::Null);
        if LOOKUP_TOOLS.contains(&name) {
            let found = value.as_str().and_then(|s| UserId::parse(s).ok());
            match (&self.state.customer, found) {
                (Some(current), Some(found)) if current != &found => {
                    return Err(refusal(
                        "one_customer_per_conversation",
                        "this conversation already belongs to another customer",
                    ));
                }
                (None, Some(found)) => self.state.customer = Some(found),
                _ => {}
            }
        }
        Ok(value)
    }

    async fn check(&mut self, name: &str, arguments: &Value) -> Result<(), ToolError> {
        // Recommendations for a named customer are derived from their purchases.
        let personal = name == "recommend_products" && !arguments["user_id"].is_null();
        let is_account = ORDER_TOOLS.contains(&name) || USER_TOOLS.contains(&name) || personal;
        if !is_account {
            return Ok(());
        }
        let Some(customer) = self.state.customer.clone() else {
            return Err(refusal(
                "authentication_required",
                "the customer must be identified (email, or name and zip) first",
            ));
        };
        if (USER_TOOLS.contains(&name) || personal)
            && arguments["user_id"].as_str() != Some(customer.as_str())
        {
            return Err(refusal("user_not_found", "no such customer"));
        }
        if ORDER_TOOLS.contains(&name) {
            let owned = match arguments["order_id"]
                .as_str()
                .and_then(|s| OrderId::parse(s).ok())
            {
                Some(id) => self
                    .tools
                    .retail()
                    .order(&self.actor, &id)
                    .await
                    .is_ok_and(|o| o.user_id == customer),
                None => false,
            };
            if !owned {
                // Someone else's order is indistinguishable from a missing one.
                return Err(refusal(
                    "order_not_found",
                    "no such order for this customer",
                ));
            }
        }
        let is_write = self
            .tools
            .spec(name)
            .is_some_and(|s| s.kind == hc_commerce::ToolKind::Write)
            && !UNCONFIRMED_WRITES.contains(&name);
        if is_write {
            let wanted = fingerprint(name, arguments);
            let Some(at) = self.state.confirmed.iter().position(|c| *c == wanted) else {
                return Err(refusal(
                    "confirmation_required",
                    "the customer has not explicitly confirmed this exact action",
                ));
            };
            // A confirmation authorises one call.
            self.state.confirmed.remove(at);
        }
        Ok(())
    }

    /// Calls made so far in this turn.
    pub fn into_calls(self) -> Vec<ToolCallRecord> {
        self.calls
    }

    /// The tool calls, and the facts about the customer derived during the
    /// turn (to be stored with it).
    pub fn into_parts(self) -> (Vec<ToolCallRecord>, Vec<CustomerFact>) {
        (self.calls, self.learned)
    }
}

/// A compact JSON of the arguments of an address-changing tool.
pub fn address_arguments(key: &str, id: &str, a: &hc_domain::Address) -> Value {
    json!({key: id, "address1": a.address1, "address2": a.address2, "city": a.city,
           "state": a.state, "country": a.country, "zip": a.zip})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self, BOTTLE_ORDER, LAMP_ORDER, SHIRT_ORDER, USER};

    fn cancel(order: &str) -> Value {
        json!({"order_id": order, "reason": "no longer needed"})
    }

    #[tokio::test]
    async fn a_yes_to_several_actions_authorises_each_once_and_nothing_else() {
        let store = testkit::MemStore::new(testkit::shop());
        let tools = testkit::tools(&store);
        let mut state = DialogueState {
            customer: Some(UserId::parse(USER).unwrap()),
            ..DialogueState::default()
        };
        let ret = json!({"order_id": SHIRT_ORDER, "item_ids": [testkit::SHIRT],
                         "payment_method_id": "paypal_7000001"});
        // Read back and confirmed: the lamp order's cancellation and the return.
        state.confirmed = vec![
            fingerprint("cancel_pending_order", &cancel(LAMP_ORDER)),
            fingerprint("return_delivered_order_items", &ret),
        ];
        let mut gate = Gate::new(&tools, testkit::actor(), &mut state);

        // A write that was not read back is refused, even beside confirmed ones.
        let other = gate
            .call("cancel_pending_order", cancel(BOTTLE_ORDER), 1.0)
            .await
            .unwrap_err();
        assert_eq!(other.code, "confirmation_required");
        // So is a read-back action with other arguments (another refund method).
        let mut changed = ret.clone();
        changed["payment_method_id"] = json!("gift_card_7000001");
        let e = gate
            .call("return_delivered_order_items", changed, 1.0)
            .await
            .unwrap_err();
        assert_eq!(e.code, "confirmation_required");

        gate.call("cancel_pending_order", cancel(LAMP_ORDER), 1.0)
            .await
            .expect("confirmed");
        // Each confirmation is used up by its call.
        let again = gate
            .call("cancel_pending_order", cancel(LAMP_ORDER), 1.0)
            .await
            .unwrap_err();
        assert_eq!(again.code, "confirmation_required");
        gate.call("return_delivered_order_items", ret, 1.0)
            .await
            .expect("confirmed");
        assert!(gate.state.confirmed.is_empty());
        let db = store.snapshot();
        let bottle = hc_domain::OrderId::parse(BOTTLE_ORDER).unwrap();
        assert_eq!(
            serde_json::to_value(db.orders[&bottle].status).unwrap(),
            json!("pending"),
            "the write that was not read back changed nothing"
        );
    }

    #[test]
    fn a_confirmation_stored_as_one_fingerprint_still_reads() {
        let stored = |confirmed: Option<Value>| -> DialogueState {
            let mut v = serde_json::to_value(DialogueState::default()).unwrap();
            match confirmed {
                Some(c) => v["confirmed"] = c,
                None => {
                    v.as_object_mut().unwrap().remove("confirmed");
                }
            }
            serde_json::from_value(v).unwrap()
        };
        assert_eq!(
            stored(Some(json!("cancel:x"))).confirmed,
            vec!["cancel:x".to_string()]
        );
        assert!(stored(Some(Value::Null)).confirmed.is_empty());
        assert!(stored(None).confirmed.is_empty());
        assert_eq!(stored(Some(json!(["a", "b"]))).confirmed.len(), 2);
    }
}
