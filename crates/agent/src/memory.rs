//! Long-term memory: facts about each customer, learned from their orders and
//! conversations and kept per tenant ([`MemoryStore`]), used the next time they
//! talk to the agent ("last time your jacket was an M").
//!
//! - Learning from orders: once per conversation, when the customer is
//!   identified, the size- and colour-like options of the most recent unit of
//!   each product type they kept (not cancelled, not returned; an exchange's
//!   new variant counts) become `size`/`color` facts with the order as source.
//! - Learning from a turn: a successful write (returned, exchanged or
//!   cancelled items become issues; variants chosen in an exchange, an item
//!   change or a purchase become sizes and colours), a rating (`N/5`) and an
//!   escalation (an issue with the reason).
//! - Using it: [`acknowledgement`] after identification (a low rating or an
//!   escalation last time), [`size_offer`] when a variant is being chosen, and
//!   [`memory_summary`] for a language model's system prompt. Brains read
//!   memory only through [`crate::gate::Gate::recall`], which refuses before
//!   the customer is authenticated.
//!
//! Learning never fails a turn: a storage error is logged and the turn goes on.

use std::collections::HashMap;
use std::sync::Arc;

use hc_commerce::{Actor, Retail};
use hc_domain::{
    Conversation, CustomerFact, FactKind, ItemId, Order, OrderStatus, ToolCallRecord, UserId,
    merge_fact, now_ms,
};
use serde_json::Value;

use crate::dialogue::Outcome;
use crate::ports::MemoryStore;
use crate::state::DialogueState;

/// An issue fact's value starts with this when the conversation went to a human.
pub const ESCALATED: &str = "escalated to a human";
/// Ratings at or below this are acknowledged next time.
pub const LOW_RATING: u8 = 2;

/// Whether an option name is a size axis (`size`, `shoe size`, …).
fn is_size(option: &str) -> bool {
    option.to_lowercase().contains("size")
}

/// Whether an option name is a colour axis.
fn is_color(option: &str) -> bool {
    let o = option.to_lowercase();
    o.contains("color") || o.contains("colour")
}

/// Size and colour facts for one unit of a product type.
fn variant_facts(
    user: &UserId,
    product_type: &str,
    options: &[(String, String)],
    source: &str,
    at: i64,
) -> Vec<CustomerFact> {
    options
        .iter()
        .filter_map(|(name, value)| {
            let kind = if is_size(name) {
                FactKind::Size
            } else if is_color(name) {
                FactKind::Color
            } else {
                return None;
            };
            Some(CustomerFact::new(
                user.clone(),
                kind,
                product_type,
                value,
                source,
                at,
            ))
        })
        .collect()
}

