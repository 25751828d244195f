//! The operator dashboard over HTTP without a browser: sign-in, sessions,
//! CSRF, roles, tenants, bad form input, and the screens' figures and
//! actions against the store.

use hc_domain::{Role, TenantId};
use hc_server::dashboard::{hash_password, new_operator};
use hc_store::OperatorStore;
use serde_json::json;

use crate::helpers::{TestApp, config, spawn_app, spawn_app_with};

pub const PASSWORD: &str = "a long test password";

/// Creates an operator of `tenant` with [`PASSWORD`].
pub async fn operator(app: &TestApp, tenant: &str, email: &str, role: Role) {
    let t = TenantId::parse(tenant).unwrap();
    let op = new_operator(&t, email, role).unwrap();
    let audit = hc_domain::AuditRecord {
        tenant_id: t.clone(),
        actor: "test".into(),
        action: "operator.create".into(),
        target: format!("operator:{}", op.id),
        at_ms: 1,
        detail: json!({}),
    };
    app.db
        .store
        .insert_operator(&op, &hash_password(PASSWORD).unwrap(), &audit)
        .await
        .unwrap();
}

/// A browser-like client: keeps the session cookie, follows no redirects.
pub struct Dash {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: String,
    pub csrf: String,
}

pub struct Page {
    pub status: u16,
    pub location: String,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

fn set_cookie(h: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    h.get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?;
            let (k, val) = first.split_once('=')?;
            (k == name).then(|| val.to_string())
        })
}

fn encode(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The `value` of the hidden input `name` in a page.
pub fn hidden(body: &str, name: &str) -> Option<String> {
    let at = body.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &body[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Dash {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: String::new(),
            csrf: String::new(),
        }
    }

    async fn page(&self, r: reqwest::RequestBuilder) -> Page {
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Page {
            status,
            location,
            body: r.text().await.unwrap(),
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.page(
            self.http
                .get(format!("{}{path}", self.base))
                .header("cookie", format!("hc_session={}", self.cookie)),
        )
        .await
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.page(
            self.http
                .post(format!("{}{path}", self.base))
                .header("cookie", format!("hc_session={}", self.cookie))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(fields)),
        )
        .await
    }

    /// Signs in; returns the response to the sign-in form.
    pub async fn sign_in(&mut self, tenant: &str, email: &str, password: &str) -> Page {
        let form = self.get("/dashboard/login").await;
        let login_cookie = set_cookie(&form.headers, "hc_login").unwrap();
        let token = hidden(&form.body, "_login").unwrap();
        let r = self
            .page(
                self.http
                    .post(format!("{}/dashboard/login", self.base))
                    .header("cookie", format!("hc_login={login_cookie}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(encode(&[
                        ("_login", token.as_str()),
                        ("tenant", tenant),
                        ("email", email),
                        ("password", password),
                    ])),
            )
            .await;
        if let Some(c) = set_cookie(&r.headers, "hc_session").filter(|c| !c.is_empty()) {
            self.cookie = c;
            let home = self.get("/dashboard/conversations").await;
            self.csrf = hidden(&home.body, "_csrf").unwrap_or_default();
            // A session that expires at once (the expiry test) has no page to read.
            if home.status == 200 {
                assert!(!self.csrf.is_empty(), "{}", home.body);
            }
        }
        r
    }
}

pub async fn signed_in(app: &TestApp, tenant: &str, email: &str, role: Role) -> Dash {
    operator(app, tenant, email, role).await;
    let mut d = Dash::new(app);
    let r = d.sign_in(tenant, email, PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!d.csrf.is_empty());
    d
}

/// An escalated conversation of tenant `shop`; returns its id.
pub async fn escalated(app: &TestApp) -> String {
    let key = app.key(Role::Agent);
    let c = app.post("/v1/conversations", key, &json!({})).await;
    let id = c.body["id"].as_str().unwrap().to_string();
    let path = format!("/v1/conversations/{id}/messages");
    app.post(&path, key, &json!({"text": "my email is sam@example.com"}))
        .await;
    let t = app
        .post(
            &path,
            key,
            &json!({"text": "I want to talk to a real person"}),
        )
        .await;
    assert_eq!(t.body["status"], "escalated", "{}", t.body);
    id
}

