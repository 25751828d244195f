//! Per-customer features and scores from a shop's own data.
//!
//! [`profile`] describes one customer as of a moment: recency, frequency,
//! monetary value, tenure, spend trend, returns, support contacts and
//! satisfaction, and site activity (from a [`CustomerHistory`] the store
//! assembles from orders, conversations, sessions and `return` events).
//!
//! [`CustomerModel::fit`] fits the shop's customer models on its own
//! customers: BG/NBD (repeat purchasing) and Gamma-Gamma (spend) for expected
//! purchases and lifetime value, a churn model ([`ChurnModel`], boosted trees
//! on the transaction features, labelled from the shop's own past by moving
//! the cut-off back one horizon) and k-means segments with readable names.
//! Each part is fitted only when the shop has enough data for it; otherwise
//! it is absent with a [`ModelNote`] saying why, and scores say the same
//! instead of inventing a number. The model is a versioned JSON artifact
//! ([`CUSTOMER_MODEL_VERSION`]).
//!
//! [`CustomerModel::score`] scores one customer with a fitted model; batch
//! rescoring calls it for every customer of a shop.

use hc_domain::CustomerHistory;
use serde::{Deserialize, Serialize};

use crate::churn::{self, ChurnConfig, ChurnModel, Transaction};
use crate::clv::{BgNbd, GammaGamma, Summary};
use crate::error::{Error, Result};
use crate::segments::{RfmPoint, Segmentation};

/// Artifact format version written by [`CustomerModel::to_json`].
pub const CUSTOMER_MODEL_VERSION: u32 = 1;
/// The churn horizon: churned = no order in the next 90 days.
pub const HORIZON_DAYS: f64 = 90.0;
/// Lifetime value is forecast over this many days (undiscounted).
pub const CLV_DAYS: f64 = 365.0;
/// BG/NBD needs this many customers with an order …
pub const MIN_BUYERS: usize = 20;
/// … of whom this many ordered again.
pub const MIN_REPEAT_BUYERS: usize = 5;
/// Gamma-Gamma needs this many customers with repeat orders.
pub const MIN_SPEND_CUSTOMERS: usize = 10;
/// Segments need this many customers with an order.
pub const MIN_SEGMENT_BUYERS: usize = 30;
/// The churn model needs this many customers at its training cut-off …
pub const MIN_CHURN_EXAMPLES: usize = 100;
/// … with at least this many who churned and this many who did not.
pub const MIN_CHURN_CLASS: usize = 15;
/// Most customers a model is fitted on (an even sample; everyone is scored).
pub const FIT_SAMPLE: usize = 50_000;
/// Most customers the churn trees are trained on.
pub const CHURN_SAMPLE: usize = 20_000;

const DAY_MS: f64 = 86_400_000.0;

/// One customer as of a moment, from their own history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerProfile {
    /// Orders placed (cancelled ones excluded).
    pub orders: u32,
    /// Days since the last order.
    pub recency_days: Option<f64>,
    /// Days since the first order or first visit, whichever came first.
    pub tenure_days: Option<f64>,
    /// Net spend: orders minus returns.
    pub monetary: f64,
    pub avg_order_value: Option<f64>,
    pub orders_last_90d: u32,
    pub orders_prev_90d: u32,
    /// (spend in the last 90 days − the 90 before) / (their sum + 1), in −1..1.
    pub spend_trend: f64,
    pub mean_days_between_orders: Option<f64>,
    pub returned_items: u32,
    /// Returned value / ordered value.
    pub returned_value_share: f64,
    pub support_contacts: u32,
    pub support_contacts_last_90d: u32,
    /// Mean rating (1–5) of the rated support conversations.
    pub satisfaction: Option<f64>,
    pub last_rating: Option<u8>,
    pub sessions_last_30d: u32,
    pub days_since_last_seen: Option<f64>,
}

