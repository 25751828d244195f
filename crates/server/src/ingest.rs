//! Event ingestion shared by `POST /v1/events`, the public tracker endpoint
//! and the MQTT sensor bridge: split a body into events, validate each one,
//! refuse the whole batch if any is bad (listing each by index, and keeping
//! the bad ones in the quarantine), otherwise store it durably. Counted in
//! `hc_events_accepted_total`, `hc_events_duplicates_total` and
//! `hc_events_rejected_total{code}` by `source`.

use hc_domain::{Event, EventLimits, Rejection, TenantId, events::parse_event};
use hc_store::{Appended, NewQuarantine};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::state::AppState;

/// Where events came from (a metrics label and the quarantine's `source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Api,
    Tracker,
    Mqtt,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Tracker => "tracker",
            Source::Mqtt => "mqtt",
        }
    }
}

/// One refused event of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invalid {
    /// Position in the batch (0-based; for NDJSON, among the non-blank lines).
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// Why a batch was not stored.
#[derive(Debug)]
pub enum IngestError {
    /// Some events are invalid; nothing was stored.
    Invalid {
        total: usize,
        invalid: Vec<Invalid>,
    },
    Store(hc_store::Error),
}

/// Most refused events of one batch kept in the quarantine (all are reported
/// to the sender and counted).
const QUARANTINE_PER_BATCH: usize = 100;

/// How a body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A JSON array of event objects.
    JsonArray,
    /// One JSON object per line.
    Ndjson,
}

impl Framing {
    /// From a `Content-Type`: NDJSON / JSON Lines types mean [`Framing::Ndjson`],
    /// anything else a JSON array.
    pub fn of_content_type(content_type: Option<&str>) -> Self {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match essence.as_str() {
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/jsonlines" => Framing::Ndjson,
            _ => Framing::JsonArray,
        }
    }
}

/// Splits a body into one JSON text per event.
pub fn split_body(body: &[u8], framing: Framing) -> Result<Vec<&str>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("invalid_body", "the body must be UTF-8"))?;
    match framing {
        Framing::Ndjson => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()),
        Framing::JsonArray => {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
                if e.is_data() {
                    ApiError::bad_request(
                        "expected_array",
                        "send a JSON array of events (or NDJSON with Content-Type: application/x-ndjson)",
                    )
                } else {
                    ApiError::bad_request("invalid_json", e.to_string())
                }
            })?;
            Ok(items.into_iter().map(RawValue::get).collect())
        }
    }
}

fn event_id_of(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("event_id")?
        .as_str()
        .map(|s| s.chars().take(128).collect())
}

/// Validates every event; the events, or every refusal.
pub fn validate(
    payloads: &[&str],
    now_ms: i64,
    limits: &EventLimits,
) -> Result<Vec<Event>, Vec<(usize, Rejection)>> {
    let mut events = Vec::with_capacity(payloads.len());
    let mut bad = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        match parse_event(p, now_ms, limits) {
            Ok(e) => events.push(e),
            Err(r) => bad.push((i, r)),
        }
    }
    if bad.is_empty() { Ok(events) } else { Err(bad) }
}

/// Validates and stores a batch for `tenant`.
pub async fn ingest(
    state: &AppState,
    tenant: &TenantId,
    source: Source,
    payloads: &[&str],
) -> Result<Appended, IngestError> {
    let limits = &state.config.events.limits;
    match validate(payloads, hc_domain::now_ms(), limits) {
        Ok(events) => store(state, tenant, source, events).await,
        Err(bad) => {
            let invalid: Vec<Invalid> = bad
                .into_iter()
                .map(|(index, r)| Invalid {
                    index,
                    event_id: event_id_of(payloads[index]),
                    code: r.code,
                    message: r.message,
                })
                .collect();
            for i in &invalid {
                metrics::counter!("hc_events_rejected_total", "source" => source.as_str(), "code" => i.code)
                    .increment(1);
            }
            let quarantined = invalid
                .iter()
                .take(QUARANTINE_PER_BATCH)
                .map(|i| NewQuarantine {
                    source: source.as_str().into(),
                    code: i.code.into(),
                    reason: i.message.clone(),
                    payload: payloads[i.index].to_string(),
                })
                .collect();
            if let Err(e) = state.platform.quarantine(tenant, quarantined).await {
                tracing::warn!(error = %e, "cannot quarantine refused events");
            }
            Err(IngestError::Invalid {
                total: payloads.len(),
                invalid,
            })
        }
    }
}