#[tokio::test]
async fn a_wrong_password_signs_nobody_in_and_the_right_one_does() {
    let app = spawn_app().await;
    operator(&app, "shop", "ada@shop.example", Role::Owner).await;
    let mut d = Dash::new(&app);
    let r = d
        .sign_in("shop", "ada@shop.example", "not the password")
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong store, email or password."));
    assert!(set_cookie(&r.headers, "hc_session").is_none());
    // Unknown email and wrong tenant: the same answer.
    let r = d.sign_in("shop", "nobody@shop.example", PASSWORD).await;
    assert_eq!(r.status, 401);
    let r = d.sign_in("other", "ada@shop.example", PASSWORD).await;
    assert_eq!(r.status, 401);
    let r = d.get("/dashboard").await;
    assert_eq!(r.status, 303, "{}", r.body);

    let r = d.sign_in("shop", "ADA@shop.example ", PASSWORD).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location, "/dashboard");
    let cookie = r
        .headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("hc_session="))
        .unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let home = d.get("/dashboard").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("ada@shop.example"));
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(!home.body.contains("<style") && !home.body.contains("style=\""));
    assert!(!home.body.contains("<script>"));

    // Signing out ends the session on the server.
    let r = d.post("/dashboard/logout", &[]).await;
    assert_eq!(r.status, 303, "csrf {:?}: {}", d.csrf, r.body);
    assert_eq!(d.get("/dashboard").await.status, 303);
    app.finish().await;
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_per_account() {
    let app = spawn_app().await;
    operator(&app, "shop", "ada@shop.example", Role::Owner).await;
    let mut d = Dash::new(&app);
    for _ in 0..5 {
        assert_eq!(
            d.sign_in("shop", "ada@shop.example", "wrong").await.status,
            401
        );
    }
    let r = d.sign_in("shop", "ada@shop.example", PASSWORD).await;
    assert_eq!(r.status, 429, "even the right password waits");
    assert!(r.body.contains("Too many sign-in attempts"));
    app.finish().await;
}

#[tokio::test]
async fn a_csrf_mismatch_sends_to_sign_in_and_changes_nothing() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "ada@shop.example", Role::Owner).await;
    let before = d
        .get("/dashboard/settings/keys")
        .await
        .body
        .matches("<tr id=\"key-")
        .count();
    for csrf in ["", "forged"] {
        let r = d
            .post_raw(
                "/dashboard/settings/keys",
                &[("_csrf", csrf), ("label", "sneaky"), ("role", "owner")],
            )
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(r.location, "/dashboard/login?reason=csrf");
    }
    let after = d.get("/dashboard/settings/keys").await;
    assert_eq!(after.body.matches("<tr id=\"key-").count(), before);
    assert!(!after.body.contains("sneaky"));
    // With the token, it works.
    let r = d
        .post(
            "/dashboard/settings/keys",
            &[("label", "ci"), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("id=\"new-key\">hc_"));
    app.finish().await;
}

