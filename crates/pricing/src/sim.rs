//! A simulated market with a known demand model, used to compare policies
//! against a clairvoyant yardstick.
//!
//! One shopper arrives per period and buys each product with a probability
//! set by the scenario's demand curve, season and competitor. Sales need
//! stock: a product whose resources ran out cannot sell. The yardstick
//! (`bound`) is the LP upper bound `T · LP(true demand, I / T)` for the
//! stock-limited scenarios (stationary demand), and otherwise the expected
//! revenue of the best arm in each period's context, summed along the run.
//! Runs are deterministic in their seed; demand draws use their own random
//! stream so every policy faces the same shoppers (common random numbers).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use hc_domain::Money;

use crate::demand::Context;
use crate::guardrails::{Rules, Situation};
use crate::lp;
use crate::policy::{
    Action, ActorCritic, EpsilonGreedy, FixedPrice, Policy, Posterior, Problem, State, Thompson,
    ThompsonLp, Ucb,
};

/// Purchase probability as a function of price.
#[derive(Clone, Debug, PartialEq)]
pub enum Curve {
    /// `a - b·p`, clipped to 0..=1.
    Linear { a: f64, b: f64 },
    /// `1 / (1 + exp(-(a - b·p)))`.
    Logit { a: f64, b: f64 },
    /// `a · exp(-b·p)`, clipped to 0..=1.
    Exponential { a: f64, b: f64 },
    /// Explicit `d[k][i]` per arm and product.
    Table(Vec<Vec<f64>>),
}

/// A competitor that reviews its price now and then: it undercuts us when we
/// are cheaper, and drifts back up otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct Competitor {
    pub start: f64,
    pub floor: f64,
    pub ceiling: f64,
    /// Chance per period that it reviews its price.
    pub review: f64,
    pub undercut: f64,
    pub step_up: f64,
    /// How strongly our price gap to it moves demand (per reference price).
    pub sensitivity: f64,
}

/// A scenario: the problem the policy sees plus the truth it does not.
#[derive(Clone, Debug)]
pub struct Market {
    pub name: String,
    pub problem: Problem,
    pub curve: Curve,
    /// Amplitude of a multiplicative seasonal swing, and its period.
    pub season: Option<(f64, f64)>,
    pub competitor: Option<Competitor>,
    /// Reference price for the competitor gap.
    pub reference: f64,
}

impl Market {
    /// True mean demand `d[k][i]` in `ctx`.
    pub fn truth(&self, ctx: &Context) -> Vec<Vec<f64>> {
        let p = &self.problem;
        (0..p.arms())
            .map(|k| {
                (0..p.products())
                    .map(|i| {
                        let price = p.prices[k][i];
                        let mut d = match &self.curve {
                            Curve::Linear { a, b } => a - b * price,
                            Curve::Logit { a, b } => 1.0 / (1.0 + (-(a - b * price)).exp()),
                            Curve::Exponential { a, b } => a * (-b * price).exp(),
                            Curve::Table(t) => t[k][i],
                        };
                        if let Some((amplitude, _)) = self.season {
                            d *= 1.0 + amplitude * ctx.season;
                        }
                        if let (Some(c), Some(comp)) = (&self.competitor, ctx.competitor_price) {
                            let gap = (price - comp) / self.reference;
                            d *= 2.0 / (1.0 + (c.sensitivity * gap).exp());
                        }
                        d.clamp(0.0, 1.0)
                    })
                    .collect()
            })
            .collect()
    }

    fn context(&self, t: usize, remaining: &[f64], competitor: Option<f64>) -> Context {
        let season = self
            .season
            .map(|(_, period)| (std::f64::consts::TAU * t as f64 / period).sin())
            .unwrap_or(0.0);
        let start = self.problem.inventory[0];
        let inventory_level = if start.is_finite() && start > 0.0 {
            (remaining[0] / start).clamp(0.0, 1.0)
        } else {
            1.0
        };
        Context {
            day_of_week: (t % 7) as u8,
            inventory_level,
            competitor_price: competitor,
            season,
            campaign: false,
        }
    }

    /// `T · LP(true demand, I / T)` for stationary stock-limited scenarios.
    pub fn lp_bound(&self) -> Option<f64> {
        let p = &self.problem;
        if !p.limited() || self.season.is_some() || self.competitor.is_some() {
            return None;
        }
        let d = self.truth(&self.context(0, &p.inventory, None));
        let (revenue, usage) = p.lp_coefficients(&d);
        let capacity: Vec<f64> = p
            .inventory
            .iter()
            .map(|c| {
                if c.is_finite() {
                    c / p.horizon as f64
                } else {
                    1e12
                }
            })
            .collect();
        lp::solve(&revenue, &usage, &capacity)
            .ok()
            .map(|s| s.objective * p.horizon as f64)
    }
}

