//! `hypercommerce bench`: starts the server in-process on a fresh SQLite
//! database holding the demo store, drives it over loopback HTTP with many
//! concurrent clients, and prints requests/s and latency percentiles per
//! scenario as JSON, each as a ratio to `/healthz` measured in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hc_commerce::PageRequest;
use hc_commerce::ports::{OrderFilter, OrderStore};
use hc_domain::{OrderStatus, Role, TenantId};
use hc_server::Application;
use hc_store::{SqlStore, Synchronous};
use serde_json::{Value, json};

use crate::commands::{DEMO_TENANT, app_state, ensure_demo, new_key};
use crate::settings::{Settings, sqlite_url};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Measured seconds per scenario (after a one-second warm-up).
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// SQLite durability for the run: `normal` (survives kill -9) or `full` (fsync per commit).
    #[arg(long, default_value = "normal")]
    pub sqlite_synchronous: String,
    /// Only these scenarios (healthz is always run as the baseline).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Concurrent conversations (one client each) in the chat scenario.
    #[arg(long, default_value_t = 1000)]
    pub conversations: usize,
    /// Messages per second offered in total by the chat scenario (open loop).
    #[arg(long, default_value_t = 3000)]
    pub chat_rate: u32,
    /// Training sessions for the `recs` scenario (SR-GNN layout).
    #[arg(
        long,
        default_value = "../shared/data/diginetica_srgnn/train_sessions.txt"
    )]
    pub recs_sessions: std::path::PathBuf,
    /// Concurrent clients of the `events_ingest` scenario (run with `--only events_ingest`).
    #[arg(long, default_value_t = 4)]
    pub event_clients: usize,
    /// Events per `POST /v1/events` request in `events_ingest`.
    #[arg(long, default_value_t = 1000)]
    pub event_batch: usize,
    /// Customers of the `rescore` scenario (run with `--only rescore`).
    #[arg(long, default_value_t = 1_000_000)]
    pub rescore_customers: usize,
    /// Items priced by the `pricing_*` scenarios.
    #[arg(long, default_value_t = 100_000)]
    pub pricing_items: usize,
    /// Concurrent clients of `pricing_learn`.
    #[arg(long, default_value_t = 2)]
    pub pricing_clients: usize,
    /// Conversations stored before `dashboard_pages` measures (run with `--only dashboard_pages`).
    #[arg(long, default_value_t = 1_000_000)]
    pub dashboard_conversations: usize,
    /// Behavior events stored before `dashboard_pages` measures.
    #[arg(long, default_value_t = 10_000_000)]
    pub dashboard_events: usize,
    /// Requests per page in `dashboard_pages` (one after the other).
    #[arg(long, default_value_t = 200)]
    pub dashboard_requests: usize,
}

struct Scenario {
    name: &'static str,
    method: &'static str,
    /// (path, serialised JSON body or empty) pairs; client `i` of `n` sends
    /// requests `i`, `i + n`, `i + 2n`, … Bodies are serialised once, here, so
    /// the load generator spends its CPU on sending, not on re-encoding.
    requests: Vec<(String, hyper::body::Bytes)>,
    clients: usize,
    /// Open loop: each client sends on this schedule (latency counts from the
    /// scheduled time, so a slow server cannot hide its queueing). Closed loop when `None`.
    interval: Option<Duration>,
}

#[derive(Debug)]
struct Outcome {
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u32>,
}

