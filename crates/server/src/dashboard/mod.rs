//! The operator dashboard at `/dashboard`: server-rendered askama pages
//! (escaped by default), one CSS and one small JS file served from the
//! binary, a strict Content-Security-Policy, operator sign-in with
//! server-side sessions (see [`session`]), and the screens: overview,
//! live activity (SSE), conversations and the escalation inbox, customers
//! (with GDPR export and erasure), pricing (items, history, rules,
//! approvals), loyalty and the agent registry, and API keys. Every page
//! checks the operator's role; every query is scoped to the operator's
//! tenant.

pub mod charts;
mod conversations;
mod customers;
mod keys;
pub(crate) mod live;
mod login;
mod loyalty;
mod overview;
pub mod palette;
mod price_item;
mod pricing;
pub mod session;
mod settings;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use hc_domain::{ApiKeyId, Role, TenantId};

use crate::config::DashboardConfig;
use crate::error::ApiError;
use crate::state::AppState;
pub use session::{Signed, check_password, generate_password, hash_password, new_operator};

/// The dashboard's process-wide state: sign-in throttles, rollup freshness,
/// API key usage bookkeeping.
pub struct DashboardState {
    pub throttle: session::Throttle,
    refreshed: Mutex<HashMap<TenantId, Instant>>,
    refreshing: tokio::sync::Mutex<()>,
    key_touched: Mutex<HashMap<ApiKeyId, Instant>>,
}

impl DashboardState {
    pub fn new(config: &DashboardConfig) -> Self {
        Self {
            throttle: session::Throttle::new(config.sign_in_burst),
            refreshed: Mutex::default(),
            refreshing: tokio::sync::Mutex::new(()),
            key_touched: Mutex::default(),
        }
    }

    /// Whether a key's use should be written now (at most once a minute per key).
    pub fn should_touch_key(&self, id: &ApiKeyId) -> bool {
        let mut m = self.key_touched.lock().unwrap_or_else(|e| e.into_inner());
        match m.get(id) {
            Some(at) if at.elapsed() < Duration::from_secs(60) => false,
            _ => {
                m.insert(id.clone(), Instant::now());
                true
            }
        }
    }
}

/// Refreshes the tenant's conversation rollup when the last refresh in this
/// process is older than `rollup_max_age_ms`.
pub async fn fresh_rollup(state: &AppState, tenant: &TenantId) -> Result<(), ApiError> {
    let max_age = Duration::from_millis(state.config.dashboard.rollup_max_age_ms);
    let stale = |d: &DashboardState| {
        let m = d.refreshed.lock().unwrap_or_else(|e| e.into_inner());
        m.get(tenant).is_none_or(|at| at.elapsed() >= max_age)
    };
    if !stale(&state.dashboard) {
        return Ok(());
    }
    let _one_at_a_time = state.dashboard.refreshing.lock().await;
    if max_age > Duration::ZERO && !stale(&state.dashboard) {
        return Ok(());
    }
    state.platform.refresh_rollup(tenant).await?;
    state
        .dashboard
        .refreshed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(tenant.clone(), Instant::now());
    Ok(())
}

/// Every `rollup_every_ms`, refreshes every tenant's rollup.
pub fn spawn_rollup(state: AppState) {
    let every = state.config.dashboard.rollup_every_ms;
    if every == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Ok(tenants) = state.platform.list_tenants().await else {
                continue;
            };
            for t in tenants {
                if let Err(e) = fresh_rollup(&state, &t.id).await {
                    tracing::warn!(tenant = %t.id, error = %e.message, "rollup refresh failed");
                }
            }
            let now = hc_domain::now_ms();
            let cfg = &state.config.dashboard;
            let _ = state
                .platform
                .purge_sessions(
                    now - cfg.session_max_hours as i64 * 3_600_000,
                    now - cfg.session_idle_minutes as i64 * 60_000,
                )
                .await;
        }
    });
}

const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");

