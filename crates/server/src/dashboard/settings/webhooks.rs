//! Settings → Webhooks: the tenant's endpoints for conversation events
//! (see `crate::tenant_webhooks`), add (the signing secret is shown once)
//! and remove, and the log of recent webhook deliveries with their status.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hc_domain::{Role, now_ms};
use hc_store::WebhookEndpoint;
use serde_json::json;

use super::super::session::random_token;
use super::super::{
    DashError, DashResult, PageCtx, Signed, field, form_fields, format_time, render_status, require,
};
use super::{CHANGE_ROLE, Section, audit, ctx, one_line, web_url};
use crate::state::AppState;

/// Most endpoints per tenant.
const MAX_ENDPOINTS: usize = 20;
/// Deliveries shown in the log.
const LOG_ROWS: u32 = 50;

pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub created: String,
}

pub struct DeliveryRow {
    pub id: i64,
    pub at: String,
    pub event: String,
    pub url: String,
    pub status: &'static str,
    pub attempts: u32,
    pub detail: String,
}

#[derive(Default)]
pub struct WebhookErrors {
    pub url: Option<String>,
    pub description: Option<String>,
    pub form: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/settings_webhooks.html")]
struct WebhooksPage {
    page: PageCtx,
    nav: Vec<Section>,
    can_change: bool,
    endpoints: Vec<EndpointRow>,
    deliveries: Vec<DeliveryRow>,
    url: String,
    description: String,
    errors: WebhookErrors,
    /// The new endpoint's signing secret, shown once.
    secret: Option<String>,
    done: Option<&'static str>,
}

struct Shown {
    status: StatusCode,
    url: String,
    description: String,
    errors: WebhookErrors,
    secret: Option<String>,
    done: Option<&'static str>,
}

impl Shown {
    fn ok() -> Self {
        Self {
            status: StatusCode::OK,
            url: String::new(),
            description: String::new(),
            errors: WebhookErrors::default(),
            secret: None,
            done: None,
        }
    }
}

async fn show(state: &AppState, signed: &Signed, shown: Shown) -> DashResult<Response> {
    let (page, nav, can_change) = ctx(signed, "Webhooks");
    let t = &signed.operator.tenant_id;
    let endpoints = state
        .platform
        .list_webhook_endpoints(t)
        .await?
        .into_iter()
        .map(|e| EndpointRow {
            id: e.id,
            url: e.url,
            description: e.description,
            created: format_time(e.created_at_ms),
        })
        .collect();
    let deliveries = state
        .platform
        .webhook_deliveries(t, LOG_ROWS)
        .await?
        .into_iter()
        .map(|d| {
            let text = |k: &str| {
                d.payload
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            DeliveryRow {
                id: d.id,
                at: format_time(d.updated_at_ms),
                event: text("event"),
                url: text("url"),
                status: d.status.as_str(),
                attempts: d.attempts,
                detail: d
                    .last_error
                    .clone()
                    .or_else(|| d.provider_id.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    render_status(
        shown.status,
        &WebhooksPage {
            page,
            nav,
            can_change,
            endpoints,
            deliveries,
            url: shown.url,
            description: shown.description,
            errors: shown.errors,
            secret: shown.secret,
            done: shown.done,
        },
    )
}

pub async fn webhooks_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let done = q
        .get("done")
        .is_some_and(|d| d == "removed")
        .then_some("Endpoint removed. Its pending deliveries will not be sent.");
    show(
        &state,
        &signed,
        Shown {
            done,
            ..Shown::ok()
        },
    )
    .await
}

pub async fn create_webhook(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let fields = form_fields(&body);
    let raw_url = field(&fields, "url").unwrap_or("").to_string();
    let raw_description = field(&fields, "description").unwrap_or("").to_string();
    let mut errors = WebhookErrors::default();
    let url = web_url(&raw_url).map_err(|e| errors.url = Some(e)).ok();
    let description = if raw_description.trim().is_empty() {
        Some(String::new())
    } else {
        one_line(&raw_description, 200)
            .map_err(|e| errors.description = Some(e))
            .ok()
    };
    let t = &signed.operator.tenant_id;
    if state.platform.list_webhook_endpoints(t).await?.len() >= MAX_ENDPOINTS {
        errors.form = Some(format!(
            "A store has at most {MAX_ENDPOINTS} endpoints: remove one first."
        ));
    }
    let full = errors.form.is_some();
    let (Some(url), Some(description), false) = (url, description, full) else {
        let shown = Shown {
            status: StatusCode::BAD_REQUEST,
            url: raw_url,
            description: raw_description,
            errors,
            ..Shown::ok()
        };
        return show(&state, &signed, shown).await;
    };
    let endpoint = WebhookEndpoint {
        id: format!("wh_{}", &random_token()[..16]),
        tenant_id: t.clone(),
        url,
        description,
        created_at_ms: now_ms(),
    };
    let secret = format!("whsec_{}", random_token());
    let record = audit(
        &signed,
        "webhook.create",
        format!("webhook:{}", endpoint.id),
        json!({"url": endpoint.url, "description": endpoint.description}),
    );
    state
        .platform
        .insert_webhook_endpoint(&endpoint, &secret, &record)
        .await?;
    show(
        &state,
        &signed,
        Shown {
            status: StatusCode::CREATED,
            secret: Some(secret),
            ..Shown::ok()
        },
    )
    .await
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    if id.len() > 64 {
        return Err(DashError::not_found("webhook endpoint"));
    }
    let t = &signed.operator.tenant_id;
    let record = audit(
        &signed,
        "webhook.delete",
        format!("webhook:{id}"),
        json!({}),
    );
    if !state
        .platform
        .delete_webhook_endpoint(t, &id, &record)
        .await?
    {
        return Err(DashError::not_found("webhook endpoint"));
    }
    Ok(Redirect::to("/dashboard/settings/webhooks?done=removed").into_response())
}
