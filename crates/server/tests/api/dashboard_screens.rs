//! The dashboard's customers, pricing, loyalty and agents screens over HTTP:
//! real content from the store and the ledger, roles (a viewer sees and
//! changes nothing), tenants (another tenant's data never appears), GDPR
//! export and erasure checked through the API afterwards, and rule edits
//! refused next to the field with nothing stored.

use std::sync::Arc;

use hc_agent::ports::MemoryStore;
use hc_domain::{CustomerFact, FactKind, Role, TenantId, UserId};
use hc_ledger::{Ledger, LogOptions, NoteSigner};
use serde_json::{Value, json};

use crate::dashboard::{escalated, signed_in};
use crate::helpers::{TestApp, spawn_app, spawn_app_with_ledger};

/// The fixture app with a ledger (loyalty and the agent registry on).
pub(crate) async fn app_with_ledger() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed("shop.test/ledger", [3; 32]).unwrap();
    let (ledger, _) = Ledger::open(
        dir.path(),
        "shop.test/ledger",
        vec![signer],
        LogOptions::default(),
    )
    .unwrap();
    (spawn_app_with_ledger(Arc::new(ledger)).await, dir)
}

/// Undoes askama's escaping (either entity form) for comparing text.
fn unescape(html: &str) -> String {
    html.replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#43;", "+")
        .replace("&#61;", "=")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

async fn remember(app: &TestApp, user: &str, value: &str) {
    let fact = CustomerFact::new(
        UserId::parse(user).unwrap(),
        FactKind::Preference,
        "refunds",
        value,
        "conversation:test",
        1_700_000_000_000,
    );
    app.db
        .store
        .remember(&TenantId::parse("shop").unwrap(), &[fact])
        .await
        .unwrap();
}

/// The rows of the table with id `id`.
fn table<'a>(body: &'a str, id: &str) -> &'a str {
    let at = body
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}: {body}"));
    let rest = &body[at..];
    &rest[..rest.find("</table>").unwrap()]
}

#[tokio::test]
async fn the_customer_page_shows_that_customers_orders_memory_and_conversations_only() {
    let app = spawn_app().await;
    let conversation = escalated(&app).await;
    remember(&app, "sam_lee_2", "prefers store credit").await;
    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;

    let list = d.get("/dashboard/customers?q=sam%40example.com").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body
            .contains("href=\"/dashboard/customers/sam_lee_2\"")
    );
    assert!(!list.body.contains("zoe_muller_1"));
    let by_name = d.get("/dashboard/customers?q=Zo").await;
    assert!(by_name.body.contains("zoe_muller_1"), "{}", by_name.body);
    assert!(!by_name.body.contains("sam_lee_2"));
    let by_id = d.get("/dashboard/customers?q=sam_lee_2").await;
    assert!(by_id.body.contains("sam_lee_2"));
    let everyone = d.get("/dashboard/customers").await;
    assert!(everyone.body.contains("sam_lee_2") && everyone.body.contains("zoe_muller_1"));
    let bad = d
        .get(&format!("/dashboard/customers?q={}", "x".repeat(101)))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"q-error\">At most 100 characters."));

    let page = d.get("/dashboard/customers/sam_lee_2").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let orders = table(&page.body, "orders");
    assert!(orders.contains("#W0000003"), "{orders}");
    assert!(!page.body.contains("#W0000001"), "another customer's order");
    assert!(page.body.contains("sam@example.com"));
    assert!(table(&page.body, "memory").contains("prefers store credit"));
    assert!(
        table(&page.body, "customer-conversations").contains(&conversation),
        "{}",
        page.body
    );
    // The same insights as the API's.
    let insights = app
        .get("/v1/customers/sam_lee_2/insights", app.key(Role::Viewer))
        .await;
    let segment = insights.body["segment"]["name"].as_str().unwrap();
    assert!(
        page.body
            .contains(&format!("id=\"insight-segment\">{segment}<")),
        "{}",
        page.body
    );
    for u in insights.body["unavailable"].as_array().unwrap() {
        assert!(page.body.contains(u["reason"].as_str().unwrap()));
    }
    assert!(page.body.contains("Loyalty is not enabled on this server."));
    // A viewer sees no GDPR actions.
    assert!(!page.body.contains("id=\"erase-customer\""));
    assert!(!page.body.contains("export.json"));

    // Another tenant: the customer is unknown, the list is empty.
    let o = signed_in(&app, "other", "olga@other.example", Role::Owner).await;
    assert_eq!(o.get("/dashboard/customers/sam_lee_2").await.status, 404);
    assert_eq!(
        o.get("/dashboard/customers/sam_lee_2/export.json")
            .await
            .status,
        404
    );
    let r = o
        .post(
            "/dashboard/customers/sam_lee_2/erase",
            &[("confirm", "sam_lee_2")],
        )
        .await;
    assert_eq!(r.status, 404);
    let theirs = o.get("/dashboard/customers").await;
    assert!(!theirs.body.contains("sam_lee_2") && !theirs.body.contains("zoe_muller_1"));
    assert!(theirs.body.contains("id=\"no-results\""));
    let memory = app
        .get("/v1/customers/sam_lee_2/memory", app.key(Role::Viewer))
        .await;
    assert!(memory.body.to_string().contains("prefers store credit"));
    app.finish().await;
}

