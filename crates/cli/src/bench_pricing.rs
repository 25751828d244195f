//! The `pricing_*` bench scenarios (issue #5 service targets), over loopback
//! HTTP against the server's SQLite file store:
//!
//! - set-up: `--pricing-items` products (one variant each, category
//!   `pricing-bench`) are imported into the demo tenant and priced by one
//!   category rule (`PUT /v1/pricing/categories/pricing-bench/rules`, which
//!   enrols them all);
//! - `pricing_reprice`: `POST /v1/pricing/reprice` for all of them, three
//!   steps (the first registers every item in the demand book);
//! - `pricing_learn`: concurrent clients POST batches of 5,000 (under the 1 MiB body limit)
//!   observations to `/v1/pricing/observations` (closed loop); observations
//!   learned per second;
//! - `pricing_quote` (driven by `bench.rs`): `GET /v1/pricing/quote/{item}`
//!   cycling over the items, closed loop.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hc_domain::{RetailDb, TenantId};
use hc_store::SqlStore;
use serde_json::{Value, json};

/// The category the bench's items are in.
pub const CATEGORY: &str = "pricing-bench";
/// Observations per learning request.
const LEARN_BATCH: usize = 5_000;

fn item_id(i: usize) -> String {
    format!("{}", 5_000_000_000u64 + i as u64)
}

/// Imports `n` one-variant products into `tenant`; returns their item ids.
pub async fn setup(store: &SqlStore, tenant: &TenantId, n: usize) -> Result<Vec<String>> {
    let mut products = serde_json::Map::new();
    for i in 0..n {
        let (pid, iid) = (format!("{}", 6_000_000_000u64 + i as u64), item_id(i));
        let price = 30.0 + (i % 2_000) as f64 / 100.0;
        products.insert(
            pid.clone(),
            json!({"name": format!("Bench item {i}"), "product_id": pid, "category": CATEGORY,
                   "variants": {iid.clone(): {"item_id": iid, "options": {}, "available": true,
                                              "price": price}}}),
        );
    }
    let db: RetailDb =
        serde_json::from_value(json!({"products": products, "users": {}, "orders": {}}))?;
    let t = Instant::now();
    store.import_retail(tenant, &db, "bench").await?;
    eprintln!(
        "pricing set-up: {n} products imported in {:.1?}",
        t.elapsed()
    );
    Ok((0..n).map(item_id).collect())
}

/// One request on a fresh connection: status, JSON body, time taken.
async fn call(
    addr: SocketAddr,
    key: &str,
    method: &str,
    path: &str,
    body: Value,
) -> Result<(u16, Value, Duration)> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(conn);
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "bench")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))?;
    let t = Instant::now();
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let elapsed = t.elapsed();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, v, elapsed))
}

/// Puts the category rule and runs three repricing steps over every item.
pub async fn reprice(addr: SocketAddr, key: &str, items: usize) -> Result<Value> {
    let rules = json!({"cost": 10, "min_price": 20, "max_price": 60, "max_change_pct": 10,
                       "ending_cents": 99, "mode": "auto"});
    let (status, body, enrol) = call(
        addr,
        key,
        "PUT",
        &format!("/v1/pricing/categories/{CATEGORY}/rules"),
        rules,
    )
    .await?;
    anyhow::ensure!(status == 200, "category rules: {status} {body}");
    let mut steps = Vec::new();
    for step in 0..3 {
        let (status, body, took) =
            call(addr, key, "POST", "/v1/pricing/reprice", json!({})).await?;
        anyhow::ensure!(status == 200, "reprice: {status} {body}");
        let priced = body["prices"].as_object().map_or(0, |p| p.len());
        let changes = body["changes"].as_array().map_or(0, Vec::len);
        let errors = body["errors"].as_array().map_or(0, Vec::len);
        eprintln!(
            "{:<30} step {step}: {priced} items priced, {changes} changes, {errors} errors in {:.2} s",
            "pricing_reprice",
            took.as_secs_f64()
        );
        steps.push(
            json!({"seconds": (took.as_secs_f64() * 1000.0).round() / 1000.0,
                          "priced": priced, "changes": changes, "errors": errors}),
        );
    }
    Ok(
        json!({"items": items, "enrol_seconds": (enrol.as_secs_f64() * 1000.0).round() / 1000.0,
              "steps": steps}),
    )
}

fn observations(items: &[String], first: u64, base_at: i64) -> String {
    let mut out = String::with_capacity(LEARN_BATCH * 110);
    out.push('[');
    for k in 0..LEARN_BATCH as u64 {
        let n = first + k;
        if k > 0 {
            out.push(',');
        }
        let item = &items[(n as usize * 7919) % items.len()];
        let price = 20.0 + (n % 400) as f64 / 10.0;
        let bought = n.is_multiple_of(9);
        out.push_str(&format!(
            r#"{{"item_id":"{item}","price_shown":{price},"purchased":{bought},"quantity":{},"at":{}}}"#,
            u8::from(bought),
            base_at + n as i64
        ));
    }
    out.push(']');
    out
}

async fn learn_client(
    addr: SocketAddr,
    key: String,
    items: std::sync::Arc<Vec<String>>,
    id: u64,
    deadline: Instant,
) -> Result<(u64, Vec<u32>, usize)> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(conn);
    let auth = format!("Bearer {key}");
    let base_at = hc_domain::now_ms() / 1000 - 86_400;
    let (mut accepted, mut latencies, mut errors, mut next) =
        (0u64, Vec::new(), 0usize, id * 1_000_000_000);
    while Instant::now() < deadline {
        let body = observations(&items, next, base_at);
        next += LEARN_BATCH as u64;
        let req = hyper::Request::builder()
            .method("POST")
            .uri("/v1/pricing/observations")
            .header("host", "bench")
            .header("authorization", auth.as_str())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let t = Instant::now();
        sender.ready().await?;
        let resp = sender.send_request(req).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if status.is_success() {
            let v: Value = serde_json::from_slice(&bytes)?;
            accepted += v["accepted"].as_u64().unwrap_or(0);
        } else {
            errors += 1;
        }
    }
    Ok((accepted, latencies, errors))
}

/// Concurrent learning clients for `seconds`; observations learned per second.
pub async fn learn(
    addr: SocketAddr,
    key: &str,
    items: &[String],
    clients: usize,
    seconds: u64,
) -> Result<Value> {
    let items = std::sync::Arc::new(items.to_vec());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients as u64)
        .map(|id| {
            tokio::spawn(learn_client(
                addr,
                key.to_string(),
                items.clone(),
                id,
                deadline,
            ))
        })
        .collect();
    let (mut accepted, mut latencies, mut errors) = (0u64, Vec::new(), 0usize);
    for t in tasks {
        let (a, l, e) = t.await.context("learning client")??;
        accepted += a;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    let per_sec = accepted as f64 / elapsed;
    eprintln!(
        "{:<30} {per_sec:>9.0} observations/s  ({} requests of {LEARN_BATCH}, p50 {:.0} ms, p99 {:.0} ms, errors {errors}, {clients} clients)",
        "pricing_learn",
        latencies.len(),
        pct(0.5),
        pct(0.99)
    );
    Ok(json!({
        "observations_per_sec": per_sec.round(), "observations": accepted,
        "requests": latencies.len(), "batch": LEARN_BATCH, "clients": clients, "errors": errors,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "request_p50_ms": pct(0.5), "request_p99_ms": pct(0.99),
    }))
}
