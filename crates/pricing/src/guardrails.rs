//! Guardrails applied to every proposed price: the merchant's rules, as data.
//!
//! Hard rules bound the price from below (minimum price, cost plus minimum
//! margin, MAP) and above (maximum price, "never more than X% above the
//! lowest competitor"); rules that leave no room are a [`Error::Conflict`],
//! never a price outside them. Change limits (per step, per day) move the
//! price toward the proposal only as far as allowed; when the hard rules
//! themselves demand a bigger move (say, the cost went up), the hard rules
//! win and the override is recorded. Price endings (.99) are applied inside
//! the final band. A freeze window holds the current price. Every clip is
//! recorded with the rule that caused it.

use hc_domain::Money;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether a guarded price goes live at once or waits for a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Auto,
    Approve,
}

/// A half-open interval of Unix seconds during which prices do not move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeWindow {
    pub start: i64,
    pub end: i64,
}

/// The merchant's rules for one item (or a category's default).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    pub cost: Option<Money>,
    /// Minimum margin over cost as a fraction (0.2 = cost + 20%).
    pub min_margin: f64,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    /// Minimum advertised price agreed with the brand.
    pub map_price: Option<Money>,
    /// Largest change per repricing step, as a fraction of the current price.
    pub max_change_step: Option<f64>,
    /// Largest change within a day, as a fraction of the day's opening price.
    pub max_change_day: Option<f64>,
    /// Wanted cents ending (99 for x.99).
    pub ending_cents: Option<u8>,
    #[serde(default)]
    pub freeze: Vec<FreezeWindow>,
    /// Never more than this fraction above the lowest competitor.
    pub competitor_max_above: Option<f64>,
    #[serde(default)]
    pub mode: Mode,
}

/// The rule behind a clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    MinPrice,
    CostMargin,
    Map,
    MaxPrice,
    Competitor,
    StepLimit,
    DayLimit,
    /// A hard rule needed a larger move than the change limits allow.
    ChangeLimitOverridden,
    Ending,
    Freeze,
}

/// One adjustment of the proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clip {
    pub rule: Rule,
    pub from: Money,
    pub to: Money,
}

/// What the market around the item looks like at pricing time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Situation {
    /// Unix seconds.
    pub now: i64,
    pub current: Option<Money>,
    /// Price when the current day began.
    pub day_open: Option<Money>,
    pub lowest_competitor: Option<Money>,
}

/// A guarded price and why it differs from the proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guarded {
    pub price: Money,
    pub clips: Vec<Clip>,
    /// `approve` mode and the price differs from the current one.
    pub needs_approval: bool,
}

/// Prices above this are treated as input errors (ten million in currency units).
const ABSURD_CENTS: i64 = 1_000_000_000;

fn fraction(name: &'static str, v: Option<f64>) -> Result<()> {
    match v {
        Some(f) if !(f.is_finite() && (0.0..=100.0).contains(&f)) => {
            Err(Error::invalid(name, "must be a finite fraction in 0..=100"))
        }
        _ => Ok(()),
    }
}

fn money(name: &'static str, v: Option<Money>) -> Result<()> {
    match v {
        Some(m) if m.cents() < 0 || m.cents() > ABSURD_CENTS => {
            Err(Error::invalid(name, "must be between 0 and 10,000,000"))
        }
        _ => Ok(()),
    }
}

