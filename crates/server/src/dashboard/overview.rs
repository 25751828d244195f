//! The overview: today's figures and the chosen range's, from the
//! conversation rollup (days × channels rows, never a scan of
//! conversations), with charts and the top intents and escalation reasons.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_domain::{Channel, Role, now_ms};
use hc_store::{DAY_MS, DailyRow};
use serde::Deserialize;

use super::charts::BarChart;
use super::{
    DashResult, PageCtx, Signed, format_day, format_duration, format_money, fresh_rollup,
    parse_day, render_status, require,
};
use crate::state::AppState;

/// Longest range the overview accepts, in days.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Default range: the last 14 days.
const DEFAULT_DAYS: i64 = 14;

pub const CHANNELS: [Channel; 5] = [
    Channel::Chat,
    Channel::Email,
    Channel::Sms,
    Channel::Voice,
    Channel::Api,
];

#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
}

#[derive(Default)]
pub struct FilterErrors {
    pub from: Option<String>,
    pub to: Option<String>,
    pub channel: Option<String>,
}

pub struct Kpi {
    pub id: &'static str,
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    page: PageCtx,
    from: String,
    to: String,
    /// (value, selected, label)
    channels: Vec<(&'static str, bool, &'static str)>,
    errors: FilterErrors,
    today_label: String,
    today: Vec<Kpi>,
    range: Vec<Kpi>,
    charts: Vec<BarChart>,
    intents: Vec<(String, i64)>,
    reasons: Vec<(String, i64)>,
    max_age_s: f64,
    human_cost: String,
}

/// The range's figures summed over its days.
fn total(rows: &[DailyRow]) -> DailyRow {
    rows.iter().fold(DailyRow::default(), |mut t, r| {
        t.conversations += r.conversations;
        t.open += r.open;
        t.resolved += r.resolved;
        t.resolved_by_ai += r.resolved_by_ai;
        t.escalated += r.escalated;
        t.abandoned += r.abandoned;
        t.first_response_sum_ms += r.first_response_sum_ms;
        t.first_response_n += r.first_response_n;
        t.resolution_sum_ms += r.resolution_sum_ms;
        t.resolution_n += r.resolution_n;
        t.rating_sum += r.rating_sum;
        t.rating_n += r.rating_n;
        t.revenue_cents += r.revenue_cents;
        t.orders += r.orders;
        t
    })
}

/// Conversations no longer open (resolved, escalated now, abandoned).
fn decided(r: &DailyRow) -> i64 {
    r.conversations - r.open
}