/// Stores validated events and counts them.
pub async fn store(
    state: &AppState,
    tenant: &TenantId,
    source: Source,
    events: Vec<Event>,
) -> Result<Appended, IngestError> {
    let observations = pricing_observations(&events);
    // Built only while a live page listens: ingestion at full rate pays nothing.
    let live = (state.shopper_live.receiver_count() > 0).then(|| {
        crate::dashboard::live::ShopperActivity::of_batch(tenant, source.as_str(), &events)
    });
    let appended = state
        .platform
        .append_events(tenant, events)
        .await
        .map_err(IngestError::Store)?;
    if let Some(live) = live {
        // Nobody listening any more is fine.
        let _ = state.shopper_live.send(live);
    }
    learn_prices(state, tenant, observations, &appended).await;
    metrics::counter!("hc_events_accepted_total", "source" => source.as_str())
        .increment(appended.accepted);
    metrics::counter!("hc_events_duplicates_total", "source" => source.as_str())
        .increment(appended.duplicates);
    Ok(appended)
}

/// What the pricing engine learns from a batch: each `product_view` with
/// the price shown, and each `purchase` with the price paid and quantity,
/// of a catalog variant (`item_id`), at the event's own time.
fn pricing_observations(events: &[Event]) -> Vec<crate::pricing::PricingObservation> {
    events
        .iter()
        .filter_map(|e| {
            let purchased = match e.kind {
                hc_domain::EventType::ProductView => false,
                hc_domain::EventType::Purchase => true,
                _ => return None,
            };
            Some(crate::pricing::PricingObservation {
                item_id: e.item_id.clone()?,
                price_shown: e.price?.to_decimal(),
                purchased,
                quantity: if purchased {
                    e.quantity.unwrap_or(1)
                } else {
                    0
                },
                context: Default::default(),
                at: e.timestamp_ms.div_euclid(1000),
            })
        })
        .collect()
}

/// One stored batch's pricing observations, waiting to be learned.
pub struct LearnJob {
    tenant: TenantId,
    observations: Vec<crate::pricing::PricingObservation>,
}

/// Batches the learning queue holds before ingestion waits for room.
pub const LEARN_QUEUE_BATCHES: usize = 256;
/// Most observations one learning transaction takes (queued batches of a
/// tenant are merged up to this).
pub const LEARN_COALESCE: usize = 20_000;

/// Feeds the tenant's demand model after the batch is stored, off the
/// request path, through this process's bounded learning queue: one worker
/// drains it, merging the queued batches of each tenant into one learning
/// transaction. When the queue is full, ingestion waits for room before it
/// acknowledges (backpressure), so an acknowledged event is never dropped
/// by learning; a batch still queued when the process stops is not learned
/// (its events stay in the log). A batch that held duplicates (a retry) is
/// not learned from at all, so that a resent event is never counted twice:
/// the log tells new events from repeats only in totals.
async fn learn_prices(
    state: &AppState,
    tenant: &TenantId,
    observations: Vec<crate::pricing::PricingObservation>,
    appended: &Appended,
) {
    if observations.is_empty() {
        return;
    }
    if appended.duplicates > 0 {
        metrics::counter!("hc_pricing_observations_skipped_total")
            .increment(observations.len() as u64);
        return;
    }
    let queue = state
        .pricing
        .learner
        .get_or_init(|| async {
            let (tx, rx) = tokio::sync::mpsc::channel(LEARN_QUEUE_BATCHES);
            tokio::spawn(learn_worker(state.clone(), rx));
            tx
        })
        .await;
    let job = LearnJob {
        tenant: tenant.clone(),
        observations,
    };
    if queue.send(job).await.is_err() {
        tracing::error!(%tenant, "the pricing learner has stopped");
    }
    metrics::gauge!("hc_pricing_learn_queue_batches")
        .set((LEARN_QUEUE_BATCHES - queue.capacity()) as f64);
}