fn pairs(options: &hc_domain::retail::Options) -> Vec<(String, String)> {
    options
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Size and colour facts from a customer's orders, oldest first (a later
/// order's unit wins). Cancelled orders and returned units are skipped; a
/// unit with a requested exchange counts as its new variant, whose options
/// `new_options` gives.
pub fn facts_from_orders(
    user: &UserId,
    orders: &[Order],
    new_options: &HashMap<ItemId, Vec<(String, String)>>,
    at: i64,
) -> Vec<CustomerFact> {
    let mut facts = Vec::new();
    for order in orders {
        if order.status == OrderStatus::Cancelled {
            continue;
        }
        let returned = order.return_items.as_deref().unwrap_or_default();
        let exchanged: HashMap<&ItemId, &ItemId> = order
            .exchange_items
            .iter()
            .flatten()
            .zip(order.exchange_new_items.iter().flatten())
            .collect();
        let source = format!("order:{}", order.order_id);
        for item in &order.items {
            if returned.contains(&item.item_id) {
                continue;
            }
            let options = exchanged
                .get(&item.item_id)
                .and_then(|new| new_options.get(*new))
                .cloned()
                .unwrap_or_else(|| pairs(&item.options));
            for f in variant_facts(user, &item.name, &options, &source, at) {
                merge_fact(&mut facts, f);
            }
        }
    }
    facts
}

/// What one successful write taught: issues for returns, exchanges and
/// cancellations; sizes and colours of the variants chosen. `new_options`
/// gives the options of the exchange's new variants (the order returned by an
/// exchange still lists the old ones).
pub fn facts_from_call(
    user: &UserId,
    call: &ToolCallRecord,
    source: &str,
    new_options: &HashMap<ItemId, Vec<(String, String)>>,
    at: i64,
) -> Vec<CustomerFact> {
    let Some(order) = call.output.as_ref().filter(|_| call.error.is_none()) else {
        return Vec::new();
    };
    let oid = order["order_id"].as_str().unwrap_or("?");
    let items: Vec<&Value> = order["items"].as_array().into_iter().flatten().collect();
    let ids = |key: &str| -> Vec<String> {
        call.arguments[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    let name_of = |id: &str| {
        items
            .iter()
            .find(|i| i["item_id"] == id)
            .and_then(|i| i["name"].as_str())
            .unwrap_or("item")
            .to_string()
    };
    let options_of = |item: &Value| -> Vec<(String, String)> {
        item["options"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect()
    };
    let issue =
        |value: String| CustomerFact::new(user.clone(), FactKind::Issue, "", &value, source, at);
    let count = |n: usize| format!("{n} item{}", if n == 1 { "" } else { "s" });
    let mut facts = Vec::new();
    match call.name.as_str() {
        "cancel_pending_order" => facts.push(issue(format!(
            "cancelled order {oid}: {}",
            call.arguments["reason"]
                .as_str()
                .unwrap_or("no reason given")
        ))),
        "return_delivered_order_items" => {
            let old = ids("item_ids");
            let names: Vec<String> = old.iter().map(|i| name_of(i)).collect();
            facts.push(issue(format!(
                "returned {} from order {oid}: {}",
                count(old.len()),
                names.join(", ")
            )));
        }
        "exchange_delivered_order_items" => {
            let (old, new) = (ids("item_ids"), ids("new_item_ids"));
            let mut names = Vec::new();
            for (o, n) in old.iter().zip(&new) {
                let name = name_of(o);
                let was: Vec<String> = items
                    .iter()
                    .find(|i| i["item_id"] == o.as_str())
                    .map(|i| options_of(i).into_iter().map(|(_, v)| v).collect())
                    .unwrap_or_default();
                let new_opts = ItemId::parse(n.as_str())
                    .ok()
                    .and_then(|id| new_options.get(&id))
                    .cloned()
                    .unwrap_or_default();
                let now: Vec<&str> = new_opts.iter().map(|(_, v)| v.as_str()).collect();
                names.push(format!("{name} ({} → {})", was.join(", "), now.join(", ")));
                facts.extend(variant_facts(user, &name, &new_opts, source, at));
            }
            facts.push(issue(format!(
                "exchanged {} in order {oid}: {}",
                count(old.len()),
                names.join("; ")
            )));
        }
        "modify_pending_order_items" | "place_order" => {
            let chosen: Vec<String> = if call.name == "place_order" {
                items
                    .iter()
                    .filter_map(|i| i["item_id"].as_str().map(String::from))
                    .collect()
            } else {
                ids("new_item_ids")
            };
            for item in items.iter().filter(|i| {
                i["item_id"]
                    .as_str()
                    .is_some_and(|id| chosen.iter().any(|c| c == id))
            }) {
                let name = item["name"].as_str().unwrap_or("item");
                facts.extend(variant_facts(user, name, &options_of(item), source, at));
            }
        }
        _ => {}
    }
    facts
}

/// What the conversation's end taught: the rating, or the escalation.
pub fn facts_from_outcome(
    user: &UserId,
    outcome: &Outcome,
    source: &str,
    at: i64,
) -> Option<CustomerFact> {
    match outcome {
        Outcome::Rated(r) => Some(CustomerFact::new(
            user.clone(),
            FactKind::Satisfaction,
            "",
            &format!("{r}/5"),
            source,
            at,
        )),
        Outcome::Escalate(reason) => Some(CustomerFact::new(
            user.clone(),
            FactKind::Issue,
            "",
            &format!("{ESCALATED}: {reason}"),
            source,
            at,
        )),
        Outcome::Continue | Outcome::Wrap => None,
    }
}

fn rating(f: &CustomerFact) -> Option<u8> {
    f.value.split('/').next()?.trim().parse().ok()
}

/// A short acknowledgement when the customer's last conversation ended badly
/// (rated [`LOW_RATING`] or lower, or handed to a human); `None` otherwise, so
/// ordinary replies stay as they are.
pub fn acknowledgement(facts: &[CustomerFact]) -> Option<&'static str> {
    let last = facts
        .iter()
        .filter(|f| f.source.starts_with("conversation:"))
        .max_by_key(|f| f.learned_at_ms)?;
    match last.kind {
        FactKind::Satisfaction if rating(last).is_some_and(|r| r <= LOW_RATING) => Some(
            "I'm sorry your last conversation with us didn't go well; I'll do my best to get things right this time.",
        ),
        FactKind::Issue if last.value.starts_with(ESCALATED) => Some(
            "I see your last conversation was passed to a colleague; I'm sorry if that isn't sorted yet, and I'm happy to help now.",
        ),
        _ => None,
    }
}

/// The remembered size for a product type, if any.
pub fn remembered_size<'f>(facts: &'f [CustomerFact], product_type: &str) -> Option<&'f str> {
    facts
        .iter()
        .filter(|f| f.kind == FactKind::Size && f.subject.eq_ignore_ascii_case(product_type.trim()))
        .max_by_key(|f| f.learned_at_ms)
        .map(|f| f.value.as_str())
}

fn article(size: &str) -> &'static str {
    let s = size.trim();
    let first = s.chars().next().unwrap_or('x').to_ascii_uppercase();
    let short = s.len() <= 4 && s.chars().all(|c| c.is_ascii_uppercase());
    let an = if short {
        "AEFHILMNORSX".contains(first)
    } else if s.chars().all(|c| c.is_ascii_digit()) {
        s.starts_with('8') || s == "11" || s == "18"
    } else {
        "AEIOU".contains(first)
    };
    if an { "an" } else { "a" }
}

