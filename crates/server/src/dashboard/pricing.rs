//! Pricing: the approvals queue (approve or reject one or many at once;
//! approving re-checks the item's rules now, through the pricing service)
//! and the priced items with their current price.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
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
    pub current: String,
    pub base: String,
    pub mode: String,
    pub updated: String,
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
    outcomes: Vec<Outcome>,
    form_error: Option<String>,
}

fn policy_of(reason: &serde_json::Value) -> String {
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
    let items = state
        .platform
        .priced_items(t, None)
        .await?
        .into_iter()
        .take(200)
        .map(|i| ItemRow {
            item: i.item_id.to_string(),
            current: format_money(i.current.cents()),
            base: format_money(i.base.cents()),
            mode: i
                .rules
                .get("mode")
                .and_then(|m| m.as_str())
                .unwrap_or("auto")
                .to_string(),
            updated: format_time(i.updated_at_ms),
        })
        .collect();
    render_status(
        status,
        &PricingPage {
            page: PageCtx::new(signed, "Pricing", "Pricing"),
            can_decide: signed.can(Role::Manager),
            approvals,
            items,
            outcomes,
            form_error,
        },
    )
}

pub async fn approvals_page(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    page(&state, &signed, StatusCode::OK, Vec::new(), None).await
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
    page(&state, &signed, StatusCode::OK, outcomes, None).await
}
