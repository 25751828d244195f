//! The `dashboard_pages` bench scenario: a SQLite file store filled with
//! `--dashboard-conversations` conversations (one customer message each,
//! spread over the last year, four channels, every status) and
//! `--dashboard-events` behavior events, the rollup brought up to date, then
//! every dashboard page requested `--dashboard-requests` times one after the
//! other over loopback HTTP with a signed-in owner's session. Reports the
//! fill and rollup times and p50/p99 per page (target p99 < 50 ms).

use std::time::Instant;

use anyhow::{Context, Result};
use hc_domain::{
    Author, Channel, Conversation, ConversationId, ConversationStatus, Escalation, Event, EventId,
    EventType, Message, ProductId, Role, SessionId, TenantId, now_ms,
};
use hc_server::Application;
use hc_store::{DAY_MS, DashboardStore, EventStore, NewSession, OperatorStore, SqlStore};
use serde_json::{Value, json};

use crate::commands::{DEMO_TENANT, app_state, ensure_demo};
use crate::settings::{Settings, sqlite_url};

/// Conversations per import transaction.
const CHUNK: usize = 20_000;
/// Events per append.
const EVENT_BATCH: usize = 10_000;

const INTENTS: [&str; 6] = [
    "order_status",
    "cancel_order",
    "return_item",
    "modify_address",
    "product_question",
    "talk_to_human",
];
const REASONS: [&str; 3] = [
    "customer asked for a person",
    "too many failed turns",
    "out of scope",
];

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn conversation(
    t: &TenantId,
    i: usize,
    now: i64,
    rng: &mut Rng,
) -> Result<(Conversation, Vec<Message>)> {
    let created = now - rng.below(365 * DAY_MS as u64) as i64;
    let channel = [
        Channel::Chat,
        Channel::Chat,
        Channel::Sms,
        Channel::Email,
        Channel::Voice,
    ][rng.below(5) as usize];
    let roll = rng.below(100);
    let status = match roll {
        0..70 => ConversationStatus::Resolved,
        70..80 => ConversationStatus::Escalated,
        80..90 => ConversationStatus::Abandoned,
        _ => ConversationStatus::Open,
    };
    let first = created + 300 + rng.below(5_000) as i64;
    let closed = created + 60_000 + rng.below(3_600_000) as i64;
    let intent = INTENTS[rng.below(INTENTS.len() as u64) as usize];
    let c = Conversation {
        id: ConversationId::parse(format!("conv_bench{i:08}"))?,
        tenant_id: t.clone(),
        channel,
        status,
        customer: None,
        created_at_ms: created,
        updated_at_ms: if status == ConversationStatus::Open {
            first
        } else {
            closed
        },
        first_response_at_ms: Some(first),
        closed_at_ms: matches!(
            status,
            ConversationStatus::Resolved | ConversationStatus::Abandoned
        )
        .then_some(closed),
        satisfaction: (status == ConversationStatus::Resolved && rng.below(3) == 0)
            .then(|| 3 + rng.below(3) as u8),
        escalation: (status == ConversationStatus::Escalated).then(|| Escalation {
            reason: REASONS[rng.below(REASONS.len() as u64) as usize].into(),
            summary: "bench".into(),
            at_ms: closed,
        }),
        message_count: 1,
        version: 1,
        usage: Default::default(),
        state: json!({}),
    };
    let m = Message {
        seq: 1,
        author: Author::Customer,
        text: "where is my order?".into(),
        at_ms: created,
        intent: Some(intent.into()),
        confidence: Some(0.9),
        tool_calls: vec![],
        brain: None,
        usage: None,
    };
    Ok((c, vec![m]))
}

