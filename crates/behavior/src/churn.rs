//! Churn probability per customer from transaction history.
//!
//! [`Transaction`] is one line of an order or a return (negative quantity);
//! [`customer_features`] turns the history before a cut-off into
//! per-customer features (recency, frequency, monetary value, tenure, trend,
//! returns, and the BG/NBD model's probability of being alive);
//! [`ChurnModel::train`] learns from the history itself by moving the
//! cut-off back one horizon (and a few more steps back for more examples):
//! a customer churned when they have no transaction in the horizon after the
//! cut-off. The model is the crate's [`Gbt`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::clv::{BgNbd, Summary};
use crate::datasets::Csv;
use crate::dates::parse_timestamp;
use crate::error::{Error, Result};
use crate::gbt::{Dataset, Gbt, GbtParams};

/// One order or return line. `at` is fractional days since 1970-01-01;
/// `quantity < 0` marks a return (or cancellation); `unit_price` is in the
/// shop's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub customer: String,
    pub invoice: String,
    pub item: String,
    pub at: f64,
    pub quantity: f64,
    pub unit_price: f64,
}

/// Reads the UCI Online Retail layout (InvoiceNo, StockCode, Description,
/// Quantity, InvoiceDate, UnitPrice, CustomerID, Country; gzip allowed).
/// Rows without a CustomerID are skipped (they cannot be attributed).
pub fn load_online_retail(path: &Path) -> Result<Vec<Transaction>> {
    let csv = Csv::read(path)?;
    let (invoice, stock, quantity, date, price, customer) = (
        csv.column(&["InvoiceNo", "Invoice"])?,
        csv.column(&["StockCode"])?,
        csv.column(&["Quantity"])?,
        csv.column(&["InvoiceDate"])?,
        csv.column(&["UnitPrice", "Price"])?,
        csv.column(&["CustomerID", "Customer ID"])?,
    );
    let mut out = Vec::with_capacity(csv.rows.len());
    for r in 0..csv.rows.len() {
        let id = csv.text(r, customer);
        if id.is_empty() {
            continue;
        }
        // Some exports write ids as floats ("17850.0").
        let id = id.strip_suffix(".0").unwrap_or(id);
        out.push(Transaction {
            customer: id.to_string(),
            invoice: csv.text(r, invoice).to_string(),
            item: csv.text(r, stock).to_string(),
            at: parse_timestamp(csv.text(r, date)).map_err(|e| csv.error(r, e.to_string()))?,
            quantity: csv.float(r, quantity)?,
            unit_price: csv.float(r, price)?,
        });
    }
    Ok(out)
}

/// Names of the churn features, in [`CustomerFeatures::to_row`] order.
pub const FEATURE_NAMES: [&str; 16] = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "orders_last_30d",
    "orders_last_90d",
    "orders_prev_90d",
    "spend_trend",
    "mean_gap_days",
    "recency_over_gap",
    "return_lines_share",
    "returned_value_share",
    "distinct_items",
    "p_alive",
    "expected_orders",
];

/// A customer's behaviour as of a cut-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerFeatures {
    pub customer: String,
    /// Days since the last order (or last activity without orders).
    pub recency_days: f64,
    /// Distinct orders (invoices with positive quantities).
    pub frequency: f64,
    /// Net spend (orders minus returns).
    pub monetary: f64,
    pub avg_order_value: f64,
    /// Days since the first transaction.
    pub tenure_days: f64,
    pub orders_last_30d: f64,
    pub orders_last_90d: f64,
    pub orders_prev_90d: f64,
    /// (spend in the last 90 days − the 90 before) / (their sum + 1).
    pub spend_trend: f64,
    /// Mean days between orders (NaN with fewer than two).
    pub mean_gap_days: f64,
    pub recency_over_gap: f64,
    /// Share of lines that are returns.
    pub return_lines_share: f64,
    /// Returned value / ordered value.
    pub returned_value_share: f64,
    pub distinct_items: f64,
    /// BG/NBD probability of still being active (NaN without orders).
    pub p_alive: f64,
    /// BG/NBD expected orders over the horizon.
    pub expected_orders: f64,
}

impl CustomerFeatures {
    pub fn to_row(&self) -> Vec<f64> {
        vec![
            self.recency_days,
            self.frequency,
            self.monetary,
            self.avg_order_value,
            self.tenure_days,
            self.orders_last_30d,
            self.orders_last_90d,
            self.orders_prev_90d,
            self.spend_trend,
            self.mean_gap_days,
            self.recency_over_gap,
            self.return_lines_share,
            self.returned_value_share,
            self.distinct_items,
            self.p_alive,
            self.expected_orders,
        ]
    }
}

/// Features of every customer with a transaction before `as_of`, sorted by
/// customer id. `horizon_days` sets the BG/NBD forecast window. Fails when
/// the history is empty.
pub fn customer_features(
    transactions: &[Transaction],
    as_of: f64,
    horizon_days: f64,
) -> Result<Vec<CustomerFeatures>> {
    customer_features_using(transactions, as_of, horizon_days, None)
}

