//! A small τ-retail database used across the contract tests.

use hc_domain::{RetailDb, Tenant, TenantId};
use hc_store::TenantStore;

pub const MINI_DB: &str = include_str!("mini_db.json");

pub fn mini_db() -> RetailDb {
    serde_json::from_str(MINI_DB).expect("fixture parses")
}

pub fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// Creates a tenant and imports the mini database into it.
pub async fn seeded(store: &hc_store::SqlStore, id: &str) -> TenantId {
    let t = tenant(id);
    store
        .create_tenant(&Tenant {
            id: t.clone(),
            name: id.to_string(),
            created_at_ms: 1,
        })
        .await
        .unwrap();
    store.import_retail(&t, &mini_db(), "test").await.unwrap();
    t
}
