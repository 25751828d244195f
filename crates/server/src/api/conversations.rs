//! Conversations (SPEC §6): open one, send a message and get the agent's
//! reply with every tool call, read the transcript, list them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_agent::TurnResult;
use hc_commerce::Page;
use hc_domain::{Channel, Conversation, ConversationId, ConversationStatus, Message, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use hc_domain::outbox::{DeliveryKind, DeliveryStatus, OutboxCounts};

use crate::api::PageQuery;
use crate::auth::Principal;
use crate::channels::postmark::OutboundEmail;
use crate::channels::{PostmarkAccount, TwilioAccount};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Query};
use crate::outbox::{Contact, ReplyRoute, SmsPayload};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/conversations",
            post(create_conversation).get(list_conversations),
        )
        .route("/v1/conversations/{id}", get(get_conversation))
        .route("/v1/conversations/{id}/messages", post(send_message))
        .route(
            "/v1/conversations/{id}/messages/stream",
            post(send_message_streaming),
        )
        .route("/v1/conversations/{id}/ws", get(conversation_ws))
        .route("/v1/conversations/{id}/human-reply", post(human_reply))
        .route("/v1/conversations/{id}/hand-back", post(hand_back))
        .route("/v1/conversations/{id}/close", post(close_conversation))
        .route("/v1/inbox", get(list_inbox))
        .route("/v1/stats", get(get_stats))
        .route("/v1/outbox", get(list_outbox))
}

impl From<hc_agent::Error> for ApiError {
    fn from(e: hc_agent::Error) -> Self {
        use hc_agent::Error as E;
        match e {
            E::ConversationNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, e.code(), e.to_string())
            }
            E::ConversationClosed(..) => {
                ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string())
            }
            E::InvalidMessage(_) => ApiError::bad_request(e.code(), e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    /// chat (default), email, sms, voice or api.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub channel: Option<Channel>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// What the customer wrote (1 to 4096 bytes).
    pub text: String,
}

