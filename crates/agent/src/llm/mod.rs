//! The optional LLM brain: provider clients (OpenAI-compatible Chat
//! Completions and the Anthropic Messages API, both streamed), retries with
//! backoff, and the tool-calling turn loop ([`brain`]). Tool calls go through
//! the same policy [`Gate`](crate::gate::Gate) as the offline brain's, so an
//! LLM can never skip authentication, ownership or confirmation.

pub mod anthropic;
pub mod brain;
#[cfg(feature = "fake-llm")]
pub mod fake;
pub mod openai;
mod sse;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use hc_domain::LlmUsage;

/// Which wire protocol the provider speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI Chat Completions, also served by vLLM, llama.cpp server and Ollama.
    #[default]
    Openai,
    /// Anthropic Messages API.
    Anthropic,
}

/// How to reach and pay for an LLM provider.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    pub provider: ProviderKind,
    /// Empty: the provider's public endpoint (`https://api.openai.com/v1`,
    /// `https://api.anthropic.com`). For Ollama: `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// Not needed by most local servers.
    #[serde(skip_serializing)]
    pub api_key: Option<SecretString>,
    /// Per attempt, including the whole streamed response.
    pub timeout_ms: u64,
    /// Extra attempts after a failure that is worth retrying (429, 5xx, timeouts, resets).
    pub max_retries: u32,
    /// First backoff; doubles each retry (with jitter), or the provider's `Retry-After`.
    pub retry_base_ms: u64,
    /// Model calls allowed in one customer turn (each round may call tools).
    pub max_rounds: u32,
    pub max_tokens: u32,
    pub temperature: Option<f32>,
    /// Prices for the cost figure, in US dollars per million tokens.
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            provider: ProviderKind::Openai,
            base_url: String::new(),
            model: "gpt-4o-mini".into(),
            api_key: None,
            timeout_ms: 30_000,
            max_retries: 2,
            retry_base_ms: 250,
            max_rounds: 6,
            max_tokens: 1024,
            temperature: Some(0.2),
            input_usd_per_mtok: 0.0,
            output_usd_per_mtok: 0.0,
        }
    }
}

impl LlmConfig {
    fn base_url(&self) -> &str {
        let default = match self.provider {
            ProviderKind::Openai => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
        };
        let url = if self.base_url.is_empty() {
            default
        } else {
            &self.base_url
        };
        url.trim_end_matches('/')
    }

    /// The cost of `usage` at the configured prices, in millionths of a dollar.
    pub fn cost_micros(&self, input_tokens: u64, output_tokens: u64) -> u64 {
        let usd = input_tokens as f64 * self.input_usd_per_mtok / 1e6
            + output_tokens as f64 * self.output_usd_per_mtok / 1e6;
        (usd * 1e6).round() as u64
    }
}

/// A tool the model may call: the same name and JSON schema as `GET /v1/tools`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// One tool call the model asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// Parsed arguments; `Err` keeps the raw text when the model sent invalid JSON.
    pub arguments: Result<Value, String>,
}

/// The provider-neutral conversation sent to a model.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatMessage {
    User(String),
    Assistant {
        text: String,
        tool_calls: Vec<ToolCall>,
    },
    ToolResult {
        call_id: String,
        content: String,
        is_error: bool,
    },
}

/// What one model call returned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Where streamed reply text goes as it arrives.
pub type DeltaSink = tokio::sync::mpsc::UnboundedSender<String>;

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the provider did not answer within {0} ms")]
    Timeout(u64),
    #[error("could not reach the provider: {0}")]
    Transport(String),
    #[error("the provider answered {status}: {message}")]
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("the provider's response could not be read: {0}")]
    Protocol(String),
    #[error("the model kept calling tools for {0} rounds")]
    TooManyRounds(u32),
}

impl LlmError {
    /// Worth another attempt (the request itself was fine).
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::Timeout(_) | LlmError::Transport(_) => true,
            LlmError::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            LlmError::Protocol(_) | LlmError::TooManyRounds(_) => false,
        }
    }
}

/// One request to a model.
pub struct Request<'a> {
    pub system: &'a str,
    pub messages: &'a [ChatMessage],
    pub tools: &'a [ToolSpec],
}

/// A model provider speaking one wire protocol.
#[async_trait]
pub trait Provider: Send + Sync {
    /// One streamed call. Text deltas go to `deltas` as they arrive; `streamed`
    /// is set once any did, so a failure after that point is not retried
    /// (the customer has already seen part of the reply).
    async fn complete(
        &self,
        request: &Request<'_>,
        deltas: Option<&DeltaSink>,
        streamed: &mut bool,
    ) -> Result<Completion, LlmError>;
}

