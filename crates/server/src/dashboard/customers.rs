//! Customers: search by name, email or id (paginated); the customer page
//! with profile, orders, conversations, the agent's long-term memory, the
//! behavior insights (the same as `GET /v1/customers/{id}/insights`) and
//! the loyalty balance; GDPR export (everything as one JSON download) and
//! erasure (the API's erase paths: the agent's memory and the loyalty
//! account's crypto-shredding). Export and erasure need the admin role.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hc_commerce::PageRequest;
use hc_commerce::ports::{CustomerFilter, OrderFilter};
use hc_domain::{AuditRecord, Customer, PaymentMethod, ProductId, Role, TenantId, UserId, now_ms};
use hc_store::{ConversationFact, ConversationFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    DashError, DashResult, PageCtx, Signed, field, form_fields, format_money, format_time,
    fresh_rollup, render, render_status, require,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Customers per search page.
const PAGE_SIZE: u32 = 25;
/// Longest search text.
const MAX_QUERY: usize = 100;
/// Orders and conversations shown on the customer page (the export has all).
const SHOWN: u32 = 50;
/// Most orders, conversations and events one export reads.
const EXPORT_MAX: usize = 10_000;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    after: Option<String>,
}

pub struct CustomerRow {
    pub id: String,
    pub href: String,
    pub name: String,
    pub email: String,
    pub orders: usize,
    pub city: String,
}

#[derive(Template)]
#[template(path = "dashboard/customers.html")]
struct SearchPage {
    page: PageCtx,
    q: String,
    q_error: Option<String>,
    rows: Vec<CustomerRow>,
    next: Option<String>,
}

fn row(c: &Customer) -> CustomerRow {
    CustomerRow {
        id: c.user_id.to_string(),
        href: format!("/dashboard/customers/{}", utf8_path(c.user_id.as_str())),
        name: format!("{} {}", c.name.first_name, c.name.last_name),
        email: c.email.clone(),
        orders: c.orders.len(),
        city: c.address.city.clone(),
    }
}

/// Checks the search text: at most [`MAX_QUERY`] characters, no control characters.
fn search_text(raw: &str) -> Result<String, String> {
    let q = raw.trim();
    if q.chars().count() > MAX_QUERY {
        return Err(format!("At most {MAX_QUERY} characters."));
    }
    if q.chars().any(char::is_control) {
        return Err("Control characters are not allowed.".into());
    }
    Ok(q.to_string())
}

/// `/dashboard/customers?q=&after=`: an email (with `@`) matches exactly, an
/// id matches that customer, anything else a part of the name.
pub async fn customer_list(
    State(state): State<AppState>,
    signed: Signed,
    Query(sq): Query<SearchQuery>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let t = &signed.operator.tenant_id;
    let raw = sq.q.clone().unwrap_or_default();
    let q = match search_text(&raw) {
        Ok(q) => q,
        Err(e) => {
            return render_status(
                StatusCode::BAD_REQUEST,
                &SearchPage {
                    page: PageCtx::new(&signed, "Customers", "Customers"),
                    q: raw,
                    q_error: Some(e),
                    rows: Vec::new(),
                    next: None,
                },
            );
        }
    };
    let store = state.tools.retail().store();
    let mut rows = Vec::new();
    // An exact id first (on the first page only).
    if sq.after.is_none()
        && !q.is_empty()
        && !q.contains('@')
        && let Ok(id) = UserId::parse(q.clone())
        && let Some(c) = store.customer(t, &id).await.map_err(ApiError::from)?
    {
        rows.push(row(&c));
    }
    let filter = if q.is_empty() {
        CustomerFilter::default()
    } else if q.contains('@') {
        CustomerFilter {
            email: Some(q.clone()),
            name: None,
        }
    } else {
        CustomerFilter {
            email: None,
            name: Some(q.clone()),
        }
    };
    let page = store
        .list_customers(t, &filter, &PageRequest::new(sq.after, Some(PAGE_SIZE)))
        .await
        .map_err(ApiError::from)?;
    for c in &page.items {
        if !rows.iter().any(|r| r.id == c.user_id.as_str()) {
            rows.push(row(c));
        }
    }
    let next = page.next_cursor.map(|cursor| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !q.is_empty() {
            s.append_pair("q", &q);
        }
        s.append_pair("after", &cursor);
        format!("/dashboard/customers?{}", s.finish())
    });
    render(&SearchPage {
        page: PageCtx::new(&signed, "Customers", "Customers"),
        q,
        q_error: None,
        rows,
        next,
    })
}

