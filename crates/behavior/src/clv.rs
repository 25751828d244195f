//! Customer lifetime value: the BG/NBD model of repeat purchasing (Fader,
//! Hardie & Lee 2005) and the Gamma-Gamma model of spend per transaction
//! (Fader, Hardie & Lee 2005b / Fader & Hardie 2013), both fitted by maximum
//! likelihood with Nelder–Mead on log-parameters.
//!
//! Input is a list of [`Purchase`]s (customer, day, amount) — what a store of
//! `purchase` events yields — summarised per customer into the classic
//! (frequency, recency, T, monetary) tuple by [`summarize`].

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::datasets::Csv;
use crate::dates::parse_day;
use crate::error::{Error, Result};
use crate::optim::{NelderMead, nelder_mead};
use crate::special::{hyp2f1, ln_beta, ln_gamma, log_add_exp};

/// One purchase: who, when (whole days since 1970-01-01, see
/// [`crate::dates`]) and how much (in the shop's currency, as a float).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    pub customer: String,
    pub day: i64,
    pub amount: f64,
}

/// A customer's history in the BG/NBD vocabulary, times in periods (weeks by
/// default): `frequency` = repeat purchase days (distinct days − 1),
/// `recency` = first to last purchase, `t` = first purchase to the end of
/// the observation window, `monetary` = mean value of the repeat purchase
/// days (0 without repeats, as in the Gamma-Gamma literature).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub frequency: f64,
    pub recency: f64,
    pub t: f64,
    pub monetary: f64,
}

