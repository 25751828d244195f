//! Server settings.

use secrecy::SecretString;
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
    /// How long a tenant's settings are cached in this process. A change made
    /// through this process applies at once; one made through another process
    /// sharing the database, within this time.
    pub settings_cache_ttl_ms: u64,
    /// Inbound SMS, voice and email (`[server.channels]`, `HC_SERVER__CHANNELS__…`).
    pub channels: ChannelsConfig,
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
            settings_cache_ttl_ms: 5_000,
            channels: ChannelsConfig::default(),
        }
    }
}

/// Settings of the inbound channel webhooks, for the whole server (per-tenant
/// channel settings do not exist yet). A channel is off, and its webhook
/// answers 404 `channel_disabled`, until its secrets are set. Secrets are never
/// serialised back out.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    /// The server's public base URL as the providers call it, e.g.
    /// `https://shop.example.com` (behind a proxy, the outside address). Twilio
    /// signs the full URL it called, so SMS and voice need it.
    pub public_base_url: Option<String>,
    /// Twilio auth token: checks `X-Twilio-Signature`. SMS and voice are off without it.
    #[serde(skip_serializing)]
    pub twilio_auth_token: Option<SecretString>,
    /// Phone number a voice call is `<Dial>`ed to on handoff; without it the
    /// caller is told a human will call back.
    pub voice_handoff_number: Option<String>,
    /// Postmark server token for sending replies. Email is off without it.
    #[serde(skip_serializing)]
    pub postmark_server_token: Option<SecretString>,
    /// Postmark API base URL.
    pub postmark_api_base: String,
    /// Sender address of email replies (a Postmark sender signature or domain).
    pub email_from: Option<String>,
    /// HTTP Basic credentials Postmark must send to the inbound webhook
    /// (`https://user:password@host/channels/postmark/{tenant}/inbound`).
    pub inbound_basic_user: Option<String>,
    #[serde(skip_serializing)]
    pub inbound_basic_password: Option<SecretString>,
}

impl Default for ChannelsConfig {
    fn default() -> Self {
        Self {
            public_base_url: None,
            twilio_auth_token: None,
            voice_handoff_number: None,
            postmark_server_token: None,
            postmark_api_base: "https://api.postmarkapp.com".into(),
            email_from: None,
            inbound_basic_user: None,
            inbound_basic_password: None,
        }
    }
}
