//! One repricing step over many items, the approvals queue and the
//! competitor feed, as data: the core of the pricing service without I/O.
//!
//! The service (not built yet) loads rules, grids and situations, calls
//! [`reprice`], stores the [`PriceChange`]s as price history, and keeps the
//! pending ones in an [`Approvals`] queue. Approving re-checks the rules
//! against the situation at approval time, so a stale change can never put
//! a price outside them.

use std::collections::BTreeMap;

use hc_domain::Money;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::demand::Context;
use crate::error::{Error, Result};
use crate::guardrails::{Clip, Mode, Rules, Situation};
use crate::learn::{DemandBook, InventoryNote, StockPlan};

/// What one item needs for a repricing step.
#[derive(Clone, Debug)]
pub struct ItemInput<'a> {
    pub item: &'a str,
    /// Candidate prices the policy chooses from.
    pub grid: &'a [f64],
    pub rules: &'a Rules,
    pub situation: Situation,
    pub context: Context,
    pub policy: LivePolicy,
    /// Stock to sell before a deadline, when known: the inventory-aware
    /// policies need it and fall back to `ts_contextual` without it.
    pub stock: Option<StockPlan>,
}

/// The policies of a live repricing step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LivePolicy {
    /// Thompson sampling on the item's logistic demand curve, greedy on the
    /// draw; blind to stock.
    TsContextual,
    /// The draw fed to the TS-update LP (capacity: stock left over shoppers
    /// left until the deadline). The benchmark's default.
    #[default]
    TsContextualUpdate,
    /// The draw fed to the TS-fixed LP (capacity: the season's starting stock
    /// over its expected shoppers).
    TsContextualFixed,
    /// Hold the grid's single price (the base price), guarded.
    Fixed,
}

impl LivePolicy {
    pub const ALL: [LivePolicy; 4] = [
        Self::TsContextual,
        Self::TsContextualUpdate,
        Self::TsContextualFixed,
        Self::Fixed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::TsContextual => "ts_contextual",
            Self::TsContextualUpdate => "ts_contextual_update",
            Self::TsContextualFixed => "ts_contextual_fixed",
            Self::Fixed => "fixed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }

    pub fn uses_stock(self) -> bool {
        matches!(self, Self::TsContextualUpdate | Self::TsContextualFixed)
    }
}

/// Why a price changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub policy: String,
    /// The policy's price before guardrails.
    pub proposed: f64,
    /// Estimated purchase probability at the new price.
    pub estimated_conversion: f64,
    /// Every rule that moved the price.
    pub clips: Vec<Clip>,
    /// How limited stock shaped the price (inventory-aware policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryNote>,
}

/// Where a change stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Live,
    Pending,
    Rejected,
}

/// One entry of the price history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceChange {
    pub item: String,
    pub from: Option<Money>,
    pub to: Money,
    pub reason: Reason,
    pub status: Status,
    /// Unix seconds.
    pub at: i64,
}

/// The result of one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Repriced {
    /// The live price of every item after the step (pending changes do not
    /// count until approved).
    pub prices: BTreeMap<String, Money>,
    pub changes: Vec<PriceChange>,
    /// Items that could not be priced, with the reason; their price stays.
    pub errors: Vec<(String, String)>,
}

/// Name recorded as the policy of a stock-blind Thompson change.
pub const POLICY: &str = "ts_contextual";

/// Prices every item once with its policy: a Thompson draw from its demand
/// curve over its grid (fed to the TS-update or TS-fixed LP when the item has
/// a stock plan), then its rules. An item whose rules conflict or whose curve
/// is unknown keeps its price and is reported in `errors`.
pub fn reprice(book: &DemandBook, items: &[ItemInput<'_>], rng: &mut dyn RngCore) -> Repriced {
    let mut out = Repriced::default();
    for input in items {
        let current = input.situation.current;
        let (policy, quoted) = match (input.policy, input.stock) {
            (p @ (LivePolicy::TsContextualUpdate | LivePolicy::TsContextualFixed), Some(plan)) => (
                p,
                book.quote_with_stock(
                    input.item,
                    input.grid,
                    &input.context,
                    input.rules,
                    &input.situation,
                    &plan,
                    p == LivePolicy::TsContextualUpdate,
                    rng,
                ),
            ),
            (p, _) => (
                if p == LivePolicy::Fixed {
                    p
                } else {
                    LivePolicy::TsContextual
                },
                book.quote(
                    input.item,
                    input.grid,
                    &input.context,
                    input.rules,
                    &input.situation,
                    rng,
                ),
            ),
        };
        let quote = match quoted {
            Ok(q) => q,
            Err(e) => {
                if let Some(c) = current {
                    out.prices.insert(input.item.to_owned(), c);
                }
                out.errors.push((input.item.to_owned(), e.to_string()));
                continue;
            }
        };
        let to = quote.guarded.price;
        let live = if quote.guarded.needs_approval {
            current
        } else {
            Some(to)
        };
        if let Some(price) = live {
            out.prices.insert(input.item.to_owned(), price);
        }
        if current != Some(to) {
            out.changes.push(PriceChange {
                item: input.item.to_owned(),
                from: current,
                to,
                reason: Reason {
                    policy: policy.name().to_owned(),
                    proposed: quote.proposed,
                    estimated_conversion: quote.conversion,
                    clips: quote.clips,
                    inventory: quote.inventory,
                },
                status: if quote.guarded.needs_approval {
                    Status::Pending
                } else {
                    Status::Live
                },
                at: input.situation.now,
            });
        }
    }
    out
}

/// Pending changes, at most one per item (a newer proposal replaces it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Approvals {
    pending: BTreeMap<String, PriceChange>,
}