pub struct OrderRow {
    pub id: String,
    pub status: String,
    pub items: String,
    pub total: String,
    pub placed: String,
}

pub struct ConversationRow {
    pub id: String,
    pub status: String,
    pub channel: String,
    pub intent: String,
    pub updated: String,
}

pub struct FactRow {
    pub kind: String,
    pub subject: String,
    pub value: String,
    pub source: String,
    pub learned: String,
}

/// The insights, as text.
#[derive(Default)]
pub struct InsightsView {
    pub error: Option<String>,
    pub segment: String,
    pub churn: String,
    pub clv: String,
    pub purchases: String,
    pub intent: String,
    /// Product, its name if known, and why.
    pub recommendations: Vec<(String, String, String)>,
    /// About, effect, text.
    pub reasons: Vec<(String, String, String)>,
    /// Part, why not.
    pub unavailable: Vec<(String, String)>,
}

#[derive(Default)]
pub struct LoyaltyView {
    pub enabled: bool,
    pub account: String,
    pub balance: u64,
    pub tier: String,
    pub window_points: u64,
    pub next_expiry: String,
}

#[derive(Template)]
#[template(path = "dashboard/customer.html")]
struct CustomerPage {
    page: PageCtx,
    id: String,
    /// `/dashboard/customers/<id, percent-encoded>`.
    base: String,
    name: String,
    email: String,
    address: String,
    payment_methods: Vec<String>,
    cart: Vec<String>,
    orders: Vec<OrderRow>,
    conversations: Vec<ConversationRow>,
    facts: Vec<FactRow>,
    summary: String,
    insights: InsightsView,
    loyalty: LoyaltyView,
    can_erase: bool,
    notice: Option<String>,
    confirm_error: Option<String>,
}

fn user_id(raw: String) -> DashResult<UserId> {
    UserId::parse(raw).map_err(|_| DashError::not_found("customer"))
}

/// The customer of the operator's tenant, or "not found" (another
/// tenant's customer is simply unknown here).
async fn customer_of(state: &AppState, t: &TenantId, id: &UserId) -> DashResult<Customer> {
    state
        .tools
        .retail()
        .store()
        .customer(t, id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| DashError::not_found("customer"))
}

fn payment_label(p: &PaymentMethod) -> String {
    match p {
        PaymentMethod::CreditCard {
            brand, last_four, ..
        } => format!("{brand} card ending {last_four}"),
        PaymentMethod::GiftCard { balance, .. } => {
            format!("gift card, balance {}", format_money(balance.cents()))
        }
        PaymentMethod::Paypal { .. } => "PayPal".into(),
        #[allow(unreachable_patterns)]
        _ => "other".into(),
    }
}

/// The customer's conversations (exact id), newest first, at most `max`.
async fn conversations_of(
    state: &AppState,
    t: &TenantId,
    id: &UserId,
    max: usize,
) -> DashResult<Vec<ConversationFact>> {
    fresh_rollup(state, t).await?;
    let filter = ConversationFilter {
        customer: Some(id.to_string()),
        ..ConversationFilter::default()
    };
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .platform
            .search_conversations(t, &filter, &PageRequest::new(after, Some(200)))
            .await?;
        out.extend(
            page.items
                .into_iter()
                .filter(|f| f.customer_id.as_deref() == Some(id.as_str())),
        );
        match page.next_cursor {
            Some(c) if out.len() < max => after = Some(c),
            _ => break,
        }
    }
    out.truncate(max);
    Ok(out)
}

