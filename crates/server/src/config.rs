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
    /// Delivery of outbound SMS and email (`[server.outbox]`).
    pub outbox: OutboxConfig,
    /// Behavior event ingestion (`[server.events]`).
    pub events: EventsConfig,
    /// Runs a pricing step (`POST /v1/pricing/reprice`) for every tenant's
    /// items with rules this often, in seconds (0 = only on request).
    pub reprice_every_secs: u64,
    /// Seeds every pricing step's random draws (reproducible steps for tests
    /// and demos; leave unset in production, where each step draws afresh).
    pub pricing_seed: Option<u64>,
    /// How long a price quote (`GET /v1/pricing/quote/{item}`) is served
    /// from memory. This process's repricing, approvals and catalog edits
    /// apply at once; a change through another process sharing the
    /// database, within this time (0 = read the catalog every time).
    pub quote_cache_ms: u64,
    /// The operator dashboard at `/dashboard` (`[server.dashboard]`).
    pub dashboard: DashboardConfig,
    /// Customer scores and triggers (`[server.behavior]`).
    pub behavior: BehaviorConfig,
}

/// The operator dashboard's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    /// What one conversation handled by a human costs the merchant (a
    /// decimal amount): the overview's "cost saved" is this times the
    /// conversations the AI resolved alone.
    pub human_cost_per_conversation: f64,
    /// A session ends after this long without a request.
    pub session_idle_minutes: u64,
    /// A session ends this long after sign-in, active or not.
    pub session_max_hours: u64,
    /// A page refreshes the tenant's conversation rollup first when the last
    /// refresh is older than this (the background refresher runs every
    /// `rollup_every_ms` anyway; 0 disables it).
    pub rollup_max_age_ms: u64,
    pub rollup_every_ms: u64,
    /// Failed sign-ins allowed per account before waiting (one more per minute after).
    pub sign_in_burst: u32,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            human_cost_per_conversation: 6.0,
            session_idle_minutes: 30,
            session_max_hours: 12,
            rollup_max_age_ms: 2_000,
            rollup_every_ms: 10_000,
            sign_in_burst: 5,
        }
    }
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
            outbox: OutboxConfig::default(),
            events: EventsConfig::default(),
            reprice_every_secs: 0,
            dashboard: DashboardConfig::default(),
            behavior: BehaviorConfig::default(),
            pricing_seed: None,
            quote_cache_ms: 1_000,
        }
    }
}

/// The server's own channel accounts: the default for every tenant whose
/// settings (`channels` in `PUT /v1/settings`) do not name its own Twilio or
/// Postmark account, enough for a single-tenant setup. Without either, a
/// channel is off and its webhook answers 404 `channel_disabled`. Secrets are
/// never serialised back out.
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
    /// Twilio account SID (`AC…`): sends SMS replies with the auth token.
    pub twilio_account_sid: Option<String>,
    /// The number SMS replies are sent from when the conversation does not
    /// name one (E.164).
    pub sms_from: Option<String>,
    /// Twilio REST API base URL.
    pub twilio_api_base: String,
    /// Phone number a voice call is `<Dial>`ed to on handoff; without it the
    /// caller is offered a text-message follow-up.
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
            twilio_account_sid: None,
            sms_from: None,
            twilio_api_base: "https://api.twilio.com".into(),
            voice_handoff_number: None,
            postmark_server_token: None,
            postmark_api_base: "https://api.postmarkapp.com".into(),
            email_from: None,
            inbound_basic_user: None,
            inbound_basic_password: None,
        }
    }
}

/// The outbox worker: delivers queued SMS and email, retrying transient
/// failures with exponential backoff.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Whether this process delivers (any number of processes may share a database).
    pub enabled: bool,
    /// How often the worker looks for due deliveries (a local enqueue wakes it at once).
    pub poll_ms: u64,
    /// Wait before the second attempt; each later one waits four times longer.
    pub retry_base_ms: u64,
    /// Longest wait between attempts.
    pub retry_max_ms: u64,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: u32,
    /// How long a claimed delivery is reserved for the process attempting it;
    /// after that (the process died) another claim may retry it.
    pub lease_ms: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_ms: 1_000,
            retry_base_ms: 2_000,
            retry_max_ms: 3_600_000,
            max_attempts: 8,
            lease_ms: 60_000,
        }
    }
}

impl OutboxConfig {
    /// The wait after the `attempts`-th failed attempt: base × 4^(attempts − 1), capped.
    pub fn backoff_ms(&self, attempts: u32) -> u64 {
        let factor = 4u64.saturating_pow(attempts.saturating_sub(1));
        self.retry_base_ms
            .saturating_mul(factor)
            .min(self.retry_max_ms)
    }
}

/// Behavior event ingestion: `POST /v1/events`, the public tracker endpoint
/// and the MQTT sensor bridge.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Most events in one `POST /v1/events` batch.
    pub max_batch: usize,
    /// Largest `POST /v1/events` body, in bytes (instead of `body_limit_bytes`).
    pub body_limit_bytes: usize,
    /// Most events in one tracker request.
    pub tracker_max_batch: usize,
    /// Tracker requests per second per client IP (burst: 10 times that).
    pub tracker_rate_per_ip: u32,
    /// What an event may contain and how far its clock may be off.
    pub limits: hc_domain::EventLimits,
    /// In-store sensors over MQTT (`[server.events.mqtt]`).
    pub mqtt: MqttConfig,
    /// A purchase-intent model artifact (`hypercommerce eval intent --save-model`)
    /// for `GET /v1/sessions/{id}/insights`; without it the insights have no score.
    pub intent_model: Option<std::path::PathBuf>,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            max_batch: 10_000,
            body_limit_bytes: 16 * 1024 * 1024,
            tracker_max_batch: 50,
            tracker_rate_per_ip: 10,
            limits: hc_domain::EventLimits::default(),
            mqtt: MqttConfig::default(),
            intent_model: None,
        }
    }
}

/// Customer models, batch rescoring and triggers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BehaviorConfig {
    /// Refits every tenant's customer models and rescores all its customers
    /// this often (0 = only on request: `POST /v1/customers/rescore` or
    /// `hypercommerce customers rescore`). Default: nightly (24 h).
    pub rescore_every_secs: u64,
    /// A stored customer model older than this is refitted on the next
    /// insights request (default 24 h).
    pub model_max_age_secs: u64,
    /// How often ended sessions are checked against `cart_abandoned`
    /// triggers (0 = never). Default 60 s.
    pub trigger_sweep_secs: u64,
}

impl Default for BehaviorConfig {
    fn default() -> Self {
        Self {
            rescore_every_secs: 24 * 3600,
            model_max_age_secs: 24 * 3600,
            trigger_sweep_secs: 60,
        }
    }
}

/// The MQTT sensor bridge: subscribes to `hc/<tenant>/sensors/#` and stores
/// each reading as a `sensor` event of that tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Whether this process runs the bridge.
    pub enabled: bool,
    /// Broker host.
    pub host: String,
    pub port: u16,
    /// Client id at the broker (unique per process).
    pub client_id: String,
    /// Broker credentials, if it needs them.
    pub username: Option<String>,
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// Readings gathered before one store write (also flushed every `flush_ms`).
    pub batch: usize,
    pub flush_ms: u64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            host: "127.0.0.1".into(),
            port: 1883,
            client_id: "hypercommerce".into(),
            username: None,
            password: None,
            batch: 500,
            flush_ms: 100,
        }
    }
}
