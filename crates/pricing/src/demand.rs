//! Demand models learned online from what shoppers do.
//!
//! - [`BetaBernoulli`]: the conversion of one price point (or one product at
//!   one price vector), conjugate, exact posterior.
//! - [`CategoryPrior`]: pools sibling items' counts into an informative Beta
//!   prior so a new item starts from its category, not from ignorance.
//! - [`BayesLogit`]: a Bayesian logistic demand curve over price and context
//!   features (day of week, inventory level, competitor price, season,
//!   campaign), updated one observation at a time with the online Laplace
//!   (extended Kalman) step; posterior samples drive Thompson sampling.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sample;

/// Beta posterior over a purchase probability.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BetaBernoulli {
    pub alpha: f64,
    pub beta: f64,
}

impl Default for BetaBernoulli {
    /// The uniform Beta(1, 1) prior.
    fn default() -> Self {
        Self {
            alpha: 1.0,
            beta: 1.0,
        }
    }
}

impl BetaBernoulli {
    pub fn new(alpha: f64, beta: f64) -> Self {
        Self { alpha, beta }
    }

    /// Adds `successes` purchases out of `trials` arrivals.
    pub fn update(&mut self, successes: f64, trials: f64) {
        let successes = successes.clamp(0.0, trials.max(0.0));
        self.alpha += successes;
        self.beta += trials.max(0.0) - successes;
    }

    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// Observations plus prior pseudo-counts.
    pub fn count(&self) -> f64 {
        self.alpha + self.beta
    }

    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        sample::beta(rng, self.alpha, self.beta)
    }
}

/// An informative prior per grid point built from the items of a category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryPrior {
    /// Pooled conversion per grid point.
    pub means: Vec<f64>,
    /// Pseudo-observations the prior is worth (capped so data wins quickly).
    pub strength: f64,
}

impl CategoryPrior {
    /// Pools the posteriors of sibling items (same grid) into a prior worth at
    /// most `cap` observations per grid point: the average evidence per
    /// sibling, so a category of one well-known item does not freeze a newcomer.
    pub fn from_siblings(siblings: &[Vec<BetaBernoulli>], cap: f64) -> Result<Self> {
        let arms = siblings.first().map(Vec::len).unwrap_or(0);
        if arms == 0 || siblings.iter().any(|s| s.len() != arms) {
            return Err(Error::invalid("siblings", "need items with equal grids"));
        }
        let mut means = Vec::with_capacity(arms);
        let mut evidence = 0.0;
        for k in 0..arms {
            let (mut s, mut n) = (0.0, 0.0);
            for item in siblings {
                s += item[k].alpha - 1.0;
                n += item[k].count() - 2.0;
            }
            means.push((s + 1.0) / (n + 2.0));
            evidence += n;
        }
        let per_point = evidence / (arms * siblings.len()) as f64;
        Ok(Self {
            means,
            strength: per_point.clamp(0.0, cap.max(0.0)),
        })
    }

    /// The Beta priors a new item starts from.
    pub fn priors(&self) -> Vec<BetaBernoulli> {
        self.means
            .iter()
            .map(|&m| {
                let m = m.clamp(1e-3, 1.0 - 1e-3);
                BetaBernoulli::new(1.0 + m * self.strength, 1.0 + (1.0 - m) * self.strength)
            })
            .collect()
    }
}

/// What a shopper saw besides the price. All fields are optional signals;
/// missing ones contribute zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// 0 = Monday … 6 = Sunday.
    pub day_of_week: u8,
    /// Stock left as a share of the starting stock, 0..=1.
    pub inventory_level: f64,
    /// Lowest competitor price in the same currency, if known.
    pub competitor_price: Option<f64>,
    /// Season signal in -1..=1 (e.g. the sine of the day of year).
    pub season: f64,
    /// A campaign is running.
    pub campaign: bool,
}

