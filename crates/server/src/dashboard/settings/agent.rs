//! Settings → Brand voice and policy: the tenant's agent settings that the
//! agent and the retail tools read (`TenantSettings`: brand, tone, greeting,
//! cancel reasons, refunds to gift cards, escalation thresholds), the same
//! document as `PUT /v1/settings`. The channel accounts in it are kept as
//! they are. Saving drops this process's settings cache, so the next turn
//! uses the new values.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hc_domain::{Role, TenantSettings, Tone};
use serde_json::json;

use super::super::{
    DashError, DashResult, PageCtx, Signed, field, form_fields, render_status, require,
};
use super::{CHANGE_ROLE, Section, audit, ctx, one_line};
use crate::state::AppState;

/// The form's values, as typed (shown back on errors) or as stored.
#[derive(Default)]
pub struct AgentForm {
    pub brand: String,
    pub formal: bool,
    pub greeting: String,
    pub cancel_reasons: String,
    pub refund_to_gift_card: bool,
    pub min_confidence: String,
    pub max_failures: String,
    pub max_out_of_scope: String,
}

#[derive(Default)]
pub struct AgentErrors {
    pub brand: Option<String>,
    pub tone: Option<String>,
    pub greeting: Option<String>,
    pub cancel_reasons: Option<String>,
    pub min_confidence: Option<String>,
    pub max_failures: Option<String>,
    pub max_out_of_scope: Option<String>,
    pub form: Option<String>,
}

impl AgentErrors {
    fn any(&self) -> bool {
        self.brand.is_some()
            || self.tone.is_some()
            || self.greeting.is_some()
            || self.cancel_reasons.is_some()
            || self.min_confidence.is_some()
            || self.max_failures.is_some()
            || self.max_out_of_scope.is_some()
            || self.form.is_some()
    }
}

#[derive(Template)]
#[template(path = "dashboard/settings_agent.html")]
struct AgentPage {
    page: PageCtx,
    nav: Vec<Section>,
    can_change: bool,
    form: AgentForm,
    errors: AgentErrors,
    /// What applies when a field is left empty.
    default_brand: String,
    saved: bool,
}

fn form_of(s: &TenantSettings) -> AgentForm {
    AgentForm {
        brand: s.brand.clone().unwrap_or_default(),
        formal: s.tone == Tone::Formal,
        greeting: s.greeting.clone().unwrap_or_default(),
        cancel_reasons: s.cancel_reasons.clone().unwrap_or_default().join("\n"),
        refund_to_gift_card: s.refund_to_gift_card,
        min_confidence: s.escalation.min_confidence.to_string(),
        max_failures: s.escalation.max_failures.to_string(),
        max_out_of_scope: s.escalation.max_out_of_scope.to_string(),
    }
}

async fn stored(state: &AppState, signed: &Signed) -> DashResult<TenantSettings> {
    state
        .platform
        .tenant_settings(&signed.operator.tenant_id)
        .await?
        .ok_or_else(|| DashError::not_found("store"))
}

async fn show(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    form: AgentForm,
    errors: AgentErrors,
    saved: bool,
) -> DashResult<Response> {
    let (page, nav, can_change) = ctx(signed, "Brand voice and policy");
    let default_brand = state
        .platform
        .tenant(&signed.operator.tenant_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    render_status(
        status,
        &AgentPage {
            page,
            nav,
            can_change,
            form,
            errors,
            default_brand,
            saved,
        },
    )
}

pub async fn agent_page(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let s = stored(&state, &signed).await?;
    show(
        &state,
        &signed,
        StatusCode::OK,
        form_of(&s),
        AgentErrors::default(),
        false,
    )
    .await
}

/// An optional one-line field: empty means "the default".
fn optional(raw: &str, max: usize) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    one_line(raw, max).map(Some)
}

