//! Speed of the engine's hot paths (issue #5 targets: a quote p99 < 50 µs,
//! learning ≥ 100,000 events/s, repricing 100,000 items < 2 s). Ignored by
//! default; run with
//! `cargo test -p hc-pricing --test pricing speed -- --ignored --nocapture`.

use std::time::Instant;

use hc_domain::Money;
use hc_pricing::demand::Context;
use hc_pricing::guardrails::{Rules, Situation};
use hc_pricing::learn::{DemandBook, Observation};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
#[ignore]
fn speed_of_quotes_learning_and_repricing() {
    let mut rng = StdRng::seed_from_u64(1);
    let items = 100_000;
    let mut book = DemandBook::default();
    for i in 0..items {
        book.register(&format!("item-{i}"), 40.0, Some(["a", "b", "c"][i % 3]))
            .unwrap();
    }
    let events: Vec<Observation> = (0..400_000)
        .map(|n| Observation {
            item: format!("item-{}", n % items),
            price_shown: 30.0 + 20.0 * rng.r#gen::<f64>(),
            purchased: rng.r#gen::<f64>() < 0.3,
            quantity: 1,
            context: Context {
                day_of_week: (n % 7) as u8,
                inventory_level: 0.5,
                ..Context::default()
            },
            at: n as i64,
        })
        .collect();
    let start = Instant::now();
    for e in &events {
        book.observe(e).unwrap();
    }
    let learn_rate = events.len() as f64 / start.elapsed().as_secs_f64();

    let rules = Rules {
        cost: Some(Money::from_cents(2_000)),
        min_margin: 0.2,
        max_change_step: Some(0.1),
        ending_cents: Some(99),
        ..Rules::default()
    };
    let situation = Situation {
        current: Some(Money::from_cents(3_999)),
        ..Situation::default()
    };
    let grid: Vec<f64> = (0..10).map(|k| 30.0 + 2.5 * k as f64).collect();
    let ctx = Context::default();
    let mut latencies = Vec::with_capacity(items);
    let start = Instant::now();
    for i in 0..items {
        let t = Instant::now();
        let q = book
            .quote(
                &format!("item-{i}"),
                &grid,
                &ctx,
                &rules,
                &situation,
                &mut rng,
            )
            .unwrap();
        latencies.push(t.elapsed().as_nanos() as f64 / 1000.0);
        assert!(q.guarded.price.cents() >= 2_400);
    }
    let reprice = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "learning: {learn_rate:.0} events/s; quote p50 {:.1} µs, p99 {:.1} µs; repricing {items} items: {reprice:.2} s",
        pct(0.5),
        pct(0.99)
    );
}
