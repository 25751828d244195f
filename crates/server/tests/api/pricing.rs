//! Dynamic pricing through the real router: rules validation (bad input
//! changes nothing), auto repricing that moves the catalog price, the
//! approve-mode queue with its re-check, the competitor feed and learning
//! observations.

use hc_domain::{Role, TenantId};
use hc_store::PricingStore;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const SHIRT: &str = "2000000001"; // T-Shirt blue M, 50.88 in the fixture
const RED: &str = "2000000002"; // T-Shirt red L, 46.85

fn rules_path(item: &str) -> String {
    format!("/v1/pricing/items/{item}/rules")
}

async fn catalog_price(app: &TestApp, item: &str) -> f64 {
    let r = app
        .get("/v1/products/1000000001", app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["variants"][item]["price"].as_f64().unwrap()
}

async fn put_rules(app: &TestApp, item: &str, rules: Value) -> Value {
    let r = app
        .put(&rules_path(item), app.key(Role::Manager), &rules)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn reprice(app: &TestApp, body: Value) -> Value {
    let r = app
        .post("/v1/pricing/reprice", app.key(Role::Manager), &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn history(app: &TestApp, item: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/v1/pricing/items/{item}/history"),
            app.key(Role::Viewer),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn bad_rules_are_refused_with_a_clear_code_and_change_nothing() {
    let app = spawn_app().await;
    let manager = app.key(Role::Manager).to_string();
    let ok =
        json!({"cost": 20, "min_price": 40, "max_price": 60, "max_change_pct": 10, "mode": "auto"});
    let r = app
        .put(&rules_path(SHIRT), app.key(Role::Viewer), &ok)
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let bad = [
        (
            json!({"cost": 20, "min_price": 70, "max_price": 60}),
            422,
            "conflicting_rules",
        ),
        (
            json!({"cost": 50, "min_margin_pct": 50, "max_price": 60}),
            422,
            "conflicting_rules",
        ),
        (
            json!({"cost": 20, "min_price": -5, "max_price": 60}),
            400,
            "invalid_rules",
        ),
        (json!({"cost": 20, "max_price": 1e12}), 400, "invalid_rules"),
        (
            json!({"cost": 20, "max_price": 60.001}),
            400,
            "invalid_rules",
        ),
        (
            json!({"cost": "NaN", "max_price": 60}),
            400,
            "invalid_rules",
        ),
        (
            json!({"min_price": 40, "max_price": 60}),
            400,
            "invalid_rules",
        ),
        (
            json!({"cost": 20, "max_change_pct": -1}),
            400,
            "invalid_rules",
        ),
        (json!({"cost": 20, "mode": "yolo"}), 400, "invalid_rules"),
        (json!({"cost": 20, "policy": "magic"}), 400, "invalid_rules"),
        (
            json!({"cost": 20, "sell_by": "next week"}),
            400,
            "invalid_rules",
        ),
        (json!({"cost": 20, "surprise": 1}), 400, "invalid_rules"),
        (json!([1, 2]), 400, "invalid_rules"),
    ];
    for (body, status, code) in bad {
        let r = app.put(&rules_path(SHIRT), &manager, &body).await;
        assert_eq!((r.status, r.code()), (status, code), "{body}: {}", r.body);
    }
    // A bare NaN is not JSON at all.
    let r = app
        .send(
            app.client
                .put(format!("{}{}", app.base, rules_path(SHIRT)))
                .bearer_auth(&manager)
                .header("content-type", "application/json")
                .body("{\"cost\": NaN}"),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"), "{}", r.body);
    let r = app.put(&rules_path("9999999999"), &manager, &ok).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // Nothing was stored anywhere.
    assert_eq!(app.get(&rules_path(SHIRT), &manager).await.status, 404);
    let r = app
        .get(&format!("/v1/pricing/items/{SHIRT}"), &manager)
        .await;
    assert_eq!(r.status, 404);
    assert!(history(&app, SHIRT).await.is_empty());
    assert_eq!(catalog_price(&app, SHIRT).await, 50.88);

    let stored = put_rules(&app, SHIRT, ok.clone()).await;
    assert_eq!(stored["base_price"], 50.88);
    assert_eq!(stored["current_price"], 50.88);
    let r = app.get(&rules_path(SHIRT), app.key(Role::Viewer)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["rules"]["max_change_pct"], 10.0);
    assert_eq!(r.body["rules"]["mode"], "auto");
    // Another tenant sees nothing.
    assert_eq!(
        app.get(&rules_path(SHIRT), &app.other_key).await.status,
        404
    );
    app.finish().await;
}

#[tokio::test]
async fn an_auto_step_prices_within_the_rules_and_the_catalog_shows_it() {
    let app = spawn_app().await;
    // The fixture price 50.88 is above the new ceiling: the step must move it.
    put_rules(
        &app,
        SHIRT,
        json!({"cost": 20, "min_price": 40, "max_price": 45, "mode": "auto"}),
    )
    .await;
    let r = app
        .post("/v1/pricing/reprice", app.key(Role::Viewer), &json!({}))
        .await;
    assert_eq!(r.status, 403);
    // A quote served (and so cached) before the step must not outlive it.
    let before = app
        .get(&format!("/v1/pricing/quote/{SHIRT}"), app.key(Role::Viewer))
        .await;
    assert_eq!(
        before.body["price"].as_f64(),
        Some(50.88),
        "{}",
        before.body
    );
    let out = reprice(&app, Value::Null).await;
    let price = out["prices"][SHIRT].as_f64().unwrap();
    assert!((40.0..=45.0).contains(&price), "{out}");
    let changes = out["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{out}");
    assert_eq!(changes[0]["status"], "live");
    assert_eq!(changes[0]["from"], 50.88);
    assert_eq!(changes[0]["reason"]["policy"], "ts_contextual");
    assert_eq!(catalog_price(&app, SHIRT).await, price);
    let r = app
        .get(&format!("/v1/pricing/quote/{SHIRT}"), app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["price"].as_f64(), Some(price));
    let r = app
        .get("/v1/pricing/quote/9999999999", app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 404);

    let r = app
        .get(&format!("/v1/pricing/items/{SHIRT}"), app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["current_price"].as_f64(), Some(price));
    assert_eq!(r.body["base_price"], 50.88);
    assert_eq!(r.body["last_change"]["status"], "live");
    assert!(r.body["last_change"]["reason"]["clips"].is_array());
    let h = history(&app, SHIRT).await;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["to"].as_f64(), Some(price));

    // The merchant edits the price in the catalog: the next step starts
    // from it and the history records the edit.
    let mut product = app
        .get("/v1/products/1000000001", app.key(Role::Viewer))
        .await
        .body;
    product["variants"][SHIRT]["price"] = json!(30.0);
    let r = app
        .put("/v1/products/1000000001", app.key(Role::Manager), &product)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let out = reprice(&app, json!({"item_ids": [SHIRT]})).await;
    assert_eq!(out["changes"][0]["from"], 30.0, "{out}");
    let h = history(&app, SHIRT).await;
    assert_eq!(h[1]["reason"]["policy"], "catalog_edit");
    assert_eq!(
        (h[1]["from"].as_f64(), h[1]["to"].as_f64()),
        (Some(price), Some(30.0))
    );
    assert!((40.0..=45.0).contains(&catalog_price(&app, SHIRT).await));

    // An item without rules is reported, not priced.
    let out = reprice(&app, json!({"item_ids": [RED]})).await;
    assert_eq!(out["errors"][0]["item_id"], RED, "{out}");
    assert!(out["changes"].as_array().unwrap().is_empty());
    assert_eq!(catalog_price(&app, RED).await, 46.85);
    let r = app
        .get(&format!("/v1/pricing/items/{SHIRT}"), &app.other_key)
        .await;
    assert_eq!(r.status, 404);
    app.finish().await;
}

/// What `GET /v1/pricing/quote/{item}` quotes.
async fn quoted(app: &TestApp, item: &str) -> f64 {
    let r = app
        .get(&format!("/v1/pricing/quote/{item}"), app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["price"].as_f64().unwrap()
}

#[tokio::test]
async fn approve_mode_queues_changes_and_approval_rechecks_the_rules() {
    let app = spawn_app().await;
    let manager = app.key(Role::Manager).to_string();
    let rules = json!({"cost": 20, "min_price": 40, "max_price": 45, "mode": "approve"});
    put_rules(&app, SHIRT, rules.clone()).await;
    let out = reprice(&app, json!({"item_ids": [SHIRT]})).await;
    let change = out["changes"][0].clone();
    assert_eq!(change["status"], "pending", "{out}");
    let to = change["to"].as_f64().unwrap();
    assert!((40.0..=45.0).contains(&to));
    // Not live yet.
    assert_eq!(out["prices"][SHIRT], 50.88);
    assert_eq!(catalog_price(&app, SHIRT).await, 50.88);
    let r = app
        .get("/v1/pricing/approvals", app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let queue = r.body["items"].as_array().unwrap().clone();
    assert_eq!(queue.len(), 1);
    let id = queue[0]["id"].as_i64().unwrap();
    assert_eq!(Some(id), change["approval_id"].as_i64());
    let r = app
        .get(&format!("/v1/pricing/items/{SHIRT}"), &manager)
        .await;
    assert_eq!(r.body["pending_approval"]["id"].as_i64(), Some(id));

    // The rules tightened since: approval is refused, the change stays queued.
    put_rules(
        &app,
        SHIRT,
        json!({"cost": 20, "min_price": 30, "max_price": 35, "mode": "approve"}),
    )
    .await;
    let approve = format!("/v1/pricing/approvals/{id}/approve");
    let r = app.post(&approve, app.key(Role::Viewer), &json!({})).await;
    assert_eq!(r.status, 403);
    // Another tenant can neither see nor decide it.
    let r = app.post(&approve, &app.other_key, &json!({})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app.get("/v1/pricing/approvals", &app.other_key).await;
    assert_eq!(r.body["items"], json!([]));
    let r = app.post(&approve, &manager, &json!({})).await;
    assert_eq!((r.status, r.code()), (409, "outside_rules"), "{}", r.body);
    assert_eq!(catalog_price(&app, SHIRT).await, 50.88);
    assert_eq!(quoted(&app, SHIRT).await, 50.88);
    let r = app.get("/v1/pricing/approvals", &manager).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

    put_rules(&app, SHIRT, rules).await;
    let r = app.post(&approve, &manager, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(catalog_price(&app, SHIRT).await, to);
    // The quote cached above gives way to the approved price at once.
    assert_eq!(quoted(&app, SHIRT).await, to);
    let r = app.post(&approve, &manager, &json!({})).await;
    assert_eq!((r.status, r.code()), (409, "not_pending"));
    let r = app
        .post("/v1/pricing/approvals/abc/approve", &manager, &json!({}))
        .await;
    assert_eq!(r.status, 400);
    let r = app
        .post("/v1/pricing/approvals/999999/reject", &manager, &json!({}))
        .await;
    assert_eq!(r.status, 404);
    let statuses: Vec<Value> = history(&app, SHIRT)
        .await
        .iter()
        .map(|h| h["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("approved"), json!("pending")]);

    // Rejection keeps the price.
    put_rules(
        &app,
        RED,
        json!({"cost": 10, "min_price": 30, "max_price": 40, "mode": "approve"}),
    )
    .await;
    let out = reprice(&app, json!({"item_ids": [RED]})).await;
    let id = out["changes"][0]["approval_id"].as_i64().expect("queued");
    let r = app
        .post(
            &format!("/v1/pricing/approvals/{id}/reject"),
            &manager,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "rejected");
    assert_eq!(catalog_price(&app, RED).await, 46.85);
    let r = app
        .get("/v1/pricing/approvals?status=rejected", &manager)
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    app.finish().await;
}

#[tokio::test]
async fn the_competitor_feed_caps_prices_and_bad_feeds_store_nothing() {
    let app = spawn_app().await;
    let manager = app.key(Role::Manager).to_string();
    put_rules(
        &app,
        SHIRT,
        json!({"cost": 10, "min_price": 20, "max_price": 60, "competitor_max_above_pct": 5}),
    )
    .await;
    let csv = |body: &str| {
        app.client
            .post(format!("{}/v1/pricing/competitors", app.base))
            .bearer_auth(&manager)
            .header("content-type", "text/csv")
            .body(body.to_string())
    };
    for bad in [
        "item_id,price\n2000000001,30\n",
        "item_id,competitor,price\n2000000001,shopx,30\n2000000001,shopy,-1\n",
        "item_id,competitor,price\n2000000001,shopx,abc\n",
    ] {
        let r = app.send(csv(bad)).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_competitor_prices"),
            "{bad}"
        );
    }
    for bad in [
        json!([{"item_id": SHIRT, "competitor": "x", "price": -3}]),
        json!([{"item_id": SHIRT, "competitor": "", "price": 3}]),
        json!([{"item_id": SHIRT, "competitor": "x", "price": 1e13}]),
        json!({"item_id": SHIRT}),
    ] {
        let r = app.post("/v1/pricing/competitors", &manager, &bad).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_competitor_prices"),
            "{bad}"
        );
    }
    let shop = TenantId::parse("shop").unwrap();
    let item = hc_domain::ItemId::parse(SHIRT).unwrap();
    assert!(
        app.db
            .store
            .competitor_prices(&shop, &item)
            .await
            .unwrap()
            .is_empty()
    );

    let r = app
        .send(csv("item_id,competitor,price\n2000000001,shopx,30.00\n"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["stored"], 1);
    let out = reprice(&app, json!({})).await;
    let price = out["prices"][SHIRT].as_f64().unwrap();
    assert!((20.0..=31.5).contains(&price), "{out}");
    assert_eq!(catalog_price(&app, SHIRT).await, price);

    let r = app
        .post(
            "/v1/pricing/competitors",
            &manager,
            &json!([{"item_id": SHIRT, "competitor": "shopy", "price": 25}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let out = reprice(&app, json!({})).await;
    let price = out["prices"][SHIRT].as_f64().unwrap();
    assert!((20.0..=26.25).contains(&price), "{out}");
    app.finish().await;
}

#[tokio::test]
async fn observations_teach_the_model_and_bad_events_are_quarantined() {
    let app = spawn_app().await;
    let manager = app.key(Role::Manager).to_string();
    let ev = |price: Value, purchased: bool, quantity: u32| {
        json!({"item_id": SHIRT, "price_shown": price, "purchased": purchased,
               "quantity": quantity, "at": 1_790_000_000})
    };
    let r = app
        .post(
            "/v1/pricing/observations",
            app.key(Role::Viewer),
            &json!([]),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            "/v1/pricing/observations",
            &manager,
            &json!([ev(json!("NaN"), true, 1)]),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(learned(&app, "shop", SHIRT).await, None);

    let batch = json!([
        ev(json!(50.88), true, 2),
        ev(json!(48.0), false, 0),
        ev(json!(5000.0), true, 1),
        {"item_id": "9999999999", "price_shown": 10.0, "purchased": false, "at": 1},
        ev(json!(50.88), true, 0),
        {"item_id": SHIRT, "price_shown": 50.0, "purchased": false, "at": 1,
         "context": {"season": 7.0}},
    ]);
    let r = app.post("/v1/pricing/observations", &manager, &batch).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 2, "{}", r.body);
    let quarantined: Vec<i64> = r.body["quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["index"].as_i64().unwrap())
        .collect();
    assert_eq!(quarantined, [2, 3, 4, 5]);
    let item = learned(&app, "shop", SHIRT).await.expect("saved");
    assert_eq!(item["views"], 2, "{item}");
    assert_eq!(item["purchases"], 1);
    assert_eq!(item["units"], 2);
    assert_eq!(learned(&app, "other", SHIRT).await, None);

    // The pricing endpoints are in the OpenAPI document.
    let doc = app.get("/openapi.json", "").await.body;
    assert!(doc["paths"]["/v1/pricing/reprice"]["post"].is_object());
    assert!(doc["paths"]["/v1/pricing/approvals/{id}/approve"]["post"].is_object());
    app.finish().await;
}

#[tokio::test]
async fn the_scheduled_step_reprices_without_a_request() {
    let mut config = crate::helpers::config();
    config.reprice_every_secs = 1;
    let app = crate::helpers::spawn_app_with(
        hc_store::testing::sqlite().await,
        config,
        crate::helpers::MINI_DB,
    )
    .await;
    put_rules(
        &app,
        SHIRT,
        json!({"cost": 20, "min_price": 40, "max_price": 45}),
    )
    .await;
    let mut price = catalog_price(&app, SHIRT).await;
    for _ in 0..50 {
        if price <= 45.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        price = catalog_price(&app, SHIRT).await;
    }
    assert!((40.0..=45.0).contains(&price), "still {price}");
    assert_eq!(history(&app, SHIRT).await[0]["status"], "live");
    app.finish().await;
}

/// Service-path speed: `cargo test -p hc-server --test api pricing_speed --
/// --ignored --nocapture` (items: `HC_PRICING_SPEED_ITEMS`, default 20,000;
/// figures in docs/BENCHMARKS.md). `hypercommerce bench --only
/// pricing_reprice,pricing_learn,pricing_quote` measures the same in the
/// release binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn pricing_speed() {
    let items: usize = std::env::var("HC_PRICING_SPEED_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut products = serde_json::Map::new();
    for i in 0..items {
        let (pid, iid) = (
            format!("{}", 3_000_000_000u64 + i as u64),
            format!("{}", 4_000_000_000u64 + i as u64),
        );
        products.insert(
            pid.clone(),
            json!({"name": format!("Item {i}"), "product_id": pid, "category": "speed", "variants": {
                iid.clone(): {"item_id": iid, "options": {}, "available": true, "price": 40.0 + (i % 20) as f64}
            }}),
        );
    }
    let data = json!({"products": products, "users": {}, "orders": {}}).to_string();
    let app = crate::helpers::spawn_app_with(
        hc_store::testing::sqlite().await,
        crate::helpers::config(),
        &data,
    )
    .await;
    let manager = app.key(Role::Manager).to_string();
    let t = std::time::Instant::now();
    let r = app
        .put(
            "/v1/pricing/categories/speed/rules",
            &manager,
            &json!({"cost": 10.0, "min_price": 30.0, "max_price": 60.0, "max_change_pct": 10.0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    println!(
        "category rules: {} items enrolled in {:?}",
        r.body["enrolled"],
        t.elapsed()
    );
    for round in 0..3 {
        let t = std::time::Instant::now();
        let out = reprice(&app, json!({})).await;
        println!(
            "reprice round {round}: {items} items, {} changes, {} errors in {:?}",
            out["changes"].as_array().unwrap().len(),
            out["errors"].as_array().unwrap().len(),
            t.elapsed()
        );
    }
    let events: Vec<Value> = (0..5_000)
        .map(|i| json!({"item_id": format!("{}", 4_000_000_000u64 + ((i * 7_919) % items) as u64),
                        "price_shown": 45.0, "purchased": i % 7 == 0, "quantity": u32::from(i % 7 == 0),
                        "at": 1_790_000_000 + i}))
        .collect();
    for round in 0..4 {
        let t = std::time::Instant::now();
        let r = app
            .post("/v1/pricing/observations", &manager, &json!(events))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "observations round {round}: 5,000 in {secs:.3} s = {:.0}/s",
            5_000.0 / secs
        );
    }
    let viewer = app.key(Role::Viewer).to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let clients: Vec<_> = (0..32)
        .map(|c| {
            let (client, base, key) = (app.client.clone(), app.base.clone(), viewer.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    let item = 4_000_000_000u64 + ((n * 31 + c) % 1_000);
                    let r = client
                        .get(format!("{base}/v1/pricing/quote/{item}"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success());
                    let _ = r.bytes().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut quotes = 0;
    for c in clients {
        quotes += c.await.unwrap();
    }
    println!(
        "quotes over HTTP (32 clients, 3 s, reqwest in-process): {:.0}/s",
        quotes as f64 / 3.0
    );
    app.finish().await;
}

#[tokio::test]
async fn product_views_and_purchases_posted_as_events_teach_the_demand_model_once() {
    let app = spawn_app().await;
    let owner = app.key(Role::Owner).to_string();
    let now = hc_domain::now_ms();
    let event = |id: &str, kind: &str, extra: Value| {
        let mut e = json!({"event_id": id, "type": kind, "timestamp_ms": now - 1_000,
                           "session_id": "sess-1", "item_id": SHIRT});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };
    let batch = json!([
        event("v1", "product_view", json!({"price": 50.88})),
        event("v2", "product_view", json!({"price": 50.88})),
        event("p1", "purchase", json!({"price": 50.88, "quantity": 2})),
        event("n1", "page_view", json!({"page_type": "home"})),
    ]);
    let r = app.post("/v1/events", &owner, &batch).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let book = learned_eventually(&app, SHIRT, 3).await;
    assert_eq!(book["views"], 3, "{book}");
    assert_eq!(book["purchases"], 1, "{book}");
    assert_eq!(book["units"], 2, "{book}");

    // The same batch again (a client retry): stored as duplicates, not learned twice.
    let r = app.post("/v1/events", &owner, &batch).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["duplicates"], 4, "{}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let again = learned(&app, "shop", SHIRT).await.unwrap();
    assert_eq!(again["views"], 3, "{again}");
    assert_eq!(again["units"], 2, "{again}");
    app.finish().await;
}

/// An item's learned demand as stored (its own row), if any.
async fn learned(app: &TestApp, tenant: &str, item: &str) -> Option<Value> {
    let t = TenantId::parse(tenant).unwrap();
    let rows = app.db.store.demand_rows(&t, None).await.unwrap();
    rows.items
        .iter()
        .find(|r| r.key == item && !r.doc.is_empty())
        .map(|r| serde_json::from_str(&r.doc).unwrap())
}

/// Waits (up to 10 s) until the item's learned views reach `views`.
async fn learned_eventually(app: &TestApp, item: &str, views: u64) -> Value {
    let mut last = None;
    for _ in 0..200 {
        last = learned(app, "shop", item).await;
        if last.as_ref().and_then(|b| b["views"].as_u64()) >= Some(views) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    last.expect("the events were learned from")
}

/// Many event batches at once: the bounded learning queue takes every one
/// (ingestion waits for room rather than dropping), the worker merges them,
/// and every view is learned exactly once.
#[tokio::test]
async fn a_flood_of_event_batches_is_learned_completely() {
    let app = spawn_app().await;
    let owner = app.key(Role::Owner).to_string();
    let now = hc_domain::now_ms();
    const BATCHES: usize = 40;
    const PER_BATCH: usize = 25;
    let posts = (0..BATCHES).map(|b| {
        let batch: Vec<Value> = (0..PER_BATCH)
            .map(|i| {
                json!({"event_id": format!("f{b}-{i}"), "type": "product_view",
                       "timestamp_ms": now - 10_000 + i as i64, "session_id": format!("s{b}"),
                       "item_id": if i % 2 == 0 { SHIRT } else { RED }, "price": 45.0})
            })
            .collect();
        let (app, owner) = (&app, owner.clone());
        async move {
            let r = app.post("/v1/events", &owner, &json!(batch)).await;
            assert_eq!(r.status, 202, "{}", r.body);
        }
    });
    futures_util::future::join_all(posts).await;
    let shirt_views = (BATCHES * PER_BATCH.div_ceil(2)) as u64;
    let red_views = (BATCHES * (PER_BATCH / 2)) as u64;
    let shirt = learned_eventually(&app, SHIRT, shirt_views).await;
    let red = learned_eventually(&app, RED, red_views).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        learned(&app, "shop", SHIRT).await.unwrap()["views"],
        shirt_views,
        "{shirt}"
    );
    assert_eq!(
        learned(&app, "shop", RED).await.unwrap()["views"],
        red_views,
        "{red}"
    );
    app.finish().await;
}

/// The same learned demand for two items; one has 2 units to sell in 30
/// days, the other plenty. The inventory-aware default policy holds the
/// scarce one at the top of its band and sells the other cheaply; a
/// purchase counts against the stock.
#[tokio::test]
async fn scarce_stock_until_sell_by_raises_the_price() {
    let mut config = crate::helpers::config();
    config.pricing_seed = Some(42);
    let app = crate::helpers::spawn_app_with(
        hc_store::testing::sqlite().await,
        config,
        crate::helpers::MINI_DB,
    )
    .await;
    let manager = app.key(Role::Manager).to_string();
    let now = hc_domain::now_ms() / 1000;
    let sell_by = time::OffsetDateTime::from_unix_timestamp(now + 30 * 86_400)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for (item, stock) in [(SHIRT, 2), (RED, 1_000_000)] {
        put_rules(
            &app,
            item,
            json!({"cost": 10, "min_price": 30, "max_price": 60, "stock": stock, "sell_by": sell_by}),
        )
        .await;
    }
    // Price-sensitive shoppers over the two days before the rules were set.
    let mut seed = 7u64;
    let mut uniform = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut events = Vec::new();
    for n in 0..1_500i64 {
        for (item, reference) in [(SHIRT, 50.88), (RED, 46.85)] {
            let price = ((30.0 + 30.0 * uniform()) * 100.0_f64).round() / 100.0;
            let p_buy = 1.0 / (1.0 + (0.5 + 6.0 * (price / reference - 1.0)).exp());
            let bought = uniform() < p_buy;
            events.push(
                json!({"item_id": item, "price_shown": price, "purchased": bought,
                               "quantity": u32::from(bought), "at": now - 172_800 + n * 100}),
            );
        }
    }
    let r = app
        .post("/v1/pricing/observations", &manager, &json!(events))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 3_000, "{}", r.body);

    let out = reprice(&app, json!({})).await;
    let scarce = out["prices"][SHIRT].as_f64().unwrap();
    let ample = out["prices"][RED].as_f64().unwrap();
    assert!(scarce >= 55.0, "scarce stock is held back: {out}");
    assert!(ample <= 42.0, "ample stock sells: {out}");
    let change = |item: &str| {
        out["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["item"] == item)
            .cloned()
            .unwrap()
    };
    assert_eq!(change(SHIRT)["reason"]["policy"], "ts_contextual_update");
    assert_eq!(change(SHIRT)["reason"]["inventory"]["remaining"], 2.0);
    assert!(change(RED)["reason"]["inventory"]["remaining"].as_f64() == Some(1_000_000.0));

    // Two units bought now: the scarce item is sold out.
    let r = app
        .post(
            "/v1/pricing/observations",
            &manager,
            &json!([{"item_id": SHIRT, "price_shown": scarce, "purchased": true,
                     "quantity": 2, "at": now + 60}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let shop = TenantId::parse("shop").unwrap();
    let item = hc_domain::ItemId::parse(SHIRT).unwrap();
    let row = app
        .db
        .store
        .priced_item(&shop, &item)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.sold_units, 2);
    let out = reprice(&app, json!({"item_ids": [SHIRT]})).await;
    assert_eq!(out["prices"][SHIRT], 60.0, "{out}");
    // Stock-blind, the same learned demand prices the item low.
    put_rules(
        &app,
        SHIRT,
        json!({"cost": 10, "min_price": 30, "max_price": 60, "stock": 2, "sell_by": sell_by,
               "policy": "ts_contextual"}),
    )
    .await;
    let row = app
        .db
        .store
        .priced_item(&shop, &item)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.sold_units, 2, "the stock terms did not change");
    let out = reprice(&app, json!({"item_ids": [SHIRT]})).await;
    assert!(out["prices"][SHIRT].as_f64().unwrap() <= 42.0, "{out}");
    assert_eq!(out["changes"][0]["reason"]["policy"], "ts_contextual");
    app.finish().await;
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn freeze_windows_hold_the_price_and_bad_windows_name_the_field() {
    let app = spawn_app().await;
    let manager = app.key(Role::Manager).to_string();
    let now = hc_domain::now_ms() / 1000;
    let at = |secs: i64| rfc3339(now + secs);
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"start": at(i * 10), "end": at(i * 10 + 5)}))
        .collect();
    for (body, field) in [
        (
            json!({"cost": 20, "freeze": [{"start": at(0), "end": at(-10)}]}),
            "freeze[0].end",
        ),
        (
            json!({"cost": 20, "freeze": [{"start": at(0), "end": at(10)},
                                          {"start": "tomorrow", "end": at(10)}]}),
            "freeze[1].start",
        ),
        (json!({"cost": 20, "freeze": many}), "freeze"),
        (
            json!({"cost": 20, "freeze": [{"start": at(0), "end": at(0)}]}),
            "freeze[0].end",
        ),
    ] {
        let r = app.put(&rules_path(SHIRT), &manager, &body).await;
        assert_eq!((r.status, r.code()), (400, "invalid_rules"), "{}", r.body);
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.body);
    }
    let r = app
        .put(
            &rules_path(SHIRT),
            &manager,
            &json!({"cost": 20, "freeze": [{"start": at(0)}]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_rules"), "{}", r.body);
    assert_eq!(app.get(&rules_path(SHIRT), &manager).await.status, 404);

    // A window around now: the price holds although the policy may want another.
    let frozen = json!({"cost": 20, "min_price": 30, "max_price": 60,
                        "freeze": [{"start": at(-3_600), "end": at(3_600)}]});
    let stored = put_rules(&app, SHIRT, frozen).await;
    assert_eq!(stored["rules"]["freeze"][0]["end"], at(3_600));
    for _ in 0..5 {
        let out = reprice(&app, json!({})).await;
        assert_eq!(out["prices"][SHIRT], 50.88, "{out}");
        assert!(out["changes"].as_array().unwrap().is_empty(), "{out}");
    }
    // Once the window is over the rules move it.
    put_rules(
        &app,
        SHIRT,
        json!({"cost": 20, "min_price": 30, "max_price": 45,
               "freeze": [{"start": at(-7_200), "end": at(-3_600)}]}),
    )
    .await;
    let out = reprice(&app, json!({})).await;
    assert!(out["prices"][SHIRT].as_f64().unwrap() <= 45.0, "{out}");
    app.finish().await;
}

#[tokio::test]
async fn category_rules_price_the_items_without_their_own() {
    let app = spawn_app().await;
    let manager = app.key(Role::Manager).to_string();
    let mut product = app
        .get("/v1/products/1000000002", app.key(Role::Viewer))
        .await
        .body;
    product["category"] = json!("bottles");
    let r = app.put("/v1/products/1000000002", &manager, &product).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let path = "/v1/pricing/categories/bottles/rules";
    for (body, status, code, field) in [
        (
            json!({"cost": 5, "max_price": 12, "stock": 3}),
            400,
            "invalid_rules",
            Some("stock"),
        ),
        (
            json!({"cost": 5, "freeze": [{"start": "soon", "end": "later"}]}),
            400,
            "invalid_rules",
            Some("freeze[0].start"),
        ),
        (
            json!({"cost": 5, "min_price": 20, "max_price": 12}),
            422,
            "conflicting_rules",
            None,
        ),
    ] {
        let r = app.put(path, &manager, &body).await;
        assert_eq!((r.status, r.code()), (status, code), "{}", r.body);
        if let Some(f) = field {
            assert_eq!(r.body["error"]["details"]["field"], f, "{}", r.body);
        }
    }
    assert_eq!(app.get(path, &manager).await.status, 404);
    let r = app
        .put(path, app.key(Role::Viewer), &json!({"cost": 5}))
        .await;
    assert_eq!(r.status, 403);

    let r = app
        .put(
            path,
            &manager,
            &json!({"cost": 5, "min_price": 10, "max_price": 12}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["enrolled"], 2, "{}", r.body);
    let r = app.get(&rules_path("2000000011"), &manager).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["source"], "category");
    assert_eq!(app.get(path, &app.other_key).await.status, 404);

    let in_band = |out: &Value, item: &str, lo: f64, hi: f64| {
        let p = out["prices"][item].as_f64().unwrap_or(-1.0);
        assert!((lo..=hi).contains(&p), "{item}: {out}");
    };
    let out = reprice(&app, json!({})).await;
    in_band(&out, "2000000011", 10.0, 12.0);
    in_band(&out, "2000000012", 10.0, 12.0);
    // The T-shirt is in no ruled category: untouched.
    assert!(out["prices"].get(SHIRT).is_none(), "{out}");

    // An item's own rules replace the category's.
    put_rules(
        &app,
        "2000000012",
        json!({"cost": 5, "min_price": 20, "max_price": 22}),
    )
    .await;
    let out = reprice(&app, json!({})).await;
    in_band(&out, "2000000011", 10.0, 12.0);
    in_band(&out, "2000000012", 20.0, 22.0);
    let r = app.get(&rules_path("2000000012"), &manager).await;
    assert_eq!(r.body["source"], "item");
    app.finish().await;
}
