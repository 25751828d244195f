//! Pricing: the approvals queue (approve or reject one or many at once;
//! approving re-checks the item's rules now, through the pricing service)
//! and the priced items with their current price, rules and last change
//! (each links to its page in [`super::price_item`]).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hc_domain::{AuditRecord, Role, now_ms};
use hc_store::ApprovalStatus;
use serde_json::json;

use super::{
    DashResult, PageCtx, Signed, form_fields, format_money, format_time, render_status, require,
};
use crate::state::AppState;

/// Most approvals decided by one form.
const MAX_BULK: usize = 200;

pub struct ApprovalRow {
    pub id: i64,
    pub item: String,
    pub from: String,
    pub to: String,
    pub change: String,
    pub why: String,
    pub at: String,
}

pub struct ItemRow {
    pub item: String,
    pub href: String,
    pub current: String,
    pub base: String,
    pub mode: String,
    pub rules: String,
    pub last_change: String,
    pub reason: String,
}

/// Priced items per page.
const ITEMS_PER_PAGE: usize = 50;

#[derive(Debug, Default, serde::Deserialize)]
pub struct ItemsQuery {
    /// 1-based page of the priced items.
    page: Option<String>,
}

pub struct Outcome {
    pub id: String,
    pub ok: bool,
    pub message: String,
}

#[derive(Template)]
#[template(path = "dashboard/pricing.html")]
struct PricingPage {
    page: PageCtx,
    can_decide: bool,
    approvals: Vec<ApprovalRow>,
    items: Vec<ItemRow>,
    items_page: usize,
    prev: Option<String>,
    next: Option<String>,
    outcomes: Vec<Outcome>,
    form_error: Option<String>,
}

