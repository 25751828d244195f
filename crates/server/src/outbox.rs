//! The outbox worker: delivers the queued SMS and email (table `outbox`,
//! `hc_store::OutboxStore`) through Twilio's and Postmark's APIs with the
//! tenant's own account (else the server's), read at delivery time so no
//! credential is stored with a delivery.
//!
//! Each claim takes a lease on the row (`outbox.lease_ms`): a process that
//! dies mid-attempt leaves the delivery due again once the lease runs out, so
//! deliveries survive restarts and any number of processes may share the
//! database (delivery is at least once). A transient failure (network, 429,
//! 5xx) is retried after `retry_base_ms × 4^(attempt − 1)` (capped) until
//! `max_attempts`; a refusal (other 4xx, no account configured) fails at once.
//! A local enqueue wakes the worker; otherwise it polls every `poll_ms`.

use std::time::Duration;

use hc_domain::outbox::{Delivery, DeliveryKind, NewDelivery};
use hc_domain::{Conversation, ConversationId, Message, TenantId};
use hc_store::AttemptOutcome;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::channels::postmark::{Header, OutboundEmail, Postmark};
use crate::channels::{PostmarkAccount, SendError, TwilioAccount, twilio};
use crate::state::AppState;

/// Deliveries claimed per round.
const BATCH: u32 = 16;

/// An outbound SMS as the outbox stores it (no credentials).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SmsPayload {
    pub to: String,
    /// The merchant's number to send from; default the account's first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub body: String,
}

/// Where replies to a channel conversation go, recorded by each inbound
/// message (`conversations.contact`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Contact {
    /// The customer's phone number or email address.
    pub customer: String,
    /// The merchant's number or address the customer wrote to or called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ours: Option<String>,
    /// Email: the reply subject (`Re: …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Email: `In-Reply-To` / `References` of the customer's last message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
}

/// An SMS delivery.
pub fn sms(
    tenant: &TenantId,
    conversation: Option<&ConversationId>,
    payload: &SmsPayload,
) -> NewDelivery {
    NewDelivery {
        tenant_id: tenant.clone(),
        conversation_id: conversation.cloned(),
        kind: DeliveryKind::Sms,
        payload: serde_json::to_value(payload).unwrap_or_default(),
    }
}

/// An email delivery.
pub fn email(
    tenant: &TenantId,
    conversation: Option<&ConversationId>,
    email: &OutboundEmail,
) -> NewDelivery {
    NewDelivery {
        tenant_id: tenant.clone(),
        conversation_id: conversation.cloned(),
        kind: DeliveryKind::Email,
        payload: serde_json::to_value(email).unwrap_or_default(),
    }
}

/// How a human's reply reaches the customer of a channel conversation.
pub enum ReplyRoute {
    Sms(SmsPayload),
    Email(OutboundEmail),
}

impl ReplyRoute {
    /// The delivery carrying `message` of `c`.
    pub fn delivery(&self, c: &Conversation, message: &Message) -> NewDelivery {
        match self {
            Self::Sms(p) => sms(
                &c.tenant_id,
                Some(&c.id),
                &SmsPayload {
                    body: message.text.clone(),
                    ..p.clone()
                },
            ),
            Self::Email(e) => email(
                &c.tenant_id,
                Some(&c.id),
                &OutboundEmail {
                    text_body: message.text.clone(),
                    ..e.clone()
                },
            ),
        }
    }

    pub fn kind(&self) -> DeliveryKind {
        match self {
            Self::Sms(_) => DeliveryKind::Sms,
            Self::Email(_) => DeliveryKind::Email,
        }
    }

    pub fn to(&self) -> &str {
        match self {
            Self::Sms(p) => &p.to,
            Self::Email(e) => &e.to,
        }
    }
}

/// Runs the worker until `stop` turns true.
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let poll = Duration::from_millis(state.config.outbox.poll_ms.max(10));
        loop {
            if *stop.borrow() {
                return;
            }
            let claimed = run_once(&state).await;
            if claimed >= BATCH as usize {
                continue;
            }
            tokio::select! {
                _ = state.outbox_wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => return,
            }
        }
    });
}

/// Claims the due deliveries and attempts each; returns how many were claimed.
pub async fn run_once(state: &AppState) -> usize {
    let cfg = &state.config.outbox;
    let claimed = match state
        .platform
        .claim_deliveries(hc_domain::now_ms(), cfg.lease_ms as i64, BATCH)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "outbox: cannot claim deliveries");
            return 0;
        }
    };
    let n = claimed.len();
    futures_util::future::join_all(claimed.into_iter().map(|d| deliver(state, d))).await;
    n
}