/// Summarises purchases up to and including `end_day` per customer. Several
/// purchases on one day count as one transaction (their amounts add up).
/// Purchases after `end_day` are ignored. Customers come back sorted by id.
pub fn summarize(purchases: &[Purchase], end_day: i64, period_days: f64) -> Vec<(String, Summary)> {
    let mut days: HashMap<&str, std::collections::BTreeMap<i64, f64>> = HashMap::new();
    for p in purchases.iter().filter(|p| p.day <= end_day) {
        *days
            .entry(p.customer.as_str())
            .or_default()
            .entry(p.day)
            .or_insert(0.0) += p.amount;
    }
    let mut out: Vec<(String, Summary)> = days
        .into_iter()
        .map(|(customer, by_day)| {
            let first = *by_day.keys().next().expect("non-empty");
            let last = *by_day.keys().next_back().expect("non-empty");
            let repeats: Vec<f64> = by_day.values().skip(1).copied().collect();
            let monetary = if repeats.is_empty() {
                0.0
            } else {
                repeats.iter().sum::<f64>() / repeats.len() as f64
            };
            (
                customer.to_string(),
                Summary {
                    frequency: (by_day.len() - 1) as f64,
                    recency: (last - first) as f64 / period_days,
                    t: (end_day - first) as f64 / period_days,
                    monetary,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Fitted BG/NBD parameters: purchase rates ~ Gamma(r, α), dropout
/// probability after each purchase ~ Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// Distinct (x, tₓ, T) triples with their counts: the likelihood is evaluated
/// once per triple.
fn group(summaries: &[Summary]) -> Vec<(Summary, f64)> {
    let mut map: HashMap<(u64, u64, u64), (Summary, f64)> = HashMap::new();
    for s in summaries {
        let key = (s.frequency.to_bits(), s.recency.to_bits(), s.t.to_bits());
        map.entry(key).or_insert((*s, 0.0)).1 += 1.0;
    }
    let mut v: Vec<_> = map.into_values().collect();
    v.sort_by(|a, b| {
        (a.0.frequency, a.0.recency, a.0.t)
            .partial_cmp(&(b.0.frequency, b.0.recency, b.0.t))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    v
}

fn check_summaries(summaries: &[Summary]) -> Result<()> {
    if summaries.is_empty() {
        return Err(Error::InsufficientData("no customers".into()));
    }
    for s in summaries {
        let ok = s.frequency >= 0.0
            && s.frequency.fract() == 0.0
            && s.recency >= 0.0
            && s.t >= s.recency
            && s.t.is_finite()
            && (s.frequency > 0.0 || s.recency == 0.0);
        if !ok {
            return Err(Error::Invalid(format!(
                "inconsistent customer summary {s:?}"
            )));
        }
    }
    Ok(())
}

impl BgNbd {
    /// Log-likelihood of one customer (FHL 2005, eq. 6).
    pub fn customer_log_likelihood(&self, s: &Summary) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_beta(a, b + x) - ln_beta(a, b);
        let a3 = -(r + x) * (alpha + s.t).ln();
        let a4 = if x > 0.0 {
            a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + s.recency).ln()
        } else {
            f64::NEG_INFINITY
        };
        a1 + a2 + log_add_exp(a3, a4)
    }

    /// Total log-likelihood of a customer base.
    pub fn log_likelihood(&self, summaries: &[Summary]) -> f64 {
        summaries
            .iter()
            .map(|s| self.customer_log_likelihood(s))
            .sum()
    }

    /// Maximum-likelihood fit. Errors on an empty or inconsistent base.
    pub fn fit(summaries: &[Summary]) -> Result<BgNbd> {
        check_summaries(summaries)?;
        let groups = group(summaries);
        let n = summaries.len() as f64;
        let objective = |p: &[f64]| {
            let m = BgNbd {
                r: p[0].exp(),
                alpha: p[1].exp(),
                a: p[2].exp(),
                b: p[3].exp(),
            };
            -groups
                .iter()
                .map(|(s, count)| count * m.customer_log_likelihood(s))
                .sum::<f64>()
                / n
        };
        let min = nelder_mead(objective, &[0.0; 4], &NelderMead::default());
        let m = BgNbd {
            r: min.x[0].exp(),
            alpha: min.x[1].exp(),
            a: min.x[2].exp(),
            b: min.x[3].exp(),
        };
        if !min.value.is_finite() {
            return Err(Error::InsufficientData(
                "likelihood did not converge".into(),
            ));
        }
        Ok(m)
    }

    /// Probability that the customer is still active at the end of the window.
    pub fn p_alive(&self, s: &Summary) -> f64 {
        if s.frequency == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        let log_ratio = (a.ln() - (b + x - 1.0).ln())
            + (r + x) * ((alpha + s.t).ln() - (alpha + s.recency).ln());
        1.0 / (1.0 + log_ratio.exp())
    }

    /// Expected number of purchases in the next `periods`, given the history
    /// (FHL 2005, eq. 10). Needs a > 1 for a finite mean.
    pub fn expected_purchases(&self, s: &Summary, periods: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        let z = periods / (alpha + s.t + periods);
        let f21 = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let head = (a + b + x - 1.0) / (a - 1.0);
        let body = 1.0 - ((alpha + s.t) / (alpha + s.t + periods)).powf(r + x) * f21;
        let tail = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + s.t) / (alpha + s.recency)).powf(r + x)
        } else {
            1.0
        };
        head * body / tail
    }

    /// Probability of no purchase at all in the next `periods`, given the
    /// history: the customer has dropped out, or is active and its purchase
    /// rate (posterior Gamma(r + x, α + T) while active) yields none. While
    /// active a customer can only drop out right after a purchase, so
    /// P(none | active, λ) = e^(−λt) exactly.
    pub fn p_no_purchase(&self, s: &Summary, periods: f64) -> f64 {
        let alive = self.p_alive(s);
        let none_if_alive =
            ((self.alpha + s.t) / (self.alpha + s.t + periods)).powf(self.r + s.frequency);
        ((1.0 - alive) + alive * none_if_alive).clamp(0.0, 1.0)
    }

    /// Expected purchases of a newly acquired customer in `periods` (eq. 7).
    pub fn expected_purchases_new(&self, periods: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let z = periods / (alpha + periods);
        (a + b - 1.0) / (a - 1.0)
            * (1.0 - (alpha / (alpha + periods)).powf(r) * hyp2f1(r, b, a + b - 1.0, z))
    }
}

/// Fitted Gamma-Gamma spend parameters: spend per transaction ~ Gamma(p, ν),
/// ν ~ Gamma(q, γ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl GammaGamma {
    /// Log-likelihood of one customer's mean spend `m` over `x` transactions.
    pub fn customer_log_likelihood(&self, x: f64, m: f64) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
            + q * gamma.ln()
            + (p * x - 1.0) * m.ln()
            + (p * x) * x.ln()
            - (p * x + q) * (gamma + m * x).ln()
    }

    /// Fits on customers with at least one repeat purchase and positive mean
    /// spend (the others carry no spend information).
    pub fn fit(summaries: &[Summary]) -> Result<GammaGamma> {
        let data: Vec<(f64, f64)> = summaries
            .iter()
            .filter(|s| s.frequency > 0.0 && s.monetary > 0.0)
            .map(|s| (s.frequency, s.monetary))
            .collect();
        if data.len() < 2 {
            return Err(Error::InsufficientData(
                "Gamma-Gamma needs at least two repeat customers with positive spend".into(),
            ));
        }
        let n = data.len() as f64;
        let objective = |v: &[f64]| {
            let m = GammaGamma {
                p: v[0].exp(),
                q: v[1].exp(),
                gamma: v[2].exp(),
            };
            -data
                .iter()
                .map(|&(x, mv)| m.customer_log_likelihood(x, mv))
                .sum::<f64>()
                / n
        };
        let min = nelder_mead(objective, &[0.0; 3], &NelderMead::default());
        Ok(GammaGamma {
            p: min.x[0].exp(),
            q: min.x[1].exp(),
            gamma: min.x[2].exp(),
        })
    }

    /// Expected mean spend per transaction given the history (needs q > 1).
    pub fn expected_spend(&self, s: &Summary) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        let x = s.frequency;
        let population = p * gamma / (q - 1.0);
        if x == 0.0 {
            return population;
        }
        let w = (q - 1.0) / (p * x + q - 1.0);
        w * population + (1.0 - w) * s.monetary
    }
}

