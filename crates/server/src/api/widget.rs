//! The public chat widget: `/widget.js` (one script tag on the shop), the
//! demo shop at `/demo`, and the public conversation endpoints the widget
//! calls. These need no API key: a shop page cannot keep a secret. They can
//! only open a conversation for a tenant and talk in it; the conversation id
//! (128 random bits) is the capability, the rate limit is per client IP, and
//! shoppers see replies, never tool internals.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_domain::{Author, Channel, ConversationId, ConversationStatus, TenantId};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

const WIDGET_JS: &str = include_str!("../../assets/widget.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(widget_js))
        .route("/demo", get(demo_page))
        .route("/widget/v1/{tenant}/conversations", post(open_conversation))
        .route(
            "/widget/v1/{tenant}/conversations/{id}/messages",
            post(send).get(transcript),
        )
}

fn check_rate(state: &AppState, addr: Option<SocketAddr>) -> ApiResult<()> {
    let ip = addr.map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    state.widget_limiter.check_key(&ip).map_err(|_| {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many messages; wait a moment",
        );
        e.retry_after_secs = Some(1);
        e
    })
}

async fn tenant(state: &AppState, raw: &str) -> ApiResult<TenantId> {
    let t = TenantId::parse(raw).map_err(|_| ApiError::not_found("shop"))?;
    match state.platform.tenant(&t).await? {
        Some(_) => Ok(t),
        None => Err(ApiError::not_found("shop")),
    }
}

fn conversation_id(raw: String) -> ApiResult<ConversationId> {
    ConversationId::parse(raw).map_err(|_| ApiError::not_found("conversation"))
}

