//! Settings → API keys: list (with last use), create (the secret is shown
//! once, on the response to the form), revoke. Admin role; nobody creates a
//! key with a role above their own.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hc_domain::{ApiKeyId, AuditRecord, Role, now_ms};
use serde_json::json;

use super::{
    DashError, DashResult, PageCtx, Signed, field, form_fields, format_time, plain_text,
    render_status, require,
};
use crate::keys::issue_key;
use crate::state::AppState;

pub struct KeyRow {
    pub id: String,
    pub label: String,
    pub role: &'static str,
    pub prefix: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

#[derive(Default)]
pub struct KeyErrors {
    pub label: Option<String>,
    pub role: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/keys.html")]
struct KeysPage {
    page: PageCtx,
    nav: Vec<super::settings::Section>,
    can_change: bool,
    keys: Vec<KeyRow>,
    roles: Vec<(&'static str, bool)>,
    label: String,
    errors: KeyErrors,
    created: Option<String>,
    revoked: bool,
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    errors: KeyErrors,
    label: String,
    chosen: Option<Role>,
    created: Option<String>,
    revoked: bool,
) -> DashResult<Response> {
    let t = &signed.operator.tenant_id;
    let used = state.platform.keys_last_used(t).await?;
    let mut keys: Vec<KeyRow> = state
        .platform
        .list_keys(t)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            last_used: used
                .get(&k.id)
                .map(|ms| format_time(*ms))
                .unwrap_or_else(|| "never".into()),
            id: k.id.to_string(),
            label: k.label,
            role: k.role.as_str(),
            prefix: k.prefix,
            created: format_time(k.created_at_ms),
            revoked: k.revoked_at_ms.map(format_time),
        })
        .collect();
    keys.reverse();
    let chosen = chosen.unwrap_or(Role::Viewer);
    let mut r = render_status(
        status,
        &KeysPage {
            page: PageCtx::new(signed, "API keys", "Settings"),
            nav: super::settings::sections(signed, "API keys"),
            can_change: true,
            keys,
            roles: Role::ALL
                .iter()
                .rev()
                .filter(|r| signed.operator.role.allows(**r))
                .map(|r| (r.as_str(), *r == chosen))
                .collect(),
            label,
            errors,
            created,
            revoked,
        },
    )?;
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

pub async fn keys_page(
    State(state): State<AppState>,
    signed: Signed,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> DashResult<Response> {
    require(&signed, Role::Admin)?;
    let revoked = q.get("done").is_some_and(|d| d == "revoked");
    show(
        &state,
        &signed,
        StatusCode::OK,
        KeyErrors::default(),
        String::new(),
        None,
        None,
        revoked,
    )
    .await
}

pub async fn create_key(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, Role::Admin)?;
    let fields = form_fields(&body);
    let raw_label = field(&fields, "label").unwrap_or("").to_string();
    let mut errors = KeyErrors::default();
    let label = match plain_text(&raw_label, 200) {
        Ok(l) => Some(l),
        Err(e) => {
            errors.label = Some(e);
            None
        }
    };
    let role = match field(&fields, "role").map(str::parse::<Role>) {
        Some(Ok(r)) if signed.operator.role.allows(r) => Some(r),
        Some(Ok(_)) => {
            errors.role = Some("You cannot create a key with a role above your own.".into());
            None
        }
        _ => {
            errors.role = Some("Choose one of the listed roles.".into());
            None
        }
    };
    let (Some(label), Some(role)) = (label, role) else {
        return show(
            &state,
            &signed,
            StatusCode::BAD_REQUEST,
            errors,
            raw_label,
            role,
            None,
            false,
        )
        .await;
    };
    let t = &signed.operator.tenant_id;
    let issued = issue_key(t, role, &label, None);
    state
        .platform
        .insert_key(&issued.record, &issued.hash)
        .await?;
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor: signed.actor(),
            action: "key.create".into(),
            target: format!("key:{}", issued.record.id),
            at_ms: now_ms(),
            detail: json!({"role": role, "label": label}),
        })
        .await?;
    show(
        &state,
        &signed,
        StatusCode::CREATED,
        KeyErrors::default(),
        String::new(),
        None,
        Some(issued.secret),
        false,
    )
    .await
}

pub async fn revoke_key(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> DashResult<Response> {
    require(&signed, Role::Admin)?;
    let id = ApiKeyId::parse(id).map_err(|_| DashError::not_found("key"))?;
    let t = &signed.operator.tenant_id;
    if !state.platform.revoke_key(t, &id, now_ms()).await? {
        return Err(DashError::not_found("key"));
    }
    state.keys.evict(&id);
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: t.clone(),
            actor: signed.actor(),
            action: "key.revoke".into(),
            target: format!("key:{id}"),
            at_ms: now_ms(),
            detail: json!({}),
        })
        .await?;
    Ok(Redirect::to("/dashboard/settings/keys?done=revoked").into_response())
}
