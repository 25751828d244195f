//! `hypercommerce eval pricing`: every pricing policy in a simulated market
//! with a known demand model, as a share of the LP upper bound (stock-limited
//! scenarios) or of the clairvoyant (the others), printed as JSON.

use anyhow::{Result, bail};
use hc_pricing::sim;
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct PricingArgs {
    /// Scenario name, or `all` (linear, logit, exponential, seasonal,
    /// competitor, ferreira-single-0.25, ferreira-single-0.5, ferreira-network).
    #[arg(long, default_value = "all")]
    pub scenario: String,
    /// Periods per season (one arriving shopper each).
    #[arg(long, default_value_t = 1000)]
    pub horizon: usize,
    /// Seasons per policy (seeds 0..N).
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// Comma-separated policies (default: all).
    #[arg(long, value_delimiter = ',')]
    pub policies: Vec<String>,
    /// Run without the default guardrails (see docs/PRICING.md).
    #[arg(long)]
    pub no_guardrails: bool,
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

pub fn pricing(args: &PricingArgs) -> Result<()> {
    if args.horizon == 0 || args.seeds == 0 {
        bail!("--horizon and --seeds must be positive");
    }
    let scenarios: Vec<&str> = if args.scenario == "all" {
        sim::SCENARIOS.to_vec()
    } else if sim::SCENARIOS.contains(&args.scenario.as_str()) {
        vec![args.scenario.as_str()]
    } else {
        bail!(
            "unknown scenario {:?}; known: {}",
            args.scenario,
            sim::SCENARIOS.join(", ")
        );
    };
    let policies: Vec<&str> = if args.policies.is_empty() {
        sim::POLICIES.to_vec()
    } else {
        for p in &args.policies {
            if !sim::POLICIES.contains(&p.as_str()) {
                bail!("unknown policy {p:?}; known: {}", sim::POLICIES.join(", "));
            }
        }
        args.policies.iter().map(String::as_str).collect()
    };
    let mut reports = Vec::new();
    let mut totals = vec![0.0; policies.len()];
    for name in &scenarios {
        let market = sim::scenario(name, args.horizon).expect("listed scenario");
        let guard = (!args.no_guardrails).then(|| sim::default_guard(&market));
        let mut rows = Vec::new();
        for (i, policy) in policies.iter().enumerate() {
            let r = sim::evaluate(&market, policy, args.seeds, guard.as_deref())
                .expect("listed policy");
            totals[i] += r.share;
            rows.push(json!({
                "policy": r.policy,
                "share": round(r.share),
                "share_se": round(r.share_se),
                "regret": round(r.regret),
                "revenue": round(r.revenue),
                "price_changes": round(r.price_changes),
                "guardrail_overrides": round(r.guarded),
            }));
        }
        let best = rows
            .iter()
            .max_by(|a, b| {
                let share = |r: &Value| r["share"].as_f64().unwrap_or(0.0);
                share(a).total_cmp(&share(b))
            })
            .map(|r| r["policy"].clone())
            .unwrap_or(Value::Null);
        reports.push(json!({
            "scenario": name,
            "yardstick": if market.lp_bound().is_some() { "lp_bound" } else { "clairvoyant" },
            "best": best,
            "policies": rows,
        }));
    }
    let (default_index, _) = totals
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("at least one policy");
    let out = json!({
        "horizon": args.horizon,
        "seeds": args.seeds,
        "guardrails": !args.no_guardrails,
        "scenarios": reports,
        "mean_share": policies.iter().zip(&totals)
            .map(|(p, t)| (p.to_string(), json!(round(t / scenarios.len() as f64))))
            .collect::<serde_json::Map<String, Value>>(),
        "default_policy": policies[default_index],
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