/// Orders of the customer, newest pages first as the store lists them, at most `max`.
async fn orders_of(
    state: &AppState,
    t: &TenantId,
    id: &UserId,
    max: usize,
) -> DashResult<Vec<hc_domain::Order>> {
    let filter = OrderFilter {
        user_id: Some(id.clone()),
        status: None,
    };
    let store = state.tools.retail().store();
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_orders(t, &filter, &PageRequest::new(after, Some(200)))
            .await
            .map_err(ApiError::from)?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) if out.len() < max => after = Some(c),
            _ => break,
        }
    }
    out.truncate(max);
    Ok(out)
}

fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{:.1}%", p * 100.0))
        .unwrap_or_else(|| "not known".into())
}

fn money_text(v: &Value) -> String {
    v.as_f64()
        .map(|x| format_money((x * 100.0).round() as i64))
        .unwrap_or_else(|| "not known".into())
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

async fn insights_view(state: &AppState, t: &TenantId, id: &UserId) -> InsightsView {
    let v = match crate::api::customers::insights(state, t, id, 5).await {
        Ok(v) => v,
        Err(e) => {
            return InsightsView {
                error: Some(format!("Insights are unavailable: {}", e.message)),
                ..InsightsView::default()
            };
        }
    };
    let churn = &v["churn"];
    let intent = &v["intent"];
    let mut recommendations = Vec::new();
    for r in v["recommendations"].as_array().into_iter().flatten() {
        let pid = s(r, "product_id");
        let name = match ProductId::parse(pid.clone()) {
            Ok(p) => state
                .tools
                .retail()
                .store()
                .product(t, &p)
                .await
                .ok()
                .flatten()
                .map(|p| p.name)
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        recommendations.push((pid, name, s(r, "reason")));
    }
    InsightsView {
        error: None,
        segment: v["segment"]
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("not known")
            .to_string(),
        churn: if churn.is_null() {
            "not known".into()
        } else {
            format!(
                "{} within {} days ({})",
                pct(churn["probability"].as_f64()),
                churn["horizon_days"].as_f64().unwrap_or(90.0),
                s(churn, "basis")
            )
        },
        clv: if v["clv"].is_null() {
            "not known".into()
        } else {
            format!(
                "{} over the next 365 days",
                money_text(&v["clv"]["next_365_days"])
            )
        },
        purchases: match v["purchases"]["next_90_days"].as_f64() {
            Some(n) => format!(
                "{n:.2} in the next 90 days (still active: {})",
                pct(v["purchases"]["p_alive"].as_f64())
            ),
            None => "not known".into(),
        },
        intent: if intent.is_null() {
            "No live session now.".into()
        } else if let Some(p) = intent["probability"].as_f64() {
            format!(
                "{} likely to buy in the live session{}",
                pct(Some(p)),
                if intent["likely_to_buy"].as_bool() == Some(true) {
                    " (above the threshold)"
                } else {
                    ""
                }
            )
        } else {
            s(intent, "reason")
        },
        recommendations,
        reasons: v["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    s(r, "about"),
                    s(r, "effect").replace('_', " "),
                    s(r, "text"),
                )
            })
            .collect(),
        unavailable: v["unavailable"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| (s(r, "part"), s(r, "reason")))
            .collect(),
    }
}

