//! Proactive messages: a trigger that fires about a known customer (churn
//! risk rose, a cart was abandoned) can have the agent write first.
//!
//! The agent emails the trigger's `message` (`{first_name}` filled in) to
//! the customer's address on file, in the live email conversation tied to
//! that address or a new one, so the customer's reply continues it with the
//! agent (who still asks them to confirm who they are before account data,
//! as on every channel). The message and its outbox delivery are stored in
//! one transaction; Postmark sends it with the outbox's retries.
//!
//! It runs after the firing is recorded: a crash between the two loses the
//! message (the webhook, queued with the firing, is still sent); a firing
//! is never recorded twice, so no customer gets the message twice.

use hc_domain::{Channel, TenantId, Trigger, UserId};

use crate::error::ApiResult;
use crate::outbox::Contact;
use crate::state::AppState;

/// Sends the trigger's proactive message to `customer`, when it has one and
/// the customer can be emailed; failures are logged, never raised (the
/// firing itself stands).
pub async fn on_firing(
    state: &AppState,
    t: &TenantId,
    trigger: &Trigger,
    customer: Option<&String>,
) {
    let (Some(_), Some(customer)) = (&trigger.message, customer) else {
        return;
    };
    match send(state, t, trigger, customer).await {
        Ok(Some(conversation)) => {
            metrics::counter!("hc_proactive_messages_total").increment(1);
            tracing::info!(tenant = %t, trigger = %trigger.id, %conversation, "proactive message queued");
        }
        Ok(None) => {
            tracing::info!(tenant = %t, trigger = %trigger.id, "no proactive message: the customer has no email on file")
        }
        Err(e) => {
            tracing::warn!(tenant = %t, trigger = %trigger.id, error = %e.message, "proactive message not sent")
        }
    }
}

/// Stores and queues the message; `None` when the customer is unknown or
/// has no email address.
async fn send(
    state: &AppState,
    t: &TenantId,
    trigger: &Trigger,
    customer: &str,
) -> ApiResult<Option<hc_domain::ConversationId>> {
    let Ok(id) = UserId::parse(customer) else {
        return Ok(None);
    };
    let Some(c) = state.tools.retail().store().customer(t, &id).await? else {
        return Ok(None);
    };
    let address = c.email.trim().to_lowercase();
    if !address.contains('@') {
        return Ok(None);
    }
    let Some(text) = trigger.message_for(&c.name.first_name) else {
        return Ok(None);
    };
    let (conversation, new) = state
        .agent
        .continue_or_start(t, Channel::Email, &address)
        .await?;
    if new {
        // A live conversation keeps its own contact (subject, threading).
        let settings = state.settings.effective(t).await?;
        let brand = settings.brand.clone().unwrap_or_else(|| t.to_string());
        let contact = Contact {
            customer: address,
            ours: None,
            subject: Some(format!("A note from {brand}")),
            headers: Vec::new(),
        };
        let contact = serde_json::to_value(&contact).map_err(crate::error::ApiError::internal)?;
        state
            .platform
            .set_contact(t, &conversation.id, &contact)
            .await?;
    }
    // No email account: nothing is stored (the route is checked first).
    let route = crate::api::conversations::reply_route(state, &conversation, &text)
        .await?
        .ok_or_else(|| crate::error::ApiError::internal("an email conversation without a route"))?;
    state
        .agent
        .proactive_message_delivering(t, &conversation.id, &text, |c, m| {
            Some(route.delivery(c, m))
        })
        .await?;
    state.outbox_wake.notify_one();
    Ok(Some(conversation.id))
}