/// The profile of `h` as of `as_of_ms` (anything later is ignored).
pub fn profile(h: &CustomerHistory, as_of_ms: i64) -> CustomerProfile {
    let days = |ms: i64| (as_of_ms - ms) as f64 / DAY_MS;
    let orders: Vec<(f64, f64)> = h
        .orders
        .iter()
        .filter(|o| o.at_ms <= as_of_ms)
        .map(|o| (days(o.at_ms), o.lines.iter().map(|l| l.value).sum::<f64>()))
        .collect();
    let ordered: f64 = orders.iter().map(|o| o.1).sum();
    let (mut returned_items, mut returned) = (0u32, 0.0);
    for r in h.returns.iter().filter(|r| r.at_ms <= as_of_ms) {
        returned_items += r.lines.len() as u32;
        returned += r.lines.iter().map(|l| l.value).sum::<f64>();
    }
    let ago: Vec<f64> = orders.iter().map(|o| o.0).collect();
    let newest = ago.iter().copied().reduce(f64::min);
    let oldest = ago.iter().copied().reduce(f64::max);
    let first_seen = h
        .first_seen_ms
        .filter(|&ms| ms <= as_of_ms)
        .map(days)
        .into_iter()
        .chain(oldest)
        .reduce(f64::max);
    let within = |from: f64, to: f64| {
        orders
            .iter()
            .filter(|o| o.0 < from && o.0 >= to)
            .fold((0u32, 0.0), |a, o| (a.0 + 1, a.1 + o.1))
    };
    let (o90, s90) = within(90.0, 0.0);
    let (p90, sp90) = within(180.0, 90.0);
    let contacts: Vec<_> = h.contacts.iter().filter(|c| c.at_ms <= as_of_ms).collect();
    let ratings: Vec<u8> = contacts.iter().filter_map(|c| c.rating).collect();
    let n = orders.len() as u32;
    CustomerProfile {
        orders: n,
        recency_days: newest,
        tenure_days: first_seen,
        monetary: ordered - returned,
        avg_order_value: (n > 0).then(|| ordered / f64::from(n)),
        orders_last_90d: o90,
        orders_prev_90d: p90,
        spend_trend: (s90 - sp90) / (s90.abs() + sp90.abs() + 1.0),
        mean_days_between_orders: match (oldest, newest) {
            (Some(a), Some(b)) if n >= 2 => Some((a - b) / f64::from(n - 1)),
            _ => None,
        },
        returned_items,
        returned_value_share: if ordered > 0.0 {
            returned / ordered
        } else {
            0.0
        },
        support_contacts: contacts.len() as u32,
        support_contacts_last_90d: contacts.iter().filter(|c| days(c.at_ms) < 90.0).count() as u32,
        satisfaction: (!ratings.is_empty())
            .then(|| ratings.iter().map(|&r| f64::from(r)).sum::<f64>() / ratings.len() as f64),
        last_rating: ratings.last().copied(),
        sessions_last_30d: h.sessions_last_30d,
        days_since_last_seen: h.last_seen_ms.filter(|&ms| ms <= as_of_ms).map(days),
    }
}

/// The order and return lines of `h` as churn transactions (days since the epoch).
pub fn transactions(h: &CustomerHistory) -> Vec<Transaction> {
    let mut out = Vec::new();
    for o in &h.orders {
        for l in &o.lines {
            out.push(Transaction {
                customer: h.customer.clone(),
                invoice: o.id.clone(),
                item: l.product.clone(),
                at: o.at_ms as f64 / DAY_MS,
                quantity: 1.0,
                unit_price: l.value,
            });
        }
    }
    for r in &h.returns {
        for l in &r.lines {
            out.push(Transaction {
                customer: h.customer.clone(),
                invoice: String::new(),
                item: l.product.clone(),
                at: r.at_ms as f64 / DAY_MS,
                quantity: -1.0,
                unit_price: l.value,
            });
        }
    }
    out
}

/// The BG/NBD summary of `h` as of `as_of_ms` (weeks; orders on one day are
/// one transaction), or `None` without orders.
pub fn summary(h: &CustomerHistory, as_of_ms: i64) -> Option<Summary> {
    let mut by_day: Vec<(i64, f64)> = h
        .orders
        .iter()
        .filter(|o| o.at_ms < as_of_ms)
        .map(|o| {
            (
                o.at_ms.div_euclid(DAY_MS as i64),
                o.lines.iter().map(|l| l.value).sum(),
            )
        })
        .collect();
    if by_day.is_empty() {
        return None;
    }
    by_day.sort_by_key(|d| d.0);
    let mut days: Vec<(i64, f64)> = Vec::with_capacity(by_day.len());
    for (d, v) in by_day {
        match days.last_mut() {
            Some(last) if last.0 == d => last.1 += v,
            _ => days.push((d, v)),
        }
    }
    let end_day = (as_of_ms - 1).div_euclid(DAY_MS as i64);
    let first = days[0].0;
    let last = days[days.len() - 1].0;
    let repeats = &days[1..];
    Some(Summary {
        frequency: repeats.len() as f64,
        recency: (last - first) as f64 / 7.0,
        t: (end_day - first) as f64 / 7.0,
        monetary: if repeats.is_empty() {
            0.0
        } else {
            repeats.iter().map(|d| d.1).sum::<f64>() / repeats.len() as f64
        },
    })
}

