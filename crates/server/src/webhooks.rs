//! Outgoing webhooks: conversation events POSTed as JSON to the configured
//! URL, with retries and backoff. Delivery is at least once per event while
//! the process runs; events are not persisted across restarts (noted in the
//! README as a limitation).

use std::time::Duration;

use hc_agent::AgentEvent;
use tokio::sync::broadcast::error::RecvError;

const ATTEMPTS: u32 = 4;

/// Delivers every agent event to `url` until the agent is dropped.
pub fn spawn(agent: &hc_agent::Agent, url: String) {
    let mut events = agent.subscribe();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                // Conversation lifecycle events only; a human's own reply is not news to the operator.
                Ok(event) if event.event.starts_with("conversation.") => {
                    deliver(&client, &url, &event).await
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "webhook dispatcher fell behind")
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

async fn deliver(client: &reqwest::Client, url: &str, event: &AgentEvent) {
    for attempt in 0..ATTEMPTS {
        let sent = client
            .post(url)
            .header("x-hc-event", event.event)
            .json(event)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                metrics::counter!("hc_webhook_deliveries_total", "outcome" => "ok").increment(1);
                return;
            }
            Ok(r) => tracing::warn!(status = %r.status(), attempt, "webhook refused"),
            Err(e) => tracing::warn!(error = %e, attempt, "webhook failed"),
        }
        tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt))).await;
    }
    metrics::counter!("hc_webhook_deliveries_total", "outcome" => "failed").increment(1);
}