async fn fill(
    store: &SqlStore,
    t: &TenantId,
    conversations: usize,
    events: usize,
) -> Result<Value> {
    let now = now_ms();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let mut done = 0;
    while done < conversations {
        let n = CHUNK.min(conversations - done);
        let batch = (done..done + n)
            .map(|i| conversation(t, i, now, &mut rng))
            .collect::<Result<Vec<_>>>()?;
        store.import_conversations(t, &batch).await?;
        done += n;
        if done % 200_000 == 0 {
            eprintln!("dashboard_pages: {done} conversations stored");
        }
    }
    let conversations_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut stored = 0;
    while stored < events {
        let n = EVENT_BATCH.min(events - stored);
        let batch = (stored..stored + n)
            .map(|k| {
                let session = k / 20;
                Ok(Event {
                    event_id: EventId::parse(format!("b{k}"))?,
                    kind: if k % 4 == 0 {
                        EventType::PageView
                    } else {
                        EventType::ProductView
                    },
                    timestamp_ms: now - 6 * DAY_MS + (k as i64 % (6 * DAY_MS / 1000)) * 1000,
                    session_id: SessionId::parse(format!("bs{session}"))?,
                    customer_id: None,
                    product_id: (k % 4 != 0)
                        .then(|| ProductId::parse(format!("p{}", k % 5000)))
                        .transpose()?,
                    item_id: None,
                    price: None,
                    quantity: None,
                    page_type: None,
                    duration_ms: None,
                    query: None,
                    properties: Default::default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        store.append_events(t, batch).await?;
        stored += n;
        if stored % 1_000_000 == 0 {
            eprintln!("dashboard_pages: {stored} events stored");
        }
    }
    let events_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let r = store.refresh_rollup(t).await?;
    let rollup_s = started.elapsed().as_secs_f64();
    eprintln!(
        "dashboard_pages: filled in {conversations_s:.1} s (conversations) + {events_s:.1} s (events); \
         first rollup of {} conversations over {} days in {rollup_s:.1} s",
        r.conversations, r.days
    );
    Ok(json!({
        "conversations": conversations, "events": events,
        "fill_conversations_s": (conversations_s * 10.0).round() / 10.0,
        "fill_events_s": (events_s * 10.0).round() / 10.0,
        "first_rollup_s": (rollup_s * 10.0).round() / 10.0,
    }))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i] * 100.0).round() / 100.0
}

pub async fn dashboard_pages(
    settings: &Settings,
    conversations: usize,
    events: usize,
    requests: usize,
) -> Result<Value> {
    let dir = tempfile::tempdir()?;
    let store = SqlStore::open(
        &sqlite_url(&dir.path().join("dashboard.db")),
        &settings.store,
    )
    .await?
    .with_secrets_key(hc_store::SecretsKey::generate());
    ensure_demo(&store).await?;
    let t = TenantId::parse(DEMO_TENANT)?;
    let filled = fill(&store, &t, conversations, events).await?;

    // A signed-in owner: a session stored as sign-in would store it.
    let op = hc_server::dashboard::new_operator(&t, "bench@demo.example", Role::Owner)
        .map_err(anyhow::Error::msg)?;
    let hash = hc_server::dashboard::hash_password(&hc_server::dashboard::generate_password())
        .map_err(anyhow::Error::msg)?;
    let audit = hc_domain::AuditRecord {
        tenant_id: t.clone(),
        actor: "bench".into(),
        action: "operator.create".into(),
        target: format!("operator:{}", op.id),
        at_ms: now_ms(),
        detail: json!({}),
    };
    store.insert_operator(&op, &hash, &audit).await?;
    let token = hc_server::dashboard::session::random_token();
    let token_hash = hc_server::dashboard::session::token_hash(&token);
    let csrf = hc_server::dashboard::session::random_token();
    store
        .create_session(&NewSession {
            token_hash: &token_hash,
            operator: &op,
            csrf_token: &csrf,
            at_ms: now_ms(),
        })
        .await?;

    let mut server_settings = settings.clone();
    server_settings.server.listen = "127.0.0.1:0".into();
    // The rollup is current; pages read it without refreshing during the run.
    server_settings.server.dashboard.rollup_every_ms = 0;
    server_settings.server.dashboard.rollup_max_age_ms = 3_600_000;
    let app = Application::build(app_state(&store, &server_settings)?).await?;
    let addr = app.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stop_rx.await;
    }));

    let today = time_of(now_ms());
    let year_ago = time_of(now_ms() - 365 * DAY_MS);
    let escalated = "conv_bench00000000";
    let customer = hc_commerce::demo::demo_store(crate::commands::DEMO_SEED)
        .users
        .keys()
        .next()
        .map(|u| u.to_string())
        .context("the demo store has customers")?;
    let pages = vec![
        ("overview (14 days)", "/dashboard".to_string()),
        (
            "overview (a year)",
            format!("/dashboard?from={year_ago}&to={today}"),
        ),
        ("live", "/dashboard/live".into()),
        ("conversations", "/dashboard/conversations".into()),
        (
            "conversations (escalated)",
            "/dashboard/conversations?status=escalated".into(),
        ),
        (
            "conversations (rating 5, a year)",
            format!("/dashboard/conversations?rating=5&from={year_ago}&to={today}"),
        ),
        (
            "transcript",
            format!("/dashboard/conversations/{escalated}"),
        ),
        ("inbox", "/dashboard/inbox".into()),
        ("customers", "/dashboard/customers".into()),
        ("customers (search)", "/dashboard/customers?q=an".into()),
        ("customer", format!("/dashboard/customers/{customer}")),
        ("pricing", "/dashboard/pricing".into()),
        ("loyalty", "/dashboard/loyalty".into()),
        ("agents", "/dashboard/agents".into()),
        ("settings", "/dashboard/settings".into()),
        ("settings/users", "/dashboard/settings/users".into()),
        ("settings/keys", "/dashboard/settings/keys".into()),
        ("settings/agent", "/dashboard/settings/agent".into()),
        ("settings/llm", "/dashboard/settings/llm".into()),
        ("settings/knowledge", "/dashboard/settings/knowledge".into()),
        ("settings/webhooks", "/dashboard/settings/webhooks".into()),
    ];
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = format!("hc_session={token}");
    let mut results = serde_json::Map::new();
    let mut worst: f64 = 0.0;
    for (name, path) in pages {
        let url = format!("http://{addr}{path}");
        let mut latencies = Vec::with_capacity(requests);
        let mut errors = 0;
        for i in 0..requests + 5 {
            let started = Instant::now();
            let r = client.get(&url).header("cookie", &cookie).send().await?;
            let ok = r.status() == 200;
            let body = r.bytes().await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if !ok || body.is_empty() {
                errors += 1;
            }
            // The first five warm caches and connections.
            if i >= 5 {
                latencies.push(ms);
            }
        }
        latencies.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
        worst = worst.max(p99);
        eprintln!("{name:<34} p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  errors {errors}");
        results.insert(
            name.to_string(),
            json!({"requests": requests, "errors": errors, "p50_ms": p50, "p99_ms": p99}),
        );
    }
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    store.close().await;
    Ok(json!({
        "store": filled,
        "pages": results,
        "worst_p99_ms": worst,
        "target_p99_ms": 50,
    }))
}

/// Milliseconds since the epoch → `YYYY-MM-DD` (UTC).
fn time_of(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_civil() {
        assert_eq!(super::time_of(0), "1970-01-01");
        assert_eq!(super::time_of(951_782_400_000), "2000-02-29");
    }
}
