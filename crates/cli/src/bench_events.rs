//! The `events_ingest` bench scenario: concurrent clients POST batches of
//! new events to `/v1/events` over loopback HTTP (closed loop, one keep-alive
//! connection each) against the server's SQLite file store. Each client
//! builds its batches as it goes (unique event ids, 20 events per session,
//! page and product views and cart adds). Reports events/s acknowledged with
//! 202 — each acknowledged only after its batch committed — and checks the
//! stored count against the acknowledged one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hc_domain::TenantId;
use hc_store::{EventStore, SqlStore};
use serde_json::{Value, json};

/// Events per session in the generated traffic.
const PER_SESSION: u64 = 20;

fn batch(client: usize, first: u64, size: usize, base_ts: i64) -> String {
    let mut out = String::with_capacity(size * 220);
    out.push('[');
    for k in 0..size as u64 {
        let n = first + k;
        if k > 0 {
            out.push(',');
        }
        let session = n / PER_SESSION;
        let ts = base_ts + (n % PER_SESSION) as i64 * 1000;
        let body = match n % 4 {
            0 => r#""type":"page_view","page_type":"category","duration_ms":4200"#.to_string(),
            1 | 2 => format!(
                r#""type":"product_view","product_id":"p{}","price":19.99,"duration_ms":8000"#,
                n % 500
            ),
            _ => format!(
                r#""type":"add_to_cart","item_id":"i{}","price":19.99,"quantity":1"#,
                n % 500
            ),
        };
        out.push_str(&format!(
            r#"{{"event_id":"c{client}-{n}","timestamp_ms":{ts},"session_id":"bench-{client}-{session}",{body},"properties":{{"url":"/p/{}"}}}}"#,
            n % 500
        ));
    }
    out.push(']');
    out
}

/// One client's loop; returns (accepted events, request latencies in µs, errors).
async fn client(
    addr: SocketAddr,
    key: String,
    id: usize,
    size: usize,
    base_ts: i64,
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
    let (mut accepted, mut latencies, mut errors, mut next) = (0u64, Vec::new(), 0usize, 0u64);
    while Instant::now() < deadline {
        let body = batch(id, next, size, base_ts);
        next += size as u64;
        let req = hyper::Request::builder()
            .method("POST")
            .uri("/v1/events")
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
        if status.as_u16() == 202 {
            let v: Value = serde_json::from_slice(&bytes)?;
            accepted += v["accepted"].as_u64().unwrap_or(0);
        } else {
            errors += 1;
        }
    }
    Ok((accepted, latencies, errors))
}

/// Runs the scenario and returns its JSON result.
pub async fn events_ingest(
    addr: SocketAddr,
    key: &str,
    store: &SqlStore,
    tenant: &TenantId,
    clients: usize,
    size: usize,
    seconds: u64,
) -> Result<Value> {
    let base_ts = hc_domain::now_ms() - 3_600_000;
    let before = store.count_events(tenant).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|id| tokio::spawn(client(addr, key.to_string(), id, size, base_ts, deadline)))
        .collect();
    let (mut accepted, mut latencies, mut errors) = (0u64, Vec::new(), 0usize);
    for t in tasks {
        let (a, l, e) = t.await.context("bench client")??;
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
    let stored = store.count_events(tenant).await? - before;
    anyhow::ensure!(
        stored == accepted,
        "{accepted} events acknowledged but {stored} stored"
    );
    let per_sec = accepted as f64 / elapsed;
    eprintln!(
        "{:<30} {per_sec:>9.0} events/s  ({} requests of {size}, p50 {:.1} ms, p99 {:.1} ms, errors {errors}, {clients} clients)",
        "events_ingest",
        latencies.len(),
        pct(0.5),
        pct(0.99),
    );
    Ok(json!({
        "events_per_sec": per_sec.round(), "events": accepted, "stored": stored,
        "requests": latencies.len(), "batch": size, "clients": clients, "errors": errors,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "request_p50_ms": pct(0.5), "request_p99_ms": pct(0.99),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_batches_are_valid_events() {
        let now = hc_domain::now_ms();
        let body = super::batch(3, 40, 8, now - 1000);
        let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(&body).unwrap();
        assert_eq!(items.len(), 8);
        for raw in items {
            hc_domain::events::parse_event(raw.get(), now, &Default::default()).unwrap();
        }
    }
}
