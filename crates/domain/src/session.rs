//! Shopper sessions: the events of one visit, closed by 30 minutes of
//! inactivity, with running counters kept as events arrive.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::{Event, EventType, PageType, SessionId};
use crate::ids::UserId;
use crate::money::Money;

/// Inactivity that closes a session.
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;

/// Time and count spent on one kind of page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageStats {
    pub views: u32,
    pub duration_ms: u64,
}

/// One visit and its counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The server-side id: the sender's session id, with `~n` for its n-th visit.
    pub id: SessionId,
    /// The id the sender used.
    pub sender_session_id: SessionId,
    /// 1 for the sender id's first visit, n for `~n`.
    pub ordinal: u32,
    pub customer_id: Option<UserId>,
    pub started_at_ms: i64,
    pub last_event_at_ms: i64,
    pub events: u64,
    /// Events by type.
    pub counts: BTreeMap<EventType, u64>,
    /// Views and time by page type (`page_view` and `product_view`; a product
    /// view without a page type counts as `product`).
    pub pages: BTreeMap<PageType, PageStats>,
    /// The first page's type (the landing page).
    pub landing: Option<PageType>,
    /// The last page's type (the exit page so far).
    pub exit: Option<PageType>,
    /// Net cart value added (add minus remove), shown prices.
    pub cart_value: Money,
    /// Paid in `purchase` events.
    pub revenue: Money,
    /// The first `referrer` property seen (traffic source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

impl Session {
    /// A new, empty session starting with an event at `at_ms`.
    pub fn start(sender: &SessionId, ordinal: u32, at_ms: i64) -> Self {
        Self {
            id: sender.nth(ordinal),
            sender_session_id: sender.clone(),
            ordinal,
            customer_id: None,
            started_at_ms: at_ms,
            last_event_at_ms: at_ms,
            events: 0,
            counts: BTreeMap::new(),
            pages: BTreeMap::new(),
            landing: None,
            exit: None,
            cart_value: Money::ZERO,
            revenue: Money::ZERO,
            referrer: None,
        }
    }

    /// Whether an event at `at_ms` still belongs to this session.
    pub fn continues_at(&self, at_ms: i64) -> bool {
        at_ms <= self.last_event_at_ms.saturating_add(SESSION_GAP_MS)
    }

    /// Whether the session is over at `now_ms` (30 minutes without events).
    pub fn is_closed(&self, now_ms: i64) -> bool {
        now_ms > self.last_event_at_ms.saturating_add(SESSION_GAP_MS)
    }

    /// Counts one event (events may arrive slightly out of order).
    pub fn absorb(&mut self, e: &Event) {
        self.events += 1;
        *self.counts.entry(e.kind).or_default() += 1;
        let first = e.timestamp_ms < self.started_at_ms || self.events == 1;
        self.started_at_ms = self.started_at_ms.min(e.timestamp_ms);
        let latest = e.timestamp_ms >= self.last_event_at_ms;
        self.last_event_at_ms = self.last_event_at_ms.max(e.timestamp_ms);
        if self.customer_id.is_none() {
            self.customer_id = e.customer_id.clone();
        }
        if self.referrer.is_none()
            && let Some(r) = e.properties.get("referrer").and_then(|r| r.as_str())
            && !r.is_empty()
        {
            self.referrer = Some(r.chars().take(256).collect());
        }
        match e.kind {
            EventType::PageView | EventType::ProductView => {
                let page = e.page_type.unwrap_or(if e.kind == EventType::ProductView {
                    PageType::Product
                } else {
                    PageType::Other
                });
                let stats = self.pages.entry(page).or_default();
                stats.views += 1;
                stats.duration_ms = stats.duration_ms.saturating_add(e.duration_ms.unwrap_or(0));
                if first || self.landing.is_none() {
                    self.landing = Some(page);
                }
                if latest {
                    self.exit = Some(page);
                }
            }
            EventType::AddToCart => self.cart_value += e.amount(),
            EventType::RemoveFromCart => self.cart_value -= e.amount(),
            EventType::Purchase => self.revenue += e.amount(),
            _ => {}
        }
    }

    /// Pages seen (page and product views).
    pub fn page_views(&self) -> u32 {
        self.pages.values().map(|p| p.views).sum()
    }

    pub fn count(&self, kind: EventType) -> u64 {
        self.counts.get(&kind).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventLimits, parse_event};

    fn ev(json: &str, at: i64) -> Event {
        let full = format!(r#"{{"event_id":"e","session_id":"s","timestamp_ms":{at},{json}}}"#);
        parse_event(&full, at, &EventLimits::default()).unwrap()
    }

    #[test]
    fn counters_follow_the_events() {
        let mut s = Session::start(&SessionId::parse("s").unwrap(), 1, 1000);
        s.absorb(&ev(r#""type":"page_view","page_type":"home","duration_ms":5000,"properties":{"referrer":"https://news.example"}"#, 1000));
        s.absorb(&ev(
            r#""type":"product_view","item_id":"i","duration_ms":2000"#,
            2000,
        ));
        s.absorb(&ev(
            r#""type":"add_to_cart","item_id":"i","price":10,"quantity":3"#,
            3000,
        ));
        s.absorb(&ev(
            r#""type":"remove_from_cart","item_id":"i","price":10,"quantity":1"#,
            4000,
        ));
        s.absorb(&ev(
            r#""type":"purchase","price":20,"quantity":1,"customer_id":"u1""#,
            5000,
        ));
        assert_eq!(s.events, 5);
        assert_eq!(s.page_views(), 2);
        assert_eq!(s.pages[&PageType::Home].duration_ms, 5000);
        assert_eq!(s.landing, Some(PageType::Home));
        assert_eq!(s.exit, Some(PageType::Product));
        assert_eq!(s.cart_value, Money::from_cents(2000));
        assert_eq!(s.revenue, Money::from_cents(2000));
        assert_eq!(s.customer_id.as_ref().unwrap().as_str(), "u1");
        assert_eq!(s.referrer.as_deref(), Some("https://news.example"));
        assert_eq!(s.last_event_at_ms, 5000);
        assert!(s.continues_at(5000 + SESSION_GAP_MS));
        assert!(!s.continues_at(5001 + SESSION_GAP_MS));
        assert!(s.is_closed(5001 + SESSION_GAP_MS));
    }
}