/// The learning worker: takes a batch, merges whatever else is queued by
/// tenant (up to [`LEARN_COALESCE`] observations), learns each tenant's in
/// one transaction, retrying a failed one twice.
async fn learn_worker(state: AppState, mut rx: tokio::sync::mpsc::Receiver<LearnJob>) {
    while let Some(first) = rx.recv().await {
        let mut merged: Vec<LearnJob> = vec![first];
        let mut total: usize = merged[0].observations.len();
        while total < LEARN_COALESCE {
            let Ok(job) = rx.try_recv() else { break };
            total += job.observations.len();
            match merged.iter_mut().find(|m| m.tenant == job.tenant) {
                Some(m) => m.observations.extend(job.observations),
                None => merged.push(job),
            }
        }
        for job in merged {
            learn_with_retries(&state, &job).await;
        }
        metrics::gauge!("hc_pricing_learn_queue_batches").set(rx.len() as f64);
    }
}

async fn learn_with_retries(state: &AppState, job: &LearnJob) {
    for attempt in 0..3u64 {
        match crate::pricing::observe(state, &job.tenant, &job.observations).await {
            Ok(out) => {
                metrics::counter!("hc_pricing_observations_learned_total")
                    .increment(out.accepted as u64);
                metrics::counter!("hc_pricing_observations_quarantined_total")
                    .increment(out.quarantined.len() as u64);
                return;
            }
            Err(e) => {
                tracing::warn!(tenant = %job.tenant, attempt, error = %e.message,
                    "pricing could not learn from events");
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    metrics::counter!("hc_pricing_observations_failed_total")
        .increment(job.observations.len() as u64);
}

/// Keeps one refused message that never became a batch (e.g. a garbage MQTT payload).
pub async fn quarantine_one(
    state: &AppState,
    tenant: &TenantId,
    source: Source,
    rejection: &Rejection,
    payload: &str,
) {
    metrics::counter!("hc_events_rejected_total", "source" => source.as_str(), "code" => rejection.code)
        .increment(1);
    let entry = NewQuarantine {
        source: source.as_str().into(),
        code: rejection.code.into(),
        reason: rejection.message.clone(),
        payload: payload.to_string(),
    };
    if let Err(e) = state.platform.quarantine(tenant, vec![entry]).await {
        tracing::warn!(error = %e, "cannot quarantine a refused event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_split_by_their_framing() {
        let arr = br#"[{"a":1}, {"b":[1,2]}]"#;
        assert_eq!(
            split_body(arr, Framing::JsonArray).unwrap(),
            [r#"{"a":1}"#, r#"{"b":[1,2]}"#]
        );
        let nd = b"{\"a\":1}\n\n  {\"b\":2}\r\nnot json\n";
        assert_eq!(
            split_body(nd, Framing::Ndjson).unwrap(),
            [r#"{"a":1}"#, r#"{"b":2}"#, "not json"]
        );
        assert_eq!(
            split_body(br#"{"a":1}"#, Framing::JsonArray)
                .unwrap_err()
                .code,
            "expected_array"
        );
        assert_eq!(
            split_body(b"[{", Framing::JsonArray).unwrap_err().code,
            "invalid_json"
        );
        assert_eq!(
            Framing::of_content_type(Some("application/x-ndjson; charset=utf-8")),
            Framing::Ndjson
        );
        assert_eq!(
            Framing::of_content_type(Some("application/json")),
            Framing::JsonArray
        );
        assert_eq!(Framing::of_content_type(None), Framing::JsonArray);
    }
}
