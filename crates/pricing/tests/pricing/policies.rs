//! Policy sanity on scenarios whose answer is known.

use hc_pricing::demand::{BetaBernoulli, CategoryPrior, Context};
use hc_pricing::policy::{Action, Policy, Posterior, Problem, State, Thompson};
use hc_pricing::sim;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Runs a policy on a single-product table scenario, returning revenue and
/// the arms chosen.
fn run(policy: &mut dyn Policy, problem: &Problem, probs: &[f64], seed: u64) -> (f64, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let remaining = vec![f64::INFINITY];
    let mut revenue = 0.0;
    let mut arms = Vec::new();
    for t in 0..problem.horizon {
        let state = State {
            t,
            remaining: &remaining,
            context: Context::default(),
            allowed: None,
        };
        let Action::Offer(k) = policy.choose(problem, &state, &mut rng) else {
            panic!("no shut-off without stock limits");
        };
        let sold = if rng.r#gen::<f64>() < probs[k] {
            1.0
        } else {
            0.0
        };
        revenue += sold * problem.prices[k][0];
        policy.observe(problem, &state, k, &[sold]);
        arms.push(k);
    }
    (revenue, arms)
}

#[test]
fn thompson_sampling_converges_to_the_best_price() {
    // Expected revenue per shopper: 9, 12, 20, 8: the third price is best.
    let problem = Problem::single(&[10.0, 20.0, 40.0, 80.0], None, 3000);
    let probs = [0.9, 0.6, 0.5, 0.1];
    let mut ts = Thompson::new("ts", Posterior::beta(&problem));
    let (_, arms) = run(&mut ts, &problem, &probs, 1);
    let late = &arms[2500..];
    let best = late.iter().filter(|&&k| k == 2).count() as f64 / late.len() as f64;
    assert!(best > 0.95, "best arm share {best}");
}

#[test]
fn a_category_prior_earns_more_on_a_cold_start() {
    let grid = [10.0, 20.0, 40.0, 80.0];
    let probs = [0.9, 0.6, 0.5, 0.1];
    // Two siblings that sold at the same curve.
    let mut rng = StdRng::seed_from_u64(3);
    let siblings: Vec<Vec<BetaBernoulli>> = (0..2)
        .map(|_| {
            probs
                .iter()
                .map(|&p| {
                    let mut b = BetaBernoulli::default();
                    let n = 60;
                    let s = (0..n).filter(|_| rng.r#gen::<f64>() < p).count();
                    b.update(s as f64, n as f64);
                    b
                })
                .collect()
        })
        .collect();
    let prior = CategoryPrior::from_siblings(&siblings, 30.0).unwrap();
    let problem = Problem::single(&grid, None, 100);
    let (mut flat, mut informed) = (0.0, 0.0);
    for seed in 0..200 {
        let mut a = Thompson::new("flat", Posterior::beta(&problem));
        let mut b = Thompson::new("cat", Posterior::beta_with_priors(prior.priors()));
        flat += run(&mut a, &problem, &probs, seed).0;
        informed += run(&mut b, &problem, &probs, seed).0;
    }
    assert!(informed > flat * 1.05, "informed {informed} vs flat {flat}");
}

#[test]
fn inventory_aware_policies_beat_inventory_blind_ones_on_the_network() {
    let market = sim::scenario("ferreira-network", 1000).unwrap();
    let update = sim::evaluate(&market, "ts_update", 30, None).unwrap();
    let blind = sim::evaluate(&market, "ts", 30, None).unwrap();
    assert!(update.share > 0.96, "{update:?}");
    assert!(update.share > blind.share + 0.1, "{update:?} vs {blind:?}");
}

#[test]
fn the_contextual_model_tracks_the_season() {
    let market = sim::scenario("seasonal", 1000).unwrap();
    let ctx = sim::evaluate(&market, "ts_contextual", 30, None).unwrap();
    let plain = sim::evaluate(&market, "ts", 30, None).unwrap();
    assert!(ctx.share > plain.share + 0.02, "{ctx:?} vs {plain:?}");
}

#[test]
fn every_policy_beats_a_fixed_bad_price_on_the_logit_curve() {
    let market = sim::scenario("logit", 1000).unwrap();
    let fixed = sim::evaluate(&market, "fixed", 20, None).unwrap();
    for name in sim::POLICIES.iter().filter(|n| **n != "fixed") {
        let r = sim::evaluate(&market, name, 20, None).unwrap();
        assert!(r.share > fixed.share, "{name}: {r:?} vs {fixed:?}");
        assert!(
            r.share <= 1.05,
            "{name} cannot beat the clairvoyant by much: {r:?}"
        );
    }
}

#[test]
fn learning_policies_choose_only_among_the_arms_the_rules_allow() {
    let market = sim::scenario("ferreira-single-0.5", 200).unwrap();
    let problem = &market.problem;
    let mask = [false, true, false, true];
    let remaining = problem.inventory.clone();
    let mut rng = StdRng::seed_from_u64(11);
    for name in sim::POLICIES.iter().filter(|n| **n != "fixed") {
        let mut policy = sim::policy(name, problem).unwrap();
        for t in 0..200 {
            let state = State {
                t,
                remaining: &remaining,
                context: Context::default(),
                allowed: Some(&mask),
            };
            match policy.choose(problem, &state, &mut rng) {
                Action::Offer(k) => {
                    assert!(mask[k], "{name} offered disallowed arm {k}");
                    let sold = if rng.r#gen::<f64>() < 0.5 { 1.0 } else { 0.0 };
                    policy.observe(problem, &state, k, &[sold]);
                }
                Action::ShutOff => {}
            }
        }
    }
}
