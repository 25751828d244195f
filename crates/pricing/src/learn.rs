//! Learning from the live event stream: the entry point the events pipeline
//! feeds (`product_view` with the price shown, `purchase` with quantity), and
//! quotes that combine a posterior draw with the merchant's guardrails.
//!
//! Each item has a [`BayesLogit`] demand curve over price and context. Every
//! observation also updates its category's curve, and a new item starts from
//! its category's curve (covariance inflated), so similar items lend each
//! other strength until the item has its own data. Time comes from each
//! observation's own timestamp, never from the arrival time.

use std::collections::HashMap;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use hc_domain::Money;
use rand::Rng;

use crate::demand::{BayesLogit, Context, features};
use crate::error::{Error, Result};
use crate::guardrails::{Clip, Guarded, Rules, Situation};
use crate::lp;

/// One shopper's reaction to a shown price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub item: String,
    pub price_shown: f64,
    pub purchased: bool,
    /// Units bought (0 when not purchased).
    pub quantity: u32,
    pub context: Context,
    /// Unix seconds of the event itself.
    pub at: i64,
}

/// What the book knows about one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemDemand {
    pub model: BayesLogit,
    /// Prices are measured relative to this (e.g. the list price).
    pub reference: f64,
    pub category: Option<String>,
    pub views: u64,
    pub purchases: u64,
    pub units: u64,
    /// Latest event time seen.
    pub last_at: i64,
    /// Earliest event time seen (with `last_at` and `views`: the shopper rate).
    #[serde(default = "never")]
    pub first_at: i64,
}

fn never() -> i64 {
    i64::MAX
}

/// Views needed before an item's shopper rate is trusted.
pub const MIN_VIEWS_FOR_RATE: u64 = 20;
/// The shortest span a rate is measured over, seconds (a burst of views in a
/// few seconds does not make a rate of thousands per hour).
pub const MIN_RATE_SPAN_SECS: i64 = 3_600;

/// Prices further than this factor from the reference are quarantined.
const PLAUSIBLE_FACTOR: f64 = 20.0;
/// How much wider than its category a new item's prior is.
const COLD_START_INFLATION: f64 = 4.0;

/// Per-item demand curves with category pooling.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DemandBook {
    items: HashMap<String, ItemDemand>,
    categories: HashMap<String, BayesLogit>,
}

/// A proposed price for one item with its reasons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The policy's choice before guardrails.
    pub proposed: f64,
    pub guarded: crate::guardrails::Guarded,
    /// Estimated purchase probability at the guarded price.
    pub conversion: f64,
    pub clips: Vec<Clip>,
    /// How limited stock shaped the price (inventory-aware policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryNote>,
}

/// Stock to sell before a deadline, counted in shoppers (views of the item):
/// the live form of the finite-horizon problem of Ferreira et al. (2018).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StockPlan {
    /// Units left to sell.
    pub remaining: f64,
    /// Units at the start of the selling season (TS-fixed's rate).
    pub initial: f64,
    /// Expected shoppers from now until the deadline.
    pub shoppers_left: f64,
    /// Expected shoppers over the whole season (TS-fixed's rate).
    pub shoppers_total: f64,
}

impl StockPlan {
    /// Rejects non-finite or negative plans.
    pub fn validate(&self) -> Result<()> {
        let all = [
            self.remaining,
            self.initial,
            self.shoppers_left,
            self.shoppers_total,
        ];
        if all.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::invalid("stock plan", "must be finite and >= 0"));
        }
        Ok(())
    }
}

/// Why an inventory-aware policy chose its price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InventoryNote {
    /// Units left to sell.
    pub remaining: f64,
    /// Expected shoppers until the deadline.
    pub shoppers_left: f64,
    /// Units per shopper the LP could spend (TS-update: remaining over
    /// shoppers left; TS-fixed: the season's starting rate).
    pub capacity_per_shopper: f64,
    /// Expected units per shopper at the chosen price under the draw.
    pub draw_demand: f64,
    /// The LP left weight on no price at all: the highest allowed price is
    /// shown to hold stock back.
    pub shut_off: bool,
}

impl DemandBook {
    /// Adds an item (idempotent). A new item of a known category starts from
    /// the category's curve.
    pub fn register(&mut self, item: &str, reference: f64, category: Option<&str>) -> Result<()> {
        if !(reference.is_finite() && reference > 0.0) {
            return Err(Error::invalid("reference", "must be a positive price"));
        }
        if self.items.contains_key(item) {
            return Ok(());
        }
        let model = category
            .and_then(|c| self.categories.get(c))
            .map(|c| BayesLogit::from_category(c, COLD_START_INFLATION))
            .unwrap_or_else(BayesLogit::default_prior);
        if let Some(c) = category {
            self.categories
                .entry(c.to_owned())
                .or_insert_with(BayesLogit::default_prior);
        }
        self.items.insert(
            item.to_owned(),
            ItemDemand {
                model,
                reference,
                category: category.map(str::to_owned),
                views: 0,
                purchases: 0,
                units: 0,
                last_at: i64::MIN,
                first_at: i64::MAX,
            },
        );
        Ok(())
    }