impl Outcome {
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub async fn run(settings: &Settings, args: BenchArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store_config = settings.store.clone();
    store_config.sqlite_synchronous = match args.sqlite_synchronous.as_str() {
        "full" => Synchronous::Full,
        "normal" => Synchronous::Normal,
        other => anyhow::bail!("--sqlite-synchronous must be normal or full, not {other}"),
    };
    let store = SqlStore::open(&sqlite_url(&dir.path().join("bench.db")), &store_config).await?;
    ensure_demo(&store).await?;
    let tenant = TenantId::parse(DEMO_TENANT)?;
    let key = new_key(&store, &tenant, Role::Owner, "bench", Some(0)).await?;

    let mut server_settings = settings.clone();
    server_settings.server.listen = "127.0.0.1:0".into();
    let app = Application::build(app_state(&store, &server_settings)?).await?;
    let addr = app.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stop_rx.await;
    }));

    let mut results_nlu: Option<Value> = None;
    let mut recs_key: Option<String> = None;
    let orders = store
        .list_orders(
            &tenant,
            &OrderFilter::default(),
            &PageRequest::new(None, Some(PageRequest::MAX_LIMIT)),
        )
        .await?
        .items;
    let pending: Vec<_> = orders
        .iter()
        .filter(|o| o.status == OrderStatus::Pending)
        .collect();
    anyhow::ensure!(!pending.is_empty(), "demo store has no pending orders");
    let reads = orders
        .iter()
        .map(|o| json!({"order_id": o.order_id}))
        .collect();
    let writes = pending
        .iter()
        .enumerate()
        .map(|(i, o)| {
            json!({"order_id": o.order_id, "address1": format!("{} Bench Street", i + 1), "address2": "",
                   "city": "Austin", "state": "TX", "country": "USA", "zip": "78701"})
        })
        .collect();
    let at = |path: &str, bodies: Vec<Value>| {
        bodies
            .into_iter()
            .map(|b| (path.to_string(), encode(&b)))
            .collect::<Vec<_>>()
    };
    let mut scenarios = vec![
        Scenario {
            name: "healthz",
            method: "GET",
            requests: at("/healthz", vec![Value::Null]),
            clients: args.concurrency,
            interval: None,
        },
        Scenario {
            name: "get_order_details",
            method: "POST",
            requests: at("/v1/tools/get_order_details", reads),
            clients: args.concurrency,
            interval: None,
        },
        Scenario {
            name: "modify_pending_order_address",
            method: "POST",
            requests: at("/v1/tools/modify_pending_order_address", writes),
            clients: args.concurrency,
            interval: None,
        },
    ];
    let wants = |name: &str| args.only.iter().any(|o| o == name);
    let pricing_items = if ["pricing_quote", "pricing_reprice", "pricing_learn"]
        .iter()
        .any(|n| wants(n))
    {
        crate::bench_pricing::setup(&store, &tenant, args.pricing_items.max(1)).await?
    } else {
        Vec::new()
    };
    if wants("pricing_quote") {
        scenarios.push(Scenario {
            name: "pricing_quote",
            method: "GET",
            requests: pricing_items
                .iter()
                .take(10_000)
                .map(|i| (format!("/v1/pricing/quote/{i}"), hyper::body::Bytes::new()))
                .collect(),
            clients: args.concurrency,
            interval: None,
        });
    }
    if args.only.is_empty() || args.only.iter().any(|o| o == "chat_message") {
        let mut chat = chat_scenario(&store, &tenant, args.conversations).await?;
        chat.interval = Some(Duration::from_secs_f64(
            args.conversations as f64 / f64::from(args.chat_rate.max(1)),
        ));
        scenarios.push(chat);
    }
    // Opt-in: seeding 43,000 products and their sessions takes a while.
    if args.only.iter().any(|o| o == "recommendations") {
        let (rt, bodies) =
            crate::bench_behavior::seed_recommendations(&store, &args.recs_sessions).await?;
        let rkey = new_key(&store, &rt, Role::Viewer, "bench", Some(0)).await?;
        scenarios.push(Scenario {
            name: "recommendations",
            method: "POST",
            requests: at("/v1/recommendations", bodies),
            clients: args.concurrency,
            interval: None,
        });
        recs_key = Some(rkey);
    }
    if args.only.is_empty() || args.only.iter().any(|o| o == "nlu_understand") {
        let (per_sec, micros) = nlu_throughput(Duration::from_secs(args.seconds));
        eprintln!(
            "{:<30} {per_sec:>9.0} msg/s on one thread, {micros:.1} us per message",
            "nlu_understand (in-process)"
        );
        results_nlu = Some(
            json!({"messages_per_sec": per_sec.round(), "micros_per_message": (micros * 10.0).round() / 10.0}),
        );
    }

    let mut results = serde_json::Map::new();
    if let Some(nlu) = results_nlu.take() {
        results.insert("nlu_understand".into(), nlu);
    }
    if args.only.iter().any(|o| o == "events_ingest") {
        let r = crate::bench_events::events_ingest(
            addr,
            &key,
            &store,
            &tenant,
            args.event_clients.max(1),
            args.event_batch.max(1),
            args.seconds,
        )
        .await?;
        results.insert("events_ingest".into(), r);
    }
    if args.only.iter().any(|o| o == "rescore") {
        let state = app_state(&store, &server_settings)?;
        let r = crate::bench_behavior::rescore(&state, &store, args.rescore_customers).await?;
        results.insert("rescore".into(), r);
    }
    if wants("pricing_reprice") {
        let r = crate::bench_pricing::reprice(addr, &key, pricing_items.len()).await?;
        results.insert("pricing_reprice".into(), r);
    }
    if wants("pricing_learn") {
        let r = crate::bench_pricing::learn(
            addr,
            &key,
            &pricing_items,
            args.pricing_clients.max(1),
            args.seconds,
        )
        .await?;
        results.insert("pricing_learn".into(), r);
    }
    if args.only.iter().any(|o| o == "recs") {
        results.insert("recs".into(), recs_latency(&args.recs_sessions)?);
    }
    if wants("dashboard_pages") {
        let r = crate::bench_dashboard::dashboard_pages(
            settings,
            args.dashboard_conversations,
            args.dashboard_events,
            args.dashboard_requests.max(1),
        )
        .await?;
        results.insert("dashboard_pages".into(), r);
    }
    if args.only.is_empty() || args.only.iter().any(|o| o == "llm_turn") {
        let llm = crate::bench_llm::llm_overhead(&store, &tenant, args.seconds).await?;
        results.insert("llm_turn".into(), llm);
    }
    let mut baseline = None;
    for s in scenarios {
        if s.name != "healthz" && !args.only.is_empty() && !args.only.iter().any(|o| o == s.name) {
            continue;
        }
        let s = Arc::new(s);
        let key = match (s.name, &recs_key) {
            ("recommendations", Some(k)) => k.clone(),
            _ => key.clone(),
        };
        if s.name != "chat_message" {
            drive(addr, &key, &s, Duration::from_secs(1)).await?;
        }
        let cpu_before = process_cpu_seconds();
        let out = drive(addr, &key, &s, Duration::from_secs(args.seconds)).await?;
        // CPU the whole process (server and load generator) spent per request:
        // steadier than throughput on a shared machine, and comparable between builds.
        let cpu_us = match (cpu_before, process_cpu_seconds()) {
            (Some(a), Some(b)) if out.requests > 0 => Some((b - a) * 1e6 / out.requests as f64),
            _ => None,
        };
        let rps = out.rps();
        let base_rps = *baseline.get_or_insert(rps);
        eprintln!(
            "{:<30} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  ratio {:.3}  cpu {:.0} us/req",
            s.name,
            rps,
            out.percentile_ms(0.5),
            out.percentile_ms(0.99),
            out.errors,
            rps / base_rps,
            cpu_us.unwrap_or(f64::NAN)
        );
        results.insert(
            s.name.to_string(),
            json!({
                "requests": out.requests, "errors": out.errors, "requests_per_sec": rps.round(),
                "p50_ms": out.percentile_ms(0.5), "p99_ms": out.percentile_ms(0.99),
                "ratio_to_healthz": (rps / base_rps * 1000.0).round() / 1000.0,
                "cpu_us_per_request": cpu_us.map(|c| c.round()),
            }),
        );
    }
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    store.close().await;
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "concurrency": args.concurrency, "seconds": args.seconds,
            "sqlite_synchronous": args.sqlite_synchronous, "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "scenarios": results,
        }))?
    );
    Ok(())
}

