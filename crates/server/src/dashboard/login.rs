//! Signing in and out.

use askama::Template;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hc_domain::{AuditRecord, Operator, TenantId, now_ms};
use hc_store::NewSession;
use serde::Deserialize;
use serde_json::json;

use super::session::{
    LOGIN_COOKIE, SESSION_COOKIE, Signed, cookie, dummy_hash, random_token, same, set_cookie,
    token_hash, verify_password,
};
use super::{DashResult, field, form_fields, render_status};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct SignInPage {
    login_token: String,
    notice: Option<&'static str>,
    error: Option<String>,
    tenant: String,
    email: String,
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    reason: Option<String>,
    tenant: Option<String>,
}

fn notice(reason: Option<&str>) -> Option<&'static str> {
    match reason? {
        "expired" => Some("Your session has ended. Please sign in again."),
        "csrf" => Some("That form had expired, so nothing was changed. Please sign in again."),
        "signed_out" => Some("Please sign in to continue."),
        "bye" => Some("You are signed out."),
        _ => None,
    }
}

/// Renders the form with a fresh double-submit token in a cookie.
fn form(status: StatusCode, page: SignInPage) -> DashResult<Response> {
    let token = page.login_token.clone();
    let mut r = render_status(status, &page)?;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &token, Some(3600)),
    );
    Ok(r)
}

pub async fn sign_in_page(Query(q): Query<SignInQuery>) -> DashResult<Response> {
    form(
        StatusCode::OK,
        SignInPage {
            login_token: random_token(),
            notice: notice(q.reason.as_deref()),
            error: None,
            tenant: q.tenant.unwrap_or_default().chars().take(64).collect(),
            email: String::new(),
        },
    )
}

pub async fn sign_in(State(state): State<AppState>, req: Request) -> DashResult<Response> {
    let connect = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .copied();
    let headers: HeaderMap = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let fields = form_fields(&body);
    let tenant_raw = field(&fields, "tenant").unwrap_or("").trim().to_string();
    let email_raw = field(&fields, "email").unwrap_or("").trim().to_string();
    let password = field(&fields, "password").unwrap_or("");
    let again = |status: StatusCode, error: &str| {
        form(
            status,
            SignInPage {
                login_token: random_token(),
                notice: None,
                error: Some(error.to_string()),
                tenant: tenant_raw.chars().take(64).collect(),
                email: email_raw.chars().take(254).collect(),
            },
        )
    };
    let presented = field(&fields, "_login").unwrap_or("");
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(presented, &expected) {
        return again(
            StatusCode::BAD_REQUEST,
            "The sign-in form had expired. Please try again.",
        );
    }
    let wrong = "Wrong store, email or password.";
    let (Ok(tenant), Ok(email)) = (
        TenantId::parse(tenant_raw.clone()),
        Operator::normalize_email(&email_raw),
    ) else {
        return again(StatusCode::UNAUTHORIZED, wrong);
    };
    if password.is_empty() || password.len() > super::session::MAX_PASSWORD {
        return again(StatusCode::UNAUTHORIZED, wrong);
    }
    let ip = connect.map(|c| c.0.ip());
    if !state
        .dashboard
        .throttle
        .allow(&format!("{tenant}/{email}"), ip)
    {
        metrics::counter!("hc_dashboard_sign_in_total", "outcome" => "throttled").increment(1);
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts. Wait a minute and try again.",
        );
    }
    let found = state.platform.operator_by_email(&tenant, &email).await?;
    let (hash, operator) = match found {
        Some((op, hash)) => (hash, Some(op)),
        None => (dummy_hash().to_string(), None),
    };
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let operator = match operator {
        Some(op) if ok && op.disabled_at_ms.is_none() => op,
        _ => {
            metrics::counter!("hc_dashboard_sign_in_total", "outcome" => "refused").increment(1);
            return again(StatusCode::UNAUTHORIZED, wrong);
        }
    };
    let token = random_token();
    let csrf = random_token();
    let hash = token_hash(&token);
    let now = now_ms();
    state
        .platform
        .create_session(&NewSession {
            token_hash: &hash,
            operator: &operator,
            csrf_token: &csrf,
            at_ms: now,
        })
        .await?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: operator.tenant_id.clone(),
            actor: format!("operator:{}", operator.id),
            action: "operator.sign_in".into(),
            target: format!("operator:{}", operator.id),
            at_ms: now,
            detail: json!({"ip": ip.map(|i| i.to_string())}),
        })
        .await?;
    metrics::counter!("hc_dashboard_sign_in_total", "outcome" => "ok").increment(1);
    let mut r = Redirect::to("/dashboard").into_response();
    let max_age = state.config.dashboard.session_max_hours * 3600;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, Some(max_age)),
    );
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", Some(0)));
    Ok(r)
}

/// Ends the session (the CSRF guard has checked the form).
pub async fn sign_out(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    state.platform.delete_session(&signed.token_hash).await?;
    let mut r = Redirect::to("/dashboard/login?reason=bye").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(r)
}