/// A provider client with timeouts and retries, built from configuration.
#[derive(Clone)]
pub struct Llm {
    pub config: Arc<LlmConfig>,
    provider: Arc<dyn Provider>,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("provider", &self.config.provider)
            .field("model", &self.config.model)
            .finish()
    }
}

/// Installs the process's TLS crypto provider (rustls on ring) once; later
/// calls do nothing. Every HTTP client in the process needs it first.
pub fn install_tls_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Llm {
    pub fn new(config: LlmConfig) -> Self {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .connect_timeout(Duration::from_millis(config.timeout_ms.clamp(1, 10_000)))
            .build()
            .unwrap_or_default();
        let config = Arc::new(config);
        let provider: Arc<dyn Provider> = match config.provider {
            ProviderKind::Openai => Arc::new(openai::OpenAi::new(http, config.clone())),
            ProviderKind::Anthropic => Arc::new(anthropic::Anthropic::new(http, config.clone())),
        };
        Self { config, provider }
    }

    /// A client over any provider (tests, benchmarks).
    pub fn with_provider(config: LlmConfig, provider: Arc<dyn Provider>) -> Self {
        Self {
            config: Arc::new(config),
            provider,
        }
    }

    /// Calls the model, retrying what is worth retrying with exponential backoff.
    pub async fn complete(
        &self,
        request: &Request<'_>,
        deltas: Option<&DeltaSink>,
    ) -> Result<Completion, LlmError> {
        let mut attempt = 0;
        loop {
            let mut streamed = false;
            let call = self.provider.complete(request, deltas, &mut streamed);
            let result = match tokio::time::timeout(
                Duration::from_millis(self.config.timeout_ms.max(1)),
                call,
            )
            .await
            {
                Ok(r) => r,
                Err(_) => Err(LlmError::Timeout(self.config.timeout_ms)),
            };
            match result {
                Err(e) if e.retryable() && !streamed && attempt < self.config.max_retries => {
                    let wait = backoff(&self.config, attempt, &e);
                    tracing::warn!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "llm call failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Exponential backoff with full jitter, or the provider's own `Retry-After` (capped).
fn backoff(config: &LlmConfig, attempt: u32, error: &LlmError) -> Duration {
    use rand::Rng;
    if let LlmError::Status {
        retry_after: Some(after),
        ..
    } = error
    {
        return (*after).min(Duration::from_secs(30));
    }
    let cap = config.retry_base_ms.saturating_mul(1 << attempt.min(10));
    Duration::from_millis(rand::thread_rng().gen_range(cap / 2..=cap.max(1)))
}

/// The `Retry-After` header in seconds, when present.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Turns a non-success response into an error carrying the provider's message.
async fn status_error(response: reqwest::Response) -> LlmError {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(300).collect());
    LlmError::Status {
        status,
        message,
        retry_after,
    }
}

fn transport(e: reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout(0)
    } else {
        LlmError::Transport(e.to_string())
    }
}

fn parse_arguments(raw: &str) -> Result<Value, String> {
    let raw = if raw.trim().is_empty() { "{}" } else { raw };
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_uses_both_prices() {
        let c = LlmConfig {
            input_usd_per_mtok: 0.15,
            output_usd_per_mtok: 0.60,
            ..LlmConfig::default()
        };
        // 1M in at $0.15 + 500k out at $0.60/M = $0.45 = 450,000 micro-dollars.
        assert_eq!(c.cost_micros(1_000_000, 500_000), 450_000);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let s = |status| LlmError::Status {
            status,
            message: String::new(),
            retry_after: None,
        };
        assert!(s(429).retryable());
        assert!(s(503).retryable());
        assert!(s(529).retryable());
        assert!(!s(400).retryable());
        assert!(!s(401).retryable());
        assert!(LlmError::Timeout(5).retryable());
        assert!(!LlmError::Protocol("x".into()).retryable());
    }

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let c = LlmConfig {
            retry_base_ms: 100,
            ..LlmConfig::default()
        };
        let e = LlmError::Timeout(1);
        assert!(backoff(&c, 0, &e) <= Duration::from_millis(100));
        let third = backoff(&c, 3, &e);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(800));
        let limited = LlmError::Status {
            status: 429,
            message: String::new(),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(backoff(&c, 0, &limited), Duration::from_secs(2));
    }

    #[test]
    fn invalid_tool_arguments_keep_the_raw_text() {
        assert_eq!(parse_arguments(""), Ok(serde_json::json!({})));
        assert_eq!(
            parse_arguments("{\"a\":1}"),
            Ok(serde_json::json!({"a": 1}))
        );
        assert_eq!(parse_arguments("{oops"), Err("{oops".to_string()));
        assert_eq!(parse_arguments("[1]"), Err("[1]".to_string()));
    }
}
