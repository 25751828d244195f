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

impl AppState {
    pub fn new(
        tools: Tools,
        agent: hc_agent::Agent,
        platform: Arc<dyn Platform>,
        config: ServerConfig,
    ) -> Self {
        Self {
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
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// The whole HTTP surface. Does no I/O: testable with `oneshot`.
pub fn router(state: AppState) -> Router {
    let v1 = api::v1()
        .route_layer(from_fn_with_state(state.clone(), idempotency))
        .route_layer(from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .merge(api::health::router())
        .merge(api::widget::router())
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

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Binds the listener (`127.0.0.1:0` picks a free port).
    pub async fn build(state: AppState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&state.config.listen).await?;
        if let Some(url) = &state.config.webhook_url {
            crate::webhooks::spawn(&state.agent, url.clone());
        }
        Ok(Self {
            listener,
            router: router(state),
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
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}