#[tracing::instrument(skip_all, fields(delivery = d.id, tenant = %d.tenant_id, kind = d.kind.as_str(), attempt = d.attempts))]
async fn deliver(state: &AppState, d: Delivery) {
    let cfg = &state.config.outbox;
    let result = attempt(state, &d).await;
    let now = hc_domain::now_ms();
    let outcome = match result {
        Ok(provider_id) => {
            tracing::info!(%provider_id, "delivered");
            AttemptOutcome::Delivered { provider_id }
        }
        Err(SendError::Transient(error)) if d.attempts < cfg.max_attempts => {
            let wait = cfg.backoff_ms(d.attempts);
            tracing::warn!(%error, retry_in_ms = wait, "delivery failed, will retry");
            AttemptOutcome::Retry {
                error,
                at_ms: now.saturating_add(wait as i64),
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "delivery failed for good");
            AttemptOutcome::Failed {
                error: e.to_string(),
            }
        }
    };
    let label = match &outcome {
        AttemptOutcome::Delivered { .. } => "delivered",
        AttemptOutcome::Retry { .. } => "retry",
        AttemptOutcome::Failed { .. } => "failed",
    };
    metrics::counter!("hc_outbox_attempts_total", "kind" => d.kind.as_str(), "outcome" => label)
        .increment(1);
    if let Err(e) = state.platform.finish_attempt(d.id, &outcome, now).await {
        // The lease runs out and the delivery is attempted again.
        tracing::warn!(error = %e, "outbox: cannot record the attempt");
    }
}

async fn attempt(state: &AppState, d: &Delivery) -> Result<String, SendError> {
    let settings = state
        .settings
        .effective(&d.tenant_id)
        .await
        .map_err(|e| SendError::Transient(format!("settings unavailable: {e}")))?;
    let channels = &state.config.channels;
    let malformed = |e: serde_json::Error| SendError::Refused(format!("malformed delivery: {e}"));
    match d.kind {
        DeliveryKind::Sms => {
            let p: SmsPayload = serde_json::from_value(d.payload.clone()).map_err(malformed)?;
            let account = TwilioAccount::resolve(channels, &settings)
                .ok_or_else(|| SendError::Refused("no Twilio account is configured".into()))?;
            let sid = account
                .account_sid
                .as_deref()
                .ok_or_else(|| SendError::Refused("no Twilio account SID is configured".into()))?;
            let from = p
                .from
                .as_deref()
                .or(account.default_from.as_deref())
                .ok_or_else(|| SendError::Refused("no number to send from".into()))?;
            twilio::send_sms(
                &state.http,
                &channels.twilio_api_base,
                sid,
                &account.auth_token,
                from,
                &p.to,
                &p.body,
            )
            .await
        }
        DeliveryKind::Webhook if d.payload.get("endpoint_id").is_some() => {
            let p: crate::tenant_webhooks::EndpointPayload =
                serde_json::from_value(d.payload.clone()).map_err(malformed)?;
            crate::tenant_webhooks::send(state, d, &p).await
        }
        DeliveryKind::Webhook => {
            let p: crate::behavior::WebhookPayload =
                serde_json::from_value(d.payload.clone()).map_err(malformed)?;
            send_webhook(state, d, &p).await
        }
        DeliveryKind::Email => {
            let e: OutboundEmail = serde_json::from_value(d.payload.clone()).map_err(malformed)?;
            let account = PostmarkAccount::resolve(channels, &settings).map_err(|missing| {
                SendError::Refused(format!("no Postmark server is configured ({missing})"))
            })?;
            Postmark::new(
                state.http.clone(),
                &channels.postmark_api_base,
                account.server_token,
            )
            .send(&e)
            .await
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of the body under the trigger's secret>`.
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<sha2_v11::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs a trigger's webhook, signed with the trigger's secret read now (a
/// deleted trigger's pending webhooks are not sent). 2xx delivers; network
/// errors, 408, 429 and 5xx are retried; any other answer fails the delivery.
async fn send_webhook(
    state: &AppState,
    d: &Delivery,
    p: &crate::behavior::WebhookPayload,
) -> Result<String, SendError> {
    let (_, secret) = state
        .platform
        .trigger(&d.tenant_id, &p.trigger_id)
        .await
        .map_err(|e| SendError::Transient(format!("cannot read the trigger: {e}")))?
        .ok_or_else(|| SendError::Refused("the trigger was deleted".into()))?;
    post_signed(state, d, &p.url, &p.event, &secret, &p.body).await
}

/// POSTs `body` as JSON to `url`, signed with `secret` (header
/// `x-hc-signature`). 2xx delivers; network errors, 408, 429 and 5xx are
/// retried; any other answer fails the delivery.
pub(crate) async fn post_signed(
    state: &AppState,
    d: &Delivery,
    url: &str,
    event: &str,
    secret: &str,
    body: &serde_json::Value,
) -> Result<String, SendError> {
    let body = body.to_string();
    let sent = state
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("x-hc-event", event)
        .header("x-hc-delivery", d.id.to_string())
        .header("x-hc-signature", webhook_signature(secret, body.as_bytes()))
        .body(body)
        .send()
        .await
        .map_err(|e| SendError::Transient(e.to_string()))?;
    let status = sent.status();
    if status.is_success() {
        Ok(format!("http {}", status.as_u16()))
    } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(SendError::Transient(format!(
            "the receiver answered {status}"
        )))
    } else {
        Err(SendError::Refused(format!(
            "the receiver answered {status}"
        )))
    }
}
