//! Settings → Users and roles: the tenant's operators; an admin adds one
//! (with a generated password shown once), changes a role or disables and
//! re-enables an account. Nobody grants or changes a role above their own,
//! nobody disables themselves, and the tenant always keeps an active owner
//! (checked in the store's transaction).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hc_domain::{OperatorId, Role, now_ms};
use hc_store::{OperatorChange, OperatorChanged};
use serde_json::json;

use super::super::PageCtx;
use super::super::{
    DashError, DashResult, Signed, field, form_fields, format_time, generate_password,
    hash_password, new_operator, render_status, require,
};
use super::{CHANGE_ROLE, Section, audit, ctx};
use crate::state::AppState;

/// The roles an operator can hold, highest first.
const OPERATOR_ROLES: [Role; 5] = [
    Role::Owner,
    Role::Admin,
    Role::Manager,
    Role::Agent,
    Role::Viewer,
];

pub struct UserRow {
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub created: String,
    pub disabled: Option<String>,
    /// The signed-in operator may change this account.
    pub editable: bool,
    pub is_me: bool,
    pub roles: Vec<(&'static str, bool)>,
}

#[derive(Default)]
pub struct UserErrors {
    pub email: Option<String>,
    pub role: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/settings_users.html")]
struct UsersPage {
    page: PageCtx,
    nav: Vec<Section>,
    can_change: bool,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, bool)>,
    email: String,
    errors: UserErrors,
    /// The new operator's email and one-time password.
    created: Option<(String, String)>,
    form_error: Option<String>,
    done: Option<&'static str>,
}

/// Roles `me` may grant, highest first, with `chosen` selected.
fn grantable(me: Role, chosen: Role) -> Vec<(&'static str, bool)> {
    OPERATOR_ROLES
        .iter()
        .filter(|r| me.allows(**r))
        .map(|r| (r.as_str(), *r == chosen))
        .collect()
}

struct Shown {
    status: StatusCode,
    email: String,
    chosen: Role,
    errors: UserErrors,
    created: Option<(String, String)>,
    form_error: Option<String>,
    done: Option<&'static str>,
}

impl Shown {
    fn ok() -> Self {
        Self {
            status: StatusCode::OK,
            email: String::new(),
            chosen: Role::Viewer,
            errors: UserErrors::default(),
            created: None,
            form_error: None,
            done: None,
        }
    }
}

async fn show(state: &AppState, signed: &Signed, shown: Shown) -> DashResult<Response> {
    let me = &signed.operator;
    let (page, nav, can_change) = ctx(signed, "Users and roles");
    let users = state
        .platform
        .list_operators(&me.tenant_id)
        .await?
        .into_iter()
        .map(|o| UserRow {
            editable: can_change && me.role.allows(o.role) && o.id != me.id,
            is_me: o.id == me.id,
            roles: grantable(me.role, o.role),
            id: o.id.to_string(),
            email: o.email,
            role: o.role.as_str(),
            created: format_time(o.created_at_ms),
            disabled: o.disabled_at_ms.map(format_time),
        })
        .collect();
    render_status(
        shown.status,
        &UsersPage {
            page,
            nav,
            can_change,
            users,
            roles: grantable(me.role, shown.chosen),
            email: shown.email,
            errors: shown.errors,
            created: shown.created,
            form_error: shown.form_error,
            done: shown.done,
        },
    )
}

pub async fn users_page(
    State(state): State<AppState>,
    signed: Signed,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let done = match q.get("done").map(String::as_str) {
        Some("role") => Some("Role changed. The operator's sessions ended."),
        Some("disable") => Some("Account disabled. Its sessions ended."),
        Some("enable") => Some("Account enabled."),
        _ => None,
    };
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

fn parse_role(raw: Option<&str>, me: Role) -> Result<Role, String> {
    match raw.map(str::parse::<Role>) {
        Some(Ok(r)) if !OPERATOR_ROLES.contains(&r) => {
            Err("Choose one of the listed roles.".into())
        }
        Some(Ok(r)) if me.allows(r) => Ok(r),
        Some(Ok(_)) => Err("You cannot grant a role above your own.".into()),
        _ => Err("Choose one of the listed roles.".into()),
    }
}

pub async fn create_user(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let fields = form_fields(&body);
    let raw_email = field(&fields, "email").unwrap_or("").to_string();
    let mut errors = UserErrors::default();
    let role = parse_role(field(&fields, "role"), signed.operator.role)
        .map_err(|e| errors.role = Some(e))
        .ok();
    let t = &signed.operator.tenant_id;
    let markup = raw_email.contains(['<', '>', '"', '\'', '`', '&']);
    let op = match (raw_email.chars().count() > 254, markup, role) {
        (true, _, _) => {
            errors.email = Some("At most 254 characters.".into());
            None
        }
        (_, true, _) => {
            errors.email = Some("The email must not contain < > & or quotes.".into());
            None
        }
        (false, false, Some(r)) => new_operator(t, &raw_email, r)
            .map_err(|e| errors.email = Some(email_message(&e)))
            .ok(),
        (false, false, None) => {
            if let Err(e) = hc_domain::Operator::normalize_email(&raw_email) {
                errors.email = Some(email_message(&e.to_string()));
            }
            None
        }
    };
    let bad = |errors, role: Option<Role>, raw_email: String| Shown {
        status: StatusCode::BAD_REQUEST,
        email: raw_email,
        chosen: role.unwrap_or(Role::Viewer),
        errors,
        ..Shown::ok()
    };
    let Some(op) = op else {
        return show(&state, &signed, bad(errors, role, raw_email)).await;
    };
    let password = generate_password();
    let hash = {
        let p = password.clone();
        tokio::task::spawn_blocking(move || hash_password(&p))
            .await
            .map_err(|e| DashError::from(crate::error::ApiError::internal(e)))?
            .map_err(|e| DashError::from(crate::error::ApiError::internal(e)))?
    };
    let record = audit(
        &signed,
        "operator.create",
        format!("operator:{}", op.id),
        json!({"email": op.email, "role": op.role}),
    );
    match state.platform.insert_operator(&op, &hash, &record).await {
        Ok(()) => {}
        Err(hc_store::Error::Conflict(_)) => {
            let errors = UserErrors {
                email: Some("An operator with this email already exists in this store.".into()),
                role: None,
            };
            return show(&state, &signed, bad(errors, role, raw_email)).await;
        }
        Err(e) => return Err(e.into()),
    }
    show(
        &state,
        &signed,
        Shown {
            status: StatusCode::CREATED,
            created: Some((op.email, password)),
            ..Shown::ok()
        },
    )
    .await
}

fn email_message(e: &str) -> String {
    let why = e.rsplit(": ").next().unwrap_or(e);
    format!("The email {why}.")
}

pub async fn change_user(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let me = &signed.operator;
    let id = OperatorId::parse(id).map_err(|_| DashError::not_found("operator"))?;
    let target = state
        .platform
        .list_operators(&me.tenant_id)
        .await?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or_else(|| DashError::not_found("operator"))?;
    let refuse = |status: StatusCode, message: String| Shown {
        status,
        form_error: Some(message),
        ..Shown::ok()
    };
    if !me.role.allows(target.role) {
        return Err(DashError::forbidden(target.role, &signed));
    }
    if target.id == me.id {
        let shown = refuse(
            StatusCode::BAD_REQUEST,
            "You cannot change your own account here; ask another admin or owner.".into(),
        );
        return show(&state, &signed, shown).await;
    }
    let fields = form_fields(&body);
    let change = match action.as_str() {
        "role" => match parse_role(field(&fields, "role"), me.role) {
            Ok(r) => OperatorChange::Role(r),
            Err(e) => {
                return show(&state, &signed, refuse(StatusCode::BAD_REQUEST, e)).await;
            }
        },
        "disable" => OperatorChange::Disable(now_ms()),
        "enable" => OperatorChange::Enable,
        _ => return Err(DashError::not_found("action")),
    };
    let detail = match change {
        OperatorChange::Role(r) => json!({"email": target.email, "from": target.role, "to": r}),
        _ => json!({"email": target.email}),
    };
    let record = audit(
        &signed,
        &format!("operator.{action}"),
        format!("operator:{}", target.id),
        detail,
    );
    match state
        .platform
        .change_operator(&me.tenant_id, &target.id, change, &record)
        .await?
    {
        OperatorChanged::Done => {
            Ok(Redirect::to(&format!("/dashboard/settings/users?done={action}")).into_response())
        }
        OperatorChanged::NotFound => Err(DashError::not_found("operator")),
        OperatorChanged::LastOwner => {
            let shown = refuse(
                StatusCode::CONFLICT,
                format!(
                    "{} is the store's last active owner: make another operator owner first.",
                    target.email
                ),
            );
            show(&state, &signed, shown).await
        }
    }
}