impl Rules {
    /// Rejects malformed rules and rules that contradict each other
    /// regardless of the market (floor above ceiling).
    pub fn validate(&self) -> Result<()> {
        money("cost", self.cost)?;
        money("min_price", self.min_price)?;
        money("max_price", self.max_price)?;
        money("map_price", self.map_price)?;
        fraction("min_margin", Some(self.min_margin))?;
        fraction("max_change_step", self.max_change_step)?;
        fraction("max_change_day", self.max_change_day)?;
        fraction("competitor_max_above", self.competitor_max_above)?;
        if self.ending_cents.is_some_and(|e| e > 99) {
            return Err(Error::invalid("ending_cents", "must be 0..=99"));
        }
        if self.freeze.iter().any(|w| w.end <= w.start) {
            return Err(Error::invalid(
                "freeze",
                "a window must end after it starts",
            ));
        }
        let (lo, lo_rule) = self.floor();
        if let Some(max) = self.max_price
            && lo > max.cents()
        {
            return Err(Error::Conflict(format!(
                "{lo_rule:?} floor {} is above max_price {max}",
                Money::from_cents(lo)
            )));
        }
        Ok(())
    }

    /// The highest of the lower bounds (at least one cent) and its rule.
    fn floor(&self) -> (i64, Rule) {
        let mut best = (1, Rule::MinPrice);
        let candidates = [
            (self.min_price.map(Money::cents), Rule::MinPrice),
            (
                self.cost
                    .map(|c| (c.cents() as f64 * (1.0 + self.min_margin)).ceil() as i64),
                Rule::CostMargin,
            ),
            (self.map_price.map(Money::cents), Rule::Map),
        ];
        for (v, rule) in candidates {
            if let Some(v) = v
                && v > best.0
            {
                best = (v, rule);
            }
        }
        best
    }

    /// The lowest of the upper bounds and its rule.
    fn ceiling(&self, lowest_competitor: Option<Money>) -> (i64, Rule) {
        let mut best = (ABSURD_CENTS, Rule::MaxPrice);
        if let Some(m) = self.max_price {
            best = (m.cents(), Rule::MaxPrice);
        }
        if let (Some(pct), Some(c)) = (self.competitor_max_above, lowest_competitor) {
            let cap = (c.cents() as f64 * (1.0 + pct)).floor() as i64;
            if cap < best.0 {
                best = (cap, Rule::Competitor);
            }
        }
        best
    }

    /// The hard band `[lo, hi]` in cents for this situation.
    pub fn hard_band(&self, situation: &Situation) -> Result<(i64, i64)> {
        let (lo, lo_rule) = self.floor();
        let (hi, hi_rule) = self.ceiling(situation.lowest_competitor);
        if lo > hi {
            return Err(Error::Conflict(format!(
                "{lo_rule:?} floor {} is above the {hi_rule:?} ceiling {}",
                Money::from_cents(lo),
                Money::from_cents(hi)
            )));
        }
        Ok((lo, hi))
    }

