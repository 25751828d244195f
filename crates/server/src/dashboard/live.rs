//! Live activity: the conversations happening now, conversation events
//! (escalations, resolutions, hand-backs, human replies) as the agent emits
//! them, and shoppers' behavior events (page and product views, carts,
//! purchases, in-store sensors) as they are stored, pushed to the page over
//! Server-Sent Events.

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use hc_commerce::PageRequest;
use hc_domain::{ConversationStatus, Role, TenantId};
use tokio::sync::broadcast::error::RecvError;

use super::{DashResult, PageCtx, Signed, format_time, render, require};
use crate::state::AppState;

/// Shown per stored batch on the live page; the rest are counted.
pub const SHOPPER_EVENTS_PER_BATCH: usize = 20;

/// A stored batch of behavior events as the live page shows it:
/// `{source, total, events: [{type, session_id, customer_id?, product_id?,
/// item_id?, page_type?, query?, at_ms}]}` (at most
/// [`SHOPPER_EVENTS_PER_BATCH`] events; `total` counts the whole batch).
#[derive(Clone, Debug)]
pub struct ShopperActivity {
    pub tenant: TenantId,
    pub data: Arc<serde_json::Value>,
}

impl ShopperActivity {
    pub fn of_batch(tenant: &TenantId, source: &str, events: &[hc_domain::Event]) -> Self {
        let shown: Vec<serde_json::Value> = events
            .iter()
            .take(SHOPPER_EVENTS_PER_BATCH)
            .map(|e| {
                serde_json::json!({
                    "type": e.kind,
                    "session_id": e.session_id,
                    "customer_id": e.customer_id,
                    "product_id": e.product_id,
                    "item_id": e.item_id,
                    "page_type": e.page_type,
                    "query": e.query.as_ref().map(|q| q.chars().take(100).collect::<String>()),
                    "at_ms": e.timestamp_ms,
                })
            })
            .collect();
        Self {
            tenant: tenant.clone(),
            data: Arc::new(serde_json::json!({
                "source": source,
                "total": events.len(),
                "events": shown,
            })),
        }
    }
}

pub struct LiveRow {
    pub id: String,
    pub status: &'static str,
    pub channel: &'static str,
    pub messages: i64,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "dashboard/live.html")]
struct LivePage {
    page: PageCtx,
    rows: Vec<LiveRow>,
}

pub async fn live_page(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let t = &signed.operator.tenant_id;
    let mut rows = Vec::new();
    for status in [ConversationStatus::Escalated, ConversationStatus::Open] {
        let page = state
            .agent
            .store()
            .list_conversations(t, Some(status), &PageRequest::new(None, Some(25)))
            .await?;
        rows.extend(page.items.into_iter().map(|c| LiveRow {
            id: c.id.to_string(),
            status: c.status.as_str(),
            channel: c.channel.as_str(),
            messages: c.message_count,
            updated: format_time(c.updated_at_ms),
        }));
    }
    render(&LivePage {
        page: PageCtx::new(&signed, "Live activity", "Live"),
        rows,
    })
}

/// `text/event-stream` of the tenant's activity: `activity` events for
/// conversations (`{event, id, status, channel, at_ms, author?, text?}`)
/// and `shopper` events for stored behavior batches ([`ShopperActivity`]).
pub async fn live_events(State(state): State<AppState>, signed: Signed) -> Response {
    if !signed.can(Role::Viewer) {
        return super::DashError::forbidden(Role::Viewer, &signed).into_response();
    }
    let tenant = signed.operator.tenant_id.clone();
    let conversations = futures_util::stream::unfold(
        (state.agent.subscribe(), tenant.clone()),
        |(mut rx, tenant)| async move {
            loop {
                match rx.recv().await {
                    Ok(e) if e.conversation.tenant_id == tenant => {
                        let data = serde_json::json!({
                            "event": e.event,
                            "id": e.conversation.id,
                            "status": e.conversation.status,
                            "channel": e.conversation.channel,
                            "at_ms": e.conversation.updated_at_ms,
                            "author": e.message.as_ref().map(|m| m.author),
                            "text": e.message.as_ref().map(|m| m.text.chars().take(200).collect::<String>()),
                        });
                        let event = Event::default().event("activity").data(data.to_string());
                        return Some((Ok::<_, Infallible>(event), (rx, tenant)));
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let shoppers = futures_util::stream::unfold(
        (state.shopper_live.subscribe(), tenant),
        |(mut rx, tenant)| async move {
            loop {
                match rx.recv().await {
                    Ok(a) if a.tenant == tenant => {
                        let event = Event::default().event("shopper").data(a.data.to_string());
                        return Some((Ok::<_, Infallible>(event), (rx, tenant)));
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    Sse::new(futures_util::stream::select(conversations, shoppers))
        .keep_alive(KeepAlive::default())
        .into_response()
}
