//! The subcommands: thin wrappers that open the store and call the engines.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use hc_commerce::{Retail, Tools};
use hc_domain::{AuditRecord, RetailDb, Role, Tenant, TenantId, now_ms};
use hc_knowledge::KnowledgeBase;
use hc_server::{AppState, Application, issue_key};
use hc_store::{ApiKeyStore, AuditStore, OperatorStore, SecretsKey, SqlStore, TenantStore};
use serde_json::json;
use tracing::info;

use crate::settings::Settings;

pub const DEMO_TENANT: &str = "demo";
pub const DEMO_SEED: u64 = 42;

pub async fn open_store(settings: &Settings) -> Result<SqlStore> {
    let url = settings.database_url()?;
    let store = SqlStore::open(&url, &settings.store)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(&url)))?;
    Ok(store.with_secrets_key(secrets_key(settings)?))
}

/// The key tenant secrets are sealed with: `HC_SECRETS_KEY` (base64, the
/// same on every node of a cluster), else `<data-dir>/secrets.key`, created
/// on first use.
fn secrets_key(settings: &Settings) -> Result<SecretsKey> {
    match std::env::var("HC_SECRETS_KEY") {
        Ok(k) if !k.trim().is_empty() => {
            SecretsKey::from_base64(&k).context("HC_SECRETS_KEY is not a valid secrets key")
        }
        _ => {
            let path = settings.data_dir.join("secrets.key");
            SecretsKey::load_or_create(&path)
                .with_context(|| format!("cannot use the secrets key file {}", path.display()))
        }
    }
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

fn tenant_id(raw: &str) -> Result<TenantId> {
    TenantId::parse(raw).with_context(|| format!("invalid tenant '{raw}'"))
}

async fn ensure_tenant(store: &SqlStore, id: &TenantId, name: &str) -> Result<bool> {
    if store.tenant(id).await?.is_some() {
        return Ok(false);
    }
    store
        .create_tenant(&Tenant {
            id: id.clone(),
            name: name.to_string(),
            created_at_ms: now_ms(),
        })
        .await?;
    store
        .record_audit(&AuditRecord {
            tenant_id: id.clone(),
            actor: "cli".into(),
            action: "tenant.create".into(),
            target: format!("tenant:{id}"),
            at_ms: now_ms(),
            detail: json!({"name": name}),
        })
        .await?;
    Ok(true)
}

/// Issues a key, stores its hash and audits the creation; returns the secret.
pub async fn new_key(
    store: &SqlStore,
    tenant: &TenantId,
    role: Role,
    label: &str,
    rate: Option<u32>,
) -> Result<String> {
    let issued = issue_key(tenant, role, label, rate);
    store.insert_key(&issued.record, &issued.hash).await?;
    store
        .record_audit(&AuditRecord {
            tenant_id: tenant.clone(),
            actor: "cli".into(),
            action: "key.create".into(),
            target: format!("key:{}", issued.record.id),
            at_ms: now_ms(),
            detail: json!({"role": role, "label": label}),
        })
        .await?;
    Ok(issued.secret)
}

/// Creates the demo tenant and store on first use; true if it was created now.
/// The demo help articles are added whenever the tenant has none.
pub async fn ensure_demo(store: &SqlStore) -> Result<bool> {
    let t = tenant_id(DEMO_TENANT)?;
    let created = ensure_tenant(store, &t, "Demo Outfitters").await?;
    if created {
        let db = hc_commerce::demo::demo_store(DEMO_SEED);
        store.import_retail(&t, &db, "cli").await?;
    }
    let kb = KnowledgeBase::new(Arc::new(store.clone()), Default::default());
    if kb.list(&t, None, Some(1)).await?.items.is_empty() {
        for draft in hc_knowledge::demo::demo_articles() {
            kb.upsert(&t, draft).await?;
        }
    }
    Ok(created)
}

pub fn app_state(store: &SqlStore, settings: &Settings) -> Result<AppState> {
    let retail = Retail::new(Arc::new(store.clone()), settings.retail.clone());
    let tools = Tools::new(retail);
    let brain = settings
        .agent
        .brain()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let agent = hc_agent::Agent::new(
        tools.clone(),
        Arc::new(store.clone()),
        hc_agent::nlu::Nlu::builtin(),
        settings.agent.voice(),
    )
    .with_brain(brain)
    .with_memory(Arc::new(store.clone()));
    let knowledge = KnowledgeBase::new(Arc::new(store.clone()), settings.knowledge.clone());
    if let Some(path) = &settings.server.events.intent_model {
        hc_server::load_intent_model(path)
            .map_err(|e| anyhow::anyhow!("cannot load the intent model {}: {e}", path.display()))?;
    }
    let state = AppState::new(
        tools,
        agent,
        Arc::new(store.clone()),
        settings.server.clone(),
    )
    .with_knowledge(Arc::new(knowledge));
    if !settings.ledger.enabled {
        return Ok(state);
    }
    let (ledger, recovery, generated) = settings
        .ledger
        .open(&settings.data_dir)
        .context("cannot open the ledger")?;
    if let Some(key) = generated {
        info!(verifier_key = %key.to_vkey(), "generated the ledger's signing key");
    }
    if recovery.truncated_bytes > 0 {
        tracing::warn!(
            truncated_bytes = recovery.truncated_bytes,
            "ledger: cut a torn tail"
        );
    }
    info!(entries = recovery.entries, origin = %ledger.origin(), "ledger open");
    let ledger = Arc::new(ledger);
    let loyalty = hc_ledger::Loyalty::open(ledger.clone()).context("cannot replay loyalty")?;
    let keys = settings.ledger.customer_keys(&settings.data_dir)?;
    Ok(state
        .with_ledger(ledger)
        .with_loyalty(loyalty, keys)
        .with_expiry_sweep(settings.ledger.expiry_sweep_secs)
        .with_reputation_every(settings.ledger.reputation_every_secs))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    info!("shutting down");
}

pub async fn serve(settings: &Settings, demo: bool) -> Result<()> {
    let store = open_store(settings).await?;
    let demo_key = if demo {
        let created = ensure_demo(&store).await?;
        let t = tenant_id(DEMO_TENANT)?;
        let key = new_key(&store, &t, Role::Owner, "demo", None).await?;
        let login = ensure_demo_operator(&store).await?;
        Some((created, key, login))
    } else {
        None
    };
    let app = Application::build(app_state(&store, settings)?)
        .await
        .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
    let addr = app.local_addr()?;
    if let Some((created, key, login)) = demo_key {
        print_demo_banner(&addr.to_string(), &key, created, &login);
    }
    info!(%addr, "listening");
    app.run_until_stopped(shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

fn print_demo_banner(addr: &str, key: &str, created: bool, login: &(String, String)) {
    let (email, password) = login;
    let base = format!("http://{addr}");
    // Browsers keep the dashboard's Secure cookie over plain http only on localhost.
    let dash = base.replace("127.0.0.1", "localhost");
    let what = if created {
        "created"
    } else {
        "already present"
    };
    println!(
        r#"
HyperCommerce demo store ({what}): tenant "demo"

  Admin API key (owner role, shown once): {key}

  Dashboard         {dash}/dashboard/login?tenant=demo
    store "demo", email {email}, password {password} (new on every start)

  Demo shop + chat  {base}/demo
  API reference     {base}/docs
  OpenAPI           {base}/openapi.json
  Health / metrics  {base}/healthz  {base}/metrics

Try it:
  export HC_KEY={key}
  curl -s {base}/v1/tools -H "Authorization: Bearer $HC_KEY"
  curl -s '{base}/v1/orders?status=pending&limit=3' -H "Authorization: Bearer $HC_KEY"
  curl -s -X POST {base}/v1/tools/list_all_product_types -H "Authorization: Bearer $HC_KEY"
  curl -s '{base}/v1/knowledge/search?q=how+long+do+refunds+take' -H "Authorization: Bearer $HC_KEY"
  curl -s -X POST {base}/v1/tools/find_user_id_by_email -H "Authorization: Bearer $HC_KEY" \
       -d '{{"email": "<an email from /v1/customers>"}}'

Press Ctrl-C to stop.
"#
    );
}

pub async fn migrate(settings: &Settings) -> Result<()> {
    let store = open_store(settings).await?;
    println!("migrated ({:?})", store.backend());
    store.close().await;
    Ok(())
}

/// Prints the tenant's event log after `after` as NDJSON, in order.
pub async fn replay_events(
    settings: &Settings,
    tenant: &str,
    after: i64,
    limit: Option<u64>,
) -> Result<()> {
    use std::io::Write;
    let t = tenant_id(tenant)?;
    let store = open_store(settings).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut cursor, mut left) = (after, limit.unwrap_or(u64::MAX));
    while left > 0 {
        let page =
            hc_store::EventStore::events_after(&store, &t, cursor, left.min(1000) as u32).await?;
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        left -= page.len() as u64;
        for e in &page {
            serde_json::to_writer(&mut out, e)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    store.close().await;
    Ok(())
}

pub async fn import_tau(settings: &Settings, file: &Path, tenant: &str) -> Result<()> {
    let t = tenant_id(tenant)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let db: RetailDb = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid τ-retail db.json", file.display()))?;
    let store = open_store(settings).await?;
    if ensure_tenant(&store, &t, tenant).await? {
        eprintln!("created tenant {t}");
    }
    let summary = store.import_retail(&t, &db, "cli").await?;
    println!("{}", serde_json::to_string(&summary)?);
    store.close().await;
    Ok(())
}

pub async fn export_tau(settings: &Settings, file: &Path, tenant: &str) -> Result<()> {
    let t = tenant_id(tenant)?;
    let store = open_store(settings).await?;
    if store.tenant(&t).await?.is_none() {
        bail!("tenant {t} does not exist");
    }
    let db = store.export_retail(&t).await?;
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&db)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, file)?;
    eprintln!(
        "exported {} products, {} users, {} orders",
        db.products.len(),
        db.users.len(),
        db.orders.len()
    );
    store.close().await;
    Ok(())
}

pub async fn create_tenant(settings: &Settings, name: &str, display: Option<&str>) -> Result<()> {
    let t = tenant_id(name)?;
    let store = open_store(settings).await?;
    if !ensure_tenant(&store, &t, display.unwrap_or(name)).await? {
        bail!("tenant {t} already exists");
    }
    println!("{t}");
    store.close().await;
    Ok(())
}

pub async fn create_key(
    settings: &Settings,
    tenant: &str,
    role: &str,
    label: &str,
    rate: Option<u32>,
) -> Result<()> {
    let t = tenant_id(tenant)?;
    let role: Role = role.parse()?;
    let store = open_store(settings).await?;
    if store.tenant(&t).await?.is_none() {
        bail!("tenant {t} does not exist (create it with `hypercommerce admin create-tenant {t}`)");
    }
    let key = new_key(&store, &t, role, label, rate).await?;
    println!("{key}");
    store.close().await;
    Ok(())
}

/// Creates an operator with `password` (hashed with argon2id) and audits it.
pub async fn new_operator(
    store: &SqlStore,
    tenant: &TenantId,
    email: &str,
    role: Role,
    password: &str,
) -> Result<hc_domain::Operator> {
    hc_server::dashboard::check_password(password)
        .map_err(|e| anyhow::anyhow!("the password {e}"))?;
    let op = hc_server::dashboard::new_operator(tenant, email, role)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = hc_server::dashboard::hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .insert_operator(
            &op,
            &hash,
            &AuditRecord {
                tenant_id: tenant.clone(),
                actor: "cli".into(),
                action: "operator.create".into(),
                target: format!("operator:{}", op.id),
                at_ms: now_ms(),
                detail: json!({"email": op.email, "role": role}),
            },
        )
        .await?;
    Ok(op)
}

pub async fn create_user(settings: &Settings, tenant: &str, email: &str, role: &str) -> Result<()> {
    use std::io::{IsTerminal, Read};
    let t = tenant_id(tenant)?;
    let role: Role = role.parse()?;
    let stdin = std::io::stdin();
    let (password, generated) = if stdin.is_terminal() {
        (hc_server::dashboard::generate_password(), true)
    } else {
        let mut raw = String::new();
        stdin
            .lock()
            .take(4096)
            .read_to_string(&mut raw)
            .context("cannot read the password from standard input")?;
        let line = raw.lines().next().unwrap_or("").to_string();
        if line.is_empty() {
            (hc_server::dashboard::generate_password(), true)
        } else {
            (line, false)
        }
    };
    let store = open_store(settings).await?;
    if store.tenant(&t).await?.is_none() {
        bail!("tenant {t} does not exist (create it with `hypercommerce admin create-tenant {t}`)");
    }
    let op = new_operator(&store, &t, email, role, &password).await?;
    println!("created operator {} ({}) in {t}", op.email, op.role);
    if generated {
        println!("password (shown once): {password}");
    }
    store.close().await;
    Ok(())
}

/// The demo's operator: created on first use; a fresh password each start
/// (only its hash is kept, so it cannot be shown again otherwise).
pub async fn ensure_demo_operator(store: &SqlStore) -> Result<(String, String)> {
    let t = tenant_id(DEMO_TENANT)?;
    let email = "owner@demo.example";
    let password = hc_server::dashboard::generate_password();
    match store.operator_by_email(&t, email).await? {
        Some((op, _)) => {
            let hash = hc_server::dashboard::hash_password(&password)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.set_operator_password(&t, &op.id, &hash).await?;
        }
        None => {
            new_operator(store, &t, email, Role::Owner, &password).await?;
        }
    }
    Ok((email.to_string(), password))
}
/// `hypercommerce customers rescore`: refits the tenant's customer models and
/// scores every customer, as the server's nightly job does.
pub async fn rescore(settings: &Settings, tenant: &str, refit: bool) -> Result<()> {
    let tenant = tenant_id(tenant)?;
    let store = open_store(settings).await?;
    anyhow::ensure!(store.tenant(&tenant).await?.is_some(), "no tenant {tenant}");
    let state = app_state(&store, settings)?;
    let report = hc_server::behavior::rescore(&state, &tenant, refit)
        .await
        .map_err(|e| anyhow::anyhow!("rescoring failed: {}", e.message))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    store.close().await;
    Ok(())
}