#[tokio::test]
async fn gdpr_export_holds_everything_and_erasure_removes_memory_and_loyalty() {
    let (app, _dir) = app_with_ledger().await;
    let conversation = escalated(&app).await;
    remember(&app, "sam_lee_2", "prefers store credit").await;
    remember(&app, "zoe_muller_1", "likes green").await;
    let earn = app
        .post(
            "/v1/loyalty/earn",
            app.key(Role::Agent),
            &json!({"customer_id": "sam_lee_2", "points": 120, "idempotency_key": "order-3"}),
        )
        .await;
    assert_eq!(earn.status, 200, "{}", earn.body);

    // A viewer: no export, no erasure, nothing changes.
    let v = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    assert_eq!(
        v.get("/dashboard/customers/sam_lee_2/export.json")
            .await
            .status,
        403
    );
    let r = v
        .post(
            "/dashboard/customers/sam_lee_2/erase",
            &[("confirm", "sam_lee_2")],
        )
        .await;
    assert_eq!(r.status, 403);
    let page = v.get("/dashboard/customers/sam_lee_2").await;
    assert!(page.body.contains("id=\"loyalty-balance\">120 points<"));

    let a = signed_in(&app, "shop", "ada@shop.example", Role::Admin).await;
    let page = a.get("/dashboard/customers/sam_lee_2").await;
    assert!(page.body.contains("id=\"erase-customer\""));
    let export = a.get("/dashboard/customers/sam_lee_2/export.json").await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(
        export.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let doc: Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(doc["customer"]["user_id"], "sam_lee_2");
    assert_eq!(doc["orders"][0]["order_id"], "#W0000003");
    assert_eq!(doc["orders"].as_array().unwrap().len(), 1);
    let convs = doc["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 1, "{doc}");
    assert_eq!(convs[0]["conversation"]["id"], conversation.as_str());
    let texts: Vec<&str> = convs[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(
        texts.contains(&"I want to talk to a real person"),
        "{texts:?}"
    );
    assert!(
        doc["memory"]["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "prefers store credit")
    );
    assert_eq!(doc["loyalty"]["balance"]["balance"], 120);
    let history = doc["loyalty"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{doc}");
    assert_eq!(history[0]["op"]["type"], "earn");
    assert!(doc["events"].is_array() && !doc["insights"].is_null());

    // The confirmation must name the customer.
    let r = a
        .post(
            "/dashboard/customers/sam_lee_2/erase",
            &[("confirm", "zoe_muller_1")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"confirm-error\""), "{}", r.body);
    let memory = app
        .get("/v1/customers/sam_lee_2/memory", app.key(Role::Viewer))
        .await;
    assert!(!memory.body["facts"].as_array().unwrap().is_empty());

    let r = a
        .post(
            "/dashboard/customers/sam_lee_2/erase",
            &[("confirm", "sam_lee_2")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.contains("erased=shredded"), "{}", r.location);
    let done = a.get(&r.location).await;
    assert!(
        done.body
            .contains("the loyalty account was shredded (120 points forfeited)"),
        "{}",
        done.body
    );
    assert!(done.body.contains("id=\"no-memory\""));
    assert!(done.body.contains("id=\"no-loyalty\""));
    // Checked through the API: memory gone, no loyalty account any more.
    let memory = app
        .get("/v1/customers/sam_lee_2/memory", app.key(Role::Viewer))
        .await;
    assert_eq!(memory.body["facts"], json!([]), "{}", memory.body);
    let balance = app
        .get("/v1/loyalty/balance/sam_lee_2", app.key(Role::Viewer))
        .await;
    assert_eq!(balance.body["account"], Value::Null, "{}", balance.body);
    assert_eq!(balance.body["balance"], 0);
    let audit = app.get("/v1/audit", app.key(Role::Owner)).await;
    assert!(audit.body.to_string().contains("customer.erase"));
    // Only that customer: another one's memory is untouched.
    let zoe = app
        .get("/v1/customers/zoe_muller_1/memory", app.key(Role::Viewer))
        .await;
    assert!(zoe.body.to_string().contains("likes green"));
    app.finish().await;
}

/// Rules on item 2000000001 and one live repricing step; returns the new price.
async fn priced(app: &TestApp) -> f64 {
    let manager = app.key(Role::Manager);
    let rules = json!({"cost": 20, "min_price": 40, "max_price": 45});
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
    assert_eq!(out.body["changes"][0]["status"], "live", "{}", out.body);
    out.body["changes"][0]["to"].as_f64().unwrap()
}

fn money(v: f64) -> String {
    format!("${:.2}", v)
}

#[tokio::test]
async fn the_price_history_chart_lists_the_stored_changes() {
    let app = spawn_app().await;
    let to = priced(&app).await;
    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    let list = d.get("/dashboard/pricing").await;
    assert_eq!(list.status, 200);
    let items = table(&list.body, "priced-items");
    assert!(items.contains("href=\"/dashboard/pricing/items/2000000001\""));
    assert!(items.contains("ceiling $45.00"), "{items}");
    assert!(items.contains(&money(to)), "the last change: {items}");

    let page = d.get("/dashboard/pricing/items/2000000001").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let history = app
        .get(
            "/v1/pricing/items/2000000001/history",
            app.key(Role::Viewer),
        )
        .await;
    let stored = history.body["items"].as_array().unwrap();
    assert!(!stored.is_empty());
    assert!(page.body.contains("<svg") && page.body.contains("id=\"price-history-t\""));
    for h in stored {
        let id = h["id"].as_i64().unwrap();
        assert!(
            page.body.contains(&format!("id=\"change-{id}\"")),
            "change {id} missing"
        );
        // The chart's own table lists every change that went live.
        let chart = &page.body[page.body.find("<figure class=\"chart\">").unwrap()..];
        let chart = &chart[..chart.find("</figure>").unwrap()];
        assert!(chart.contains(&money(h["to"].as_f64().unwrap())), "{chart}");
    }
    // A viewer cannot edit rules.
    assert!(!page.body.contains("id=\"save-rules\""));
    let r = d
        .post(
            "/dashboard/pricing/items/2000000001/rules",
            &[("cost", "1")],
        )
        .await;
    assert_eq!(r.status, 403);
    // Another tenant: not in its catalog.
    let o = signed_in(&app, "other", "olga@other.example", Role::Owner).await;
    assert_eq!(
        o.get("/dashboard/pricing/items/2000000001").await.status,
        404
    );
    assert!(
        !o.get("/dashboard/pricing")
            .await
            .body
            .contains("2000000001")
    );
    app.finish().await;
}

#[tokio::test]
async fn a_rule_edit_is_validated_next_to_the_field_and_only_a_valid_one_is_stored() {
    let app = spawn_app().await;
    priced(&app).await;
    let d = signed_in(&app, "shop", "max@shop.example", Role::Manager).await;
    let path = "/dashboard/pricing/items/2000000001/rules";
    let stored = || async {
        app.get("/v1/pricing/items/2000000001/rules", app.key(Role::Viewer))
            .await
            .body["rules"]
            .clone()
    };
    let before = stored().await;
    assert_eq!(before["max_price"], 45.0);

    // Floor above ceiling: the ceiling's field says so; nothing stored.
    let r = d
        .post(
            path,
            &[("cost", "20"), ("min_price", "50"), ("max_price", "45")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"max_price-error\">The rules contradict each other"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("id=\"r-max_price\" name=\"max_price\" value=\"45\"")
    );
    assert_eq!(stored().await, before);

    // Wrong-typed and script-laden values.
    let r = d
        .post(
            path,
            &[
                ("cost", "<script>alert(1)</script>"),
                ("ending_cents", "250"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"cost-error\">Enter a number"));
    assert!(r.body.contains("id=\"ending_cents-error\">Whole cents"));
    assert!(!r.body.contains("<script>alert(1)"));
    // Missing cost: the API's own message, next to the field.
    let r = d.post(path, &[("max_price", "60")]).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("id=\"cost-error\">cost: is required"),
        "{}",
        r.body
    );
    assert_eq!(stored().await, before);

    // A valid edit is stored.
    let r = d
        .post(
            path,
            &[
                ("cost", "20"),
                ("min_price", "30"),
                ("max_price", "60"),
                ("mode", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/dashboard/pricing/items/2000000001?saved=1");
    let after = stored().await;
    assert_eq!(after["min_price"], 30.0);
    assert_eq!(after["max_price"], 60.0);
    assert_eq!(after["mode"], "approve");
    let page = d.get(&r.location).await;
    assert!(page.body.contains("id=\"done\""));
    assert!(page.body.contains("ceiling $60.00"));
    app.finish().await;
}

#[tokio::test]
async fn the_loyalty_page_shows_the_checkpoint_and_only_this_stores_accounts() {
    let (app, _dir) = app_with_ledger().await;
    let r = app
        .post(
            "/v1/loyalty/earn",
            app.key(Role::Agent),
            &json!({"customer_id": "alice@example.com", "points": 120, "idempotency_key": "o-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = r.body["account"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/v1/loyalty/earn",
            &app.other_key,
            &json!({"customer_id": "bob@example.com", "points": 999, "idempotency_key": "o-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let bob = r.body["account"].as_str().unwrap().to_string();

    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    let page = d.get("/dashboard/loyalty").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let checkpoint = app
        .client
        .get(format!("{}/ledger/checkpoint", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body = unescape(&page.body);
    assert!(body.contains(&checkpoint), "{checkpoint}\n{body}");
    assert!(body.contains("hypercommerce ledger verify --key 'shop.test/ledger+"));
    let top = table(&page.body, "top-accounts");
    assert!(
        top.contains(&alice[..12]) && top.contains("<td>120</td>"),
        "{top}"
    );
    assert!(!page.body.contains(&bob[..12]) && !top.contains("999"));
    assert!(page.body.contains("id=\"loyalty-members\">1<"));
    let entries = table(&page.body, "ledger-entries");
    assert!(entries.contains("earn") && entries.contains(&alice[..12]));
    assert!(!page.body.contains("alice@example.com"), "no personal data");

    let o = signed_in(&app, "other", "olga@other.example", Role::Owner).await;
    let theirs = o.get("/dashboard/loyalty").await;
    assert!(table(&theirs.body, "top-accounts").contains(&bob[..12]));
    assert!(!theirs.body.contains(&alice[..12]));
    app.finish().await;
}

#[tokio::test]
async fn the_agents_page_charts_reputation_for_this_stores_agents_only() {
    let (app, _dir) = app_with_ledger().await;
    let config = json!({"persona": {"name": "Ava"}, "policy": {}, "model": "offline"});
    let admin = app.key(Role::Admin).to_string();
    let r = app
        .post(
            "/v1/registry/agents",
            &admin,
            &json!({"agent_id": "ava-shop", "config": config}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut reputations = Vec::new();
    for (start, end, resolved) in [(1, 2, 80), (2, 3, 40)] {
        let r = app
            .post(
                "/v1/registry/agents/ava-shop/reputation",
                &admin,
                &json!({"period_start": start, "period_end": end, "conversations": 100, "resolved": resolved, "satisfaction": 0.9}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        reputations.push(r.body["reputation_permille"].as_u64().unwrap());
    }
    let r = app
        .post(
            "/v1/registry/agents",
            &app.other_key,
            &json!({"agent_id": "zed-other", "config": config}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    let page = d.get("/dashboard/agents").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("ava-shop"));
    assert!(!page.body.contains("zed-other"), "another tenant's agent");
    assert!(page.body.contains("<svg") && page.body.contains("Reputation of ava-shop"));
    let chart = &page.body[page.body.find("<figure class=\"chart\">").unwrap()..];
    let chart = &chart[..chart.find("</figure>").unwrap()];
    for r in &reputations {
        assert!(
            chart.contains(&format!("<td>{:.1}%</td>", *r as f64 / 10.0)),
            "{r}: {chart}"
        );
    }
    assert_eq!(chart.matches("<rect class=\"bar\"").count(), 2);
    app.finish().await;
}

#[tokio::test]
async fn the_loyalty_page_shows_the_program_networks_and_settlements_between_merchants() {
    let (app, _dir) = app_with_ledger().await;
    let program = json!({"currency": "USD", "earn": {"points": 1, "cents": 1},
        "redeem": {"points": 1, "cents": 1},
        "tiers": [{"name": "silver", "threshold": 100}, {"name": "gold", "threshold": 1000}]});
    // Earned at "other", 3,000 points spent at "shop": "other" owes "shop" $15.00.
    crate::loyalty_proofs::network_with_a_debt(&app, &program).await;
    let d = signed_in(&app, "shop", "val@shop.example", Role::Viewer).await;
    let page = d.get("/dashboard/loyalty").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("silver from 100, gold from 1000"),
        "{}",
        page.body
    );
    let networks = table(&page.body, "networks");
    assert!(
        networks.contains("<td>coalition</td><td>member</td><td>other</td>"),
        "{networks}"
    );
    let settlements = table(&page.body, "settlements");
    assert!(
        settlements.contains("<td>coalition</td><td>other</td><td>USD</td><td>$15.00</td><td>$0.00</td><td>$15.00</td>"),
        "{settlements}"
    );
    // The network member's 2,000 remaining points are spendable here too,
    // and 5,000 points earned in the window make them gold.
    let top = table(&page.body, "top-accounts");
    assert!(top.contains("<td>2000</td><td>gold</td>"), "{top}");
    let theirs = signed_in(&app, "other", "olga@other.example", Role::Viewer).await;
    let page = theirs.get("/dashboard/loyalty").await;
    let settlements = table(&page.body, "settlements");
    assert!(
        settlements.contains("<td>coalition</td><td>shop</td><td>USD</td><td>$0.00</td><td>$15.00</td><td>-$15.00</td>"),
        "{settlements}"
    );
    assert!(table(&page.body, "networks").contains("<td>operator</td>"));
    app.finish().await;
}
