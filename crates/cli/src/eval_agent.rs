//! `hypercommerce eval agent`: scripted multi-turn conversations, each
//! against a fresh SQLite copy of a τ-retail database, judged by the final
//! store state and the replies. Prints JSON with the pass rate per category
//! and every failure with its reason and transcript.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use hc_agent::{Agent, Voice};
use hc_commerce::{Retail, RetailPolicy, Tools};
use hc_domain::{Channel, RetailDb, Tenant, TenantId};
use hc_store::{SqlStore, StoreConfig, TenantStore};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::settings::sqlite_url;

#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    /// Scenario file (JSON: `{"scenarios": [...]}`).
    #[arg(long)]
    pub scenarios: PathBuf,
    /// The τ-retail `db.json` each scenario starts from.
    #[arg(long)]
    pub db: PathBuf,
    /// Run only scenarios whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenarios: Vec<Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    #[serde(default)]
    category: String,
    turns: Vec<String>,
    expect: Expect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Expect {
    orders: BTreeMap<String, Value>,
    users: BTreeMap<String, Value>,
    /// Order and user ids whose records may differ from the start; `None`: no check.
    changed_only: Option<Vec<String>>,
    status: Option<String>,
    reply_contains: Vec<String>,
    reply_not_contains: Vec<String>,
}

/// Numbers compared to the cent.
fn normalise(v: Value) -> Value {
    match v {
        Value::Number(n) => json!((n.as_f64().unwrap_or(0.0) * 100.0).round() / 100.0),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        other => other,
    }
}

/// Every field of `expected` is present and equal in `actual` (objects recursively).
fn partial_match(path: &str, actual: &Value, expected: &Value) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or(&Value::Null);
                partial_match(&format!("{path}.{k}"), av, ev)?;
            }
            Ok(())
        }
        _ if normalise(actual.clone()) == normalise(expected.clone()) => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

struct Outcome {
    passed: bool,
    reason: String,
    transcript: Vec<String>,
}

async fn run_one(db: &RetailDb, original: &Value, s: &Scenario) -> Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let store = SqlStore::open(
        &sqlite_url(&dir.path().join("eval.db")),
        &StoreConfig::default(),
    )
    .await?;
    let t = TenantId::parse("tau")?;
    store
        .create_tenant(&Tenant {
            id: t.clone(),
            name: "tau".into(),
            created_at_ms: 0,
        })
        .await?;
    store.import_retail(&t, db, "eval").await?;
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
    .with_memory(Arc::new(store.clone()));
    let c = agent.start(&t, Channel::Chat).await?;
    let mut transcript = Vec::new();
    let mut replies = Vec::new();
    let mut status = String::from("open");
    for turn in &s.turns {
        transcript.push(format!("customer: {turn}"));
        match agent.handle(&t, &c.id, turn).await {
            Ok(r) => {
                let calls: Vec<String> = r
                    .tool_calls
                    .iter()
                    .map(|c| {
                        format!(
                            "{}{}",
                            c.name,
                            c.error
                                .as_ref()
                                .map(|e| format!(" -> {}", e.code))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                transcript.push(format!("agent: {} [{}]", r.reply.text, calls.join(", ")));
                replies.push(r.reply.text.to_lowercase());
                status = r.status.as_str().to_string();
            }
            Err(e) => {
                transcript.push(format!("error: {e}"));
                replies.push(String::new());
            }
        }
    }
    let after = normalise(serde_json::to_value(store.export_retail(&t).await?)?);
    store.close().await;

    let mut problems = Vec::new();
    for (id, want) in &s.expect.orders {
        if let Err(e) = partial_match(&format!("orders[{id}]"), &after["orders"][id], want) {
            problems.push(e);
        }
    }
    for (id, want) in &s.expect.users {
        if let Err(e) = partial_match(&format!("users[{id}]"), &after["users"][id], want) {
            problems.push(e);
        }
    }
    if let Some(allowed) = &s.expect.changed_only {
        for section in ["orders", "users", "products"] {
            for (id, record) in after[section].as_object().into_iter().flatten() {
                if original[section].get(id) != Some(record) && !allowed.contains(id) {
                    problems.push(format!("{section}[{id}] changed but should not have"));
                }
            }
        }
    }
    if let Some(want) = &s.expect.status
        && want != &status
    {
        problems.push(format!(
            "conversation status: expected {want}, got {status}"
        ));
    }
    let last = replies.last().cloned().unwrap_or_default();
    for needle in &s.expect.reply_contains {
        if !last.contains(&needle.to_lowercase()) {
            problems.push(format!("final reply lacks \"{needle}\""));
        }
    }
    for needle in &s.expect.reply_not_contains {
        if replies.iter().any(|r| r.contains(&needle.to_lowercase())) {
            problems.push(format!("a reply contains \"{needle}\""));
        }
    }
    Ok(Outcome {
        passed: problems.is_empty(),
        reason: problems.join("; "),
        transcript,
    })
}

pub async fn run(args: &AgentArgs) -> Result<()> {
    let file: File = serde_json::from_str(
        &std::fs::read_to_string(&args.scenarios)
            .with_context(|| format!("reading {}", args.scenarios.display()))?,
    )
    .with_context(|| format!("{} is not a valid scenario file", args.scenarios.display()))?;
    let db_text = std::fs::read_to_string(&args.db)
        .with_context(|| format!("reading {}", args.db.display()))?;
    let db: RetailDb =
        serde_json::from_str(&db_text).context("the database is not a valid τ-retail db.json")?;
    let original = normalise(serde_json::from_str(&db_text)?);
    let started = std::time::Instant::now();
    let mut by_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let (mut total, mut passed) = (0usize, 0usize);
    for s in file
        .scenarios
        .iter()
        .filter(|s| args.only.as_deref().is_none_or(|o| s.name.contains(o)))
    {
        let outcome = run_one(&db, &original, s)
            .await
            .with_context(|| format!("scenario {}", s.name))?;
        total += 1;
        let entry = by_category
            .entry(if s.category.is_empty() {
                "other".into()
            } else {
                s.category.clone()
            })
            .or_default();
        entry.1 += 1;
        if outcome.passed {
            passed += 1;
            entry.0 += 1;
        } else {
            failures.push(
                json!({"name": s.name, "reason": outcome.reason, "transcript": outcome.transcript}),
            );
        }
    }
    let categories: BTreeMap<String, Value> = by_category
        .into_iter()
        .map(|(k, (p, t))| (k, json!({"passed": p, "total": t})))
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "total": total,
            "passed": passed,
            "pass_rate": if total == 0 { 0.0 } else { passed as f64 / total as f64 },
            "by_category": categories,
            "seconds": started.elapsed().as_secs_f64(),
            "failures": failures,
        }))?
    );
    Ok(())
}
