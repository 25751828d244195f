//! Behavior events (what shoppers do online, at the point of sale and in the
//! store) and the strict parsing that turns raw JSON into them.
//!
//! Each event is parsed on its own, so a batch can report every bad event by
//! index with a stable reason code ([`Rejection`]). The wire format is one
//! JSON object per event; unknown fields are refused.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{EventId, ItemId, ProductId, UserId};
use crate::money::Money;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    PageView,
    ProductView,
    Search,
    AddToCart,
    RemoveFromCart,
    Checkout,
    Purchase,
    Return,
    /// An in-store sensor reading (footfall, shelf pick-up, dwell at a display).
    Sensor,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::PageView,
        EventType::ProductView,
        EventType::Search,
        EventType::AddToCart,
        EventType::RemoveFromCart,
        EventType::Checkout,
        EventType::Purchase,
        EventType::Return,
        EventType::Sensor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PageView => "page_view",
            EventType::ProductView => "product_view",
            EventType::Search => "search",
            EventType::AddToCart => "add_to_cart",
            EventType::RemoveFromCart => "remove_from_cart",
            EventType::Checkout => "checkout",
            EventType::Purchase => "purchase",
            EventType::Return => "return",
            EventType::Sensor => "sensor",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// Whether the event is a page seen by the shopper (counts as a page in session features).
    pub fn is_page(self) -> bool {
        matches!(self, EventType::PageView | EventType::ProductView)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of page a view happened on. `account`, `cart` and `checkout` are
/// the "administrative" pages of the Online Shoppers feature set, `info`
/// the "informational" ones, the rest "product related".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageType {
    Home,
    Category,
    Product,
    Search,
    Cart,
    Checkout,
    Account,
    Info,
    Other,
}