/// Lifetime value over `periods` (undiscounted): expected purchases × expected spend.
pub fn lifetime_value(bg: &BgNbd, gg: &GammaGamma, s: &Summary, periods: f64) -> f64 {
    bg.expected_purchases(s, periods) * gg.expected_spend(s)
}

/// Reads purchases from a CSV with a customer column (`customer_id`, or
/// `master_customer_id` in the CDNOW sample layout), a `date` column
/// (`YYYYMMDD` or `YYYY-MM-DD`) and a `dollar_value` (or `amount`) column.
pub fn load_purchases(path: &Path) -> Result<Vec<Purchase>> {
    let csv = Csv::read(path)?;
    let customer = csv.column(&["customer_id", "master_customer_id", "customer"])?;
    let date = csv.column(&["date", "day"])?;
    let amount = csv.column(&["dollar_value", "amount", "value"])?;
    let mut out = Vec::with_capacity(csv.rows.len());
    for r in 0..csv.rows.len() {
        let id = csv.text(r, customer);
        if id.is_empty() {
            return Err(csv.error(r, "empty customer id"));
        }
        let amount = csv.float(r, amount)?;
        if amount < 0.0 {
            return Err(csv.error(r, "negative purchase amount"));
        }
        out.push(Purchase {
            customer: id.to_string(),
            day: parse_day(csv.text(r, date)).map_err(|e| csv.error(r, e.to_string()))?,
            amount,
        });
    }
    if out.is_empty() {
        return Err(Error::InsufficientData(format!(
            "{} holds no purchases",
            path.display()
        )));
    }
    Ok(out)
}

/// Predicted versus actual repeat purchases in a holdout window.
#[derive(Debug, Clone, Serialize)]
pub struct HoldoutReport {
    /// Customers of the calibration period.
    pub n: usize,
    pub holdout_periods: f64,
    pub predicted_total: f64,
    pub actual_total: f64,
    /// Mean absolute error per customer.
    pub mae: f64,
    pub rmse: f64,
    /// Correlation of predicted and actual counts over customers.
    pub correlation: f64,
}

