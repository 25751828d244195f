//! Pricing policies behind one trait.
//!
//! A policy chooses, each period, one *price vector* (an arm: one price per
//! product) or the shut-off price, then observes the units sold. A single
//! item is the one-product case; a grid of prices is the list of arms.
//!
//! - [`Thompson`]: Thompson sampling, greedy on a posterior draw (ignores stock).
//! - [`ThompsonLp`]: TS-fixed and TS-update of Ferreira, Simchi-Levi & Wang
//!   (2018): a posterior draw fed to the stock-rate LP of [`crate::lp`].
//! - [`Ucb`], [`EpsilonGreedy`], [`FixedPrice`]: the classic baselines.
//! - [`ActorCritic`]: softmax policy over the arms with a linear critic on
//!   stock-and-time features (average-reward TD(0)).
//! - [`Oracle`]: knows the true demand; the clairvoyant yardstick.

use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use crate::demand::{BayesLogit, BetaBernoulli, Context, features};
use crate::lp;

/// The static shape of a pricing problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// `prices[k][i]`: price of product `i` in price vector `k`.
    pub prices: Vec<Vec<f64>>,
    /// `usage[i][j]`: units of resource `j` one sale of product `i` consumes.
    pub usage: Vec<Vec<f64>>,
    /// Starting stock per resource (`f64::INFINITY` when unlimited).
    pub inventory: Vec<f64>,
    /// Number of periods (one arriving shopper per period).
    pub horizon: usize,
}

impl Problem {
    /// One product, unlimited or limited stock, priced from `grid`.
    pub fn single(grid: &[f64], stock: Option<f64>, horizon: usize) -> Self {
        Self {
            prices: grid.iter().map(|&p| vec![p]).collect(),
            usage: vec![vec![1.0]],
            inventory: vec![stock.unwrap_or(f64::INFINITY)],
            horizon,
        }
    }

    pub fn arms(&self) -> usize {
        self.prices.len()
    }

    pub fn products(&self) -> usize {
        self.usage.len()
    }

    pub fn limited(&self) -> bool {
        self.inventory.iter().any(|c| c.is_finite())
    }

    /// Expected revenue and resource use of each arm under demand `d[k][i]`.
    pub fn lp_coefficients(&self, d: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let revenue = (0..self.arms())
            .map(|k| {
                (0..self.products())
                    .map(|i| self.prices[k][i] * d[k][i])
                    .sum()
            })
            .collect();
        let usage = (0..self.arms())
            .map(|k| {
                (0..self.inventory.len())
                    .map(|j| {
                        (0..self.products())
                            .map(|i| self.usage[i][j] * d[k][i])
                            .sum()
                    })
                    .collect()
            })
            .collect();
        (revenue, usage)
    }

    /// Best allowed arm by expected revenue, ignoring stock.
    pub fn greedy(&self, d: &[Vec<f64>], allowed: Option<&[bool]>) -> usize {
        let (revenue, _) = self.lp_coefficients(d);
        argmax_allowed(&revenue, allowed)
    }

    /// The highest revenue one period can bring (to normalise rewards).
    pub fn max_revenue(&self) -> f64 {
        self.prices
            .iter()
            .map(|p| p.iter().sum::<f64>())
            .fold(0.0, f64::max)
            .max(1e-9)
    }
}

/// What a policy sees at the start of a period.
#[derive(Clone, Debug)]
pub struct State<'a> {
    /// 0-based period.
    pub t: usize,
    /// Stock left per resource.
    pub remaining: &'a [f64],
    pub context: Context,
    /// Arms the guardrails accept this period (all when `None`). Policies
    /// choose among them; the simulator and service enforce it regardless.
    pub allowed: Option<&'a [bool]>,
}

impl State<'_> {
    pub fn is_allowed(&self, arm: usize) -> bool {
        self.allowed
            .is_none_or(|a| a.get(arm).copied().unwrap_or(false))
    }
}

/// A period's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Offer(usize),
    /// A price so high nobody buys (the paper's p∞).
    ShutOff,
}