impl PageType {
    pub const ALL: [PageType; 9] = [
        PageType::Home,
        PageType::Category,
        PageType::Product,
        PageType::Search,
        PageType::Cart,
        PageType::Checkout,
        PageType::Account,
        PageType::Info,
        PageType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PageType::Home => "home",
            PageType::Category => "category",
            PageType::Product => "product",
            PageType::Search => "search",
            PageType::Cart => "cart",
            PageType::Checkout => "checkout",
            PageType::Account => "account",
            PageType::Info => "info",
            PageType::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// A shopper's visit as the sender names it: 1 to 128 of `A-Z a-z 0-9 . _ : -`.
/// The server may split one sender id into several sessions after 30 minutes
/// of inactivity; those get `~2`, `~3`… appended (see [`SessionId::nth`]), which
/// senders cannot use.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

fn session_chars_ok(raw: &str) -> bool {
    raw.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

impl SessionId {
    /// Parses a sender's session id.
    pub fn parse(raw: impl Into<String>) -> crate::Result<Self> {
        let raw = raw.into();
        if !(1..=128).contains(&raw.len()) || !session_chars_ok(&raw) {
            return Err(crate::Error::invalid(
                "session_id",
                "use 1 to 128 letters, digits, '.', '_', ':' or '-'",
            ));
        }
        Ok(Self(raw))
    }

    /// Parses a stored session id: a sender's id, optionally with `~n`.
    pub fn parse_stored(raw: impl Into<String>) -> crate::Result<Self> {
        let raw = raw.into();
        let (base, nth) = match raw.split_once('~') {
            Some((b, n)) => (b, Some(n)),
            None => (raw.as_str(), None),
        };
        let nth_ok = nth.is_none_or(|n| n.parse::<u32>().is_ok_and(|n| n >= 2));
        if raw.len() > 140 || !nth_ok {
            return Err(crate::Error::invalid("session_id", "not a session id"));
        }
        Self::parse(base)?;
        Ok(Self(raw))
    }

    /// The `ordinal`-th session (1-based) of the sender id `self`.
    pub fn nth(&self, ordinal: u32) -> SessionId {
        if ordinal <= 1 {
            self.clone()
        } else {
            SessionId(format!("{}~{ordinal}", self.0))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Self::parse_stored(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One validated event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub event_id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When it happened, milliseconds since the Unix epoch (the sender's clock).
    pub timestamp_ms: i64,
    /// The sender's session id (stored events keep it; the session they were
    /// counted in is [`StoredEvent::session_id`]).
    pub session_id: SessionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<ItemId>,
    /// Unit price shown (views, cart) or paid (purchase, return).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_type: Option<PageType>,
    /// Time spent on the page (or dwell time of a sensor reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The search text of a `search` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Free properties (a JSON object), e.g. `url`, `referrer`, sensor readings.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// Price × quantity (quantity 1 when absent); zero without a price.
    pub fn amount(&self) -> Money {
        let q = i64::from(self.quantity.unwrap_or(1));
        Money::from_cents(self.price.map_or(0, |p| p.cents().saturating_mul(q)))
    }
}

/// An event as stored: its place in the tenant's log and the session it was counted in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Position in the event log (increasing; the replay cursor).
    pub seq: i64,
    /// The server-side session (the sender's id, or it with `~n` after a split).
    #[serde(rename = "session")]
    pub session_id: SessionId,
    pub received_at_ms: i64,
    pub event: Event,
}

/// What the validation allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventLimits {
    /// How far in the future (sender clock ahead of ours) a timestamp may be.
    pub max_future_ms: i64,
    /// How old an event may be when it arrives.
    pub max_age_ms: i64,
    /// Largest `properties` object, serialised, in bytes.
    pub max_properties_bytes: usize,
    /// Most keys in `properties`.
    pub max_properties_keys: usize,
    /// Longest accepted event, serialised, in bytes.
    pub max_event_bytes: usize,
}

impl Default for EventLimits {
    fn default() -> Self {
        Self {
            max_future_ms: 5 * 60 * 1000,
            max_age_ms: 7 * 24 * 3600 * 1000,
            max_properties_bytes: 4096,
            max_properties_keys: 64,
            max_event_bytes: 8192,
        }
    }
}

/// Why an event was refused: a stable `code` and a readable `message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The wire shape before validation: every field optional, unknown ones refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    event_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    timestamp_ms: Option<i64>,
    session_id: Option<String>,
    customer_id: Option<String>,
    product_id: Option<String>,
    item_id: Option<String>,
    price: Option<f64>,
    quantity: Option<u32>,
    page_type: Option<String>,
    duration_ms: Option<u64>,
    query: Option<String>,
    properties: Option<serde_json::Value>,
}

fn missing(field: &str, kind: EventType) -> Rejection {
    Rejection::new(
        "missing_field",
        format!("{field} is required for {kind} events"),
    )
}

fn invalid(e: crate::Error) -> Rejection {
    Rejection::new("invalid_field", e.to_string())
}

/// Parses and validates one event's JSON at time `now_ms`.
pub fn parse_event(json: &str, now_ms: i64, limits: &EventLimits) -> Result<Event, Rejection> {
    if json.len() > limits.max_event_bytes {
        return Err(Rejection::new(
            "event_too_large",
            format!("an event may be at most {} bytes", limits.max_event_bytes),
        ));
    }
    let raw: RawEvent = serde_json::from_str(json).map_err(|e| {
        let code = if e.is_data() {
            "invalid_field"
        } else {
            "invalid_json"
        };
        Rejection::new(code, e.to_string())
    })?;
    // An event no longer than the properties limit cannot hold too large properties.
    validate(
        raw,
        now_ms,
        limits,
        json.len() > limits.max_properties_bytes,
    )
}

/// Validates an event given as a JSON value (e.g. built from an MQTT message).
pub fn event_from_value(
    value: serde_json::Value,
    now_ms: i64,
    limits: &EventLimits,
) -> Result<Event, Rejection> {
    let raw: RawEvent = serde_json::from_value(value)
        .map_err(|e| Rejection::new("invalid_field", e.to_string()))?;
    validate(raw, now_ms, limits, true)
}

fn validate(
    raw: RawEvent,
    now_ms: i64,
    limits: &EventLimits,
    measure_properties: bool,
) -> Result<Event, Rejection> {
    let kind_raw = raw
        .kind
        .ok_or_else(|| Rejection::new("missing_field", "type is required"))?;
    let kind = EventType::parse(&kind_raw).ok_or_else(|| {
        Rejection::new(
            "unknown_type",
            format!("unknown event type {kind_raw:?}; expected one of page_view, product_view, search, add_to_cart, remove_from_cart, checkout, purchase, return, sensor"),
        )
    })?;
    let event_id = EventId::parse(
        raw.event_id
            .ok_or_else(|| Rejection::new("missing_field", "event_id is required"))?,
    )
    .map_err(invalid)?;
    let timestamp_ms = raw
        .timestamp_ms
        .ok_or_else(|| Rejection::new("missing_field", "timestamp_ms is required"))?;
    if timestamp_ms > now_ms.saturating_add(limits.max_future_ms) {
        return Err(Rejection::new(
            "timestamp_in_future",
            format!(
                "timestamp_ms is {} ms ahead of the server clock (at most {} allowed)",
                timestamp_ms - now_ms,
                limits.max_future_ms
            ),
        ));
    }
    if timestamp_ms < now_ms.saturating_sub(limits.max_age_ms) {
        return Err(Rejection::new(
            "timestamp_too_old",
            format!(
                "timestamp_ms is older than {} ms (clock skew or a stale replay)",
                limits.max_age_ms
            ),
        ));
    }
    let session_id = SessionId::parse(
        raw.session_id
            .ok_or_else(|| Rejection::new("missing_field", "session_id is required"))?,
    )
    .map_err(invalid)?;
    let customer_id = raw
        .customer_id
        .map(UserId::parse)
        .transpose()
        .map_err(invalid)?;
    let product_id = raw
        .product_id
        .map(ProductId::parse)
        .transpose()
        .map_err(invalid)?;
    let item_id = raw
        .item_id
        .map(ItemId::parse)
        .transpose()
        .map_err(invalid)?;
    let price = raw
        .price
        .map(Money::from_decimal)
        .transpose()
        .map_err(invalid)?;
    if price.is_some_and(|p| p.cents() < 0) {
        return Err(Rejection::new(
            "invalid_field",
            "price must not be negative",
        ));
    }
    if raw.quantity == Some(0) {
        return Err(Rejection::new(
            "invalid_field",
            "quantity must be at least 1",
        ));
    }
    let page_type =
        match raw.page_type {
            None => None,
            Some(p) => Some(PageType::parse(&p).ok_or_else(|| {
                Rejection::new("invalid_field", format!("unknown page_type {p:?}"))
            })?),
        };
    if let Some(q) = &raw.query
        && (q.len() > 512 || q.chars().any(char::is_control))
    {
        return Err(Rejection::new(
            "invalid_field",
            "query must be at most 512 bytes without control characters",
        ));
    }
    let properties = match raw.properties {
        None => serde_json::Map::new(),
        Some(serde_json::Value::Object(m)) => m,
        Some(_) => {
            return Err(Rejection::new(
                "invalid_field",
                "properties must be a JSON object",
            ));
        }
    };
    if properties.len() > limits.max_properties_keys {
        return Err(Rejection::new(
            "properties_too_large",
            format!(
                "properties may have at most {} keys",
                limits.max_properties_keys
            ),
        ));
    }
    if measure_properties && !properties.is_empty() {
        let size = serde_json::to_string(&properties).map_or(usize::MAX, |s| s.len());
        if size > limits.max_properties_bytes {
            return Err(Rejection::new(
                "properties_too_large",
                format!(
                    "properties are {size} bytes serialised; at most {} allowed",
                    limits.max_properties_bytes
                ),
            ));
        }
    }
    let event = Event {
        event_id,
        kind,
        timestamp_ms,
        session_id,
        customer_id,
        product_id,
        item_id,
        price,
        quantity: raw.quantity,
        page_type,
        duration_ms: raw.duration_ms,
        query: raw.query,
        properties,
    };
    check_required(&event)?;
    Ok(event)
}

/// The fields each type needs.
fn check_required(e: &Event) -> Result<(), Rejection> {
    let kind = e.kind;
    let has_product = e.product_id.is_some() || e.item_id.is_some();
    match kind {
        EventType::PageView if e.page_type.is_none() => Err(missing("page_type", kind)),
        EventType::ProductView | EventType::Return if !has_product => {
            Err(missing("product_id or item_id", kind))
        }
        EventType::AddToCart | EventType::RemoveFromCart => {
            if !has_product {
                Err(missing("product_id or item_id", kind))
            } else if e.quantity.is_none() {
                Err(missing("quantity", kind))
            } else {
                Ok(())
            }
        }
        EventType::Search if e.query.as_deref().is_none_or(|q| q.trim().is_empty()) => {
            Err(missing("query", kind))
        }
        EventType::Purchase if e.price.is_none() => Err(missing("price", kind)),
        EventType::Sensor if !e.properties.get("kind").is_some_and(|k| k.is_string()) => {
            Err(missing("properties.kind", kind))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_763_700_000_000;

    fn parse(json: &str) -> Result<Event, Rejection> {
        parse_event(json, NOW, &EventLimits::default())
    }

    fn base(extra: &str) -> String {
        format!(r#"{{"event_id":"e1","timestamp_ms":{NOW},"session_id":"s-1"{extra}}}"#)
    }

    #[test]
    fn a_complete_event_parses_into_typed_values() {
        let e = parse(&base(
            r#","type":"add_to_cart","item_id":"i9","price":12.5,"quantity":2,"customer_id":"u1","properties":{"url":"/p/9"}"#,
        ))
        .unwrap();
        assert_eq!(e.kind, EventType::AddToCart);
        assert_eq!(e.price, Some(Money::from_cents(1250)));
        assert_eq!(e.amount(), Money::from_cents(2500));
        assert_eq!(e.customer_id.unwrap().as_str(), "u1");
        assert_eq!(e.properties["url"], "/p/9");
    }

    #[test]
    fn unknown_types_and_fields_are_refused_with_codes() {
        assert_eq!(
            parse(&base(r#","type":"teleport""#)).unwrap_err().code,
            "unknown_type"
        );
        assert_eq!(
            parse(&base(r#","type":"checkout","colour":"red""#))
                .unwrap_err()
                .code,
            "invalid_field"
        );
        assert_eq!(parse("{not json").unwrap_err().code, "invalid_json");
        assert_eq!(parse("[1]").unwrap_err().code, "invalid_field");
    }

    #[test]
    fn each_type_needs_its_fields() {
        for (extra, field) in [
            (r#","type":"page_view""#, "page_type"),
            (r#","type":"product_view""#, "product_id"),
            (r#","type":"add_to_cart","item_id":"i""#, "quantity"),
            (r#","type":"search""#, "query"),
            (r#","type":"purchase""#, "price"),
            (r#","type":"sensor""#, "properties.kind"),
        ] {
            let r = parse(&base(extra)).unwrap_err();
            assert_eq!(r.code, "missing_field", "{extra}");
            assert!(r.message.contains(field), "{extra}: {}", r.message);
        }
        let no_session = format!(r#"{{"event_id":"e","type":"checkout","timestamp_ms":{NOW}}}"#);
        assert_eq!(parse(&no_session).unwrap_err().code, "missing_field");
        assert!(parse(&base(r#","type":"checkout""#)).is_ok());
    }

    #[test]
    fn skewed_and_future_timestamps_are_refused() {
        let limits = EventLimits::default();
        let at = |ts: i64| {
            format!(r#"{{"event_id":"e","type":"checkout","session_id":"s","timestamp_ms":{ts}}}"#)
        };
        assert!(parse(&at(NOW + limits.max_future_ms)).is_ok());
        assert_eq!(
            parse(&at(NOW + limits.max_future_ms + 1)).unwrap_err().code,
            "timestamp_in_future"
        );
        assert_eq!(
            parse(&at(NOW - limits.max_age_ms - 1)).unwrap_err().code,
            "timestamp_too_old"
        );
    }

    #[test]
    fn oversized_properties_and_bad_values_are_refused() {
        let big = "x".repeat(9000);
        let r = parse(&base(&format!(
            r#","type":"checkout","properties":{{"a":"{big}"}}"#
        )));
        assert_eq!(r.unwrap_err().code, "event_too_large");
        let mid = "x".repeat(4100);
        let limits = EventLimits {
            max_event_bytes: 100_000,
            ..EventLimits::default()
        };
        let r = parse_event(
            &base(&format!(
                r#","type":"checkout","properties":{{"a":"{mid}"}}"#
            )),
            NOW,
            &limits,
        );
        assert_eq!(r.unwrap_err().code, "properties_too_large");
        for extra in [
            r#","type":"checkout","properties":[1]"#,
            r#","type":"purchase","price":-1"#,
            r#","type":"purchase","price":1.234"#,
            r#","type":"add_to_cart","item_id":"i","quantity":0"#,
            r#","type":"page_view","page_type":"attic""#,
        ] {
            assert_eq!(
                parse(&base(extra)).unwrap_err().code,
                "invalid_field",
                "{extra}"
            );
        }
        let bad_session = format!(
            r#"{{"event_id":"e","type":"checkout","session_id":"a b","timestamp_ms":{NOW}}}"#
        );
        assert_eq!(parse(&bad_session).unwrap_err().code, "invalid_field");
    }

    #[test]
    fn session_ids_split_with_a_suffix_senders_cannot_use() {
        let s = SessionId::parse("abc").unwrap();
        assert_eq!(s.nth(1).as_str(), "abc");
        assert_eq!(s.nth(3).as_str(), "abc~3");
        assert!(SessionId::parse("abc~3").is_err());
        assert_eq!(SessionId::parse_stored("abc~3").unwrap().as_str(), "abc~3");
        assert!(SessionId::parse_stored("abc~1").is_err());
        assert!(SessionId::parse_stored("abc~x").is_err());
    }

    #[test]
    fn every_truncation_of_an_event_is_refused_without_panicking() {
        let full = base(
            r#","type":"add_to_cart","item_id":"i9","price":12.5,"quantity":2,"properties":{"url":"/p/9","n":[1,{"x":null}]}"#,
        );
        assert!(parse(&full).is_ok());
        for end in 0..full.len() {
            let r = parse(&full[..end]);
            assert!(r.is_err(), "{}", &full[..end]);
            assert!(
                ["invalid_json", "invalid_field"].contains(&r.unwrap_err().code),
                "{}",
                &full[..end]
            );
        }
    }

    #[test]
    fn events_round_trip_through_their_stored_json() {
        let e = parse(&base(
            r#","type":"page_view","page_type":"home","duration_ms":1500"#,
        ))
        .unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
        assert_eq!(parse(&json).unwrap(), e);
    }
}