/// Compares conditional expectations with the purchases each calibration
/// customer made on distinct days in `(calibration_end, holdout_end]`.
pub fn holdout_report(
    model: &BgNbd,
    calibration: &[(String, Summary)],
    holdout: &[Purchase],
    calibration_end: i64,
    holdout_end: i64,
    period_days: f64,
) -> HoldoutReport {
    let mut days: HashMap<&str, std::collections::BTreeSet<i64>> = HashMap::new();
    for p in holdout
        .iter()
        .filter(|p| p.day > calibration_end && p.day <= holdout_end)
    {
        days.entry(p.customer.as_str()).or_default().insert(p.day);
    }
    let periods = (holdout_end - calibration_end) as f64 / period_days;
    let pairs: Vec<(f64, f64)> = calibration
        .iter()
        .map(|(c, s)| {
            (
                model.expected_purchases(s, periods),
                days.get(c.as_str()).map_or(0, |d| d.len()) as f64,
            )
        })
        .collect();
    let n = pairs.len() as f64;
    let predicted_total: f64 = pairs.iter().map(|p| p.0).sum();
    let actual_total: f64 = pairs.iter().map(|p| p.1).sum();
    let (mp, ma) = (predicted_total / n, actual_total / n);
    let cov: f64 = pairs.iter().map(|p| (p.0 - mp) * (p.1 - ma)).sum();
    let vp: f64 = pairs.iter().map(|p| (p.0 - mp).powi(2)).sum();
    let va: f64 = pairs.iter().map(|p| (p.1 - ma).powi(2)).sum();
    HoldoutReport {
        n: pairs.len(),
        holdout_periods: periods,
        predicted_total,
        actual_total,
        mae: pairs.iter().map(|p| (p.0 - p.1).abs()).sum::<f64>() / n,
        rmse: (pairs.iter().map(|p| (p.0 - p.1).powi(2)).sum::<f64>() / n).sqrt(),
        correlation: if vp > 0.0 && va > 0.0 {
            cov / (vp * va).sqrt()
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn gamma_sample(rng: &mut StdRng, shape: f64, rate: f64) -> f64 {
        // Marsaglia–Tsang, with the shape < 1 boost.
        if shape < 1.0 {
            let u: f64 = rng.r#gen::<f64>().max(1e-300);
            return gamma_sample(rng, shape + 1.0, rate) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let (x, v) = loop {
                let u1: f64 = rng.r#gen::<f64>().max(1e-300);
                let u2: f64 = rng.r#gen();
                let x = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                let v = (1.0 + c * x).powi(3);
                if v > 0.0 {
                    break (x, v);
                }
            };
            let u: f64 = rng.r#gen();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v / rate;
            }
        }
    }

    /// Simulates the BG/NBD story for `n` customers observed `t` periods.
    fn simulate(truth: &BgNbd, n: usize, t: f64, seed: u64) -> Vec<Summary> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let lambda = gamma_sample(&mut rng, truth.r, truth.alpha);
                let ga = gamma_sample(&mut rng, truth.a, 1.0);
                let gb = gamma_sample(&mut rng, truth.b, 1.0);
                let p = ga / (ga + gb);
                let (mut now, mut x, mut last) = (0.0, 0.0, 0.0);
                loop {
                    let u: f64 = rng.r#gen::<f64>().max(1e-300);
                    now += -u.ln() / lambda;
                    if now > t {
                        break;
                    }
                    x += 1.0;
                    last = now;
                    if rng.r#gen::<f64>() < p {
                        break;
                    }
                }
                Summary {
                    frequency: x,
                    recency: last,
                    t,
                    monetary: 0.0,
                }
            })
            .collect()
    }

    #[test]
    fn bg_nbd_recovers_simulated_parameters() {
        let truth = BgNbd {
            r: 0.5,
            alpha: 5.0,
            a: 0.8,
            b: 2.5,
        };
        let data = simulate(&truth, 20_000, 40.0, 7);
        let fit = BgNbd::fit(&data).unwrap();
        assert!((fit.r - truth.r).abs() / truth.r < 0.15, "{fit:?}");
        assert!(
            (fit.alpha - truth.alpha).abs() / truth.alpha < 0.2,
            "{fit:?}"
        );
        // The fit must beat the truth's likelihood on its own data (it is the maximum).
        assert!(fit.log_likelihood(&data) >= truth.log_likelihood(&data) - 1e-6);
    }

    #[test]
    fn p_alive_falls_with_a_long_silence() {
        let m = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let recent = Summary {
            frequency: 5.0,
            recency: 38.0,
            t: 39.0,
            monetary: 0.0,
        };
        let silent = Summary {
            frequency: 5.0,
            recency: 5.0,
            t: 39.0,
            monetary: 0.0,
        };
        assert!(m.p_alive(&recent) > 0.85);
        assert!(m.p_alive(&silent) < 0.2);
        assert_eq!(
            m.p_alive(&Summary {
                frequency: 0.0,
                recency: 0.0,
                t: 10.0,
                monetary: 0.0
            }),
            1.0
        );
        assert!(m.expected_purchases(&recent, 39.0) > m.expected_purchases(&silent, 39.0));
    }

    #[test]
    fn expected_purchases_of_a_new_customer_match_the_conditional_formula_at_zero() {
        // A customer with no purchases observed for T = 0 is a new customer.
        let m = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let s = Summary {
            frequency: 0.0,
            recency: 0.0,
            t: 0.0,
            monetary: 0.0,
        };
        let a = m.expected_purchases(&s, 39.0);
        let b = m.expected_purchases_new(39.0);
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    #[test]
    fn fit_rejects_inconsistent_summaries() {
        let bad = [Summary {
            frequency: 2.0,
            recency: 10.0,
            t: 5.0,
            monetary: 0.0,
        }];
        assert!(matches!(BgNbd::fit(&bad), Err(Error::Invalid(_))));
        assert!(matches!(BgNbd::fit(&[]), Err(Error::InsufficientData(_))));
    }

    #[test]
    fn gamma_gamma_recovers_simulated_spend() {
        let truth = GammaGamma {
            p: 6.0,
            q: 4.0,
            gamma: 15.0,
        };
        let mut rng = StdRng::seed_from_u64(3);
        let data: Vec<Summary> = (0..5000)
            .map(|i| {
                let nu = gamma_sample(&mut rng, truth.q, truth.gamma);
                let x = 1 + i % 6;
                let total: f64 = (0..x).map(|_| gamma_sample(&mut rng, truth.p, nu)).sum();
                Summary {
                    frequency: x as f64,
                    recency: 1.0,
                    t: 2.0,
                    monetary: total / x as f64,
                }
            })
            .collect();
        let fit = GammaGamma::fit(&data).unwrap();
        assert!((fit.p - truth.p).abs() / truth.p < 0.15, "{fit:?}");
        assert!((fit.q - truth.q).abs() / truth.q < 0.2, "{fit:?}");
        // Shrinkage: a customer's expected spend lies between their mean and the population mean.
        let population = fit.p * fit.gamma / (fit.q - 1.0);
        let s = Summary {
            frequency: 2.0,
            recency: 1.0,
            t: 2.0,
            monetary: 3.0 * population,
        };
        let e = fit.expected_spend(&s);
        assert!(e > population && e < 3.0 * population);
    }

    #[test]
    fn summarize_counts_distinct_days_and_repeat_spend() {
        let p = |c: &str, day, amount| Purchase {
            customer: c.into(),
            day,
            amount,
        };
        let data = vec![
            p("a", 0, 10.0),
            p("a", 0, 5.0),
            p("a", 7, 20.0),
            p("a", 14, 40.0),
            p("b", 21, 9.0),
            p("a", 30, 1.0),
        ];
        let s = summarize(&data, 28, 7.0);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].1,
            Summary {
                frequency: 2.0,
                recency: 2.0,
                t: 4.0,
                monetary: 30.0
            }
        );
        assert_eq!(
            s[1].1,
            Summary {
                frequency: 0.0,
                recency: 0.0,
                t: 1.0,
                monetary: 0.0
            }
        );
    }
}