impl Context {
    /// Rejects non-finite or out-of-range signals.
    pub fn validate(&self) -> Result<()> {
        if self.day_of_week > 6 {
            return Err(Error::invalid("day_of_week", "must be 0..=6"));
        }
        if !(0.0..=1.0).contains(&self.inventory_level) {
            return Err(Error::invalid("inventory_level", "must be in 0..=1"));
        }
        if !(-1.0..=1.0).contains(&self.season) {
            return Err(Error::invalid("season", "must be in -1..=1"));
        }
        if let Some(c) = self.competitor_price
            && !(c.is_finite() && c > 0.0)
        {
            return Err(Error::invalid("competitor_price", "must be positive"));
        }
        Ok(())
    }
}

/// Number of features of [`features`].
pub const FEATURES: usize = 8;

/// The logistic model's features for showing `price` in `ctx`, with prices
/// measured relative to the item's reference price so one prior fits all items.
pub fn features(price: f64, reference: f64, ctx: &Context) -> [f64; FEATURES] {
    let rel = price / reference - 1.0;
    let weekend = if ctx.day_of_week >= 5 { 1.0 } else { 0.0 };
    let gap = ctx
        .competitor_price
        .map(|c| (price - c) / reference)
        .unwrap_or(0.0);
    [
        1.0,
        rel,
        weekend,
        ctx.inventory_level,
        gap,
        ctx.season,
        if ctx.campaign { 1.0 } else { 0.0 },
        ctx.season * rel,
    ]
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Bayesian logistic regression with a Gaussian posterior N(mean, cov),
/// updated online (one Newton step per observation: the Laplace
/// approximation of the exact posterior, as in an extended Kalman filter).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BayesLogit {
    pub mean: Vec<f64>,
    /// Row-major d×d covariance.
    pub cov: Vec<f64>,
}

impl BayesLogit {
    /// A diagonal Gaussian prior.
    pub fn new(mean: Vec<f64>, variance: f64) -> Self {
        let d = mean.len();
        let mut cov = vec![0.0; d * d];
        for i in 0..d {
            cov[i * d + i] = variance;
        }
        Self { mean, cov }
    }

    /// A weakly informative prior for a conversion model: base rate ~5%,
    /// demand falls with price.
    pub fn default_prior() -> Self {
        let mut mean = vec![0.0; FEATURES];
        mean[0] = -3.0;
        mean[1] = -2.0;
        Self::new(mean, 4.0)
    }

    /// Cold start from a category model: its mean, its covariance inflated by
    /// `inflate` (> 1) so the item can move away from the category.
    pub fn from_category(category: &BayesLogit, inflate: f64) -> Self {
        Self {
            mean: category.mean.clone(),
            cov: category.cov.iter().map(|c| c * inflate.max(1.0)).collect(),
        }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    fn cov_times(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dim();
        (0..d)
            .map(|i| (0..d).map(|j| self.cov[i * d + j] * x[j]).sum())
            .collect()
    }

    /// One observation: `y` in 0..=1 (purchase or not), with `weight` > 0
    /// repetitions of the same outcome.
    pub fn update(&mut self, x: &[f64], y: f64, weight: f64) -> Result<()> {
        let d = self.dim();
        if x.len() != d || x.iter().any(|v| !v.is_finite()) || !y.is_finite() {
            return Err(Error::invalid("features", "wrong length or not finite"));
        }
        let p = sigmoid(dot(&self.mean, x));
        let w = (p * (1.0 - p)).max(1e-6) * weight;
        let sx = self.cov_times(x);
        let xsx: f64 = dot(x, &sx);
        let denom = 1.0 + w * xsx;
        // Sherman–Morrison: (Σ⁻¹ + w x xᵀ)⁻¹.
        for i in 0..d {
            for j in 0..d {
                self.cov[i * d + j] -= w * sx[i] * sx[j] / denom;
            }
        }
        let g = weight * (y - p);
        let sx_new = self.cov_times(x);
        for (m, s) in self.mean.iter_mut().zip(&sx_new) {
            *m += s * g;
        }
        Ok(())
    }

    /// Posterior predictive purchase probability (probit approximation).
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mu = dot(&self.mean, x);
        let var = dot(x, &self.cov_times(x)).max(0.0);
        sigmoid(mu / (1.0 + std::f64::consts::PI * var / 8.0).sqrt())
    }