/// A pricing policy.
pub trait Policy {
    fn name(&self) -> &str;
    fn choose(&mut self, problem: &Problem, state: &State<'_>, rng: &mut dyn RngCore) -> Action;
    /// Units sold per product after offering `arm` in `state`.
    fn observe(&mut self, problem: &Problem, state: &State<'_>, arm: usize, sales: &[f64]);
}

/// Index of the largest allowed value (of all values if none is allowed).
fn argmax_allowed(v: &[f64], allowed: Option<&[bool]>) -> usize {
    let ok = |k: usize| allowed.is_none_or(|a| a.get(k).copied().unwrap_or(false));
    let any = (0..v.len()).any(ok);
    let mut best: Option<usize> = None;
    for (k, x) in v.iter().enumerate() {
        if (!any || ok(k)) && best.is_none_or(|b| *x > v[b]) {
            best = Some(k);
        }
    }
    best.unwrap_or(0)
}

/// A posterior over demand per arm and product.
#[derive(Clone, Debug)]
pub enum Posterior {
    /// Independent Beta-Bernoulli per (arm, product): the paper's model.
    Beta(Vec<Vec<BetaBernoulli>>),
    /// One Bayesian logistic curve per product over price and context, with
    /// each product's reference price.
    Logit {
        models: Vec<BayesLogit>,
        reference: Vec<f64>,
    },
}

impl Posterior {
    /// Uniform Beta(1, 1) priors.
    pub fn beta(problem: &Problem) -> Self {
        Self::Beta(vec![
            vec![BetaBernoulli::default(); problem.products()];
            problem.arms()
        ])
    }

    /// Beta priors from a category, for a one-product problem.
    pub fn beta_with_priors(priors: Vec<BetaBernoulli>) -> Self {
        Self::Beta(priors.into_iter().map(|p| vec![p]).collect())
    }

    /// Logistic curves with the default prior; reference = mean grid price.
    pub fn logit(problem: &Problem) -> Self {
        let reference = (0..problem.products())
            .map(|i| problem.prices.iter().map(|p| p[i]).sum::<f64>() / problem.arms() as f64)
            .collect();
        Self::Logit {
            models: vec![BayesLogit::default_prior(); problem.products()],
            reference,
        }
    }

    /// A demand draw `d[k][i]` for the current context.
    pub fn sample(&self, problem: &Problem, ctx: &Context, rng: &mut dyn RngCore) -> Vec<Vec<f64>> {
        match self {
            Self::Beta(b) => b
                .iter()
                .map(|row| row.iter().map(|x| x.sample(rng)).collect())
                .collect(),
            Self::Logit { models, reference } => {
                let params: Vec<Vec<f64>> = models.iter().map(|m| m.sample_params(rng)).collect();
                problem
                    .prices
                    .iter()
                    .map(|p| {
                        (0..models.len())
                            .map(|i| {
                                BayesLogit::prob_with(
                                    &params[i],
                                    &features(p[i], reference[i], ctx),
                                )
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// Posterior mean demand `d[k][i]`.
    pub fn mean(&self, problem: &Problem, ctx: &Context) -> Vec<Vec<f64>> {
        match self {
            Self::Beta(b) => b
                .iter()
                .map(|row| row.iter().map(BetaBernoulli::mean).collect())
                .collect(),
            Self::Logit { models, reference } => problem
                .prices
                .iter()
                .map(|p| {
                    (0..models.len())
                        .map(|i| models[i].predict(&features(p[i], reference[i], ctx)))
                        .collect()
                })
                .collect(),
        }
    }

    pub fn update(&mut self, problem: &Problem, ctx: &Context, arm: usize, sales: &[f64]) {
        match self {
            Self::Beta(b) => {
                for (i, s) in sales.iter().enumerate() {
                    b[arm][i].update(s.min(1.0), 1.0);
                }
            }
            Self::Logit { models, reference } => {
                for (i, s) in sales.iter().enumerate() {
                    let x = features(problem.prices[arm][i], reference[i], ctx);
                    // Features are finite by construction; a failure leaves the model as is.
                    let _ = models[i].update(&x, s.min(1.0), 1.0);
                }
            }
        }
    }
}

/// Thompson sampling over the arms, blind to stock.
#[derive(Clone, Debug)]
pub struct Thompson {
    pub posterior: Posterior,
    name: String,
}

impl Thompson {
    pub fn new(name: &str, posterior: Posterior) -> Self {
        Self {
            posterior,
            name: name.to_owned(),
        }
    }
}

impl Policy for Thompson {
    fn name(&self) -> &str {
        &self.name
    }

    fn choose(&mut self, problem: &Problem, state: &State<'_>, rng: &mut dyn RngCore) -> Action {
        let d = self.posterior.sample(problem, &state.context, rng);
        Action::Offer(problem.greedy(&d, state.allowed))
    }

    fn observe(&mut self, problem: &Problem, state: &State<'_>, arm: usize, sales: &[f64]) {
        self.posterior.update(problem, &state.context, arm, sales);
    }
}

/// TS-fixed (`update = false`: capacity rate `I / T` throughout) and TS-update
/// (`update = true`: remaining stock over remaining periods) of Ferreira et al.
#[derive(Clone, Debug)]
pub struct ThompsonLp {
    pub posterior: Posterior,
    pub update: bool,
    name: String,
}

impl ThompsonLp {
    pub fn new(name: &str, posterior: Posterior, update: bool) -> Self {
        Self {
            posterior,
            update,
            name: name.to_owned(),
        }
    }
}

/// Picks an arm with the LP's probabilities (the slack is the shut-off).
fn draw_from_lp(x: &[f64], rng: &mut dyn RngCore) -> Action {
    let mut u: f64 = rng.r#gen();
    for (k, p) in x.iter().enumerate() {
        if u < *p {
            return Action::Offer(k);
        }
        u -= p;
    }
    Action::ShutOff
}

impl Policy for ThompsonLp {
    fn name(&self) -> &str {
        &self.name
    }

    fn choose(&mut self, problem: &Problem, state: &State<'_>, rng: &mut dyn RngCore) -> Action {
        let d = self.posterior.sample(problem, &state.context, rng);
        if !problem.limited() {
            return Action::Offer(problem.greedy(&d, state.allowed));
        }
        let left = (problem.horizon.saturating_sub(state.t)).max(1) as f64;
        let capacity: Vec<f64> = problem
            .inventory
            .iter()
            .zip(state.remaining)
            .map(|(&start, &now)| {
                if !start.is_finite() {
                    1e12
                } else if self.update {
                    now / left
                } else if now <= 0.0 {
                    // The paper's TS-fixed stops selling what has run out.
                    0.0
                } else {
                    start / problem.horizon as f64
                }
            })
            .collect();
        let (mut revenue, usage) = problem.lp_coefficients(&d);
        // A disallowed arm earns nothing in the LP, so it gets no weight.
        for (k, r) in revenue.iter_mut().enumerate() {
            if !state.is_allowed(k) {
                *r = -1.0;
            }
        }
        match lp::solve(&revenue, &usage, &capacity) {
            Ok(s) => draw_from_lp(&s.x, rng),
            Err(_) => Action::ShutOff,
        }
    }

    fn observe(&mut self, problem: &Problem, state: &State<'_>, arm: usize, sales: &[f64]) {
        self.posterior.update(problem, &state.context, arm, sales);
    }
}

/// UCB1 on revenue per period (normalised to 0..1), blind to stock.
#[derive(Clone, Debug)]
pub struct Ucb {
    counts: Vec<f64>,
    sums: Vec<f64>,
    /// Exploration weight (√2 in textbook UCB1).
    pub c: f64,
}

impl Ucb {
    pub fn new(problem: &Problem, c: f64) -> Self {
        Self {
            counts: vec![0.0; problem.arms()],
            sums: vec![0.0; problem.arms()],
            c,
        }
    }
}

fn revenue_of(problem: &Problem, arm: usize, sales: &[f64]) -> f64 {
    sales
        .iter()
        .zip(&problem.prices[arm])
        .map(|(s, p)| s * p)
        .sum()
}

impl Policy for Ucb {
    fn name(&self) -> &str {
        "ucb"
    }

    fn choose(&mut self, _: &Problem, state: &State<'_>, _: &mut dyn RngCore) -> Action {
        if let Some(k) =
            (0..self.counts.len()).find(|&k| self.counts[k] == 0.0 && state.is_allowed(k))
        {
            return Action::Offer(k);
        }
        let ln_t = ((state.t + 1) as f64).ln();
        let scores: Vec<f64> = (0..self.counts.len())
            .map(|k| {
                if self.counts[k] == 0.0 {
                    f64::MAX
                } else {
                    self.sums[k] / self.counts[k] + self.c * (ln_t / self.counts[k]).sqrt()
                }
            })
            .collect();
        Action::Offer(argmax_allowed(&scores, state.allowed))
    }

    fn observe(&mut self, problem: &Problem, _: &State<'_>, arm: usize, sales: &[f64]) {
        self.counts[arm] += 1.0;
        self.sums[arm] += revenue_of(problem, arm, sales) / problem.max_revenue();
    }
}

/// ε-greedy on average revenue per arm, blind to stock.
#[derive(Clone, Debug)]
pub struct EpsilonGreedy {
    counts: Vec<f64>,
    sums: Vec<f64>,
    pub epsilon: f64,
}

impl EpsilonGreedy {
    pub fn new(problem: &Problem, epsilon: f64) -> Self {
        Self {
            counts: vec![0.0; problem.arms()],
            sums: vec![0.0; problem.arms()],
            epsilon,
        }
    }
}

impl Policy for EpsilonGreedy {
    fn name(&self) -> &str {
        "epsilon_greedy"
    }

    fn choose(&mut self, _: &Problem, state: &State<'_>, rng: &mut dyn RngCore) -> Action {
        let arms = self.counts.len();
        let mut open: Vec<usize> = (0..arms).filter(|&k| state.is_allowed(k)).collect();
        if open.is_empty() {
            open = (0..arms).collect();
        }
        if rng.r#gen::<f64>() < self.epsilon {
            return Action::Offer(open[rng.gen_range(0..open.len())]);
        }
        if let Some(&k) = open.iter().find(|&&k| self.counts[k] == 0.0) {
            return Action::Offer(k);
        }
        let means: Vec<f64> = (0..arms)
            .map(|k| self.sums[k] / self.counts[k].max(1.0))
            .collect();
        Action::Offer(argmax_allowed(&means, state.allowed))
    }

    fn observe(&mut self, problem: &Problem, _: &State<'_>, arm: usize, sales: &[f64]) {
        self.counts[arm] += 1.0;
        self.sums[arm] += revenue_of(problem, arm, sales);
    }
}

/// Always the same arm (e.g. the list price).
#[derive(Clone, Debug)]
pub struct FixedPrice {
    pub arm: usize,
}

impl Policy for FixedPrice {
    fn name(&self) -> &str {
        "fixed"
    }

    fn choose(&mut self, _: &Problem, _: &State<'_>, _: &mut dyn RngCore) -> Action {
        Action::Offer(self.arm)
    }

    fn observe(&mut self, _: &Problem, _: &State<'_>, _: usize, _: &[f64]) {}
}

/// Softmax actor over the arms (plus the shut-off when stock is limited)
/// with a linear critic, trained by average-reward TD(0). State features:
/// bias, stock left per period relative to the starting rate, time elapsed.
#[derive(Clone, Debug)]
pub struct ActorCritic {
    /// Actor weights, one feature vector per action.
    actor: Vec<[f64; 3]>,
    critic: [f64; 3],
    avg_reward: f64,
    last: Option<([f64; 3], usize, f64)>,
    pub actor_rate: f64,
    pub critic_rate: f64,
}

impl ActorCritic {
    pub fn new(problem: &Problem) -> Self {
        let actions = problem.arms() + usize::from(problem.limited());
        Self {
            actor: vec![[0.0; 3]; actions],
            critic: [0.0; 3],
            avg_reward: 0.0,
            last: None,
            actor_rate: 0.5,
            critic_rate: 0.1,
        }
    }

    fn features(problem: &Problem, state: &State<'_>) -> [f64; 3] {
        let elapsed = state.t as f64 / problem.horizon.max(1) as f64;
        let pressure = problem
            .inventory
            .iter()
            .zip(state.remaining)
            .filter(|(start, _)| start.is_finite() && **start > 0.0)
            .map(|(&start, &now)| {
                let left = (problem.horizon.saturating_sub(state.t)).max(1) as f64;
                ((now / left) / (start / problem.horizon as f64)).min(2.0)
            })
            .fold(1.0, f64::min);
        [1.0, pressure, elapsed]
    }

    fn probabilities(&self, s: &[f64; 3]) -> Vec<f64> {
        let logits: Vec<f64> = self
            .actor
            .iter()
            .map(|w| w.iter().zip(s).map(|(a, b)| a * b).sum())
            .collect();
        let top = logits.iter().cloned().fold(f64::MIN, f64::max);
        let exp: Vec<f64> = logits.iter().map(|l| (l - top).exp()).collect();
        let z: f64 = exp.iter().sum();
        exp.iter().map(|e| e / z).collect()
    }

    fn value(&self, s: &[f64; 3]) -> f64 {
        self.critic.iter().zip(s).map(|(a, b)| a * b).sum()
    }

    /// The TD step for the previous period, now that its successor state is known.
    fn learn(&mut self, next: &[f64; 3]) {
        let Some((s, a, r)) = self.last.take() else {
            return;
        };
        let delta = r - self.avg_reward + self.value(next) - self.value(&s);
        self.avg_reward += 0.01 * delta;
        for (w, x) in self.critic.iter_mut().zip(&s) {
            *w += self.critic_rate * delta * x;
        }
        let pi = self.probabilities(&s);
        for (k, w) in self.actor.iter_mut().enumerate() {
            let grad = if k == a { 1.0 - pi[k] } else { -pi[k] };
            for (wi, x) in w.iter_mut().zip(&s) {
                *wi += self.actor_rate * delta * grad * x;
            }
        }
    }
}

impl Policy for ActorCritic {
    fn name(&self) -> &str {
        "actor_critic"
    }

    fn choose(&mut self, problem: &Problem, state: &State<'_>, rng: &mut dyn RngCore) -> Action {
        let s = Self::features(problem, state);
        self.learn(&s);
        let mut pi = self.probabilities(&s);
        let masked: f64 = (0..problem.arms())
            .filter(|&k| !state.is_allowed(k))
            .map(|k| std::mem::take(&mut pi[k]))
            .sum();
        let left: f64 = pi.iter().sum();
        if left > 0.0 && masked > 0.0 {
            pi.iter_mut().for_each(|p| *p /= left);
        }
        let mut u: f64 = rng.r#gen();
        let mut a = pi.len() - 1;
        for (k, p) in pi.iter().enumerate() {
            if u < *p {
                a = k;
                break;
            }
            u -= p;
        }
        // A shut-off period earns nothing: record it for the next TD step.
        self.last = Some((s, a, 0.0));
        if a >= problem.arms() {
            Action::ShutOff
        } else {
            Action::Offer(a)
        }
    }

    fn observe(&mut self, problem: &Problem, _: &State<'_>, arm: usize, sales: &[f64]) {
        if let Some(last) = self.last.as_mut()
            && last.1 == arm
        {
            last.2 = revenue_of(problem, arm, sales) / problem.max_revenue();
        }
    }
}

/// The clairvoyant: knows the true mean demand in every context. With stock
/// it re-solves the LP on the true demand each period (LP-update); without,
/// it offers the best arm of the period.
pub struct Oracle<F> {
    pub truth: F,
}

impl<F: Fn(&Context) -> Vec<Vec<f64>>> Policy for Oracle<F> {
    fn name(&self) -> &str {
        "oracle"
    }

    fn choose(&mut self, problem: &Problem, state: &State<'_>, rng: &mut dyn RngCore) -> Action {
        let d = (self.truth)(&state.context);
        if !problem.limited() {
            return Action::Offer(problem.greedy(&d, state.allowed));
        }
        let left = (problem.horizon.saturating_sub(state.t)).max(1) as f64;
        let capacity: Vec<f64> = state.remaining.iter().map(|r| r / left).collect();
        let (mut revenue, usage) = problem.lp_coefficients(&d);
        // A disallowed arm earns nothing in the LP, so it gets no weight.
        for (k, r) in revenue.iter_mut().enumerate() {
            if !state.is_allowed(k) {
                *r = -1.0;
            }
        }
        match lp::solve(&revenue, &usage, &capacity) {
            Ok(s) => draw_from_lp(&s.x, rng),
            Err(_) => Action::ShutOff,
        }
    }

    fn observe(&mut self, _: &Problem, _: &State<'_>, _: usize, _: &[f64]) {}
}