impl Approvals {
    /// Queues the pending changes of a step; live ones are ignored.
    pub fn submit(&mut self, changes: &[PriceChange]) {
        for c in changes.iter().filter(|c| c.status == Status::Pending) {
            self.pending.insert(c.item.clone(), c.clone());
        }
    }

    pub fn pending(&self) -> impl Iterator<Item = &PriceChange> {
        self.pending.values()
    }

    /// Makes the item's pending change live if the rules still accept its
    /// price exactly in `situation`; otherwise it stays queued and the
    /// caller gets a `Conflict`.
    pub fn approve(
        &mut self,
        item: &str,
        rules: &Rules,
        situation: &Situation,
    ) -> Result<PriceChange> {
        let change = self
            .pending
            .get(item)
            .ok_or_else(|| Error::invalid("item", "no pending change"))?;
        let auto = Rules {
            mode: Mode::Auto,
            ..rules.clone()
        };
        let guarded = auto.apply(change.to.to_decimal(), situation)?;
        if guarded.price != change.to {
            return Err(Error::Conflict(format!(
                "{} is no longer within the rules (they allow {} now)",
                change.to, guarded.price
            )));
        }
        let mut change = self.pending.remove(item).expect("checked above");
        change.status = Status::Live;
        change.from = situation.current;
        change.at = situation.now;
        Ok(change)
    }

    /// Drops the item's pending change.
    pub fn reject(&mut self, item: &str, now: i64) -> Result<PriceChange> {
        let mut change = self
            .pending
            .remove(item)
            .ok_or_else(|| Error::invalid("item", "no pending change"))?;
        change.status = Status::Rejected;
        change.at = now;
        Ok(change)
    }
}

/// One competitor price observation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetitorPrice {
    pub item: String,
    pub competitor: String,
    pub price: Money,
    /// Unix seconds.
    pub observed_at: i64,
}

/// Parses a competitor feed CSV with header `item_id,competitor,price,observed_at`
/// (`observed_at` in Unix seconds; `default_time` when the column is absent
/// or empty). Any bad row fails the whole import with its line number.
pub fn parse_competitor_csv(text: &str, default_time: i64) -> Result<Vec<CompetitorPrice>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::invalid("csv", e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(item), Some(competitor), Some(price)) =
        (col("item_id"), col("competitor"), col("price"))
    else {
        return Err(Error::invalid(
            "csv",
            "header needs item_id, competitor and price",
        ));
    };
    let at = col("observed_at");
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let bad = |why: &str| Error::invalid("csv", format!("line {line}: {why}"));
        let record = record.map_err(|e| bad(&e.to_string()))?;
        let field = |i: usize| record.get(i).unwrap_or("");
        if field(item).is_empty() || field(competitor).is_empty() {
            return Err(bad("empty item_id or competitor"));
        }
        let value: f64 = field(price)
            .parse()
            .map_err(|_| bad("price is not a number"))?;
        let money = Money::from_decimal(value).map_err(|e| bad(&e.to_string()))?;
        if !money.is_positive() || money.cents() > 1_000_000_000 {
            return Err(bad("price must be positive and plausible"));
        }
        let observed_at = match at.map(field).filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse()
                .map_err(|_| bad("observed_at is not Unix seconds"))?,
            None => default_time,
        };
        out.push(CompetitorPrice {
            item: field(item).to_owned(),
            competitor: field(competitor).to_owned(),
            price: money,
            observed_at,
        });
    }
    Ok(out)
}

