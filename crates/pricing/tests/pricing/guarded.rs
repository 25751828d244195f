//! No policy can show a price that breaks a rule: every offer of every
//! policy, traced through the simulator with random rules, is checked against
//! the rules independently of the guardrail code.

use hc_domain::Money;
use hc_pricing::guardrails::Rules;
use hc_pricing::policy::Action;
use hc_pricing::sim;
use proptest::prelude::*;

fn check(market: &sim::Market, rules: &Rules, stats: &sim::RunStats) -> Result<(), String> {
    let p = &market.problem;
    for (t, (action, situations)) in stats.trace.iter().enumerate() {
        let Action::Offer(k) = action else { continue };
        let price = p.prices[*k][0] * 100.0;
        let s = &situations[0];
        let fail = |what: &str| Err(format!("period {t}: {what} at {price} ({s:?})"));
        if rules
            .min_price
            .is_some_and(|m| price < m.cents() as f64 - 0.5)
        {
            return fail("below min_price");
        }
        if rules
            .max_price
            .is_some_and(|m| price > m.cents() as f64 + 0.5)
        {
            return fail("above max_price");
        }
        if let (Some(x), Some(c)) = (rules.competitor_max_above, s.lowest_competitor)
            && price > c.cents() as f64 * (1.0 + x) + 0.5
        {
            return fail("too far above the competitor");
        }
        if let (Some(x), Some(c)) = (rules.max_change_step, s.current)
            && (price - c.cents() as f64).abs() > c.cents() as f64 * x + 0.5
        {
            return fail("step change too large");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn no_policy_shows_a_price_outside_the_rules(
        min in 1500i64..3500, width in 0i64..3000, step in 0.05f64..0.6,
        comp in prop::option::of(0.0f64..0.3), seed in 0u64..1000,
    ) {
        let market = sim::scenario("competitor", 300).unwrap();
        let rules = Rules {
            min_price: Some(Money::from_cents(min)),
            max_price: Some(Money::from_cents(min + width)),
            max_change_step: Some(step),
            competitor_max_above: comp,
            ..Rules::default()
        };
        for name in sim::POLICIES {
            let mut policy = sim::policy(name, &market.problem).unwrap();
            let options = sim::Options { guard: Some(vec![rules.clone()]), trace: true };
            let stats = sim::simulate_with(&market, policy.as_mut(), seed, &options);
            if let Err(e) = check(&market, &rules, &stats) {
                return Err(TestCaseError::fail(format!("{name}: {e}")));
            }
        }
    }
}