pub fn policy_of(reason: &serde_json::Value) -> String {
    let policy = reason
        .get("policy")
        .and_then(|p| p.as_str())
        .unwrap_or("pricing policy");
    let clips = reason
        .get("clips")
        .and_then(|c| c.as_array())
        .map(|c| {
            c.iter()
                .filter_map(|c| c.get("rule").and_then(|r| r.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    if clips.is_empty() {
        policy.to_string()
    } else {
        format!("{policy}; limited by {clips}")
    }
}

async fn page(
    state: &AppState,
    signed: &Signed,
    items_page: usize,
    status: StatusCode,
    outcomes: Vec<Outcome>,
    form_error: Option<String>,
) -> DashResult<Response> {
    let t = &signed.operator.tenant_id;
    let approvals = state
        .platform
        .price_approvals(t, Some(ApprovalStatus::Pending))
        .await?
        .into_iter()
        .map(|a| {
            let change = match a.from {
                Some(f) if f.cents() > 0 => {
                    format!(
                        "{:+.1}%",
                        (a.to.cents() - f.cents()) as f64 / f.cents() as f64 * 100.0
                    )
                }
                _ => "new".into(),
            };
            ApprovalRow {
                id: a.id,
                item: a.item_id.to_string(),
                from: a
                    .from
                    .map(|m| format_money(m.cents()))
                    .unwrap_or_else(|| "—".into()),
                to: format_money(a.to.cents()),
                change,
                why: policy_of(&a.reason),
                at: format_time(a.created_at_ms),
            }
        })
        .collect();
    let all = state.platform.priced_items(t, None).await?;
    let pages = all.len().div_ceil(ITEMS_PER_PAGE).max(1);
    let items_page = items_page.clamp(1, pages);
    let mut items = Vec::new();
    for i in all
        .into_iter()
        .skip((items_page - 1) * ITEMS_PER_PAGE)
        .take(ITEMS_PER_PAGE)
    {
        let last = state.platform.price_history(t, &i.item_id, 1).await?;
        let (last_change, reason) = match last.first() {
            Some(h) => (
                format!(
                    "{} → {} ({}, {})",
                    h.from
                        .map(|m| format_money(m.cents()))
                        .unwrap_or_else(|| "—".into()),
                    format_money(h.to.cents()),
                    h.status,
                    format_time(h.at_ms)
                ),
                policy_of(&h.reason),
            ),
            None => ("none yet".into(), String::new()),
        };
        items.push(ItemRow {
            href: format!(
                "/dashboard/pricing/items/{}",
                super::customers::utf8_path(i.item_id.as_str())
            ),
            item: i.item_id.to_string(),
            current: format_money(i.current.cents()),
            base: format_money(i.base.cents()),
            mode: i
                .rules
                .get("mode")
                .and_then(|m| m.as_str())
                .unwrap_or("auto")
                .to_string(),
            rules: super::price_item::rules_summary(&i.rules),
            last_change,
            reason,
        });
    }
    let link = |n: usize| format!("/dashboard/pricing?page={n}");
    let prev = (items_page > 1).then(|| link(items_page - 1));
    let next = (items_page < pages).then(|| link(items_page + 1));
    render_status(
        status,
        &PricingPage {
            page: PageCtx::new(signed, "Pricing", "Pricing"),
            can_decide: signed.can(Role::Manager),
            approvals,
            items,
            items_page,
            prev,
            next,
            outcomes,
            form_error,
        },
    )
}

pub async fn approvals_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<ItemsQuery>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    // A page number that is not one shows the first page.
    let n = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1);
    page(&state, &signed, n, StatusCode::OK, Vec::new(), None).await
}

/// Approves or rejects the checked approvals (`id` repeated, `decision`
/// approve or reject). Manager role. Each is decided on its own: one that
/// the rules no longer allow stays pending and is reported.
pub async fn decide_approvals(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, Role::Manager)?;
    let fields = form_fields(&body);
    let approve = match super::field(&fields, "decision") {
        Some("approve") => true,
        Some("reject") => false,
        _ => {
            return page(
                &state,
                &signed,
                1,
                StatusCode::BAD_REQUEST,
                Vec::new(),
                Some("Choose Approve or Reject.".into()),
            )
            .await;
        }
    };
    let ids: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.as_str())
        .collect();
    if ids.is_empty() {
        return page(
            &state,
            &signed,
            1,
            StatusCode::BAD_REQUEST,
            Vec::new(),
            Some("Select at least one price change.".into()),
        )
        .await;
    }
    if ids.len() > MAX_BULK {
        return page(
            &state,
            &signed,
            1,
            StatusCode::BAD_REQUEST,
            Vec::new(),
            Some(format!("At most {MAX_BULK} at once.")),
        )
        .await;
    }
    let Ok(ids) = ids
        .iter()
        .map(|i| i.parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
    else {
        return page(
            &state,
            &signed,
            1,
            StatusCode::BAD_REQUEST,
            Vec::new(),
            Some("Those are not price changes of this store.".into()),
        )
        .await;
    };
    let t = &signed.operator.tenant_id;
    let mut outcomes = Vec::new();
    for id in ids {
        match crate::pricing::decide(&state, t, id, approve).await {
            Ok(done) => {
                let record = AuditRecord {
                    tenant_id: t.clone(),
                    actor: signed.actor(),
                    action: if approve {
                        "pricing.approve"
                    } else {
                        "pricing.reject"
                    }
                    .into(),
                    target: format!("item:{}", done.item_id),
                    at_ms: now_ms(),
                    detail: json!({"approval": id, "to": done.to}),
                };
                state.platform.record_audit(&record).await?;
                outcomes.push(Outcome {
                    id: id.to_string(),
                    ok: true,
                    message: format!(
                        "{} {} at {}",
                        if approve { "Approved" } else { "Rejected" },
                        done.item_id,
                        format_money(done.to.cents())
                    ),
                });
            }
            Err(e) if e.status.is_client_error() => outcomes.push(Outcome {
                id: id.to_string(),
                ok: false,
                message: e.message,
            }),
            Err(e) => return Err(e.into()),
        }
    }
    page(&state, &signed, 1, StatusCode::OK, outcomes, None).await
}