/// [`customer_features`] with the BG/NBD scores from `given` instead of a
/// model fitted on these transactions (to score a few customers with the
/// model fitted on the whole shop).
pub fn customer_features_using(
    transactions: &[Transaction],
    as_of: f64,
    horizon_days: f64,
    given: Option<&BgNbd>,
) -> Result<Vec<CustomerFeatures>> {
    struct Acc<'a> {
        first: f64,
        last_any: f64,
        orders: BTreeMap<&'a str, (f64, f64)>, // invoice → (time, value)
        lines: f64,
        return_lines: f64,
        ordered_value: f64,
        returned_value: f64,
        items: HashSet<&'a str>,
    }
    let mut by_customer: HashMap<&str, Acc> = HashMap::new();
    for t in transactions.iter().filter(|t| t.at < as_of) {
        let acc = by_customer
            .entry(t.customer.as_str())
            .or_insert_with(|| Acc {
                first: t.at,
                last_any: t.at,
                orders: BTreeMap::new(),
                lines: 0.0,
                return_lines: 0.0,
                ordered_value: 0.0,
                returned_value: 0.0,
                items: HashSet::new(),
            });
        acc.first = acc.first.min(t.at);
        acc.last_any = acc.last_any.max(t.at);
        acc.lines += 1.0;
        let value = t.quantity * t.unit_price;
        if t.quantity > 0.0 {
            let o = acc.orders.entry(t.invoice.as_str()).or_insert((t.at, 0.0));
            o.0 = o.0.min(t.at);
            o.1 += value;
            acc.ordered_value += value;
            acc.items.insert(t.item.as_str());
        } else if t.quantity < 0.0 {
            acc.return_lines += 1.0;
            acc.returned_value += -value;
        }
    }
    if by_customer.is_empty() {
        return Err(Error::InsufficientData(
            "no transactions before the cut-off".into(),
        ));
    }

    // BG/NBD over order days, in weeks.
    let day_of = |t: f64| t.floor();
    let end_day = (as_of - 1e-9).floor();
    let mut summaries: Vec<(&str, Summary)> = Vec::new();
    for (c, acc) in &by_customer {
        let mut days: Vec<f64> = acc.orders.values().map(|o| day_of(o.0)).collect();
        days.sort_by(f64::total_cmp);
        days.dedup();
        if let (Some(&first), Some(&last)) = (days.first(), days.last()) {
            summaries.push((
                c,
                Summary {
                    frequency: (days.len() - 1) as f64,
                    recency: (last - first) / 7.0,
                    t: (end_day - first) / 7.0,
                    monetary: 0.0,
                },
            ));
        }
    }
    let bg = match given {
        Some(m) => Some(*m),
        None if summaries.len() >= 10 => {
            let s: Vec<Summary> = summaries.iter().map(|x| x.1).collect();
            BgNbd::fit(&s).ok()
        }
        None => None,
    };
    let bg_scores: HashMap<&str, (f64, f64)> = summaries
        .iter()
        .map(|(c, s)| {
            let v = match &bg {
                Some(m) => (m.p_alive(s), m.expected_purchases(s, horizon_days / 7.0)),
                None => (f64::NAN, f64::NAN),
            };
            (*c, v)
        })
        .collect();

    let mut out: Vec<CustomerFeatures> = by_customer
        .iter()
        .map(|(c, acc)| {
            let mut times: Vec<(f64, f64)> = acc.orders.values().copied().collect();
            times.sort_by(|a, b| a.0.total_cmp(&b.0));
            let frequency = times.len() as f64;
            let last_order = times.last().map_or(acc.last_any, |t| t.0);
            let within = |from: f64, to: f64| {
                times
                    .iter()
                    .filter(|t| t.0 >= as_of - from && t.0 < as_of - to)
                    .fold((0.0, 0.0), |a, t| (a.0 + 1.0, a.1 + t.1))
            };
            let (o30, _) = within(30.0, 0.0);
            let (o90, s90) = within(90.0, 0.0);
            let (p90, sp90) = within(180.0, 90.0);
            let mean_gap = if times.len() >= 2 {
                (times[times.len() - 1].0 - times[0].0) / (times.len() - 1) as f64
            } else {
                f64::NAN
            };
            let recency = as_of - last_order;
            let (p_alive, expected) = bg_scores.get(c).copied().unwrap_or((f64::NAN, f64::NAN));
            CustomerFeatures {
                customer: c.to_string(),
                recency_days: recency,
                frequency,
                monetary: acc.ordered_value - acc.returned_value,
                avg_order_value: if frequency > 0.0 {
                    acc.ordered_value / frequency
                } else {
                    0.0
                },
                tenure_days: as_of - acc.first,
                orders_last_30d: o30,
                orders_last_90d: o90,
                orders_prev_90d: p90,
                spend_trend: (s90 - sp90) / (s90.abs() + sp90.abs() + 1.0),
                mean_gap_days: mean_gap,
                recency_over_gap: if mean_gap > 0.0 {
                    recency / mean_gap
                } else {
                    f64::NAN
                },
                return_lines_share: acc.return_lines / acc.lines,
                returned_value_share: if acc.ordered_value > 0.0 {
                    acc.returned_value / acc.ordered_value
                } else {
                    0.0
                },
                distinct_items: acc.items.len() as f64,
                p_alive,
                expected_orders: expected,
            }
        })
        .collect();
    out.sort_by(|a, b| a.customer.cmp(&b.customer));
    Ok(out)
}

