//! `spawn_app`: a server on 127.0.0.1:0 over a fresh database with the mini
//! τ-retail fixture imported into tenant `shop` and an empty tenant `other`,
//! and one key per role.

use std::collections::HashMap;
use std::sync::Arc;

use hc_commerce::{Retail, RetailPolicy, Tools};
use hc_domain::{Role, Tenant, TenantId};
use hc_server::{AppState, Application, ServerConfig, issue_key};
use hc_store::testing::TestDb;
use hc_store::{ApiKeyStore, TenantStore};
use serde_json::Value;

pub const MINI_DB: &str = include_str!("../../../store/tests/contract/mini_db.json");

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// Keys of tenant `shop`, by role.
    pub keys: HashMap<Role, String>,
    /// An owner key of tenant `other`.
    pub other_key: String,
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

pub fn config() -> ServerConfig {
    let mut c = ServerConfig {
        listen: "127.0.0.1:0".into(),
        rate_limit_per_sec: 0,
        ..ServerConfig::default()
    };
    // Outbox retries in test time: 100 ms, 400 ms, 1.6 s (capped at 2 s).
    c.outbox.poll_ms = 100;
    c.outbox.retry_base_ms = 100;
    c.outbox.retry_max_ms = 2_000;
    c.outbox.max_attempts = 4;
    // Dashboard pages see every change at once; no background refresher.
    c.dashboard.rollup_max_age_ms = 0;
    c.dashboard.rollup_every_ms = 0;
    c
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(hc_store::testing::sqlite().await, config(), MINI_DB).await
}

pub async fn spawn_app_with(db: TestDb, config: ServerConfig, data: &str) -> TestApp {
    spawn_app_full(db, config, data, hc_agent::Brain::offline()).await
}

/// The fixture app whose agent answers with `brain` (an LLM or hybrid).
pub async fn spawn_app_with_brain(brain: hc_agent::Brain) -> TestApp {
    spawn_app_full(hc_store::testing::sqlite().await, config(), MINI_DB, brain).await
}

pub async fn spawn_app_full(
    db: TestDb,
    config: ServerConfig,
    data: &str,
    brain: hc_agent::Brain,
) -> TestApp {
    seed(&db, data).await;
    start(db, config, brain).await
}

/// Creates tenants `shop` (with the fixture imported) and `other`.
async fn seed(db: &TestDb, data: &str) {
    let store = db.store.clone();
    let shop = TenantId::parse("shop").unwrap();
    let other = TenantId::parse("other").unwrap();
    for t in [&shop, &other] {
        store
            .create_tenant(&Tenant {
                id: t.clone(),
                name: t.to_string(),
                created_at_ms: 1,
            })
            .await
            .unwrap();
    }
    let retail_db = serde_json::from_str(data).unwrap();
    store
        .import_retail(&shop, &retail_db, "test")
        .await
        .unwrap();
}

/// A server over a database `spawn_app*` already seeded (e.g. after
/// [`TestApp::stop`]): a restarted process. New keys are issued.
pub async fn spawn_app_on(db: TestDb, config: ServerConfig) -> TestApp {
    start(db, config, hc_agent::Brain::offline()).await
}

async fn start(db: TestDb, config: ServerConfig, brain: hc_agent::Brain) -> TestApp {
    start_with_ledger(db, config, brain, None).await
}

/// The fixture app that also serves `ledger`.
pub async fn spawn_app_with_ledger(ledger: Arc<hc_ledger::Ledger>) -> TestApp {
    let db = hc_store::testing::sqlite().await;
    seed(&db, MINI_DB).await;
    start_with_ledger(db, config(), hc_agent::Brain::offline(), Some(ledger)).await
}

