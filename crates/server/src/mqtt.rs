//! The MQTT sensor bridge (in-store IoT): subscribes to
//! `hc/+/sensors/#` and turns each reading published on
//! `hc/<tenant>/sensors/<store>/<sensor>` into a `sensor` event of that
//! tenant. Garbage payloads are quarantined with a reason and counted
//! (`hc_events_rejected_total{source="mqtt"}`).
//!
//! Readings are received with QoS 1 and acknowledged to the broker only
//! after the batch they belong to is stored, on a persistent session
//! (`clean_session = false`): a reading is never lost between the broker and
//! the database, and a redelivered one is deduplicated by its event id.
//! Plain TCP only (no TLS): the broker is expected on the store's network
//! or the same host.

use std::collections::HashMap;
use std::time::Duration;

use hc_domain::{Event, Rejection, TenantId, events::event_from_value};
use rumqttc::{AsyncClient, Event as MqttEvent, Incoming, MqttOptions, Publish, QoS};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use crate::ingest::{Source, quarantine_one, store};
use crate::state::AppState;

/// The subscription: every tenant's sensors.
pub const TOPIC_FILTER: &str = "hc/+/sensors/#";

/// The readings a sensor publishes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reading {
    /// `footfall`, `pickup` or `dwell`.
    kind: String,
    /// The reading's own id (unique per sensor); without it, the hash of
    /// topic and payload (so a redelivery is still a duplicate).
    id: Option<String>,
    /// When it happened (milliseconds since the epoch); the arrival time if absent.
    timestamp_ms: Option<i64>,
    /// People counted (footfall).
    count: Option<u32>,
    /// Shelf, display or entrance.
    zone: Option<String>,
    product_id: Option<String>,
    item_id: Option<String>,
    /// Time spent at the display (dwell).
    duration_ms: Option<u64>,
    /// A known shopper (loyalty card, app check-in).
    customer_id: Option<String>,
}

fn reject(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

fn topic_segment_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The tenant a topic names, if it names one.
pub fn topic_tenant(topic: &str) -> Option<TenantId> {
    let mut parts = topic.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("hc"), Some(t), Some("sensors")) => TenantId::parse(t).ok(),
        _ => None,
    }
}

/// Turns one message into a `sensor` event, or says why it cannot be one.
pub fn sensor_event(
    topic: &str,
    payload: &[u8],
    now_ms: i64,
    limits: &hc_domain::EventLimits,
) -> Result<Event, Rejection> {
    let parts: Vec<&str> = topic.split('/').collect();
    let (store_id, sensor) = match parts.as_slice() {
        ["hc", _, "sensors", store_id, sensor] => (*store_id, *sensor),
        _ => {
            return Err(reject(
                "invalid_topic",
                "publish on hc/<tenant>/sensors/<store>/<sensor>",
            ));
        }
    };
    if !topic_segment_ok(store_id) || !topic_segment_ok(sensor) {
        return Err(reject(
            "invalid_topic",
            "store and sensor are 1 to 64 of A-Z a-z 0-9 - _ .",
        ));
    }
    let reading: Reading = serde_json::from_slice(payload).map_err(|e| {
        let code = if e.is_data() {
            "invalid_field"
        } else {
            "invalid_json"
        };
        reject(code, e.to_string())
    })?;
    match reading.kind.as_str() {
        "footfall" if reading.count.is_none() => {
            return Err(reject("missing_field", "count is required for footfall"));
        }
        "pickup" if reading.product_id.is_none() && reading.item_id.is_none() => {
            return Err(reject(
                "missing_field",
                "product_id or item_id is required for pickup",
            ));
        }
        "dwell" if reading.duration_ms.is_none() => {
            return Err(reject("missing_field", "duration_ms is required for dwell"));
        }
        "footfall" | "pickup" | "dwell" => {}
        other => {
            return Err(reject(
                "unknown_type",
                format!("unknown sensor kind {other:?}; expected footfall, pickup or dwell"),
            ));
        }
    }
    let id = match &reading.id {
        Some(id) => id.clone(),
        None => {
            let mut h = Sha256::new();
            h.update(topic.as_bytes());
            h.update([0]);
            h.update(payload);
            hex::encode(&h.finalize()[..16])
        }
    };
    let mut properties = Map::new();
    properties.insert("kind".into(), json!(reading.kind));
    properties.insert("store".into(), json!(store_id));
    properties.insert("sensor".into(), json!(sensor));
    if let Some(c) = reading.count {
        properties.insert("count".into(), json!(c));
    }
    if let Some(z) = reading.zone {
        properties.insert("zone".into(), json!(z));
    }
    let mut event = Map::new();
    event.insert(
        "event_id".into(),
        json!(format!("mqtt:{store_id}:{sensor}:{id}")),
    );
    event.insert("type".into(), json!("sensor"));
    event.insert(
        "timestamp_ms".into(),
        json!(reading.timestamp_ms.unwrap_or(now_ms)),
    );
    event.insert(
        "session_id".into(),
        json!(format!("store:{store_id}:{sensor}")),
    );
    for (k, v) in [
        ("product_id", reading.product_id),
        ("item_id", reading.item_id),
        ("customer_id", reading.customer_id),
    ] {
        if let Some(v) = v {
            event.insert(k.into(), json!(v));
        }
    }
    if let Some(d) = reading.duration_ms {
        event.insert("duration_ms".into(), json!(d));
    }
    event.insert("properties".into(), Value::Object(properties));
    event_from_value(Value::Object(event), now_ms, limits)
}

