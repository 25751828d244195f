//! Fresh databases for tests: a SQLite file in a temporary directory, and a
//! newly created PostgreSQL database when `HC_TEST_POSTGRES_URL` points at a
//! server (its user must be allowed to create databases).

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::any::install_default_drivers;
use sqlx::{AnyConnection, AssertSqlSafe, Connection};

use crate::db::{SqlStore, StoreConfig};

/// A migrated store on a database that exists only for one test.
pub struct TestDb {
    pub store: SqlStore,
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// Another store on the same database, as a second process would have;
    /// its `finish` only closes its own pools (the database stays with `self`).
    pub async fn second_handle(&self) -> TestDb {
        let mut store = SqlStore::open(&self.url, &StoreConfig::default())
            .await
            .expect("open the same database");
        store.secrets = self.store.secrets.clone();
        TestDb {
            store,
            url: self.url.clone(),
            label: self.label,
            _dir: None,
            pg: None,
        }
    }

    /// Closes the pools and drops the PostgreSQL database, if any.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = &self.pg
            && let Ok(mut conn) = AnyConnection::connect(admin).await
        {
            let sql = AssertSqlSafe(format!("drop database if exists {name}"));
            let _ = sqlx::query(sql).execute(&mut conn).await;
        }
    }
}

/// A fresh SQLite database.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    let store = SqlStore::open(&url, &StoreConfig::default())
        .await
        .expect("open sqlite")
        .with_secrets_key(crate::SecretsKey::generate());
    TestDb {
        store,
        url,
        label: "sqlite",
        _dir: Some(dir),
        pg: None,
    }
}

/// The PostgreSQL admin URL for tests, if configured. Under `CI` its absence is an error,
/// so the PostgreSQL half of the contract suite can never be skipped silently there.
pub fn postgres_url() -> Option<String> {
    match std::env::var("HC_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but HC_TEST_POSTGRES_URL is not set")
        }
        _ => None,
    }
}

/// A fresh PostgreSQL database, or `None` when `HC_TEST_POSTGRES_URL` is unset.
pub async fn postgres() -> Option<TestDb> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let admin = postgres_url()?;
    install_default_drivers();
    let name = format!(
        "hc_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        hc_domain::now_ms()
    );
    let mut conn = AnyConnection::connect(&admin)
        .await
        .expect("connect to postgres admin url");
    sqlx::query(AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    let url = format!("{base}/{name}");
    let store = SqlStore::open(&url, &StoreConfig::default())
        .await
        .expect("open postgres")
        .with_secrets_key(crate::SecretsKey::generate());
    Some(TestDb {
        store,
        url,
        label: "postgres",
        _dir: None,
        pg: Some((admin, name)),
    })
}

/// Every backend available to this test run: SQLite always, PostgreSQL when configured.
pub async fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}