/// User plus system CPU seconds this process has used so far (Linux `/proc`;
/// `None` elsewhere).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // Clock ticks; USER_HZ is 100 on every Linux target Rust supports.
    Some((utime + stime) / 100.0)
}

/// A request body: the JSON text, or nothing for `null`.
fn encode(body: &Value) -> hyper::body::Bytes {
    if body.is_null() {
        hyper::body::Bytes::new()
    } else {
        hyper::body::Bytes::from(body.to_string())
    }
}

/// One client: its own HTTP/1.1 keep-alive connection, requests back to back.
async fn client_loop(
    addr: std::net::SocketAddr,
    key: String,
    s: Arc<Scenario>,
    first: usize,
    step: usize,
    start: Instant,
    deadline: Instant,
) -> Result<(Vec<u32>, usize)> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;

    let stream = tokio::net::TcpStream::connect(addr).await?;
    // Spread the clients' first sends over one interval after the common start.
    let mut next = s
        .interval
        .map(|iv| start + iv.mul_f64(first as f64 / step as f64));
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(conn);
    let auth = format!("Bearer {key}");
    let requests = &s.requests;
    let (mut latencies, mut errors, mut i) = (Vec::new(), 0usize, first);
    while Instant::now() < deadline {
        let (path, body) = &requests[i % requests.len()];
        let body = body.clone();
        i += step;
        let req = hyper::Request::builder()
            .method(s.method)
            .uri(path.as_str())
            .header("host", "bench")
            .header("authorization", auth.as_str())
            .header("content-type", "application/json")
            .body(Full::new(body))?;
        let t = match (next, s.interval) {
            // The next send is due after the window: stop now, so that the
            // measured time is not padded by sleeping towards it.
            (Some(at), Some(_)) if at >= deadline => break,
            (Some(at), Some(iv)) => {
                tokio::time::sleep_until(at.into()).await;
                next = Some(at + iv);
                at
            }
            _ => Instant::now(),
        };
        if t >= deadline {
            break;
        }
        sender.ready().await?;
        let ok = match sender.send_request(req).await {
            Ok(resp) => {
                let ok = resp.status().is_success();
                let _ = resp.into_body().collect().await;
                ok
            }
            Err(_) => false,
        };
        latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
        errors += usize::from(!ok);
    }
    Ok((latencies, errors))
}

