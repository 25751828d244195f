//! Server settings.

use serde::{Deserialize, Serialize};

/// HTTP server settings (`[server]` in the config file, `HC_SERVER__…` in the environment).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Requests per second per API key, unless the key sets its own.
    pub rate_limit_per_sec: u32,
    /// Burst size on top of the steady rate.
    pub rate_limit_burst: u32,
    /// How long an API key lookup is cached (revocations through the API apply at once).
    pub key_cache_ttl_ms: u64,
    /// Longest time one request may take before it is answered with 503.
    pub request_timeout_ms: u64,
    /// Where conversation events (escalations, resolutions) are POSTed as JSON, if anywhere.
    pub webhook_url: Option<String>,
    /// Open conversations without a message for this long are closed as abandoned (0 = never).
    pub abandon_after_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            rate_limit_per_sec: 100,
            rate_limit_burst: 200,
            key_cache_ttl_ms: 5_000,
            request_timeout_ms: 30_000,
            webhook_url: None,
            abandon_after_ms: 30 * 60 * 1000,
        }
    }
}