async fn start_with_ledger(
    db: TestDb,
    config: ServerConfig,
    brain: hc_agent::Brain,
    ledger: Option<Arc<hc_ledger::Ledger>>,
) -> TestApp {
    let store = db.store.clone();
    let shop = TenantId::parse("shop").unwrap();
    let other = TenantId::parse("other").unwrap();
    let mut keys = HashMap::new();
    for role in Role::ALL {
        let k = issue_key(&shop, role, role.as_str(), None);
        store.insert_key(&k.record, &k.hash).await.unwrap();
        keys.insert(role, k.secret);
    }
    let ok = issue_key(&other, Role::Owner, "other", None);
    store.insert_key(&ok.record, &ok.hash).await.unwrap();

    let retail = Retail::new(Arc::new(store.clone()), RetailPolicy::default());
    let tools = Tools::new(retail);
    let agent = hc_agent::Agent::new(
        tools.clone(),
        Arc::new(store.clone()),
        hc_agent::nlu::Nlu::builtin(),
        hc_agent::Voice::default(),
    )
    .with_brain(brain);
    let knowledge = hc_knowledge::KnowledgeBase::new(
        Arc::new(store.clone()),
        hc_knowledge::KnowledgeConfig::default(),
    );
    let mut state = AppState::new(tools, agent, Arc::new(store.clone()), config)
        .with_knowledge(Arc::new(knowledge));
    if let Some(ledger) = ledger {
        let loyalty = hc_ledger::Loyalty::open(ledger.clone()).unwrap();
        let ledger_dir = ledger.log().dir().to_path_buf();
        state = state.with_ledger(ledger).with_loyalty(
            loyalty,
            hc_ledger::CustomerKeys::new(
                &ledger_dir.join("customer-keys"),
                [6; 32],
                hc_ledger::Pseudonymizer::new([7; 32]),
            ),
        );
    }
    let app = Application::build(state).await.unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::new(),
        keys,
        other_key: ok.secret,
        db,
        stop: Some(tx),
    }
}

/// A response's status and JSON body (`Null` when the body is not JSON).
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// The retail tools over this app's store, for driving the engines directly.
    pub fn tools(&self) -> Tools {
        Tools::new(Retail::new(
            Arc::new(self.db.store.clone()),
            RetailPolicy::default(),
        ))
    }

    pub fn key(&self, role: Role) -> &str {
        &self.keys[&role]
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(
            self.client
                .get(format!("{}{path}", self.base))
                .bearer_auth(key),
        )
        .await
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .bearer_auth(key)
                .json(body),
        )
        .await
    }

    pub async fn put(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.send(
            self.client
                .put(format!("{}{path}", self.base))
                .bearer_auth(key)
                .json(body),
        )
        .await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.send(
            self.client
                .delete(format!("{}{path}", self.base))
                .bearer_auth(key),
        )
        .await
    }

    pub async fn tool(&self, name: &str, args: &Value) -> Reply {
        self.post(&format!("/v1/tools/{name}"), self.key(Role::Owner), args)
            .await
    }

    /// The tenant `shop` exported in the τ layout, numbers normalised to floats.
    pub async fn export(&self) -> Value {
        let t = TenantId::parse("shop").unwrap();
        normalise(serde_json::to_value(self.db.store.export_retail(&t).await.unwrap()).unwrap())
    }

    pub async fn audit_count(&self) -> usize {
        let r = self.get("/v1/audit?limit=200", self.key(Role::Owner)).await;
        r.body["items"].as_array().map(Vec::len).unwrap_or(0)
    }

    /// Stops the server and its background tasks, and reconnects to its
    /// database with a new store (as a restarted process would).
    pub async fn stop(mut self) -> TestDb {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let mut db = self.db;
        db.store.close().await;
        // The same database and secrets key, new pools.
        db.store = db.second_handle().await.store;
        db
    }

    pub async fn finish(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.db.finish().await;
    }
}

/// Numbers as floats rounded to the cent, so `100` and `100.0` compare equal.
pub fn normalise(v: Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!((n.as_f64().unwrap() * 100.0).round() / 100.0),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        other => other,
    }
}