/// Why a part of the model is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelNote {
    /// `churn`, `purchases`, `clv` or `segments`.
    pub part: String,
    pub reason: String,
}

fn note(part: &str, reason: impl Into<String>) -> ModelNote {
    ModelNote {
        part: part.into(),
        reason: reason.into(),
    }
}

/// A shop's fitted customer models. Parts the shop's data cannot support
/// are `None`, with a note in `notes`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CustomerModel {
    pub version: u32,
    /// The moment the model describes (ms since the epoch).
    pub fitted_at_ms: i64,
    pub horizon_days: f64,
    /// Customers the fit saw, of whom `buyers` have an order and
    /// `repeat_buyers` ordered on two days or more.
    pub customers: usize,
    pub buyers: usize,
    pub repeat_buyers: usize,
    pub bg_nbd: Option<BgNbd>,
    pub gamma_gamma: Option<GammaGamma>,
    pub churn: Option<ChurnModel>,
    pub segments: Option<Segmentation>,
    pub notes: Vec<ModelNote>,
}

/// An even sample of at most `max` of `items`.
fn sample<T>(items: &[T], max: usize) -> Vec<&T> {
    if items.len() <= max {
        return items.iter().collect();
    }
    let step = items.len() as f64 / max as f64;
    (0..max)
        .map(|i| &items[(i as f64 * step) as usize])
        .collect()
}

fn rfm(p: &CustomerProfile) -> RfmPoint {
    RfmPoint {
        recency_days: p.recency_days.unwrap_or(0.0),
        frequency: f64::from(p.orders),
        monetary: p.monetary.max(0.0),
        tenure_days: p.tenure_days.unwrap_or(0.0),
    }
}

impl CustomerModel {
    /// Fits on `histories` as of `as_of_ms`. Never fails: what the data
    /// cannot support is left out, with the reason in `notes`.
    pub fn fit(histories: &[CustomerHistory], as_of_ms: i64) -> CustomerModel {
        Self::fit_sample(histories, histories.len(), as_of_ms)
    }