async fn drive(
    addr: std::net::SocketAddr,
    key: &str,
    s: &Arc<Scenario>,
    duration: Duration,
) -> Result<Outcome> {
    let concurrency = s.clients;
    // Open-loop clients connect first, then all start together: set-up is not measured.
    let warm = if s.interval.is_some() { 1500 } else { 0 };
    let started = Instant::now() + Duration::from_millis(warm);
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            tokio::spawn(client_loop(
                addr,
                key.to_string(),
                s.clone(),
                worker,
                concurrency,
                started,
                deadline,
            ))
        })
        .collect();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await??;
        latencies_us.extend(l);
        errors += e;
    }
    latencies_us.sort_unstable();
    Ok(Outcome {
        requests: latencies_us.len(),
        errors,
        seconds: started.elapsed().as_secs_f64(),
        latencies_us,
    })
}

/// One conversation per client, each cycling through a realistic support
/// exchange: greeting, a question, identification, an order lookup, a product question.
async fn chat_scenario(
    store: &SqlStore,
    tenant: &TenantId,
    conversations: usize,
) -> Result<Scenario> {
    use hc_agent::ports::ConversationStore;
    use hc_commerce::ports::CustomerStore;
    let customers = store
        .list_customers(
            tenant,
            &Default::default(),
            &PageRequest::new(None, Some(PageRequest::MAX_LIMIT)),
        )
        .await?
        .items;
    let agent_ids: Vec<String> = {
        let mut ids = Vec::with_capacity(conversations);
        for i in 0..conversations {
            let c = hc_domain::Conversation {
                id: hc_domain::ConversationId::parse(format!("conv_bench_{i:05}"))?,
                tenant_id: tenant.clone(),
                channel: hc_domain::Channel::Chat,
                status: hc_domain::ConversationStatus::Open,
                customer: None,
                created_at_ms: hc_domain::now_ms(),
                updated_at_ms: hc_domain::now_ms(),
                first_response_at_ms: None,
                closed_at_ms: None,
                satisfaction: None,
                escalation: None,
                message_count: 0,
                version: 0,
                usage: Default::default(),
                state: json!({}),
            };
            store.create_conversation(&c).await?;
            ids.push(c.id.to_string());
        }
        ids
    };
    let scripts: Vec<[String; 5]> = (0..conversations)
        .map(|i| {
            let c = &customers[i % customers.len()];
            let order = c
                .orders
                .first()
                .map(|o| o.to_string())
                .unwrap_or_else(|| "#W0000000".into());
            [
                "hi there".to_string(),
                "I have a question about my order".to_string(),
                format!("my email is {}", c.email),
                format!("what's the status of {order}?"),
                "do you have waterproof hiking boots?".to_string(),
            ]
        })
        .collect();
    let mut requests = Vec::with_capacity(conversations * 5);
    for turn in 0..5 {
        for (id, script) in agent_ids.iter().zip(&scripts) {
            requests.push((
                format!("/v1/conversations/{id}/messages"),
                encode(&json!({"text": script[turn]})),
            ));
        }
    }
    Ok(Scenario {
        name: "chat_message",
        method: "POST",
        requests,
        clients: conversations,
        interval: None,
    })
}

