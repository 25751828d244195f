//! Live activity: the conversations happening now, and conversation events
//! (escalations, resolutions, hand-backs, human replies) pushed to the page
//! over Server-Sent Events as the agent emits them.

use std::convert::Infallible;

use askama::Template;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use hc_commerce::PageRequest;
use hc_domain::{ConversationStatus, Role};
use tokio::sync::broadcast::error::RecvError;

use super::{DashResult, PageCtx, Signed, format_time, render, require};
use crate::state::AppState;

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

/// `text/event-stream` of the tenant's conversation events: `activity`
/// events with `{event, id, status, channel, at_ms, author?, text?}`.
pub async fn live_events(State(state): State<AppState>, signed: Signed) -> Response {
    if !signed.can(Role::Viewer) {
        return super::DashError::forbidden(Role::Viewer, &signed).into_response();
    }
    let tenant = signed.operator.tenant_id.clone();
    let rx = state.agent.subscribe();
    let stream = futures_util::stream::unfold(rx, move |mut rx| {
        let tenant = tenant.clone();
        async move {
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
                        return Some((Ok::<_, Infallible>(event), rx));
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
