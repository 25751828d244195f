//! Conversations: search and filter (over the rollup's fact rows), the
//! transcript with every tool call, its arguments and result or refusal
//! (the policy gate's decisions are the refusals it records), confidence and
//! intent; the escalation inbox and its actions (take over, reply, private
//! note, hand back to the AI, resolve); export as JSON or CSV.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hc_commerce::PageRequest;
use hc_domain::{AuditRecord, ConversationId, ConversationStatus, Message, Role, now_ms};
use hc_store::{Assignment, ConversationFilter, ConversationNote};
use serde::Deserialize;
use serde_json::json;

use super::overview::CHANNELS;
use super::{
    DashError, DashResult, PageCtx, Signed, field, form_fields, format_time, fresh_rollup,
    parse_day, plain_text, render, render_status, require,
};
use crate::state::AppState;

/// Longest reply or note typed in the dashboard.
pub const MAX_TEXT: usize = 4000;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    channel: Option<String>,
    intent: Option<String>,
    rating: Option<String>,
    from: Option<String>,
    to: Option<String>,
    customer: Option<String>,
    after: Option<String>,
}

#[derive(Default)]
pub struct ListErrors {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub rating: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub customer: Option<String>,
}

pub struct Row {
    pub id: String,
    pub status: String,
    pub channel: String,
    pub customer: String,
    pub intent: String,
    pub rating: String,
    pub created: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "dashboard/conversations.html")]
