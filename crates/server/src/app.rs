//! Building the router and running the server.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use hc_commerce::Tools;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::auth::{KeyCache, authenticate};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::idempotency::idempotency;
use crate::observe::{prometheus, track};
use crate::openapi::ApiDoc;
use crate::state::{AppState, Platform};

/// Every outgoing HTTPS client (LLM calls, email replies, webhooks) needs
/// the process's TLS provider installed first; one function does it.
pub use hc_agent::llm::install_tls_provider;

impl AppState {
    /// Wires the state. An agent built without long-term memory gets the
    /// platform's memory store, so what the API shows and erases is what the
    /// agent uses. The agent and the retail tools read each tenant's settings
    /// through one cache, which `PUT /v1/settings` invalidates.
    pub fn new(
        tools: Tools,
        agent: hc_agent::Agent,
        platform: Arc<dyn Platform>,
        config: ServerConfig,
    ) -> Self {
        let agent = if agent.memory().is_some() {
            agent
        } else {
            let memory: Arc<dyn hc_agent::ports::MemoryStore> = platform.clone();
            agent.with_memory(memory)
        };
        let settings = Arc::new(crate::settings::SettingsCache::new(
            platform.clone(),
            tools.retail().policy().cancel_reasons.clone(),
            Duration::from_millis(config.settings_cache_ttl_ms),
        ));
        tools.retail().use_policy_source(settings.clone());
        let tenant_brains = Arc::new(crate::tenant_brains::TenantBrains::new(
            platform.clone(),
            agent.brain().clone(),
            Duration::from_millis(config.settings_cache_ttl_ms),
        ));
        let agent = agent
            .with_settings(settings.clone())
            .with_tenant_brains(tenant_brains.clone());
        let pricing = Arc::new(crate::pricing::PricingRuntime::new(Duration::from_millis(
            config.quote_cache_ms,
        )));
        install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let intent = config
            .events
            .intent_model
            .as_deref()
            .and_then(|path| match load_intent_model(path) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    tracing::error!(error = %e, path = %path.display(), "cannot load the intent model");
                    None
                }
            });
        let per_ip = config.events.tracker_rate_per_ip.max(1);
        let tracker_limiter = Arc::new(governor::RateLimiter::keyed(
            governor::Quota::per_second(std::num::NonZeroU32::new(per_ip).expect("non-zero"))
                .allow_burst(
                    std::num::NonZeroU32::new(per_ip.saturating_mul(10)).expect("non-zero"),
                ),
        ));
        let config_dashboard = config.dashboard.clone();
        Self {
            http,
            agent,
            keys: Arc::new(KeyCache::new(
                Duration::from_millis(config.key_cache_ttl_ms),
                config.rate_limit_per_sec,
                config.rate_limit_burst,
            )),
            tools,
            platform,
            config: Arc::new(config),
            metrics: prometheus(),
            widget_limiter: Arc::new(governor::RateLimiter::keyed(
                governor::Quota::per_second(std::num::NonZeroU32::new(5).expect("non-zero"))
                    .allow_burst(std::num::NonZeroU32::new(30).expect("non-zero")),
            )),
            tracker_limiter,
            knowledge: None,
            ledger: None,
            loyalty: None,
            settings,
            tenant_brains,
            shopper_live: tokio::sync::broadcast::channel(256).0,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            demo_tracker_key: Arc::new(tokio::sync::OnceCell::new()),
            intent,
            pricing,
            recommenders: Default::default(),
            dashboard: Arc::new(crate::dashboard::DashboardState::new(&config_dashboard)),
            customer_models: Default::default(),
        }
    }
}

/// Reads a purchase-intent model artifact.
pub fn load_intent_model(
    path: &std::path::Path,
) -> Result<hc_behavior::intent::IntentModel, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    hc_behavior::intent::IntentModel::from_json(&text).map_err(|e| e.to_string())
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// The whole HTTP surface. Does no I/O: testable with `oneshot`.
pub fn router(state: AppState) -> Router {
    let v1 = api::v1()
        .route_layer(from_fn_with_state(state.clone(), idempotency))
        .route_layer(from_fn_with_state(state.clone(), authenticate));
    let console = api::console::router()
        .route_layer(from_fn_with_state(state.clone(), authenticate))
        .route_layer(from_fn(api::console::basic_challenge));
    let dashboard = crate::dashboard::router(state.clone());
    Router::new()
        .merge(dashboard)
        .merge(console)
        .merge(api::health::router())
        .merge(api::ledger::router())
        .merge(api::widget::router())
        .merge(api::tracker::router())
        .merge(api::channels::router())
        .merge(v1)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this route",
            )
            .into_response()
        })
        .layer(from_fn(track))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(state.config.request_timeout_ms),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every minute, closes open conversations idle longer than `abandon_after_ms` as abandoned.