/// Starts the bridge; it stops when `stopped` turns true.
pub fn spawn(state: AppState, mut stopped: watch::Receiver<bool>) {
    let cfg = state.config.events.mqtt.clone();
    let mut options = MqttOptions::new(cfg.client_id.clone(), cfg.host.clone(), cfg.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(false);
    options.set_manual_acks(true);
    if let Some(user) = &cfg.username {
        use secrecy::ExposeSecret;
        let password = cfg
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_string())
            .unwrap_or_default();
        options.set_credentials(user.clone(), password);
    }
    let batch = cfg.batch.max(1);
    let (client, mut eventloop) = AsyncClient::new(options, batch * 2 + 16);
    let (tx, rx) = mpsc::channel::<Publish>(batch * 4);
    tokio::spawn(flusher(state, client.clone(), rx, batch, cfg.flush_ms));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                polled = eventloop.poll() => match polled {
                    Ok(MqttEvent::Incoming(Incoming::ConnAck(_))) => {
                        tracing::info!(filter = TOPIC_FILTER, "mqtt connected; subscribing");
                        if let Err(e) = client.try_subscribe(TOPIC_FILTER, QoS::AtLeastOnce) {
                            tracing::warn!(error = %e, "mqtt subscribe failed");
                        }
                    }
                    Ok(MqttEvent::Incoming(Incoming::Publish(p))) => {
                        if tx.send(p).await.is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        metrics::counter!("hc_mqtt_connection_errors_total").increment(1);
                        tracing::warn!(error = %e, "mqtt connection error; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
            }
        }
        let _ = client.disconnect().await;
    });
}