struct ListPage {
    page: PageCtx,
    q: ListValues,
    errors: ListErrors,
    statuses: Vec<(&'static str, bool)>,
    channels: Vec<(&'static str, bool)>,
    intents: Vec<(String, bool)>,
    rows: Vec<Row>,
    next: Option<String>,
}

/// The filter form's values, as typed.
#[derive(Default)]
pub struct ListValues {
    pub rating: String,
    pub from: String,
    pub to: String,
    pub customer: String,
}

fn next_link(q: &ListQuery, cursor: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("status", &q.status),
        ("channel", &q.channel),
        ("intent", &q.intent),
        ("rating", &q.rating),
        ("from", &q.from),
        ("to", &q.to),
        ("customer", &q.customer),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.append_pair("after", cursor);
    format!("/dashboard/conversations?{}", s.finish())
}

pub async fn conversation_list(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ListQuery>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let t = &signed.operator.tenant_id;
    let mut errors = ListErrors::default();
    let mut filter = ConversationFilter::default();
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    if let Some(s) = given(&q.status) {
        match ConversationStatus::parse(s) {
            Some(st) => filter.status = Some(st),
            None => errors.status = Some("Choose one of the listed statuses.".into()),
        }
    }
    if let Some(c) = given(&q.channel) {
        match CHANNELS.iter().find(|ch| ch.as_str() == c) {
            Some(ch) => filter.channel = Some(ch.as_str().into()),
            None => errors.channel = Some("Choose one of the listed channels.".into()),
        }
    }
    filter.intent = given(&q.intent).map(|i| i.chars().take(80).collect());
    if let Some(r) = given(&q.rating) {
        match r.parse::<i64>() {
            Ok(r) if (1..=5).contains(&r) => filter.rating = Some(r),
            _ => errors.rating = Some("A rating is a whole number from 1 to 5.".into()),
        }
    }
    if let Some(d) = given(&q.from) {
        match parse_day(d) {
            Some(d) => filter.from_day = Some(d),
            None => errors.from = Some("Use a date like 2025-03-31.".into()),
        }
    }
    if let Some(d) = given(&q.to) {
        match parse_day(d) {
            Some(d) => filter.to_day = Some(d),
            None => errors.to = Some("Use a date like 2025-03-31.".into()),
        }
    }
    if let Some(c) = given(&q.customer) {
        if c.len() > 100 || c.chars().any(char::is_control) {
            errors.customer = Some("A customer id is at most 100 characters.".into());
        } else {
            filter.customer = Some(c.to_string());
        }
    }
    let invalid = errors.status.is_some()
        || errors.channel.is_some()
        || errors.rating.is_some()
        || errors.from.is_some()
        || errors.to.is_some()
        || errors.customer.is_some();
    fresh_rollup(&state, t).await?;
    let (rows, next) = if invalid {
        (Vec::new(), None)
    } else {
        let page = state
            .platform
            .search_conversations(t, &filter, &PageRequest::new(q.after.clone(), Some(50)))
            .await?;
        let rows = page
            .items
            .into_iter()
            .map(|f| Row {
                id: f.conversation_id.to_string(),
                status: f.status,
                channel: f.channel,
                customer: f.customer_id.unwrap_or_else(|| "—".into()),
                intent: f.intent.unwrap_or_else(|| "—".into()),
                rating: f
                    .rating
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "—".into()),
                created: format_time(f.created_at_ms),
                updated: format_time(f.updated_at_ms),
            })
            .collect();
        (rows, page.next_cursor.map(|c| next_link(&q, &c)))
    };
    let intents = state.platform.known_intents(t).await?;
    let page = ListPage {
        page: PageCtx::new(&signed, "Conversations", "Conversations"),
        statuses: ConversationStatus::ALL
            .iter()
            .map(|s| (s.as_str(), filter.status == Some(*s)))
            .collect(),
        channels: CHANNELS
            .iter()
            .map(|c| (c.as_str(), filter.channel.as_deref() == Some(c.as_str())))
            .collect(),
        intents: intents
            .into_iter()
            .map(|i| {
                let sel = filter.intent.as_deref() == Some(i.as_str());
                (i, sel)
            })
            .collect(),
        q: ListValues {
            rating: q.rating.clone().unwrap_or_default(),
            from: q.from.clone().unwrap_or_default(),
            to: q.to.clone().unwrap_or_default(),
            customer: q.customer.clone().unwrap_or_default(),
        },
        errors,
        rows,
        next,
    };
    render_status(
        if invalid {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &page,
    )
}

/// A tool call as shown.
pub struct CallView {
    pub name: String,
    pub arguments: String,
    pub output: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub confidence: String,
}

pub struct MessageView {
    pub seq: i64,
    pub author: &'static str,
    pub text: String,
    pub at: String,
    pub understood: String,
    pub calls: Vec<CallView>,
}

fn author(m: &Message) -> &'static str {
    match m.author {
        hc_domain::Author::Customer => "customer",
        hc_domain::Author::Agent => "agent",
        hc_domain::Author::Human => "human",
        hc_domain::Author::System => "system",
    }
}

fn view(m: &Message) -> MessageView {
    let understood = match (&m.intent, m.confidence) {
        (Some(i), Some(p)) => format!("intent {i} (confidence {p:.2})"),
        (None, Some(p)) => format!("confidence {p:.2}"),
        _ => String::new(),
    };
    MessageView {
        seq: m.seq,
        author: author(m),
        text: m.text.clone(),
        at: format_time(m.at_ms),
        understood,
        calls: m
            .tool_calls
            .iter()
            .map(|c| CallView {
                name: c.name.clone(),
                arguments: serde_json::to_string_pretty(&c.arguments).unwrap_or_default(),
                output: c
                    .output
                    .as_ref()
                    .map(|o| serde_json::to_string_pretty(o).unwrap_or_default()),
                error_code: c.error.as_ref().map(|e| e.code.clone()),
                error_message: c.error.as_ref().map(|e| e.message.clone()),
                confidence: format!("{:.2}", c.confidence),
            })
            .collect(),
    }
}

#[derive(Default)]
pub struct ActionErrors {
    pub reply: Option<String>,
    pub note: Option<String>,
    pub general: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/conversation.html")]
struct ConversationPage {
    page: PageCtx,
    id: String,
    status: &'static str,
    channel: &'static str,
    customer: String,
    satisfaction: String,
    created: String,
    escalation_reason: Option<String>,
    escalation_summary: Option<String>,
    assigned: Option<String>,
    assigned_to_me: bool,
    escalated: bool,
    accepts: bool,
    messages: Vec<MessageView>,
    notes: Vec<NoteView>,
    errors: ActionErrors,
    reply_value: String,
    note_value: String,
    done: Option<&'static str>,
}

pub struct NoteView {
    pub author: String,
    pub text: String,
    pub at: String,
}

fn conversation_id(raw: String) -> DashResult<ConversationId> {
    ConversationId::parse(raw).map_err(|_| DashError::not_found("conversation"))
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn done_message(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "take-over" => Some("You have taken over this conversation."),
        "reply" => Some("Reply sent."),
        "note" => Some("Private note added."),
        "hand-back" => Some("Handed back to the AI."),
        "resolve" => Some("Marked as resolved."),
        _ => None,
    }
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: &ConversationId,
    status: StatusCode,
    errors: ActionErrors,
    values: (String, String),
    done: Option<&'static str>,
) -> DashResult<Response> {
    let t = &signed.operator.tenant_id;
    let (c, messages) = state
        .agent
        .conversation(t, id)
        .await
        .map_err(|e| DashError::from(crate::error::ApiError::from(e)))?;
    let notes: Vec<ConversationNote> = state.platform.notes(t, id).await?;
    let assignments = state.platform.assignments(t).await?;
    let assigned = assignments.get(id);
    let page = ConversationPage {
        page: PageCtx::new(signed, format!("Conversation {}", c.id), "Conversations"),
        id: c.id.to_string(),
        status: c.status.as_str(),
        channel: c.channel.as_str(),
        customer: c
            .customer
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|| "not identified".into()),
        satisfaction: c
            .satisfaction
            .map(|s| format!("{s} / 5"))
            .unwrap_or_else(|| "not rated".into()),
        created: format_time(c.created_at_ms),
        escalation_reason: c.escalation.as_ref().map(|e| e.reason.clone()),
        escalation_summary: c.escalation.as_ref().map(|e| e.summary.clone()),
        assigned: assigned.map(|a| format!("{} since {}", a.operator_email, format_time(a.at_ms))),
        assigned_to_me: assigned.is_some_and(|a| a.operator_id == signed.operator.id),
        escalated: c.status == ConversationStatus::Escalated,
        accepts: c.status.accepts_messages(),
        messages: messages.iter().map(view).collect(),
        notes: notes
            .into_iter()
            .map(|n| NoteView {
                author: n.author,
                text: n.text,
                at: format_time(n.at_ms),
            })
            .collect(),
        errors,
        reply_value: values.0,
        note_value: values.1,
        done,
    };
    render_status(status, &page)
}

pub async fn conversation_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let id = conversation_id(id)?;
    show(
        &state,
        &signed,
        &id,
        StatusCode::OK,
        ActionErrors::default(),
        Default::default(),
        done_message(q.done.as_deref()),
    )
    .await
}