/// Share resolved by the AI alone among decided conversations.
pub fn ai_rate(r: &DailyRow) -> Option<f64> {
    let d = decided(r);
    (d > 0).then(|| r.resolved_by_ai as f64 / d as f64)
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn kpis(r: &DailyRow, waiting: Option<i64>, human_cost_cents: i64) -> Vec<Kpi> {
    let avg = |sum: i64, n: i64| (n > 0).then(|| sum as f64 / n as f64);
    let saved = r.resolved_by_ai * human_cost_cents;
    let all_human = r.conversations * human_cost_cents;
    let k = |id, label, value: String, note: String| Kpi {
        id,
        label,
        value,
        note,
    };
    let mut v = vec![
        k(
            "conversations",
            "Conversations",
            r.conversations.to_string(),
            String::new(),
        ),
        k(
            "ai-rate",
            "Resolved by AI",
            pct(ai_rate(r)),
            format!("{} of {} closed or escalated", r.resolved_by_ai, decided(r)),
        ),
        k(
            "escalated",
            "Escalated",
            r.escalated.to_string(),
            pct((r.conversations > 0).then(|| r.escalated as f64 / r.conversations as f64)),
        ),
    ];
    if let Some(w) = waiting {
        v.push(k(
            "queued",
            "Waiting for a person now",
            w.to_string(),
            String::new(),
        ));
    }
    v.extend([
        k(
            "csat",
            "Satisfaction",
            avg(r.rating_sum, r.rating_n)
                .map(|c| format!("{c:.2} / 5"))
                .unwrap_or_else(|| "—".into()),
            format!("{} ratings", r.rating_n),
        ),
        k(
            "first-response",
            "Avg first response",
            avg(r.first_response_sum_ms, r.first_response_n)
                .map(format_duration)
                .unwrap_or_else(|| "—".into()),
            String::new(),
        ),
        k(
            "resolution",
            "Avg resolution time",
            avg(r.resolution_sum_ms, r.resolution_n)
                .map(format_duration)
                .unwrap_or_else(|| "—".into()),
            String::new(),
        ),
        k(
            "saved",
            "Cost saved vs people",
            format_money(saved),
            format!(
                "{} of {}",
                pct((all_human > 0).then(|| saved as f64 / all_human as f64)),
                format_money(all_human)
            ),
        ),
        k(
            "revenue",
            "Revenue influenced",
            format_money(r.revenue_cents),
            format!("{} orders placed in conversations", r.orders),
        ),
    ]);
    v
}

pub async fn overview_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<OverviewQuery>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let tenant = &signed.operator.tenant_id;
    let today = now_ms().div_euclid(DAY_MS);
    let mut errors = FilterErrors::default();
    let day_of = |raw: &Option<String>, default: i64, slot: &mut Option<String>| match raw
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => default,
        Some(s) => parse_day(s).unwrap_or_else(|| {
            *slot = Some("Use a date like 2025-03-31.".into());
            default
        }),
    };
    let mut to = day_of(&q.to, today, &mut errors.to);
    let mut from = day_of(&q.from, to - (DEFAULT_DAYS - 1), &mut errors.from);
    if errors.from.is_none() && errors.to.is_none() {
        if from > to {
            errors.from = Some("The start must not be after the end.".into());
        } else if to - from >= MAX_RANGE_DAYS {
            errors.from = Some(format!("At most {MAX_RANGE_DAYS} days at once."));
        }
    }
    if errors.from.is_some() || errors.to.is_some() {
        to = today;
        from = today - (DEFAULT_DAYS - 1);
    }
    let channel = match q.channel.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => match CHANNELS.iter().find(|ch| ch.as_str() == c) {
            Some(ch) => Some(ch.as_str()),
            None => {
                errors.channel = Some("Choose one of the listed channels.".into());
                None
            }
        },
    };
    fresh_rollup(&state, tenant).await?;
    let store = &state.platform;
    let rows = store.daily(tenant, from, to, channel).await?;
    let today_rows = store.daily(tenant, today, today, channel).await?;
    let waiting = store.waiting_for_human(tenant).await?;
    let intents = store
        .top_labels(tenant, "intent", from, to, channel, 8)
        .await?;
    let reasons = store
        .top_labels(tenant, "escalation", from, to, channel, 8)
        .await?;
    let human_cost_cents =
        (state.config.dashboard.human_cost_per_conversation * 100.0).round() as i64;
    // Every day of the range, zero where the rollup has no row.
    let by_day: std::collections::HashMap<i64, &DailyRow> =
        rows.iter().map(|r| (r.day, r)).collect();
    let days: Vec<(String, Option<&DailyRow>)> = (from..=to)
        .map(|d| (format_day(d), by_day.get(&d).copied()))
        .collect();
    let volume: Vec<(String, f64)> = days
        .iter()
        .map(|(l, r)| (l.clone(), r.map_or(0.0, |r| r.conversations as f64)))
        .collect();
    let rate: Vec<(String, f64)> = days
        .iter()
        .map(|(l, r)| (l.clone(), r.and_then(ai_rate).unwrap_or(0.0) * 100.0))
        .collect();
    let charts = vec![
        BarChart::new("volume", "Conversations per day", &volume, Some(1.0), |v| {
            format!("{v:.0}")
        }),
        BarChart::new(
            "ai-rate",
            "Share resolved by AI per day",
            &rate,
            Some(100.0),
            |v| format!("{v:.0}%"),
        ),
    ];
    let status = if errors.from.is_some() || errors.to.is_some() || errors.channel.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = OverviewPage {
        page: PageCtx::new(&signed, "Overview", "Overview"),
        from: format_day(from),
        to: format_day(to),
        channels: std::iter::once(("", channel.is_none(), "All channels"))
            .chain(
                CHANNELS
                    .iter()
                    .map(|c| (c.as_str(), channel == Some(c.as_str()), c.as_str())),
            )
            .collect(),
        errors,
        today_label: format_day(today),
        today: kpis(&total(&today_rows), Some(waiting), human_cost_cents),
        range: kpis(&total(&rows), None, human_cost_cents),
        charts,
        intents,
        reasons,
        max_age_s: state.config.dashboard.rollup_max_age_ms as f64 / 1000.0,
        human_cost: format_money(human_cost_cents),
    };
    render_status(status, &page)
}