fn loyalty_view(state: &AppState, t: &TenantId, id: &UserId) -> DashResult<LoyaltyView> {
    let Some(api) = &state.loyalty else {
        return Ok(LoyaltyView::default());
    };
    let b = crate::api::loyalty::balance(api, t.as_str(), t.as_str(), id.as_str())?;
    Ok(LoyaltyView {
        enabled: true,
        account: b.account.unwrap_or_default(),
        balance: b.balance,
        tier: b.tier.unwrap_or_else(|| "—".into()),
        window_points: b.window_points,
        next_expiry: b
            .next_expiry
            .map(|e| {
                format!(
                    "{} points on {}",
                    e.points,
                    format_time(e.at.min(i64::MAX as u64 / 1000) as i64 * 1000)
                )
            })
            .unwrap_or_else(|| "—".into()),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    erased: Option<String>,
    facts: Option<u64>,
    points: Option<u64>,
}

fn erased_notice(q: &DoneQuery) -> Option<String> {
    let loyalty = match q.erased.as_deref()? {
        "shredded" => format!(
            "the loyalty account was shredded ({} points forfeited)",
            q.points.unwrap_or(0)
        ),
        "none" => "there was no loyalty account".into(),
        _ => "loyalty is not enabled on this server".into(),
    };
    Some(format!(
        "Erased: {} memory facts; {loyalty}.",
        q.facts.unwrap_or(0)
    ))
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: UserId,
    status: StatusCode,
    notice: Option<String>,
    confirm_error: Option<String>,
) -> DashResult<Response> {
    let t = &signed.operator.tenant_id;
    let c = customer_of(state, t, &id).await?;
    let orders = orders_of(state, t, &id, SHOWN as usize)
        .await?
        .into_iter()
        .map(|o| OrderRow {
            id: o.order_id.to_string(),
            status: o.status.as_str().to_string(),
            items: o
                .items
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            total: format_money(o.items.iter().map(|i| i.price.cents()).sum()),
            placed: o.created_at_ms.map(format_time).unwrap_or_default(),
        })
        .collect();
    let conversations = conversations_of(state, t, &id, SHOWN as usize)
        .await?
        .into_iter()
        .map(|f| ConversationRow {
            id: f.conversation_id.to_string(),
            status: f.status,
            channel: f.channel,
            intent: f.intent.unwrap_or_default(),
            updated: format_time(f.updated_at_ms),
        })
        .collect();
    let facts = crate::api::customers::memory_store(state)
        .recall(t, &id)
        .await
        .map_err(ApiError::from)?;
    let summary = hc_agent::memory_summary(&facts);
    let facts = facts
        .into_iter()
        .map(|f| FactRow {
            kind: f.kind.as_str().to_string(),
            subject: f.subject,
            value: f.value,
            source: f.source,
            learned: format_time(f.learned_at_ms),
        })
        .collect();
    let insights = insights_view(state, t, &id).await;
    let loyalty = loyalty_view(state, t, &id)?;
    let a = &c.address;
    let address = [
        &a.address1,
        &a.address2,
        &a.city,
        &a.state,
        &a.zip,
        &a.country,
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .map(|p| p.as_str())
    .collect::<Vec<_>>()
    .join(", ");
    render_status(
        status,
        &CustomerPage {
            page: PageCtx::new(
                signed,
                format!("Customer {} {}", c.name.first_name, c.name.last_name),
                "Customers",
            ),
            id: id.to_string(),
            base: format!("/dashboard/customers/{}", utf8_path(id.as_str())),
            name: format!("{} {}", c.name.first_name, c.name.last_name),
            email: c.email.clone(),
            address,
            payment_methods: c.payment_methods.values().map(payment_label).collect(),
            cart: c
                .cart
                .iter()
                .map(|l| format!("{} × {}", l.quantity, l.item_id))
                .collect(),
            orders,
            conversations,
            facts,
            summary,
            insights,
            loyalty,
            can_erase: signed.can(Role::Admin),
            notice,
            confirm_error,
        },
    )
}

/// `/dashboard/customers/{id}`.
pub async fn customer_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<DoneQuery>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let id = user_id(id)?;
    show(
        &state,
        &signed,
        id,
        StatusCode::OK,
        erased_notice(&done),
        None,
    )
    .await
}

/// Everything held about the customer, as one JSON document: profile,
/// orders, conversations with their messages and private notes, the
/// agent's memory, behavior events, insights and loyalty (balance and the
/// account's ledger operations). Admin role; audited as `customer.export`.
pub async fn export_json(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> DashResult<Response> {
    require(&signed, Role::Admin)?;
    let id = user_id(id)?;
    let t = &signed.operator.tenant_id;
    let c = customer_of(&state, t, &id).await?;
    let orders = orders_of(&state, t, &id, EXPORT_MAX).await?;
    let mut conversations = Vec::new();
    for f in conversations_of(&state, t, &id, EXPORT_MAX).await? {
        let (conv, messages) = state
            .agent
            .conversation(t, &f.conversation_id)
            .await
            .map_err(ApiError::from)?;
        let notes = state.platform.notes(t, &f.conversation_id).await?;
        conversations.push(json!({"conversation": conv, "messages": messages, "notes": notes}));
    }
    let facts = crate::api::customers::memory_store(&state)
        .recall(t, &id)
        .await
        .map_err(ApiError::from)?;
    let events = state
        .platform
        .customer_events(t, &id, EXPORT_MAX as u32)
        .await?;
    let insights = match crate::api::customers::insights(&state, t, &id, 5).await {
        Ok(v) => v,
        Err(e) => json!({"unavailable": e.message}),
    };
    let loyalty = match &state.loyalty {
        None => Value::Null,
        Some(api) => {
            let b = crate::api::loyalty::balance(api, t.as_str(), t.as_str(), id.as_str())?;
            let history = match b
                .account
                .as_deref()
                .and_then(|a| hc_ledger::AccountId::parse(a).ok())
            {
                Some(acct) => super::loyalty::operations_of(api, &acct),
                None => Vec::new(),
            };
            json!({"balance": b, "history": history})
        }
    };
    let counts = json!({"orders": orders.len(), "conversations": conversations.len(), "events": events.len()});
    let body = json!({
        "exported_at_ms": now_ms(),
        "tenant": t,
        "customer": c,
        "orders": orders,
        "conversations": conversations,
        "memory": {"summary": hc_agent::memory_summary(&facts), "facts": facts},
        "events": events,
        "insights": insights,
        "loyalty": loyalty,
    });
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor: signed.actor(),
            action: "customer.export".into(),
            target: format!("customer:{id}"),
            at_ms: now_ms(),
            detail: counts,
        })
        .await?;
    let name = id.as_str().replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-',
        "_",
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"customer-{name}.json\""),
            ),
        ],
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    )
        .into_response())
}

