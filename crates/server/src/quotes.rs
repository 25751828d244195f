//! Price quotes served from memory.
//!
//! `GET /v1/pricing/quote/{item}` is the hottest read of the pricing
//! service (every product page, the tracker, the agent). A quote is the
//! item's live catalog price and availability; reading and decoding the
//! product document per request costs far more than the answer. This cache
//! keeps each quote for `ttl`. This process's own price writes (repricing
//! steps, approvals, catalog edits) forget the tenant's quotes at once, so
//! a change made here is quoted at once; a change made by another process
//! sharing the database is quoted within `ttl`.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use hc_domain::{ItemId, Money, TenantId};

/// What a shopper is quoted for an item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    pub price: Money,
    pub available: bool,
}

struct Entry {
    quote: Quote,
    loaded: Instant,
}

/// Quotes per tenant and item, each kept for the cache's time to live.
pub struct QuoteCache {
    ttl: Duration,
    /// Entries beyond this many per tenant are dropped wholesale (the
    /// cache refills from the store); bounds memory on huge catalogs.
    max_per_tenant: usize,
    tenants: RwLock<HashMap<TenantId, HashMap<ItemId, Entry>>>,
}

impl Default for QuoteCache {
    fn default() -> Self {
        Self::new(Duration::from_millis(1000), 1_000_000)
    }
}

impl QuoteCache {
    /// A cache keeping quotes for `ttl` (zero: no caching).
    pub fn new(ttl: Duration, max_per_tenant: usize) -> Self {
        Self {
            ttl,
            max_per_tenant: max_per_tenant.max(1),
            tenants: RwLock::default(),
        }
    }

    /// The cached quote, if younger than the time to live.
    pub fn get(&self, t: &TenantId, item: &ItemId) -> Option<Quote> {
        if self.ttl.is_zero() {
            return None;
        }
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants
            .get(t)?
            .get(item)
            .filter(|e| e.loaded.elapsed() < self.ttl)
            .map(|e| e.quote)
    }

    /// Remembers a quote read from the store at `loaded` (taken before the
    /// read, so a write that lands during the read is not hidden for a
    /// whole time to live after a [`QuoteCache::forget_tenant`]).
    pub fn put(&self, t: &TenantId, item: ItemId, quote: Quote, loaded: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        let items = tenants.entry(t.clone()).or_default();
        if items.len() >= self.max_per_tenant {
            items.clear();
        }
        items.insert(item, Entry { quote, loaded });
    }

    /// Forgets every quote of the tenant (after a price or catalog write).
    pub fn forget_tenant(&self, t: &TenantId) {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        tenants.remove(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (TenantId, ItemId) {
        (
            TenantId::parse("shop").unwrap(),
            ItemId::parse("1000000001").unwrap(),
        )
    }

    fn quote(cents: i64) -> Quote {
        Quote {
            price: Money::from_cents(cents),
            available: true,
        }
    }

    #[test]
    fn a_quote_is_served_until_its_time_to_live_or_a_write() {
        let (t, item) = ids();
        let cache = QuoteCache::new(Duration::from_secs(60), 10);
        assert_eq!(cache.get(&t, &item), None);
        cache.put(&t, item.clone(), quote(1999), Instant::now());
        assert_eq!(cache.get(&t, &item), Some(quote(1999)));
        let other = TenantId::parse("other").unwrap();
        assert_eq!(cache.get(&other, &item), None, "tenants are apart");
        cache.forget_tenant(&t);
        assert_eq!(cache.get(&t, &item), None);
        // Loaded before the time to live: already stale.
        let old = Instant::now() - Duration::from_secs(61);
        cache.put(&t, item.clone(), quote(1999), old);
        assert_eq!(cache.get(&t, &item), None);
    }

    #[test]
    fn zero_time_to_live_caches_nothing_and_the_size_is_bounded() {
        let (t, item) = ids();
        let off = QuoteCache::new(Duration::ZERO, 10);
        off.put(&t, item.clone(), quote(5), Instant::now());
        assert_eq!(off.get(&t, &item), None);
        let small = QuoteCache::new(Duration::from_secs(60), 2);
        for i in 0..5u32 {
            let id = ItemId::parse(format!("{}", 1000000000 + i)).unwrap();
            small.put(&t, id, quote(i.into()), Instant::now());
        }
        let held = small.tenants.read().unwrap()[&t].len();
        assert!(held <= 2, "{held}");
    }
}