    /// [`CustomerModel::fit`] on an even sample of a shop's `total` customers
    /// (counts of buyers are scaled up to the whole shop).
    pub fn fit_sample(histories: &[CustomerHistory], total: usize, as_of_ms: i64) -> CustomerModel {
        let fit_on = sample(histories, FIT_SAMPLE);
        let summaries: Vec<Summary> = fit_on.iter().filter_map(|h| summary(h, as_of_ms)).collect();
        let buyers = summaries.len();
        let repeat_buyers = summaries.iter().filter(|s| s.frequency > 0.0).count();
        let mut notes = Vec::new();

        let bg_nbd = if buyers < MIN_BUYERS || repeat_buyers < MIN_REPEAT_BUYERS {
            notes.push(note(
                "purchases",
                format!(
                    "not enough order history in this shop: {buyers} customers with orders and \
                     {repeat_buyers} who ordered again; BG/NBD needs {MIN_BUYERS} and {MIN_REPEAT_BUYERS}"
                ),
            ));
            None
        } else {
            match BgNbd::fit(&summaries) {
                Ok(m) if [m.r, m.alpha, m.a, m.b].iter().all(|v| v.is_finite()) => Some(m),
                Ok(_) => {
                    notes.push(note("purchases", "the BG/NBD fit did not converge"));
                    None
                }
                Err(e) => {
                    notes.push(note(
                        "purchases",
                        format!("BG/NBD could not be fitted: {e}"),
                    ));
                    None
                }
            }
        };
        let spenders = summaries
            .iter()
            .filter(|s| s.frequency > 0.0 && s.monetary > 0.0)
            .count();
        let gamma_gamma = if bg_nbd.is_none() {
            notes.push(note(
                "clv",
                "lifetime value needs the purchase model (BG/NBD), which this shop's data cannot support yet",
            ));
            None
        } else if spenders < MIN_SPEND_CUSTOMERS {
            notes.push(note(
                "clv",
                format!(
                    "not enough repeat orders to model spend: {spenders} customers; Gamma-Gamma needs {MIN_SPEND_CUSTOMERS}"
                ),
            ));
            None
        } else {
            match GammaGamma::fit(&summaries) {
                Ok(m) if m.q > 1.0 && m.p.is_finite() && m.gamma.is_finite() => Some(m),
                Ok(_) => {
                    notes.push(note(
                        "clv",
                        "the Gamma-Gamma fit has no finite mean spend (q ≤ 1)",
                    ));
                    None
                }
                Err(e) => {
                    notes.push(note("clv", format!("Gamma-Gamma could not be fitted: {e}")));
                    None
                }
            }
        };

        let churn = fit_churn(histories, as_of_ms, &mut notes);

        let points: Vec<RfmPoint> = fit_on
            .iter()
            .map(|h| profile(h, as_of_ms))
            .filter(|p| p.orders > 0)
            .map(|p| rfm(&p))
            .collect();
        let segments = if points.len() < MIN_SEGMENT_BUYERS {
            notes.push(note(
                "segments",
                format!(
                    "{} customers with orders; segments need {MIN_SEGMENT_BUYERS}",
                    points.len()
                ),
            ));
            None
        } else {
            match Segmentation::fit(&points, None, 7) {
                Ok(mut s) => {
                    // Only the centroids are needed to assign customers later.
                    s.assignments.clear();
                    Some(s)
                }
                Err(e) => {
                    notes.push(note(
                        "segments",
                        format!("segments could not be fitted: {e}"),
                    ));
                    None
                }
            }
        };
        CustomerModel {
            version: CUSTOMER_MODEL_VERSION,
            fitted_at_ms: as_of_ms,
            horizon_days: HORIZON_DAYS,
            customers: total,
            // The sample's counts, scaled to the whole shop.
            buyers: scale(buyers, total, fit_on.len()),
            repeat_buyers: scale(repeat_buyers, total, fit_on.len()),
            bg_nbd,
            gamma_gamma,
            churn,
            segments,
            notes,
        }
    }

    /// Scores one customer as of `as_of_ms`, with the main reasons.
    pub fn score(&self, h: &CustomerHistory, as_of_ms: i64) -> CustomerScores {
        self.scored(h, as_of_ms, true)
    }

    /// [`CustomerModel::score`] without the churn model's reasons (the same
    /// numbers, faster: for batch rescoring).
    pub fn score_quick(&self, h: &CustomerHistory, as_of_ms: i64) -> CustomerScores {
        self.scored(h, as_of_ms, false)
    }