/// The policy every dashboard response carries: nothing inline, nothing
/// from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/dashboard/assets/dashboard.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/dashboard/assets/dashboard.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/dashboard/login",
            get(login::sign_in_page).post(login::sign_in),
        )
        .route("/dashboard/logout", post(login::sign_out))
        .route("/dashboard", get(overview::overview_page))
        .route("/dashboard/live", get(live::live_page))
        .route("/dashboard/live/events", get(live::live_events))
        .route(
            "/dashboard/conversations",
            get(conversations::conversation_list),
        )
        .route(
            "/dashboard/conversations/{id}",
            get(conversations::conversation_page),
        )
        .route(
            "/dashboard/conversations/{id}/export.json",
            get(conversations::export_json),
        )
        .route(
            "/dashboard/conversations/{id}/export.csv",
            get(conversations::export_csv),
        )
        .route(
            "/dashboard/conversations/{id}/{action}",
            post(conversations::conversation_action),
        )
        .route("/dashboard/inbox", get(conversations::inbox_page))
        .route("/dashboard/customers", get(customers::customer_list))
        .route("/dashboard/customers/{id}", get(customers::customer_page))
        .route(
            "/dashboard/customers/{id}/export.json",
            get(customers::export_json),
        )
        .route("/dashboard/customers/{id}/erase", post(customers::erase))
        .route("/dashboard/pricing", get(pricing::approvals_page))
        .route("/dashboard/pricing/items", get(price_item::open_item))
        .route("/dashboard/pricing/items/{id}", get(price_item::item_page))
        .route(
            "/dashboard/pricing/items/{id}/rules",
            post(price_item::save_rules),
        )
        .route("/dashboard/loyalty", get(loyalty::loyalty_page))
        .route("/dashboard/agents", get(loyalty::agents_page))
        .route(
            "/dashboard/pricing/approvals",
            post(pricing::decide_approvals),
        )
        .route(
            "/dashboard/settings/keys",
            get(keys::keys_page).post(keys::create_key),
        )
        .route(
            "/dashboard/settings/keys/{id}/revoke",
            post(keys::revoke_key),
        )
        .merge(settings::router())
        .route_layer(from_fn_with_state(state, session::csrf_guard))
        .layer(from_fn(security_headers))
}

/// The sections that fit a phone's bottom bar (with "More" beside them).
const PHONE_TABS: [&str; 4] = ["Overview", "Live", "Conversations", "Inbox"];

/// A tab of the navigation.
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
    /// Shown in the phone's bottom bar; the others sit under "More" there.
    pub primary: bool,
}

/// What the layout needs on every signed-in page.
pub struct PageCtx {
    pub title: String,
    pub email: String,
    pub role: &'static str,
    pub tenant: String,
    pub csrf: String,
    pub tabs: Vec<Tab>,
    /// The operator may act (agent role or above).
    pub can_act: bool,
}

impl PageCtx {
    pub fn new(s: &Signed, title: impl Into<String>, active: &str) -> Self {
        let mut tabs = vec![
            ("/dashboard", "Overview"),
            ("/dashboard/live", "Live"),
            ("/dashboard/conversations", "Conversations"),
            ("/dashboard/inbox", "Inbox"),
            ("/dashboard/customers", "Customers"),
            ("/dashboard/pricing", "Pricing"),
            ("/dashboard/loyalty", "Loyalty"),
            ("/dashboard/agents", "Agents"),
        ];
        tabs.push(("/dashboard/settings", "Settings"));
        Self {
            title: title.into(),
            email: s.operator.email.clone(),
            role: s.operator.role.as_str(),
            tenant: s.operator.tenant_id.to_string(),
            csrf: s.csrf.clone(),
            tabs: tabs
                .into_iter()
                .map(|(href, label)| Tab {
                    href,
                    label,
                    active: label == active,
                    primary: PHONE_TABS.contains(&label),
                })
                .collect(),
            can_act: s.can(Role::Agent),
        }
    }

    /// The current section is one of those under "More" on a phone.
    pub fn more_active(&self) -> bool {
        self.tabs.iter().any(|t| t.active && !t.primary)
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

/// An error as a page: the status and a message (5xx: generic).
#[derive(Debug)]
pub struct DashError {
    pub status: StatusCode,
    pub message: String,
}

impl DashError {
    pub fn forbidden(role: Role, s: &Signed) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message: format!(
                "This needs the {role} role; you are signed in as {}.",
                s.operator.role
            ),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: format!("No such {what}."),
        }
    }
}

