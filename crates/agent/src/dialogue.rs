//! The built-in offline brain's dialogue manager: turns an understood
//! message plus the dialogue state into tool calls (through the [`Gate`]) and
//! a reply. It fills slots across turns, asks when something is missing or
//! ambiguous, states every write exactly and waits for an explicit yes.

use hc_domain::{Address, EscalationSettings, ItemId, OrderId, PaymentMethodId};
use serde_json::{Value, json};

use crate::gate::{Gate, KNOWLEDGE_TOOL, LOYALTY_TOOL, address_arguments, fingerprint};
use crate::nlu::entities::{AddressParts, PaymentHint, phrase_score};
use crate::nlu::intents::Intent;
use crate::nlu::{Nlu, Understanding};
use crate::replies::Voice;
use crate::state::{Action, FurtherAction, Goal, GoalKind, Proposal};

/// Below this classifier confidence the engine asks rather than acts (the
/// default of a tenant's `escalation.min_confidence`).
pub const MIN_CONFIDENCE: f32 = EscalationSettings::DEFAULT_MIN_CONFIDENCE;
/// Turns without progress before a human takes over (the default of a
/// tenant's `escalation.max_failures`).
pub const MAX_FAILURES: u32 = EscalationSettings::DEFAULT_MAX_FAILURES;
/// Out-of-scope requests before a human takes over (the default of a
/// tenant's `escalation.max_out_of_scope`).
pub const MAX_OUT_OF_SCOPE: u32 = EscalationSettings::DEFAULT_MAX_OUT_OF_SCOPE;

/// What the turn decided about the conversation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Continue,
    /// Hand over to a human, with the reason.
    Escalate(String),
    /// The customer is done; ask for a rating.
    Wrap,
    /// The customer gave a 1–5 rating.
    Rated(u8),
}

/// A turn's reply and outcome.
pub struct Turn {
    pub reply: String,
    pub outcome: Outcome,
}

fn turn(reply: impl Into<String>) -> Turn {
    Turn {
        reply: reply.into(),
        outcome: Outcome::Continue,
    }
}

/// When the top intent is only identifying or greeting and a task intent is a
/// close runner-up, the message carries that task too.
fn with_goal_from_runner_up(u: &Understanding, min_confidence: f32) -> Understanding {
    let mut u = u.clone();
    if matches!(u.intent, Intent::Identify | Intent::Greeting)
        && let Some((intent, p)) = u
            .alternatives
            .iter()
            .find(|(i, p)| goal_for(*i).is_some() && *p >= 0.15)
    {
        u.intent = *intent;
        u.confidence = u.confidence.max(*p).max(min_confidence);
    }
    u
}

/// Whether the message supplies what a goal of this kind is waiting for.
fn answers(kind: GoalKind, u: &Understanding) -> bool {
    match kind {
        GoalKind::ModifyOrderAddress | GoalKind::ChangeDefaultAddress => {
            u.entities.address.is_some()
        }
        GoalKind::Cancel => u.entities.cancel_reason.is_some(),
        GoalKind::ModifyPayment => u.entities.payment.is_some(),
        // "charge the difference to my paypal" pays for the swap; "refund it
        // to my gift card" for the return (not a change of an order's payment).
        GoalKind::Exchange | GoalKind::ModifyItems => {
            !u.entities.options.is_empty()
                || (u.entities.payment.is_some()
                    && (about_difference(&u.text) || u.intent != Intent::ModifyPayment))
        }
        GoalKind::Return | GoalKind::Buy => {
            u.entities.payment.is_some() && u.intent != Intent::ModifyPayment
        }
        _ => false,
    }
}

/// How much sharper a single task clause must read than the whole message
/// for its intent to be taken.
const CLAUSE_MARGIN: f32 = 0.25;

