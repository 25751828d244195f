//! Each tenant's own LLM provider, as the agent uses it.
//!
//! A merchant may set its own provider (OpenAI-compatible or Anthropic,
//! base URL, model, key) on the dashboard's settings; the key is stored
//! sealed. Its conversations are then answered by that provider, through
//! the same policy gate: in the server's LLM or hybrid mode when one is
//! configured, else in hybrid mode (the built-in engine answers confident
//! turns, the tenant's model the rest). Timeouts, retries and the failure
//! behaviour are the server's (`[agent.llm]`); token prices are unknown
//! for the tenant's model, so its cost is recorded as zero.
//!
//! Clients are cached per tenant for the settings' time to live and kept
//! while the stored provider is unchanged; a save through this process
//! applies at once, one through another process within the time to live.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hc_agent::llm::{Llm, ProviderKind};
use hc_agent::{Brain, BrainMode};
use hc_domain::TenantId;
use hc_store::TenantLlm;

use crate::state::Platform;

struct Entry {
    read_at: Instant,
    /// When the stored provider was last changed (reuse the client while equal).
    updated_at_ms: Option<i64>,
    brain: Option<Arc<Brain>>,
}

/// The tenants' own brains, built from their stored LLM settings.
pub struct TenantBrains {
    platform: Arc<dyn Platform>,
    /// The server's brain: mode, threshold, failure behaviour and timeouts.
    base: Brain,
    ttl: Duration,
    entries: Mutex<HashMap<TenantId, Entry>>,
    generation: AtomicU64,
}

impl TenantBrains {
    pub fn new(platform: Arc<dyn Platform>, base: Brain, ttl: Duration) -> Self {
        Self {
            platform,
            base,
            ttl,
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
        }
    }

    /// Forgets the tenant's brain (after its provider was saved here).
    pub fn invalidate(&self, t: &TenantId) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(t);
    }

    /// The brain a tenant's stored provider asks for.
    fn build(&self, own: &TenantLlm) -> Brain {
        let mut config = self
            .base
            .llm
            .as_ref()
            .map(|l| (*l.config).clone())
            .unwrap_or_default();
        config.provider = match own.provider.as_str() {
            "anthropic" => ProviderKind::Anthropic,
            _ => ProviderKind::Openai,
        };
        config.base_url = own.base_url.clone();
        config.model = own.model.clone();
        config.api_key = own.api_key.clone().map(Into::into);
        config.input_usd_per_mtok = 0.0;
        config.output_usd_per_mtok = 0.0;
        Brain {
            mode: match self.base.mode {
                BrainMode::Offline => BrainMode::Hybrid,
                other => other,
            },
            llm: Some(Llm::new(config)),
            hybrid_threshold: self.base.hybrid_threshold,
            on_failure: self.base.on_failure,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl hc_agent::TenantBrainSource for TenantBrains {
    async fn brain(&self, t: &TenantId) -> Option<Arc<Brain>> {
        if let Some(e) = self.lock().get(t)
            && e.read_at.elapsed() < self.ttl
        {
            return e.brain.clone();
        }
        let generation = self.generation.load(Ordering::Acquire);
        let stored = match self.platform.tenant_llm(t).await {
            Ok(s) => s,
            Err(e) => {
                // The server's brain answers; the next turn reads again.
                tracing::warn!(tenant = %t, error = %e, "cannot read the tenant's LLM provider");
                return None;
            }
        };
        let updated_at_ms = stored.as_ref().map(|s| s.updated_at_ms);
        let reuse = self
            .lock()
            .get(t)
            .filter(|e| e.updated_at_ms == updated_at_ms)
            .map(|e| e.brain.clone());
        // A new client is built outside the lock (it sets up an HTTP client).
        let brain = match reuse {
            Some(b) => b,
            None => stored.as_ref().map(|s| Arc::new(self.build(s))),
        };
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(
                t.clone(),
                Entry {
                    read_at: Instant::now(),
                    updated_at_ms,
                    brain: brain.clone(),
                },
            );
        }
        brain
    }
}