#[derive(Serialize)]
pub struct Transcript {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

fn conversation_id(raw: String) -> ApiResult<ConversationId> {
    ConversationId::parse(raw).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
}

/// Opens a conversation for a shopper (agent role: the integration or widget acts for them).
#[utoipa::path(post, path = "/v1/conversations", tag = "conversations", request_body = CreateConversation,
    responses((status = 201, description = "The conversation: `{id, status, channel, ...}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn create_conversation(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(req): JsonBody<Option<CreateConversation>>,
) -> ApiResult<(StatusCode, Json<Conversation>)> {
    principal.require(Role::Agent)?;
    let channel = req.and_then(|r| r.channel).unwrap_or_default();
    let c = state.agent.start(&principal.key.tenant_id, channel).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Sends the customer's message; returns the agent's reply, its tool calls and the status.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path)), request_body = SendMessage,
    responses((status = 200, description = "`{reply: {text, ...}, tool_calls: [{name, arguments, output|error, confidence}], status}`", body = serde_json::Value),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, description = "conversation_closed", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn send_message(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SendMessage>,
) -> ApiResult<Json<TurnResult>> {
    principal.require(Role::Agent)?;
    let id = conversation_id(id)?;
    Ok(Json(
        state
            .agent
            .handle(&principal.key.tenant_id, &id, &req.text)
            .await?,
    ))
}

/// One piece of a streamed turn.
enum Piece {
    Delta(String),
    Done(Box<hc_agent::Result<TurnResult>>),
}

/// Runs a turn in its own task; its reply text arrives piece by piece, then the result.
fn spawn_turn(
    state: &AppState,
    tenant: hc_domain::TenantId,
    id: ConversationId,
    text: String,
) -> tokio::sync::mpsc::UnboundedReceiver<Piece> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (dtx, mut drx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let agent = state.agent.clone();
    tokio::spawn(async move {
        // The sink closes when the turn ends, so every delta is forwarded before the result.
        let forward = async {
            while let Some(d) = drx.recv().await {
                let _ = tx.send(Piece::Delta(d));
            }
        };
        let turn = agent.handle_streaming(&tenant, &id, &text, Some(dtx));
        let (result, ()) = tokio::join!(turn, forward);
        let _ = tx.send(Piece::Done(Box::new(result)));
    });
    rx
}

/// Sends a message and streams the reply as server-sent events: `delta`
/// events carry `{text}` pieces as the brain produces them (token by token
/// from an LLM), then one `turn` event carries the same body as the
/// non-streaming endpoint. Errors before the turn starts are plain JSON errors.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages/stream", tag = "conversations",
    params(("id" = String, Path)), request_body = SendMessage,
    responses((status = 200, description = "`text/event-stream`: `delta` events `{text}`, then a `turn` event `{reply, tool_calls, status}`", content_type = "text/event-stream", body = String),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, description = "conversation_closed", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn send_message_streaming(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SendMessage>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    use axum::response::sse::{Event, KeepAlive, Sse};
    principal.require(Role::Agent)?;
    let id = conversation_id(id)?;
    let mut rx = spawn_turn(&state, principal.key.tenant_id.clone(), id, req.text);
    let first = rx.recv().await;
    let first = match first {
        Some(Piece::Done(result)) => {
            // Failed (or finished) before any text: answer as the plain endpoint would.
            let turn = (*result)?;
            Some(Piece::Done(Box::new(Ok(turn))))
        }
        other => other,
    };
    let event = |p: Piece| -> Event {
        match p {
            Piece::Delta(text) => Event::default()
                .event("delta")
                .data(serde_json::json!({ "text": text }).to_string()),
            Piece::Done(result) => match *result {
                Ok(turn) => Event::default()
                    .event("turn")
                    .data(serde_json::to_string(&turn).unwrap_or_default()),
                Err(e) => Event::default().event("error").data(
                    serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}})
                        .to_string(),
                ),
            },
        }
    };
    let stream = futures_util::stream::unfold((first, rx), move |(next, mut rx)| async move {
        let piece = match next {
            Some(p) => p,
            None => rx.recv().await?,
        };
        Some((Ok::<_, std::convert::Infallible>(event(piece)), (None, rx)))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The conversation with its transcript, every tool call and its confidence.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_conversation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Transcript>> {
    principal.require(Role::Viewer)?;
    let id = conversation_id(id)?;
    let (conversation, messages) = state
        .agent
        .conversation(&principal.key.tenant_id, &id)
        .await?;
    Ok(Json(Transcript {
        conversation,
        messages,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConversationQuery {
    /// open, resolved, escalated or abandoned.
    pub status: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// Lists conversations, most recently active first.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", params(ConversationQuery),
    responses((status = 200, body = serde_json::Value)), security(("api_key" = [])))]
pub async fn list_conversations(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ConversationQuery>,
) -> ApiResult<Json<Page<Conversation>>> {
    principal.require(Role::Viewer)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(ConversationStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_status", "unknown conversation status")
        })?),
    };
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    }
    .page();
    Ok(Json(
        state
            .agent
            .store()
            .list_conversations(&principal.key.tenant_id, status, &page)
            .await?,
    ))
}

/// One escalated conversation in the inbox.
#[derive(Serialize)]
pub struct InboxItem {
    pub id: ConversationId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<hc_domain::UserId>,
    pub escalation: Option<hc_domain::Escalation>,
    pub message_count: i64,
    pub updated_at_ms: i64,
}

/// The escalation inbox: conversations waiting for a human, with their handoff summaries.
#[utoipa::path(get, path = "/v1/inbox", tag = "conversations", params(PageQuery),
    responses((status = 200, description = "`{items: [{id, customer, escalation: {reason, summary, at_ms}, message_count, updated_at_ms}], next_cursor}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_inbox(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Page<InboxItem>>> {
    principal.require(Role::Agent)?;
    let page = state
        .agent
        .store()
        .list_conversations(
            &principal.key.tenant_id,
            Some(ConversationStatus::Escalated),
            &q.page(),
        )
        .await?;
    Ok(Json(Page {
        items: page
            .items
            .into_iter()
            .map(|c| InboxItem {
                id: c.id,
                customer: c.customer,
                escalation: c.escalation,
                message_count: c.message_count,
                updated_at_ms: c.updated_at_ms,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// What a human's reply returns: the conversation, and the delivery that
/// carries the reply over the conversation's own channel, if any.
#[derive(Serialize)]
pub struct HumanReplied {
    #[serde(flatten)]
    pub conversation: Conversation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryRef>,
}

/// A reply queued in the outbox.
#[derive(Serialize)]
pub struct DeliveryRef {
    pub kind: DeliveryKind,
    pub to: String,
}

/// Twilio refuses longer message bodies (error 21617).
const MAX_SMS_CHARS: usize = 1600;

fn channel_unavailable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "channel_unavailable", message)
}

/// How a human's reply reaches the customer of `c`: SMS for SMS and voice
/// conversations, email for email ones, from the contact their last inbound
/// message left. `None` for chat and API conversations, and for channel
/// conversations opened through the API (no contact: the integration
/// delivers). An error, before anything is stored, when the tenant has no
/// account to send with or the text cannot be sent that way.
pub(crate) async fn reply_route(
    state: &AppState,
    c: &Conversation,
    text: &str,
) -> ApiResult<Option<ReplyRoute>> {
    let sms = match c.channel {
        Channel::Sms | Channel::Voice => true,
        Channel::Email => false,
        _ => return Ok(None),
    };
    let Some(contact) = state.platform.contact(&c.tenant_id, &c.id).await? else {
        return Ok(None);
    };
    let contact: Contact = serde_json::from_value(contact)
        .map_err(|e| ApiError::internal(format!("unreadable contact of {}: {e}", c.id)))?;
    let settings = state.settings.effective(&c.tenant_id).await?;
    let channels = &state.config.channels;
    if sms {
        let account = TwilioAccount::resolve(channels, &settings)
            .filter(TwilioAccount::can_send)
            .ok_or_else(|| {
                channel_unavailable(
                    "this conversation is answered by SMS, but no Twilio account SID and auth token are configured",
                )
            })?;
        if text.trim().chars().count() > MAX_SMS_CHARS {
            return Err(ApiError::bad_request(
                "invalid_message",
                format!("an SMS reply may be at most {MAX_SMS_CHARS} characters"),
            ));
        }
        // Reply from the number the customer used when it is one of the
        // tenant's (or the server's account is used), else the default.
        let from = contact
            .ours
            .filter(|n| match &settings.channels.twilio {
                Some(t) => t.phone_numbers.contains(n),
                None => true,
            })
            .or(account.default_from);
        return Ok(Some(ReplyRoute::Sms(SmsPayload {
            to: contact.customer,
            from,
            body: String::new(),
        })));
    }
    let account = PostmarkAccount::resolve(channels, &settings).map_err(|missing| {
        channel_unavailable(format!(
            "this conversation is answered by email, but no Postmark server is configured ({missing})"
        ))
    })?;
    Ok(Some(ReplyRoute::Email(OutboundEmail {
        from: account.from,
        to: contact.customer,
        subject: contact.subject.unwrap_or_else(|| "Re: your message".into()),
        text_body: String::new(),
        headers: contact.headers,
        message_stream: "outbound".into(),
    })))
}

/// A human support agent replies; an open conversation is taken over first.
/// On an SMS, voice or email conversation the reply is also delivered over
/// that channel (voice: by SMS to the caller): it joins the outbox in the
/// same transaction as the message.
#[utoipa::path(post, path = "/v1/conversations/{id}/human-reply", tag = "conversations",
    params(("id" = String, Path)), request_body = SendMessage,
    responses((status = 200, description = "The conversation, with `delivery: {kind, to}` when the reply is being sent over its channel", body = serde_json::Value),
              (status = 400, description = "invalid_message (e.g. an SMS reply over 1600 characters)", body = crate::openapi::ErrorBody),
              (status = 409, description = "conversation_closed, or channel_unavailable: no account to deliver with; nothing stored", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn human_reply(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SendMessage>,
) -> ApiResult<Json<HumanReplied>> {
    principal.require(Role::Agent)?;
    let id = conversation_id(id)?;
    let who = principal.actor().principal;
    Ok(Json(
        send_human_reply(&state, &principal.key.tenant_id, &id, &who, &req.text).await?,
    ))
}

/// A person's reply (`who`: the audit principal), delivered over the
/// conversation's channel when it has one; shared by the API and the dashboard.
pub(crate) async fn send_human_reply(
    state: &AppState,
    tenant: &hc_domain::TenantId,
    id: &ConversationId,
    who: &str,
    text: &str,
) -> ApiResult<HumanReplied> {
    let current = state
        .agent
        .store()
        .conversation(tenant, id)
        .await?
        .ok_or_else(|| ApiError::from(hc_agent::Error::ConversationNotFound(id.clone())))?;
    let route = reply_route(state, &current, text).await?;
    let conversation = state
        .agent
        .human_reply_delivering(tenant, id, who, text, |c, m| {
            route.as_ref().map(|r| r.delivery(c, m))
        })
        .await?;
    let delivery = route.map(|r| {
        state.outbox_wake.notify_one();
        DeliveryRef {
            kind: r.kind(),
            to: r.to().to_string(),
        }
    });
    Ok(HumanReplied {
        conversation,
        delivery,
    })
}

/// Hands an escalated conversation back to the AI.
#[utoipa::path(post, path = "/v1/conversations/{id}/hand-back", tag = "conversations",
    params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn hand_back(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Conversation>> {
    principal.require(Role::Agent)?;
    let id = conversation_id(id)?;
    Ok(Json(
        state.agent.hand_back(&principal.key.tenant_id, &id).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseConversation {
    /// resolved or abandoned.
    pub status: String,
}

/// Closes a conversation as resolved or abandoned.
#[utoipa::path(post, path = "/v1/conversations/{id}/close", tag = "conversations",
    params(("id" = String, Path)), request_body = CloseConversation,
    responses((status = 200, body = serde_json::Value), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn close_conversation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CloseConversation>,
) -> ApiResult<Json<Conversation>> {
    principal.require(Role::Agent)?;
    let id = conversation_id(id)?;
    let status = ConversationStatus::parse(&req.status)
        .ok_or_else(|| ApiError::bad_request("invalid_status", "use resolved or abandoned"))?;
    Ok(Json(
        state
            .agent
            .close(&principal.key.tenant_id, &id, status)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// Only conversations active since this time (ms since epoch); default: all.
    pub since_ms: Option<i64>,
}

/// Conversation statistics and the state of outbound deliveries.
#[derive(Serialize)]
pub struct StatsBody {
    #[serde(flatten)]
    pub conversations: hc_agent::Stats,
    /// The tenant's outbox: deliveries pending, delivered and failed (all time).
    pub outbox: OutboxCounts,
}

/// Conversation counts and rates: share resolved by AI, escalation rate, CSAT,
/// response times; and the outbox's pending, delivered and failed deliveries.
#[utoipa::path(get, path = "/v1/stats", tag = "conversations", params(StatsQuery),
    responses((status = 200, body = serde_json::Value)), security(("api_key" = [])))]
pub async fn get_stats(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<StatsBody>> {
    principal.require(Role::Viewer)?;
    let tenant = &principal.key.tenant_id;
    Ok(Json(StatsBody {
        conversations: state.agent.stats(tenant, q.since_ms.unwrap_or(0)).await?,
        outbox: state.platform.outbox_counts(tenant).await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// pending, delivered or failed; default: all.
    pub status: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// The tenant's outbound SMS and email, newest first: status, attempts, last error.
#[utoipa::path(get, path = "/v1/outbox", tag = "conversations", params(OutboxQuery),
    responses((status = 200, description = "`{items: [{id, conversation_id, kind, payload, status, attempts, next_attempt_at_ms, last_error, provider_id, created_at_ms, updated_at_ms}]}`", body = serde_json::Value),
              (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_outbox(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<OutboxQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_status", "use pending, delivered or failed")
        })?),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be between 1 and 200",
        ));
    }
    let items = state
        .platform
        .list_deliveries(&principal.key.tenant_id, status, limit)
        .await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// A WebSocket per conversation: send `{"text": "..."}` (or plain text) frames
/// and get `{"type": "turn", reply, tool_calls, status}` back; events for this
/// conversation (a human's reply, escalation, hand-back) are pushed as
/// `{"type": "event", event, message?, conversation}`.
pub async fn conversation_ws(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> ApiResult<axum::response::Response> {
    principal.require(Role::Agent)?;
    let id = conversation_id(id)?;
    let tenant = principal.key.tenant_id.clone();
    state.agent.conversation(&tenant, &id).await?;
    Ok(ws
        .max_message_size(16 * 1024)
        .on_upgrade(move |socket| run_socket(state, tenant, id, socket)))
}

async fn run_socket(
    state: AppState,
    tenant: hc_domain::TenantId,
    id: ConversationId,
    mut socket: axum::extract::ws::WebSocket,
) {
    use axum::extract::ws::Message as Frame;
    use tokio::sync::broadcast::error::RecvError;
    let mut events = state.agent.subscribe();
    loop {
        let outgoing = tokio::select! {
            frame = socket.recv() => match frame {
                Some(Ok(Frame::Text(text))) => {
                    let text = serde_json::from_str::<SendMessage>(&text).map(|m| m.text).unwrap_or_else(|_| text.to_string());
                    let mut pieces = spawn_turn(&state, tenant.clone(), id.clone(), text);
                    let mut result = None;
                    while let Some(piece) = pieces.recv().await {
                        match piece {
                            Piece::Delta(text) => {
                                let frame = serde_json::json!({"type": "delta", "text": text});
                                if socket.send(Frame::Text(frame.to_string().into())).await.is_err() {
                                    return;
                                }
                            }
                            Piece::Done(r) => result = Some(*r),
                        }
                    }
                    match result {
                        Some(Ok(turn)) => serde_json::json!({"type": "turn", "reply": turn.reply, "tool_calls": turn.tool_calls, "status": turn.status}),
                        Some(Err(e)) => serde_json::json!({"type": "error", "error": {"code": e.code(), "message": e.to_string()}}),
                        None => break,
                    }
                }
                Some(Ok(Frame::Binary(_))) => serde_json::json!({"type": "error", "error": {"code": "invalid_message", "message": "send text frames"}}),
                Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            event = events.recv() => match event {
                Ok(e) if e.conversation.id == id && e.conversation.tenant_id == tenant => {
                    serde_json::json!({"type": "event", "event": e.event, "message": e.message, "conversation": e.conversation})
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
        };
        if socket
            .send(Frame::Text(outgoing.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
    }
}
