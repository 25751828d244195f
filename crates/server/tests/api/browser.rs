//! The dashboard in headless Chromium over WebDriver (chromedriver): sign
//! in, the overview's figures against the store, taking over an escalated
//! conversation and replying, approving a price change, creating and
//! revoking an API key, live updates over SSE, a keyboard walk, a viewer who
//! cannot change anything and a tenant who never sees another's data.
//! Screenshots of every page at desktop and phone widths go to
//! `target/ci-artifacts/screenshots`.
//!
//! Needs `chromedriver` and `chromium` (Debian: `apt-get install chromium
//! chromium-driver`; `.ci/run` installs them). Without them the test fails
//! with that instruction; `HC_SKIP_BROWSER=1` opts out explicitly.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hc_domain::Role;
use serde_json::json;

use crate::dashboard::{PASSWORD, escalated, operator};
use crate::helpers::{TestApp, spawn_app};

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
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
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

    async fn text(&self, css: &str) -> String {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
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
        for (label, (w, h)) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.c.set_window_size(w, h).await.unwrap();
            let png = self.c.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
            std::fs::write(self.shots.join(format!("{name}-{label}.png")), png).unwrap();
        }
        self.c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    }

    async fn sign_in(&self, tenant: &str, email: &str) {
        self.c.delete_all_cookies().await.unwrap();
        self.go("/dashboard/login").await;
        self.fill("#tenant", tenant).await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.click("#sign-in").await;
        let url = self.c.current_url().await.unwrap();
        assert_eq!(url.path(), "/dashboard", "signed in as {email}: {}", self.source().await);
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
        .post("/v1/pricing/reprice", manager, &json!({"item_ids": ["2000000001"]}))
        .await;
    out.body["changes"][0]["approval_id"]
        .as_i64()
        .expect("a queued change")
        .to_string()
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
    let app = spawn_app().await;
    let conv = escalated(&app).await;
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

    // Keyboard walk of the overview: Tab moves through the controls in order
    // and every stop is a link, button or form field.
    ui.go("/dashboard").await;
    let body = ui.c.find(Locator::Css("body")).await.unwrap();
    for _ in 0..12 {
        body.send_keys("\u{E004}").await.unwrap();
        let e = ui.c.active_element().await.unwrap();
        let tag = e.tag_name().await.unwrap().to_lowercase();
        assert!(
            ["a", "button", "input", "select", "textarea", "summary"].contains(&tag.as_str()),
            "focus on a {tag}"
        );
    }

    // The inbox, the conversation, take over and reply.
    ui.go("/dashboard/inbox").await;
    assert!(ui.source().await.contains(&conv));
    ui.shoot("inbox").await;
    ui.go("/dashboard/conversations").await;
    ui.shoot("conversations").await;
    ui.go(&format!("/dashboard/conversations/{conv}")).await;
    ui.click("#take-over").await;
    assert!(ui.text("#assigned").await.contains("owner@shop.example"));
    ui.fill("#reply-text", "Hello Sam, a person here. Let me look.").await;
    ui.click("#send-reply").await;
    assert_eq!(ui.text("#done").await, "Reply sent.");
    ui.shoot("conversation").await;
    let t = app
        .get(&format!("/v1/conversations/{conv}"), app.key(Role::Viewer))
        .await;
    let last = t.body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author"], "human");
    assert_eq!(last["text"], "Hello Sam, a person here. Let me look.");

    // Approve the price change.
    ui.go("/dashboard/pricing").await;
    ui.shoot("pricing").await;
    ui.click(&format!("#approval-{approval}")).await;
    ui.click("#approve-selected").await;
    assert!(ui.text("#outcomes").await.contains("Approved 2000000001"));
    let q = app
        .get("/v1/pricing/approvals", app.key(Role::Viewer))
        .await;
    assert!(
        q.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"].to_string() == approval && a["status"] == "approved"),
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
    ui.go("/dashboard/settings/keys").await;
    ui.click("button[aria-label='Revoke key browser test']").await;
    assert!(ui.text("#done").await.contains("Key revoked"));
    assert_eq!(app.get("/v1/stats", &secret).await.status, 401);

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
    ui.shoot("live").await;

    // A viewer sees but has nothing to press, and cannot open the keys.
    ui.sign_in("shop", "viewer@shop.example").await;
    ui.go(&format!("/dashboard/conversations/{second}")).await;
    assert!(!ui.has("#send-reply").await && !ui.has("#take-over").await);
    ui.go("/dashboard/pricing").await;
    assert!(!ui.has("#approve-selected").await);
    ui.go("/dashboard/settings/keys").await;
    assert!(ui.text("#error-message").await.contains("admin role"));

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

    ui.c.close().await.unwrap();
    drop(driver);
    app.finish().await;
}