impl From<ApiError> for DashError {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status,
            message: e.message,
        }
    }
}

impl From<hc_store::Error> for DashError {
    fn from(e: hc_store::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl From<askama::Error> for DashError {
    fn from(e: askama::Error) -> Self {
        ApiError::internal(e).into()
    }
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.status.as_u16(),
            message: self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => self.status.into_response(),
        }
    }
}

pub type DashResult<T> = Result<T, DashError>;

/// Fails with a 403 page unless the operator's role includes `role`.
pub fn require(s: &Signed, role: Role) -> DashResult<()> {
    if s.can(role) {
        Ok(())
    } else {
        Err(DashError::forbidden(role, s))
    }
}

/// Renders a template as a 200 page.
pub fn render(t: &impl Template) -> DashResult<Response> {
    Ok(Html(t.render()?).into_response())
}

/// Renders a template with a status (a form with errors: 400).
pub fn render_status(status: StatusCode, t: &impl Template) -> DashResult<Response> {
    Ok((status, Html(t.render()?)).into_response())
}

/// A form's fields, in order (a name may repeat).
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `name`.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Checks free text typed into a form: required, at most `max` characters,
/// and no markup (the dashboard never renders it as HTML, but text that looks
/// like a tag is refused so it cannot reach a less careful consumer).
pub fn plain_text(raw: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("This field is required.".into());
    }
    if text.chars().count() > max {
        return Err(format!("At most {max} characters."));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("Control characters are not allowed.".into());
    }
    let b = text.as_bytes();
    let looks_like_tag = b.windows(2).any(|w| {
        w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!' || w[1] == b'?')
    });
    if looks_like_tag {
        return Err("HTML tags are not allowed; write plain text.".into());
    }
    Ok(text.to_string())
}

/// `YYYY-MM-DD` → UTC day number.
pub fn parse_day(raw: &str) -> Option<i64> {
    let mut it = raw.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_JULIAN_DAY)
}

const UNIX_JULIAN_DAY: i64 = 2_440_588;

/// UTC day number → `YYYY-MM-DD`.
pub fn format_day(day: i64) -> String {
    match time::Date::from_julian_day((day + UNIX_JULIAN_DAY) as i32) {
        Ok(d) => format!("{}-{:02}-{:02}", d.year(), d.month() as u8, d.day()),
        Err(_) => day.to_string(),
    }
}

/// Milliseconds since the epoch → `YYYY-MM-DD HH:MM` UTC.
pub fn format_time(ms: i64) -> String {
    let day = ms.div_euclid(hc_store::DAY_MS);
    let in_day = ms.rem_euclid(hc_store::DAY_MS) / 60_000;
    format!("{} {:02}:{:02}", format_day(day), in_day / 60, in_day % 60)
}

/// A duration in milliseconds, for people.
pub fn format_duration(ms: f64) -> String {
    let s = ms / 1000.0;
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// Cents → `$1,234.56`.
pub fn format_money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let whole = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}${grouped}.{:02}", c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_bad_dates_are_refused() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(
            parse_day("2024-02-29").map(format_day).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("yesterday"), None);
        assert_eq!(format_time(90_061_000), "1970-01-02 01:01");
    }

    #[test]
    fn money_and_durations_read_well() {
        assert_eq!(format_money(123_456_789), "$1,234,567.89");
        assert_eq!(format_money(-5), "-$0.05");
        assert_eq!(format_duration(1500.0), "1.5 s");
        assert_eq!(format_duration(90_000.0), "1.5 min");
    }

    #[test]
    fn plain_text_refuses_markup_and_oversize() {
        assert!(plain_text("<script>alert(1)</script>", 100).is_err());
        assert!(plain_text("hi </b>", 100).is_err());
        assert!(plain_text("   ", 100).is_err());
        assert!(plain_text("abc", 2).is_err());
        assert_eq!(
            plain_text(" I <3 you, 2 < 3 ", 100).unwrap(),
            "I <3 you, 2 < 3"
        );
    }
}