    fn scored(&self, h: &CustomerHistory, as_of_ms: i64, explain: bool) -> CustomerScores {
        let profile = profile(h, as_of_ms);
        let mut out = CustomerScores {
            profile,
            ..CustomerScores::default()
        };
        if out.profile.orders == 0 {
            let why = "no orders yet: churn, expected purchases and lifetime value start with the first order";
            out.unavailable = vec![note("churn", why), note("purchases", why), note("clv", why)];
            out.segment = Some(Segment {
                name: "Prospect".into(),
                basis: "no orders yet",
            });
            out.reasons = support_signals(&out.profile);
            return out;
        }
        let s = summary(h, as_of_ms);
        let weeks = |days: f64| days / 7.0;
        if let (Some(bg), Some(s)) = (&self.bg_nbd, &s) {
            out.p_alive = Some(bg.p_alive(s));
            out.expected_purchases_90d = finite(bg.expected_purchases(s, weeks(HORIZON_DAYS)));
            out.expected_purchases_365d = finite(bg.expected_purchases(s, weeks(CLV_DAYS)));
            if let Some(gg) = &self.gamma_gamma {
                out.expected_order_value = finite(gg.expected_spend(s));
                out.clv_365d = match (out.expected_purchases_365d, out.expected_order_value) {
                    (Some(n), Some(v)) => finite(n * v),
                    _ => None,
                };
            }
        }
        let as_of_days = as_of_ms as f64 / DAY_MS;
        let churn_features = self.churn.as_ref().and_then(|m| {
            churn::customer_features_using(
                &transactions(h),
                as_of_days,
                m.horizon_days,
                self.bg_nbd.as_ref(),
            )
            .ok()
            .and_then(|mut f| f.pop())
            .map(|f| (m, f))
        });
        if let Some((m, f)) = churn_features {
            let row = f.to_row();
            out.churn = Some(ChurnScore {
                probability: m.model.predict_proba(&row),
                horizon_days: m.horizon_days,
                basis: "gbt",
            });
            let top = if explain {
                m.model.explain(&row, 3)
            } else {
                Vec::new()
            };
            for (name, contribution) in top {
                let i = churn::FEATURE_NAMES.iter().position(|n| *n == name);
                if let Some(text) = i.and_then(|i| describe(&name, row[i])) {
                    out.reasons.push(Reason {
                        about: "churn",
                        effect: if contribution > 0.0 {
                            "raises_churn_risk"
                        } else {
                            "lowers_churn_risk"
                        },
                        text,
                    });
                }
            }
        } else if let (Some(bg), Some(s)) = (&self.bg_nbd, &s) {
            out.churn = finite(bg.p_no_purchase(s, weeks(HORIZON_DAYS))).map(|p| ChurnScore {
                probability: p,
                horizon_days: HORIZON_DAYS,
                basis: "bg_nbd",
            });
            if let Some(p) = out.p_alive {
                out.reasons.push(Reason {
                    about: "churn",
                    effect: if p < 0.5 {
                        "raises_churn_risk"
                    } else {
                        "lowers_churn_risk"
                    },
                    text: format!(
                        "{:.0}% likely still an active customer given {} orders, the last {:.0} days ago",
                        p * 100.0,
                        out.profile.orders,
                        out.profile.recency_days.unwrap_or(0.0)
                    ),
                });
            }
        }
        if let Some(seg) = &self.segments {
            out.segment = Some(Segment {
                name: seg.name_of(&rfm(&out.profile)).to_string(),
                basis: "k-means on recency, frequency, monetary value and tenure",
            });
        }
        for n in &self.notes {
            let missing = match n.part.as_str() {
                "churn" => out.churn.is_none(),
                "purchases" => out.expected_purchases_90d.is_none(),
                "clv" => out.clv_365d.is_none(),
                "segments" => out.segment.is_none(),
                _ => false,
            };
            if missing {
                out.unavailable.push(n.clone());
            }
        }
        out.reasons.extend(support_signals(&out.profile));
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }

    /// Loads an artifact written by this or an earlier format version.
    pub fn from_json(text: &str) -> Result<CustomerModel> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Artifact(e.to_string()))?;
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version == 0 || version > u64::from(CUSTOMER_MODEL_VERSION) {
            return Err(Error::Artifact(format!(
                "customer model version {version} is not supported (this build reads 1 to {CUSTOMER_MODEL_VERSION})"
            )));
        }
        serde_json::from_value(value).map_err(|e| Error::Artifact(e.to_string()))
    }
}

fn scale(n: usize, total: usize, seen: usize) -> usize {
    if seen == 0 || total <= seen {
        n
    } else {
        (n as f64 * total as f64 / seen as f64).round() as usize
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Trains the churn trees on the shop's own past, when it has enough of it.
fn fit_churn(
    histories: &[CustomerHistory],
    as_of_ms: i64,
    notes: &mut Vec<ModelNote>,
) -> Option<ChurnModel> {
    let buyers: Vec<&CustomerHistory> = histories.iter().filter(|h| !h.orders.is_empty()).collect();
    let train_on = sample(&buyers, CHURN_SAMPLE);
    let tx: Vec<Transaction> = train_on.iter().flat_map(|h| transactions(h)).collect();
    let as_of = as_of_ms as f64 / DAY_MS;
    let cutoff = as_of - HORIZON_DAYS;
    let (examples, churned) = match churn::examples_at(&tx, cutoff, HORIZON_DAYS) {
        Ok((f, labels)) => (f.len(), labels.iter().filter(|&&l| l).count()),
        Err(_) => (0, 0),
    };
    let stayed = examples - churned;
    if examples < MIN_CHURN_EXAMPLES || churned < MIN_CHURN_CLASS || stayed < MIN_CHURN_CLASS {
        notes.push(note(
            "churn",
            format!(
                "the churn model learns from customers who ordered more than {HORIZON_DAYS:.0} days ago: \
                 {examples} here ({churned} did not order again, {stayed} did); it needs \
                 {MIN_CHURN_EXAMPLES} with at least {MIN_CHURN_CLASS} of each"
            ),
        ));
        return None;
    }
    match ChurnModel::train(&tx, as_of, HORIZON_DAYS, &ChurnConfig::default()) {
        Ok(m) => Some(m),
        Err(e) => {
            notes.push(note(
                "churn",
                format!("the churn model could not be trained: {e}"),
            ));
            None
        }
    }
}

/// A churn probability and what it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChurnScore {
    /// P(no order in the next `horizon_days`).
    pub probability: f64,
    pub horizon_days: f64,
    /// `gbt` (trees trained on this shop's past) or `bg_nbd` (the purchase
    /// model's probability of no purchase in the horizon, when there is not
    /// enough past to train the trees).
    pub basis: &'static str,
}

/// A readable segment name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Segment {
    pub name: String,
    pub basis: &'static str,
}