/// "the one with the earbuds", "that one", "the second order": an answer to
/// "which order do you mean?", not a new request.
fn picks_an_order(text: &str) -> bool {
    let lower = spaced_words(text);
    let starts = [
        " the one ",
        " that one ",
        " this one ",
        " the other one ",
        " the order with ",
        " the first ",
        " the second ",
        " the last ",
        " the latest ",
        " the pending one ",
        " the delivered one ",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    let task = [
        " cancel ",
        " return ",
        " exchange ",
        " swap ",
        " change ",
        " refund ",
        " send ",
    ]
    .iter()
    .any(|w| lower.contains(w));
    starts && !task
}

/// "wrong one, i meant the order with …": the customer says the order
/// chosen is not the one meant, and points at another.
fn points_elsewhere(text: &str) -> bool {
    let lower = spaced_words(text);
    [
        " wrong one ",
        " wrong order ",
        " i meant ",
        " not that order ",
        " not that one ",
        " i mean the ",
    ]
    .iter()
    .any(|w| lower.contains(w))
        && [" order ", " one with ", " with the "]
            .iter()
            .any(|w| lower.contains(w))
}

/// An email in the message that is not the signed-in customer's own.
fn names_another_account(emails: &[String], own: &str) -> bool {
    emails.iter().any(|e| !e.eq_ignore_ascii_case(own))
}

/// "without backlight", "no backlight": the value "none" (or "no") of that option.
fn none_named(spaced: &str, key: &str, value: &str) -> bool {
    matches!(value, "none" | "no")
        && [format!(" without {key} "), format!(" no {key} ")]
            .iter()
            .any(|p| spaced.contains(p.as_str()))
}

/// A clause about "it" (no order named, no "other" order): the order of the
/// request before it.
fn refers_back(text: &str) -> bool {
    let lower = spaced_words(text);
    crate::nlu::entities::extract(text).order_ids.is_empty()
        && [" it ", " its ", " it's "]
            .iter()
            .any(|w| lower.contains(w))
        && ![
            " other ",
            " another ",
            " second ",
            " order with ",
            " one with ",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// A clause that asks about an order ("where is it?", "has it shipped",
/// "give me the tracking number"), not one that only tells about it ("I've
/// got two orders on the way", "my order has two pet beds").
fn asks_about_order(text: &str) -> bool {
    let lower = spaced_words(text);
    text.contains('?')
        || [
            " where ",
            " when ",
            " what ",
            " whats ",
            " status ",
            " track ",
            " tracking ",
            " check ",
            " tell me ",
            " give me ",
            " any news ",
            " shipped yet ",
            " still pending ",
            " has it ",
            " is it ",
            " did it ",
            " did my ",
            " is my ",
            " has my ",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// The clause names a task of its own by its verb ("return …", "send it to …").
fn names_a_task(text: &str) -> bool {
    let lower = spaced_words(text);
    [
        " cancel ",
        " return ",
        " exchange ",
        " swap ",
        " change ",
        " modify ",
        " update ",
        " send ",
        " ship ",
        " refund ",
        " replace ",
        " switch ",
        " track ",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// The address on the customer's account is the one meant ("send it to my
/// home address, the one on file").
fn means_account_address(text: &str) -> bool {
    let lower = spaced_words(text);
    [
        " address on file ",
        " on my account ",
        " in my account ",
        " my home address ",
        " my default address ",
        " my account address ",
        " my profile address ",
        " address in my profile ",
        " address on my profile ",
        " my usual address ",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// The customer names the other goal outright ("my default address").
fn explicit_switch(kind: GoalKind, text: &str) -> bool {
    let lower = text.to_lowercase();
    match kind {
        GoalKind::ChangeDefaultAddress => [
            "default",
            "account address",
            "address on my account",
            "profile",
            "my address on file",
        ]
        .iter()
        .any(|w| lower.contains(w)),
        GoalKind::ModifyOrderAddress => lower.contains("order"),
        _ => false,
    }
}

fn closes_topic(u: &Understanding) -> bool {
    let strong = u.confidence >= 0.5;
    let no_slots = u.entities.order_ids.is_empty()
        && u.entities.emails.is_empty()
        && u.entities.address.is_none();
    strong
        && no_slots
        && matches!(
            u.intent,
            Intent::Thanks | Intent::Goodbye | Intent::Greeting | Intent::OutOfScope
        )
}

fn goal_for(intent: Intent) -> Option<GoalKind> {
    Some(match intent {
        Intent::OrderStatus => GoalKind::OrderStatus,
        Intent::TrackOrder => GoalKind::Track,
        Intent::CancelOrder => GoalKind::Cancel,
        Intent::ReturnItems => GoalKind::Return,
        Intent::ExchangeItems => GoalKind::Exchange,
        Intent::ModifyItems => GoalKind::ModifyItems,
        Intent::ModifyOrderAddress => GoalKind::ModifyOrderAddress,
        Intent::ModifyPayment => GoalKind::ModifyPayment,
        Intent::ChangeDefaultAddress => GoalKind::ChangeDefaultAddress,
        Intent::Buy => GoalKind::Buy,
        Intent::Loyalty => GoalKind::Loyalty,
        _ => return None,
    })
}

fn intent_for(kind: GoalKind) -> Option<Intent> {
    Some(match kind {
        GoalKind::OrderStatus => Intent::OrderStatus,
        GoalKind::Track => Intent::TrackOrder,
        GoalKind::Cancel => Intent::CancelOrder,
        GoalKind::Return => Intent::ReturnItems,
        GoalKind::Exchange => Intent::ExchangeItems,
        GoalKind::ModifyItems => Intent::ModifyItems,
        GoalKind::ModifyOrderAddress => Intent::ModifyOrderAddress,
        GoalKind::ModifyPayment => Intent::ModifyPayment,
        GoalKind::ChangeDefaultAddress => Intent::ChangeDefaultAddress,
        GoalKind::Buy => Intent::Buy,
        GoalKind::Loyalty => Intent::Loyalty,
    })
}

/// An address request reads as the default (account) address or an order's
/// by its own words: "update my account address" vs "send my order there".
fn address_goal(kind: GoalKind, text: &str) -> GoalKind {
    // "don't change the order, update my account": the order is not meant.
    let mut lower = text.to_lowercase();
    for negated in [
        "don't change the order",
        "dont change the order",
        "do not change the order",
        "not the order",
        "leave the order",
    ] {
        lower = lower.replace(negated, "");
    }
    match kind {
        GoalKind::ModifyOrderAddress
            if explicit_switch(GoalKind::ChangeDefaultAddress, &lower)
                && !lower.contains("order") =>
        {
            GoalKind::ChangeDefaultAddress
        }
        GoalKind::ChangeDefaultAddress
            if lower.contains("order")
                && !explicit_switch(GoalKind::ChangeDefaultAddress, &lower) =>
        {
            GoalKind::ModifyOrderAddress
        }
        k => k,
    }
}

/// The words that name each goal, for noticing "don't cancel it" or
/// "forget the exchange".
fn goal_words(kind: GoalKind) -> &'static [&'static str] {
    match kind {
        GoalKind::Cancel => &["cancel", "cancelling", "canceling", "cancellation"],
        GoalKind::Return => &["return", "returning", "refund"],
        GoalKind::Exchange => &["exchange", "exchanging", "swap"],
        GoalKind::ModifyItems => &["change the item", "swap", "modify"],
        GoalKind::ModifyOrderAddress | GoalKind::ChangeDefaultAddress => &[
            "change the address",
            "change my address",
            "update the address",
            "address change",
        ],
        GoalKind::ModifyPayment => &["change the payment", "change my payment", "payment change"],
        GoalKind::Buy => &["buy", "purchase"],
        GoalKind::OrderStatus | GoalKind::Track | GoalKind::Loyalty => &[],
    }
}

/// The customer takes back the current goal: "don't cancel it", "forget the
/// exchange", "no need to cancel", "instead of cancelling".
fn takes_back(kind: GoalKind, text: &str) -> bool {
    let lower = format!(
        " {} ",
        text.to_lowercase().replace([',', '.', '!', '?'], " ")
    );
    let words = goal_words(kind);
    let cues = [
        "don't",
        "dont",
        "do not",
        "not",
        "don't want to",
        "dont want to",
        "do not want to",
        "no longer want to",
        "not going to",
        "forget",
        "forget about",
        "never mind",
        "no need to",
        "instead of",
        "rather than",
        "stop the",
        "drop the",
        "cancel the",
    ];
    cues.iter().any(|c| {
        words.iter().any(|w| {
            [
                format!(" {c} {w}"),
                format!(" {c} the {w}"),
                format!(" {c} it {w}"),
                format!(" {c} to {w}"),
                format!(" {c} my {w}"),
                format!(" {c} that {w}"),
            ]
            .iter()
            .any(|p| lower.contains(p.as_str()))
        }) && !(kind == GoalKind::Cancel && *c == "cancel the")
    })
}

/// Words that mark a correction or change of mind.
fn correcting(text: &str) -> bool {
    let lower = format!(
        " {} ",
        text.to_lowercase().replace([',', '.', '!', '?'], " ")
    );
    [
        " actually ",
        " instead",
        " rather ",
        " forget ",
        " never mind ",
        " changed my mind ",
        " just want ",
        " only want ",
        " on second thought ",
        " scratch that ",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Goals about the same order, between which the customer may switch and
/// keep the order (and, for returns and exchanges, the items).
fn related(a: GoalKind, b: GoalKind) -> bool {
    use GoalKind::*;
    let delivered = |k| matches!(k, Return | Exchange);
    let pending = |k| matches!(k, Cancel | ModifyItems | ModifyOrderAddress | ModifyPayment);
    (delivered(a) && delivered(b)) || (pending(a) && pending(b))
}

/// "pay the difference with …", "charge whatever difference to …": the
/// payment for an item change, not a request to change an order's payment.
fn about_difference(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("difference") || lower.contains("extra cost") || lower.contains("price gap")
}

/// A request for money back short of a return (a partial refund, a
/// discount, compensation), which no tool can grant.
fn asks_compensation(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "compensation",
        "compensate",
        "partial refund",
        "refund part",
        "part of the money",
        "part of my money",
        "some of the money",
        "some money back",
        "some of my money",
        "a discount",
        "store credit",
        "a voucher",
        "a coupon",
        "goodwill",
        "refund half",
        "half of the price",
        "half the price",
        "money off",
        "partial credit",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

const ANGRY: [&str; 12] = [
    "furious",
    "terrible",
    "worst",
    "scam",
    "lawyer",
    "disgusting",
    "unacceptable",
    "ridiculous",
    "awful",
    "horrible",
    "sue ",
    "fraud",
];

fn strongly_negative(text: &str) -> bool {
    let lower = text.to_lowercase();
    ANGRY.iter().filter(|w| lower.contains(*w)).count() >= 1
        && (lower.contains('!') || lower.len() > 40)
}

fn money(v: &Value) -> String {
    format!("${:.2}", v.as_f64().unwrap_or(0.0))
}

fn item_label(item: &Value) -> String {
    let opts: Vec<String> = item["options"]
        .as_object()
        .map(|o| {
            o.values()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if opts.is_empty() {
        item["name"].as_str().unwrap_or("item").to_string()
    } else {
        format!(
            "{} ({})",
            item["name"].as_str().unwrap_or("item"),
            opts.join(", ")
        )
    }
}

/// "Name (options); Name (options)" for every item of an order.
fn item_labels(order: &Value) -> String {
    order["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(item_label)
        .collect::<Vec<_>>()
        .join("; ")
}

/// "You have 1,240 points, worth $12.40 off an order (gold tier). 200 of
/// them expire on 2026-12-31." from a `loyalty_balance` result; only what
/// the tool returned.
fn loyalty_summary(b: &Value) -> String {
    if b["program"] == false && b["points"].as_u64().unwrap_or(0) == 0 {
        return "This shop doesn't run a points program yet, so there are no points on your account.".into();
    }
    let points = b["points"].as_u64().unwrap_or(0);
    let mut s = format!(
        "You have {} point{}",
        thousands(points),
        if points == 1 { "" } else { "s" }
    );
    if let (Some(worth), true) = (b["worth"].as_f64(), points > 0) {
        s.push_str(&format!(", worth ${worth:.2} off an order"));
    }
    if let Some(tier) = b["tier"].as_str() {
        s.push_str(&format!(" ({tier} tier)"));
    }
    s.push('.');
    if let (Some(at), Some(n)) = (
        b["next_expiry"]["at"].as_i64(),
        b["next_expiry"]["points"].as_u64(),
    ) && let Some(day) = time::OffsetDateTime::from_unix_timestamp(at).ok()
    {
        s.push_str(&format!(
            " {} of them expire on {}-{:02}-{:02}.",
            thousands(n),
            day.year(),
            u8::from(day.month()),
            day.day()
        ));
    }
    if let Some(pct) = b["max_order_share_pct"].as_f64()
        && points > 0
        && pct < 100.0
    {
        s.push_str(&format!(" Points can pay up to {pct}% of an order."));
    }
    s
}

/// The customer wants to pay with loyalty points: "use my points",
/// "with my reward points", "redeem my points".
fn wants_points(text: &str) -> bool {
    let lower = text.to_lowercase();
    let points = ["points", "rewards", "loyalty"]
        .iter()
        .any(|w| lower.contains(w));
    let pay = ["use", "using", "redeem", "apply", "with my", "pay"]
        .iter()
        .any(|w| lower.contains(w));
    points && pay
}

/// 1240 → "1,240".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn order_summary(order: &Value) -> String {
    format!(
        "{} ({}): {}",
        order["order_id"].as_str().unwrap_or("?"),
        order["status"].as_str().unwrap_or("?"),
        item_labels(order)
    )
}

fn method_label(customer: &Value, id: &str) -> String {
    let m = &customer["payment_methods"][id];
    match m["source"].as_str() {
        Some("credit_card") => format!(
            "{} card ending {}",
            m["brand"].as_str().unwrap_or("credit"),
            m["last_four"].as_str().unwrap_or("????")
        ),
        Some("gift_card") => format!("gift card ({})", money(&m["balance"])),
        Some("paypal") => "PayPal".into(),
        _ => id.to_string(),
    }
}

fn to_address(a: &AddressParts, country: &str) -> Address {
    Address {
        address1: a.address1.clone(),
        address2: a.address2.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        country: country.to_string(),
        zip: a.zip.clone(),
    }
}

fn address_line(a: &Address) -> String {
    let second = if a.address2.is_empty() {
        String::new()
    } else {
        format!(", {}", a.address2)
    };
    format!(
        "{}{second}, {}, {} {}, {}",
        a.address1, a.city, a.state, a.zip, a.country
    )
}

/// Why an order that is not delivered can't have items returned/exchanged.
fn not_delivered(oid: &str, status: &str, verb: &str) -> String {
    let alternative = if status.contains("pending") {
        "; while it's pending I can cancel it or change its items, address or payment instead"
    } else {
        ""
    };
    let state = match status {
        "pending" => "is still pending (not delivered yet)".to_string(),
        "processed" => "has been processed but not delivered yet".to_string(),
        s => format!("is {s}"),
    };
    format!(
        "order {oid} {state}, so it can't be {verb} (only delivered orders can be){alternative}"
    )
}

/// "Your gift card has only $60.00," when the gift card `method` holds less
/// than `amount`; `None` for other methods or enough balance.
fn gift_card_short(customer: &Value, method: &str, amount: f64) -> Option<String> {
    let m = &customer["payment_methods"][method];
    if m["source"] != "gift_card" {
        return None;
    }
    let balance = m["balance"].as_f64().unwrap_or(0.0);
    (balance + 0.005 < amount)
        .then(|| format!("Your gift card balance is only ${balance:.2} (not enough),"))
}

/// The customer's payment methods, except `except`, for a question.
fn method_labels(customer: &Value, except: Option<&str>) -> String {
    customer["payment_methods"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| Some(k.as_str()) != except)
        .map(|(k, _)| method_label(customer, k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` lower-cased as words (letters, digits, apostrophes) joined by
/// single spaces, with a space at each end, so that `contains(" all ")`
/// matches whole words only.
fn spaced_words(text: &str) -> String {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    format!(" {} ", words.join(" "))
}

/// "my latest order", "the last one I placed", "my most recent order".
fn means_latest(text: &str) -> bool {
    let lower = spaced_words(text);
    [
        " latest ",
        " most recent ",
        " newest ",
        " last order ",
        " last one ",
        " recent order ",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// A product question about one variant ("how much is the wooden bookshelf
/// in black, the 5 ft one?", "the over-ear wired headphones in black: in
/// stock?") or the cheapest one that can be ordered, answered from
/// `product` (a search hit with all its variants) when the text names the
/// product and its options single out one variant; else `None`.
fn variant_answer(text: &str, product: &Value) -> Option<String> {
    use crate::nlu::entities::mention_score;
    let name = product["name"].as_str()?;
    if mention_score(text, name) < 0.5 {
        return None;
    }
    let variants: Vec<(Vec<&str>, f64, bool)> = product["variants"]
        .as_object()?
        .values()
        .map(|v| {
            let options = v["options"]
                .as_object()
                .map(|o| o.values().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            (
                options,
                v["price"].as_f64().unwrap_or(f64::NAN),
                v["available"] == true,
            )
        })
        .collect();
    let hits = |options: &[&str]| {
        options
            .iter()
            .filter(|o| mention_score(text, o) >= 0.99)
            .count()
    };
    let best = variants.iter().map(|(o, _, _)| hits(o)).max().unwrap_or(0);
    let named: Vec<&(Vec<&str>, f64, bool)> = variants
        .iter()
        .filter(|(o, _, _)| best > 0 && hits(o) == best)
        .collect();
    let lower = text.to_lowercase();
    let cheapest = [
        "cheapest",
        "lowest price",
        "least expensive",
        "most affordable",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let label = |o: &[&str]| format!("{name} ({})", o.join(", "));
    if cheapest {
        let pool: Vec<&(Vec<&str>, f64, bool)> = if named.is_empty() {
            variants.iter().collect()
        } else {
            named
        };
        let (o, price, _) = pool
            .into_iter()
            .filter(|(_, p, available)| *available && p.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        return Some(format!(
            "The cheapest {name} you can order now is the {} at ${price:.2}.",
            label(o)
        ));
    }
    match named.as_slice() {
        [(o, price, true)] => Some(format!(
            "The {} is ${price:.2}, and it's in stock.",
            label(o)
        )),
        [(o, price, false)] => {
            let others = variants.iter().filter(|(_, _, a)| *a).count();
            Some(format!(
                "The {} (${price:.2}) is currently unavailable; {others} other options of the {name} are in stock.",
                label(o)
            ))
        }
        _ => None,
    }
}

/// Most orders one request is applied to at once ("cancel all my orders").
const MAX_ORDERS_AT_ONCE: usize = 5;

/// Whether the text asks for one thing on several orders: `Some(Some(n))`
/// for "both/two of my orders", `Some(None)` for "all/each of my orders".
fn several_orders(text: &str) -> Option<Option<usize>> {
    let lower = spaced_words(text);
    if !lower.contains(" orders ") {
        return None;
    }
    if [
        " both ",
        " two of ",
        " two orders ",
        " 2 orders ",
        " either of ",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return Some(Some(2));
    }
    if [" three of ", " three orders ", " 3 orders "]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Some(Some(3));
    }
    if [
        " all my ",
        " all of my ",
        " all the ",
        " each of my ",
        " every one of my ",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return Some(None);
    }
    None
}

/// "all of them", "everything", "the whole order", as whole words.
fn means_all(text: &str) -> bool {
    let lower = spaced_words(text);
    [
        " all of them ",
        " all of it ",
        " all items ",
        " all the items ",
        " all my items ",
        " all of the items ",
        " all the things ",
        " all three ",
        " all four ",
        " all five ",
        " both items ",
        " both of them ",
        " whole order ",
        " entire order ",
        " every item ",
        " all ",
    ]
    .iter()
    .any(|w| {
        if *w == " all " {
            lower.trim() == "all"
        } else {
            lower.contains(w)
        }
    }) || (lower.contains(" everything ")
        && !lower.contains(" everything else ")
        // "that's everything": the end of a list, not the whole order.
        && !["that's everything", "thats everything", "that is everything"]
            .iter()
            .any(|w| lower.contains(w)))
}

/// The items of `order` that `text` asks for, or `None` when it names none:
/// ids, "all of them", or the best-matching names (scored on the part of the
/// text that is not excluded).
fn items_meant(text: &str, u: &Understanding, order: &Value) -> Option<Vec<ItemId>> {
    let items: Vec<&Value> = order["items"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let by_id: Vec<ItemId> = u
        .entities
        .item_ids
        .iter()
        .filter(|id| items.iter().any(|i| i["item_id"] == id.as_str()))
        .filter_map(|id| ItemId::parse(id.as_str()).ok())
        .collect();
    if !by_id.is_empty() {
        return Some(by_id);
    }
    // Products that only identify the order ("my order with the vacuum and
    // the bookshelf, swap the vacuum") are not the items meant, unless they
    // are all the text names.
    let (context, rest) = crate::nlu::entities::split_order_context(text);
    if !context.is_empty() {
        let rest_names_an_item = items.iter().any(|i| {
            crate::nlu::entities::mention_score(&rest, i["name"].as_str().unwrap_or("")) >= 0.5
        });
        if rest_names_an_item || means_all(&rest) {
            return items_meant(&rest, u, order);
        }
    }
    let (wanted, _) = crate::nlu::entities::split_excluded(text);
    if means_all(&wanted) {
        return Some(
            items
                .iter()
                .filter_map(|i| i["item_id"].as_str())
                .filter_map(|s| ItemId::parse(s).ok())
                .collect(),
        );
    }
    let scored: Vec<(f32, &Value)> = items
        .iter()
        .map(|i| {
            (
                crate::nlu::entities::mention_score(&wanted, i["name"].as_str().unwrap_or("")),
                *i,
            )
        })
        .collect();
    let best = scored.iter().map(|(s, _)| *s).fold(0.0f32, f32::max);
    if best < 0.5 {
        return None;
    }
    let tied: Vec<&Value> = scored
        .iter()
        .filter(|(s, _)| *s >= best)
        .map(|(_, i)| *i)
        .collect();
    let picked: Vec<ItemId> = tied
        .iter()
        .filter(|i| named_by_options(&wanted, i, &tied))
        .filter_map(|i| i["item_id"].as_str())
        .filter_map(|s| ItemId::parse(s).ok())
        .collect();
    (!picked.is_empty()).then_some(picked)
}

/// Among units with the same name, those whose own option values the text
/// names ("the green bluetooth speaker" of a green and a black one); all of
/// them when it names none.
fn named_by_options(text: &str, item: &Value, tied: &[&Value]) -> bool {
    let hits = |i: &Value| {
        i["options"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, v)| v.as_str())
            .filter(|v| crate::nlu::entities::mention_score(text, v) >= 0.99)
            .count()
    };
    let best = tied
        .iter()
        .filter(|t| t["name"] == item["name"])
        .map(|t| hits(t))
        .max()
        .unwrap_or(0);
    best == 0 || hits(item) == best
}

/// `text` names an option value of `unit` that the other units of the same
/// product (`same`) don't have ("the grey one" of a grey and a green backpack).
fn distinct_options_named(text: &str, unit: &Value, same: &[&Value]) -> bool {
    unit["options"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str())
        .any(|v| {
            crate::nlu::entities::mention_score(text, v) >= 0.99
                && same.iter().all(|t| {
                    t["item_id"] == unit["item_id"]
                        || !t["options"]
                            .as_object()
                            .into_iter()
                            .flatten()
                            .any(|(_, x)| x.as_str() == Some(v))
                })
        })
}

/// Picks the customer's payment method a hint refers to.
fn match_method(
    customer: &Value,
    hint: &PaymentHint,
    original: Option<&str>,
) -> Option<PaymentMethodId> {
    let methods = customer["payment_methods"].as_object()?;
    let pick = |pred: &dyn Fn(&Value) -> bool| {
        let found: Vec<&String> = methods
            .iter()
            .filter(|(_, m)| pred(m))
            .map(|(k, _)| k)
            .collect();
        (found.len() == 1).then(|| found[0].clone())
    };
    let id = match hint {
        PaymentHint::Original => original.map(String::from),
        PaymentHint::GiftCard => pick(&|m| m["source"] == "gift_card"),
        PaymentHint::Paypal => pick(&|m| m["source"] == "paypal"),
        PaymentHint::CreditCard { brand, last_four } => pick(&|m| {
            m["source"] == "credit_card"
                && last_four.as_deref().is_none_or(|l| m["last_four"] == l)
                && brand.as_deref().is_none_or(|b| {
                    m["brand"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(b))
                })
        }),
    }?;
    PaymentMethodId::parse(id).ok()
}

/// The cancel reason the message gives: the tenant's configured reason it
/// best matches (by words, see [`phrase_score`]), else a built-in one.
fn cancel_reason(allowed: Option<&[String]>, text: &str, u: &Understanding) -> Option<String> {
    let builtin = u
        .entities
        .cancel_reason
        .map(|r| r.as_policy_str().to_string());
    let Some(allowed) = allowed else {
        return builtin;
    };
    if let Some(b) = &builtin
        && allowed.contains(b)
    {
        return builtin;
    }
    let mut scored: Vec<(f32, &String)> =
        allowed.iter().map(|r| (phrase_score(text, r), r)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    match scored.as_slice() {
        [(top, r), rest @ ..] if *top >= 0.6 && rest.first().is_none_or(|(s, _)| s < top) => {
            Some((*r).clone())
        }
        _ => builtin,
    }
}

/// `"a" or "b"`, for listing what is accepted.
fn quoted(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    match q.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => q.join(""),
    }
}

/// Writes that may be read back together with others and confirmed by one
/// yes (the τ retail writes; a purchase is always proposed on its own).
const READ_BACK_TOGETHER: [&str; 7] = [
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "exchange_delivered_order_items",
    "return_delivered_order_items",
    "modify_user_address",
];

/// Goals that end in a write (a queued one may join a read-back).
fn is_write_goal(kind: GoalKind) -> bool {
    !matches!(
        kind,
        GoalKind::OrderStatus | GoalKind::Track | GoalKind::Loyalty | GoalKind::Buy
    )
}

/// Words that name an action of this tool in an answer to a read-back.
fn action_words(tool: &str) -> &'static [&'static str] {
    match tool {
        "cancel_pending_order" => &[
            "cancel",
            "cancellation",
            "cancelling",
            "canceling",
            "cancelled",
            "canceled",
        ],
        "return_delivered_order_items" => &["return", "returns", "returning", "refund"],
        "exchange_delivered_order_items" => &["exchange", "exchanging", "swap"],
        "modify_pending_order_items" => &["swap", "item", "items", "modify", "modification"],
        "modify_pending_order_address" => &["address", "ship", "shipping", "reroute"],
        "modify_pending_order_payment" => &["payment", "pay", "charge", "charged"],
        "modify_user_address" => &["address", "account", "profile", "default", "file"],
        _ => &[],
    }
}

/// What an answer to several actions read back together names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Choice {
    /// No action named: a yes covers them all, a no none.
    Unnamed,
    /// "both", "all of them", "everything".
    All,
    /// "only the first", "just the return", "the cancel yes, not the
    /// return": the actions (by position) to carry out.
    Only(Vec<usize>),
    /// "not the return", "skip the second": the actions to leave out, with
    /// nothing named to carry out.
    Except(Vec<usize>),
}

/// Which of `actions` (read back in this order) the customer's answer
/// names: by position ("the first", "2", "the last"), by what it does
/// ("the cancellation", "the address") or by its order number. A name in a
/// clause with a negation ("not", "don't", "skip", "except", "without")
/// leaves that action out.
pub(crate) fn choose(text: &str, actions: &[Action<'_>]) -> Choice {
    let n = actions.len();
    let lower = text.to_lowercase();
    let mut named: Vec<usize> = Vec::new();
    let mut negated: Vec<usize> = Vec::new();
    let mut all = false;
    let mut only = false;
    let mut opening = true;
    for clause in lower.split(['.', ',', ';', '!', '?', ':', '(', ')']) {
        let words: Vec<&str> = clause
            .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '#')
            .map(|w| w.trim_start_matches('#'))
            .filter(|w| !w.is_empty())
            .collect();
        // "yes to the cancel but not the return": "but", "and" and "then"
        // start a new part too.
        for part in words.split(|w| matches!(*w, "but" | "and" | "then" | "while")) {
            let mut negation = false;
            // (action, negated), by words naming one action and by words
            // naming several ("only the account address": "account" wins).
            let mut specific: Vec<(usize, bool)> = Vec::new();
            let mut shared: Vec<(usize, bool)> = Vec::new();
            for (at, w) in part.iter().enumerate() {
                // "no, only the first": a leading "no" answers, it negates nothing.
                let leading = opening && at == 0;
                if matches!(
                    *w,
                    "not"
                        | "don't"
                        | "dont"
                        | "skip"
                        | "except"
                        | "without"
                        | "forget"
                        | "never"
                        | "hold"
                        | "leave"
                        | "drop"
                        | "neither"
                        | "nor"
                ) || (*w == "no" && !leading)
                {
                    negation = true;
                    continue;
                }
                if matches!(*w, "only" | "just" | "solely") {
                    only = only || !negation;
                    continue;
                }
                if matches!(*w, "both" | "all" | "everything" | "each") {
                    all = all || !negation;
                    continue;
                }
                let position = match *w {
                    "first" | "1st" | "1" => Some(0),
                    "second" | "2nd" | "2" => Some(1),
                    "third" | "3rd" | "3" => Some(2),
                    "fourth" | "4th" | "4" => Some(3),
                    "last" if n > 1 => Some(n - 1),
                    _ => None,
                };
                let hits: Vec<usize> = match position {
                    Some(i) if i < n => vec![i],
                    Some(_) => Vec::new(),
                    None => (0..n)
                        .filter(|&i| {
                            action_words(actions[i].tool).iter().any(|a| a == w)
                                || actions[i].arguments["order_id"]
                                    .as_str()
                                    .is_some_and(|o| o.trim_start_matches('#').to_lowercase() == *w)
                        })
                        .collect(),
                };
                let into = if hits.len() == 1 {
                    &mut specific
                } else {
                    &mut shared
                };
                into.extend(hits.into_iter().map(|i| (i, negation)));
            }
            let hits = if specific.is_empty() {
                shared
            } else {
                specific
            };
            for (i, neg) in hits {
                let into = if neg { &mut negated } else { &mut named };
                if !into.contains(&i) {
                    into.push(i);
                }
            }
            opening = opening && part.is_empty();
        }
    }
    named.retain(|i| !negated.contains(i));
    named.sort_unstable();
    negated.sort_unstable();
    if (all && negated.is_empty() && (!only || named.is_empty())) || named.len() == n {
        Choice::All
    } else if !named.is_empty() {
        Choice::Only(named)
    } else if !negated.is_empty() {
        Choice::Except(negated)
    } else {
        Choice::Unnamed
    }
}

/// A short name of an action, for saying what was left out or failed.
fn action_label(action: &Action<'_>) -> String {
    let oid = action.arguments["order_id"].as_str().unwrap_or("");
    match action.tool {
        "cancel_pending_order" => format!("cancel order {oid}"),
        "return_delivered_order_items" => format!("return the items from order {oid}"),
        "exchange_delivered_order_items" => format!("exchange the items in order {oid}"),
        "modify_pending_order_items" => format!("change the items in order {oid}"),
        "modify_pending_order_address" => format!("change the shipping address of order {oid}"),
        "modify_pending_order_payment" => format!("change the payment method of order {oid}"),
        "modify_user_address" => "change your default address".to_string(),
        other => format!("run {other}"),
    }
}

/// `cancel order …` as the start of a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The brain for one turn.
pub struct Dialogue<'g, 'a> {
    pub gate: &'g mut Gate<'a>,
    /// The agent's NLU, for reading queued requests on their own.
    pub nlu: &'g Nlu,
    pub voice: &'g Voice,
    /// The tenant's escalation thresholds.
    pub limits: EscalationSettings,
    /// The cancel reasons the tenant accepts, when known (else the tool decides).
    pub cancel_reasons: Option<&'g [String]>,
    pub confidence: f32,
    /// The customer record, read at most once per turn (dropped after a write).
    pub customer_cache: Option<Value>,
    /// This turn's goal was refused by the rules ("order … is processed, so
    /// it can't be cancelled"): a request queued beside it is taken up.
    pub refused: bool,
}

/// Below this, a clause that names no task verb is read as telling, not asking.
const WEAK_CLAUSE: f32 = 0.6;

/// Lowest clause confidence for a second request in one message to be taken up.
const MIN_REQUEST_CONFIDENCE: f32 = 0.5;
/// Queued requests taken up in one turn after the current one completes.
const MAX_CHAINED: usize = 3;

impl Dialogue<'_, '_> {
    pub async fn respond(&mut self, text: &str, u: &Understanding) -> Turn {
        let anonymous = self.gate.state.customer.is_none();
        // Several requests in one message: the first is handled now, the rest
        // queued and taken up as each finishes.
        let focused = self.queue_requests(u);
        let (text, u) = match &focused {
            Some(f) => (f.text.as_str(), f),
            None => (text, u),
        };
        let mut t = self.respond_to(text, u).await;
        for _ in 0..MAX_CHAINED {
            // "if it hasn't shipped cancel it, if it has give me the tracking
            // number": a refused request gives way to the next one.
            if std::mem::take(&mut self.refused)
                && self.gate.state.proposal.is_none()
                && !self.gate.state.queue.is_empty()
            {
                self.gate.state.goal = None;
            }
            let idle = self.gate.state.goal.is_none() && self.gate.state.proposal.is_none();
            if !idle || t.outcome != Outcome::Continue || self.gate.state.queue.is_empty() {
                break;
            }
            let next = self.gate.state.queue.remove(0);
            let nu = self.nlu.understand(&next.text);
            let (asked, then) = match (next.kind, next.question) {
                (Some(kind), _) => {
                    let mut goal = Goal::new(kind);
                    goal.context = next.text.clone();
                    goal.address = next.address.clone();
                    if next.same_order && nu.entities.order_ids.is_empty() {
                        goal.order_id = self.gate.state.last_order.clone();
                    }
                    if let Some(id) = &next.order_id {
                        goal.order_id = Some(id.clone());
                    }
                    self.gate.state.goal = Some(goal);
                    let asked = format!(
                        "You also asked to {}.",
                        kind.describe().replace("their", "your")
                    );
                    // A yes covers only the actions read back: a request that
                    // could not be read back with the one before is proposed
                    // with its own details and needs its own yes.
                    (asked, self.advance(&next.text, &nu).await)
                }
                (None, Some(q)) => (
                    "You also asked:".to_string(),
                    self.answer_question(q, &next.text).await,
                ),
                (None, None) => continue,
            };
            let first = t
                .reply
                .trim_end()
                .trim_end_matches(self.voice.anything_else())
                .trim_end()
                .to_string();
            t = Turn {
                reply: format!("{first}\n\n{asked} {}", then.reply),
                outcome: then.outcome,
            };
        }
        // Further writes asked for in the same message, all fully specified:
        // read back together with the one just proposed, for one yes.
        if let Some(together) = self.read_back_together(&t).await {
            t = together;
        }
        // Just identified: a bad last conversation is acknowledged, briefly.
        if anonymous
            && self.gate.state.customer.is_some()
            && t.outcome == Outcome::Continue
            && let Some(ack) = self
                .gate
                .recall()
                .await
                .ok()
                .and_then(|facts| crate::memory::acknowledgement(&facts))
        {
            t.reply = format!("{ack} {}", t.reply);
        }
        t
    }

    /// Queues every further request of a multi-request message (tasks, and
    /// product or policy questions) and returns the reading of the first
    /// one to act on now (with the whole message's identification details),
    /// or `None` for an ordinary message.
    fn queue_requests(&mut self, u: &Understanding) -> Option<Understanding> {
        if self.gate.state.proposal.is_some() {
            return None;
        }
        let buying = u
            .requests
            .iter()
            .any(|r| r.intent == Intent::Buy && r.confidence >= MIN_REQUEST_CONFIDENCE);
        // Clauses that only tell (about the order, or why) are no requests of
        // their own when another clause asks for something.
        let asked: Vec<&crate::nlu::Request> = u
            .requests
            .iter()
            .filter(|r| r.confidence >= MIN_REQUEST_CONFIDENCE)
            .collect();
        let cancelling = asked.iter().any(|r| r.intent == Intent::CancelOrder);
        let other_task = |r: &crate::nlu::Request| {
            asked.iter().any(|o| {
                o.text != r.text
                    && goal_for(o.intent)
                        .is_some_and(|k| !matches!(k, GoalKind::OrderStatus | GoalKind::Track))
            })
        };
        let told = |r: &crate::nlu::Request| {
            (matches!(r.intent, Intent::OrderStatus | Intent::TrackOrder)
                && !asks_about_order(&r.text)
                && other_task(r))
                || (cancelling
                    && r.intent != Intent::CancelOrder
                    && goal_for(r.intent).is_some()
                    && crate::nlu::entities::extract(&r.text)
                        .cancel_reason
                        .is_some()
                    && !names_a_task(&r.text))
                // "i got two of the same t-shirt in my order, only wanted one. can
                // i return one?": a weakly read clause without a task verb tells.
                || (goal_for(r.intent).is_some()
                    && r.confidence < WEAK_CLAUSE
                    && !names_a_task(&r.text)
                    && asked.iter().any(|o| {
                        o.text != r.text && goal_for(o.intent).is_some() && names_a_task(&o.text)
                    }))
                // "… for the blue one. paypal": the payment of the swap or return.
                || (r.intent == Intent::ModifyPayment
                    && !names_a_task(&r.text)
                    && asked.iter().any(|o| {
                        matches!(
                            o.intent,
                            Intent::ReturnItems | Intent::ExchangeItems | Intent::ModifyItems
                        )
                    }))
        };
        // (A clause the NLU found only telling about a placed order has
        // confidence 0.)
        let dropped =
            asked.iter().any(|r| told(r)) || u.requests.iter().any(|r| r.confidence == 0.0);
        // (task, question, clause), distinct tasks and questions only.
        let mut wanted: Vec<(Option<GoalKind>, Option<Intent>, &crate::nlu::Request)> = Vec::new();
        for r in asked.iter().copied().filter(|r| !told(r)) {
            let entry = match goal_for(r.intent) {
                Some(k) => (Some(address_goal(k, &r.text)), None, r),
                None if r.intent == Intent::Policy && self.gate.has_knowledge() => {
                    (None, Some(Intent::Policy), r)
                }
                None if r.intent == Intent::ProductQuestion && !buying => {
                    (None, Some(Intent::ProductQuestion), r)
                }
                None => continue,
            };
            if !wanted
                .iter()
                .any(|(k, q, _)| (*k, *q) == (entry.0, entry.1))
            {
                wanted.push(entry);
            }
        }
        if wanted.len() < 2 {
            // One task beside identification or small talk: its own clause is
            // read more sharply than the whole message ("my name is …, zip …. I
            // ordered a t-shirt in XXL but need XL").
            return match wanted.first() {
                Some((Some(k), None, r))
                    if (r.intent != u.intent && r.confidence >= u.confidence + CLAUSE_MARGIN)
                        // Beside clauses that only tell, the one request is the message's.
                        || (dropped && (r.intent != u.intent || r.confidence > u.confidence)) =>
                {
                    let mut whole = u.clone();
                    whole.intent = intent_for(*k).unwrap_or(r.intent);
                    whole.confidence = r.confidence.max(u.confidence);
                    Some(whole)
                }
                _ => None,
            };
        }
        let current = self.gate.state.goal.as_ref().map(|g| g.kind);
        let (first_kind, first_question, first) = wanted[0];
        let whole_address = u.entities.address.as_ref().map(|a| to_address(a, "USA"));
        for (k, q, r) in wanted.iter().skip(1) {
            let queued = self
                .gate
                .state
                .queue
                .iter()
                .any(|x| (x.kind, x.question) == (*k, *q));
            if (*k, *q) == (first_kind, first_question) || (k.is_some() && *k == current) || queued
            {
                continue;
            }
            let mut request = crate::state::QueuedRequest {
                kind: *k,
                question: *q,
                text: r.text.clone(),
                address: None,
                // "… if it already shipped, give me the tracking number": "it" is
                // the order of the request before.
                same_order: refers_back(&r.text),
                order_id: None,
            };
            // "… and also send my pending order there": the address said elsewhere.
            if matches!(
                k,
                Some(GoalKind::ModifyOrderAddress | GoalKind::ChangeDefaultAddress)
            ) && crate::nlu::entities::extract(&r.text).address.is_none()
            {
                request.address = whole_address.clone();
            }
            self.gate.state.queue.push(request);
        }
        let mut focused = self.nlu.understand(&first.text);
        if let Some(k) = first_kind {
            // The clause's own reading, with the account/order address words honoured.
            if let Some(intent) = intent_for(k) {
                focused.intent = intent;
                focused.confidence = focused.confidence.max(first.confidence);
            }
            if matches!(
                k,
                GoalKind::ModifyOrderAddress | GoalKind::ChangeDefaultAddress
            ) && focused.entities.address.is_none()
            {
                focused.entities.address = u.entities.address.clone();
            }
        }
        // Identification given anywhere in the message still counts, and so
        // does a cancel reason ("… ordered by mistake. cancel it").
        let all = &u.entities;
        if focused.entities.cancel_reason.is_none() && focused.intent == Intent::CancelOrder {
            focused.entities.cancel_reason = all.cancel_reason;
        }
        if focused.entities.payment.is_none()
            && matches!(
                focused.intent,
                Intent::ReturnItems | Intent::ExchangeItems | Intent::ModifyItems
            )
        {
            focused.entities.payment = all.payment.clone();
        }
        if focused.entities.emails.is_empty() {
            focused.entities.emails = all.emails.clone();
        }
        if focused.entities.name.is_none() {
            focused.entities.name = all.name.clone();
        }
        if focused.entities.zip.is_none() {
            focused.entities.zip = all.zip.clone();
        }
        Some(focused)
    }

    /// A "yes" to a size offered from memory reads as that size; any other
    /// answer drops the offer.
    fn accept_offer(&mut self, text: &str, u: &Understanding) -> Option<(String, Understanding)> {
        let goal = self.gate.state.goal.as_mut()?;
        let size = goal.memory_offer.take()?;
        if !(u.entities.yes_no == Some(true)
            || (u.entities.yes_no.is_none() && u.intent == Intent::Affirm))
        {
            return None;
        }
        let mut u = u.clone();
        u.entities.options.push(size.to_lowercase());
        Some((format!("{text} size {size}"), u))
    }

    async fn respond_to(&mut self, text: &str, u: &Understanding) -> Turn {
        self.confidence = u.confidence;
        // A rating answers the satisfaction question.
        if self.gate.state.awaiting_rating
            && let Some(r) = text.trim().chars().find(|c| ('1'..='5').contains(c))
            && text.trim().len() <= 12
        {
            self.gate.state.awaiting_rating = false;
            return Turn {
                reply: "Thank you for the feedback! Have a great day.".into(),
                outcome: Outcome::Rated(r as u8 - b'0'),
            };
        }
        // Asked for a person anywhere in the message ("I was charged twice.
        // I need a person from billing, not a bot").
        if u.intent == Intent::Human
            || u.requests
                .iter()
                .any(|r| r.intent == Intent::Human && r.confidence >= 0.9)
        {
            return self.escalate("the customer asked for a human");
        }
        if strongly_negative(text) {
            return self.escalate("the customer is very upset");
        }
        // A partial refund, a discount or compensation: no tool grants it.
        if asks_compensation(text) {
            self.gate.state.proposal = None;
            return self.escalate(
                "the customer asks for compensation (a partial refund or discount), which needs a person",
            );
        }
        // Several actions read back together: the answer says which to do.
        if self
            .gate
            .state
            .proposal
            .as_ref()
            .is_some_and(|p| !p.also.is_empty())
            && let Some(t) = self.answer_read_back(text, u).await
        {
            return t;
        }
        // A pending proposal: yes executes it, no drops it, anything else may refine it.
        if self.gate.state.proposal.is_some() {
            // "then put it on my paypal": new details replace the proposal, even after "ok".
            let refines = self.refines_proposal(u).await;
            match (u.entities.yes_no, u.intent) {
                _ if refines => {
                    self.gate.state.proposal = None;
                    // New options name another variant: choose it again.
                    if !u.entities.options.is_empty()
                        && let Some(g) = self.gate.state.goal.as_mut()
                        && matches!(g.kind, GoalKind::Exchange | GoalKind::ModifyItems)
                    {
                        g.new_items.clear();
                    }
                }
                (Some(true), _) | (None, Intent::Affirm) => return self.execute().await,
                // "wait, how long do refunds take?": answer, keep the proposal open.
                (None, Intent::Policy) if self.policy_answerable(u) => {
                    let answer = self.answer_from_articles(text).await;
                    return turn(format!(
                        "{}\n\nShall I go ahead with the change I described? Please answer yes or no.",
                        answer.reply
                    ));
                }
                (Some(false), _) | (None, Intent::Deny) => {
                    self.gate.state.proposal = None;
                    self.gate.state.goal = None;
                    return turn(format!(
                        "OK, I haven't changed anything. {}",
                        self.voice.anything_else()
                    ));
                }
                _ => {
                    self.gate.state.proposal = None;
                }
            }
        }
        let accepted = self.accept_offer(text, u);
        let (text, u) = match &accepted {
            Some((t, u)) => (t.as_str(), u),
            None => (text, u),
        };
        // "my email is … and where is my order?": the request may rank second behind identifying.
        let u = &with_goal_from_runner_up(u, self.limits.min_confidence);
        // "pay the difference with my gift card": the payment of an item change.
        let u = &self.difference_is_not_a_payment_change(u);
        // A name now and the zip later (or a corrected zip) still identify.
        let merged;
        let u = if self.gate.state.customer.is_none() {
            let mut m = u.clone();
            match (
                &m.entities.name,
                &m.entities.zip,
                &self.gate.state.pending_name,
            ) {
                // Kept even when a zip came too: "I flipped the digits, it's 92195".
                (Some(name), _, _) => self.gate.state.pending_name = Some(name.clone()),
                (None, Some(_), Some(name)) => m.entities.name = Some(name.clone()),
                _ => {}
            }
            merged = m;
            &merged
        } else {
            u
        };
        // Identification can come with any message.
        if self.gate.state.customer.is_none()
            && (!u.entities.emails.is_empty()
                || (u.entities.name.is_some() && u.entities.zip.is_some()))
        {
            if let Some(reply) = self.authenticate(u).await {
                return reply;
            }
            if self.gate.state.goal.is_none() && goal_for(u.intent).is_none() {
                let name = self.customer_first_name().await;
                return turn(format!(
                    "Thanks{}, I've found your account. How can I help?",
                    name.map(|n| format!(", {n}")).unwrap_or_default()
                ));
            }
        }
        // "my roommate (x@example.com) asked me to cancel his order": a task
        // for another account's holder is not done from this one.
        if self.gate.state.customer.is_some()
            && !u.entities.emails.is_empty()
            && goal_for(u.intent).is_some()
            && let Some(own) = self
                .customer()
                .await
                .and_then(|c| c["email"].as_str().map(str::to_lowercase))
            && names_another_account(&u.entities.emails, &own)
        {
            self.gate.state.goal = None;
            self.gate.state.proposal = None;
            self.gate.state.queue.clear();
            return turn(format!(
                "{} I can only help with the account you signed in with. The holder of that other account needs to contact us themselves. {}",
                self.voice.sorry(),
                self.voice.anything_else()
            ));
        }
        // "don't cancel it, change the address instead" / "forget the exchange".
        let taken_back;
        let mut switching = false;
        let u = match self.take_back(u) {
            Ok(Some(v)) => {
                taken_back = v;
                switching = true;
                &taken_back
            }
            Ok(None) => u,
            Err(t) => return t,
        };
        // A new task read with little confidence still counts when the
        // message carries what that task needs (an order number, an option,
        // an address); it never displaces a goal under way.
        let concrete = self.gate.state.goal.is_none()
            && (!u.entities.order_ids.is_empty()
                || !u.entities.options.is_empty()
                || u.entities.address.is_some());
        let min = if concrete {
            self.limits.min_confidence * 0.6
        } else {
            self.limits.min_confidence
        };
        // "update the address on my account": the account's, not the order's.
        let goal = goal_for(u.intent).map(|k| address_goal(k, &u.text));
        if let Some(kind) = goal.filter(|_| u.confidence >= min) {
            let same = self
                .gate
                .state
                .goal
                .as_ref()
                .is_some_and(|g| g.kind == kind);
            // A message that answers the current goal's question keeps it
            // ("new address is …" while changing an order's address).
            let keep = self.gate.state.goal.as_ref().is_some_and(|g| {
                // "the 5 ft one please" while a variant is being chosen
                // for a swap reads like buying; it is the answer.
                let choosing = matches!(g.kind, GoalKind::Exchange | GoalKind::ModifyItems)
                    && !g.items.is_empty()
                    && g.new_items.is_empty()
                    && kind == GoalKind::Buy
                    && u.entities.order_ids.is_empty();
                choosing
                    // "wrong one! i meant the order with …": the same task, another order.
                    || points_elsewhere(&u.text)
                    || (g.order_id.is_none() && picks_an_order(&u.text))
                    || answers(g.kind, u)
                        && !explicit_switch(kind, &u.text)
                        // "I changed my mind, change the address instead" is
                        // no cancel reason.
                        && !(g.kind == GoalKind::Cancel && correcting(&u.text))
            });
            // A goal taken back ("instead of returning it, exchange it") gives
            // way even when the message also answers it (a refund method).
            if !same && (!keep || switching) {
                let old = self.gate.state.goal.take();
                let mut goal = Goal::new(kind);
                if let Some(old) = old {
                    // Switching between goals about the same order keeps the
                    // order (and the items between a return and an exchange),
                    // unless the customer points at another one.
                    let lower = u.text.to_lowercase();
                    let elsewhere = ["other", "another", "different", "second"]
                        .iter()
                        .any(|w| lower.split_whitespace().any(|x| x == *w));
                    if related(old.kind, kind) && !elsewhere {
                        goal.order_id = old.order_id;
                        if matches!(kind, GoalKind::Return | GoalKind::Exchange) {
                            goal.items = old.items;
                        }
                    }
                    // "don't change the order, update my account address to that instead".
                    let address_goals =
                        [GoalKind::ModifyOrderAddress, GoalKind::ChangeDefaultAddress];
                    if address_goals.contains(&old.kind) && address_goals.contains(&kind) {
                        goal.address = old.address;
                    }
                    goal.context = old.context;
                }
                self.gate.state.goal = Some(goal);
            }
        } else if self.gate.state.goal.is_none() {
            return self.small_talk(text, u).await;
        } else if self.policy_answerable(u) {
            // A policy question in the middle of a task is answered; the task stays.
            return self.answer_from_articles(text).await;
        } else if closes_topic(u) {
            // "thanks", "bye", "never mind" end the current topic.
            self.gate.state.goal = None;
            return self.small_talk(text, u).await;
        }
        if let Some(goal) = self.gate.state.goal.as_mut() {
            // Slots given at any turn (even before sign-in) stay with the goal.
            if let Some(id) = u
                .entities
                .order_ids
                .first()
                .and_then(|s| OrderId::parse(s.as_str()).ok())
            {
                goal.order_id = Some(id);
            }
            if let Some(r) = cancel_reason(self.cancel_reasons, &u.text, u) {
                goal.reason = Some(r);
            }
            // "wrong one! i meant the order with the e-reader": the order is
            // chosen again, from this message alone.
            let elsewhere = goal.order_id.is_some()
                && u.entities.order_ids.is_empty()
                && points_elsewhere(&u.text);
            if elsewhere {
                goal.order_id = None;
                goal.items.clear();
                goal.new_items.clear();
                // What it keeps ("the grill stays") is no pointer to the order.
                goal.context = crate::nlu::entities::split_excluded(text).0;
            }
            if let Some(a) = &u.entities.address {
                goal.address = Some(to_address(a, "USA"));
            }
            if let Some(h) = &u.entities.payment {
                goal.payment_hint = Some(h.clone());
                goal.payment = None;
            }
            if !elsewhere {
                goal.context.push(' ');
                goal.context.push_str(text);
            }
            if goal.context.len() > 1000 {
                let cut = goal.context.len() - 1000;
                let cut = (cut..goal.context.len())
                    .find(|i| goal.context.is_char_boundary(*i))
                    .unwrap_or(0);
                goal.context.drain(..cut);
            }
        }
        // A product question while the order is still to be chosen is
        // answered; the goal waits for the order.
        if matches!(u.intent, Intent::ProductQuestion | Intent::Recommend)
            && u.confidence >= self.limits.min_confidence
            && u.entities.order_ids.is_empty()
            && self.gate.state.proposal.is_none()
            && self.gate.state.goal.as_ref().is_some_and(|g| {
                g.kind.needs_order() && g.order_id.is_none() && !answers(g.kind, u)
            })
        {
            return if u.intent == Intent::Recommend {
                self.recommend().await
            } else {
                self.products(text).await
            };
        }
        self.queue_second_change(u);
        let reply = self.advance(text, u).await;
        self.note_progress(reply)
    }

    /// Two changes to one order in one message ("ship it to … and charge my
    /// visa instead"): the second is queued for the same order.
    fn queue_second_change(&mut self, u: &Understanding) {
        let Some(goal) = self.gate.state.goal.as_ref() else {
            return;
        };
        let second = match goal.kind {
            GoalKind::ModifyOrderAddress
                if u.entities
                    .payment
                    .as_ref()
                    .is_some_and(|p| *p != PaymentHint::Original)
                    && !about_difference(&u.text) =>
            {
                GoalKind::ModifyPayment
            }
            GoalKind::ModifyPayment if u.entities.address.is_some() => GoalKind::ModifyOrderAddress,
            _ => return,
        };
        if self.gate.state.queue.iter().any(|q| q.kind == Some(second)) {
            return;
        }
        let mut request = crate::state::QueuedRequest::task(second, u.text.clone());
        request.same_order = true;
        request.address = u.entities.address.as_ref().map(|a| to_address(a, "USA"));
        self.gate.state.queue.push(request);
    }

    /// A proposal awaits and the message brings a detail that differs from
    /// it (another payment method, address, order or item): the customer is
    /// changing the request, not agreeing to it.
    async fn refines_proposal(&mut self, u: &Understanding) -> bool {
        let Some(p) = self.gate.state.proposal.clone() else {
            return false;
        };
        self.changes_any(u, &p.actions()).await
    }

    /// The message brings a detail that none of `actions` holds (another
    /// order, address, item or payment method, or new options for a swap).
    async fn changes_any(&mut self, u: &Understanding, actions: &[Action<'_>]) -> bool {
        let arg = |key: &str| -> Vec<&Value> {
            actions
                .iter()
                .map(|a| &a.arguments[key])
                .filter(|v| !v.is_null())
                .collect()
        };
        if let Some(id) = u.entities.order_ids.first() {
            let orders = arg("order_id");
            if !orders.is_empty() && !orders.iter().any(|o| o.as_str() == Some(id.as_str())) {
                return true;
            }
        }
        if let Some(a) = &u.entities.address
            && !arg("address1")
                .iter()
                .any(|x| x.as_str() == Some(a.address1.as_str()))
        {
            return true;
        }
        if !u.entities.item_ids.is_empty()
            && !u.entities.item_ids.iter().all(|i| {
                actions
                    .iter()
                    .any(|a| a.arguments.to_string().contains(i.as_str()))
            })
        {
            return true;
        }
        if let Some(hint) = &u.entities.payment
            && *hint != PaymentHint::Original
        {
            let Some(customer) = self.customer().await else {
                return true;
            };
            let current = arg("payment_method_id");
            return match match_method(&customer, hint, None) {
                Some(m) => !current.iter().any(|c| c.as_str() == Some(m.as_str())),
                // A method we cannot pin down.
                None => true,
            };
        }
        actions.iter().any(|a| {
            matches!(
                a.tool,
                "exchange_delivered_order_items" | "modify_pending_order_items"
            )
        }) && !u.entities.options.is_empty()
            && u.entities.yes_no != Some(true)
    }

    /// "pay the difference with my gift card" reads as an item change (or
    /// exchange), not as changing the whole order's payment method.
    fn difference_is_not_a_payment_change(&self, u: &Understanding) -> Understanding {
        let mut u = u.clone();
        if u.intent != Intent::ModifyPayment || !about_difference(&u.text) {
            return u;
        }
        let current = self
            .gate
            .state
            .goal
            .as_ref()
            .map(|g| g.kind)
            .filter(|k| matches!(k, GoalKind::Exchange | GoalKind::ModifyItems));
        let lower = u.text.to_lowercase();
        let intent = match current {
            Some(k) => intent_for(k),
            None => u
                .alternatives
                .iter()
                .map(|(i, _)| *i)
                .find(|i| matches!(i, Intent::ExchangeItems | Intent::ModifyItems))
                .or(Some(if lower.contains("exchange") {
                    Intent::ExchangeItems
                } else {
                    Intent::ModifyItems
                })),
        };
        if let Some(i) = intent {
            u.intent = i;
            u.confidence = u.confidence.max(self.limits.min_confidence);
        }
        u
    }

    /// The customer takes back the current goal ("don't cancel it, just
    /// change the address", "forget the exchange, I want to return it"): the
    /// reading with the new goal, or a question when none is named.
    fn take_back(&mut self, u: &Understanding) -> Result<Option<Understanding>, Turn> {
        let Some(current) = self.gate.state.goal.as_ref().map(|g| g.kind) else {
            return Ok(None);
        };
        if !takes_back(current, &u.text) {
            return Ok(None);
        }
        let lower = u.text.to_lowercase();
        // "cancel the exchange" names the old goal, not a cancellation.
        let spurious = |k: GoalKind| {
            k == GoalKind::Cancel
                && goal_words(current)
                    .iter()
                    .any(|w| lower.contains(&format!("cancel the {w}")))
        };
        // "instead of returning it could i exchange it": the other goal named
        // by its verb wins over the classifier's reading.
        let spaced = spaced_words(&u.text);
        let named = [
            (GoalKind::Exchange, [" exchange ", " swap "]),
            (GoalKind::Return, [" return ", " send it back "]),
        ]
        .into_iter()
        .find(|(k, words)| *k != current && words.iter().any(|w| spaced.contains(w)))
        .map(|(k, _)| k);
        let other = named
            .or_else(|| goal_for(u.intent))
            .filter(|k| *k != current && !spurious(*k))
            .or_else(|| {
                u.alternatives
                    .iter()
                    .filter(|(_, p)| *p >= 0.15)
                    .filter_map(|(i, _)| goal_for(*i))
                    .find(|k| *k != current && !spurious(*k))
            });
        // No other task named outright: what the message supplies tells
        // ("… ship it to 310 Alder Street instead").
        let other = other.or_else(|| {
            if u.entities.address.is_some() {
                Some(address_goal(GoalKind::ModifyOrderAddress, &u.text))
            } else if u
                .entities
                .payment
                .as_ref()
                .is_some_and(|p| *p != PaymentHint::Original)
            {
                Some(GoalKind::ModifyPayment)
            } else {
                None
            }
            .filter(|k| *k != current)
        });
        match other {
            Some(k) => {
                let mut v = u.clone();
                v.intent = intent_for(k).unwrap_or(v.intent);
                v.confidence = v.confidence.max(self.limits.min_confidence);
                Ok(Some(v))
            }
            None => {
                self.gate.state.goal = None;
                self.gate.state.proposal = None;
                Err(turn(format!(
                    "OK, I won't {}; nothing has been changed. What would you like to do instead?",
                    current.describe().replace("their", "your")
                )))
            }
        }
    }

    /// Counts a repeated reply as a failure; too many hand over to a human.
    fn note_progress(&mut self, t: Turn) -> Turn {
        if t.outcome != Outcome::Continue {
            return t;
        }
        if t.reply == self.gate.state.last_reply {
            self.gate.state.failures += 1;
            if self.gate.state.failures >= self.limits.max_failures {
                return self.escalate("the agent kept asking the same question without progress");
            }
        }
        self.gate.state.last_reply = t.reply.clone();
        t
    }

    async fn customer(&mut self) -> Option<Value> {
        if self.customer_cache.is_none() {
            let id = self.gate.state.customer.clone()?;
            self.customer_cache = self
                .gate
                .call("get_user_details", json!({"user_id": id}), self.confidence)
                .await
                .ok();
        }
        self.customer_cache.clone()
    }

    async fn customer_first_name(&mut self) -> Option<String> {
        self.customer()
            .await
            .and_then(|c| c["name"]["first_name"].as_str().map(String::from))
    }

    async fn authenticate(&mut self, u: &Understanding) -> Option<Turn> {
        let result = if let Some(email) = u.entities.emails.first() {
            self.gate
                .call(
                    "find_user_id_by_email",
                    json!({"email": email}),
                    self.confidence,
                )
                .await
        } else if let (Some((first, last)), Some(zip)) = (&u.entities.name, &u.entities.zip) {
            self.gate
                .call(
                    "find_user_id_by_name_zip",
                    json!({"first_name": first, "last_name": last, "zip": zip}),
                    self.confidence,
                )
                .await
        } else {
            return None;
        };
        match result {
            Ok(_) => {
                self.gate.state.log.push("identified the customer".into());
                None
            }
            Err(e) if e.code == "one_customer_per_conversation" => Some(turn(
                "I can only help one customer per conversation, and this one is already linked to another account.",
            )),
            Err(_) => {
                self.gate.state.failures += 1;
                Some(turn(format!(
                    "{} I couldn't find an account with those details. Could you check your email address, or give me your first and last name and zip code?",
                    self.voice.sorry()
                )))
            }
        }
    }

    async fn small_talk(&mut self, text: &str, u: &Understanding) -> Turn {
        match u.intent {
            Intent::Greeting => {
                let name = if self.gate.state.customer.is_some() { self.customer_first_name().await } else { None };
                turn(self.voice.greeting(name.as_deref()))
            }
            Intent::Thanks | Intent::Goodbye => Turn {
                reply: "You're welcome! Before you go: how would you rate this conversation from 1 (poor) to 5 (excellent)?".into(),
                outcome: Outcome::Wrap,
            },
            Intent::Complaint => turn(format!(
                "I'm sorry to hear that. Tell me what happened with your order and I'll do my best to fix it, or say \"human\" and I'll get a colleague. {}",
                ""
            ).trim_end().to_string()),
            Intent::Recommend => self.recommend().await,
            Intent::ProductQuestion => self.products(text).await,
            Intent::Identify if self.gate.state.customer.is_none() => turn(
                "To find your account, please give me your email address, or your first and last name and zip code.",
            ),
            Intent::Policy if self.policy_answerable(u) => self.answer_from_articles(text).await,
            Intent::Affirm | Intent::Deny | Intent::Identify => turn(format!("How can I help? {}", "I can check, cancel, return, exchange or change orders.")),
            Intent::OutOfScope if u.confidence >= self.limits.min_confidence => {
                self.gate.state.out_of_scope += 1;
                if self.gate.state.out_of_scope >= self.limits.max_out_of_scope {
                    return self.escalate("repeated request outside what the agent can do");
                }
                turn("I can help with your orders (status, tracking, cancellations, returns, exchanges, changes) and our products. That request is outside what I can do here.")
            }
            _ => {
                self.gate.state.failures += 1;
                if self.gate.state.failures >= self.limits.max_failures {
                    return self.escalate("the agent could not understand the request");
                }
                turn("I'm not sure I understood. I can check an order's status or tracking, cancel, return or exchange items, change an address or payment method, or help you find a product. What would you like to do?")
            }
        }
    }

    /// A queued product or policy question, answered on its own.
    async fn answer_question(&mut self, question: Intent, text: &str) -> Turn {
        match question {
            Intent::Policy => self.answer_from_articles(text).await,
            _ => self.products(text).await,
        }
    }

    /// A policy question the knowledge base can take.
    fn policy_answerable(&self, u: &Understanding) -> bool {
        u.intent == Intent::Policy
            && u.confidence >= self.limits.min_confidence
            && self.gate.has_knowledge()
    }

    /// Answers a policy question with the best article's passage, citing it by title.
    async fn answer_from_articles(&mut self, text: &str) -> Turn {
        let hits = self
            .call_list(KNOWLEDGE_TOOL, json!({"query": text, "limit": 3}))
            .await;
        let Some(best) = hits.first() else {
            self.gate.state.failures += 1;
            if self.gate.state.failures >= self.limits.max_failures {
                return self.escalate("questions the help articles do not answer");
            }
            return turn(
                "I couldn't find an answer to that in our help articles. Say \"human\" if you'd like me to connect you with a member of our team.",
            );
        };
        let title = best["title"].as_str().unwrap_or("help");
        self.gate.state.log.push(format!(
            "answered a policy question from the article \"{title}\""
        ));
        turn(format!(
            "From our \"{title}\" article: {}\n\n{}",
            best["snippet"].as_str().unwrap_or_default(),
            self.voice.anything_else()
        ))
    }

    /// Calls a tool for its output; a refusal reads as `Null`.
    async fn call_value(&mut self, tool: &str, args: Value) -> Value {
        let confidence = self.confidence;
        self.gate
            .call(tool, args, confidence)
            .await
            .unwrap_or_default()
    }

    /// Calls a tool that returns a list; a refusal or any other shape is an empty list.
    async fn call_list(&mut self, tool: &str, args: Value) -> Vec<Value> {
        let result = self.gate.call(tool, args, self.confidence).await;
        result
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    /// Suggestions: from the customer's purchases when signed in, else what is popular.
    async fn recommend(&mut self) -> Turn {
        let args = match &self.gate.state.customer {
            Some(c) => json!({"user_id": c, "limit": 3}),
            None => json!({"limit": 3}),
        };
        let picks = self.call_list("recommend_products", args).await;
        if picks.is_empty() {
            return turn(
                "I don't have a suggestion right now. Tell me what you're looking for and I'll search the catalog.",
            );
        }
        let lines: Vec<String> = picks
            .iter()
            .map(|p| {
                let why = if p["reason"] == "bought together" {
                    "often bought with what you have"
                } else {
                    "popular right now"
                };
                format!(
                    "- {} from {} ({why})",
                    p["name"].as_str().unwrap_or("?"),
                    money(&p["from_price"])
                )
            })
            .collect();
        turn(format!(
            "You might like:\n{}\nWant details on any of them?",
            lines.join("\n")
        ))
    }

    async fn products(&mut self, text: &str) -> Turn {
        let hits = self
            .call_list(
                "search_products",
                json!({"query": text, "limit": 3, "available_only": false}),
            )
            .await;
        if let Some(answer) = hits.first().and_then(|p| variant_answer(text, p)) {
            return turn(format!("{answer} {}", self.voice.anything_else()));
        }
        let hits: Vec<Value> = hits
            .into_iter()
            .filter_map(|mut p| {
                if let Some(v) = p["variants"].as_object_mut() {
                    v.retain(|_, x| x["available"] == true);
                }
                let any = p["variants"].as_object().is_some_and(|v| !v.is_empty());
                any.then_some(p)
            })
            .collect();
        if hits.is_empty() {
            return turn(
                "I couldn't find a matching product. Could you describe it differently (type, colour, size)?",
            );
        }
        let lines: Vec<String> = hits
            .iter()
            .map(|p| {
                let prices: Vec<f64> = p["variants"]
                    .as_object()
                    .map(|v| v.values().filter_map(|x| x["price"].as_f64()).collect())
                    .unwrap_or_default();
                let min = prices.iter().cloned().fold(f64::INFINITY, f64::min);
                format!(
                    "- {} from ${min:.2} ({} options in stock)",
                    p["name"].as_str().unwrap_or("?"),
                    prices.len()
                )
            })
            .collect();
        turn(format!(
            "Here's what I found:\n{}\nWould you like details on any of these?",
            lines.join("\n")
        ))
    }

    fn escalate(&mut self, reason: &str) -> Turn {
        self.gate.state.proposal = None;
        Turn {
            reply: "I'm connecting you with a member of our team. They'll see everything we've discussed, so you won't need to repeat yourself.".into(),
            outcome: Outcome::Escalate(reason.to_string()),
        }
    }

    /// Moves the current goal forward: identify, pick the order, collect slots, propose.
    async fn advance(&mut self, text: &str, u: &Understanding) -> Turn {
        let Some(goal) = self.gate.state.goal.clone() else {
            return self.small_talk(text, u).await;
        };
        if goal.kind == GoalKind::Loyalty && !self.gate.has_loyalty() {
            self.gate.state.goal = None;
            return turn(format!(
                "This shop doesn't have a points program I can look up. {}",
                self.voice.anything_else()
            ));
        }
        if self.gate.state.customer.is_none() {
            return turn(format!(
                "I can help you {}. First, I need to verify your identity: what's your email address? (Or your first and last name and zip code.)",
                goal.kind.describe().replace("their", "your")
            ));
        }
        let Some(customer) = self.customer().await else {
            return self.escalate("the customer's account could not be loaded");
        };
        let mut goal = goal;
        // The order.
        let order = if goal.kind.needs_order() {
            match self.resolve_order(&mut goal, u, &customer).await {
                Ok(order) => Some(order),
                Err(t) => {
                    self.gate.state.goal = Some(goal);
                    return t;
                }
            }
        } else {
            None
        };
        let result = self
            .collect(&mut goal, text, u, &customer, order.as_ref())
            .await;
        // A status or tracking answer finishes its goal, so that what the
        // customer asked next (queued) is taken up.
        let answered = self.gate.state.goal.is_none()
            && matches!(
                goal.kind,
                GoalKind::OrderStatus | GoalKind::Track | GoalKind::Loyalty
            );
        if !answered {
            self.gate.state.goal = Some(goal);
        }
        result
    }

    async fn resolve_order(
        &mut self,
        goal: &mut Goal,
        u: &Understanding,
        customer: &Value,
    ) -> Result<Value, Turn> {
        if let Some(id) = u
            .entities
            .order_ids
            .first()
            .and_then(|s| OrderId::parse(s.as_str()).ok())
        {
            goal.order_id = Some(id);
        }
        if let Some(id) = goal.order_id.clone() {
            return match self
                .gate
                .call(
                    "get_order_details",
                    json!({"order_id": id}),
                    self.confidence,
                )
                .await
            {
                Ok(order) => {
                    self.gate.state.log.push(format!("looked up order {id}"));
                    Ok(order)
                }
                Err(_) => {
                    goal.order_id = None;
                    self.gate.state.failures += 1;
                    Err(turn(format!(
                        "{} I couldn't find order {id} on your account. Could you check the order number (it looks like #W1234567)?",
                        self.voice.sorry()
                    )))
                }
            };
        }
        // No id given: list the customer's orders that fit the goal.
        let ids: Vec<String> = customer["orders"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut fitting = Vec::new();
        // Orders that don't fit the goal, for saying why.
        let mut others: Vec<(f32, Value)> = Vec::new();
        for id in ids.iter().rev().take(10) {
            if let Ok(order) = self
                .gate
                .call(
                    "get_order_details",
                    json!({"order_id": id}),
                    self.confidence,
                )
                .await
            {
                let status = order["status"].as_str().unwrap_or("");
                let fits = match goal.kind {
                    GoalKind::Cancel | GoalKind::ModifyItems => status == "pending",
                    GoalKind::ModifyOrderAddress | GoalKind::ModifyPayment => {
                        status.contains("pending")
                    }
                    GoalKind::Return | GoalKind::Exchange => status == "delivered",
                    _ => true,
                };
                // What the current message keeps ("the grill stays") points at no order.
                let said = format!(
                    "{} {}",
                    crate::nlu::entities::split_excluded(&goal.context).0,
                    crate::nlu::entities::split_excluded(&u.text).0
                );
                let mentioned = order["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| {
                        crate::nlu::entities::mention_score(&said, i["name"].as_str().unwrap_or(""))
                    })
                    .fold(0.0f32, f32::max);
                if fits {
                    fitting.push((mentioned, order));
                } else {
                    others.push((mentioned, order));
                }
            }
        }
        let best = fitting.iter().map(|(m, _)| *m).fold(0.0f32, f32::max);
        let mentioned: Vec<&Value> = fitting
            .iter()
            .filter(|(m, _)| best > 0.0 && *m >= best)
            .map(|(_, o)| o)
            .collect();
        // An order the customer names that can't have this done is handed
        // on, so the reply names its status and the rule.
        let best_other = others.iter().map(|(m, _)| *m).fold(0.0f32, f32::max);
        let named: Vec<&Value> = others
            .iter()
            .filter(|(m, _)| best_other > 0.0 && *m >= best_other && *m > best)
            .map(|(_, o)| o)
            .collect();
        // "cancel both of my orders", "all my pending orders": the first now,
        // each other one queued as the same request.
        let several: Vec<&Value> = match several_orders(&format!("{} {}", goal.context, u.text)) {
            Some(n) => {
                let set: Vec<&Value> = if mentioned.len() >= 2 {
                    mentioned.clone()
                } else if best == 0.0 {
                    fitting.iter().map(|(_, o)| o).collect()
                } else {
                    Vec::new()
                };
                if n.is_none_or(|n| n == set.len()) && (2..=MAX_ORDERS_AT_ONCE).contains(&set.len())
                {
                    set
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        if let [first, rest @ ..] = several.as_slice() {
            let said = format!("{} {}", goal.context, u.text);
            for o in rest.iter().rev() {
                self.gate.state.queue.insert(
                    0,
                    crate::state::QueuedRequest {
                        kind: Some(goal.kind),
                        question: None,
                        text: said.trim().to_string(),
                        address: goal.address.clone(),
                        same_order: false,
                        order_id: o["order_id"].as_str().and_then(|s| OrderId::parse(s).ok()),
                    },
                );
            }
            let first = (*first).clone();
            goal.order_id = first["order_id"]
                .as_str()
                .and_then(|s| OrderId::parse(s).ok());
            return Ok(first);
        }
        // "my latest order": the most recent one that fits (orders are
        // listed as placed, and were read newest first).
        let latest = best == 0.0 && means_latest(&format!("{} {}", goal.context, u.text));
        let pick = if latest && !fitting.is_empty() {
            Some(fitting[0].1.clone())
        } else if mentioned.len() == 1 {
            Some(mentioned[0].clone())
        } else if named.len() == 1 {
            Some(named[0].clone())
        } else if fitting.len() == 1 {
            Some(fitting[0].1.clone())
        } else if fitting.is_empty() && others.len() == 1 {
            Some(others[0].1.clone())
        } else {
            None
        };
        if let Some(order) = pick {
            goal.order_id = order["order_id"]
                .as_str()
                .and_then(|s| OrderId::parse(s).ok());
            return Ok(order);
        }
        if fitting.is_empty() {
            let statuses: Vec<String> = others
                .iter()
                .map(|(_, o)| {
                    format!(
                        "{} is {}",
                        o["order_id"].as_str().unwrap_or("?"),
                        o["status"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            let rule = match goal.kind {
                GoalKind::Cancel | GoalKind::ModifyItems => "only pending orders qualify",
                GoalKind::ModifyOrderAddress | GoalKind::ModifyPayment => {
                    "only orders that are still pending qualify"
                }
                GoalKind::Return | GoalKind::Exchange => "only delivered orders qualify",
                _ => "none qualifies",
            };
            return Err(turn(format!(
                "I don't see any order on your account that I could {} for: {}, and {rule}. If you have another order number, please share it.",
                goal.kind
                    .describe()
                    .trim_start_matches("check an order's ")
                    .trim_start_matches("an "),
                if statuses.is_empty() {
                    "you have no orders".to_string()
                } else {
                    statuses.join(", ")
                }
            )));
        }
        let list: Vec<String> = fitting
            .iter()
            .map(|(_, o)| format!("- {}", order_summary(o)))
            .collect();
        Err(turn(format!(
            "Which order do you mean?\n{}",
            list.join("\n")
        )))
    }

    async fn collect(
        &mut self,
        goal: &mut Goal,
        text: &str,
        u: &Understanding,
        customer: &Value,
        order: Option<&Value>,
    ) -> Turn {
        let status = order
            .and_then(|o| o["status"].as_str())
            .unwrap_or("")
            .to_string();
        let oid = goal
            .order_id
            .clone()
            .map(|o| o.to_string())
            .unwrap_or_default();
        let original = order
            .and_then(|o| o["payment_history"][0]["payment_method_id"].as_str())
            .map(String::from);
        if let Some(hint) = &u.entities.payment {
            goal.payment_hint = Some(hint.clone());
        }
        if let Some(hint) = &goal.payment_hint {
            goal.payment = match_method(customer, hint, original.as_deref());
        }
        match goal.kind {
            GoalKind::OrderStatus | GoalKind::Track => {
                self.gate.state.goal = None;
                let o = order.cloned().unwrap_or_default();
                let mut reply = format!("Order {}", order_summary(&o));
                if let Ok(t) = self
                    .gate
                    .call("track_order", json!({"order_id": oid}), self.confidence)
                    .await
                {
                    for s in t["shipments"].as_array().into_iter().flatten() {
                        reply.push_str(&format!(
                            "\nShipped with tracking {}: {}",
                            s["tracking_ids"]
                                .as_array()
                                .map(|a| a
                                    .iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "))
                                .unwrap_or_default(),
                            s["items"]
                                .as_array()
                                .map(|a| a
                                    .iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "))
                                .unwrap_or_default()
                        ));
                    }
                }
                goal.kind = GoalKind::OrderStatus;
                turn(format!("{reply}\n{}", self.voice.anything_else()))
            }
            GoalKind::Cancel => {
                if status != "pending" {
                    let why = match status.as_str() {
                        "delivered" => format!(
                            "order {oid} was delivered, so it can't be cancelled (only pending orders can be)"
                        ),
                        "cancelled" => format!("order {oid} is already cancelled"),
                        _ => format!(
                            "order {oid} is {status}, so it can't be cancelled any more (only pending orders can be)"
                        ),
                    };
                    return self.not_possible(goal, &why, status == "delivered");
                }
                if let Some(r) = cancel_reason(self.cancel_reasons, text, u) {
                    goal.reason = Some(r);
                }
                let Some(reason) = goal.reason.clone() else {
                    return turn(match self.cancel_reasons {
                        Some(allowed) => format!(
                            "I can cancel order {oid}. May I ask why? We accept: {}.",
                            quoted(allowed)
                        ),
                        None => format!(
                            "I can cancel order {oid}. May I ask why: is it no longer needed, or was it ordered by mistake?"
                        ),
                    });
                };
                if let Some(allowed) = self.cancel_reasons
                    && !allowed.contains(&reason)
                {
                    goal.reason = None;
                    return turn(format!(
                        "{} we can only cancel an order for one of these reasons: {}. Does one of them apply?",
                        self.voice.sorry(),
                        quoted(allowed)
                    ));
                }
                let o = order.cloned().unwrap_or_default();
                let refunds: Vec<String> = o["payment_history"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let id = p["payment_method_id"].as_str().unwrap_or("");
                        let when = if id.starts_with("gift_card") {
                            "immediately"
                        } else {
                            "within 5-7 business days"
                        };
                        format!(
                            "{} to your {} {when}",
                            money(&p["amount"]),
                            method_label(customer, id)
                        )
                    })
                    .collect();
                self.propose(
                    "cancel_pending_order",
                    json!({"order_id": oid, "reason": reason}),
                    format!(
                        "cancel order {} (reason: {reason}). You'll be refunded {}",
                        order_summary(&o),
                        refunds.join(" and ")
                    ),
                )
            }
            GoalKind::Return => {
                if status != "delivered" {
                    return self.not_possible(
                        goal,
                        &not_delivered(&oid, &status, "returned"),
                        false,
                    );
                }
                let o = order.cloned().unwrap_or_default();
                let said = goal.context.clone();
                self.pick_items(goal, &said, u, &o);
                if goal.items.is_empty() {
                    return turn(format!(
                        "Which items from {oid} would you like to return? It contains: {}.",
                        item_labels(&o)
                    ));
                }
                let method = match goal
                    .payment
                    .clone()
                    .map(|m| m.to_string())
                    .or(original.clone())
                {
                    Some(m) => m,
                    None => {
                        return turn(
                            "Where should the refund go: your original payment method or a gift card?",
                        );
                    }
                };
                let is_gift = customer["payment_methods"][&method]["source"] == "gift_card";
                if !is_gift && Some(&method) != original.as_ref() {
                    goal.payment = None;
                    return turn(format!(
                        "Refunds can go only to the original payment method ({}) or one of your gift cards. Which would you like?",
                        original
                            .as_deref()
                            .map(|m| method_label(customer, m))
                            .unwrap_or_default()
                    ));
                }
                let names = self.names_of(&o, &goal.items);
                self.propose(
                    "return_delivered_order_items",
                    json!({"order_id": oid, "item_ids": goal.items, "payment_method_id": method}),
                    format!("return {names} from order {oid}, refunded to your {}. You'll get an email with return instructions", method_label(customer, &method)),
                )
            }
            GoalKind::Exchange | GoalKind::ModifyItems => {
                // Swapping an item is an exchange once delivered and an item
                // change while pending, whichever word the customer used.
                match (goal.kind, status.as_str()) {
                    (GoalKind::Exchange, "pending") => goal.kind = GoalKind::ModifyItems,
                    (GoalKind::ModifyItems, "delivered") => goal.kind = GoalKind::Exchange,
                    _ => {}
                }
                let (needed, verb) = if goal.kind == GoalKind::Exchange {
                    ("delivered", "exchanged")
                } else {
                    ("pending", "changed")
                };
                if status != needed {
                    let why = if needed == "delivered" {
                        not_delivered(&oid, &status, verb)
                    } else {
                        format!(
                            "order {oid} is {status}, so its items can't be {verb} any more (only pending orders can have items changed){}",
                            if status == "delivered" {
                                "; I can exchange or return delivered items instead"
                            } else {
                                ""
                            }
                        )
                    };
                    return self.not_possible(goal, &why, false);
                }
                let o = order.cloned().unwrap_or_default();
                let said = goal.context.clone();
                self.pick_items(goal, &said, u, &o);
                if goal.items.is_empty() {
                    return turn(format!(
                        "Which items would you like {verb}? Order {oid} contains: {}. Please tell me all of them at once, since this can be done only once per order.",
                        item_labels(&o)
                    ));
                }
                // The current message wins (corrections); else anything said for this goal.
                if let Err(t) = self.pick_variants(goal, text, &o).await {
                    let said = goal.context.clone();
                    if said.trim() == text.trim() {
                        return t;
                    }
                    if let Err(t2) = self.pick_variants(goal, &said, &o).await {
                        // The current message named no option: what was said before decides.
                        let named = !crate::nlu::entities::extract(text).options.is_empty();
                        return if named { t } else { t2 };
                    }
                }
                let method = match goal
                    .payment
                    .clone()
                    .map(|m| m.to_string())
                    .or(original.clone())
                {
                    Some(m) => m,
                    None => return turn("Which payment method should cover any price difference?"),
                };
                let tool = if goal.kind == GoalKind::Exchange {
                    "exchange_delivered_order_items"
                } else {
                    "modify_pending_order_items"
                };
                let old = self.names_of(&o, &goal.items);
                let mut new_labels = Vec::new();
                let mut difference = 0.0;
                for (old_id, new_id) in goal.items.iter().zip(&goal.new_items) {
                    let item = self
                        .call_value("get_item_details", json!({"item_id": new_id}))
                        .await;
                    let name = o["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|i| i["item_id"] == old_id.as_str())
                        .cloned()
                        .unwrap_or_default();
                    difference += item["price"].as_f64().unwrap_or(0.0)
                        - name["price"].as_f64().unwrap_or(0.0);
                    let mut labelled = item.clone();
                    labelled["name"] = name["name"].clone();
                    new_labels.push(item_label(&labelled));
                }
                if difference > 0.005
                    && let Some(short) = gift_card_short(customer, &method, difference)
                {
                    goal.payment = None;
                    goal.payment_hint = None;
                    return turn(format!(
                        "{short} so it can't cover the price difference of ${difference:.2}. Which other payment method should I use? You have: {}.",
                        method_labels(customer, None)
                    ));
                }
                let money_line = if difference.abs() < 0.005 {
                    "there is no price difference".to_string()
                } else if difference > 0.0 {
                    format!(
                        "the difference of ${difference:.2} is charged to your {}",
                        method_label(customer, &method)
                    )
                } else {
                    format!(
                        "the difference of ${:.2} is refunded to your {}",
                        -difference,
                        method_label(customer, &method)
                    )
                };
                let verb = if goal.kind == GoalKind::Exchange {
                    "exchange"
                } else {
                    "change"
                };
                self.propose(
                    tool,
                    json!({"order_id": oid, "item_ids": goal.items, "new_item_ids": goal.new_items, "payment_method_id": method}),
                    format!("{verb} {old} in order {oid} for {}; {money_line}. This can be done only once for this order", new_labels.join(", ")),
                )
            }
            GoalKind::ModifyOrderAddress => {
                if !status.contains("pending") {
                    return self.not_possible(goal, &format!("order {oid} is {status}; the address can be changed only while it is pending"), false);
                }
                let country = order
                    .and_then(|o| o["address"]["country"].as_str())
                    .unwrap_or("USA")
                    .to_string();
                if let Some(a) = &u.entities.address {
                    goal.address = Some(to_address(a, &country));
                } else if goal.address.is_none()
                    && means_account_address(&format!("{} {}", goal.context, u.text))
                {
                    // "send it to my home address, the one on my account".
                    goal.address = serde_json::from_value(customer["address"].clone()).ok();
                }
                let Some(address) = goal.address.clone() else {
                    return turn(format!(
                        "What's the new shipping address for {oid}? Please include street, city, state and zip."
                    ));
                };
                self.propose(
                    "modify_pending_order_address",
                    address_arguments("order_id", &oid, &address),
                    format!("ship order {oid} to {}", address_line(&address)),
                )
            }
            GoalKind::ModifyPayment => {
                if !status.contains("pending") {
                    return self.not_possible(goal, &format!("order {oid} is {status}; the payment method can be changed only while it is pending"), false);
                }
                let current = original
                    .as_deref()
                    .map(|m| {
                        format!(
                            " It's currently paid with your {}.",
                            method_label(customer, m)
                        )
                    })
                    .unwrap_or_default();
                let Some(method) = goal.payment.clone() else {
                    return turn(format!(
                        "Which payment method would you like to use instead?{current} You could use: {}.",
                        method_labels(customer, original.as_deref())
                    ));
                };
                if Some(method.as_str()) == original.as_deref() {
                    goal.payment = None;
                    goal.payment_hint = None;
                    return turn(format!(
                        "Order {oid} is already paid with your {}. Which other method would you like? You could use: {}.",
                        method_label(customer, method.as_str()),
                        method_labels(customer, original.as_deref())
                    ));
                }
                let total = order
                    .and_then(|o| o["payment_history"][0]["amount"].as_f64())
                    .unwrap_or(0.0);
                if let Some(short) = gift_card_short(customer, method.as_str(), total) {
                    goal.payment = None;
                    goal.payment_hint = None;
                    return turn(format!(
                        "{short} so it can't pay the ${total:.2} for order {oid}. Which other method would you like? You could use: {}.",
                        method_labels(customer, original.as_deref())
                    ));
                }
                let amount = order
                    .map(|o| money(&o["payment_history"][0]["amount"]))
                    .unwrap_or_default();
                self.propose(
                    "modify_pending_order_payment",
                    json!({"order_id": oid, "payment_method_id": method}),
                    format!("pay {amount} for order {oid} with your {} instead; the original payment is refunded", method_label(customer, method.as_str())),
                )
            }
            GoalKind::Buy => self.collect_purchase(goal, u, customer).await,
            GoalKind::Loyalty => {
                self.gate.state.goal = None;
                let uid = customer["user_id"].as_str().unwrap_or_default().to_string();
                match self
                    .gate
                    .call(LOYALTY_TOOL, json!({"user_id": uid}), self.confidence)
                    .await
                {
                    Ok(b) => turn(format!(
                        "{}\n{}",
                        loyalty_summary(&b),
                        self.voice.anything_else()
                    )),
                    Err(_) => turn(format!(
                        "{} I can't reach the points ledger right now. {}",
                        self.voice.sorry(),
                        self.voice.anything_else()
                    )),
                }
            }
            GoalKind::ChangeDefaultAddress => {
                let country = customer["address"]["country"]
                    .as_str()
                    .unwrap_or("USA")
                    .to_string();
                if let Some(a) = &u.entities.address {
                    goal.address = Some(to_address(a, &country));
                } else if goal.address.is_none()
                    && means_account_address(&format!("{} {}", goal.context, u.text))
                {
                    // "send it to my home address, the one on my account".
                    goal.address = serde_json::from_value(customer["address"].clone()).ok();
                }
                let Some(address) = goal.address.clone() else {
                    return turn(
                        "What's your new default address? Please include street, city, state and zip.",
                    );
                };
                let uid = customer["user_id"].as_str().unwrap_or_default().to_string();
                self.propose(
                    "modify_user_address",
                    address_arguments("user_id", &uid, &address),
                    format!("change your default address to {}", address_line(&address)),
                )
            }
        }
    }

    /// Buying: product, variant, quantity and payment, then a `place_order` proposal.
    async fn collect_purchase(
        &mut self,
        goal: &mut Goal,
        u: &Understanding,
        customer: &Value,
    ) -> Turn {
        if let Some(q) = u.entities.quantity {
            goal.quantity = Some(q.clamp(1, 20));
        }
        let said = goal.context.clone();
        if goal.product_id.is_none() {
            let first = self
                .call_list("search_products", json!({"query": said, "limit": 1}))
                .await
                .into_iter()
                .next();
            match first.and_then(|p| {
                p["product_id"]
                    .as_str()
                    .and_then(|s| hc_domain::ProductId::parse(s).ok())
            }) {
                Some(id) => goal.product_id = Some(id),
                None => {
                    return turn(
                        "Which product would you like to buy? Tell me what it is (for example \"hiking boots\").",
                    );
                }
            }
        }
        let pid = goal
            .product_id
            .clone()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let product = self
            .call_value("get_product_details", json!({"product_id": pid}))
            .await;
        let name = product["name"]
            .as_str()
            .unwrap_or("that product")
            .to_string();
        let available: Vec<(&String, &Value)> = product["variants"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v["available"] == true)
            .collect();
        if available.is_empty() {
            goal.product_id = None;
            return turn(format!(
                "{} {name} is out of stock right now.",
                self.voice.sorry()
            ));
        }
        if goal.new_items.is_empty() {
            let scored: Vec<(usize, &String)> = available
                .iter()
                .map(|(id, v)| {
                    let hits = v["options"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(_, o)| {
                            o.as_str().is_some_and(|o| {
                                crate::nlu::entities::mention_score(&said, o) >= 0.99
                            })
                        })
                        .count();
                    (hits, *id)
                })
                .collect();
            let best = scored.iter().map(|(h, _)| *h).max().unwrap_or(0);
            let top: Vec<&String> = scored
                .iter()
                .filter(|(h, _)| *h == best)
                .map(|(_, id)| *id)
                .collect();
            if top.len() == 1 {
                goal.new_items = hc_domain::ItemId::parse(top[0].as_str())
                    .into_iter()
                    .collect();
            } else {
                let options: Vec<String> = available
                    .iter()
                    .filter(|(id, _)| top.contains(id))
                    .take(6)
                    .map(|(_, v)| {
                        let opts: Vec<&str> = v["options"]
                            .as_object()
                            .into_iter()
                            .flatten()
                            .filter_map(|(_, o)| o.as_str())
                            .collect();
                        format!("{} ({})", opts.join(", "), money(&v["price"]))
                    })
                    .collect();
                let offer = self
                    .offer_purchase_size(goal, &name, &said, &available, &top)
                    .await
                    .map(|o| format!(" {o}"))
                    .unwrap_or_default();
                return turn(format!(
                    "Which {name} would you like? In stock: {}.{offer}",
                    options.join("; ")
                ));
            }
        }
        let item = goal.new_items[0].to_string();
        let variant = &product["variants"][&item];
        let quantity = goal.quantity.unwrap_or(1);
        let methods: Vec<String> = customer["payment_methods"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect();
        if goal.payment.is_none() && methods.len() == 1 {
            goal.payment = PaymentMethodId::parse(methods[0].as_str()).ok();
        }
        let Some(method) = goal.payment.clone() else {
            let labels: Vec<String> = methods.iter().map(|m| method_label(customer, m)).collect();
            return turn(format!(
                "How would you like to pay? You have: {}.",
                labels.join(", ")
            ));
        };
        let unit = variant["price"].as_f64().unwrap_or(0.0);
        let total = unit * f64::from(quantity);
        let mut labelled = variant.clone();
        labelled["name"] = json!(name);
        let a = &customer["address"];
        let mut args = json!({"user_id": customer["user_id"], "items": [{"item_id": item, "quantity": quantity}], "payment_method_id": method});
        let label = method_label(customer, method.as_str());
        let mut paid = format!("paid with your {label}");
        let mut note = String::new();
        if self.gate.has_loyalty() && wants_points(&format!("{} {}", goal.context, u.text)) {
            let b = self
                .gate
                .call(
                    LOYALTY_TOOL,
                    json!({"user_id": customer["user_id"], "order_total": total}),
                    self.confidence,
                )
                .await
                .unwrap_or_default();
            match (b["usable_points"].as_u64(), b["usable_discount"].as_f64()) {
                (Some(n), Some(off)) if n > 0 => {
                    args["loyalty_points"] = json!(n);
                    paid = format!(
                        "using {} points (${off:.2} off), the remaining ${:.2} paid with your {label}",
                        thousands(n),
                        total - off
                    );
                }
                _ => note = "You have no points that can be used on this order. ".into(),
            }
        }
        let proposal = self.propose(
            "place_order",
            args,
            format!(
                "order {quantity} × {} at ${unit:.2} each (total ${total:.2}), {paid}, shipped to {}, {}",
                item_label(&labelled),
                a["address1"].as_str().unwrap_or(""),
                a["city"].as_str().unwrap_or("")
            ),
        );
        Turn {
            reply: format!("{note}{}", proposal.reply),
            ..proposal
        }
    }

    fn not_possible(&mut self, goal: &mut Goal, why: &str, suggest_return: bool) -> Turn {
        if let Some(o) = goal.order_id.take() {
            // A request queued about "it" is about this order.
            self.gate.state.last_order = Some(o);
        }
        self.refused = true;
        self.gate.state.goal = None;
        let hint = if suggest_return {
            " I can start a return instead."
        } else {
            ""
        };
        turn(format!(
            "{} {why}.{hint} {}",
            self.voice.sorry(),
            self.voice.anything_else()
        ))
    }

    fn names_of(&self, order: &Value, ids: &[ItemId]) -> String {
        ids.iter()
            .map(|id| {
                order["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|i| i["item_id"] == id.as_str())
                    .map(item_label)
                    .unwrap_or_else(|| id.to_string())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Items of the order the customer means. The current message wins (a
    /// correction replaces the items: "it's the earbuds, not the kettle"); else
    /// everything said for this goal. Item ids, "all of them", or the names
    /// mentioned, minus those excluded ("keep the kettle").
    fn pick_items(&self, goal: &mut Goal, text: &str, u: &Understanding, order: &Value) {
        let from_message = items_meant(&u.text, u, order);
        let named_now = from_message.is_some();
        let picked = match from_message {
            Some(p) => p,
            None if goal.items.is_empty() => items_meant(text, u, order).unwrap_or_default(),
            None => goal.items.clone(),
        };
        // Items the current message excludes leave the selection.
        let (wanted, excluded) = crate::nlu::entities::split_excluded(&u.text);
        let units: Vec<Value> = picked
            .iter()
            .map(|id| {
                order["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|i| i["item_id"] == id.as_str())
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let unit_refs: Vec<&Value> = units.iter().collect();
        // "only the green one" / "i'm keeping the grey one" among units of one
        // product: told apart by their options.
        let only = !named_now
            && [" only ", " just "]
                .iter()
                .any(|w| spaced_words(&u.text).contains(w));
        let picked: Vec<ItemId> = picked
            .into_iter()
            .zip(&units)
            .filter(|(_, unit)| {
                let name = unit["name"].as_str().unwrap_or("");
                let same: Vec<&Value> = unit_refs
                    .iter()
                    .copied()
                    .filter(|t| t["name"] == unit["name"])
                    .collect();
                let by_options = same.len() >= 2;
                let kept_by_name = !excluded.is_empty()
                    && crate::nlu::entities::mention_score(&excluded, name) >= 0.99;
                let kept_by_options = by_options
                    && !excluded.is_empty()
                    && distinct_options_named(&excluded, unit, &same);
                let not_the_only = only
                    && by_options
                    && !distinct_options_named(&wanted, unit, &same)
                    && same
                        .iter()
                        .any(|t| distinct_options_named(&wanted, t, &same));
                !(kept_by_name || kept_by_options || not_the_only)
            })
            .map(|(id, _)| id)
            .collect();
        // "two of the same t-shirt … return one of them": one unit of identical ones.
        let mut picked = picked;
        let said = spaced_words(&format!("{text} {}", u.text));
        if [" one of them ", " one of the ", " just one ", " only one "]
            .iter()
            .any(|w| said.contains(w))
        {
            let mut seen = std::collections::HashSet::new();
            picked.retain(|id| seen.insert(id.clone()));
        }
        if goal.items != picked {
            goal.items = picked;
            goal.new_items.clear();
        }
    }

    /// For each item to swap, the available variant of the same product whose
    /// options the customer named; asks when none or several fit.
    async fn pick_variants(
        &mut self,
        goal: &mut Goal,
        text: &str,
        order: &Value,
    ) -> Result<(), Turn> {
        if goal.new_items.len() == goal.items.len() && !goal.new_items.is_empty() {
            return Ok(());
        }
        let mut chosen = Vec::new();
        for old in &goal.items.clone() {
            let item = order["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| i["item_id"] == old.as_str())
                .cloned()
                .unwrap_or_default();
            let pid = item["product_id"].as_str().unwrap_or_default().to_string();
            let product = self
                .call_value("get_product_details", json!({"product_id": pid}))
                .await;
            let mut best: Vec<(f32, String)> = Vec::new();
            // "red, not blue", "white instead of blue": the options not wanted don't count.
            let (wanted, _) = crate::nlu::entities::split_excluded_options(text);
            let named = |o: &str| crate::nlu::entities::mention_score(&wanted, o) >= 0.99;
            let lower = spaced_words(text);
            for (id, v) in product["variants"].as_object().into_iter().flatten() {
                if id == old.as_str() || v["available"] != true {
                    continue;
                }
                let opts: Vec<String> = v["options"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, x)| x.as_str().map(String::from))
                    .collect();
                let old_opts: Vec<String> = item["options"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, x)| x.as_str().map(String::from))
                    .collect();
                // Only options that differ from the current item count as "named".
                let changed: Vec<&String> = opts.iter().filter(|o| !old_opts.contains(o)).collect();
                // "the one without backlight": the option's "none".
                let hits = v["options"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(key, x)| x.as_str().map(|x| (key, x)))
                    .filter(|(_, x)| !old_opts.iter().any(|o| o == x))
                    .filter(|(key, x)| named(x) || none_named(&lower, key, x))
                    .count();
                // "same small fleece", "still size L": a variant that changes an
                // option the customer restated, to a value not named, is not it.
                let kept_changed = item["options"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(key, was)| {
                        let now = v["options"][key.as_str()].as_str().unwrap_or_default();
                        was.as_str()
                            .is_some_and(|w| w != now && named(w) && !named(now))
                    })
                    .count();
                let score =
                    hits as f32 - kept_changed as f32 - 0.01 * (changed.len() - hits) as f32;
                if hits > 0 && score > 0.0 {
                    best.push((score, id.clone()));
                }
            }
            best.sort_by(|a, b| b.0.total_cmp(&a.0));
            if best.is_empty()
                && let Some(t) = self.unavailable_option(text, &item, &product)
            {
                return Err(t);
            }
            if best.is_empty()
                && let Some(offer) = self.offer_size(goal, &item, &product).await
            {
                return Err(turn(offer));
            }
            match best.as_slice() {
                [] => {
                    return Err(turn(format!(
                        "What would you like instead of the {}? Tell me the option you want (for example a colour or size).",
                        item_label(&item)
                    )));
                }
                [(top, id), rest @ ..] if rest.first().is_none_or(|(s, _)| s < top) => {
                    chosen.push(
                        ItemId::parse(id.as_str())
                            .map_err(|_| turn("That option isn't available."))?,
                    );
                }
                _ => {
                    return Err(turn(format!(
                        "Several options match for the {}. Could you be more specific?",
                        item_label(&item)
                    )));
                }
            }
        }
        goal.new_items = chosen;
        Ok(())
    }

    /// The customer named an option no available variant has ("the silver
    /// one" when silver is sold out, or not made): say so plainly and list
    /// what can be had.
    fn unavailable_option(&self, text: &str, item: &Value, product: &Value) -> Option<Turn> {
        let current: Vec<&str> = item["options"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, x)| x.as_str())
            .collect();
        let variants: Vec<&Value> = product["variants"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(id, _)| item["item_id"] != id.as_str())
            .map(|(_, v)| v)
            .collect();
        let values = |v: &Value| -> Vec<String> {
            v["options"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, x)| x.as_str().map(String::from))
                .collect()
        };
        // Option values named in the message that only unavailable variants have.
        let mut sold_out: Vec<String> = Vec::new();
        for v in variants.iter().filter(|v| v["available"] != true) {
            for o in values(v) {
                if !current.contains(&o.as_str())
                    && crate::nlu::entities::mention_score(text, &o) >= 0.99
                    && !sold_out.contains(&o)
                {
                    sold_out.push(o);
                }
            }
        }
        // Colour, size or material words the product doesn't come in at all.
        let all_values: Vec<String> = variants.iter().flat_map(|v| values(v)).collect();
        let never: Vec<String> = crate::nlu::entities::extract(text)
            .options
            .into_iter()
            .filter(|w| {
                // Sizes are written too many ways ("large", "L") to call missing.
                !matches!(
                    w.as_str(),
                    "xs" | "s" | "m" | "l" | "xl" | "xxl" | "xxxl" | "small" | "medium" | "large"
                ) && w.chars().any(char::is_alphabetic)
                    && !current.iter().any(|c| c.eq_ignore_ascii_case(w))
                    && !all_values
                        .iter()
                        .any(|v| crate::nlu::entities::mention_score(v, w) >= 0.99)
            })
            .collect();
        if sold_out.is_empty() && never.is_empty() {
            return None;
        }
        let name = item["name"].as_str().unwrap_or("item");
        let mut reply = String::new();
        if !sold_out.is_empty() {
            reply.push_str(&format!(
                "{} the {name} in {} is not available right now.",
                self.voice.sorry(),
                sold_out.join(", ")
            ));
        } else {
            reply.push_str(&format!(
                "{} the {name} doesn't come in {}.",
                self.voice.sorry(),
                never.join(", ")
            ));
        }
        let available: Vec<String> = variants
            .iter()
            .filter(|v| v["available"] == true)
            .take(6)
            .map(|v| format!("{} ({})", values(v).join(", "), money(&v["price"])))
            .collect();
        if available.is_empty() {
            reply.push_str(&format!(" No other version of the {name} is available."));
        } else {
            reply.push_str(&format!(
                " Available instead: {}. Would you like one of these?",
                available.join("; ")
            ));
        }
        Some(turn(reply))
    }

    /// The size remembered for a product type, offered once per goal when
    /// the customer has not named one.
    async fn remembered_size(&mut self, goal: &mut Goal, product_type: &str) -> Option<String> {
        if goal.memory_offered {
            return None;
        }
        let facts = self.gate.recall().await.ok()?;
        crate::memory::remembered_size(&facts, product_type).map(String::from)
    }

    /// Exchange or item change with nothing named: "Last time your jacket was
    /// an M — want M again?" when the remembered size differs from the item's
    /// and that variant (other options unchanged) is available.
    async fn offer_size(
        &mut self,
        goal: &mut Goal,
        item: &Value,
        product: &Value,
    ) -> Option<String> {
        let product_type = item["name"].as_str()?.to_string();
        let size = self.remembered_size(goal, &product_type).await?;
        let current = item["options"].as_object()?;
        let (axis, now) = current
            .iter()
            .find(|(k, _)| k.to_lowercase().contains("size"))?;
        if now.as_str().is_some_and(|n| n.eq_ignore_ascii_case(&size)) {
            return None;
        }
        let exists = product["variants"].as_object()?.values().any(|v| {
            v["available"] == true
                && v["options"].as_object().is_some_and(|o| {
                    o.iter().all(|(k, x)| {
                        if k == axis {
                            x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(&size))
                        } else {
                            current.get(k) == Some(x)
                        }
                    })
                })
        });
        if !exists {
            return None;
        }
        goal.memory_offered = true;
        goal.memory_offer = Some(size.clone());
        Some(crate::memory::size_offer(&product_type, &size))
    }

    /// Buying with several variants left: the remembered size, if the
    /// customer named no size and some of those variants come in it.
    async fn offer_purchase_size(
        &mut self,
        goal: &mut Goal,
        product_type: &str,
        said: &str,
        available: &[(&String, &Value)],
        top: &[&String],
    ) -> Option<String> {
        let sizes: Vec<&str> = available
            .iter()
            .flat_map(|(_, v)| v["options"].as_object().into_iter().flatten())
            .filter(|(k, _)| k.to_lowercase().contains("size"))
            .filter_map(|(_, x)| x.as_str())
            .collect();
        if sizes
            .iter()
            .any(|s| crate::nlu::entities::mention_score(said, s) >= 0.99)
        {
            return None;
        }
        let size = self.remembered_size(goal, product_type).await?;
        let fits = available.iter().any(|(id, v)| {
            top.contains(id)
                && v["options"].as_object().is_some_and(|o| {
                    o.iter().any(|(k, x)| {
                        k.to_lowercase().contains("size")
                            && x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(&size))
                    })
                })
        });
        if !fits {
            return None;
        }
        goal.memory_offered = true;
        goal.memory_offer = Some(size.clone());
        Some(crate::memory::size_offer(product_type, &size))
    }

    fn propose(&mut self, tool: &str, arguments: Value, description: String) -> Turn {
        self.gate.state.failures = 0;
        let proposal = Proposal::new(tool, arguments, description);
        let reply = self.read_back(&proposal);
        self.gate.state.proposal = Some(proposal);
        turn(reply)
    }

    /// The proposal as told to the customer: its one action, or every action
    /// numbered, with the question.
    fn read_back(&self, p: &Proposal) -> String {
        let actions = p.actions();
        if let [one] = actions.as_slice() {
            return format!(
                "To confirm, I'll {}. {}",
                one.description,
                self.voice.confirm_question()
            );
        }
        let lines: Vec<String> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{}. {}.", i + 1, sentence(a.description)))
            .collect();
        format!(
            "To confirm, I'll do these {} things:\n{}\n{}",
            actions.len(),
            lines.join("\n"),
            self.voice.confirm_all_question()
        )
    }

    /// The turn ends on a fresh proposal while further write requests of the
    /// same message wait in the queue: when every one of them can be fully
    /// specified now, they join the proposal and all are read back together
    /// (one numbered list, one question). If any still needs something from
    /// the customer (or cannot be done), nothing changes and they are taken
    /// up one at a time after the first, as before.
    async fn read_back_together(&mut self, t: &Turn) -> Option<Turn> {
        let first = self.gate.state.proposal.clone()?;
        let told = self.read_back(&first);
        if t.outcome != Outcome::Continue
            || !first.also.is_empty()
            || !READ_BACK_TOGETHER.contains(&first.tool.as_str())
            || !t.reply.contains(&told)
        {
            return None;
        }
        let waiting: Vec<usize> = (0..self.gate.state.queue.len())
            .filter(|&i| self.gate.state.queue[i].kind.is_some_and(is_write_goal))
            .collect();
        if waiting.is_empty() {
            return None;
        }
        // Each request is worked out as if its turn had come; only the
        // proposal it ends in is kept (what was looked up stays in the
        // gate's record of calls).
        let saved = self.gate.state.clone();
        let refused = std::mem::take(&mut self.refused);
        let mut also: Vec<FurtherAction> = Vec::new();
        let mut before = first.arguments["order_id"]
            .as_str()
            .and_then(|o| OrderId::parse(o).ok());
        for &i in &waiting {
            let next = saved.queue[i].clone();
            let Some(kind) = next.kind else {
                break;
            };
            let nu = self.nlu.understand(&next.text);
            let mut goal = Goal::new(kind);
            goal.context = next.text.clone();
            goal.address = next.address.clone();
            if next.same_order && nu.entities.order_ids.is_empty() {
                goal.order_id = before.clone();
            }
            if let Some(id) = &next.order_id {
                goal.order_id = Some(id.clone());
            }
            self.gate.state.goal = Some(goal);
            self.gate.state.proposal = None;
            self.gate.state.queue.clear();
            self.refused = false;
            let _ = self.advance(&next.text, &nu).await;
            let proposed = self.gate.state.proposal.take().filter(|p| {
                self.gate.state.queue.is_empty()
                    && !self.refused
                    && READ_BACK_TOGETHER.contains(&p.tool.as_str())
            });
            let Some(p) = proposed else {
                break;
            };
            if let Some(o) = p.arguments["order_id"]
                .as_str()
                .and_then(|o| OrderId::parse(o).ok())
            {
                before = Some(o);
            }
            also.push(FurtherAction {
                tool: p.tool,
                arguments: p.arguments,
                description: p.description,
                request: next,
            });
        }
        *self.gate.state = saved;
        self.refused = refused;
        let mut proposal = first;
        if also.len() < waiting.len() {
            return None;
        }
        proposal.also = also;
        if !fits_together(&proposal.actions()) {
            return None;
        }
        for &i in waiting.iter().rev() {
            self.gate.state.queue.remove(i);
        }
        let reply = t.reply.replacen(&told, &self.read_back(&proposal), 1);
        self.gate.state.proposal = Some(proposal);
        Some(Turn {
            reply,
            outcome: t.outcome.clone(),
        })
    }

    /// The answer to several actions read back together: a yes carries out
    /// all of them; "only the first", "just the return", "yes but not the
    /// cancellation" only those named; "no" none; "not the return" alone
    /// reads back what is left. `None` when the message is no answer to it
    /// (new details, another request): the further actions go back to the
    /// queue and the first is handled as a proposal on its own.
    async fn answer_read_back(&mut self, text: &str, u: &Understanding) -> Option<Turn> {
        let p = self.gate.state.proposal.clone()?;
        let actions = p.actions();
        let n = actions.len();
        let yes = u.entities.yes_no == Some(true)
            || (u.entities.yes_no.is_none() && u.intent == Intent::Affirm);
        let no = u.entities.yes_no == Some(false)
            || (u.entities.yes_no.is_none() && u.intent == Intent::Deny);
        if self.changes_any(u, &actions).await {
            self.split_read_back();
            return None;
        }
        let everything: Vec<usize> = (0..n).collect();
        match choose(text, &actions) {
            Choice::Only(chosen) => Some(self.execute_chosen(&chosen).await),
            Choice::All if !no => Some(self.execute_chosen(&everything).await),
            Choice::Unnamed if yes => Some(self.execute_chosen(&everything).await),
            Choice::Except(left_out) => {
                let rest: Vec<usize> = everything
                    .into_iter()
                    .filter(|i| !left_out.contains(i))
                    .collect();
                if yes {
                    return Some(self.execute_chosen(&rest).await);
                }
                let dropped: Vec<String> = left_out
                    .iter()
                    .map(|&i| action_label(&actions[i]))
                    .collect();
                if rest.is_empty() {
                    return Some(self.decline_read_back());
                }
                // Nothing named to do: what is left is read back for a yes of its own.
                let Some(kept) = self.keep_actions(&rest) else {
                    return Some(self.decline_read_back());
                };
                let told = self.read_back(&kept);
                self.gate.state.proposal = Some(kept);
                Some(turn(format!(
                    "OK, I won't {}. {told}",
                    dropped.join(" or ")
                )))
            }
            Choice::All | Choice::Unnamed if no => Some(self.decline_read_back()),
            // "wait, how long do refunds take?": answered, the proposal stays open.
            Choice::Unnamed if u.intent == Intent::Policy && self.policy_answerable(u) => {
                let answer = self.answer_from_articles(text).await;
                Some(turn(format!(
                    "{}\n\nShall I go ahead with the changes I listed? Please answer yes or no, or tell me which ones.",
                    answer.reply
                )))
            }
            _ => {
                self.split_read_back();
                None
            }
        }
    }

    /// "no": nothing of the read-back is done.
    fn decline_read_back(&mut self) -> Turn {
        self.gate.state.proposal = None;
        self.gate.state.goal = None;
        turn(format!(
            "OK, I haven't changed anything. {}",
            self.voice.anything_else()
        ))
    }

    /// The read-back narrowed to the actions at `keep` (in order), with the
    /// goal of its new first action.
    fn keep_actions(&mut self, keep: &[usize]) -> Option<Proposal> {
        let p = self.gate.state.proposal.take()?;
        let mut all: Vec<(Proposal, Option<crate::state::QueuedRequest>)> = vec![(
            Proposal::new(p.tool.clone(), p.arguments.clone(), p.description.clone()),
            None,
        )];
        all.extend(p.also.into_iter().map(|a| {
            (
                Proposal::new(a.tool, a.arguments, a.description),
                Some(a.request),
            )
        }));
        let mut kept: Vec<(Proposal, Option<crate::state::QueuedRequest>)> = all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, x)| x)
            .collect();
        if kept.is_empty() {
            return None;
        }
        let (mut first, request) = kept.remove(0);
        if let Some(r) = request {
            // The first action is gone: its goal gives way to the new first's.
            let mut goal = Goal::new(r.kind.unwrap_or(GoalKind::OrderStatus));
            goal.order_id = first.arguments["order_id"]
                .as_str()
                .and_then(|o| OrderId::parse(o).ok());
            goal.context = r.text;
            self.gate.state.goal = Some(goal);
        }
        first.also = kept
            .into_iter()
            .filter_map(|(p, r)| {
                r.map(|request| FurtherAction {
                    tool: p.tool,
                    arguments: p.arguments,
                    description: p.description,
                    request,
                })
            })
            .collect();
        Some(first)
    }

    /// The customer changes something instead of answering the read-back:
    /// the first action stays proposed, the others wait in the queue again
    /// and are taken up one at a time.
    fn split_read_back(&mut self) {
        let Some(p) = self.gate.state.proposal.as_mut() else {
            return;
        };
        let further: Vec<crate::state::QueuedRequest> = std::mem::take(&mut p.also)
            .into_iter()
            .map(|a| a.request)
            .collect();
        for (i, r) in further.into_iter().enumerate() {
            self.gate.state.queue.insert(i, r);
        }
    }

    /// Runs one confirmed action through the gate: the sentence telling its
    /// result, or the reason it failed.
    async fn run_confirmed(&mut self, action: &Action<'_>) -> Result<String, String> {
        let result = self
            .gate
            .call(action.tool, action.arguments.clone(), self.confidence)
            .await;
        match result {
            Ok(out) => {
                self.gate.state.last_order = action.arguments["order_id"]
                    .as_str()
                    .and_then(|o| OrderId::parse(o).ok());
                self.gate
                    .state
                    .log
                    .push(format!("did: {}", action.description));
                let oid = out["order_id"].as_str().unwrap_or("");
                Ok(match action.tool {
                    "cancel_pending_order" => format!("Order {oid} is now cancelled."),
                    "return_delivered_order_items" => format!(
                        "The return for order {oid} is requested; you'll receive an email with instructions."
                    ),
                    "exchange_delivered_order_items" => {
                        format!("The exchange for order {oid} is requested.")
                    }
                    "place_order" => {
                        format!("Your order {oid} is placed; we'll email you when it ships.")
                    }
                    "modify_pending_order_items"
                    | "modify_pending_order_address"
                    | "modify_pending_order_payment" => format!("Order {oid} is updated."),
                    _ => "Your details are updated.".to_string(),
                })
            }
            Err(e) => {
                self.gate.state.failures += 1;
                self.gate.state.log.push(format!(
                    "tried and failed ({}): {}",
                    e.code, action.description
                ));
                Err(e.message)
            }
        }
    }

    /// The customer said yes: authorise exactly the proposed call and run it.
    async fn execute(&mut self) -> Turn {
        let Some(p) = self.gate.state.proposal.take() else {
            return turn(self.voice.anything_else());
        };
        self.customer_cache = None;
        let action = p.actions()[0];
        self.gate.state.confirmed = vec![fingerprint(action.tool, action.arguments)];
        let result = self.run_confirmed(&action).await;
        self.gate.state.confirmed.clear();
        self.gate.state.goal = None;
        match result {
            Ok(detail) => turn(format!(
                "{} {detail} {}",
                self.voice.ok(),
                self.voice.anything_else()
            )),
            Err(why) => turn(format!(
                "{} I couldn't do that: {why}. {}",
                self.voice.sorry(),
                self.voice.anything_else()
            )),
        }
    }

    /// The customer said yes to the actions at `chosen` (positions in the
    /// read-back): the gate is told exactly their fingerprints, each runs in
    /// order, and the reply reports every one (a failure does not stop the
    /// next) and names what was left out.
    async fn execute_chosen(&mut self, chosen: &[usize]) -> Turn {
        let Some(p) = self.gate.state.proposal.take() else {
            return turn(self.voice.anything_else());
        };
        self.gate.state.goal = None;
        self.customer_cache = None;
        let actions = p.actions();
        let chosen: Vec<usize> = chosen
            .iter()
            .copied()
            .filter(|&i| i < actions.len())
            .collect();
        self.gate.state.confirmed = chosen
            .iter()
            .map(|&i| fingerprint(actions[i].tool, actions[i].arguments))
            .collect();
        let mut lines = Vec::new();
        let mut failed = false;
        for &i in &chosen {
            let line = match self.run_confirmed(&actions[i]).await {
                Ok(detail) => detail,
                Err(why) => {
                    failed = true;
                    format!(
                        "{} I couldn't {}: {why}.",
                        self.voice.sorry(),
                        action_label(&actions[i])
                    )
                }
            };
            lines.push(format!("{}. {line}", i + 1));
        }
        // Nothing confirmed outlives the turn.
        self.gate.state.confirmed.clear();
        let left_out: Vec<String> = (0..actions.len())
            .filter(|i| !chosen.contains(i))
            .map(|i| format!("{} ({})", i + 1, action_label(&actions[i])))
            .collect();
        let head = if failed {
            "Here's how it went:"
        } else {
            self.voice.ok()
        };
        let mut reply = format!("{head}\n{}", lines.join("\n"));
        if !left_out.is_empty() {
            reply.push_str(&format!(
                "\nAs you asked, I haven't done {}.",
                left_out.join(" or ")
            ));
        }
        reply.push('\n');
        reply.push_str(self.voice.anything_else());
        turn(reply)
    }
}

/// Actions that can be carried out one after the other as read back: no
/// action twice, and no order both cancelled and changed.
fn fits_together(actions: &[Action<'_>]) -> bool {
    actions.iter().enumerate().all(|(i, a)| {
        actions[..i].iter().all(|b| {
            let same_order = a.arguments["order_id"].is_string()
                && a.arguments["order_id"] == b.arguments["order_id"];
            fingerprint(a.tool, a.arguments) != fingerprint(b.tool, b.arguments)
                && !(same_order
                    && (a.tool == "cancel_pending_order" || b.tool == "cancel_pending_order"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_named_by_its_options_is_priced_and_the_cheapest_is_found() {
        let shelf = json!({"name": "Bookshelf", "variants": {
            "1": {"options": {"material": "wood", "color": "black", "height": "5 ft"}, "price": 512.77, "available": true},
            "2": {"options": {"material": "wood", "color": "black", "height": "4 ft"}, "price": 484.96, "available": true},
            "3": {"options": {"material": "glass", "color": "black", "height": "5 ft"}, "price": 463.04, "available": false},
            "4": {"options": {"material": "glass", "color": "white", "height": "3 ft"}, "price": 400.00, "available": false},
        }});
        let a = variant_answer(
            "how much is the wood bookshelf in black, the 5 ft one?",
            &shelf,
        )
        .unwrap();
        assert!(a.contains("512.77") && a.contains("in stock"), "{a}");
        let a = variant_answer("is the glass bookshelf in black 5 ft available?", &shelf).unwrap();
        assert!(a.contains("unavailable"), "{a}");
        let a = variant_answer("what's the cheapest bookshelf I can order?", &shelf).unwrap();
        assert!(!a.contains("463.04") && a.contains("484.96"), "{a}");
        assert_eq!(variant_answer("do you have bookshelves?", &shelf), None);
        assert_eq!(
            variant_answer("black wood lamp 5 ft price", &shelf),
            None,
            "another product"
        );
    }

    #[test]
    fn an_order_picked_and_the_address_on_file_are_recognised() {
        assert!(picks_an_order("the one with the earbuds"));
        assert!(picks_an_order("That one, the pending one"));
        assert!(!picks_an_order("the one with the earbuds, cancel it"));
        assert!(!picks_an_order("my order with the earbuds"));
        assert!(means_account_address(
            "send it to my home address, the one on my account"
        ));
        assert!(means_account_address("ship it to the address on file"));
        assert!(!means_account_address(
            "send it to 5 Main St, Austin, TX 78701"
        ));
    }

    #[test]
    fn the_latest_order_is_asked_for_in_several_ways() {
        assert!(means_latest("where is my latest order?"));
        assert!(means_latest("status of the most recent order"));
        assert!(means_latest("what about my last order"));
        assert!(!means_latest("where is my order with the lamp"));
        assert!(!means_latest("it didn't last long"));
    }

    #[test]
    fn several_orders_are_told_from_one() {
        assert_eq!(
            several_orders("please cancel two of my orders: the one with the umbrella"),
            Some(Some(2))
        );
        assert_eq!(
            several_orders("send both of my orders that haven't shipped there"),
            Some(Some(2))
        );
        assert_eq!(several_orders("cancel all my pending orders"), Some(None));
        assert_eq!(
            several_orders("return both of them"),
            None,
            "items, not orders"
        );
        assert_eq!(several_orders("cancel my order with the lamp"), None);
    }

    #[test]
    fn all_means_the_whole_order_only_as_a_word() {
        assert!(means_all("all of them please"));
        assert!(!means_all("the helmet in white. That's everything."));
        assert!(means_all("return everything"));
        assert!(means_all("the whole order"));
        assert!(means_all("All"));
        // "actually", "really", "small", "install" hold the letters, not the word.
        assert!(!means_all("actually, I'd really like the small one"));
        assert!(!means_all("that's all, thanks for the install tips"));
        assert!(!means_all("blue instead of red, everything else the same"));
    }

    #[test]
    fn taking_back_a_goal_needs_its_words_negated() {
        assert!(takes_back(
            GoalKind::Cancel,
            "actually I changed my mind, don't cancel it"
        ));
        assert!(takes_back(
            GoalKind::Cancel,
            "I don't want to cancel anymore"
        ));
        assert!(takes_back(
            GoalKind::Exchange,
            "forget the exchange, I just want to return it"
        ));
        assert!(!takes_back(
            GoalKind::Cancel,
            "please cancel it, I don't need it"
        ));
        assert!(!takes_back(
            GoalKind::ModifyOrderAddress,
            "it's not the address on file, it's 5 Main St"
        ));
    }

    #[test]
    fn the_difference_of_an_item_change_is_not_a_payment_change() {
        assert!(about_difference("pay the difference with my gift card"));
        assert!(about_difference("charge whatever difference to my paypal"));
        assert!(!about_difference("pay for the order with my gift card"));
    }

    #[test]
    fn partial_compensation_is_told_apart_from_a_return() {
        assert!(asks_compensation("can I keep it and get a partial refund?"));
        assert!(asks_compensation(
            "I want some compensation for the scratch"
        ));
        assert!(!asks_compensation("I want to return it for a refund"));
    }

    #[test]
    fn a_tenants_reasons_match_the_customers_words() {
        let nlu = Nlu::builtin();
        let allowed = vec![
            "found a better price".to_string(),
            "delivery takes too long".to_string(),
        ];
        let text = "I found a much better price somewhere else";
        assert_eq!(
            cancel_reason(Some(&allowed), text, &nlu.understand(text)).as_deref(),
            Some("found a better price")
        );
        let text = "the delivery is taking way too long";
        assert_eq!(
            cancel_reason(Some(&allowed), text, &nlu.understand(text)).as_deref(),
            Some("delivery takes too long")
        );
        // A built-in reason the tenant does not accept stays as said, for the refusal.
        let text = "I ordered it by mistake";
        assert_eq!(
            cancel_reason(Some(&allowed), text, &nlu.understand(text)).as_deref(),
            Some("ordered by mistake")
        );
        let text = "hello there";
        assert_eq!(
            cancel_reason(Some(&allowed), text, &nlu.understand(text)),
            None
        );
    }

    #[test]
    fn paying_with_points_is_told_from_talking_about_points() {
        assert!(wants_points("buy the 1L bottle and use my points"));
        assert!(wants_points("can I pay with my reward points?"));
        assert!(wants_points("redeem my loyalty points on it"));
        assert!(!wants_points("I want to buy a water bottle"));
        assert!(!wants_points("how many points do I have"));
    }

    #[test]
    fn a_points_answer_says_only_what_the_ledger_returned() {
        let b = json!({"points": 1240, "worth": 12.4, "tier": "gold", "program": true,
                       "next_expiry": {"at": 1_798_675_200, "points": 200},
                       "max_order_share_pct": 50.0});
        assert_eq!(
            loyalty_summary(&b),
            "You have 1,240 points, worth $12.40 off an order (gold tier). 200 of them expire on 2026-12-31. Points can pay up to 50% of an order."
        );
        let none = json!({"points": 0, "program": false});
        assert!(loyalty_summary(&none).contains("doesn't run a points program"));
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn a_clause_that_only_tells_about_an_order_asks_nothing() {
        assert!(!asks_about_order("I've got two orders on the way."));
        assert!(!asks_about_order(
            "my order with the vacuum has two beige fleece pet beds."
        ));
        assert!(asks_about_order("is that still pending?"));
        assert!(asks_about_order(
            "if it already shipped just give me the tracking number"
        ));
        assert!(names_a_task("cancel the e-reader one"));
        assert!(!names_a_task(
            "dont need the e-reader anymore, got one for xmas"
        ));
    }

    #[test]
    fn a_clause_about_it_is_about_the_order_before() {
        assert!(refers_back(
            "if it already shipped just give me the tracking number"
        ));
        assert!(!refers_back("whats the tracking number of my other order"));
        assert!(!refers_back("track #W1234567"));
    }

    #[test]
    fn without_an_option_names_its_none_value() {
        let said = spaced_words("could it be the one without backlight? still clicky");
        assert!(none_named(&said, "backlight", "none"));
        assert!(!none_named(&said, "backlight", "white"));
        assert!(!none_named(&said, "size", "none"));
    }

    #[test]
    fn another_persons_email_names_another_account() {
        let own = "olivia.garcia6676@example.com";
        assert!(names_another_account(
            &["mason.kovacs6466@example.com".to_string()],
            own
        ));
        assert!(!names_another_account(
            &["Olivia.Garcia6676@example.com".to_string()],
            own
        ));
        assert!(!names_another_account(&[], own));
    }

    #[test]
    fn wrong_one_i_meant_the_other_order_points_elsewhere() {
        assert!(points_elsewhere(
            "oh wait sorry, wrong one!! the grill stays. i meant the order with the e-reader"
        ));
        assert!(!points_elsewhere("yes that one"));
        assert!(!points_elsewhere("wrong one"));
    }

    #[test]
    fn units_of_one_product_are_told_apart_by_options_only_they_have() {
        let grey = json!({"item_id": "1", "name": "Backpack", "options": {"color": "grey", "material": "polyester"}});
        let green = json!({"item_id": "2", "name": "Backpack", "options": {"color": "green", "material": "leather"}});
        let same = [&grey, &green];
        assert!(distinct_options_named("the grey one", &grey, &same));
        assert!(!distinct_options_named("the grey one", &green, &same));
        assert!(distinct_options_named(
            "only the green leather one",
            &green,
            &same
        ));
        assert!(!distinct_options_named("the backpack", &grey, &same));
    }

    #[test]
    fn refusals_say_the_status_and_the_rule() {
        let r = not_delivered("#W1", "pending", "returned");
        assert!(
            r.contains("still pending") && r.contains("only delivered orders"),
            "{r}"
        );
        let customer = json!({"payment_methods": {"gift_card_1": {"source": "gift_card", "balance": 60.0}, "paypal_1": {"source": "paypal"}}});
        assert!(
            gift_card_short(&customer, "gift_card_1", 321.18).is_some_and(|s| s.contains("$60.00"))
        );
        assert_eq!(gift_card_short(&customer, "gift_card_1", 59.0), None);
        assert_eq!(gift_card_short(&customer, "paypal_1", 1000.0), None);
    }

    fn actions(tools: &[&'static str]) -> Vec<(String, Value)> {
        tools
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    t.to_string(),
                    json!({"order_id": format!("#W000000{}", i + 1)}),
                )
            })
            .collect()
    }

    fn choice(text: &str, tools: &[&'static str]) -> Choice {
        let owned = actions(tools);
        let list: Vec<Action<'_>> = owned
            .iter()
            .map(|(tool, arguments)| Action {
                tool,
                arguments,
                description: "",
            })
            .collect();
        choose(text, &list)
    }

    #[test]
    fn an_answer_to_several_actions_names_which_to_do() {
        let two = ["cancel_pending_order", "return_delivered_order_items"];
        for all in [
            "yes, both",
            "yes to both",
            "Yes, go ahead with both.",
            "yes to everything",
            "do both please",
        ] {
            assert_eq!(choice(all, &two), Choice::All, "{all}");
        }
        for unnamed in ["yes", "yes please go ahead", "no", "ok"] {
            assert_eq!(choice(unnamed, &two), Choice::Unnamed, "{unnamed}");
        }
        for first in [
            "only the first",
            "no, only the first one",
            "just the cancellation",
            "yes to the cancel but not the return",
            "only 1",
            "cancel it but don't do the return",
        ] {
            assert_eq!(choice(first, &two), Choice::Only(vec![0]), "{first}");
        }
        for second in ["just the return", "only the second", "the last one only"] {
            assert_eq!(choice(second, &two), Choice::Only(vec![1]), "{second}");
        }
        assert_eq!(
            choice("no to both", &two),
            Choice::All,
            "the caller reads the no"
        );
        assert_eq!(choice("not the return", &two), Choice::Except(vec![1]));
        assert_eq!(
            choice("skip the cancellation", &two),
            Choice::Except(vec![0])
        );
        assert_eq!(
            choice("only W0000002", &two),
            Choice::Only(vec![1]),
            "an order number names its action"
        );
        // A word that names one action wins over one that names both.
        let addresses = ["modify_pending_order_address", "modify_user_address"];
        assert_eq!(
            choice("only the account address", &addresses),
            Choice::Only(vec![1])
        );
        assert_eq!(choice("yes both addresses", &addresses), Choice::All);
    }

    #[test]
    fn actions_on_one_order_fit_together_unless_one_cancels_it() {
        let cancel = json!({"order_id": "#W1", "reason": "no longer needed"});
        let address = json!({"order_id": "#W1", "address1": "1 A St"});
        let other = json!({"order_id": "#W2", "address1": "1 A St"});
        fn a<'a>(tool: &'a str, arguments: &'a Value) -> Action<'a> {
            Action {
                tool,
                arguments,
                description: "",
            }
        }
        assert!(fits_together(&[
            a("modify_pending_order_address", &address),
            a(
                "cancel_pending_order",
                &json!({"order_id": "#W2", "reason": "x"})
            )
        ]));
        assert!(!fits_together(&[
            a("cancel_pending_order", &cancel),
            a("modify_pending_order_address", &address)
        ]));
        assert!(!fits_together(&[
            a("modify_pending_order_address", &other),
            a("modify_pending_order_address", &other)
        ]));
    }

    /// A conversation with the offline brain over the test shop.
    struct Chat {
        store: crate::testkit::MemStore,
        tools: hc_commerce::Tools,
        nlu: std::sync::Arc<Nlu>,
        voice: Voice,
        state: crate::state::DialogueState,
    }

    impl Chat {
        fn new() -> Self {
            let store = crate::testkit::MemStore::new(crate::testkit::shop());
            Self {
                tools: crate::testkit::tools(&store),
                store,
                nlu: Nlu::builtin(),
                voice: Voice::default(),
                state: crate::state::DialogueState::default(),
            }
        }

        async fn say(&mut self, text: &str) -> (String, Vec<hc_domain::ToolCallRecord>) {
            let u = self.nlu.understand(text);
            let mut gate = Gate::new(&self.tools, crate::testkit::actor(), &mut self.state);
            let mut dialogue = Dialogue {
                gate: &mut gate,
                nlu: &self.nlu,
                voice: &self.voice,
                limits: EscalationSettings::default(),
                cancel_reasons: None,
                confidence: u.confidence,
                customer_cache: None,
                refused: false,
            };
            let reply = dialogue.respond(text, &u).await.reply;
            (reply, gate.into_calls())
        }

        fn status(&self, order: &str) -> String {
            let db = self.store.snapshot();
            let id = OrderId::parse(order).unwrap();
            serde_json::to_value(db.orders[&id].status)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        }

        /// Signed in, with a cancel and a return asked for in one message.
        async fn asked_for_two(&mut self) -> String {
            self.say(crate::testkit::EMAIL).await;
            let (reply, calls) = self
                .say("please cancel order #W7000001, i no longer need it. and return the t-shirt from order #W7000002, refund to my paypal")
                .await;
            assert!(
                !calls.iter().any(|c| writes(&c.name)),
                "nothing is written before the yes: {calls:?}"
            );
            reply
        }
    }

    fn writes(tool: &str) -> bool {
        READ_BACK_TOGETHER.contains(&tool) || tool == "place_order"
    }

    fn written(calls: &[hc_domain::ToolCallRecord]) -> Vec<String> {
        calls
            .iter()
            .filter(|c| writes(&c.name))
            .map(|c| {
                format!(
                    "{}{}",
                    fingerprint(&c.name, &c.arguments),
                    c.error
                        .as_ref()
                        .map(|e| format!(" -> {}", e.code))
                        .unwrap_or_default()
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn one_read_back_lists_every_action_and_one_yes_does_them_all() {
        let mut chat = Chat::new();
        let reply = chat.asked_for_two().await;
        assert!(reply.contains("these 2 things"), "{reply}");
        assert!(reply.contains("1. Cancel order #W7000001"), "{reply}");
        assert!(
            reply.contains("2. Return T-Shirt") && reply.contains("PayPal"),
            "the return is read back with its item and refund method: {reply}"
        );
        let p = chat
            .state
            .proposal
            .clone()
            .expect("a proposal awaits the yes");
        let read_back: Vec<String> = p
            .actions()
            .iter()
            .map(|a| fingerprint(a.tool, a.arguments))
            .collect();
        assert_eq!(read_back.len(), 2);
        assert!(
            chat.state.queue.is_empty(),
            "the return joined the proposal"
        );

        let (reply, calls) = chat.say("yes, both").await;
        assert_eq!(
            written(&calls),
            read_back,
            "exactly what was read back, in order"
        );
        assert_eq!(chat.status(crate::testkit::LAMP_ORDER), "cancelled");
        assert_eq!(chat.status(crate::testkit::SHIRT_ORDER), "return requested");
        assert!(
            reply.contains("1. Order #W7000001 is now cancelled"),
            "{reply}"
        );
        assert!(
            reply.contains("2. The return for order #W7000002"),
            "{reply}"
        );
        assert!(chat.state.confirmed.is_empty() && chat.state.proposal.is_none());
    }

    #[tokio::test]
    async fn only_the_first_carries_out_one_and_no_carries_out_none() {
        let mut chat = Chat::new();
        chat.asked_for_two().await;
        let (reply, calls) = chat.say("only the first").await;
        assert_eq!(written(&calls).len(), 1, "{calls:?}");
        assert_eq!(chat.status(crate::testkit::LAMP_ORDER), "cancelled");
        assert_eq!(chat.status(crate::testkit::SHIRT_ORDER), "delivered");
        assert!(reply.contains("haven't done 2"), "{reply}");

        let mut chat = Chat::new();
        chat.asked_for_two().await;
        let (reply, calls) = chat.say("just the return please").await;
        assert_eq!(written(&calls).len(), 1, "{calls:?}");
        assert_eq!(chat.status(crate::testkit::LAMP_ORDER), "pending");
        assert_eq!(chat.status(crate::testkit::SHIRT_ORDER), "return requested");
        assert!(reply.contains("haven't done 1"), "{reply}");

        let mut chat = Chat::new();
        chat.asked_for_two().await;
        let (reply, calls) = chat.say("no").await;
        assert!(written(&calls).is_empty(), "{calls:?}");
        assert_eq!(chat.status(crate::testkit::LAMP_ORDER), "pending");
        assert_eq!(chat.status(crate::testkit::SHIRT_ORDER), "delivered");
        assert!(reply.contains("haven't changed anything"), "{reply}");
    }

    #[tokio::test]
    async fn leaving_one_out_without_a_yes_reads_back_the_rest() {
        let mut chat = Chat::new();
        chat.asked_for_two().await;
        let (reply, calls) = chat.say("don't do the return").await;
        assert!(written(&calls).is_empty(), "{calls:?}");
        assert!(
            reply.contains("To confirm, I'll cancel order #W7000001"),
            "{reply}"
        );
        let (_, calls) = chat.say("yes").await;
        assert_eq!(written(&calls).len(), 1, "{calls:?}");
        assert_eq!(chat.status(crate::testkit::LAMP_ORDER), "cancelled");
        assert_eq!(chat.status(crate::testkit::SHIRT_ORDER), "delivered");
    }

    #[tokio::test]
    async fn a_failed_action_is_reported_and_the_next_still_runs() {
        let mut chat = Chat::new();
        chat.asked_for_two().await;
        // The lamp ships between the read-back and the yes.
        let mut db = chat.store.snapshot();
        let lamp = OrderId::parse(crate::testkit::LAMP_ORDER).unwrap();
        db.orders[&lamp].status = serde_json::from_value(json!("processed")).unwrap();
        chat.store = crate::testkit::MemStore::new(db);
        chat.tools = crate::testkit::tools(&chat.store);
        let (reply, calls) = chat.say("yes both").await;
        let done = written(&calls);
        assert_eq!(done.len(), 2, "{done:?}");
        assert!(
            done[0].ends_with("-> order_not_pending") || done[0].contains(" -> "),
            "{done:?}"
        );
        assert_eq!(chat.status(crate::testkit::SHIRT_ORDER), "return requested");
        assert!(
            reply.contains("1. Sorry, I couldn't cancel order #W7000001"),
            "{reply}"
        );
        assert!(
            reply.contains("2. The return for order #W7000002"),
            "{reply}"
        );
    }

    #[tokio::test]
    async fn a_request_still_missing_a_detail_is_taken_up_after_the_first() {
        let mut chat = Chat::new();
        chat.say(crate::testkit::EMAIL).await;
        // Which item of the delivered order is not said.
        let (reply, _) = chat
            .say("please cancel order #W7000001, i no longer need it. and i also want to return something from order #W7000002")
            .await;
        assert!(!reply.contains("these 2 things"), "{reply}");
        assert!(
            reply.contains("To confirm, I'll cancel order #W7000001"),
            "{reply}"
        );
        let p = chat.state.proposal.clone().unwrap();
        assert!(p.also.is_empty());
        assert_eq!(chat.state.queue.len(), 1, "the return waits its turn");
        let (reply, calls) = chat.say("yes").await;
        assert_eq!(written(&calls).len(), 1, "{calls:?}");
        assert!(reply.contains("Which items from #W7000002"), "{reply}");
    }
}