async fn audit(state: &AppState, signed: &Signed, action: &str, id: &ConversationId) {
    let record = AuditRecord {
        tenant_id: signed.operator.tenant_id.clone(),
        actor: signed.actor(),
        action: action.into(),
        target: format!("conversation:{id}"),
        at_ms: now_ms(),
        detail: json!({}),
    };
    if let Err(e) = state.platform.record_audit(&record).await {
        tracing::warn!(error = %e, "cannot audit a dashboard action");
    }
}

/// `POST /dashboard/conversations/{id}/{take-over|reply|note|hand-back|resolve}`:
/// agent role; the CSRF guard has already checked the form.
pub async fn conversation_action(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, Role::Agent)?;
    let id = conversation_id(id)?;
    let t = &signed.operator.tenant_id;
    // The conversation must be the tenant's: 404 otherwise, nothing done.
    state
        .agent
        .store()
        .conversation(t, &id)
        .await?
        .ok_or_else(|| DashError::not_found("conversation"))?;
    let fields = form_fields(&body);
    let who = signed.actor();
    let outcome: Result<(), (ActionErrors, (String, String))> = match action.as_str() {
        "take-over" => {
            state
                .platform
                .assign(
                    t,
                    &Assignment {
                        conversation_id: id.clone(),
                        operator_id: signed.operator.id.clone(),
                        operator_email: signed.operator.email.clone(),
                        at_ms: now_ms(),
                    },
                )
                .await?;
            Ok(())
        }
        "reply" => {
            let raw = field(&fields, "text").unwrap_or("");
            match plain_text(raw, MAX_TEXT) {
                Err(e) => Err((
                    ActionErrors {
                        reply: Some(e),
                        ..Default::default()
                    },
                    (raw.to_string(), String::new()),
                )),
                Ok(text) => {
                    match crate::api::conversations::send_human_reply(&state, t, &id, &who, &text)
                        .await
                    {
                        Ok(_) => {
                            // Replying to an unassigned conversation takes it over.
                            let assignments = state.platform.assignments(t).await?;
                            if !assignments.contains_key(&id) {
                                state
                                    .platform
                                    .assign(
                                        t,
                                        &Assignment {
                                            conversation_id: id.clone(),
                                            operator_id: signed.operator.id.clone(),
                                            operator_email: signed.operator.email.clone(),
                                            at_ms: now_ms(),
                                        },
                                    )
                                    .await?;
                            }
                            Ok(())
                        }
                        Err(e) if e.status.is_client_error() => Err((
                            ActionErrors {
                                reply: Some(e.message),
                                ..Default::default()
                            },
                            (raw.to_string(), String::new()),
                        )),
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        "note" => {
            let raw = field(&fields, "text").unwrap_or("");
            match plain_text(raw, MAX_TEXT) {
                Err(e) => Err((
                    ActionErrors {
                        note: Some(e),
                        ..Default::default()
                    },
                    (String::new(), raw.to_string()),
                )),
                Ok(text) => {
                    state
                        .platform
                        .add_note(t, &id, &signed.operator.email, &text, now_ms())
                        .await?;
                    Ok(())
                }
            }
        }
        "hand-back" | "resolve" => {
            let result = if action == "hand-back" {
                state.agent.hand_back(t, &id).await
            } else {
                state
                    .agent
                    .close(t, &id, ConversationStatus::Resolved)
                    .await
            };
            match result {
                Ok(_) => {
                    state.platform.unassign(t, &id).await?;
                    Ok(())
                }
                Err(e) => {
                    let e = crate::error::ApiError::from(e);
                    if e.status.is_client_error() {
                        Err((
                            ActionErrors {
                                general: Some(e.message),
                                ..Default::default()
                            },
                            Default::default(),
                        ))
                    } else {
                        return Err(e.into());
                    }
                }
            }
        }
        _ => return Err(DashError::not_found("action")),
    };
    match outcome {
        Ok(()) => {
            audit(&state, &signed, &format!("conversation.{action}"), &id).await;
            Ok(
                Redirect::to(&format!("/dashboard/conversations/{id}?done={action}"))
                    .into_response(),
            )
        }
        Err((errors, values)) => {
            show(
                &state,
                &signed,
                &id,
                StatusCode::BAD_REQUEST,
                errors,
                values,
                None,
            )
            .await
        }
    }
}

async fn transcript(
    state: &AppState,
    signed: &Signed,
    id: String,
) -> DashResult<(hc_domain::Conversation, Vec<Message>, Vec<ConversationNote>)> {
    require(signed, Role::Viewer)?;
    let id = conversation_id(id)?;
    let t = &signed.operator.tenant_id;
    let (c, messages) = state
        .agent
        .conversation(t, &id)
        .await
        .map_err(|e| DashError::from(crate::error::ApiError::from(e)))?;
    let notes = state.platform.notes(t, &id).await?;
    Ok((c, messages, notes))
}

fn attachment(name: &str, kind: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The conversation, its messages (tool calls included) and private notes as JSON.
pub async fn export_json(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> DashResult<Response> {
    let (c, messages, notes) = transcript(&state, &signed, id).await?;
    let body = json!({"conversation": c, "messages": messages, "notes": notes});
    Ok(attachment(
        &format!("{}.json", c.id),
        "application/json",
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    ))
}

/// A spreadsheet cell that cannot be read as a formula.
fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// One row per message: seq, time, author, text, intent, confidence, tool calls (JSON).
pub async fn export_csv(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> DashResult<Response> {
    let (c, messages, _) = transcript(&state, &signed, id).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>, row: [String; 7]| {
        w.write_record(row.iter().map(|s| cell(s)))
            .map_err(|e| DashError::from(crate::error::ApiError::internal(e)))
    };
    write(
        &mut w,
        [
            "seq",
            "at_utc",
            "author",
            "text",
            "intent",
            "confidence",
            "tool_calls",
        ]
        .map(String::from),
    )?;
    for m in &messages {
        write(
            &mut w,
            [
                m.seq.to_string(),
                format_time(m.at_ms),
                author(m).to_string(),
                m.text.clone(),
                m.intent.clone().unwrap_or_default(),
                m.confidence.map(|p| format!("{p:.3}")).unwrap_or_default(),
                if m.tool_calls.is_empty() {
                    String::new()
                } else {
                    serde_json::to_string(&m.tool_calls).unwrap_or_default()
                },
            ],
        )?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| DashError::from(crate::error::ApiError::internal(e)))?;
    Ok(attachment(
        &format!("{}.csv", c.id),
        "text/csv; charset=utf-8",
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

pub struct InboxRow {
    pub id: String,
    pub customer: String,
    pub reason: String,
    pub summary: String,
    pub since: String,
    pub assigned: String,
}

#[derive(Template)]
#[template(path = "dashboard/inbox.html")]
struct InboxPage {
    page: PageCtx,
    rows: Vec<InboxRow>,
}

/// Escalated conversations waiting for a person, oldest escalation first.
pub async fn inbox_page(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let t = &signed.operator.tenant_id;
    let page = state
        .agent
        .store()
        .list_conversations(
            t,
            Some(ConversationStatus::Escalated),
            &PageRequest::new(None, Some(PageRequest::MAX_LIMIT)),
        )
        .await?;
    let assignments = state.platform.assignments(t).await?;
    let mut items = page.items;
    items.sort_by_key(|c| c.escalation.as_ref().map_or(c.updated_at_ms, |e| e.at_ms));
    let rows = items
        .into_iter()
        .map(|c| InboxRow {
            assigned: assignments
                .get(&c.id)
                .map(|a| a.operator_email.clone())
                .unwrap_or_else(|| "nobody yet".into()),
            id: c.id.to_string(),
            customer: c
                .customer
                .map(|u| u.to_string())
                .unwrap_or_else(|| "not identified".into()),
            reason: c
                .escalation
                .as_ref()
                .map(|e| e.reason.clone())
                .unwrap_or_default(),
            summary: c
                .escalation
                .as_ref()
                .map(|e| e.summary.clone())
                .unwrap_or_default(),
            since: format_time(c.escalation.as_ref().map_or(c.updated_at_ms, |e| e.at_ms)),
        })
        .collect();
    render(&InboxPage {
        page: PageCtx::new(&signed, "Escalation inbox", "Inbox"),
        rows,
    })
}
