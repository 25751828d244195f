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

use crate::demand::{BayesLogit, Context, features};
use crate::error::{Error, Result};
use crate::guardrails::{Clip, Rules, Situation};

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
}

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
            },
        );
        Ok(())
    }

    pub fn item(&self, item: &str) -> Option<&ItemDemand> {
        self.items.get(item)
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
}