/// The outcome of one simulated season.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunStats {
    pub revenue: f64,
    pub bound: f64,
    pub price_changes: usize,
    pub units: f64,
    /// Periods where the guardrails replaced the policy's choice.
    pub guarded: usize,
    /// Every period's offer and what the guardrails saw, when tracing.
    #[serde(skip)]
    pub trace: Vec<(Action, Vec<Situation>)>,
}

/// Guardrails and tracing for a run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// One rule set per product; a period is an hour, a day 24 periods.
    pub guard: Option<Vec<Rules>>,
    pub trace: bool,
}

/// Periods per simulated day (for per-day change limits).
pub const PERIODS_PER_DAY: usize = 24;

fn cents(price: f64) -> Money {
    Money::from_cents((price * 100.0).round() as i64)
}

/// Whether every product's price in `arm` passes its rules unchanged.
fn allowed(p: &Problem, rules: &[Rules], arm: usize, situations: &[Situation]) -> bool {
    (0..p.products()).all(|i| {
        rules[i]
            .apply(p.prices[arm][i], &situations[i])
            .is_ok_and(|g| g.price == cents(p.prices[arm][i]))
    })
}

/// The policy's arm if the rules accept it, else the accepted arm nearest in
/// price, else no offer at all (no rule-breaking price is ever shown).
fn guard_action(p: &Problem, mask: &[bool], action: Action) -> Action {
    let Action::Offer(k) = action else {
        return action;
    };
    if mask[k] {
        return action;
    }
    let distance = |a: usize| -> f64 {
        (0..p.products())
            .map(|i| (p.prices[a][i] - p.prices[k][i]).abs())
            .sum()
    };
    (0..p.arms())
        .filter(|&a| mask[a])
        .min_by(|&a, &b| distance(a).total_cmp(&distance(b)))
        .map(Action::Offer)
        .unwrap_or(Action::ShutOff)
}

/// Runs `policy` through one season of `market`, without guardrails.
pub fn simulate(market: &Market, policy: &mut dyn Policy, seed: u64) -> RunStats {
    simulate_with(market, policy, seed, &Options::default())
}

/// Runs `policy` through one season of `market`.
pub fn simulate_with(
    market: &Market,
    policy: &mut dyn Policy,
    seed: u64,
    options: &Options,
) -> RunStats {
    let p = &market.problem;
    let mut current: Vec<Option<Money>> = vec![None; p.products()];
    let mut day_open: Vec<Option<Money>> = vec![None; p.products()];
    let mut shoppers = StdRng::seed_from_u64(seed);
    let mut choices = StdRng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15);
    let mut remaining = p.inventory.clone();
    let mut competitor = market.competitor.as_ref().map(|c| c.start);
    let mut stats = RunStats::default();
    let mut previous: Option<Action> = None;
    let lp_bound = market.lp_bound();
    for t in 0..p.horizon {
        let ctx = market.context(t, &remaining, competitor);
        let truth = market.truth(&ctx);
        if lp_bound.is_none() {
            let (revenue, _) = p.lp_coefficients(&truth);
            stats.bound += revenue.iter().cloned().fold(0.0, f64::max);
        }
        let draws: Vec<f64> = (0..p.products()).map(|_| shoppers.r#gen()).collect();
        let before = remaining.clone();
        if t % PERIODS_PER_DAY == 0 {
            day_open.clone_from(&current);
        }
        let situations: Vec<Situation> = (0..p.products())
            .map(|i| Situation {
                now: (t * 3600) as i64,
                current: current[i],
                day_open: day_open[i],
                lowest_competitor: competitor.map(cents),
            })
            .collect();
        let allowed: Option<Vec<bool>> = options.guard.as_ref().map(|rules| {
            (0..p.arms())
                .map(|k| allowed(p, rules, k, &situations))
                .collect()
        });
        let state = State {
            t,
            remaining: &before,
            context: ctx,
            allowed: allowed.as_deref(),
        };
        let proposed = policy.choose(p, &state, &mut choices);
        let mut action = proposed;
        if let Some(mask) = &allowed {
            action = guard_action(p, mask, proposed);
            if action != proposed {
                stats.guarded += 1;
            }
        }
        if options.trace {
            stats.trace.push((action, situations));
        }
        if previous.is_some_and(|a| a != action) {
            stats.price_changes += 1;
        }
        previous = Some(action);
        let Action::Offer(k) = action else {
            continue;
        };
        for (i, c) in current.iter_mut().enumerate() {
            *c = Some(cents(p.prices[k][i]));
        }
        let mut sales = vec![0.0; p.products()];
        for i in 0..p.products() {
            let in_stock = p.usage[i]
                .iter()
                .zip(&remaining)
                .all(|(need, left)| *need <= *left + 1e-9);
            if in_stock && draws[i] < truth[k][i] {
                sales[i] = 1.0;
                for (j, need) in p.usage[i].iter().enumerate() {
                    remaining[j] -= need;
                }
                stats.revenue += p.prices[k][i];
                stats.units += 1.0;
            }
        }
        policy.observe(p, &state, k, &sales);
        if let (Some(c), Some(price)) = (&market.competitor, competitor.as_mut())
            && shoppers.r#gen::<f64>() < c.review
        {
            let ours = p.prices[k][0];
            *price = if ours < *price {
                (ours - c.undercut).max(c.floor)
            } else {
                (*price + c.step_up).min(c.ceiling)
            };
        }
    }
    if let Some(b) = lp_bound {
        stats.bound = b;
    }
    stats
}