/// One of the main reasons behind a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// `churn` (from the churn model) or `support` / `returns` (signals from
    /// the history that the models do not use).
    pub about: &'static str,
    /// `raises_churn_risk`, `lowers_churn_risk` or `signal`.
    pub effect: &'static str,
    pub text: String,
}

/// A customer's scores. `None` means "not known", with the reason in
/// `unavailable`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CustomerScores {
    pub profile: CustomerProfile,
    pub churn: Option<ChurnScore>,
    /// BG/NBD probability that the customer is still active.
    pub p_alive: Option<f64>,
    pub expected_purchases_90d: Option<f64>,
    pub expected_purchases_365d: Option<f64>,
    /// Gamma-Gamma expected value of one order.
    pub expected_order_value: Option<f64>,
    /// Expected spend over the next 365 days (undiscounted).
    pub clv_365d: Option<f64>,
    pub segment: Option<Segment>,
    pub reasons: Vec<Reason>,
    pub unavailable: Vec<ModelNote>,
}

fn support_signals(p: &CustomerProfile) -> Vec<Reason> {
    let mut out = Vec::new();
    let signal = |about, text| Reason {
        about,
        effect: "signal",
        text,
    };
    if p.support_contacts_last_90d >= 2 {
        out.push(signal(
            "support",
            format!(
                "{} support conversations in the last 90 days",
                p.support_contacts_last_90d
            ),
        ));
    }
    if let Some(r) = p.last_rating.filter(|&r| r <= 2) {
        out.push(signal(
            "support",
            format!("rated their last support conversation {r}/5"),
        ));
    }
    if p.returned_items > 0 && p.returned_value_share >= 0.3 {
        out.push(signal(
            "returns",
            format!(
                "returned {:.0}% of what they ordered",
                p.returned_value_share * 100.0
            ),
        ));
    }
    out
}