/// "Last time your jacket was an M — want M again?"
pub fn size_offer(product_type: &str, size: &str) -> String {
    let thing = product_type.trim().to_lowercase();
    let verb = if thing.ends_with('s') && !thing.ends_with("ss") {
        "were"
    } else {
        "was"
    };
    format!(
        "Last time your {thing} {verb} {} {size} — want {size} again?",
        article(size)
    )
}

/// A short plain-text summary of what is known about the customer, for a
/// language model's system prompt; empty when nothing is known.
pub fn memory_summary(facts: &[CustomerFact]) -> String {
    let mut by_kind: Vec<&CustomerFact> = facts.iter().collect();
    by_kind.sort_by_key(|f| std::cmp::Reverse(f.learned_at_ms));
    let list = |kind: FactKind, limit: usize, with_subject: bool| -> Option<String> {
        let items: Vec<String> = by_kind
            .iter()
            .filter(|f| f.kind == kind)
            .take(limit)
            .map(|f| {
                if with_subject && !f.subject.is_empty() {
                    format!("{} {}", f.subject, f.value)
                } else {
                    f.value.clone()
                }
            })
            .collect();
        (!items.is_empty()).then(|| items.join(", "))
    };
    let parts: Vec<String> = [
        ("sizes", list(FactKind::Size, 8, true)),
        ("colours", list(FactKind::Color, 8, true)),
        ("preferences", list(FactKind::Preference, 5, true)),
        ("last rating", list(FactKind::Satisfaction, 1, false)),
        (
            "recent issues, newest first",
            list(FactKind::Issue, 3, false),
        ),
        ("notes", list(FactKind::Note, 3, true)),
    ]
    .into_iter()
    .filter_map(|(label, items)| items.map(|i| format!("{label}: {i}")))
    .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "Known about this customer from earlier orders and conversations: {}.",
        parts.join("; ")
    )
}

/// The memory the engine learns into and brains read from.
pub struct Memory {
    store: Arc<dyn MemoryStore>,
    retail: Retail,
}

impl Memory {
    pub fn new(store: Arc<dyn MemoryStore>, retail: Retail) -> Self {
        Self { store, retail }
    }

    pub fn store(&self) -> &Arc<dyn MemoryStore> {
        &self.store
    }