/// Scenario names accepted by [`scenario`].
pub const SCENARIOS: &[&str] = &[
    "linear",
    "logit",
    "exponential",
    "seasonal",
    "competitor",
    "ferreira-single-0.25",
    "ferreira-single-0.5",
    "ferreira-network",
];

const GRID: [f64; 10] = [15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0];

/// Builds a named scenario over `horizon` periods.
pub fn scenario(name: &str, horizon: usize) -> Option<Market> {
    let single = |curve: Curve| Market {
        name: name.to_owned(),
        problem: Problem::single(&GRID, None, horizon),
        curve,
        season: None,
        competitor: None,
        reference: 35.0,
    };
    let ferreira = |alpha: f64| Market {
        name: name.to_owned(),
        problem: Problem::single(
            &[29.9, 34.9, 39.9, 44.9],
            Some(alpha * horizon as f64),
            horizon,
        ),
        curve: Curve::Table(vec![vec![0.8], vec![0.6], vec![0.3], vec![0.1]]),
        season: None,
        competitor: None,
        reference: 37.4,
    };
    Some(match name {
        "linear" => single(Curve::Linear { a: 1.2, b: 0.02 }),
        "logit" => single(Curve::Logit { a: 4.0, b: 0.12 }),
        "exponential" => single(Curve::Exponential { a: 1.0, b: 0.04 }),
        "seasonal" => Market {
            season: Some((0.6, 365.0)),
            ..single(Curve::Logit { a: 4.0, b: 0.12 })
        },
        "competitor" => Market {
            competitor: Some(Competitor {
                start: 35.0,
                floor: 22.0,
                ceiling: 50.0,
                review: 0.02,
                undercut: 1.0,
                step_up: 2.0,
                sensitivity: 4.0,
            }),
            ..single(Curve::Logit { a: 4.0, b: 0.12 })
        },
        "ferreira-single-0.25" => ferreira(0.25),
        "ferreira-single-0.5" => ferreira(0.5),
        "ferreira-network" => network(horizon),
        _ => return None,
    })
}

/// Two products sharing three resources over five price vectors: the
/// structure of Ferreira et al.'s multi-product example (consumption
/// product 1 → (1, 3, 0), product 2 → (1, 1, 5); price vectors (1, 1.5),
/// (1, 2), (2, 3), (4, 4), (4, 6.5)). The purchase probabilities and stock
/// rates are ours (see docs/PRICING.md).
fn network(horizon: usize) -> Market {
    let prices = vec![
        vec![1.0, 1.5],
        vec![1.0, 2.0],
        vec![2.0, 3.0],
        vec![4.0, 4.0],
        vec![4.0, 6.5],
    ];
    let table = prices
        .iter()
        .map(|p| vec![0.8 - 0.15 * p[0], 0.9 - 0.12 * p[1]])
        .collect();
    let t = horizon as f64;
    Market {
        name: "ferreira-network".to_owned(),
        problem: Problem {
            prices,
            usage: vec![vec![1.0, 3.0, 0.0], vec![1.0, 1.0, 5.0]],
            inventory: vec![0.6 * t, 1.2 * t, 1.5 * t],
            horizon,
        },
        curve: Curve::Table(table),
        season: None,
        competitor: None,
        reference: 3.0,
    }
}

