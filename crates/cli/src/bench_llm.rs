//! The LLM brain's engine overhead: full turns (NLU, policy gate, three
//! model calls with two tool calls against the store, durable turn storage)
//! against a local fake provider speaking the OpenAI wire format, minus the
//! time spent waiting for the provider, measured inside the same turn.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use hc_agent::llm::fake::{FakeLlm, FakeReply, Received};
use hc_agent::llm::{Llm, LlmConfig, ProviderKind};
use hc_agent::{Agent, Brain, BrainMode, Voice};
use hc_commerce::ports::{CustomerStore, OrderFilter, OrderStore};
use hc_commerce::{PageRequest, Retail, RetailPolicy, Tools};
use hc_domain::{Channel, TenantId};
use hc_store::SqlStore;
use serde_json::{Value, json};

/// A model that identifies by the email in the message, reads the order it
/// names, then answers with the order's status.
fn script(r: &Received) -> FakeReply {
    let text = r.last_user_text();
    let word = |prefix: &str| {
        text.split_whitespace()
            .find(|w| w.starts_with(prefix) || w.contains('@') && prefix == "@")
            .unwrap_or_default()
            .to_string()
    };
    match r.tool_results().len() {
        0 => FakeReply::tool("find_user_id_by_email", json!({"email": word("@")})),
        1 => FakeReply::tool("get_order_details", json!({"order_id": word("#W")})),
        _ => FakeReply::text("Your order is on its way; the tracking number is in your email."),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs `turns` LLM turns one after another and reports the engine's own time per turn.
pub async fn llm_overhead(store: &SqlStore, tenant: &TenantId, seconds: u64) -> Result<Value> {
    let fake = FakeLlm::start(ProviderKind::Openai, script).await?;
    let config = LlmConfig {
        base_url: fake.base_url.clone(),
        model: "bench".into(),
        ..LlmConfig::default()
    };
    let tools = Tools::new(Retail::new(
        Arc::new(store.clone()),
        RetailPolicy::default(),
    ));
    let agent = Agent::new(
        tools,
        Arc::new(store.clone()),
        hc_agent::nlu::Nlu::builtin(),
        Voice::default(),
    )
    .with_brain(Brain::with_llm(BrainMode::Llm, Llm::new(config)));
    let all = PageRequest::new(None, Some(PageRequest::MAX_LIMIT));
    let orders = store
        .list_orders(tenant, &OrderFilter::default(), &all)
        .await?
        .items;
    let mut prompts = Vec::new();
    for o in orders.iter().take(200) {
        if let Some(c) = store.customer(tenant, &o.user_id).await? {
            prompts.push(format!(
                "hi, {} here: where is order {}?",
                c.email, o.order_id
            ));
        }
    }
    anyhow::ensure!(!prompts.is_empty(), "the demo store has no orders");
    let (mut total_ms, mut overhead_ms, mut provider_ms) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(seconds.max(1));
    let mut i = 0;
    while Instant::now() < deadline || i < 20 {
        let c = agent.start(tenant, Channel::Chat).await?;
        let started = Instant::now();
        let turn = agent
            .handle(tenant, &c.id, &prompts[i % prompts.len()])
            .await?;
        let total = started.elapsed().as_secs_f64() * 1e3;
        let usage = turn.reply.usage.unwrap_or_default();
        anyhow::ensure!(
            turn.reply.brain.as_deref() == Some("llm") && usage.calls == 3,
            "the bench turn did not run through the model: {:?}",
            turn.reply.text
        );
        let provider = usage.provider_micros as f64 / 1e3;
        total_ms.push(total);
        provider_ms.push(provider);
        overhead_ms.push(total - provider);
        i += 1;
    }
    for v in [&mut total_ms, &mut overhead_ms, &mut provider_ms] {
        v.sort_by(f64::total_cmp);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    eprintln!(
        "{:<30} {i} turns of 3 model calls: engine overhead p50 {:.2} ms  p99 {:.2} ms (turn p50 {:.2} ms, provider p50 {:.2} ms)",
        "llm_turn (in-process)",
        percentile(&overhead_ms, 0.5),
        percentile(&overhead_ms, 0.99),
        percentile(&total_ms, 0.5),
        percentile(&provider_ms, 0.5),
    );
    Ok(json!({
        "turns": i, "model_calls_per_turn": 3,
        "overhead_ms": {"mean": r(mean(&overhead_ms)), "p50": r(percentile(&overhead_ms, 0.5)), "p99": r(percentile(&overhead_ms, 0.99))},
        "turn_ms": {"p50": r(percentile(&total_ms, 0.5)), "p99": r(percentile(&total_ms, 0.99))},
        "provider_ms": {"p50": r(percentile(&provider_ms, 0.5)), "p99": r(percentile(&provider_ms, 0.99))},
    }))
}
