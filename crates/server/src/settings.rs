//! The tenants' agent settings as the engines read them: effective settings
//! (brand and cancel reasons filled in) cached per process for a few seconds,
//! dropped at once when this process writes them. One cache serves both the
//! agent (`TenantSettingsSource`: voice, escalation thresholds) and the
//! retail service (`PolicySource`: cancel reasons, gift-card refunds).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hc_commerce::StoreError;
use hc_domain::{TenantId, TenantSettings};

use crate::state::Platform;

/// Per-tenant effective settings with a time-to-live.
pub struct SettingsCache {
    platform: Arc<dyn Platform>,
    default_cancel_reasons: Vec<String>,
    ttl: Duration,
    entries: Mutex<HashMap<TenantId, (Instant, Arc<TenantSettings>)>>,
    /// Bumped by every invalidation: a read that started before one must not
    /// cache what it read.
    generation: AtomicU64,
}

impl SettingsCache {
    /// `default_cancel_reasons` fill in for tenants that set none (the
    /// server's configured retail policy).
    pub fn new(
        platform: Arc<dyn Platform>,
        default_cancel_reasons: Vec<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            platform,
            default_cancel_reasons,
            ttl,
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
        }
    }

    /// The tenant's effective settings; an unknown tenant gets the defaults.
    pub async fn effective(&self, t: &TenantId) -> Result<Arc<TenantSettings>, StoreError> {
        if let Some((at, s)) = self.lock().get(t)
            && at.elapsed() < self.ttl
        {
            return Ok(s.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let stored = self.platform.tenant_settings(t).await?.unwrap_or_default();
        let name = match self.platform.tenant(t).await? {
            Some(tenant) => tenant.name,
            None => t.to_string(),
        };
        let settings = Arc::new(stored.effective(&name, &self.default_cancel_reasons));
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(t.clone(), (Instant::now(), settings.clone()));
        }
        Ok(settings)
    }

    /// Forgets the tenant's settings (after a write through this process).
    pub fn invalidate(&self, t: &TenantId) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(t);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, (Instant, Arc<TenantSettings>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl hc_agent::TenantSettingsSource for SettingsCache {
    async fn settings(&self, t: &TenantId) -> Result<Arc<TenantSettings>, StoreError> {
        self.effective(t).await
    }
}

#[async_trait]
impl hc_commerce::PolicySource for SettingsCache {
    async fn settings(&self, t: &TenantId) -> Result<Arc<TenantSettings>, StoreError> {
        self.effective(t).await
    }
}