/// Messages per second and microseconds per message of NLU alone on this thread.
fn nlu_throughput(duration: Duration) -> (f64, f64) {
    let nlu = hc_agent::nlu::Nlu::builtin();
    let texts: Vec<String> = hc_agent::nlu::intents::corpus()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    let started = Instant::now();
    let mut n = 0usize;
    while started.elapsed() < duration {
        for t in texts.iter().take(200) {
            std::hint::black_box(nlu.understand(t));
            n += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    (n as f64 / secs, secs * 1e6 / n as f64)
}

/// Session recommender (in-process): training time of the full index on the
/// sessions file, then the latency of one recommendation (top 20 over the
/// whole catalogue) for every prefix of the last 5,000 sessions, queried
/// one after another on this thread.
fn recs_latency(path: &std::path::Path) -> Result<Value> {
    use hc_behavior::recs::{RecConfig, Recommender};
    let sessions = hc_behavior::datasets::read_sessions(path)
        .with_context(|| format!("loading {} (give --recs-sessions)", path.display()))?;
    let started = Instant::now();
    let rec = Recommender::train(&sessions, RecConfig::default())?;
    let train_seconds = started.elapsed().as_secs_f64();
    let prefixes: Vec<&[u32]> = sessions[sessions.len().saturating_sub(5000)..]
        .iter()
        .flat_map(|s| (1..s.len()).map(move |end| &s[..end]))
        .collect();
    let mut us: Vec<u32> = prefixes
        .iter()
        .map(|p| {
            let t = Instant::now();
            std::hint::black_box(rec.recommend(p, 20));
            t.elapsed().as_micros() as u32
        })
        .collect();
    us.sort_unstable();
    let pct = |p: f64| f64::from(us[((us.len() as f64 - 1.0) * p).round() as usize]) / 1000.0;
    eprintln!(
        "{:<30} train {train_seconds:.2} s  p50 {:>6.3} ms  p99 {:>6.3} ms  ({} queries, {} items)",
        "recs (in-process)",
        pct(0.5),
        pct(0.99),
        us.len(),
        rec.catalog.len()
    );
    Ok(json!({
        "train_seconds": train_seconds, "queries": us.len(), "items": rec.catalog.len(),
        "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0),
    }))
}
