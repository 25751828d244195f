//! Operator sign-in and sessions. Passwords: argon2id (the argon2 crate's
//! defaults), verified off the async runtime. Sessions: a random 256-bit
//! token in an `HttpOnly; Secure; SameSite=Strict` cookie, stored only as its
//! SHA-256; each ends after `session_idle_minutes` without a request or
//! `session_max_hours` after sign-in. Every POST carries the session's CSRF
//! token (checked by [`csrf_guard`] before any handler runs); the sign-in
//! form carries a double-submit token of its own. Failed sign-ins are
//! throttled per account and per client address.

use std::num::NonZeroU32;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hc_domain::{Operator, Role, now_ms};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "hc_session";
/// The sign-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "hc_login";
/// The form field every POST carries.
pub const CSRF_FIELD: &str = "_csrf";
/// Shortest accepted password.
pub const MIN_PASSWORD: usize = 12;
/// Longest accepted password (argon2 hashes anything; this bounds the work).
pub const MAX_PASSWORD: usize = 1024;

/// 32 random bytes from the OS, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The hash a session token is stored under.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal strings, compared in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Why a password is refused.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(format!("must be at least {MIN_PASSWORD} characters"));
    }
    if password.len() > MAX_PASSWORD {
        return Err(format!("must be at most {MAX_PASSWORD} bytes"));
    }
    Ok(())
}

/// An argon2id PHC string for `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new operator record (not yet stored) with a fresh id.
pub fn new_operator(
    tenant: &hc_domain::TenantId,
    email: &str,
    role: Role,
) -> Result<Operator, String> {
    let email = Operator::normalize_email(email).map_err(|e| e.to_string())?;
    if role == Role::Tracker {
        return Err("operators are owner, admin, manager, agent or viewer".into());
    }
    let mut id = [0u8; 12];
    OsRng.fill_bytes(&mut id);
    Ok(Operator {
        id: hc_domain::OperatorId::parse(format!("op_{}", URL_SAFE_NO_PAD.encode(id)))
            .map_err(|e| e.to_string())?,
        tenant_id: tenant.clone(),
        email,
        role,
        created_at_ms: now_ms(),
        disabled_at_ms: None,
    })
}

/// A generated password: 18 random bytes, 24 URL-safe characters.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A hash to verify against when the account does not exist, so a wrong
/// email costs as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Failed sign-in throttles.
pub struct Throttle {
    accounts: governor::DefaultKeyedRateLimiter<String>,
    addresses: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
}

impl Throttle {
    pub fn new(burst: u32) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let minute = governor::Quota::with_period(Duration::from_secs(60))
            .expect("non-zero period")
            .allow_burst(burst);
        let per_ip = governor::Quota::with_period(Duration::from_secs(6))
            .expect("non-zero period")
            .allow_burst(burst.saturating_mul(NonZeroU32::new(4).expect("non-zero")));
        Self {
            accounts: governor::RateLimiter::keyed(minute),
            addresses: governor::RateLimiter::keyed(per_ip),
        }
    }

    /// Whether one more attempt is allowed for this account and address
    /// (each attempt, right or wrong, takes a token).
    pub fn allow(&self, account: &str, ip: Option<std::net::IpAddr>) -> bool {
        let account_ok = self.accounts.check_key(&account.to_string()).is_ok();
        let ip_ok = ip.is_none_or(|ip| self.addresses.check_key(&ip).is_ok());
        account_ok && ip_ok
    }
}

/// The signed-in operator of a request.
#[derive(Clone, Debug)]
pub struct Signed {
    pub operator: Operator,
    pub csrf: String,
    pub token_hash: String,
}

impl Signed {
    /// Whether the operator's role includes `role`.
    pub fn can(&self, role: Role) -> bool {
        self.operator.role.allows(role)
    }

    /// The audit actor.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.operator.id)
    }
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, Secure, SameSite=Strict, for the dashboard only.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<u64>) -> HeaderValue {
    let age = max_age_secs
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/dashboard; HttpOnly; Secure; SameSite=Strict{age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Sends the browser to the sign-in page (and forgets a dead session cookie).
pub fn to_sign_in(reason: &str) -> Response {
    let mut r = Redirect::to(&format!("/dashboard/login?reason={reason}")).into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    r
}

/// The live session of the request, or why there is none.
async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Signed, &'static str> {
    let token = cookie(headers, SESSION_COOKIE).ok_or("signed_out")?;
    if token.is_empty() || token.len() > 100 {
        return Err("signed_out");
    }
    let hash = token_hash(&token);
    let session = state
        .platform
        .operator_session(&hash)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "session lookup failed");
            "unavailable"
        })?
        .ok_or("expired")?;
    let now = now_ms();
    let cfg = &state.config.dashboard;
    let idle_ms = cfg.session_idle_minutes as i64 * 60_000;
    let max_ms = cfg.session_max_hours as i64 * 3_600_000;
    if now - session.last_seen_at_ms > idle_ms
        || now - session.created_at_ms > max_ms
        || session.operator.disabled_at_ms.is_some()
    {
        let _ = state.platform.delete_session(&hash).await;
        return Err("expired");
    }
    // One write a minute at most per session.
    if now - session.last_seen_at_ms > 60_000
        && let Err(e) = state.platform.touch_session(&hash, now).await
    {
        tracing::warn!(error = %e, "cannot touch a session");
    }
    Ok(Signed {
        operator: session.operator,
        csrf: session.csrf_token,
        token_hash: hash,
    })
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(s) = parts.extensions.get::<Signed>() {
            return Ok(s.clone());
        }
        resolve(state, &parts.headers).await.map_err(to_sign_in)
    }
}

/// Largest dashboard form body.
const MAX_FORM: usize = 64 * 1024;

/// Middleware on every dashboard route: a POST (other than signing in) needs
/// a live session and its CSRF token in the form, or the browser is sent to
/// sign in and no handler runs.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || req.uri().path() == "/dashboard/login" {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let signed = match resolve(&state, &parts.headers).await {
        Ok(s) => s,
        Err(reason) => return to_sign_in(reason),
    };
    let bytes = match axum::body::to_bytes(body, MAX_FORM).await {
        Ok(b) => b,
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
        }
    };
    let presented = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if !same(&presented, &signed.csrf) {
        tracing::info!(operator = %signed.operator.id, "dashboard form with a wrong CSRF token");
        return to_sign_in("csrf");
    }
    parts.extensions.insert(signed);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_salt_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterx", &a));
        assert!(!verify_password("x", "not a phc string"));
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(2000)).is_err());
        assert!(check_password("twelve chars").is_ok());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &random_token()));
    }

    #[test]
    fn cookies_are_read_from_any_header_line() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; hc_session=tok"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "b"), None);
        let set = set_cookie(SESSION_COOKIE, "v", None);
        let set = set.to_str().unwrap();
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/dashboard"] {
            assert!(set.contains(attr), "{set}");
        }
    }

    #[test]
    fn the_throttle_stops_repeated_attempts_on_one_account() {
        let t = Throttle::new(3);
        let ip = Some("127.0.0.1".parse().unwrap());
        assert!(t.allow("shop/a@x.io", ip));
        assert!(t.allow("shop/a@x.io", ip));
        assert!(t.allow("shop/a@x.io", ip));
        assert!(!t.allow("shop/a@x.io", ip));
        assert!(t.allow("shop/b@x.io", ip));
    }
}