    /// Guards a proposed price (in currency units).
    pub fn apply(&self, proposed: f64, situation: &Situation) -> Result<Guarded> {
        self.validate()?;
        if !proposed.is_finite() || proposed <= 0.0 || proposed * 100.0 > ABSURD_CENTS as f64 {
            return Err(Error::invalid(
                "price",
                "must be a positive, plausible number",
            ));
        }
        money("current", situation.current)?;
        money("day_open", situation.day_open)?;
        money("lowest_competitor", situation.lowest_competitor)?;
        let (lo, lo_rule) = self.floor();
        let (hi, hi_rule) = self.ceiling(situation.lowest_competitor);
        self.hard_band(situation)?;
        let mut clips = Vec::new();
        let mut price = (proposed * 100.0).round() as i64;
        let clip = |rule: Rule, from: i64, to: i64, clips: &mut Vec<Clip>| {
            if from != to {
                clips.push(Clip {
                    rule,
                    from: Money::from_cents(from),
                    to: Money::from_cents(to),
                });
            }
        };

        let frozen = self
            .freeze
            .iter()
            .any(|w| (w.start..w.end).contains(&situation.now));
        if let (true, Some(current)) = (frozen, situation.current) {
            clip(Rule::Freeze, price, current.cents(), &mut clips);
            price = current.cents();
            let held = price.clamp(lo, hi);
            clip(
                if held > price { lo_rule } else { hi_rule },
                price,
                held,
                &mut clips,
            );
            return Ok(self.finish(held, clips, situation));
        }

        if price < lo {
            clip(lo_rule, price, lo, &mut clips);
            price = lo;
        }
        if price > hi {
            clip(hi_rule, price, hi, &mut clips);
            price = hi;
        }

        // Change limits, intersected with the hard band.
        let (mut band_lo, mut band_hi, mut limit_lo, mut limit_hi) =
            (lo, hi, Rule::MinPrice, Rule::MaxPrice);
        let limits = [
            (self.max_change_step, situation.current, Rule::StepLimit),
            (self.max_change_day, situation.day_open, Rule::DayLimit),
        ];
        let mut limited = false;
        for (pct, reference, rule) in limits {
            if let (Some(pct), Some(r)) = (pct, reference) {
                limited = true;
                let l = (r.cents() as f64 * (1.0 - pct)).ceil() as i64;
                let h = (r.cents() as f64 * (1.0 + pct)).floor() as i64;
                if l > band_lo {
                    (band_lo, limit_lo) = (l, rule);
                }
                if h < band_hi {
                    (band_hi, limit_hi) = (h, rule);
                }
            }
        }
        if limited {
            if band_lo > band_hi {
                // The hard rules need a bigger move than allowed: go to the
                // nearest allowed-by-hard-rules price to where we are.
                let anchor = situation.current.map(Money::cents).unwrap_or(price);
                let to = anchor.clamp(lo, hi);
                // Recorded even when the proposal already sat there: the
                // limit was broken relative to the current price.
                clips.push(Clip {
                    rule: Rule::ChangeLimitOverridden,
                    from: Money::from_cents(price),
                    to: Money::from_cents(to),
                });
                return Ok(self.finish(to, clips, situation));
            }
            if price < band_lo {
                clip(limit_lo, price, band_lo, &mut clips);
                price = band_lo;
            }
            if price > band_hi {
                clip(limit_hi, price, band_hi, &mut clips);
                price = band_hi;
            }
        }

        if let Some(e) = self.ending_cents {
            let e = i64::from(e);
            let down = price - (price - e).rem_euclid(100);
            let up = down + 100;
            let fits = |p: i64| p >= band_lo && p <= band_hi && p > 0;
            let ended = match (fits(down), fits(up)) {
                (true, true) if up - price < price - down => up,
                (true, _) => down,
                (false, true) => up,
                (false, false) => price,
            };
            clip(Rule::Ending, price, ended, &mut clips);
            price = ended;
        }
        Ok(self.finish(price, clips, situation))
    }

