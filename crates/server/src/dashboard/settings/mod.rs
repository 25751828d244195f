//! Settings: operators and their roles, API keys (see [`super::keys`]), the
//! agent's brand voice and policy parameters, the tenant's LLM provider,
//! knowledge-base articles and outgoing webhooks with their delivery log.
//! Every operator may look (a viewer sees no forms; secrets are never shown,
//! only whether one is set); changing anything needs the admin role, and
//! every change is written to the audit log in the same transaction.

pub mod agent;
pub mod knowledge;
pub mod llm;
pub mod users;
pub mod webhooks;

use askama::Template;
use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use hc_domain::{AuditRecord, Role, now_ms};

use super::{DashResult, PageCtx, Signed, render, require};
use crate::state::AppState;

/// The role that may change settings.
pub const CHANGE_ROLE: Role = Role::Admin;

/// One entry of the settings navigation.
pub struct Section {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The settings navigation, with `active` marked.
pub fn sections(signed: &Signed, active: &str) -> Vec<Section> {
    let mut all = vec![
        ("/dashboard/settings/users", "Users and roles"),
        ("/dashboard/settings/agent", "Brand voice and policy"),
        ("/dashboard/settings/llm", "LLM provider"),
        ("/dashboard/settings/knowledge", "Knowledge base"),
        ("/dashboard/settings/webhooks", "Webhooks"),
    ];
    if signed.can(Role::Admin) {
        all.insert(1, ("/dashboard/settings/keys", "API keys"));
    }
    all.into_iter()
        .map(|(href, label)| Section {
            href,
            label,
            active: label == active,
        })
        .collect()
}

/// What every settings page shows around its content: the layout's
/// context, the settings navigation, and whether the operator may change
/// anything (else the page has no forms).
pub fn ctx(signed: &Signed, title: &str) -> (PageCtx, Vec<Section>, bool) {
    (
        PageCtx::new(signed, title, "Settings"),
        sections(signed, title),
        signed.can(CHANGE_ROLE),
    )
}

/// An audit record of the operator's change.
pub fn audit(
    signed: &Signed,
    action: &str,
    target: String,
    detail: serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        tenant_id: signed.operator.tenant_id.clone(),
        actor: signed.actor(),
        action: action.into(),
        target,
        at_ms: now_ms(),
        detail,
    }
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct IndexPage {
    page: PageCtx,
    nav: Vec<Section>,
    can_change: bool,
}

pub async fn index(signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let (page, nav, can_change) = ctx(&signed, "Settings");
    render(&IndexPage {
        page,
        nav,
        can_change,
    })
}

/// Checks a one-line text field: `plain_text` and no line breaks.
pub fn one_line(raw: &str, max: usize) -> Result<String, String> {
    let text = super::plain_text(raw, max)?;
    if text.contains(['\n', '\r', '\t']) {
        return Err("Write it on one line.".into());
    }
    Ok(text)
}

/// Checks a URL typed into a form: `http://` or `https://`, a host, at most
/// 2000 bytes, no spaces, quotes, angle brackets or credentials.
pub fn web_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("This field is required.".into());
    }
    if url.len() > 2000 {
        return Err("At most 2000 characters.".into());
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
    {
        return Err("A URL has no spaces, quotes or angle brackets.".into());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("Start with https:// (or http:// for a local server).")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("Put no user name or password in the URL.".into());
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host.is_empty() || host.starts_with('.') || host.ends_with('.') {
        return Err("The URL needs a host name.".into());
    }
    Ok(url.to_string())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard/settings", get(index))
        .route(
            "/dashboard/settings/users",
            get(users::users_page).post(users::create_user),
        )
        .route(
            "/dashboard/settings/users/{id}/{action}",
            post(users::change_user),
        )
        .route(
            "/dashboard/settings/agent",
            get(agent::agent_page).post(agent::save_agent),
        )
        .route(
            "/dashboard/settings/llm",
            get(llm::llm_page).post(llm::save_llm),
        )
        .route(
            "/dashboard/settings/knowledge",
            get(knowledge::articles_page).post(knowledge::create_article),
        )
        .route(
            "/dashboard/settings/knowledge/{slug}",
            get(knowledge::article_page).post(knowledge::update_article),
        )
        .route(
            "/dashboard/settings/knowledge/{slug}/delete",
            post(knowledge::delete_article),
        )
        .route(
            "/dashboard/settings/webhooks",
            get(webhooks::webhooks_page).post(webhooks::create_webhook),
        )
        .route(
            "/dashboard/settings/webhooks/{id}/delete",
            post(webhooks::delete_webhook),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_web_urls_without_credentials_or_markup() {
        assert_eq!(
            web_url(" https://hooks.example.com/x?y=1 ").unwrap(),
            "https://hooks.example.com/x?y=1"
        );
        assert!(web_url("http://127.0.0.1:9/x").is_ok());
        for bad in [
            "",
            "ftp://h.example/x",
            "https://",
            "https://user:pw@h.example/",
            "https://h.example/<script>",
            "https://h.example/a b",
            "javascript:alert(1)",
        ] {
            assert!(web_url(bad).is_err(), "{bad:?}");
        }
        assert!(web_url(&format!("https://h.example/{}", "a".repeat(2000))).is_err());
    }

    #[test]
    fn one_line_text_refuses_breaks_and_markup() {
        assert_eq!(one_line("  Acme  ", 10).unwrap(), "Acme");
        assert!(one_line("a\nb", 10).is_err());
        assert!(one_line("<b>x</b>", 10).is_err());
        assert!(one_line("", 10).is_err());
    }
}