    pub fn item(&self, item: &str) -> Option<&ItemDemand> {
        self.items.get(item)
    }

    /// Puts back an item's stored state (the book is stored per item).
    pub fn insert_item(&mut self, item: &str, demand: ItemDemand) {
        self.items.insert(item.to_owned(), demand);
    }

    /// Puts back a category's stored curve.
    pub fn insert_category(&mut self, category: &str, model: BayesLogit) {
        self.categories.insert(category.to_owned(), model);
    }

    pub fn items(&self) -> impl Iterator<Item = (&str, &ItemDemand)> {
        self.items.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn categories(&self) -> impl Iterator<Item = (&str, &BayesLogit)> {
        self.categories.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Learns from one observation. Unknown items, non-finite or implausible
    /// prices and bad context are errors: the caller quarantines the event.
    pub fn observe(&mut self, obs: &Observation) -> Result<()> {
        obs.context.validate()?;
        let entry = self
            .items
            .get_mut(&obs.item)
            .ok_or_else(|| Error::invalid("item", "not registered"))?;
        let p = obs.price_shown;
        if !(p.is_finite()
            && p > 0.0
            && p <= entry.reference * PLAUSIBLE_FACTOR
            && p >= entry.reference / PLAUSIBLE_FACTOR)
        {
            return Err(Error::invalid("price_shown", "outside the plausible range"));
        }
        if obs.purchased && obs.quantity == 0 {
            return Err(Error::invalid("quantity", "a purchase needs a quantity"));
        }
        let x = features(p, entry.reference, &obs.context);
        let y = if obs.purchased { 1.0 } else { 0.0 };
        entry.model.update(&x, y, 1.0)?;
        entry.views += 1;
        if obs.purchased {
            entry.purchases += 1;
            entry.units += u64::from(obs.quantity);
        }
        entry.last_at = entry.last_at.max(obs.at);
        entry.first_at = entry.first_at.min(obs.at);
        if let Some(c) = entry
            .category
            .as_ref()
            .and_then(|c| self.categories.get_mut(c))
        {
            c.update(&x, y, 1.0)?;
        }
        Ok(())
    }

    /// Posterior-mean purchase probability of `item` at `price` in `ctx`.
    pub fn conversion(&self, item: &str, price: f64, ctx: &Context) -> Option<f64> {
        let e = self.items.get(item)?;
        Some(e.model.predict(&features(price, e.reference, ctx)))
    }

    /// Expected units per purchase (1 until purchases are seen).
    pub fn units_per_purchase(&self, item: &str) -> Option<f64> {
        let e = self.items.get(item)?;
        Some(if e.purchases == 0 {
            1.0
        } else {
            e.units as f64 / e.purchases as f64
        })
    }

    /// Shoppers (views) per second of `item`, measured over the span of its
    /// observed events' own times (at least [`MIN_RATE_SPAN_SECS`]); `None`
    /// before [`MIN_VIEWS_FOR_RATE`] views.
    pub fn shopper_rate(&self, item: &str) -> Option<f64> {
        let e = self.items.get(item)?;
        if e.views < MIN_VIEWS_FOR_RATE || e.last_at < e.first_at {
            return None;
        }
        let span = (e.last_at - e.first_at).max(MIN_RATE_SPAN_SECS);
        Some(e.views as f64 / span as f64)
    }

    /// The inventory-aware quote of TS-update (`update`) or TS-fixed: draw a
    /// demand curve, solve the per-period LP of Ferreira et al. over the
    /// grid's prices *as the rules would show them* with the capacity rate
    /// of `plan`, and offer a price with the LP's probabilities. The LP's
    /// slack (the paper's shut-off price) is the highest allowed price.
    #[allow(clippy::too_many_arguments)]
    pub fn quote_with_stock(
        &self,
        item: &str,
        grid: &[f64],
        ctx: &Context,
        rules: &Rules,
        situation: &Situation,
        plan: &StockPlan,
        update: bool,
        rng: &mut dyn RngCore,
    ) -> Result<Quote> {
        let e = self
            .items
            .get(item)
            .ok_or_else(|| Error::invalid("item", "not registered"))?;
        if grid.is_empty() || grid.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
            return Err(Error::invalid("grid", "needs positive prices"));
        }
        plan.validate()?;
        // Candidates as shown: each grid price through the rules, deduplicated.
        let mut arms: Vec<(f64, Guarded)> = Vec::with_capacity(grid.len());
        for &p in grid {
            let g = rules.apply(p, situation)?;
            if !arms.iter().any(|(_, a)| a.price == g.price) {
                arms.push((p, g));
            }
        }
        let per_purchase = self.units_per_purchase(item).unwrap_or(1.0);
        let params = e.model.sample_params(rng);
        let demand: Vec<f64> = arms
            .iter()
            .map(|(_, g)| {
                let x = features(g.price.to_decimal(), e.reference, ctx);
                BayesLogit::prob_with(&params, &x) * per_purchase
            })
            .collect();
        let revenue: Vec<f64> = arms
            .iter()
            .zip(&demand)
            .map(|((_, g), d)| g.price.to_decimal() * d)
            .collect();
        let usage: Vec<Vec<f64>> = demand.iter().map(|&d| vec![d]).collect();
        let capacity = if plan.remaining <= 0.0 {
            0.0
        } else if update {
            plan.remaining / plan.shoppers_left.max(1.0)
        } else {
            plan.initial / plan.shoppers_total.max(1.0)
        };
        let solution = lp::solve(&revenue, &usage, &[capacity])?;
        let mut u: f64 = rng.r#gen();
        let mut pick = None;
        for (k, x) in solution.x.iter().enumerate() {
            if u < *x {
                pick = Some(k);
                break;
            }
            u -= x;
        }
        let shut_off = pick.is_none();
        let k = pick.unwrap_or_else(|| {
            (0..arms.len())
                .max_by_key(|&k| arms[k].1.price)
                .unwrap_or(0)
        });
        let (proposed, guarded) = arms.swap_remove(k);
        let draw_demand = demand[k];
        let price: Money = guarded.price;
        let conversion = e
            .model
            .predict(&features(price.to_decimal(), e.reference, ctx));
        Ok(Quote {
            proposed,
            clips: guarded.clips.clone(),
            guarded,
            conversion,
            inventory: Some(InventoryNote {
                remaining: plan.remaining,
                shoppers_left: plan.shoppers_left,
                capacity_per_shopper: capacity,
                draw_demand,
                shut_off,
            }),
        })
    }

    /// A Thompson-sampling quote over `grid`: draw a demand curve, take the
    /// revenue-best grid price, then apply the rules.
    pub fn quote(
        &self,
        item: &str,
        grid: &[f64],
        ctx: &Context,
        rules: &Rules,
        situation: &Situation,
        rng: &mut dyn RngCore,
    ) -> Result<Quote> {
        let e = self
            .items
            .get(item)
            .ok_or_else(|| Error::invalid("item", "not registered"))?;
        if grid.is_empty() || grid.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
            return Err(Error::invalid("grid", "needs positive prices"));
        }
        let params = e.model.sample_params(rng);
        let mut proposed = grid[0];
        let mut best = f64::MIN;
        for &p in grid {
            let r = p * BayesLogit::prob_with(&params, &features(p, e.reference, ctx));
            if r > best {
                (best, proposed) = (r, p);
            }
        }
        let guarded = rules.apply(proposed, situation)?;
        let conversion = e
            .model
            .predict(&features(guarded.price.to_decimal(), e.reference, ctx));
        Ok(Quote {
            proposed,
            clips: guarded.clips.clone(),
            guarded,
            conversion,
            inventory: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn obs(item: &str, price: f64, purchased: bool) -> Observation {
        Observation {
            item: item.to_owned(),
            price_shown: price,
            purchased,
            quantity: u32::from(purchased),
            context: Context::default(),
            at: 0,
        }
    }

    #[test]
    fn bad_events_are_rejected_and_leave_the_model_alone() {
        let mut book = DemandBook::default();
        book.register("a", 50.0, None).unwrap();
        let before = book.item("a").unwrap().clone();
        for bad in [f64::NAN, -5.0, 0.0, 5_000.0] {
            assert!(book.observe(&obs("a", bad, true)).is_err());
        }
        assert!(book.observe(&obs("missing", 50.0, true)).is_err());
        let mut no_qty = obs("a", 50.0, true);
        no_qty.quantity = 0;
        assert!(book.observe(&no_qty).is_err());
        assert_eq!(book.item("a").unwrap(), &before);
        assert!(book.register("b", f64::NAN, None).is_err());
    }

    #[test]
    fn a_new_item_starts_from_its_category() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut book = DemandBook::default();
        book.register("old", 40.0, Some("mugs")).unwrap();
        // The category converts ~60% at the reference price, less when dearer.
        for _ in 0..3000 {
            let price = 30.0 + 20.0 * rand::Rng::r#gen::<f64>(&mut rng);
            let truth = 1.0 / (1.0 + (-(0.4 - 4.0 * (price / 40.0 - 1.0))).exp());
            let bought = rand::Rng::r#gen::<f64>(&mut rng) < truth;
            book.observe(&obs("old", price, bought)).unwrap();
        }
        book.register("new", 40.0, Some("mugs")).unwrap();
        book.register("stranger", 40.0, None).unwrap();
        let ctx = Context::default();
        let new = book.conversion("new", 40.0, &ctx).unwrap();
        let stranger = book.conversion("stranger", 40.0, &ctx).unwrap();
        assert!((new - 0.6).abs() < 0.1, "category-informed {new}");
        assert!(stranger < 0.2, "uninformed default prior {stranger}");
    }

    #[test]
    fn quotes_respect_the_rules_and_explain_clips() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut book = DemandBook::default();
        book.register("a", 40.0, None).unwrap();
        let rules = Rules {
            min_price: Some(hc_domain::Money::from_cents(3_500)),
            ..Rules::default()
        };
        for _ in 0..50 {
            let q = book
                .quote(
                    "a",
                    &[20.0, 30.0, 40.0, 50.0],
                    &Context::default(),
                    &rules,
                    &Situation::default(),
                    &mut rng,
                )
                .unwrap();
            assert!(q.guarded.price.cents() >= 3_500);
            if q.proposed < 35.0 {
                assert_eq!(q.clips[0].rule, crate::guardrails::Rule::MinPrice);
            }
        }
    }

    #[test]
    fn scarce_stock_raises_the_price_the_lp_policies_choose() {
        let mut rng = StdRng::seed_from_u64(21);
        let mut book = DemandBook::default();
        book.register("a", 40.0, None).unwrap();
        // Demand falls steeply with price: 30 sells far more revenue per
        // shopper than 50 does (about 18 vs 4).
        for n in 0..4_000 {
            let price = 30.0 + 20.0 * rand::Rng::r#gen::<f64>(&mut rng);
            let truth = 1.0 / (1.0 + (-(-0.5 - 6.0 * (price / 40.0 - 1.0))).exp());
            let bought = rand::Rng::r#gen::<f64>(&mut rng) < truth;
            let mut o = obs("a", price, bought);
            o.at = n;
            book.observe(&o).unwrap();
        }
        assert!(book.shopper_rate("a").is_some());
        let grid: Vec<f64> = (0..11).map(|k| 30.0 + 2.0 * k as f64).collect();
        let rules = Rules::default();
        let situation = Situation::default();
        let ctx = Context::default();
        let plan = |remaining: f64| StockPlan {
            remaining,
            initial: remaining,
            shoppers_left: 1_000.0,
            shoppers_total: 1_000.0,
        };
        let mean_price = |remaining: f64, update: bool, seed: u64| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut sum = 0.0;
            let mut shut = 0;
            for _ in 0..200 {
                let q = book
                    .quote_with_stock(
                        "a",
                        &grid,
                        &ctx,
                        &rules,
                        &situation,
                        &plan(remaining),
                        update,
                        &mut rng,
                    )
                    .unwrap();
                let note = q.inventory.unwrap();
                assert!(note.capacity_per_shopper <= remaining / 1_000.0 + 1e-12);
                shut += usize::from(note.shut_off);
                sum += q.guarded.price.to_decimal();
            }
            (sum / 200.0, shut)
        };
        for update in [true, false] {
            // Deterministic in the seed.
            assert_eq!(mean_price(30.0, update, 7), mean_price(30.0, update, 7));
            let (scarce, scarce_shut) = mean_price(30.0, update, 7);
            let (ample, ample_shut) = mean_price(1_000_000.0, update, 7);
            assert!(ample < 34.0, "ample stock sells cheap: {ample}");
            assert!(scarce > 42.0, "scarce stock holds out for more: {scarce}");
            assert_eq!(ample_shut, 0);
            assert!(scarce_shut > 0);
        }
        // Sold out: always the highest allowed price, never a rule broken.
        let capped = Rules {
            max_price: Some(hc_domain::Money::from_cents(4_500)),
            ..Rules::default()
        };
        let q = book
            .quote_with_stock(
                "a",
                &grid,
                &ctx,
                &capped,
                &situation,
                &plan(0.0),
                true,
                &mut rng,
            )
            .unwrap();
        assert_eq!(q.guarded.price.cents(), 4_500);
        assert!(q.inventory.unwrap().shut_off);
        let bad = StockPlan {
            remaining: f64::NAN,
            ..plan(1.0)
        };
        assert!(
            book.quote_with_stock("a", &grid, &ctx, &rules, &situation, &bad, true, &mut rng)
                .is_err()
        );
    }
}