#[tokio::test]
async fn an_expired_session_sends_to_sign_in_and_changes_nothing() {
    let mut cfg = config();
    cfg.dashboard.session_idle_minutes = 0;
    let app = spawn_app_with(
        hc_store::testing::sqlite().await,
        cfg,
        crate::helpers::MINI_DB,
    )
    .await;
    let id = escalated(&app).await;
    operator(&app, "shop", "ada@shop.example", Role::Owner).await;
    let mut d = Dash::new(&app);
    assert_eq!(
        d.sign_in("shop", "ada@shop.example", PASSWORD).await.status,
        303
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = d
        .post_raw(
            &format!("/dashboard/conversations/{id}/note"),
            &[("_csrf", "whatever"), ("text", "should not be stored")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location, "/dashboard/login?reason=expired");
    let r = d.get("/dashboard").await;
    assert_eq!(r.status, 303);
    assert!(r.location.starts_with("/dashboard/login"));
    let notes = hc_store::DashboardStore::notes(
        &app.db.store,
        &TenantId::parse("shop").unwrap(),
        &hc_domain::ConversationId::parse(id).unwrap(),
    )
    .await
    .unwrap();
    assert!(notes.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_viewer_sees_but_changes_nothing() {
    let app = spawn_app().await;
    let id = escalated(&app).await;
    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    let page = d.get(&format!("/dashboard/conversations/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("real person"));
    assert!(
        !page.body.contains("id=\"send-reply\""),
        "no action forms for a viewer"
    );
    for action in ["take-over", "reply", "note", "hand-back", "resolve"] {
        let r = d
            .post(
                &format!("/dashboard/conversations/{id}/{action}"),
                &[("text", "hello from a viewer")],
            )
            .await;
        assert_eq!(r.status, 403, "{action}");
    }
    assert_eq!(d.get("/dashboard/settings/keys").await.status, 403);
    let r = d
        .post(
            "/dashboard/settings/keys",
            &[("label", "x"), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = d
        .post(
            "/dashboard/pricing/approvals",
            &[("decision", "approve"), ("id", "1")],
        )
        .await;
    assert_eq!(r.status, 403);
    let t = app
        .get(&format!("/v1/conversations/{id}"), app.key(Role::Viewer))
        .await;
    assert_eq!(t.body["status"], "escalated");
    assert!(!t.body.to_string().contains("hello from a viewer"));
    app.finish().await;
}

#[tokio::test]
async fn another_tenants_conversations_never_appear() {
    let app = spawn_app().await;
    let id = escalated(&app).await;
    let d = signed_in(&app, "other", "olga@other.example", Role::Owner).await;
    assert_eq!(
        d.get(&format!("/dashboard/conversations/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        d.get(&format!("/dashboard/conversations/{id}/export.json"))
            .await
            .status,
        404
    );
    let r = d
        .post(
            &format!("/dashboard/conversations/{id}/reply"),
            &[("text", "hi")],
        )
        .await;
    assert_eq!(r.status, 404);
    for path in [
        "/dashboard/conversations",
        "/dashboard/inbox",
        "/dashboard/live",
        "/dashboard",
    ] {
        let p = d.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(
            !p.body.contains(&id),
            "{path} shows another tenant's conversation"
        );
    }
    let home = d.get("/dashboard").await;
    assert!(
        home.body.contains("id=\"today-conversations\">0<"),
        "{}",
        home.body
    );
    app.finish().await;
}

#[tokio::test]
async fn script_laden_input_is_refused_next_to_the_field_and_escaped() {
    let app = spawn_app().await;
    let id = escalated(&app).await;
    let d = signed_in(&app, "shop", "ada@shop.example", Role::Owner).await;
    let evil = "<script>alert(1)</script>";
    let r = d
        .post(
            "/dashboard/settings/keys",
            &[("label", evil), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("id=\"label-error\">HTML tags are not allowed"),
        "{}",
        r.body
    );
    // askama escapes `<` as `&#60;`; either form is escaped output.
    assert!(r.body.contains("&lt;script&gt;") || r.body.contains("&#60;script&#62;"));
    assert!(!r.body.contains(evil));
    let keys = app.get("/v1/keys", app.key(Role::Owner)).await;
    assert!(!keys.body.to_string().contains("alert"));

    let r = d
        .post(
            &format!("/dashboard/conversations/{id}/reply"),
            &[("text", evil)],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("id=\"reply-error\">HTML tags are not allowed")
    );
    assert!(!r.body.contains(evil));
    let r = d
        .post(
            &format!("/dashboard/conversations/{id}/note"),
            &[("text", "")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"note-error\">This field is required."));
    let r = d
        .post(
            &format!("/dashboard/conversations/{id}/note"),
            &[("text", &"x".repeat(4001))],
        )
        .await;
    assert!(r.body.contains("At most 4000 characters."));
    // Nothing stored; a role above the operator's is refused too.
    let t = app
        .get(&format!("/v1/conversations/{id}"), app.key(Role::Viewer))
        .await;
    assert!(!t.body.to_string().contains("alert(1)"));
    let r = d
        .get("/dashboard/conversations?rating=nine&from=someday")
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("id=\"rating-error\">A rating is a whole number from 1 to 5.")
    );
    assert!(r.body.contains("id=\"from-error\">Use a date like"));

    // A customer's script-laden message is shown as text.
    let key = app.key(Role::Agent);
    let c = app.post("/v1/conversations", key, &json!({})).await;
    let cid = c.body["id"].as_str().unwrap();
    app.post(
        &format!("/v1/conversations/{cid}/messages"),
        key,
        &json!({"text": "<img src=x onerror=alert(1)> hello"}),
    )
    .await;
    let p = d.get(&format!("/dashboard/conversations/{cid}")).await;
    assert!(
        p.body.contains("&lt;img src=x onerror=alert(1)&gt; hello")
            || p.body
                .contains("&#60;img src=x onerror=alert(1)&#62; hello"),
        "{}",
        p.body
    );
    assert!(!p.body.contains("<img src=x"));
    app.finish().await;
}

#[tokio::test]
async fn an_agent_takes_over_replies_notes_and_hands_back() {
    let app = spawn_app().await;
    let id = escalated(&app).await;
    let d = signed_in(&app, "shop", "aga@shop.example", Role::Agent).await;
    let inbox = d.get("/dashboard/inbox").await;
    assert!(inbox.body.contains(&id) && inbox.body.contains("nobody yet"));
    let base = format!("/dashboard/conversations/{id}");
    let r = d.post(&format!("{base}/take-over"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location, format!("{base}?done=take-over"));
    assert!(
        d.get("/dashboard/inbox")
            .await
            .body
            .contains("aga@shop.example")
    );
    let r = d
        .post(&format!("{base}/reply"), &[("text", "Hi Sam, I'm on it.")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = d
        .post(&format!("{base}/note"), &[("text", "VIP, be generous")])
        .await;
    assert_eq!(r.status, 303);
    let t = app
        .get(&format!("/v1/conversations/{id}"), app.key(Role::Viewer))
        .await;
    let messages = t.body["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["author"], "human");
    assert_eq!(last["text"], "Hi Sam, I'm on it.");
    assert!(!t.body.to_string().contains("VIP"), "notes stay private");
    let page = d.get(&base).await;
    assert!(page.body.contains("VIP, be generous"));
    let r = d.post(&format!("{base}/hand-back"), &[]).await;
    assert_eq!(r.status, 303);
    let t = app
        .get(&format!("/v1/conversations/{id}"), app.key(Role::Viewer))
        .await;
    assert_eq!(t.body["status"], "open");
    // Handing back twice: a message, nothing changes.
    let r = d.post(&format!("{base}/hand-back"), &[]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"action-error\""));

    let csv = d.get(&format!("{base}/export.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body
            .starts_with("seq,at_utc,author,text,intent,confidence,tool_calls")
    );
    assert!(csv.body.contains("Hi Sam, I'm on it."));
    let json = d.get(&format!("{base}/export.json")).await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["conversation"]["id"], id.as_str());
    assert_eq!(v["notes"][0]["text"], "VIP, be generous");
    app.finish().await;
}

#[tokio::test]
async fn the_overview_counts_what_the_store_holds() {
    let app = spawn_app().await;
    escalated(&app).await;
    escalated(&app).await;
    let key = app.key(Role::Agent);
    let c = app.post("/v1/conversations", key, &json!({})).await;
    let open_id = c.body["id"].as_str().unwrap().to_string();
    let closed = app
        .post(
            &format!("/v1/conversations/{open_id}/close"),
            key,
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    let home = d.get("/dashboard").await;
    assert_eq!(home.status, 200);
    let stats = app.get("/v1/stats", app.key(Role::Viewer)).await;
    assert_eq!(stats.body["conversations"], 3);
    let shows = |id: &str, v: &str| home.body.contains(&format!("id=\"{id}\">{v}<"));
    assert!(shows("today-conversations", "3"), "{}", home.body);
    assert!(shows("today-escalated", "2"));
    assert!(shows("today-queued", "2"));
    // 1 resolved by AI of 3 decided.
    assert!(shows("today-ai-rate", "33.3%"));
    assert!(shows("today-saved", "$6.00"));
    assert!(home.body.contains("<svg"));
    assert!(home.body.contains("Top escalation reasons"));
    let r = d.get("/dashboard?from=2025-02-30&channel=fax").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"channel-error\""));
    let sms = d.get("/dashboard?channel=sms").await;
    assert!(sms.body.contains("id=\"today-conversations\">0<"));
    app.finish().await;
}

#[tokio::test]
async fn a_manager_approves_price_changes_in_bulk() {
    let app = spawn_app().await;
    let manager = app.key(Role::Manager);
    let rules = json!({"cost": 20, "min_price": 40, "max_price": 45, "mode": "approve"});
    let r = app
        .put("/v1/pricing/items/2000000001/rules", manager, &rules)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let out = app
        .post(
            "/v1/pricing/reprice",
            manager,
            &json!({"item_ids": ["2000000001"]}),
        )
        .await;
    let id = out.body["changes"][0]["approval_id"]
        .as_i64()
        .unwrap()
        .to_string();
    let d = signed_in(&app, "shop", "max@shop.example", Role::Manager).await;
    let page = d.get("/dashboard/pricing").await;
    assert!(page.body.contains(&format!("id=\"approval-{id}\"")));
    let r = d
        .post("/dashboard/pricing/approvals", &[("decision", "approve")])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Select at least one price change."));
    let r = d
        .post(
            "/dashboard/pricing/approvals",
            &[("decision", "approve"), ("id", &id), ("id", "999999")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Approved 2000000001"), "{}", r.body);
    assert!(r.body.contains("approval not found"));
    let q = app.get("/v1/pricing/approvals?status=all", manager).await;
    let status = q.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"].as_i64() == id.parse::<i64>().ok())
        .unwrap()["status"]
        .clone();
    assert_eq!(status, "approved");
    app.finish().await;
}

#[tokio::test]
async fn api_keys_are_created_once_revoked_and_show_last_use() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "ada@shop.example", Role::Admin).await;
    let r = d
        .post(
            "/dashboard/settings/keys",
            &[("label", "owner key"), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status, 400, "an admin cannot mint an owner key");
    let r = d
        .post(
            "/dashboard/settings/keys",
            &[("label", "ci bot"), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status, 201);
    let at = r.body.find("id=\"new-key\">").unwrap() + 13;
    let secret = r.body[at..at + r.body[at..].find('<').unwrap()].to_string();
    assert_eq!(app.get("/v1/stats", &secret).await.status, 200);
    // The use is recorded in the background.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let page = d.get("/dashboard/settings/keys").await;
    assert!(
        !page.body.contains(&secret),
        "the secret is shown only once"
    );
    let row_at = page.body.find("ci bot").unwrap();
    let row = &page.body[page.body[..row_at].rfind("<tr").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(!row.contains("never"), "last use recorded: {row}");
    let key_id = row["<tr id=\"key-".len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = d
        .post(&format!("/dashboard/settings/keys/{key_id}/revoke"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(app.get("/v1/stats", &secret).await.status, 401);
    app.finish().await;
}

/// Reads the SSE body until an event of `kind` whose data contains `needle`
/// arrives (or 10 s pass); returns every `kind` event's data seen.
async fn sse_until<B: AsRef<[u8]>>(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    kind: &str,
    needle: &str,
) -> Vec<String> {
    use futures_util::StreamExt as _;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen: Vec<String> = text
            .split("\n\n")
            .filter(|b| b.contains(&format!("event: {kind}")))
            .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("data: ")))
            .map(str::to_string)
            .collect();
        if seen.iter().any(|d| d.contains(needle)) {
            return seen;
        }
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event with {needle}; got {text}"))
            .expect("the stream stays open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
}

#[tokio::test]
async fn shopper_events_reach_the_live_page_of_their_store_only() {
    let app = spawn_app().await;
    let d = signed_in(&app, "shop", "live@shop.example", Role::Viewer).await;
    let r = d
        .http
        .get(format!("{}/dashboard/live/events", d.base))
        .header("cookie", format!("hc_session={}", d.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = r.bytes_stream();
    // The stream is open once the first byte (a comment or event) could be
    // sent; give the subscription a moment before the events are posted.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let now = hc_domain::now_ms();
    // Another store's event first: it must never show here.
    let theirs = json!([{"event_id": "o1", "type": "product_view", "timestamp_ms": now,
        "session_id": "their-session", "product_id": "1000000001", "page_type": "product"}]);
    let r = app.post("/v1/events", &app.other_key, &theirs).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let ours: Vec<serde_json::Value> = (0..25)
        .map(|i| {
            json!({"event_id": format!("l{i}"), "type": "product_view", "timestamp_ms": now,
                   "session_id": "live-session", "customer_id": "zoe_muller_1",
                   "item_id": "2000000001", "page_type": "product"})
        })
        .collect();
    let r = app
        .post("/v1/events", app.key(Role::Agent), &json!(ours))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let seen = sse_until(&mut body, "shopper", "live-session").await;
    assert!(
        seen.iter().all(|d| !d.contains("their-session")),
        "{seen:?}"
    );
    let batch: serde_json::Value = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(batch["total"], 25);
    assert_eq!(batch["source"], "api");
    let events = batch["events"].as_array().unwrap();
    assert_eq!(events.len(), 20, "at most 20 shown per batch");
    assert_eq!(events[0]["type"], "product_view");
    assert_eq!(events[0]["item_id"], "2000000001");
    assert_eq!(events[0]["customer_id"], "zoe_muller_1");
    app.finish().await;
}
