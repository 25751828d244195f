//! Authentication and authorisation: `Authorization: Bearer hc_…` resolves to
//! a [`Principal`] (key, tenant, role); each key has its own token-bucket
//! rate limit. Lookups are cached briefly; revocation through the API evicts
//! at once.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hc_commerce::Actor;
use hc_domain::{ApiKeyId, ApiKeyRecord, Role};

use crate::error::ApiError;
use crate::keys::{hash_key, looks_like_key};
use crate::state::AppState;

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    pub key: ApiKeyRecord,
}

impl Principal {
    /// Fails with 403 unless the caller's role includes `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.key.role.allows(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role; the key has {}",
                self.key.role
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::new(self.key.tenant_id.clone(), format!("key:{}", self.key.id))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("missing API key"))
    }
}

struct CachedKey {
    record: ApiKeyRecord,
    loaded: Instant,
}

/// Key lookups and per-key rate limiters.
pub struct KeyCache {
    ttl: Duration,
    default_rate: u32,
    default_burst: u32,
    keys: RwLock<HashMap<String, Arc<CachedKey>>>,
    limiters: RwLock<HashMap<ApiKeyId, Arc<(u32, DefaultDirectRateLimiter)>>>,
}

impl KeyCache {
    pub fn new(ttl: Duration, default_rate: u32, default_burst: u32) -> Self {
        Self {
            ttl,
            default_rate,
            default_burst,
            keys: RwLock::default(),
            limiters: RwLock::default(),
        }
    }

    fn cached(&self, hash: &str) -> Option<ApiKeyRecord> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(hash)
            .filter(|k| k.loaded.elapsed() < self.ttl)
            .map(|k| k.record.clone())
    }

    fn store(&self, hash: String, record: ApiKeyRecord) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.insert(
            hash,
            Arc::new(CachedKey {
                record,
                loaded: Instant::now(),
            }),
        );
    }

    /// Forgets a key at once (after revocation).
    pub fn evict(&self, id: &ApiKeyId) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.retain(|_, k| &k.record.id != id);
    }

    /// Takes one request from the key's bucket; on refusal, the seconds to wait.
    fn check_rate(&self, key: &ApiKeyRecord) -> Result<(), u64> {
        let rate = key.rate_limit_per_sec.unwrap_or(self.default_rate);
        if rate == 0 {
            return Ok(());
        }
        let existing = {
            let limiters = self.limiters.read().unwrap_or_else(|e| e.into_inner());
            limiters.get(&key.id).filter(|l| l.0 == rate).cloned()
        };
        let limiter = existing.unwrap_or_else(|| {
            let burst = self.default_burst.max(rate);
            let quota = Quota::per_second(NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
            let l = Arc::new((rate, RateLimiter::direct(quota)));
            let mut limiters = self.limiters.write().unwrap_or_else(|e| e.into_inner());
            limiters.insert(key.id.clone(), l.clone());
            l
        });
        limiter.1.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// The API key from `Authorization: Bearer <key>`, or from HTTP Basic with the
/// key as the password (so a browser can open the operator console).
fn presented_key(req: &Request) -> Option<String> {
    use base64::Engine;
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(token.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return text
            .split_once(':')
            .map(|(_, password)| password.to_string());
    }
    None
}

/// Resolves a presented key: 401 if unknown or revoked, 429 with
/// `Retry-After` if over the key's rate.
pub(crate) async fn resolve_key(state: &AppState, token: &str) -> Result<ApiKeyRecord, ApiError> {
    if !looks_like_key(token) {
        return Err(ApiError::unauthorized("invalid API key"));
    }
    let hash = hash_key(token);
    let record = match state.keys.cached(&hash) {
        Some(r) => r,
        None => match state.platform.key_by_hash(&hash).await {
            Ok(Some(r)) => {
                state.keys.store(hash, r.clone());
                r
            }
            Ok(None) => return Err(ApiError::unauthorized("invalid API key")),
            Err(e) => return Err(ApiError::from(e)),
        },
    };
    if record.revoked_at_ms.is_some() {
        return Err(ApiError::unauthorized("this API key has been revoked"));
    }
    if let Err(wait) = state.keys.check_rate(&record) {
        metrics::counter!("hc_http_rate_limited_total").increment(1);
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests for this API key",
        );
        err.retry_after_secs = Some(wait.max(1));
        return Err(err);
    }
    Ok(record)
}

/// Middleware: resolves the bearer key, rejects unknown or revoked keys with
/// 401 and over-limit callers with 429 and `Retry-After`. A tracker key
/// (public, embedded in shop pages) may only post events.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(token) = presented_key(&req) else {
        return ApiError::unauthorized("send 'Authorization: Bearer <api key>'").into_response();
    };
    let record = match resolve_key(&state, &token).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if record.role == Role::Tracker
        && !(req.method() == axum::http::Method::POST && req.uri().path() == "/v1/events")
    {
        return ApiError::forbidden("a tracker key can only post events").into_response();
    }
    if state.dashboard.should_touch_key(&record.id) {
        let (platform, id) = (state.platform.clone(), record.id.clone());
        tokio::spawn(async move {
            if let Err(e) = platform.touch_key(&id, hc_domain::now_ms()).await {
                tracing::warn!(error = %e, "cannot record a key's use");
            }
        });
    }
    req.extensions_mut().insert(Principal { key: record });
    next.run(req).await
}