    /// A parameter vector drawn from the posterior.
    pub fn sample_params<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let d = self.dim();
        let l = cholesky(&self.cov, d);
        let z: Vec<f64> = (0..d).map(|_| sample::normal(rng)).collect();
        (0..d)
            .map(|i| self.mean[i] + (0..=i).map(|j| l[i * d + j] * z[j]).sum::<f64>())
            .collect()
    }

    /// Purchase probability under given parameters.
    pub fn prob_with(params: &[f64], x: &[f64]) -> f64 {
        sigmoid(dot(params, x))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Lower Cholesky factor; tiny negative pivots (rounding) are floored.
fn cholesky(a: &[f64], d: usize) -> Vec<f64> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                l[i * d + i] = s.max(1e-12).sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn beta_posterior_counts_purchases() {
        let mut b = BetaBernoulli::default();
        b.update(3.0, 10.0);
        assert_eq!((b.alpha, b.beta), (4.0, 8.0));
        assert!((b.mean() - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn category_prior_pools_siblings_and_caps_strength() {
        let mut a = vec![BetaBernoulli::default(); 2];
        let mut b = vec![BetaBernoulli::default(); 2];
        a[0].update(80.0, 100.0);
        b[0].update(60.0, 100.0);
        a[1].update(10.0, 100.0);
        b[1].update(30.0, 100.0);
        let prior = CategoryPrior::from_siblings(&[a, b], 20.0).unwrap();
        assert!((prior.means[0] - 141.0 / 202.0).abs() < 1e-9);
        assert_eq!(prior.strength, 20.0);
        let p = prior.priors();
        assert!((p[0].count() - 22.0).abs() < 1e-9);
        assert!(p[0].mean() > 0.65 && p[1].mean() < 0.25);
    }

    #[test]
    fn logistic_model_recovers_a_price_response() {
        // True conversion: sigmoid(-1 - 3 * rel + 0.8 * campaign).
        let mut rng = StdRng::seed_from_u64(7);
        let mut m = BayesLogit::default_prior();
        for _ in 0..20_000 {
            let price = 80.0 + 40.0 * rand::Rng::r#gen::<f64>(&mut rng);
            let ctx = Context {
                campaign: rand::Rng::r#gen::<bool>(&mut rng),
                ..Context::default()
            };
            let x = features(price, 100.0, &ctx);
            let truth = sigmoid(-1.0 - 3.0 * x[1] + 0.8 * x[6]);
            let y = if rand::Rng::r#gen::<f64>(&mut rng) < truth {
                1.0
            } else {
                0.0
            };
            m.update(&x, y, 1.0).unwrap();
        }
        assert!((m.mean[0] + 1.0).abs() < 0.15, "{:?}", m.mean);
        assert!((m.mean[1] + 3.0).abs() < 0.3, "{:?}", m.mean);
        assert!((m.mean[6] - 0.8).abs() < 0.15, "{:?}", m.mean);
        let x = features(100.0, 100.0, &Context::default());
        assert!((m.predict(&x) - sigmoid(-1.0)).abs() < 0.02);
    }

    #[test]
    fn logistic_posterior_samples_spread_with_uncertainty() {
        let mut rng = StdRng::seed_from_u64(3);
        let m = BayesLogit::default_prior();
        let draws: Vec<f64> = (0..2000).map(|_| m.sample_params(&mut rng)[1]).collect();
        let mean = draws.iter().sum::<f64>() / 2000.0;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / 2000.0;
        assert!((mean + 2.0).abs() < 0.15 && (var - 4.0).abs() < 0.5);
    }

    #[test]
    fn bad_context_is_rejected() {
        let ctx = Context {
            inventory_level: f64::NAN,
            ..Context::default()
        };
        assert!(ctx.validate().is_err());
        let ctx = Context {
            competitor_price: Some(-1.0),
            ..Context::default()
        };
        assert!(ctx.validate().is_err());
    }
}