pub async fn widget_js() -> Response {
    let mut r = WIDGET_JS.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

#[derive(Serialize)]
pub struct Opened {
    pub id: ConversationId,
    pub greeting: String,
}

/// Opens a conversation from the widget.
pub async fn open_conversation(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(raw_tenant): Path<String>,
) -> ApiResult<(StatusCode, Json<Opened>)> {
    check_rate(&state, Some(addr))?;
    let t = tenant(&state, &raw_tenant).await?;
    let c = state.agent.start(&t, Channel::Chat).await?;
    // In the tenant's voice (brand, tone, custom greeting), then what the agent can do.
    let greeting = format!(
        "{} I can check your orders, cancel, return or exchange items, change an address or payment, and help you find products.",
        state.agent.greeting_for(&t).await
    );
    Ok((StatusCode::CREATED, Json(Opened { id: c.id, greeting })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetMessage {
    pub text: String,
}

#[derive(Serialize)]
pub struct WidgetReply {
    pub reply: String,
    pub status: ConversationStatus,
}

/// The shopper's message; the reply text and status only.
pub async fn send(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path((raw_tenant, id)): Path<(String, String)>,
    JsonBody(msg): JsonBody<WidgetMessage>,
) -> ApiResult<Json<WidgetReply>> {
    check_rate(&state, Some(addr))?;
    let t = tenant(&state, &raw_tenant).await?;
    let id = conversation_id(id)?;
    let turn = state.agent.handle(&t, &id, &msg.text).await?;
    Ok(Json(WidgetReply {
        reply: turn.reply.text,
        status: turn.status,
    }))
}

#[derive(Serialize)]
pub struct Line {
    pub from: &'static str,
    pub text: String,
}

/// The conversation so far (to restore the widget after a page load).
pub async fn transcript(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path((raw_tenant, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Line>>> {
    check_rate(&state, Some(addr))?;
    let t = tenant(&state, &raw_tenant).await?;
    let id = conversation_id(id)?;
    let (_, messages) = state.agent.conversation(&t, &id).await?;
    Ok(Json(
        messages
            .into_iter()
            .map(|m| Line {
                from: match m.author {
                    Author::Customer => "you",
                    Author::Agent | Author::System => "assistant",
                    Author::Human => "team",
                },
                text: m.text,
            })
            .collect(),
    ))
}

/// The demo shop's public tracker key: issued once per process on the first
/// visit (only its hash is stored, so a restarted server issues another).
async fn demo_tracker_key(state: &AppState, t: &TenantId) -> ApiResult<String> {
    state
        .demo_tracker_key
        .get_or_try_init(|| async {
            let issued = crate::keys::issue_key(t, hc_domain::Role::Tracker, "demo tracker", None);
            state
                .platform
                .insert_key(&issued.record, &issued.hash)
                .await?;
            Ok::<_, ApiError>(issued.secret)
        })
        .await
        .cloned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A small demo shop for tenant `demo`: products, demo customers to chat as, and the widget.
pub async fn demo_page(State(state): State<AppState>) -> ApiResult<Html<String>> {
    let t = TenantId::parse("demo").map_err(|_| ApiError::not_found("demo"))?;
    if state.platform.tenant(&t).await?.is_none() {
        return Err(ApiError::not_found(
            "demo store (start with `serve --demo`)",
        ));
    }
    let store = state.tools.retail().store().clone();
    let products = store
        .list_products(&t, None, &hc_commerce::PageRequest::new(None, Some(12)))
        .await?
        .items;
    let customers = store
        .list_customers(
            &t,
            &Default::default(),
            &hc_commerce::PageRequest::new(None, Some(6)),
        )
        .await?
        .items;
    let cards: String = products
        .iter()
        .map(|p| {
            let cheapest = p.variants.values().filter(|v| v.available).min_by_key(|v| v.price);
            let price = cheapest.map(|v| v.price).unwrap_or_default();
            let item = cheapest.map(|v| v.item_id.as_str()).unwrap_or_default();
            let pid = escape(p.product_id.as_str());
            let item = escape(item);
            format!(
                "<li class=\"card\"><h3>{}</h3><p>{}</p><p class=\"price\">from ${price}</p>\
                 <button type=\"button\" class=\"view\" data-hc-event=\"product_view\" data-hc-product=\"{pid}\" data-hc-item=\"{item}\" data-hc-price=\"{price}\">Details</button> \
                 <button type=\"button\" class=\"add\" data-hc-event=\"add_to_cart\" data-hc-product=\"{pid}\" data-hc-item=\"{item}\" data-hc-price=\"{price}\" data-hc-quantity=\"1\">Add to cart</button> \
                 <button type=\"button\" class=\"remove\" data-hc-event=\"remove_from_cart\" data-hc-product=\"{pid}\" data-hc-item=\"{item}\" data-hc-price=\"{price}\" data-hc-quantity=\"1\">Remove</button></li>",
                escape(&p.name),
                escape(p.description.as_deref().unwrap_or("")),
            )
        })
        .collect();
    let tracker_key = demo_tracker_key(&state, &t).await?;
    let people: String = customers
        .iter()
        .map(|c| {
            format!(
                "<li><button type=\"button\" class=\"as\" data-email=\"{}\">Chat as {} {} <small>({})</small></button></li>",
                escape(&c.email),
                escape(&c.name.first_name),
                escape(&c.name.last_name),
                escape(&c.email)
            )
        })
        .collect();
    Ok(Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Outfitters</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}}
header{{background:#1f3a5f;color:#fff;padding:1rem 1.5rem}} main{{padding:1rem 1.5rem;max-width:1100px;margin:auto}}
ul.grid{{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:1rem}}
.card{{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem}} .card h3{{margin:.2rem 0}} .price{{font-weight:600}} .card button{{padding:.35rem .6rem;border-radius:6px;border:1px solid #1f3a5f;background:#fff;cursor:pointer}}
ul.people{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}} button.as{{padding:.5rem .8rem;border-radius:6px;border:1px solid #1f3a5f;background:#fff;cursor:pointer}}
</style></head>
<body><header><h1>Demo Outfitters</h1><p>A demo shop served by HyperCommerce. The chat button (bottom right) is the embeddable widget.</p></header>
<main>
<section aria-labelledby="try"><h2 id="try">Sign in as a demo customer</h2>
<p>Pick a customer and the assistant will know who you are; then ask about orders, returns, exchanges or products.</p>
<ul class="people">{people}</ul></section>
<section aria-labelledby="shop"><h2 id="shop">Products</h2><ul class="grid">{cards}</ul></section>
</main>
<script src="/widget.js" data-tenant="demo"></script>
<script src="/t.js" data-key="{tracker_key}" data-page-type="category"></script>
<script>
document.querySelectorAll('button.as').forEach(function(b){{
  b.addEventListener('click', function(){{ window.HyperCommerceChat.open('Hi, my email is ' + b.dataset.email); }});
}});
var as = new URLSearchParams(location.search).get('as');
if (as) {{ window.HyperCommerceChat.open('Hi, my email is ' + as); }}
</script>
</body></html>"#
    )))
}