fn spawn_abandon_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let cutoff = hc_domain::now_ms() - state.config.abandon_after_ms as i64;
            let tenants = match state.platform.list_tenants().await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "abandon sweep: cannot list tenants");
                    continue;
                }
            };
            for t in tenants {
                match state.agent.abandon_idle(&t.id, cutoff).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(tenant = %t.id, closed = n, "abandoned idle conversations")
                    }
                    Err(e) => tracing::warn!(tenant = %t.id, error = %e, "abandon sweep failed"),
                }
            }
        }
    });
}

/// Every `reprice_every_secs`, one pricing step per tenant with priced items.
fn spawn_repricer(state: AppState) {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.reprice_every_secs);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let tenants = match state.platform.list_tenants().await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "repricer: cannot list tenants");
                    continue;
                }
            };
            for t in tenants {
                match crate::pricing::reprice(&state, &t.id, None).await {
                    Ok(out) if !out.changes.is_empty() || !out.errors.is_empty() => {
                        tracing::info!(tenant = %t.id, changes = out.changes.len(),
                            errors = out.errors.len(), "scheduled repricing")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(tenant = %t.id, error = %e.message, "repricing failed")
                    }
                }
            }
        }
    });
}

/// Every `expiry_sweep_secs`, writes the expiry of overdue loyalty points.
fn spawn_expiry_sweeper(loyalty: Arc<crate::state::LoyaltyApi>) {
    tokio::spawn(async move {
        let secs = loyalty
            .expiry_sweep_secs
            .load(std::sync::atomic::Ordering::Relaxed);
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let l = loyalty.clone();
            match tokio::task::spawn_blocking(move || l.loyalty.expire_due()).await {
                Ok(Ok((0, _))) => {}
                Ok(Ok((accounts, points))) => {
                    tracing::info!(accounts, points, "loyalty points expired")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "loyalty expiry sweep failed"),
                Err(e) => tracing::warn!(error = %e, "loyalty expiry sweep panicked"),
            }
        }
    });
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// Stops the background tasks (the outbox worker) when the server stops.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Application {
    /// Binds the listener (`127.0.0.1:0` picks a free port).
    pub async fn build(state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&state.config.listen).await?;
        if let Some(url) = &state.config.webhook_url {
            crate::webhooks::spawn(&state.agent, url.clone());
        }
        crate::tenant_webhooks::spawn(state.clone());
        if state.config.abandon_after_ms > 0 {
            spawn_abandon_sweeper(state.clone());
        }
        if state.config.reprice_every_secs > 0 {
            spawn_repricer(state.clone());
        }
        if let Some(l) = &state.loyalty
            && l.expiry_sweep_secs
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0
        {
            spawn_expiry_sweeper(l.clone());
        }
        if let Some(l) = &state.loyalty
            && l.reputation_every_secs
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0
        {
            let secs = l
                .reputation_every_secs
                .load(std::sync::atomic::Ordering::Relaxed);
            crate::reputation::spawn(state.clone(), secs);
        }
        crate::dashboard::spawn_rollup(state.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        if state.config.events.mqtt.enabled {
            crate::mqtt::spawn(state.clone(), stopped.clone());
        }
        if state.config.behavior.rescore_every_secs > 0 {
            crate::behavior::spawn_rescorer(state.clone(), stopped.clone());
        }
        if state.config.behavior.trigger_sweep_secs > 0 {
            crate::behavior::spawn_trigger_sweeper(state.clone(), stopped.clone());
        }
        if state.config.outbox.enabled {
            crate::outbox::spawn(state.clone(), stopped);
        }
        Ok(Self {
            listener,
            router: router(state),
            stop,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = self.stop.send(true);
        served
    }
}
