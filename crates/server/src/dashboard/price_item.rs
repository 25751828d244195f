//! One item's pricing: its current and base price, the rules that price
//! it, a price-history chart (the stored changes that went live, drawn as
//! SVG with the same figures as a table) and every stored change with its
//! status and reason; and the rules form (manager role), validated by the
//! API's own checks (`WireRules::to_rules`, the engine's `validate`) and
//! stored through the same function as `PUT /v1/pricing/items/{id}/rules`.
//! A refused form names the field next to it and stores nothing.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hc_domain::{ItemId, Role};
use hc_pricing::reprice::LivePolicy;
use serde::Deserialize;
use serde_json::Value;

use super::charts::BarChart;
use super::customers::utf8_path;
use super::pricing::policy_of;
use super::{
    DashError, DashResult, PageCtx, Signed, field, form_fields, format_money, format_time,
    render_status, require,
};
use crate::error::ApiError;
use crate::pricing::{WireFreeze, WireRules};
use crate::state::AppState;

/// Changes read for the chart and the table.
const HISTORY: u32 = 200;

/// The form's money fields, then its percentage fields: (name, label).
const MONEY: [(&str, &str); 4] = [
    ("cost", "Unit cost"),
    ("min_price", "Floor (lowest price)"),
    ("max_price", "Ceiling (highest price)"),
    ("map_price", "Minimum advertised price"),
];
const PERCENT: [(&str, &str); 4] = [
    ("min_margin_pct", "Minimum margin over cost (%)"),
    ("max_change_pct", "Largest change per step (%)"),
    ("max_change_day_pct", "Largest change per day (%)"),
    (
        "competitor_max_above_pct",
        "At most this far above the lowest competitor (%)",
    ),
];

/// A rules document in a few words, for the items table.
pub fn rules_summary(rules: &Value) -> String {
    if rules.is_null() {
        return "its category's rules".into();
    }
    let money = |k: &str| {
        rules
            .get(k)
            .and_then(Value::as_f64)
            .map(|v| format_money((v * 100.0).round() as i64))
    };
    let mut parts = Vec::new();
    if let Some(c) = money("cost") {
        parts.push(format!("cost {c}"));
    }
    if let Some(m) = rules.get("min_margin_pct").and_then(Value::as_f64) {
        parts.push(format!("margin ≥ {m}%"));
    }
    if let Some(f) = money("min_price") {
        parts.push(format!("floor {f}"));
    }
    if let Some(c) = money("max_price") {
        parts.push(format!("ceiling {c}"));
    }
    if let Some(m) = money("map_price") {
        parts.push(format!("MAP {m}"));
    }
    if let Some(p) = rules.get("max_change_pct").and_then(Value::as_f64) {
        parts.push(format!("±{p}% a step"));
    }
    if let Some(p) = rules.get("policy").and_then(Value::as_str) {
        parts.push(p.to_string());
    }
    parts.join(", ")
}

/// One input of the form: its name, label, value as typed and error.
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub hint: &'static str,
}

pub struct HistoryRow {
    pub id: i64,
    pub at: String,
    pub from: String,
    pub to: String,
    pub status: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "dashboard/price_item.html")]
struct ItemPage {
    page: PageCtx,
    item: String,
    base: String,
    product: String,
    current: String,
    base_price: String,
    source: &'static str,
    summary: String,
    chart: Option<BarChart>,
    history: Vec<HistoryRow>,
    can_edit: bool,
    inputs: Vec<Input>,
    mode: String,
    policy: String,
    policies: Vec<(&'static str, bool)>,
    mode_error: Option<String>,
    policy_error: Option<String>,
    freeze: usize,
    form_error: Option<String>,
    saved: bool,
}

/// What the form holds: every field as typed.
#[derive(Default, Clone)]
struct Typed {
    values: Vec<(&'static str, String)>,
}

impl Typed {
    fn get(&self, name: &str) -> String {
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The stored rules as form values.
    fn from_rules(rules: &Value) -> Self {
        let mut values = Vec::new();
        for name in all_names() {
            let v = match rules.get(name) {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            values.push((name, v));
        }
        Self { values }
    }

    fn from_form(fields: &[(String, String)]) -> Self {
        Self {
            values: all_names()
                .map(|n| (n, field(fields, n).unwrap_or_default().trim().to_string()))
                .collect(),
        }
    }
}

fn all_names() -> impl Iterator<Item = &'static str> {
    MONEY.iter().chain(PERCENT.iter()).map(|(n, _)| *n).chain([
        "ending_cents",
        "stock",
        "sell_by",
        "mode",
        "policy",
    ])
}

/// Field errors, by form field name.
#[derive(Debug, Default)]
struct Errors {
    by_field: Vec<(&'static str, String)>,
    form: Option<String>,
}

impl Errors {
    fn get(&self, name: &str) -> Option<String> {
        self.by_field
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }

    fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.form.is_none()
    }
}

fn item_id(raw: String) -> DashResult<ItemId> {
    ItemId::parse(raw).map_err(|_| DashError::not_found("item"))
}

struct Loaded {
    product: String,
    priced: Option<hc_store::PricedItem>,
}

/// The item of the operator's tenant: its catalog product, and its
/// pricing record if it has one. Not in this tenant's catalog: "not found".
async fn load(state: &AppState, t: &hc_domain::TenantId, id: &ItemId) -> DashResult<Loaded> {
    let product = state
        .tools
        .retail()
        .store()
        .product_of_item(t, id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| DashError::not_found("item"))?;
    let priced = state.platform.priced_item(t, id).await?;
    Ok(Loaded {
        product: product.name,
        priced,
    })
}

/// The chart of the prices that went live, oldest first.
fn history_chart(history: &[hc_store::PriceHistoryEntry]) -> Option<BarChart> {
    let points: Vec<(String, f64)> = history
        .iter()
        .rev()
        .filter(|h| h.status == "live" || h.status == "approved")
        .map(|h| (format_time(h.at_ms), h.to.cents() as f64 / 100.0))
        .collect();
    let (first, last) = (points.first()?, points.last()?);
    let title = "Price after each change".to_string();
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let money = |v: f64| format_money((v * 100.0).round() as i64);
    let description = format!(
        "{title}: {} changes from {} to {}; {} after the first, {} after the last, lowest {}, highest {}.",
        points.len(),
        first.0,
        last.0,
        money(first.1),
        money(last.1),
        money(lo),
        money(hi)
    );
    Some(
        BarChart::new("price-history", title, &points, None, money)
            .with_text("Changed at (UTC)", description),
    )
}

async fn show(
    state: &AppState,
    signed: &Signed,
    id: &ItemId,
    status: StatusCode,
    typed: Option<Typed>,
    errors: Errors,
    saved: bool,
) -> DashResult<Response> {
    let t = &signed.operator.tenant_id;
    let loaded = load(state, t, id).await?;
    let history = state.platform.price_history(t, id, HISTORY).await?;
    let chart = history_chart(&history);
    let rows = history
        .iter()
        .map(|h| HistoryRow {
            id: h.id,
            at: format_time(h.at_ms),
            from: h
                .from
                .map(|m| format_money(m.cents()))
                .unwrap_or_else(|| "—".into()),
            to: format_money(h.to.cents()),
            status: h.status.clone(),
            reason: policy_of(&h.reason),
        })
        .collect();
    let own = loaded
        .priced
        .as_ref()
        .map(|p| p.rules.clone())
        .unwrap_or(Value::Null);
    let typed = typed.unwrap_or_else(|| Typed::from_rules(&own));
    let hint = |n: &str| match n {
        "cost" => "Required. The floor is cost plus the minimum margin.",
        "max_price" => "Must not be below the floor (cost plus margin, floor, MAP).",
        _ => "",
    };
    let inputs = MONEY
        .iter()
        .chain(PERCENT.iter())
        .map(|&(name, label)| Input {
            name,
            label,
            value: typed.get(name),
            error: errors.get(name),
            hint: hint(name),
        })
        .chain([
            Input {
                name: "ending_cents",
                label: "Price ending in cents (e.g. 99)",
                value: typed.get("ending_cents"),
                error: errors.get("ending_cents"),
                hint: "",
            },
            Input {
                name: "stock",
                label: "Units to sell by the deadline",
                value: typed.get("stock"),
                error: errors.get("stock"),
                hint: "",
            },
            Input {
                name: "sell_by",
                label: "Sell by (RFC 3339, e.g. 2030-01-31T00:00:00Z)",
                value: typed.get("sell_by"),
                error: errors.get("sell_by"),
                hint: "",
            },
        ])
        .collect();
    let freeze = own
        .get("freeze")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let (current, base_price, source) = match &loaded.priced {
        Some(p) => (
            format_money(p.current.cents()),
            format_money(p.base.cents()),
            if p.rules.is_null() {
                "its category's rules"
            } else {
                "its own rules"
            },
        ),
        None => ("—".into(), "—".into(), "no rules yet"),
    };
    render_status(
        status,
        &ItemPage {
            page: PageCtx::new(signed, format!("Pricing · {id}"), "Pricing"),
            item: id.to_string(),
            base: format!("/dashboard/pricing/items/{}", utf8_path(id.as_str())),
            product: loaded.product,
            current,
            base_price,
            source,
            summary: rules_summary(&own),
            chart,
            history: rows,
            can_edit: signed.can(Role::Manager),
            inputs,
            mode: typed.get("mode"),
            policies: LivePolicy::ALL
                .iter()
                .map(|p| (p.name(), typed.get("policy") == p.name()))
                .collect(),
            policy: typed.get("policy"),
            mode_error: errors.get("mode"),
            policy_error: errors.get("policy"),
            freeze,
            form_error: errors.form,
            saved,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `/dashboard/pricing/items/{id}`.
pub async fn item_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let id = item_id(id)?;
    let saved = q.saved.is_some();
    show(
        &state,
        &signed,
        &id,
        StatusCode::OK,
        None,
        Errors::default(),
        saved,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct OpenQuery {
    item: Option<String>,
}

/// `/dashboard/pricing/items?item=ID`: the "open an item" form.
pub async fn open_item(signed: Signed, Query(q): Query<OpenQuery>) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let item = q.item.unwrap_or_default();
    let id = item_id(item.trim().to_string())?;
    Ok(Redirect::to(&format!(
        "/dashboard/pricing/items/{}",
        utf8_path(id.as_str())
    ))
    .into_response())
}

/// Parses the form into wire rules, or the errors next to each field.
fn parse(typed: &Typed, freeze: Vec<WireFreeze>) -> Result<WireRules, Errors> {
    let mut errors = Errors::default();
    let mut number = |name: &'static str| -> Option<f64> {
        let raw = typed.get(name);
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                errors
                    .by_field
                    .push((name, "Enter a number, like 19.99.".into()));
                None
            }
        }
    };
    let cost = number("cost");
    let min_price = number("min_price");
    let max_price = number("max_price");
    let map_price = number("map_price");
    let min_margin_pct = number("min_margin_pct");
    let max_change_pct = number("max_change_pct");
    let max_change_day_pct = number("max_change_day_pct");
    let competitor_max_above_pct = number("competitor_max_above_pct");
    let ending = typed.get("ending_cents");
    let ending_cents = if ending.is_empty() {
        None
    } else {
        match ending.parse::<u8>() {
            Ok(c) if c <= 99 => Some(c),
            _ => {
                errors
                    .by_field
                    .push(("ending_cents", "Whole cents from 0 to 99.".into()));
                None
            }
        }
    };
    let stock_raw = typed.get("stock");
    let stock = if stock_raw.is_empty() {
        None
    } else {
        match stock_raw.parse::<i64>() {
            Ok(s) => Some(s),
            Err(_) => {
                errors
                    .by_field
                    .push(("stock", "Enter a whole number of units.".into()));
                None
            }
        }
    };
    let sell_by = Some(typed.get("sell_by")).filter(|s| !s.is_empty());
    if sell_by.as_deref().is_some_and(|s| s.chars().count() > 64) {
        errors
            .by_field
            .push(("sell_by", "At most 64 characters.".into()));
    }
    let mode = match typed.get("mode").as_str() {
        "" | "auto" => hc_pricing::guardrails::Mode::Auto,
        "approve" => hc_pricing::guardrails::Mode::Approve,
        _ => {
            errors
                .by_field
                .push(("mode", "Choose automatic or with approval.".into()));
            hc_pricing::guardrails::Mode::Auto
        }
    };
    let policy = Some(typed.get("policy")).filter(|p| !p.is_empty());
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(WireRules {
        cost,
        min_price,
        max_price,
        max_change_pct,
        max_change_day_pct,
        min_margin_pct,
        map_price,
        ending_cents,
        competitor_max_above_pct,
        mode,
        policy,
        stock,
        sell_by,
        freeze,
    })
}

/// The form field an API error is about: `details.field`, else the field
/// the engine's message names, else (for a floor above the ceiling) the
/// ceiling.
fn field_of(e: &ApiError) -> Option<&'static str> {
    let named = e
        .details
        .as_ref()
        .and_then(|d| d.get("field"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let engine = [
        ("min_margin", "min_margin_pct"),
        ("max_change_step", "max_change_pct"),
        ("max_change_day", "max_change_day_pct"),
        ("competitor_max_above", "competitor_max_above_pct"),
    ];
    let known = |n: &str| {
        all_names()
            .find(|k| *k == n)
            .or_else(|| engine.iter().find(|(e, _)| *e == n).map(|(_, f)| *f))
    };
    if let Some(n) = named {
        return known(&n);
    }
    if e.code == "conflicting_rules" {
        return Some("max_price");
    }
    // The engine's own messages: "invalid <field>: <why>".
    let rest = e.message.strip_prefix("invalid ")?;
    known(rest.split(':').next()?)
}

/// `POST /dashboard/pricing/items/{id}/rules` (manager role).
pub async fn save_rules(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, Role::Manager)?;
    let id = item_id(id)?;
    let t = &signed.operator.tenant_id;
    let loaded = load(&state, t, &id).await?;
    let fields = form_fields(&body);
    let typed = Typed::from_form(&fields);
    // Freeze windows are kept as stored (edited through the API).
    let freeze: Vec<WireFreeze> = loaded
        .priced
        .as_ref()
        .and_then(|p| p.rules.get("freeze").cloned())
        .and_then(|f| serde_json::from_value(f).ok())
        .unwrap_or_default();
    let wire = match parse(&typed, freeze) {
        Ok(w) => w,
        Err(errors) => {
            return show(
                &state,
                &signed,
                &id,
                StatusCode::BAD_REQUEST,
                Some(typed),
                errors,
                false,
            )
            .await;
        }
    };
    match crate::api::pricing::set_item_rules(&state, t, signed.actor(), &id, &wire).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/dashboard/pricing/items/{}?saved=1",
            utf8_path(id.as_str())
        ))
        .into_response()),
        Err(e) if e.status.is_client_error() => {
            let mut errors = Errors::default();
            let message = e
                .message
                .strip_prefix("the rules contradict each other: ")
                .map(|m| format!("The rules contradict each other: {m}."))
                .unwrap_or_else(|| e.message.clone());
            match field_of(&e) {
                Some(f) => errors.by_field.push((f, message)),
                None => errors.form = Some(message),
            }
            show(
                &state,
                &signed,
                &id,
                StatusCode::BAD_REQUEST,
                Some(typed),
                errors,
                false,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(pairs: &[(&'static str, &str)]) -> Typed {
        Typed {
            values: pairs.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    #[test]
    fn form_values_become_wire_rules_or_field_errors() {
        let w = parse(
            &typed(&[("cost", "20"), ("max_price", "45.5"), ("mode", "approve")]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!((w.cost, w.max_price), (Some(20.0), Some(45.5)));
        assert_eq!(w.mode, hc_pricing::guardrails::Mode::Approve);
        let e = parse(
            &typed(&[("cost", "twenty"), ("ending_cents", "150")]),
            Vec::new(),
        )
        .unwrap_err();
        assert!(e.get("cost").unwrap().contains("Enter a number"));
        assert!(e.get("ending_cents").is_some());
    }

    #[test]
    fn api_errors_land_on_the_field_they_are_about() {
        let conflict = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "conflicting_rules",
            "the rules contradict each other: CostMargin floor $50.00 is above max_price $45.00",
        );
        assert_eq!(field_of(&conflict), Some("max_price"));
        let named = ApiError::bad_request("invalid_rules", "cost: is required")
            .with_details(serde_json::json!({"field": "cost"}));
        assert_eq!(field_of(&named), Some("cost"));
        let engine = ApiError::bad_request("invalid_rules", "invalid min_margin: must be …");
        assert_eq!(field_of(&engine), Some("min_margin_pct"));
        assert_eq!(
            rules_summary(&serde_json::json!({"cost": 20, "max_price": 45})),
            "cost $20.00, ceiling $45.00"
        );
    }
}
