//! The dashboard in headless Chromium over WebDriver (chromedriver): sign
//! in, the overview's figures against the store, taking over an escalated
//! conversation and replying, approving a price change, creating and
//! revoking an API key, the customer, loyalty and agent screens, erasing a
//! customer, the phone's bottom bar, live updates over SSE, a keyboard walk,
//! a viewer who cannot change anything and a tenant who never sees another's
//! data.
//! Screenshots of every page at desktop and phone widths go to
//! `target/ci-artifacts/screenshots`.
//!
//! Needs `chromedriver` and `chromium` (Debian: `apt-get install chromium
//! chromium-driver`; `.ci/run` installs them). Without them the test fails
//! with that instruction; `HC_SKIP_BROWSER=1` opts out explicitly.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hc_domain::Role;
use serde_json::json;

use crate::dashboard::{PASSWORD, escalated, operator};
use crate::dashboard_screens::app_with_ledger;
use crate::helpers::TestApp;

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

fn chromedriver() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROMEDRIVER") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.is_file())
    })
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

fn screenshots_dir() -> PathBuf {
    let dir = std::env::var_os("HC_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/ci-artifacts/screenshots")
        });
    std::fs::create_dir_all(&dir).expect("create the screenshots folder");
    dir
}

/// A chromedriver child process on a free port, killed on drop.
struct Driver {
    child: std::process::Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver(path: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, port }
}

async fn browser(driver: &Driver, binary: &PathBuf) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless Chromium")
}

struct Ui {
    c: Client,
    base: String,
    shots: PathBuf,
}

impl Ui {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn source(&self) -> String {
        self.c.source().await.unwrap()
    }

    /// The text of the element, waiting up to 5 s for it to appear (a form
    /// post's answer may still be loading; an element of the page being left
    /// goes stale and is looked up again).
    async fn text(&self, css: &str) -> String {
        let mut last = None;
        for _ in 0..50 {
            // Found on the page being left, it may go stale: look again.
            match self.c.find(Locator::Css(css)).await {
                Ok(e) => match e.text().await {
                    Ok(t) => return t,
                    Err(err) => last = Some(err),
                },
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css}: {:?} on {}",
            last,
            self.c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default()
        );
    }