fn whole(raw: &str, range: std::ops::RangeInclusive<u32>) -> Result<u32, String> {
    let bad = || {
        format!(
            "Enter a whole number from {} to {}.",
            range.start(),
            range.end()
        )
    };
    let n: u32 = raw.trim().parse().map_err(|_| bad())?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// Reads the form into `settings`; each bad field gets its message.
fn apply(fields: &[(String, String)], settings: &mut TenantSettings) -> (AgentForm, AgentErrors) {
    let get = |name: &str| field(fields, name).unwrap_or("").to_string();
    let form = AgentForm {
        brand: get("brand"),
        formal: get("tone") == "formal",
        greeting: get("greeting"),
        cancel_reasons: get("cancel_reasons"),
        refund_to_gift_card: field(fields, "refund_to_gift_card").is_some(),
        min_confidence: get("min_confidence"),
        max_failures: get("max_failures"),
        max_out_of_scope: get("max_out_of_scope"),
    };
    let mut e = AgentErrors::default();
    match optional(&form.brand, TenantSettings::MAX_BRAND_CHARS) {
        Ok(b) => settings.brand = b,
        Err(m) => e.brand = Some(m),
    }
    match get("tone").as_str() {
        "friendly" => settings.tone = Tone::Friendly,
        "formal" => settings.tone = Tone::Formal,
        _ => e.tone = Some("Choose friendly or formal.".into()),
    }
    match optional(&form.greeting, TenantSettings::MAX_GREETING_CHARS) {
        Ok(g) => settings.greeting = g,
        Err(m) => e.greeting = Some(m),
    }
    let lines: Vec<&str> = form
        .cancel_reasons
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        settings.cancel_reasons = None;
    } else if lines.len() > TenantSettings::MAX_REASONS {
        e.cancel_reasons = Some(format!(
            "At most {} reasons, one per line.",
            TenantSettings::MAX_REASONS
        ));
    } else {
        let mut reasons = Vec::new();
        for l in lines {
            match one_line(l, TenantSettings::MAX_REASON_CHARS) {
                Ok(r) => reasons.push(r),
                Err(m) => {
                    e.cancel_reasons = Some(format!("\u{201c}{l}\u{201d}: {m}"));
                    break;
                }
            }
        }
        settings.cancel_reasons = Some(reasons);
    }
    settings.refund_to_gift_card = form.refund_to_gift_card;
    match form.min_confidence.trim().parse::<f32>() {
        Ok(c) if (0.0..=1.0).contains(&c) => settings.escalation.min_confidence = c,
        _ => e.min_confidence = Some("Enter a number from 0 to 1, such as 0.35.".into()),
    }
    match whole(&form.max_failures, 1..=10) {
        Ok(n) => settings.escalation.max_failures = n,
        Err(m) => e.max_failures = Some(m),
    }
    match whole(&form.max_out_of_scope, 1..=10) {
        Ok(n) => settings.escalation.max_out_of_scope = n,
        Err(m) => e.max_out_of_scope = Some(m),
    }
    (form, e)
}

pub async fn save_agent(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let mut settings = stored(&state, &signed).await?;
    let fields = form_fields(&body);
    let (form, mut errors) = apply(&fields, &mut settings);
    if !errors.any()
        && let Err(err) = settings.validate()
    {
        errors.form = Some(err.to_string());
    }
    if errors.any() {
        return show(
            &state,
            &signed,
            StatusCode::BAD_REQUEST,
            form,
            errors,
            false,
        )
        .await;
    }
    let t = &signed.operator.tenant_id;
    let record = audit(
        &signed,
        "settings.update",
        format!("tenant:{t}"),
        json!(settings.redacted()),
    );
    let written = state
        .platform
        .put_tenant_settings(t, &settings, &record)
        .await;
    state.settings.invalidate(t);
    if !written? {
        return Err(DashError::not_found("store"));
    }
    show(
        &state,
        &signed,
        StatusCode::OK,
        form_of(&settings),
        AgentErrors::default(),
        true,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hc_domain::EscalationSettings;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_good_form_sets_every_field_and_empty_fields_take_defaults() {
        let mut s = TenantSettings::default();
        let (_, e) = apply(
            &fields(&[
                ("brand", " Acme Outdoor "),
                ("tone", "formal"),
                ("greeting", ""),
                (
                    "cancel_reasons",
                    "changed my mind\r\n\r\nfound it cheaper\n",
                ),
                ("min_confidence", "0.5"),
                ("max_failures", "4"),
                ("max_out_of_scope", "1"),
            ]),
            &mut s,
        );
        assert!(!e.any());
        assert_eq!(s.brand.as_deref(), Some("Acme Outdoor"));
        assert_eq!(s.tone, Tone::Formal);
        assert_eq!(s.greeting, None);
        assert_eq!(
            s.cancel_reasons.unwrap(),
            vec!["changed my mind", "found it cheaper"]
        );
        assert!(!s.refund_to_gift_card, "an unticked box is false");
        assert_eq!(
            s.escalation,
            EscalationSettings {
                min_confidence: 0.5,
                max_failures: 4,
                max_out_of_scope: 1
            }
        );
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let mut s = TenantSettings::default();
        let (_, e) = apply(
            &fields(&[
                ("brand", "<script>alert(1)</script>"),
                ("tone", "rude"),
                ("greeting", &"a".repeat(301)),
                ("cancel_reasons", "ok\n<b>no</b>"),
                ("min_confidence", "lots"),
                ("max_failures", "0"),
                ("max_out_of_scope", "2.5"),
            ]),
            &mut s,
        );
        assert!(e.brand.unwrap().contains("HTML"));
        assert!(e.tone.is_some());
        assert!(e.greeting.unwrap().contains("300"));
        assert!(e.cancel_reasons.unwrap().contains("HTML"));
        assert!(e.min_confidence.is_some());
        assert!(e.max_failures.is_some());
        assert!(e.max_out_of_scope.is_some());
    }
}