/// The lowest price any competitor showed for `item` within `max_age`
/// seconds before `now`, using each competitor's latest observation.
pub fn lowest_competitor(
    prices: &[CompetitorPrice],
    item: &str,
    now: i64,
    max_age: i64,
) -> Option<Money> {
    let mut latest: BTreeMap<&str, &CompetitorPrice> = BTreeMap::new();
    for p in prices
        .iter()
        .filter(|p| p.item == item && p.observed_at <= now && now - p.observed_at <= max_age)
    {
        let e = latest.entry(&p.competitor).or_insert(p);
        if p.observed_at > e.observed_at {
            *e = p;
        }
    }
    latest.values().map(|p| p.price).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::Rule;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn m(c: i64) -> Money {
        Money::from_cents(c)
    }

    fn book() -> DemandBook {
        let mut b = DemandBook::default();
        for item in ["a", "b", "c"] {
            b.register(item, 40.0, None).unwrap();
        }
        b
    }

    #[test]
    fn a_step_prices_every_item_and_queues_approvals() {
        let mut rng = StdRng::seed_from_u64(1);
        let grid = [30.0, 35.0, 40.0, 45.0, 50.0];
        let auto = Rules {
            min_price: Some(m(3_000)),
            max_price: Some(m(5_000)),
            ..Rules::default()
        };
        let approve = Rules {
            mode: Mode::Approve,
            ..auto.clone()
        };
        let broken = Rules {
            min_price: Some(m(6_000)),
            max_price: Some(m(5_000)),
            ..Rules::default()
        };
        let at = |current: i64| Situation {
            now: 100,
            current: Some(m(current)),
            ..Situation::default()
        };
        let items = [
            ItemInput {
                item: "a",
                grid: &grid,
                rules: &auto,
                situation: at(1),
                context: Context::default(),
                policy: LivePolicy::TsContextual,
                stock: None,
            },
            ItemInput {
                item: "b",
                grid: &grid,
                rules: &approve,
                situation: at(1),
                context: Context::default(),
                policy: LivePolicy::TsContextual,
                stock: None,
            },
            ItemInput {
                item: "c",
                grid: &grid,
                rules: &broken,
                situation: at(4_200),
                context: Context::default(),
                policy: LivePolicy::TsContextual,
                stock: None,
            },
        ];
        let out = reprice(&book(), &items, &mut rng);
        let a = out.prices["a"];
        assert!(a >= m(3_000) && a <= m(5_000));
        // The approval item keeps its live price until approved.
        assert_eq!(out.prices["b"], m(1));
        assert_eq!(out.prices["c"], m(4_200));
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].0, "c");
        let b = out.changes.iter().find(|c| c.item == "b").unwrap();
        assert_eq!(b.status, Status::Pending);
        assert_eq!(
            out.changes.iter().find(|c| c.item == "a").unwrap().status,
            Status::Live
        );

        let mut queue = Approvals::default();
        queue.submit(&out.changes);
        assert_eq!(queue.pending().count(), 1);
        // Rules tightened since the proposal: approval is refused, still queued.
        let tighter = Rules {
            max_price: Some(b.to - m(1)),
            ..approve.clone()
        };
        assert!(matches!(
            queue.approve("b", &tighter, &at(1)),
            Err(Error::Conflict(_))
        ));
        assert_eq!(queue.pending().count(), 1);
        let live = queue.approve("b", &approve, &at(1)).unwrap();
        assert_eq!((live.status, live.to), (Status::Live, b.to));
        assert!(queue.approve("b", &approve, &at(1)).is_err());
    }

    #[test]
    fn rejection_empties_the_queue() {
        let mut queue = Approvals::default();
        let change = PriceChange {
            item: "x".into(),
            from: None,
            to: m(999),
            reason: Reason {
                policy: POLICY.into(),
                proposed: 9.0,
                estimated_conversion: 0.1,
                clips: vec![Clip {
                    rule: Rule::Ending,
                    from: m(900),
                    to: m(999),
                }],
                inventory: None,
            },
            status: Status::Pending,
            at: 0,
        };
        queue.submit(std::slice::from_ref(&change));
        assert_eq!(queue.reject("x", 5).unwrap().status, Status::Rejected);
        assert_eq!(queue.pending().count(), 0);
        assert!(queue.reject("x", 6).is_err());
    }

    #[test]
    fn competitor_csv_parses_and_reports_bad_lines() {
        let text = "item_id,competitor,price,observed_at\n\
                    a,shopx,39.99,100\n\
                    a,shopy,41.50,\n\
                    a,shopx,37.00,200\n\
                    b,shopx,12,150\n";
        let prices = parse_competitor_csv(text, 50).unwrap();
        assert_eq!(prices.len(), 4);
        assert_eq!(prices[1].observed_at, 50);
        // Latest per competitor within the window: shopx 37.00 (t=200), shopy 41.50.
        assert_eq!(lowest_competitor(&prices, "a", 300, 1_000), Some(m(3_700)));
        // Too old for a 150 s window: only shopx at t=200 counts.
        assert_eq!(lowest_competitor(&prices, "a", 300, 150), Some(m(3_700)));
        assert_eq!(lowest_competitor(&prices, "a", 300, 50), None);
        assert_eq!(lowest_competitor(&prices, "zzz", 300, 1_000), None);

        for (bad, why) in [
            ("item_id,price\na,1\n", "header"),
            ("item_id,competitor,price\na,x,abc\n", "line 2"),
            ("item_id,competitor,price\na,x,1\nb,x,-3\n", "line 3"),
            ("item_id,competitor,price\na,x,NaN\n", "line 2"),
            ("item_id,competitor,price\n,x,3\n", "line 2"),
            (
                "item_id,competitor,price,observed_at\na,x,3,yesterday\n",
                "line 2",
            ),
        ] {
            let err = parse_competitor_csv(bad, 0).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }
}
