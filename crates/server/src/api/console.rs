//! A minimal operator console, server-rendered: the conversation list and a
//! transcript with every tool call, its arguments, result and confidence.
//! The browser signs in with HTTP Basic (any user name, the API key as the
//! password). The full dashboard replaces this later.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hc_domain::{ConversationId, ConversationStatus, Role};
use serde::Deserialize;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/conversations", get(conversation_list))
        .route("/console/conversations/{id}", get(conversation_page))
}

/// Asks the browser for credentials when the console is opened without them.
pub async fn basic_challenge(req: axum::extract::Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"HyperCommerce console (password: API key)\""),
        );
    }
    response
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} · HyperCommerce</title><style>
body{{font-family:system-ui,sans-serif;margin:0;color:#1d1d1f}} header{{background:#1f3a5f;color:#fff;padding:.8rem 1.2rem}} header a{{color:#fff}}
main{{padding:1rem 1.2rem;max-width:1100px}} table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}}
.msg{{border:1px solid #ddd;border-radius:8px;padding:.6rem;margin:.5rem 0}} .customer{{background:#eef4ff}} .human{{background:#fff4d6}}
.meta{{color:#555;font-size:.85em}} pre{{white-space:pre-wrap;background:#f6f6f6;padding:.4rem;font-size:.8em}} .err{{color:#a00}}
nav a{{margin-right:.8rem}}
</style></head><body><header><strong>HyperCommerce</strong> · <a href="/console/conversations">Conversations</a></header><main><h1>{t}</h1>{body}</main></body></html>"#,
        t = esc(title)
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub status: Option<String>,
    pub after: Option<String>,
}

pub async fn conversation_list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> ApiResult<Html<String>> {
    principal.require(Role::Viewer)?;
    let status = q.status.as_deref().and_then(ConversationStatus::parse);
    let page_req = hc_commerce::PageRequest::new(q.after.clone(), Some(50));
    let list = state
        .agent
        .store()
        .list_conversations(&principal.key.tenant_id, status, &page_req)
        .await?;
    let filters: String = std::iter::once(("all", "/console/conversations".to_string()))
        .chain(ConversationStatus::ALL.iter().map(|s| {
            (
                s.as_str(),
                format!("/console/conversations?status={}", s.as_str()),
            )
        }))
        .map(|(label, href)| format!("<a href=\"{href}\">{label}</a>"))
        .collect();
    let rows: String = list
        .items
        .iter()
        .map(|c| {
            format!(
                "<tr><td><a href=\"/console/conversations/{id}\">{id}</a></td><td>{status}</td><td>{customer}</td><td>{n}</td><td>{reason}</td></tr>",
                id = esc(c.id.as_str()),
                status = c.status,
                customer = esc(c.customer.as_ref().map(|u| u.as_str()).unwrap_or("—")),
                n = c.message_count,
                reason = esc(c.escalation.as_ref().map(|e| e.reason.as_str()).unwrap_or("")),
            )
        })
        .collect();
    let more = list
        .next_cursor
        .map(|c| {
            format!(
                "<p><a href=\"?after={}{}\">Older →</a></p>",
                esc(&c),
                q.status
                    .map(|s| format!("&status={}", esc(&s)))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    Ok(page(
        "Conversations",
        &format!(
            "<nav>{filters}</nav><table><thead><tr><th>Conversation</th><th>Status</th><th>Customer</th><th>Messages</th><th>Escalation</th></tr></thead><tbody>{rows}</tbody></table>{more}"
        ),
    ))
}

pub async fn conversation_page(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    principal.require(Role::Viewer)?;
    let id = ConversationId::parse(id).map_err(|_| ApiError::not_found("conversation"))?;
    let (c, messages) = state
        .agent
        .conversation(&principal.key.tenant_id, &id)
        .await?;
    let escalation = c
        .escalation
        .as_ref()
        .map(|e| {
            format!(
                "<p><strong>Escalated:</strong> {} — {}</p>",
                esc(&e.reason),
                esc(&e.summary)
            )
        })
        .unwrap_or_default();
    let body: String = messages
        .iter()
        .map(|m| {
            let author = format!("{:?}", m.author).to_lowercase();
            let understood = match (&m.intent, m.confidence) {
                (Some(i), Some(p)) => format!(" · intent {} ({:.2})", esc(i), p),
                (None, Some(p)) => format!(" · confidence {p:.2}"),
                _ => String::new(),
            };
            let calls: String = m
                .tool_calls
                .iter()
                .map(|t| {
                    let result = match (&t.output, &t.error) {
                        (_, Some(e)) => format!("<div class=\"err\">{}: {}</div>", esc(&e.code), esc(&e.message)),
                        (Some(o), None) => format!("<pre>{}</pre>", esc(&serde_json::to_string_pretty(o).unwrap_or_default())),
                        _ => String::new(),
                    };
                    format!(
                        "<details><summary>{} (confidence {:.2})</summary><pre>{}</pre>{}</details>",
                        esc(&t.name),
                        t.confidence,
                        esc(&t.arguments.to_string()),
                        result
                    )
                })
                .collect();
            format!(
                "<div class=\"msg {author}\"><div class=\"meta\">#{} {author}{understood}</div><div>{}</div>{calls}</div>",
                m.seq,
                esc(&m.text).replace('\n', "<br>")
            )
        })
        .collect();
    let satisfaction = c
        .satisfaction
        .map(|s| format!(" · rated {s}/5"))
        .unwrap_or_default();
    Ok(page(
        &format!("Conversation {}", c.id),
        &format!(
            "<p>Status <strong>{}</strong> · customer {} · channel {}{satisfaction}</p>{escalation}{body}",
            c.status,
            esc(c.customer.as_ref().map(|u| u.as_str()).unwrap_or("not identified")),
            c.channel.as_str()
        ),
    )
    .into_response())
}
