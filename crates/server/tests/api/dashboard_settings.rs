//! The dashboard's settings screens over HTTP: users and roles, brand voice
//! and policy, the LLM provider (its key sealed, never shown), knowledge-base
//! articles and outgoing webhooks with their delivery log. Roles, tenants,
//! bad input next to the field with nothing saved.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hc_domain::{Role, TenantId};
use hc_store::SettingsStore;
use serde_json::json;

use crate::dashboard::{Dash, PASSWORD, escalated, operator, signed_in};
use crate::helpers::spawn_app;

const PAGES: [&str; 6] = ["", "/users", "/agent", "/llm", "/knowledge", "/webhooks"];

/// The text between `id="{id}">` and the next `<`.
fn text_of(body: &str, id: &str) -> Option<String> {
    let at = body.find(&format!("id=\"{id}\">"))? + id.len() + 6;
    let rest = &body[at..];
    Some(rest[..rest.find('<')?].to_string())
}

#[tokio::test]
async fn a_viewer_sees_the_settings_but_every_change_is_refused() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    for p in PAGES {
        let page = d.get(&format!("/dashboard/settings{p}")).await;
        assert_eq!(page.status, 200, "{p}: {}", page.body);
        assert!(page.body.contains("id=\"read-only\""), "{p}");
        let main = &page.body[page.body.find("<main").unwrap()..];
        assert!(
            !main.contains("type=\"submit\""),
            "{p}: a viewer has a button"
        );
    }
    let t = TenantId::parse("shop").unwrap();
    let ops = app.db.store.list_operators_for_test(&t).await;
    let disable = format!(
        "/dashboard/settings/users/{}/disable",
        ops[0].split(' ').next().unwrap()
    );
    let posts: [(&str, Vec<(&str, &str)>); 8] = [
        (
            "/dashboard/settings/users",
            vec![("email", "x@shop.example"), ("role", "viewer")],
        ),
        (disable.as_str(), vec![]),
        (
            "/dashboard/settings/agent",
            vec![
                ("tone", "formal"),
                ("min_confidence", "0.5"),
                ("max_failures", "3"),
                ("max_out_of_scope", "2"),
            ],
        ),
        (
            "/dashboard/settings/llm",
            vec![("provider", "openai"), ("model", "m"), ("api_key", "sk-x")],
        ),
        (
            "/dashboard/settings/knowledge",
            vec![("title", "Hours"), ("body", "Open 9 to 5.")],
        ),
        ("/dashboard/settings/knowledge/hours/delete", vec![]),
        (
            "/dashboard/settings/webhooks",
            vec![("url", "https://h.example/x")],
        ),
        ("/dashboard/settings/webhooks/wh_x/delete", vec![]),
    ];
    for (path, fields) in &posts {
        assert_eq!(d.post(path, fields).await.status, 403, "{path}");
    }
    assert_eq!(app.db.store.list_operators_for_test(&t).await, ops);
    assert!(app.db.store.tenant_llm(&t).await.unwrap().is_none());
    assert!(
        app.db
            .store
            .list_webhook_endpoints(&t)
            .await
            .unwrap()
            .is_empty()
    );
    let s = app.get("/v1/settings", app.key(Role::Viewer)).await;
    assert_eq!(s.body["tone"], "friendly");
    app.finish().await;
}

/// Test-only view of a tenant's operators: `id role disabled` lines.
trait Operators {
    async fn list_operators_for_test(&self, t: &TenantId) -> Vec<String>;
}

impl Operators for hc_store::SqlStore {
    async fn list_operators_for_test(&self, t: &TenantId) -> Vec<String> {
        use hc_store::OperatorStore;
        self.list_operators(t)
            .await
            .unwrap()
            .into_iter()
            .map(|o| format!("{} {} {}", o.id, o.role, o.disabled_at_ms.is_some()))
            .collect()
    }
}

