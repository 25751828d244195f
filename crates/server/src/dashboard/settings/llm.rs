//! Settings → LLM provider: the tenant's own provider (kind, base URL,
//! model, key). The key is sealed at rest with the server's secrets key
//! (like the channel secrets) and never shown again: the page says only
//! whether one is set. An empty key field keeps the stored key.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hc_domain::{Role, now_ms};
use hc_store::TenantLlm;
use serde_json::json;

use super::super::{DashResult, PageCtx, Signed, field, form_fields, render_status, require};
use super::{CHANGE_ROLE, Section, audit, ctx, one_line, web_url};
use crate::state::AppState;

/// Longest accepted API key.
const MAX_KEY: usize = 512;

#[derive(Default)]
pub struct LlmForm {
    pub anthropic: bool,
    pub base_url: String,
    pub model: String,
}

#[derive(Default)]
pub struct LlmErrors {
    pub provider: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<String>,
}

impl LlmErrors {
    fn any(&self) -> bool {
        self.provider.is_some()
            || self.base_url.is_some()
            || self.model.is_some()
            || self.api_key.is_some()
    }
}

#[derive(Template)]
#[template(path = "dashboard/settings_llm.html")]
struct LlmPage {
    page: PageCtx,
    nav: Vec<Section>,
    can_change: bool,
    /// The tenant has its own provider (else the server's applies).
    own: bool,
    key_set: bool,
    updated: Option<String>,
    form: LlmForm,
    errors: LlmErrors,
    done: Option<&'static str>,
}

async fn show(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    typed: Option<LlmForm>,
    errors: LlmErrors,
    done: Option<&'static str>,
) -> DashResult<Response> {
    let (page, nav, can_change) = ctx(signed, "LLM provider");
    let stored = state
        .platform
        .tenant_llm(&signed.operator.tenant_id)
        .await?;
    let form = typed.unwrap_or_else(|| match &stored {
        Some(l) => LlmForm {
            anthropic: l.provider == "anthropic",
            base_url: l.base_url.clone(),
            model: l.model.clone(),
        },
        None => LlmForm::default(),
    });
    render_status(
        status,
        &LlmPage {
            page,
            nav,
            can_change,
            own: stored.is_some(),
            key_set: stored.as_ref().is_some_and(|l| l.api_key.is_some()),
            updated: stored.map(|l| super::super::format_time(l.updated_at_ms)),
            form,
            errors,
            done,
        },
    )
}

pub async fn llm_page(State(state): State<AppState>, signed: Signed) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    show(
        &state,
        &signed,
        StatusCode::OK,
        None,
        LlmErrors::default(),
        None,
    )
    .await
}

/// Checks an API key: printable ASCII without spaces, at most [`MAX_KEY`].
fn api_key(raw: &str) -> Result<String, String> {
    let key = raw.trim();
    if key.len() > MAX_KEY {
        return Err(format!("At most {MAX_KEY} characters."));
    }
    if !key.chars().all(|c| c.is_ascii_graphic()) || key.contains(['<', '>', '"', '\'']) {
        return Err("A key is letters, digits and punctuation, without spaces or quotes.".into());
    }
    Ok(key.to_string())
}

pub async fn save_llm(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let fields = form_fields(&body);
    let t = &signed.operator.tenant_id;
    let stored = state.platform.tenant_llm(t).await?;
    if field(&fields, "action") == Some("clear") {
        let record = audit(&signed, "llm.clear", format!("tenant:{t}"), json!({}));
        state.platform.put_tenant_llm(t, None, &record).await?;
        state.tenant_brains.invalidate(t);
        let done = Some("The store now uses the server's LLM provider. Its key was deleted.");
        return show(
            &state,
            &signed,
            StatusCode::OK,
            None,
            LlmErrors::default(),
            done,
        )
        .await;
    }
    let get = |name: &str| field(&fields, name).unwrap_or("").to_string();
    let form = LlmForm {
        anthropic: get("provider") == "anthropic",
        base_url: get("base_url"),
        model: get("model"),
    };
    let mut errors = LlmErrors::default();
    let provider = match get("provider").as_str() {
        p @ ("openai" | "anthropic") => p.to_string(),
        _ => {
            errors.provider = Some("Choose OpenAI-compatible or Anthropic.".into());
            String::new()
        }
    };
    let base_url = if form.base_url.trim().is_empty() {
        String::new()
    } else {
        web_url(&form.base_url)
            .map_err(|e| errors.base_url = Some(e))
            .unwrap_or_default()
    };
    let model = one_line(&form.model, 100)
        .map_err(|e| errors.model = Some(e))
        .unwrap_or_default();
    let raw_key = get("api_key");
    let key = if field(&fields, "remove_key").is_some() {
        None
    } else if raw_key.trim().is_empty() {
        stored.as_ref().and_then(|l| l.api_key.clone())
    } else {
        api_key(&raw_key).map_err(|e| errors.api_key = Some(e)).ok()
    };
    if errors.any() {
        return show(
            &state,
            &signed,
            StatusCode::BAD_REQUEST,
            Some(form),
            errors,
            None,
        )
        .await;
    }
    let llm = TenantLlm {
        provider,
        base_url,
        model,
        api_key: key,
        updated_at_ms: now_ms(),
    };
    let record = audit(
        &signed,
        "llm.update",
        format!("tenant:{t}"),
        json!({"provider": llm.provider, "base_url": llm.base_url, "model": llm.model,
               "api_key": {"set": llm.api_key.is_some()}}),
    );
    state
        .platform
        .put_tenant_llm(t, Some(&llm), &record)
        .await?;
    state.tenant_brains.invalidate(t);
    show(
        &state,
        &signed,
        StatusCode::OK,
        None,
        LlmErrors::default(),
        Some("Saved. The key is stored encrypted and is not shown again."),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_without_spaces_or_markup() {
        assert_eq!(api_key(" sk-abc_123 ").unwrap(), "sk-abc_123");
        assert!(api_key("sk abc").is_err());
        assert!(api_key("<script>").is_err());
        assert!(api_key(&"k".repeat(MAX_KEY + 1)).is_err());
    }
}