    fn finish(&self, cents: i64, clips: Vec<Clip>, situation: &Situation) -> Guarded {
        let price = Money::from_cents(cents);
        Guarded {
            price,
            clips,
            needs_approval: self.mode == Mode::Approve && situation.current != Some(price),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(cents: i64) -> Money {
        Money::from_cents(cents)
    }

    #[test]
    fn cost_margin_floor_and_ending_apply_with_reasons() {
        let rules = Rules {
            cost: Some(m(2000)),
            min_margin: 0.25,
            ending_cents: Some(99),
            ..Rules::default()
        };
        let g = rules.apply(19.0, &Situation::default()).unwrap();
        // Floor 25.00; the nearest .99 inside the band is 25.99.
        assert_eq!(g.price, m(2599));
        assert_eq!(g.clips[0].rule, Rule::CostMargin);
        assert_eq!(g.clips[1].rule, Rule::Ending);
        assert!(!g.needs_approval);
    }

    #[test]
    fn competitor_rule_caps_and_step_limit_slows() {
        let rules = Rules {
            competitor_max_above: Some(0.05),
            max_change_step: Some(0.10),
            mode: Mode::Approve,
            ..Rules::default()
        };
        let s = Situation {
            current: Some(m(10_000)),
            lowest_competitor: Some(m(9_000)),
            ..Situation::default()
        };
        let g = rules.apply(120.0, &s).unwrap();
        assert_eq!(g.price, m(9_450));
        assert_eq!(g.clips[0].rule, Rule::Competitor);
        assert!(g.needs_approval);
        let g = rules.apply(50.0, &s).unwrap();
        assert_eq!(g.price, m(9_000));
        assert_eq!(g.clips.last().unwrap().rule, Rule::StepLimit);
    }

    #[test]
    fn freeze_holds_the_current_price() {
        let rules = Rules {
            freeze: vec![FreezeWindow {
                start: 100,
                end: 200,
            }],
            ..Rules::default()
        };
        let s = Situation {
            now: 150,
            current: Some(m(4_999)),
            ..Situation::default()
        };
        let g = rules.apply(30.0, &s).unwrap();
        assert_eq!(g.price, m(4_999));
        assert_eq!(g.clips[0].rule, Rule::Freeze);
        let after = Situation { now: 200, ..s };
        assert_eq!(rules.apply(30.0, &after).unwrap().price, m(3_000));
    }

    #[test]
    fn contradictions_and_nonsense_are_errors() {
        let rules = Rules {
            min_price: Some(m(5_000)),
            max_price: Some(m(4_000)),
            ..Rules::default()
        };
        assert!(matches!(rules.validate(), Err(Error::Conflict(_))));
        let rules = Rules {
            cost: Some(m(5_000)),
            competitor_max_above: Some(0.0),
            ..Rules::default()
        };
        let s = Situation {
            lowest_competitor: Some(m(4_000)),
            ..Situation::default()
        };
        assert!(matches!(rules.apply(45.0, &s), Err(Error::Conflict(_))));
        let ok = Rules::default();
        for bad in [f64::NAN, f64::INFINITY, -3.0, 0.0, 1e12] {
            assert!(ok.apply(bad, &Situation::default()).is_err(), "{bad}");
        }
        let nan_margin = Rules {
            min_margin: f64::NAN,
            ..Rules::default()
        };
        assert!(nan_margin.validate().is_err());
    }

    #[test]
    fn a_cost_rise_overrides_the_step_limit_and_says_so() {
        let rules = Rules {
            cost: Some(m(9_000)),
            min_margin: 0.1,
            max_change_step: Some(0.05),
            ..Rules::default()
        };
        let s = Situation {
            current: Some(m(8_000)),
            ..Situation::default()
        };
        let g = rules.apply(80.0, &s).unwrap();
        assert_eq!(g.price, m(9_900));
        assert!(
            g.clips
                .iter()
                .any(|c| c.rule == Rule::ChangeLimitOverridden)
        );
    }

    fn opt_cents() -> impl Strategy<Value = Option<Money>> {
        prop::option::of((1i64..200_000).prop_map(Money::from_cents))
    }

    fn opt_pct() -> impl Strategy<Value = Option<f64>> {
        prop::option::of(0.0f64..0.6)
    }

    prop_compose! {
        fn arb_rules()(
            cost in opt_cents(), min_margin in 0.0f64..0.8, min_price in opt_cents(),
            max_price in opt_cents(), map_price in opt_cents(), step in opt_pct(),
            day in opt_pct(), ending in prop::option::of(0u8..100),
            freeze in prop::option::of((0i64..1000, 1i64..500)),
            comp in opt_pct(), approve in any::<bool>(),
        ) -> Rules {
            Rules {
                cost, min_margin, min_price, max_price, map_price,
                max_change_step: step, max_change_day: day, ending_cents: ending,
                freeze: freeze.map(|(s, len)| vec![FreezeWindow { start: s, end: s + len }]).unwrap_or_default(),
                competitor_max_above: comp,
                mode: if approve { Mode::Approve } else { Mode::Auto },
            }
        }
    }

    prop_compose! {
        fn arb_situation()(
            now in 0i64..2000, current in opt_cents(), day_open in opt_cents(),
            lowest_competitor in opt_cents(),
        ) -> Situation {
            Situation { now, current, day_open, lowest_competitor }
        }
    }

    /// Checks a guarded price against every rule, independently of `apply`.
    fn satisfies(rules: &Rules, s: &Situation, g: &Guarded) -> std::result::Result<(), String> {
        let p = g.price.cents() as f64;
        let eps = 1e-6;
        if p < 1.0 {
            return Err("not positive".into());
        }
        if let Some(v) = rules.min_price
            && p < v.cents() as f64
        {
            return Err("below min_price".into());
        }
        if let Some(v) = rules.map_price
            && p < v.cents() as f64
        {
            return Err("below MAP".into());
        }
        if let Some(c) = rules.cost
            && p + eps < c.cents() as f64 * (1.0 + rules.min_margin)
        {
            return Err("below cost + margin".into());
        }
        if let Some(v) = rules.max_price
            && p > v.cents() as f64
        {
            return Err("above max_price".into());
        }
        if let (Some(x), Some(c)) = (rules.competitor_max_above, s.lowest_competitor)
            && p > c.cents() as f64 * (1.0 + x) + eps
        {
            return Err("above competitor cap".into());
        }
        let overridden = g
            .clips
            .iter()
            .any(|c| c.rule == Rule::ChangeLimitOverridden);
        let frozen = rules
            .freeze
            .iter()
            .any(|w| (w.start..w.end).contains(&s.now));
        if frozen
            && let Some(cur) = s.current
            && g.price != cur
            && !g.clips.iter().any(|c| c.rule != Rule::Freeze)
        {
            return Err("moved during a freeze".into());
        }
        if !overridden && !frozen {
            for (pct, r) in [
                (rules.max_change_step, s.current),
                (rules.max_change_day, s.day_open),
            ] {
                if let (Some(pct), Some(r)) = (pct, r)
                    && (p - r.cents() as f64).abs() > r.cents() as f64 * pct + eps
                {
                    return Err("change limit broken".into());
                }
            }
        }
        if rules.mode == Mode::Approve && s.current != Some(g.price) && !g.needs_approval {
            return Err("approval skipped".into());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn guarded_prices_satisfy_every_rule(
            rules in arb_rules(), s in arb_situation(), proposed in -10.0f64..5000.0,
        ) {
            match rules.apply(proposed, &s) {
                Ok(g) => {
                    prop_assert!(proposed > 0.0);
                    if let Err(e) = satisfies(&rules, &s, &g) {
                        return Err(TestCaseError::fail(format!("{e}: {g:?}")));
                    }
                }
                Err(Error::Conflict(_)) => {
                    let (lo, _) = rules.floor();
                    let (hi, _) = rules.ceiling(s.lowest_competitor);
                    prop_assert!(lo > hi, "conflict reported for a feasible band");
                }
                Err(Error::Invalid { .. }) => prop_assert!(proposed * 100.0 < 0.5 || proposed <= 0.0),
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }

        #[test]
        fn a_change_limit_is_only_overridden_when_the_hard_band_requires_it(
            rules in arb_rules(), s in arb_situation(), proposed in 0.01f64..5000.0,
        ) {
            if let Ok(g) = rules.apply(proposed, &s)
                && g.clips.iter().any(|c| c.rule == Rule::ChangeLimitOverridden)
            {
                let (lo, hi) = rules.hard_band(&s).unwrap();
                let mut band = (lo, hi);
                for (pct, r) in [(rules.max_change_step, s.current), (rules.max_change_day, s.day_open)] {
                    if let (Some(pct), Some(r)) = (pct, r) {
                        band.0 = band.0.max((r.cents() as f64 * (1.0 - pct)).ceil() as i64);
                        band.1 = band.1.min((r.cents() as f64 * (1.0 + pct)).floor() as i64);
                    }
                }
                prop_assert!(band.0 > band.1);
            }
        }
    }
}