    /// Every fact about the customer, newest first; empty (and logged) if storage fails.
    pub async fn recall(&self, actor: &Actor, user: &UserId) -> Vec<CustomerFact> {
        match self.store.recall(&actor.tenant, user).await {
            Ok(facts) => facts,
            Err(e) => {
                tracing::warn!(tenant = %actor.tenant, error = %e, "memory recall failed");
                Vec::new()
            }
        }
    }

    /// Options of variants by item id, looked up in the catalog.
    async fn options_of(
        &self,
        actor: &Actor,
        ids: impl Iterator<Item = &ItemId>,
    ) -> HashMap<ItemId, Vec<(String, String)>> {
        let mut out = HashMap::new();
        for id in ids {
            if let Ok(v) = self.retail.item(actor, id).await {
                out.insert(id.clone(), pairs(&v.options));
            }
        }
        out
    }

    /// Size and colour facts derived from the customer's order history that
    /// `known` (what is stored) does not already hold. They are stored with
    /// the turn (see [`crate::ports::TurnWrite::learning`]), not here: the
    /// database has one writer, and identification is on a chat's hot path.
    pub async fn learn_from_orders(
        &self,
        actor: &Actor,
        user: &UserId,
        known: &[CustomerFact],
    ) -> Vec<CustomerFact> {
        let Ok(customer) = self.retail.customer(actor, user).await else {
            return Vec::new();
        };
        let mut orders = Vec::new();
        for id in &customer.orders {
            if let Ok(o) = self.retail.order(actor, id).await {
                orders.push(o);
            }
        }
        // `orders` lists them as placed; timestamps, where known, decide.
        orders.sort_by_key(|o| o.created_at_ms.unwrap_or(i64::MIN));
        let new_options = self
            .options_of(
                actor,
                orders
                    .iter()
                    .filter(|o| o.status == OrderStatus::ExchangeRequested)
                    .flat_map(|o| o.exchange_new_items.iter().flatten()),
            )
            .await;
        // Only what is new or changed is written.
        facts_from_orders(user, &orders, &new_options, now_ms())
            .into_iter()
            .filter(|f| !known.iter().any(|k| k.same_slot(f) && k.value == f.value))
            .collect()
    }

