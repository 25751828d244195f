//! A tenant's own outgoing webhooks (Settings → Webhooks on the dashboard):
//! each conversation lifecycle event of the tenant is queued in the durable
//! outbox once per endpoint, then POSTed as JSON and signed with the
//! endpoint's secret (`x-hc-signature: sha256=<HMAC>`), with the outbox's
//! retries. The delivery log is the outbox's webhook rows. A deleted
//! endpoint's pending deliveries are not sent.

use hc_domain::outbox::{Delivery, DeliveryKind, NewDelivery};
use hc_store::WebhookEndpoint;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::channels::SendError;
use crate::state::AppState;

/// An endpoint's delivery as the outbox stores it (no secret).
#[derive(Debug, Serialize, Deserialize)]
pub struct EndpointPayload {
    pub url: String,
    pub endpoint_id: String,
    pub event: String,
    pub body: Value,
}

/// The delivery of `event` to `endpoint`.
pub fn delivery(endpoint: &WebhookEndpoint, event: &str, body: Value) -> NewDelivery {
    NewDelivery {
        tenant_id: endpoint.tenant_id.clone(),
        conversation_id: None,
        kind: DeliveryKind::Webhook,
        payload: serde_json::to_value(EndpointPayload {
            url: endpoint.url.clone(),
            endpoint_id: endpoint.id.clone(),
            event: event.to_string(),
            body,
        })
        .unwrap_or(Value::Null),
    }
}

/// Queues every conversation event of a tenant for each of its endpoints
/// until the agent is dropped.
pub fn spawn(state: AppState) {
    let mut events = state.agent.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) if event.event.starts_with("conversation.") => {
                    let t = &event.conversation.tenant_id;
                    let endpoints = match state.platform.list_webhook_endpoints(t).await {
                        Ok(e) => e,
                        Err(e) => {
                            tracing::warn!(tenant = %t, error = %e, "cannot read webhook endpoints");
                            continue;
                        }
                    };
                    if endpoints.is_empty() {
                        continue;
                    }
                    let body = serde_json::to_value(&event).unwrap_or(Value::Null);
                    for e in &endpoints {
                        if let Err(err) = state
                            .platform
                            .enqueue(&delivery(e, event.event, body.clone()))
                            .await
                        {
                            tracing::warn!(tenant = %t, error = %err, "cannot queue a webhook");
                        }
                    }
                    state.outbox_wake.notify_one();
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "tenant webhook dispatcher fell behind")
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Sends one endpoint delivery with the endpoint's secret read now.
pub async fn send(
    state: &AppState,
    d: &Delivery,
    p: &EndpointPayload,
) -> Result<String, SendError> {
    let (_, secret) = state
        .platform
        .webhook_endpoint(&d.tenant_id, &p.endpoint_id)
        .await
        .map_err(|e| SendError::Transient(format!("cannot read the endpoint: {e}")))?
        .ok_or_else(|| SendError::Refused("the endpoint was removed".into()))?;
    crate::outbox::post_signed(state, d, &p.url, &p.event, &secret, &p.body).await
}