/// Customers with any transaction in `[from, to)`.
pub fn active_between(transactions: &[Transaction], from: f64, to: f64) -> HashSet<&str> {
    transactions
        .iter()
        .filter(|t| t.at >= from && t.at < to)
        .map(|t| t.customer.as_str())
        .collect()
}

/// Artifact format version written by [`ChurnModel::to_json`].
pub const CHURN_FORMAT_VERSION: u32 = 1;

/// How [`ChurnModel::train`] builds its examples.
#[derive(Debug, Clone)]
pub struct ChurnConfig {
    pub gbt: GbtParams,
    /// Training cut-offs: `as_of − horizon − k × step_days` for k in 0..cutoffs.
    pub cutoffs: usize,
    pub step_days: f64,
}

impl Default for ChurnConfig {
    fn default() -> Self {
        Self {
            gbt: GbtParams {
                learning_rate: 0.03,
                max_depth: 3,
                max_leaves: 8,
                min_samples_leaf: 40,
                ..GbtParams::default()
            },
            cutoffs: 3,
            step_days: 30.0,
        }
    }
}

/// A trained churn model: P(no transaction in the next `horizon_days`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnModel {
    pub version: u32,
    pub horizon_days: f64,
    pub model: Gbt,
}

/// Labelled examples from history at one cut-off.
pub fn examples_at(
    transactions: &[Transaction],
    cutoff: f64,
    horizon_days: f64,
) -> Result<(Vec<CustomerFeatures>, Vec<bool>)> {
    let features = customer_features(transactions, cutoff, horizon_days)?;
    let active = active_between(transactions, cutoff, cutoff + horizon_days);
    let labels = features
        .iter()
        .map(|f| !active.contains(f.customer.as_str()))
        .collect();
    Ok((features, labels))
}

fn to_dataset(features: &[CustomerFeatures], labels: Vec<bool>) -> Dataset {
    Dataset {
        feature_names: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
        values: features.iter().flat_map(|f| f.to_row()).collect(),
        labels,
    }
}

impl ChurnModel {
    /// Learns from the history before `as_of`: labels come from the last
    /// `horizon_days` of it, features from before each training cut-off.
    pub fn train(
        transactions: &[Transaction],
        as_of: f64,
        horizon_days: f64,
        config: &ChurnConfig,
    ) -> Result<ChurnModel> {
        if horizon_days.is_nan() || horizon_days <= 0.0 {
            return Err(Error::Invalid("the churn horizon must be positive".into()));
        }
        let history: Vec<Transaction> = transactions
            .iter()
            .filter(|t| t.at < as_of)
            .cloned()
            .collect();
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for k in 0..config.cutoffs.max(1) {
            let cutoff = as_of - horizon_days - k as f64 * config.step_days;
            match examples_at(&history, cutoff, horizon_days) {
                Ok((f, l)) => {
                    features.extend(f);
                    labels.extend(l);
                }
                Err(Error::InsufficientData(_)) if k > 0 => break,
                Err(e) => return Err(e),
            }
        }
        let model = Gbt::train(&to_dataset(&features, labels), &config.gbt)?;
        Ok(ChurnModel {
            version: CHURN_FORMAT_VERSION,
            horizon_days,
            model,
        })
    }

    /// Churn probability of each customer (features as of the same horizon).
    pub fn score(&self, features: &CustomerFeatures) -> f64 {
        self.model.predict_proba(&features.to_row())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }

    pub fn from_json(text: &str) -> Result<ChurnModel> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Artifact(e.to_string()))?;
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version == 0 || version > u64::from(CHURN_FORMAT_VERSION) {
            return Err(Error::Artifact(format!(
                "churn artifact version {version} is not supported"
            )));
        }
        let horizon_days = value
            .get("horizon_days")
            .and_then(|v| v.as_f64())
            .filter(|h| *h > 0.0)
            .ok_or_else(|| Error::Artifact("churn artifact has no valid horizon_days".into()))?;
        let model = value
            .get("model")
            .ok_or_else(|| Error::Artifact("churn artifact has no model".into()))?;
        Ok(ChurnModel {
            version: CHURN_FORMAT_VERSION,
            horizon_days,
            model: Gbt::from_json(&model.to_string())?,
        })
    }
}