/// Gathers readings, stores them per tenant, then acknowledges them.
async fn flusher(
    state: AppState,
    client: AsyncClient,
    mut rx: mpsc::Receiver<Publish>,
    batch: usize,
    flush_ms: u64,
) {
    let mut pending: Vec<Publish> = Vec::with_capacity(batch);
    let mut tick = tokio::time::interval(Duration::from_millis(flush_ms.max(1)));
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Some(p) => {
                    pending.push(p);
                    if pending.len() < batch {
                        continue;
                    }
                }
                None => break,
            },
            _ = tick.tick() => {}
        }
        if pending.is_empty() {
            continue;
        }
        if flush(&state, &pending).await {
            for p in pending.drain(..) {
                if let Err(e) = client.ack(&p).await {
                    tracing::warn!(error = %e, "mqtt ack failed");
                }
            }
        } else {
            // Not stored: keep them (unacknowledged) and try again on the next tick.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Stores the readings; false if storage failed (they are retried).
async fn flush(state: &AppState, pending: &[Publish]) -> bool {
    let now = hc_domain::now_ms();
    let limits = &state.config.events.limits;
    let mut by_tenant: HashMap<TenantId, Vec<Event>> = HashMap::new();
    let mut known: HashMap<TenantId, bool> = HashMap::new();
    for p in pending {
        let Some(tenant) = topic_tenant(&p.topic) else {
            metrics::counter!("hc_events_rejected_total", "source" => "mqtt", "code" => "unknown_tenant")
                .increment(1);
            continue;
        };
        let exists = match known.get(&tenant) {
            Some(k) => *k,
            None => match state.platform.tenant(&tenant).await {
                Ok(t) => {
                    known.insert(tenant.clone(), t.is_some());
                    t.is_some()
                }
                Err(e) => {
                    tracing::warn!(error = %e, "mqtt: cannot look up tenant");
                    return false;
                }
            },
        };
        if !exists {
            metrics::counter!("hc_events_rejected_total", "source" => "mqtt", "code" => "unknown_tenant")
                .increment(1);
            continue;
        }
        match sensor_event(&p.topic, &p.payload, now, limits) {
            Ok(e) => by_tenant.entry(tenant).or_default().push(e),
            Err(r) => {
                let payload = String::from_utf8_lossy(&p.payload);
                quarantine_one(
                    state,
                    &tenant,
                    Source::Mqtt,
                    &r,
                    &format!("{} {payload}", p.topic),
                )
                .await
            }
        }
    }
    for (tenant, events) in by_tenant {
        if let Err(e) = store(state, &tenant, Source::Mqtt, events).await {
            tracing::warn!(error = ?e, tenant = %tenant, "mqtt: cannot store readings");
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use hc_domain::{EventLimits, EventType};

    const NOW: i64 = 1_763_700_000_000;

    fn map(topic: &str, payload: &str) -> Result<Event, Rejection> {
        sensor_event(topic, payload.as_bytes(), NOW, &EventLimits::default())
    }

    #[test]
    fn readings_become_sensor_events() {
        let e = map(
            "hc/shop/sensors/berlin-1/door-a",
            r#"{"kind":"footfall","id":"r1","count":3,"timestamp_ms":1763699999000}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventType::Sensor);
        assert_eq!(e.event_id.as_str(), "mqtt:berlin-1:door-a:r1");
        assert_eq!(e.session_id.as_str(), "store:berlin-1:door-a");
        assert_eq!(e.timestamp_ms, 1_763_699_999_000);
        assert_eq!(e.properties["count"], 3);
        assert_eq!(e.properties["store"], "berlin-1");
        let pick = map(
            "hc/shop/sensors/berlin-1/shelf-4",
            r#"{"kind":"pickup","item_id":"i-9"}"#,
        )
        .unwrap();
        assert_eq!(pick.timestamp_ms, NOW, "arrival time when absent");
        let again = map(
            "hc/shop/sensors/berlin-1/shelf-4",
            r#"{"kind":"pickup","item_id":"i-9"}"#,
        )
        .unwrap();
        assert_eq!(pick.event_id, again.event_id, "a redelivery is a duplicate");
        let dwell = map(
            "hc/shop/sensors/b/display",
            r#"{"kind":"dwell","zone":"window","duration_ms":42000}"#,
        )
        .unwrap();
        assert_eq!(dwell.duration_ms, Some(42_000));
        assert_eq!(
            topic_tenant("hc/shop/sensors/b/display").unwrap().as_str(),
            "shop"
        );
        assert!(topic_tenant("hc/Bad Tenant/sensors/x").is_none());
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let t = "hc/shop/sensors/b/s";
        assert_eq!(map(t, "\u{0}\u{1}binary").unwrap_err().code, "invalid_json");
        assert_eq!(
            map(t, r#"{"kind":"smell"}"#).unwrap_err().code,
            "unknown_type"
        );
        assert_eq!(
            map(t, r#"{"kind":"footfall"}"#).unwrap_err().code,
            "missing_field"
        );
        assert_eq!(
            map(t, r#"{"kind":"footfall","count":1,"extra":true}"#)
                .unwrap_err()
                .code,
            "invalid_field"
        );
        assert_eq!(
            map(
                t,
                r#"{"kind":"footfall","count":1,"timestamp_ms":99999999999999}"#
            )
            .unwrap_err()
            .code,
            "timestamp_in_future"
        );
        assert_eq!(
            map(
                "hc/shop/sensors/only-store",
                r#"{"kind":"footfall","count":1}"#
            )
            .unwrap_err()
            .code,
            "invalid_topic"
        );
    }
}