/// A churn feature's value in words.
fn describe(feature: &str, v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    Some(match feature {
        "recency_days" => format!("last order {v:.0} days ago"),
        "frequency" => format!("{v:.0} orders so far"),
        "monetary" => format!("net spend {v:.2}"),
        "avg_order_value" => format!("average order {v:.2}"),
        "tenure_days" => format!("first order {v:.0} days ago"),
        "orders_last_30d" => format!("{v:.0} orders in the last 30 days"),
        "orders_last_90d" => format!("{v:.0} orders in the last 90 days"),
        "orders_prev_90d" => format!("{v:.0} orders in the 90 days before that"),
        "spend_trend" if v > 0.05 => "spending more than in the previous 90 days".into(),
        "spend_trend" if v < -0.05 => "spending less than in the previous 90 days".into(),
        "spend_trend" => "spending as much as in the previous 90 days".into(),
        "mean_gap_days" => format!("orders every {v:.0} days on average"),
        "recency_over_gap" => format!("{v:.1}× their usual gap since the last order"),
        "return_lines_share" => format!("{:.0}% of order lines returned", v * 100.0),
        "returned_value_share" => format!("{:.0}% of order value returned", v * 100.0),
        "distinct_items" => format!("{v:.0} different products bought"),
        "p_alive" => format!("{:.0}% likely still active (BG/NBD)", v * 100.0),
        "expected_orders" => format!("{v:.2} orders expected in the next 90 days (BG/NBD)"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use hc_domain::{HistoryContact, HistoryLine, HistoryOrder, HistoryReturn};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 20_000 * DAY;

    fn order(id: &str, at_ms: i64, value: f64) -> HistoryOrder {
        HistoryOrder {
            id: id.into(),
            at_ms,
            lines: vec![HistoryLine {
                product: "p1".into(),
                value,
            }],
        }
    }

    /// A shop whose customers buy at their own rate until they stop: loyal
    /// ones every ~20 days up to now, lapsed ones stopped 200+ days ago.
    pub(crate) fn shop(n: usize, seed: u64) -> Vec<CustomerHistory> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let lapsed = i % 2 == 0;
                let start = NOW - rng.gen_range(300..700) * DAY;
                let end = if lapsed {
                    NOW - rng.gen_range(150..300) * DAY
                } else {
                    NOW - rng.gen_range(0..20) * DAY
                };
                let gap = rng.gen_range(10..40) * DAY;
                let mut orders = Vec::new();
                let mut at = start;
                while at < end {
                    orders.push(order(
                        &format!("o{i}-{}", orders.len()),
                        at,
                        rng.gen_range(20.0..80.0),
                    ));
                    at += gap + rng.gen_range(0..10) * DAY;
                }
                CustomerHistory {
                    customer: format!("c{i:05}"),
                    orders,
                    ..Default::default()
                }
            })
            .collect()
    }

    #[test]
    fn the_profile_describes_orders_returns_and_support() {
        let h = CustomerHistory {
            customer: "c".into(),
            orders: vec![
                order("a", NOW - 100 * DAY, 40.0),
                order("b", NOW - 10 * DAY, 60.0),
                // After the moment described: ignored.
                order("c", NOW + DAY, 999.0),
            ],
            returns: vec![HistoryReturn {
                at_ms: NOW - 5 * DAY,
                lines: vec![HistoryLine {
                    product: "p1".into(),
                    value: 30.0,
                }],
            }],
            contacts: vec![
                HistoryContact {
                    at_ms: NOW - 200 * DAY,
                    rating: Some(5),
                },
                HistoryContact {
                    at_ms: NOW - 3 * DAY,
                    rating: Some(2),
                },
            ],
            first_seen_ms: Some(NOW - 120 * DAY),
            last_seen_ms: Some(NOW - DAY),
            sessions_last_30d: 4,
            latest_session: None,
        };
        let p = profile(&h, NOW);
        assert_eq!(p.orders, 2);
        assert_eq!(p.recency_days, Some(10.0));
        assert_eq!(p.tenure_days, Some(120.0));
        assert_eq!(p.monetary, 70.0);
        assert_eq!(p.avg_order_value, Some(50.0));
        assert_eq!((p.orders_last_90d, p.orders_prev_90d), (1, 1));
        assert!((p.spend_trend - (60.0 - 40.0) / 101.0).abs() < 1e-12);
        assert_eq!(p.mean_days_between_orders, Some(90.0));
        assert_eq!(p.returned_items, 1);
        assert!((p.returned_value_share - 0.3).abs() < 1e-12);
        assert_eq!((p.support_contacts, p.support_contacts_last_90d), (2, 1));
        assert_eq!(p.satisfaction, Some(3.5));
        assert_eq!(p.last_rating, Some(2));
        assert_eq!(p.days_since_last_seen, Some(1.0));
        let s = summary(&h, NOW).unwrap();
        assert_eq!(s.frequency, 1.0);
        assert!((s.recency - 90.0 / 7.0).abs() < 1e-12);
        assert_eq!(s.monetary, 60.0);
    }

    #[test]
    fn a_tiny_shop_gets_notes_instead_of_numbers() {
        let shop = shop(6, 1);
        let m = CustomerModel::fit(&shop, NOW);
        assert!(m.bg_nbd.is_none() && m.churn.is_none() && m.segments.is_none());
        let parts: Vec<&str> = m.notes.iter().map(|n| n.part.as_str()).collect();
        for part in ["purchases", "clv", "churn", "segments"] {
            assert!(parts.contains(&part), "{parts:?}");
        }
        let s = m.score(&shop[1], NOW);
        assert_eq!(s.profile.orders as usize, shop[1].orders.len());
        assert!(s.churn.is_none() && s.clv_365d.is_none() && s.segment.is_none());
        assert!(s.unavailable.iter().any(|n| n.part == "churn"), "{s:?}");
    }

    #[test]
    fn a_customer_without_orders_is_a_prospect_with_no_invented_scores() {
        let shop = shop(400, 2);
        let m = CustomerModel::fit(&shop, NOW);
        let s = m.score(
            &CustomerHistory {
                customer: "new".into(),
                ..Default::default()
            },
            NOW,
        );
        assert!(s.churn.is_none() && s.expected_purchases_90d.is_none() && s.clv_365d.is_none());
        assert_eq!(s.segment.unwrap().name, "Prospect");
        assert_eq!(s.unavailable.len(), 3);
    }

    #[test]
    fn a_shop_with_history_gets_trained_churn_value_and_segments() {
        let shop = shop(200, 3);
        let m = CustomerModel::fit(&shop, NOW);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        assert!(m.bg_nbd.is_some() && m.gamma_gamma.is_some());
        assert!(m.churn.is_some() && m.segments.is_some());
        // Lapsed customers (even indexes) score a higher churn risk and a
        // lower value than active ones.
        let (mut lapsed, mut active) = (Vec::new(), Vec::new());
        for (i, h) in shop.iter().enumerate() {
            let s = m.score(h, NOW);
            let c = s.churn.expect("scored");
            assert_eq!(c.basis, "gbt");
            assert!(!s.reasons.is_empty());
            let v = (c.probability, s.clv_365d.unwrap());
            if i % 2 == 0 {
                lapsed.push(v)
            } else {
                active.push(v)
            }
        }
        let mean = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| {
            v.iter().map(f).sum::<f64>() / v.len() as f64
        };
        assert!(mean(&lapsed, |v| v.0) > mean(&active, |v| v.0) + 0.5);
        assert!(mean(&lapsed, |v| v.1) < mean(&active, |v| v.1) / 3.0);
        // The artifact reloads and scores the same.
        let again = CustomerModel::from_json(&m.to_json()).unwrap();
        let (a, b) = (again.score(&shop[0], NOW), m.score(&shop[0], NOW));
        assert_eq!(a.churn, b.churn);
        assert_eq!(a.segment, b.segment);
        assert!((a.clv_365d.unwrap() - b.clv_365d.unwrap()).abs() < 1e-9);
        let future = m.to_json().replacen("\"version\":1", "\"version\":99", 1);
        assert!(CustomerModel::from_json(&future).is_err());
    }

    #[test]
    fn without_enough_past_churn_falls_back_to_the_purchase_model() {
        // Everyone's history is younger than the horizon: no labelled past.
        let mut shop = shop(200, 4);
        for h in &mut shop {
            for (k, o) in h.orders.iter_mut().enumerate() {
                o.at_ms = NOW - (60 - 5 * k as i64).max(1) * DAY;
            }
        }
        let m = CustomerModel::fit(&shop, NOW);
        assert!(m.churn.is_none());
        assert!(m.bg_nbd.is_some());
        let s = m.score(&shop[3], NOW);
        let c = s.churn.unwrap();
        assert_eq!(c.basis, "bg_nbd");
        assert!((0.0..=1.0).contains(&c.probability));
    }

    #[test]
    fn no_purchase_probability_is_consistent_with_expected_purchases() {
        let bg = BgNbd {
            r: 0.5,
            alpha: 5.0,
            a: 0.8,
            b: 2.5,
        };
        let recent = Summary {
            frequency: 3.0,
            recency: 29.0,
            t: 30.0,
            monetary: 0.0,
        };
        let gone = Summary {
            recency: 2.0,
            t: 80.0,
            ..recent
        };
        for s in [recent, gone] {
            let mut last = 1.0;
            for t in [0.0, 1.0, 4.0, 13.0, 52.0] {
                let none = bg.p_no_purchase(&s, t);
                // Decreasing in the horizon, 1 for an empty one …
                assert!(none <= last + 1e-12 && (t > 0.0 || (none - 1.0).abs() < 1e-12));
                // … and P(X ≥ 1) ≤ E[X].
                assert!(1.0 - none <= bg.expected_purchases(&s, t) + 1e-9);
                // Never below the chance of having dropped out.
                assert!(none >= 1.0 - bg.p_alive(&s) - 1e-12);
                last = none;
            }
        }
        assert!(bg.p_no_purchase(&gone, 13.0) > bg.p_no_purchase(&recent, 13.0));
    }
}