    async fn has(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.c.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// The current page at desktop and phone widths.
    async fn shoot(&self, name: &str) {
        self.shoot_as(&format!("{name}-desktop"), DESKTOP).await;
        self.shoot_as(&format!("{name}-phone"), PHONE).await;
        self.c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    }

    /// The current page at one size, as `name.png`.
    async fn shoot_as(&self, name: &str, (w, h): (u32, u32)) {
        self.c.set_window_size(w, h).await.unwrap();
        let png = self.c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn sign_in(&self, tenant: &str, email: &str) {
        self.c.delete_all_cookies().await.unwrap();
        self.go("/dashboard/login").await;
        self.fill("#tenant", tenant).await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.click("#sign-in").await;
        // The click returns before the form post's navigation ends.
        self.wait_for("the sign-in to leave the login page", async || {
            self.c
                .current_url()
                .await
                .is_ok_and(|u| u.path() != "/dashboard/login")
        })
        .await;
        let url = self.c.current_url().await.unwrap();
        assert_eq!(
            url.path(),
            "/dashboard",
            "signed in as {email}: {}",
            self.source().await
        );
    }

    /// One press of Tab, sent to whatever has focus (not to an element).
    async fn tab(&self) {
        let key: char = Key::Tab.into();
        let press = KeyActions::new("keyboard".to_string())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.c.perform_actions(press).await.unwrap();
    }

    /// Keyboard-only walk of the current page: Tab from the top reaches every
    /// visible, enabled control (links, buttons, fields) and each one shows
    /// a focus ring of at least 2 px when it has focus.
    async fn keyboard_walk(&self, page: &str) {
        let n = self
            .c
            .execute(
                "const els = [...document.querySelectorAll('a[href], button, input, select, \
                 textarea, summary, [tabindex]')].filter(e => e.tabIndex >= 0 && !e.disabled \
                 && e.type !== 'hidden' && e.checkVisibility()); \
                 els.forEach((e, i) => e.setAttribute('data-walk', String(i))); \
                 document.activeElement && document.activeElement.blur(); \
                 window.scrollTo(0, 0); return els.length;",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap() as usize;
        assert!(n > 0, "{page}: no controls");
        let mut seen = vec![false; n];
        // Date fields take several stops (day, month, year): room for them.
        for _ in 0..2 * n + 10 {
            self.tab().await;
            let f = self
                .c
                .execute(
                    "const e = document.activeElement; if (!e || e === document.body) return null; \
                     const s = getComputedStyle(e); return [e.getAttribute('data-walk'), \
                     s.outlineStyle, parseFloat(s.outlineWidth), e.tagName, \
                     e.id || (e.textContent || '').trim().slice(0, 40), e.matches(':focus'), \
                     e.matches(':focus-visible'), e.matches(':focus-within'), e.type || ''];",
                    vec![],
                )
                .await
                .unwrap();
            let Some(f) = f.as_array() else { continue };
            let what = format!("{page}: {} {}", f[3], f[4]);
            assert!(
                f[1] != "none" && f[2].as_f64().unwrap_or(0.0) >= 2.0,
                "{what} has no visible focus ring: {f:?}"
            );
            if let Some(i) = f[0].as_str().and_then(|i| i.parse::<usize>().ok()) {
                seen[i] = true;
            }
        }
        let missed: Vec<usize> = (0..n).filter(|i| !seen[*i]).collect();
        assert!(
            missed.is_empty(),
            "{page}: controls {missed:?} of {n} never got focus from Tab"
        );
    }

    async fn wait_for(&self, what: &str, mut check: impl AsyncFnMut() -> bool) {
        for _ in 0..50 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}");
    }
}

async fn pending_approval(app: &TestApp) -> String {
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
    out.body["changes"][0]["approval_id"]
        .as_i64()
        .expect("a queued change")
        .to_string()
}

const LLM_KEY: &str = "sk-browser-test-0123456789";

/// Every settings screen: shown, walked with the keyboard, photographed, and
/// changed from the browser (bad input answered next to the field first).
async fn settings_screens(ui: &Ui, app: &TestApp) {
    ui.go("/dashboard/settings").await;
    ui.shoot("settings").await;
    ui.keyboard_walk("settings").await;

    // Users: add an operator; the password is shown once.
    ui.go("/dashboard/settings/users").await;
    ui.fill("#user-email", "not an email").await;
    ui.click("#add-user").await;
    assert!(ui.text("#email-error").await.contains("email"));
    ui.fill("#user-email", "new.agent@shop.example").await;
    ui.click("#add-user").await;
    assert_eq!(ui.text("#new-password").await.len(), 24);
    assert!(ui.text("#users").await.contains("new.agent@shop.example"));
    ui.shoot("settings-users").await;
    ui.keyboard_walk("settings-users").await;

    // Brand voice and policy: a bad number gets its message, then a save
    // reaches the settings the agent reads.
    ui.go("/dashboard/settings/agent").await;
    ui.fill("#max-failures", "11").await;
    ui.fill("#brand", "Acme <b>Outdoor</b>").await;
    ui.click("#save-agent").await;
    assert!(ui.text("#failures-error").await.contains("1 to 10"));
    assert!(ui.text("#brand-error").await.contains("HTML"));
    // Shown back as typed, as text: no element was made of it.
    let typed = ui.c.find(Locator::Css("#brand")).await.unwrap();
    assert_eq!(
        typed.prop("value").await.unwrap().as_deref(),
        Some("Acme <b>Outdoor</b>")
    );
    assert!(
        !ui.has("main b").await,
        "markup from the form became an element"
    );
    ui.fill("#max-failures", "4").await;
    ui.fill("#brand", "Acme Outdoor").await;
    ui.click("#save-agent").await;
    assert!(ui.text("#done").await.contains("Saved"));
    let s = app.get("/v1/settings", app.key(Role::Admin)).await;
    assert_eq!(s.body["brand"], "Acme Outdoor", "{}", s.body);
    assert_eq!(s.body["escalation"]["max_failures"], 4);
    ui.shoot("settings-agent").await;
    ui.keyboard_walk("settings-agent").await;

    // LLM provider: the key is stored, never shown back.
    ui.go("/dashboard/settings/llm").await;
    ui.fill("#model", "gpt-4o-mini").await;
    ui.fill("#api-key", LLM_KEY).await;
    ui.click("#save-llm").await;
    assert_eq!(ui.text("#llm-key").await, "set");
    assert!(!ui.source().await.contains(LLM_KEY));
    ui.shoot("settings-llm").await;
    ui.keyboard_walk("settings-llm").await;

    // Knowledge base: create an article, see it listed.
    ui.go("/dashboard/settings/knowledge").await;
    ui.fill("#article-title", "Gift wrapping").await;
    ui.fill("#article-tags", "gifts, wrapping").await;
    ui.fill(
        "#article-body",
        "We wrap any order for $5. Choose it at checkout.",
    )
    .await;
    ui.click("#create-article").await;
    assert!(ui.text("#done").await.contains("Saved"));
    ui.shoot("settings-article").await;
    ui.keyboard_walk("settings-article").await;
    ui.go("/dashboard/settings/knowledge").await;
    assert!(ui.text("#articles").await.contains("Gift wrapping"));
    ui.shoot("settings-knowledge").await;
    ui.keyboard_walk("settings-knowledge").await;

    // Webhooks: add an endpoint; its secret is shown once.
    ui.go("/dashboard/settings/webhooks").await;
    ui.fill("#webhook-url", "http://127.0.0.1:9/hook").await;
    ui.fill("#webhook-description", "browser test").await;
    ui.click("#add-webhook").await;
    assert!(ui.text("#new-secret").await.starts_with("whsec_"));
    assert!(
        ui.text("#endpoints")
            .await
            .contains("http://127.0.0.1:9/hook")
    );
    ui.shoot("settings-webhooks").await;
    ui.keyboard_walk("settings-webhooks").await;
}

/// Points for the customer the browser erases, and a registered, deployed
/// agent with a measured reputation; returns the points.
async fn loyalty_and_agents(app: &TestApp) -> u64 {
    let earn = app
        .post(
            "/v1/loyalty/earn",
            app.key(Role::Agent),
            &json!({"customer_id": "zoe_muller_1", "points": 75, "idempotency_key": "order-1"}),
        )
        .await;
    assert_eq!(earn.status, 200, "{}", earn.body);
    let admin = app.key(Role::Admin).to_string();
    let config = json!({"persona": {"name": "Ava"}, "policy": {}, "model": "offline"});
    let r = app
        .post(
            "/v1/registry/agents",
            &admin,
            &json!({"agent_id": "ava-shop", "config": config}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            "/v1/registry/agents/ava-shop/reputation",
            &admin,
            &json!({"period_start": 1, "period_end": 2, "conversations": 100, "resolved": 80, "satisfaction": 0.9}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    75
}

/// Customers (search, a customer's page, erasure from the browser), loyalty
/// and agents: shown, walked with the keyboard and photographed.
async fn customer_screens(ui: &Ui, app: &TestApp, points: u64) {
    ui.go("/dashboard/customers").await;
    ui.fill("#c-q", "zoe").await;
    ui.c.find(Locator::Css("#c-q"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    ui.wait_for("the search result", async || {
        ui.has("#customer-list").await && ui.text("#customer-list").await.contains("zoe_muller_1")
    })
    .await;
    assert!(!ui.text("#customer-list").await.contains("sam_lee_2"));
    ui.shoot("customers").await;
    ui.keyboard_walk("customers").await;

    ui.go("/dashboard/customers/zoe_muller_1").await;
    assert_eq!(
        ui.text("#loyalty-balance").await,
        format!("{points} points")
    );
    ui.shoot("customer").await;
    ui.keyboard_walk("customer").await;
    // Erase: a wrong confirmation is answered next to the field and erases nothing.
    ui.fill("#erase-confirm", "sam_lee_2").await;
    ui.click("#erase-customer").await;
    assert!(
        ui.text("#confirm-error")
            .await
            .contains("not this customer")
    );
    let before = app
        .get("/v1/customers/zoe_muller_1", app.key(Role::Owner))
        .await;
    assert_eq!(
        before.body["email"], "Zoe.Muller@example.com",
        "{}",
        before.body
    );
    ui.fill("#erase-confirm", "zoe_muller_1").await;
    ui.click("#erase-customer").await;
    let done = ui.text("#done").await;
    assert!(
        done.contains(&format!("shredded ({points} points forfeited)")),
        "{done}"
    );
    assert!(ui.has("#no-loyalty").await);
    let after = app
        .get("/v1/customers/zoe_muller_1", app.key(Role::Owner))
        .await;
    let text = after.body.to_string();
    assert!(
        !text.contains("Zoe") && !text.contains("example.com"),
        "{text}"
    );
    let balance = app
        .get("/v1/loyalty/balance/zoe_muller_1", app.key(Role::Viewer))
        .await;
    assert_eq!(balance.body["balance"], 0, "{}", balance.body);
    // Another customer is untouched.
    let sam = app
        .get("/v1/customers/sam_lee_2", app.key(Role::Owner))
        .await;
    assert!(sam.body.to_string().contains("Sam"), "{}", sam.body);
    ui.shoot("customer-erased").await;

    ui.go("/dashboard/loyalty").await;
    assert!(ui.has("#checkpoint").await);
    ui.shoot("loyalty").await;
    ui.keyboard_walk("loyalty").await;
    ui.go("/dashboard/agents").await;
    assert!(ui.source().await.contains("ava-shop"));
    ui.shoot("agents").await;
    ui.keyboard_walk("agents").await;
}

/// At a phone's width the navigation is a bottom bar that fits the screen:
/// four sections and "More", which opens the rest, by keyboard too.
async fn phone_navigation(ui: &Ui) {
    ui.c.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    ui.go("/dashboard").await;
    let fit = ui
        .c
        .execute(
            "const n = document.querySelector('nav.tabs'); const r = n.getBoundingClientRect(); \
             const out = [...n.querySelectorAll('a, summary')].filter(e => e.checkVisibility()) \
             .filter(e => { const b = e.getBoundingClientRect(); return b.left < r.left - 0.5 || b.right > r.right + 0.5; }); \
             return [n.scrollWidth <= n.clientWidth + 1, out.length, r.bottom >= window.innerHeight - 1, \
             [...n.querySelectorAll('a')].filter(e => e.checkVisibility()).map(e => e.textContent)];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fit[0], true, "the bottom bar scrolls sideways: {fit}");
    assert_eq!(fit[1], 0, "a tab is cut off: {fit}");
    assert_eq!(fit[2], true, "the bar is not at the bottom: {fit}");
    assert_eq!(
        fit[3],
        json!(["Overview", "Live", "Conversations", "Inbox"]),
        "{fit}"
    );
    assert!(
        !ui.c
            .find(Locator::Css("#more-tabs a[href='/dashboard/settings']"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    ui.keyboard_walk("overview-phone").await;
    ui.click("#more-tabs summary").await;
    let settings =
        ui.c.find(Locator::Css("#more-tabs a[href='/dashboard/settings']"))
            .await
            .unwrap();
    assert!(settings.is_displayed().await.unwrap());
    ui.shoot_as("overview-phone-more", PHONE).await;
    settings.click().await.unwrap();
    ui.wait_for("the settings page", async || {
        ui.c.current_url()
            .await
            .is_ok_and(|u| u.path() == "/dashboard/settings")
    })
    .await;
    // Settings is under "More": the summary shows that the page is there.
    assert!(ui.has("#more-tabs summary.current").await);
    ui.c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    // At desktop width every section is a tab and "More" is gone.
    assert!(
        !ui.c
            .find(Locator::Css("#more-tabs"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_dashboard_works_in_a_real_browser() {
    let (Some(driver_path), Some(binary)) = (chromedriver(), chromium()) else {
        if std::env::var("HC_SKIP_BROWSER").is_ok_and(|v| v == "1") {
            eprintln!("HC_SKIP_BROWSER=1: the browser test was skipped on request");
            return;
        }
        panic!(
            "chromedriver or chromium not found: install them (Debian: apt-get install chromium \
             chromium-driver; .ci/run does) or set HC_SKIP_BROWSER=1 to skip explicitly"
        );
    };
    let (app, _ledger_dir) = app_with_ledger().await;
    let conv = escalated(&app).await;
    let erased_points = loyalty_and_agents(&app).await;
    let approval = pending_approval(&app).await;
    operator(&app, "shop", "owner@shop.example", Role::Owner).await;
    operator(&app, "shop", "viewer@shop.example", Role::Viewer).await;
    operator(&app, "other", "owner@other.example", Role::Owner).await;

    let driver = start_driver(&driver_path).await;
    let c = browser(&driver, &binary).await;
    // `localhost` is a secure context, so the Secure cookie is kept over http.
    let ui = Ui {
        c,
        base: app.base.replace("127.0.0.1", "localhost"),
        shots: screenshots_dir(),
    };

    ui.go("/dashboard/login").await;
    ui.shoot("sign-in").await;
    ui.keyboard_walk("sign-in").await;
    ui.go("/dashboard/login").await;
    // Keyboard: the first Tab reaches the skip link.
    ui.c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = ui.c.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Skip to content");

    ui.sign_in("shop", "owner@shop.example").await;
    // Overview against the store.
    let stats = app.get("/v1/stats", app.key(Role::Viewer)).await;
    let total = stats.body["conversations"].as_u64().unwrap();
    assert_eq!(ui.text("#today-conversations").await, total.to_string());
    assert_eq!(
        ui.text("#today-escalated").await,
        stats.body["escalated"].to_string()
    );
    assert_eq!(ui.text("#today-queued").await, "1");
    assert!(ui.has("figure.chart svg").await);
    ui.shoot("overview").await;

    // Keyboard walk of every page (more below): each control reachable, each focus visible.
    ui.go("/dashboard").await;
    ui.keyboard_walk("overview").await;

    // The inbox, the conversation, take over and reply.
    ui.go("/dashboard/inbox").await;
    assert!(ui.source().await.contains(&conv));
    ui.shoot("inbox").await;
    ui.keyboard_walk("inbox").await;
    ui.go("/dashboard/conversations").await;
    ui.shoot("conversations").await;
    ui.keyboard_walk("conversations").await;
    ui.go(&format!("/dashboard/conversations/{conv}")).await;
    ui.click("#take-over").await;
    assert!(ui.text("#assigned").await.contains("owner@shop.example"));
    ui.fill("#reply-text", "Hello Sam, a person here. Let me look.")
        .await;
    ui.click("#send-reply").await;
    assert_eq!(ui.text("#done").await, "Reply sent.");
    ui.shoot("conversation").await;
    ui.keyboard_walk("conversation").await;
    let t = app
        .get(&format!("/v1/conversations/{conv}"), app.key(Role::Viewer))
        .await;
    let last = t.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author"], "human");
    assert_eq!(last["text"], "Hello Sam, a person here. Let me look.");

    // Approve the price change.
    ui.go("/dashboard/pricing").await;
    ui.shoot("pricing").await;
    ui.keyboard_walk("pricing").await;
    ui.click(&format!("#approval-{approval}")).await;
    ui.click("#approve-selected").await;
    assert!(ui.text("#outcomes").await.contains("Approved 2000000001"));
    let q = app
        .get("/v1/pricing/approvals?status=all", app.key(Role::Viewer))
        .await;
    assert!(
        q.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"].as_i64() == approval.parse().ok() && a["status"] == "approved"),
        "{}",
        q.body
    );

    // Create an API key, use it, revoke it.
    ui.go("/dashboard/settings/keys").await;
    ui.fill("#key-label", "browser test").await;
    ui.click("#create-key").await;
    let secret = ui.text("#new-key").await;
    assert!(secret.starts_with("hc_"));
    assert_eq!(app.get("/v1/stats", &secret).await.status, 200);
    ui.shoot("keys").await;
    ui.keyboard_walk("keys").await;
    ui.go("/dashboard/settings/keys").await;
    ui.click("button[aria-label='Revoke key browser test']")
        .await;
    assert!(ui.text("#done").await.contains("Key revoked"));
    assert_eq!(app.get("/v1/stats", &secret).await.status, 401);

    settings_screens(&ui, &app).await;
    customer_screens(&ui, &app, erased_points).await;
    phone_navigation(&ui).await;

    // Live activity arrives without a reload.
    ui.go("/dashboard/live").await;
    ui.wait_for("the live connection", async || {
        ui.text("#live-status").await.starts_with("Live")
    })
    .await;
    let second = escalated(&app).await;
    ui.wait_for("a live event", async || {
        ui.text("#live-events").await.contains(&second)
    })
    .await;
    let view = json!([{"event_id": "browser-live-1", "type": "product_view",
        "timestamp_ms": hc_domain::now_ms(), "session_id": "browser-session",
        "item_id": "2000000001", "page_type": "product"}]);
    let r = app.post("/v1/events", app.key(Role::Agent), &view).await;
    assert_eq!(r.status, 202, "{}", r.body);
    ui.wait_for("a live shopper event", async || {
        ui.text("#live-events")
            .await
            .contains("product_view · session browser-session · item 2000000001")
    })
    .await;
    ui.shoot("live").await;
    ui.keyboard_walk("live").await;

    // A viewer sees but has nothing to press, and cannot open the keys.
    ui.sign_in("shop", "viewer@shop.example").await;
    ui.go(&format!("/dashboard/conversations/{second}")).await;
    assert!(!ui.has("#send-reply").await && !ui.has("#take-over").await);
    ui.go("/dashboard/pricing").await;
    assert!(!ui.has("#approve-selected").await);
    ui.go("/dashboard/settings/keys").await;
    assert!(ui.text("#error-message").await.contains("admin role"));
    ui.go("/dashboard/customers/sam_lee_2").await;
    assert!(ui.text("#customer-id").await.contains("sam_lee_2"));
    assert!(!ui.has("#erase-customer").await && !ui.has("#export-customer").await);
    for page in ["users", "agent", "llm", "knowledge", "webhooks"] {
        ui.go(&format!("/dashboard/settings/{page}")).await;
        assert!(ui.has("#read-only").await, "{page}");
        let buttons = ui.c.find_all(Locator::Css("main button")).await.unwrap();
        assert!(buttons.is_empty(), "{page}: a viewer has a button to press");
    }
    ui.go("/dashboard/settings/llm").await;
    assert!(!ui.source().await.contains(LLM_KEY));

    // Another tenant never sees this one's conversations.
    ui.sign_in("other", "owner@other.example").await;
    assert_eq!(ui.text("#today-conversations").await, "0");
    ui.go("/dashboard/conversations").await;
    let list = ui.source().await;
    assert!(!list.contains(&conv) && !list.contains(&second));
    ui.go(&format!("/dashboard/conversations/{conv}")).await;
    assert!(ui.text("#error-message").await.contains("not found"));
    ui.go("/dashboard/inbox").await;
    assert!(!ui.source().await.contains(&conv));
    ui.go("/dashboard/customers/sam_lee_2").await;
    assert_eq!(ui.text("#error-message").await, "No such customer.");
    ui.go("/dashboard/agents").await;
    assert!(!ui.source().await.contains("ava-shop"));
    // Nor its operators, articles, webhooks or LLM key.
    for (page, theirs) in [
        ("users", "owner@shop.example"),
        ("knowledge", "Gift wrapping"),
        ("webhooks", "127.0.0.1:9/hook"),
        ("agent", "Acme Outdoor"),
    ] {
        ui.go(&format!("/dashboard/settings/{page}")).await;
        assert!(!ui.source().await.contains(theirs), "{page} shows {theirs}");
    }
    ui.go("/dashboard/settings/llm").await;
    assert_eq!(ui.text("#llm-key").await, "not set");

    ui.c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}