/// Erases the customer as `DELETE /v1/customers/{id}` does
/// (`api::customers::erase_customer`: personal data in the store, the
/// agent's memory, the loyalty account).
/// The form's `confirm` must repeat the customer id. Admin role; audited as
/// `customer.erase`.
pub async fn erase(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, Role::Admin)?;
    let id = user_id(id)?;
    let t = &signed.operator.tenant_id;
    customer_of(&state, t, &id).await?;
    let fields = form_fields(&body);
    let confirm = field(&fields, "confirm").unwrap_or_default().trim();
    if confirm != id.as_str() {
        let message = if confirm.is_empty() {
            "Type the customer id to confirm."
        } else {
            "That is not this customer's id; nothing was erased."
        };
        return show(
            &state,
            &signed,
            id,
            StatusCode::BAD_REQUEST,
            None,
            Some(message.into()),
        )
        .await;
    }
    let out = crate::api::customers::erase_customer(&state, t, &id, signed.actor()).await?;
    let facts = out.memory_facts;
    let (loyalty, points) = match &out.loyalty {
        Some(l) => (
            if l.erased { "shredded" } else { "none" },
            l.forfeited_points,
        ),
        None => ("off", 0),
    };
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("erased", loyalty)
        .append_pair("facts", &facts.to_string())
        .append_pair("points", &points.to_string());
    Ok(Redirect::to(&format!(
        "/dashboard/customers/{}?{}",
        utf8_path(id.as_str()),
        q.finish()
    ))
    .into_response())
}

/// A path segment, percent-encoded.
pub fn utf8_path(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(search_text("  Sam ").unwrap(), "Sam");
        assert!(search_text(&"x".repeat(101)).is_err());
        assert!(search_text("a\u{7}b").is_err());
    }

    #[test]
    fn the_erasure_notice_says_what_happened() {
        let q = DoneQuery {
            erased: Some("shredded".into()),
            facts: Some(3),
            points: Some(40),
        };
        assert_eq!(
            erased_notice(&q).unwrap(),
            "Erased: 3 memory facts; the loyalty account was shredded (40 points forfeited)."
        );
        assert!(erased_notice(&DoneQuery::default()).is_none());
    }
}
