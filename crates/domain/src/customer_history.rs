//! What the behavior engine reads about one customer: their orders and
//! returns, support contacts with ratings, and site activity, as plain data.
//! The store assembles it from orders, conversations, sessions and `return`
//! events; `hc-behavior` turns it into features and scores. Amounts are in
//! the shop's currency units (decimal), times in ms since the epoch.

use serde::{Deserialize, Serialize};

/// One unit (or line) of an order or a return.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// The product id.
    pub product: String,
    /// Unit price × quantity, in currency units.
    pub value: f64,
}

/// A placed order that was not cancelled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryOrder {
    pub id: String,
    pub at_ms: i64,
    pub lines: Vec<HistoryLine>,
}

/// Returned units (a return on an order, or a `return` event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryReturn {
    pub at_ms: i64,
    pub lines: Vec<HistoryLine>,
}

/// A support conversation the customer was identified in.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryContact {
    pub at_ms: i64,
    /// 1 to 5, when the customer rated the conversation.
    pub rating: Option<u8>,
}

/// Everything known about one customer's behaviour.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerHistory {
    pub customer: String,
    /// Non-cancelled orders, oldest first.
    pub orders: Vec<HistoryOrder>,
    pub returns: Vec<HistoryReturn>,
    /// Support conversations, oldest first.
    pub contacts: Vec<HistoryContact>,
    /// The start of the customer's first known session.
    pub first_seen_ms: Option<i64>,
    /// The last event of the customer's latest session.
    pub last_seen_ms: Option<i64>,
    /// Sessions with an event in the 30 days before the history was read.
    pub sessions_last_30d: u32,
    /// The customer's newest session, if any (for live purchase intent).
    pub latest_session: Option<String>,
}

/// A customer's stored batch score (table `customer_scores`). `None` means
/// "not known" (no orders yet, or the shop's data cannot support the model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerScoreRecord {
    pub user_id: String,
    pub orders: u32,
    /// P(no order in the next 90 days).
    pub churn: Option<f64>,
    /// `gbt` or `bg_nbd`.
    pub churn_basis: Option<String>,
    pub p_alive: Option<f64>,
    pub expected_purchases_90d: Option<f64>,
    /// Expected spend over the next 365 days, in currency units.
    pub clv_365d: Option<f64>,
    pub segment: Option<String>,
    pub scored_at_ms: i64,
}