    /// What one finished turn of `conversation` taught (its customer may have
    /// been identified during the turn: `state.customer` is the one to use),
    /// to be stored with the turn. `learned` holds facts already derived
    /// during the turn (from the orders, when the brain read the memory).
    pub async fn learn_from_turn(
        &self,
        conversation: &Conversation,
        state: &mut DialogueState,
        calls: &[ToolCallRecord],
        outcome: &Outcome,
        learned: Vec<CustomerFact>,
    ) -> Vec<CustomerFact> {
        let Some(user) = state.customer.clone() else {
            return learned;
        };
        let actor = Actor::new(
            conversation.tenant_id.clone(),
            format!("agent:{}", conversation.id),
        );
        let mut out = learned;
        if !state.memory_from_orders {
            state.memory_from_orders = true;
            let known = self.recall(&actor, &user).await;
            out.extend(self.learn_from_orders(&actor, &user, &known).await);
        }
        let source = format!("conversation:{}", conversation.id);
        let at = now_ms();
        let exchanged: Vec<ItemId> = calls
            .iter()
            .filter(|c| c.name == "exchange_delivered_order_items" && c.error.is_none())
            .flat_map(|c| {
                c.arguments["new_item_ids"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|v| v.as_str().and_then(|s| ItemId::parse(s).ok()))
            .collect();
        let new_options = self.options_of(&actor, exchanged.iter()).await;
        let mut facts: Vec<CustomerFact> = calls
            .iter()
            .flat_map(|c| facts_from_call(&user, c, &source, &new_options, at))
            .collect();
        facts.extend(facts_from_outcome(&user, outcome, &source, at));
        out.extend(facts);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> UserId {
        UserId::parse("ava_moore_2033").unwrap()
    }

    fn order(id: &str, status: &str, items: Value) -> Order {
        serde_json::from_value(json!({
            "order_id": id, "user_id": "ava_moore_2033",
            "address": {"address1": "1 A St", "address2": "", "city": "X", "country": "USA",
                        "state": "TX", "zip": "78234"},
            "items": items, "status": status, "fulfillments": [],
            "payment_history": [{"transaction_type": "payment", "amount": 10,
                                 "payment_method_id": "gift_card_1"}]
        }))
        .unwrap()
    }

    fn item(id: &str, name: &str, size: &str, color: &str) -> Value {
        json!({"name": name, "product_id": "1000000001", "item_id": id, "price": 10,
               "options": {"size": size, "color": color, "material": "cotton"}})
    }

    fn value(facts: &[CustomerFact], kind: FactKind, subject: &str) -> Option<String> {
        facts
            .iter()
            .find(|f| f.kind == kind && f.subject == subject)
            .map(|f| f.value.clone())
    }

    #[test]
    fn orders_give_the_latest_kept_size_and_colour_per_product_type() {
        let orders = vec![
            order(
                "#W0000001",
                "delivered",
                json!([item("1000000011", "Jacket", "S", "red")]),
            ),
            order(
                "#W0000002",
                "delivered",
                json!([
                    item("1000000012", "Jacket", "M", "navy"),
                    item("1000000013", "T-Shirt", "L", "white")
                ]),
            ),
            // Cancelled: never worn, says nothing.
            order(
                "#W0000003",
                "cancelled",
                json!([item("1000000014", "Jacket", "XL", "black")]),
            ),
        ];
        let mut returned = order(
            "#W0000004",
            "return requested",
            json!([item("1000000015", "T-Shirt", "XS", "red")]),
        );
        returned.return_items = Some(vec![ItemId::parse("1000000015").unwrap()]);
        let mut all = orders;
        all.push(returned);
        let facts = facts_from_orders(&user(), &all, &HashMap::new(), 7);
        assert_eq!(
            value(&facts, FactKind::Size, "Jacket").as_deref(),
            Some("M")
        );
        assert_eq!(
            value(&facts, FactKind::Color, "Jacket").as_deref(),
            Some("navy")
        );
        assert_eq!(
            value(&facts, FactKind::Size, "T-Shirt").as_deref(),
            Some("L")
        );
        let jacket = facts
            .iter()
            .find(|f| f.kind == FactKind::Size && f.subject == "Jacket")
            .unwrap();
        assert_eq!(jacket.source, "order:#W0000002");
        assert!(
            facts
                .iter()
                .all(|f| matches!(f.kind, FactKind::Size | FactKind::Color)),
            "material is neither a size nor a colour"
        );
        assert_eq!(facts.len(), 4);
    }

    #[test]
    fn a_requested_exchange_counts_as_the_new_variant() {
        let mut o = order(
            "#W0000005",
            "exchange requested",
            json!([item("1000000021", "Jacket", "M", "navy")]),
        );
        let new = ItemId::parse("1000000022").unwrap();
        o.exchange_items = Some(vec![ItemId::parse("1000000021").unwrap()]);
        o.exchange_new_items = Some(vec![new.clone()]);
        let options = HashMap::from([(
            new,
            vec![
                ("size".to_string(), "L".to_string()),
                ("color".into(), "navy".into()),
            ],
        )]);
        let facts = facts_from_orders(&user(), &[o], &options, 1);
        assert_eq!(
            value(&facts, FactKind::Size, "Jacket").as_deref(),
            Some("L")
        );
    }

    #[test]
    fn writes_ratings_and_escalations_become_facts() {
        let out =
            json!({"order_id": "#W0000001", "items": [item("1000000031", "Jacket", "M", "navy")]});
        let call = |name: &str, args: Value| ToolCallRecord {
            name: name.into(),
            arguments: args,
            output: Some(out.clone()),
            error: None,
            confidence: 1.0,
        };
        let src = "conversation:conv_1";
        let cancel = facts_from_call(
            &user(),
            &call(
                "cancel_pending_order",
                json!({"order_id": "#W0000001", "reason": "ordered by mistake"}),
            ),
            src,
            &HashMap::new(),
            5,
        );
        assert_eq!(cancel.len(), 1);
        assert_eq!(cancel[0].kind, FactKind::Issue);
        assert!(
            cancel[0].value.contains("ordered by mistake"),
            "{}",
            cancel[0].value
        );
        let ret = facts_from_call(
            &user(),
            &call(
                "return_delivered_order_items",
                json!({"order_id": "#W0000001", "item_ids": ["1000000031"]}),
            ),
            src,
            &HashMap::new(),
            5,
        );
        assert_eq!(ret[0].value, "returned 1 item from order #W0000001: Jacket");
        let new = ItemId::parse("1000000032").unwrap();
        let opts = HashMap::from([(new, vec![("size".to_string(), "L".to_string())])]);
        let ex = facts_from_call(
            &user(),
            &call(
                "exchange_delivered_order_items",
                json!({"order_id": "#W0000001", "item_ids": ["1000000031"], "new_item_ids": ["1000000032"]}),
            ),
            src,
            &opts,
            5,
        );
        assert_eq!(value(&ex, FactKind::Size, "Jacket").as_deref(), Some("L"));
        let issue = ex.iter().find(|f| f.kind == FactKind::Issue).unwrap();
        assert!(
            issue
                .value
                .starts_with("exchanged 1 item in order #W0000001: Jacket ("),
            "{}",
            issue.value
        );
        assert!(
            issue.value.contains("M") && issue.value.ends_with("→ L)"),
            "{}",
            issue.value
        );
        // A refused call teaches nothing.
        let mut refused = call("cancel_pending_order", json!({}));
        refused.error = Some(hc_domain::ToolError {
            code: "x".into(),
            message: "y".into(),
        });
        refused.output = None;
        assert!(facts_from_call(&user(), &refused, src, &HashMap::new(), 5).is_empty());
        let rated = facts_from_outcome(&user(), &Outcome::Rated(2), src, 9).unwrap();
        assert_eq!(
            (rated.kind, rated.value.as_str()),
            (FactKind::Satisfaction, "2/5")
        );
        let esc = facts_from_outcome(&user(), &Outcome::Escalate("upset".into()), src, 9).unwrap();
        assert_eq!(esc.value, "escalated to a human: upset");
        assert!(facts_from_outcome(&user(), &Outcome::Continue, src, 9).is_none());
    }

    #[test]
    fn only_a_bad_last_conversation_is_acknowledged() {
        let f = |kind, value: &str, source: &str, at| {
            CustomerFact::new(user(), kind, "", value, source, at)
        };
        assert!(acknowledgement(&[]).is_none());
        let low = f(FactKind::Satisfaction, "2/5", "conversation:conv_a", 10);
        assert!(acknowledgement(std::slice::from_ref(&low)).is_some());
        assert!(
            acknowledgement(&[f(FactKind::Satisfaction, "4/5", "conversation:conv_a", 10)])
                .is_none()
        );
        // A later, good conversation closes the matter; order facts do not count.
        assert!(
            acknowledgement(&[
                low.clone(),
                f(
                    FactKind::Issue,
                    "returned 1 item",
                    "conversation:conv_b",
                    20
                )
            ])
            .is_none()
        );
        assert!(acknowledgement(&[low.clone(), f(FactKind::Size, "M", "order:#W1", 30)]).is_some());
        let esc = f(
            FactKind::Issue,
            "escalated to a human: upset",
            "conversation:conv_c",
            40,
        );
        assert!(acknowledgement(&[low, esc]).unwrap().contains("colleague"));
    }

    #[test]
    fn offers_and_summaries_read_naturally() {
        assert_eq!(
            size_offer("Jacket", "M"),
            "Last time your jacket was an M — want M again?"
        );
        assert_eq!(
            size_offer("Running Shoes", "9"),
            "Last time your running shoes were a 9 — want 9 again?"
        );
        assert_eq!(
            size_offer("T-Shirt", "L"),
            "Last time your t-shirt was an L — want L again?"
        );
        let facts = vec![
            CustomerFact::new(user(), FactKind::Size, "Jacket", "M", "order:#W1", 1),
            CustomerFact::new(
                user(),
                FactKind::Satisfaction,
                "",
                "2/5",
                "conversation:c",
                2,
            ),
        ];
        assert_eq!(remembered_size(&facts, "jacket"), Some("M"));
        assert_eq!(remembered_size(&facts, "T-Shirt"), None);
        let s = memory_summary(&facts);
        assert!(
            s.contains("sizes: Jacket M") && s.contains("last rating: 2/5"),
            "{s}"
        );
        assert_eq!(memory_summary(&[]), "");
    }
}