#[tokio::test]
async fn an_admin_adds_an_operator_who_signs_in_with_the_password_shown_once() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "adm@shop.example", Role::Admin).await;
    // Bad input: next to the field, nothing created.
    for (email, role, field, message) in [
        (
            "not-an-email",
            "viewer",
            "email-error",
            "look like name@example.com",
        ),
        ("two words@x.io", "viewer", "email-error", "spaces"),
        ("", "viewer", "email-error", "The email"),
        ("<script>@x.io", "viewer", "email-error", "The email"),
        ("ok@shop.example", "owner", "role-error", "above your own"),
        ("ok@shop.example", "tracker", "role-error", "listed roles"),
        ("ok@shop.example", "emperor", "role-error", "listed roles"),
    ] {
        let r = d
            .post(
                "/dashboard/settings/users",
                &[("email", email), ("role", role)],
            )
            .await;
        assert_eq!(r.status, 400, "{email} {role}");
        let shown = text_of(&r.body, field).unwrap_or_else(|| panic!("{field}: {}", r.body));
        assert!(shown.contains(message), "{shown}");
        assert!(!r.body.contains("<script>@"), "escaped");
    }
    let long = format!("{}@shop.example", "a".repeat(250));
    let r = d
        .post(
            "/dashboard/settings/users",
            &[("email", &long), ("role", "agent")],
        )
        .await;
    assert_eq!(r.status, 400);
    let users = d.get("/dashboard/settings/users").await;
    assert!(!users.body.contains("ok@shop.example"));

    let r = d
        .post(
            "/dashboard/settings/users",
            &[("email", " New.Agent@Shop.example "), ("role", "agent")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let password = text_of(&r.body, "new-password").unwrap();
    assert_eq!(password.len(), 24);
    assert!(
        !d.get("/dashboard/settings/users")
            .await
            .body
            .contains(&password)
    );
    let mut them = Dash::new(&app);
    let s = them
        .sign_in("shop", "new.agent@shop.example", &password)
        .await;
    assert_eq!(s.status, 303, "{}", s.body);
    assert!(them.get("/dashboard").await.body.contains("agent"));

    // The same email again: refused next to the field.
    let r = d
        .post(
            "/dashboard/settings/users",
            &[("email", "new.agent@shop.example"), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        text_of(&r.body, "email-error")
            .unwrap()
            .contains("already exists")
    );
    let audit = app.get("/v1/audit", app.key(Role::Owner)).await;
    assert!(audit.body.to_string().contains("operator.create"));
    app.finish().await;
}

#[tokio::test]
async fn roles_change_and_accounts_are_disabled_without_losing_the_last_owner() {
    let app = spawn_app().await;
    let owner = signed_in(&app, "shop", "own@shop.example", Role::Owner).await;
    let mut agent = signed_in(&app, "shop", "ag@shop.example", Role::Agent).await;
    let admin = signed_in(&app, "shop", "adm@shop.example", Role::Admin).await;
    let t = TenantId::parse("shop").unwrap();
    let id_of = async |email: &str| {
        use hc_store::OperatorStore;
        app.db
            .store
            .operator_by_email(&t, email)
            .await
            .unwrap()
            .unwrap()
            .0
            .id
            .to_string()
    };
    let (own_id, ag_id, adm_id) = (
        id_of("own@shop.example").await,
        id_of("ag@shop.example").await,
        id_of("adm@shop.example").await,
    );

    // An admin cannot touch the owner, nor grant owner; nobody changes themselves.
    let r = admin
        .post(&format!("/dashboard/settings/users/{own_id}/disable"), &[])
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .post(
            &format!("/dashboard/settings/users/{ag_id}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        text_of(&r.body, "form-error")
            .unwrap()
            .contains("above your own")
    );
    let r = owner
        .post(
            &format!("/dashboard/settings/users/{own_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        text_of(&r.body, "form-error")
            .unwrap()
            .contains("your own account")
    );
    let r = owner
        .post(&format!("/dashboard/settings/users/{own_id}/disable"), &[])
        .await;
    assert_eq!(r.status, 400);

    // A role change takes effect and ends the operator's sessions.
    assert_eq!(agent.get("/dashboard").await.status, 200);
    let r = admin
        .post(
            &format!("/dashboard/settings/users/{ag_id}/role"),
            &[("role", "manager")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(agent.get("/dashboard").await.status, 303, "session ended");
    assert_eq!(
        agent
            .sign_in("shop", "ag@shop.example", PASSWORD)
            .await
            .status,
        303
    );
    assert!(agent.get("/dashboard").await.body.contains("manager"));

    // Disabled: signed out at once, cannot sign in; enabled again: can.
    let r = admin
        .post(&format!("/dashboard/settings/users/{ag_id}/disable"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(agent.get("/dashboard").await.status, 303);
    assert_eq!(
        agent
            .sign_in("shop", "ag@shop.example", PASSWORD)
            .await
            .status,
        401
    );
    let page = owner.get("/dashboard/settings/users").await;
    assert!(page.body.contains(&format!("id=\"user-{ag_id}\"")));
    assert!(page.body.contains("disabled 2"), "{}", page.body);
    let r = admin
        .post(&format!("/dashboard/settings/users/{ag_id}/enable"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        agent
            .sign_in("shop", "ag@shop.example", PASSWORD)
            .await
            .status,
        303
    );

    // The owner makes the admin an owner, then the new owner demotes the
    // first: allowed, one active owner remains. Demoting the last is not.
    let r = owner
        .post(
            &format!("/dashboard/settings/users/{adm_id}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(r.status, 303);
    let mut second = Dash::new(&app);
    second.sign_in("shop", "adm@shop.example", PASSWORD).await;
    let r = second
        .post(
            &format!("/dashboard/settings/users/{own_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(r.status, 303);
    // Unknown operator, other tenant's operator: not found.
    operator(&app, "other", "x@other.example", Role::Viewer).await;
    let other = {
        use hc_store::OperatorStore;
        app.db
            .store
            .operator_by_email(&TenantId::parse("other").unwrap(), "x@other.example")
            .await
            .unwrap()
            .unwrap()
            .0
            .id
    };
    for id in ["op_nobody", other.as_str()] {
        let r = second
            .post(&format!("/dashboard/settings/users/{id}/disable"), &[])
            .await;
        assert_eq!(r.status, 404, "{id}");
    }
    app.finish().await;
}

#[tokio::test]
async fn brand_voice_and_policy_reach_the_agent_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "adm@shop.example", Role::Admin).await;
    let page = d.get("/dashboard/settings/agent").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("value=\"0.35\""),
        "the defaults are shown"
    );
    let before = app.get("/v1/settings", app.key(Role::Admin)).await.body;
    let evil = "<script>alert(1)</script>";
    let r = d
        .post(
            "/dashboard/settings/agent",
            &[
                ("brand", evil),
                ("tone", "formal"),
                ("greeting", &"g".repeat(301)),
                ("cancel_reasons", "fine\n<img src=x onerror=alert(1)>"),
                ("min_confidence", "1.5"),
                ("max_failures", "ten"),
                ("max_out_of_scope", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    for (id, says) in [
        ("brand-error", "HTML tags"),
        ("greeting-error", "300"),
        ("reasons-error", "HTML tags"),
        ("confidence-error", "0 to 1"),
        ("failures-error", "1 to 10"),
        ("scope-error", "1 to 10"),
    ] {
        let shown = text_of(&r.body, id).unwrap_or_else(|| panic!("{id}"));
        assert!(shown.contains(says), "{id}: {shown}");
    }
    assert!(!r.body.contains(evil) && !r.body.contains("<img src=x"));
    assert_eq!(
        app.get("/v1/settings", app.key(Role::Admin)).await.body,
        before,
        "nothing saved"
    );

    let r = d
        .post(
            "/dashboard/settings/agent",
            &[
                ("brand", "Acme Outdoor"),
                ("tone", "formal"),
                ("greeting", "Welcome to Acme Outdoor, how may I help?"),
                ("cancel_reasons", "changed my mind\nfound it cheaper"),
                ("min_confidence", "0.4"),
                ("max_failures", "5"),
                ("max_out_of_scope", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"done\""));
    let s = app.get("/v1/settings", app.key(Role::Admin)).await.body;
    assert_eq!(s["brand"], "Acme Outdoor");
    assert_eq!(s["tone"], "formal");
    assert_eq!(s["refund_to_gift_card"], false, "an unticked box");
    assert_eq!(
        s["cancel_reasons"],
        json!(["changed my mind", "found it cheaper"])
    );
    assert_eq!(s["escalation"]["max_failures"], 5);
    // The agent greets with it at once (the settings cache was dropped).
    let key = app.key(Role::Agent);
    let c = app.post("/v1/conversations", key, &json!({})).await;
    let id = c.body["id"].as_str().unwrap();
    let t = app
        .post(
            &format!("/v1/conversations/{id}/messages"),
            key,
            &json!({"text": "hello"}),
        )
        .await;
    assert_eq!(
        t.body["reply"]["text"], "Welcome to Acme Outdoor, how may I help?",
        "{}",
        t.body
    );
    app.finish().await;
}

#[tokio::test]
async fn the_llm_key_is_sealed_never_shown_and_kept_unless_replaced() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "adm@shop.example", Role::Admin).await;
    let t = TenantId::parse("shop").unwrap();
    let page = d.get("/dashboard/settings/llm").await;
    assert_eq!(text_of(&page.body, "llm-key").as_deref(), Some("not set"));
    for (fields, id) in [
        (
            vec![("provider", "skynet"), ("model", "m")],
            "provider-error",
        ),
        (
            vec![
                ("provider", "openai"),
                ("model", "m"),
                ("base_url", "javascript:alert(1)"),
            ],
            "base-error",
        ),
        (vec![("provider", "openai"), ("model", "")], "model-error"),
        (
            vec![("provider", "openai"), ("model", "<b>m</b>")],
            "model-error",
        ),
        (
            vec![
                ("provider", "openai"),
                ("model", "m"),
                ("api_key", "has spaces in it"),
            ],
            "key-error",
        ),
    ] {
        let r = d.post("/dashboard/settings/llm", &fields).await;
        assert_eq!(r.status, 400, "{fields:?}");
        assert!(text_of(&r.body, id).is_some(), "{id}: {}", r.body);
    }
    assert!(
        app.db.store.tenant_llm(&t).await.unwrap().is_none(),
        "nothing saved"
    );

    let key = "sk-test-secret-0123456789abcdef";
    let r = d
        .post(
            "/dashboard/settings/llm",
            &[
                ("provider", "anthropic"),
                ("base_url", "http://127.0.0.1:11434/v1"),
                ("model", "claude-x"),
                ("api_key", key),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains(key));
    assert_eq!(text_of(&r.body, "llm-key").as_deref(), Some("set"));
    let stored = app.db.store.tenant_llm(&t).await.unwrap().unwrap();
    assert_eq!(stored.api_key.as_deref(), Some(key));
    assert_eq!(stored.provider, "anthropic");
    // Sealed at rest: another secrets key cannot open it.
    let foreign = hc_store::SqlStore::open(&app.db.url, &Default::default())
        .await
        .unwrap()
        .with_secrets_key(hc_store::SecretsKey::generate());
    assert!(foreign.tenant_llm(&t).await.is_err());
    let plain = hc_store::SqlStore::open(&app.db.url, &Default::default())
        .await
        .unwrap();
    let raw = plain.tenant_llm(&t).await.unwrap().unwrap();
    assert!(
        raw.api_key.as_deref().unwrap().starts_with("enc:v1:"),
        "stored sealed"
    );
    assert!(!raw.api_key.unwrap().contains(key));
    foreign.close().await;
    plain.close().await;
    // Not in the audit log either.
    let audit = app.get("/v1/audit", app.key(Role::Owner)).await;
    assert!(!audit.body.to_string().contains(key));

    // An empty key field keeps the key; the box deletes it; "clear" forgets all.
    let r = d
        .post(
            "/dashboard/settings/llm",
            &[
                ("provider", "openai"),
                ("model", "gpt-4o-mini"),
                ("api_key", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    let stored = app.db.store.tenant_llm(&t).await.unwrap().unwrap();
    assert_eq!(
        (stored.model.as_str(), stored.api_key.as_deref()),
        ("gpt-4o-mini", Some(key))
    );
    let r = d
        .post(
            "/dashboard/settings/llm",
            &[
                ("provider", "openai"),
                ("model", "gpt-4o-mini"),
                ("remove_key", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(text_of(&r.body, "llm-key").as_deref(), Some("not set"));
    let r = d
        .post("/dashboard/settings/llm", &[("action", "clear")])
        .await;
    assert_eq!(r.status, 200);
    assert!(app.db.store.tenant_llm(&t).await.unwrap().is_none());
    // Another tenant's page knows nothing of it.
    let o = signed_in(&app, "other", "o@other.example", Role::Owner).await;
    assert_eq!(
        text_of(&o.get("/dashboard/settings/llm").await.body, "llm-own").as_deref(),
        Some("the server's (none set for this store)")
    );
    app.finish().await;
}

#[tokio::test]
async fn knowledge_articles_are_created_edited_and_deleted_per_tenant() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "adm@shop.example", Role::Admin).await;
    for (fields, id, says) in [
        (
            vec![("title", ""), ("body", "x")],
            "title-error",
            "required",
        ),
        (vec![("title", "T"), ("body", "")], "body-error", "required"),
        (
            vec![("title", "T"), ("body", "<script>alert(1)</script>")],
            "body-error",
            "HTML tags",
        ),
        (
            vec![("title", &*"t".repeat(201)), ("body", "x")],
            "title-error",
            "200",
        ),
        (
            vec![("title", "T"), ("body", &*"b".repeat(20_001))],
            "body-error",
            "20000",
        ),
        (
            vec![("title", "T"), ("tags", "ok, <i>no</i>"), ("body", "x")],
            "tags-error",
            "HTML tags",
        ),
    ] {
        let r = d.post("/dashboard/settings/knowledge", &fields).await;
        assert_eq!(r.status, 400, "{id}");
        let shown = text_of(&r.body, id).unwrap_or_else(|| panic!("{id}: {}", r.body));
        assert!(shown.contains(says), "{id}: {shown}");
        assert!(!r.body.contains("<script>alert"));
    }
    let list = app
        .get("/v1/knowledge/articles", app.key(Role::Viewer))
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        0,
        "nothing saved"
    );

    let r = d
        .post(
            "/dashboard/settings/knowledge",
            &[
                ("title", "Gift wrapping"),
                ("tags", "gifts, Wrapping"),
                ("body", "We wrap any order for five dollars at checkout."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location,
        "/dashboard/settings/knowledge/gift-wrapping?done=created"
    );
    let hits = app
        .get("/v1/knowledge/search?q=wrap%20order", app.key(Role::Viewer))
        .await;
    assert!(
        hits.body.to_string().contains("gift-wrapping"),
        "{}",
        hits.body
    );
    // The same title again: its address is taken.
    let r = d
        .post(
            "/dashboard/settings/knowledge",
            &[("title", "Gift wrapping"), ("body", "again")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(text_of(&r.body, "title-error").unwrap().contains("exists"));

    let page = d.get("/dashboard/settings/knowledge/gift-wrapping").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("five dollars"));
    let r = d
        .post(
            "/dashboard/settings/knowledge/gift-wrapping",
            &[
                ("title", "Gift wrapping"),
                ("tags", "gifts"),
                ("body", "Wrapping now costs three dollars."),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let a = app
        .get(
            "/v1/knowledge/articles/gift-wrapping",
            app.key(Role::Viewer),
        )
        .await;
    assert_eq!(
        a.body["body"], "Wrapping now costs three dollars.",
        "{}",
        a.body
    );

    // Another tenant neither sees nor changes it.
    let o = signed_in(&app, "other", "o@other.example", Role::Owner).await;
    assert!(
        !o.get("/dashboard/settings/knowledge")
            .await
            .body
            .contains("Gift wrapping")
    );
    assert_eq!(
        o.get("/dashboard/settings/knowledge/gift-wrapping")
            .await
            .status,
        404
    );
    for path in [
        "/dashboard/settings/knowledge/gift-wrapping",
        "/dashboard/settings/knowledge/gift-wrapping/delete",
    ] {
        let r = o.post(path, &[("title", "Mine"), ("body", "mine")]).await;
        assert_eq!(r.status, 404, "{path}");
    }

    let r = d
        .post("/dashboard/settings/knowledge/gift-wrapping/delete", &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        d.get("/dashboard/settings/knowledge/gift-wrapping")
            .await
            .status,
        404
    );
    let audit = app
        .get("/v1/audit", app.key(Role::Owner))
        .await
        .body
        .to_string();
    for action in ["article.create", "article.upsert", "article.delete"] {
        assert!(audit.contains(action), "{action}");
    }
    app.finish().await;
}

type Got = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;

/// A local webhook receiver that records each request and answers 200.
async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((headers, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn webhook_endpoints_get_signed_conversation_events_and_the_log_shows_them() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "adm@shop.example", Role::Admin).await;
    for (url, says) in [
        ("", "required"),
        ("ftp://h.example/x", "https://"),
        ("https://user:pw@h.example/x", "user name"),
        ("https://h.example/\"><script>", "no spaces"),
    ] {
        let r = d
            .post("/dashboard/settings/webhooks", &[("url", url)])
            .await;
        assert_eq!(r.status, 400, "{url}");
        assert!(
            text_of(&r.body, "url-error").unwrap().contains(says),
            "{url}"
        );
        assert!(!r.body.contains("\"><script>"));
    }
    let r = d
        .post(
            "/dashboard/settings/webhooks",
            &[("url", "https://h.example/x"), ("description", "<b>x</b>")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(text_of(&r.body, "description-error").is_some());
    let t = TenantId::parse("shop").unwrap();
    assert!(
        app.db
            .store
            .list_webhook_endpoints(&t)
            .await
            .unwrap()
            .is_empty()
    );

    let (url, got) = receiver().await;
    let r = d
        .post(
            "/dashboard/settings/webhooks",
            &[("url", &url), ("description", "ops room")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = text_of(&r.body, "new-secret").unwrap();
    assert!(secret.starts_with("whsec_"));
    let page = d.get("/dashboard/settings/webhooks").await;
    assert!(page.body.contains(&url) && page.body.contains("ops room"));
    assert!(!page.body.contains(&secret), "the secret is shown once");

    let conv = escalated(&app).await;
    let mut arrived = Vec::new();
    for _ in 0..200 {
        arrived = got.lock().unwrap().clone();
        if !arrived.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (headers, body) = arrived.first().expect("a webhook arrived");
    assert_eq!(headers["x-hc-event"], "conversation.escalated");
    assert_eq!(
        headers["x-hc-signature"],
        hc_server::outbox::webhook_signature(&secret, body.as_bytes()).as_str()
    );
    assert!(body.contains(&conv));
    // The log shows it delivered.
    let mut log = String::new();
    for _ in 0..100 {
        log = d.get("/dashboard/settings/webhooks").await.body;
        if log.contains(">delivered<") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        log.contains("conversation.escalated") && log.contains(">delivered<"),
        "{log}"
    );

    // Another tenant neither sees nor removes it.
    let o = signed_in(&app, "other", "o@other.example", Role::Owner).await;
    let theirs = o.get("/dashboard/settings/webhooks").await.body;
    assert!(!theirs.contains(&url) && !theirs.contains("conversation.escalated"));
    let id = app.db.store.list_webhook_endpoints(&t).await.unwrap()[0]
        .id
        .clone();
    let r = o
        .post(&format!("/dashboard/settings/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(r.status, 404);
    let r = d
        .post(&format!("/dashboard/settings/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert!(
        app.db
            .store
            .list_webhook_endpoints(&t)
            .await
            .unwrap()
            .is_empty()
    );
    app.finish().await;
}