/// Policy names accepted by [`policy`].
pub const POLICIES: &[&str] = &[
    "fixed",
    "epsilon_greedy",
    "ucb",
    "ts",
    "ts_fixed",
    "ts_update",
    "ts_contextual",
    "ts_contextual_update",
    "actor_critic",
];

/// Builds a named policy for `problem`.
pub fn policy(name: &str, problem: &Problem) -> Option<Box<dyn Policy>> {
    Some(match name {
        "fixed" => Box::new(FixedPrice {
            arm: problem.arms() / 2,
        }),
        "epsilon_greedy" => Box::new(EpsilonGreedy::new(problem, 0.1)),
        "ucb" => Box::new(Ucb::new(problem, 0.5)),
        "ts" => Box::new(Thompson::new("ts", Posterior::beta(problem))),
        "ts_fixed" => Box::new(ThompsonLp::new("ts_fixed", Posterior::beta(problem), false)),
        "ts_update" => Box::new(ThompsonLp::new("ts_update", Posterior::beta(problem), true)),
        "ts_contextual" => Box::new(Thompson::new("ts_contextual", Posterior::logit(problem))),
        "ts_contextual_update" => Box::new(ThompsonLp::new(
            "ts_contextual_update",
            Posterior::logit(problem),
            true,
        )),
        "actor_critic" => Box::new(ActorCritic::new(problem)),
        _ => return None,
    })
}

/// Mean and standard error over seeds of one policy on one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyReport {
    pub policy: String,
    /// Revenue as a share of the yardstick (LP bound or clairvoyant).
    pub share: f64,
    pub share_se: f64,
    /// Yardstick minus revenue, per season.
    pub regret: f64,
    pub revenue: f64,
    pub price_changes: f64,
    /// Periods per season where the guardrails replaced the policy's choice.
    pub guarded: f64,
}

/// The guardrails the evaluation runs with: a floor and ceiling at the grid's
/// ends, cost + 25% below the grid, at most a 50% move per step (100% for the
/// network's coarse price vectors), and, with a competitor, never more than
/// 15% above it.
pub fn default_guard(market: &Market) -> Vec<Rules> {
    let p = &market.problem;
    (0..p.products())
        .map(|i| {
            let low = p.prices.iter().map(|v| v[i]).fold(f64::MAX, f64::min);
            let high = p.prices.iter().map(|v| v[i]).fold(0.0, f64::max);
            Rules {
                cost: Some(cents(low * 0.6)),
                min_margin: 0.25,
                min_price: Some(cents(low)),
                max_price: Some(cents(high)),
                max_change_step: Some(if p.products() > 1 { 1.0 } else { 0.5 }),
                max_change_day: Some(2.0),
                competitor_max_above: market.competitor.as_ref().map(|_| 0.15),
                ..Rules::default()
            }
        })
        .collect()
}

/// Runs `policy_name` on `market` for `seeds` seasons (seeds `0..seeds`),
/// with guardrails when given.
pub fn evaluate(
    market: &Market,
    policy_name: &str,
    seeds: u64,
    guard: Option<&[Rules]>,
) -> Option<PolicyReport> {
    let options = Options {
        guard: guard.map(<[Rules]>::to_vec),
        trace: false,
    };
    let mut shares = Vec::with_capacity(seeds as usize);
    let (mut regret, mut revenue, mut changes, mut guarded) = (0.0, 0.0, 0.0, 0.0);
    for seed in 0..seeds {
        let mut p = policy(policy_name, &market.problem)?;
        let s = simulate_with(market, p.as_mut(), seed, &options);
        shares.push(if s.bound > 0.0 {
            s.revenue / s.bound
        } else {
            0.0
        });
        regret += s.bound - s.revenue;
        revenue += s.revenue;
        changes += s.price_changes as f64;
        guarded += s.guarded as f64;
    }
    let n = seeds.max(1) as f64;
    let mean = shares.iter().sum::<f64>() / n;
    let var = shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Some(PolicyReport {
        policy: policy_name.to_owned(),
        share: mean,
        share_se: (var / n).sqrt(),
        regret: regret / n,
        revenue: revenue / n,
        price_changes: changes / n,
        guarded: guarded / n,
    })
}
