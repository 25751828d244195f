//! The single-product setting of Ferreira, Simchi-Levi & Wang (2018) with
//! the figures a replication on this machine gave (500 trials, alpha = 0.25,
//! T = 1000): TS-update 99.3% of the LP bound, TS-fixed 96.4%, inventory-
//! ignorant TS 76.9%. We run 200 seeds and allow about three standard errors.

use hc_pricing::sim;

fn share(scenario: &str, policy: &str, horizon: usize, seeds: u64) -> sim::PolicyReport {
    let market = sim::scenario(scenario, horizon).unwrap();
    sim::evaluate(&market, policy, seeds, None).unwrap()
}

#[test]
fn ts_update_reaches_the_published_share_of_the_lp_bound() {
    let r = share("ferreira-single-0.25", "ts_update", 1000, 200);
    assert!((r.share - 0.993).abs() < 0.006, "{r:?}");
}

#[test]
fn ts_fixed_matches_its_anchor() {
    let r = share("ferreira-single-0.25", "ts_fixed", 1000, 200);
    assert!((r.share - 0.964).abs() < 0.015, "{r:?}");
}

#[test]
fn inventory_blind_ts_sells_out_early_as_published() {
    let r = share("ferreira-single-0.25", "ts", 1000, 200);
    assert!((r.share - 0.769).abs() < 0.015, "{r:?}");
}

#[test]
fn the_lp_bound_of_the_single_product_setting_is_exact() {
    let market = sim::scenario("ferreira-single-0.25", 1000).unwrap();
    let bound = market.lp_bound().unwrap();
    // 0.75 · 39.9 · 0.3 + 0.25 · 44.9 · 0.1 per period.
    assert!((bound - 1000.0 * (0.75 * 11.97 + 0.25 * 4.49)).abs() < 1e-6);
}

#[test]
fn runs_are_deterministic_in_their_seed() {
    let market = sim::scenario("competitor", 500).unwrap();
    for name in sim::POLICIES {
        let mut a = sim::policy(name, &market.problem).unwrap();
        let mut b = sim::policy(name, &market.problem).unwrap();
        assert_eq!(
            sim::simulate(&market, a.as_mut(), 42),
            sim::simulate(&market, b.as_mut(), 42),
            "{name}"
        );
    }
}
