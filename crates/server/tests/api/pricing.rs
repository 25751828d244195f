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
    let r = app.get("/v1/pricing/approvals", &manager).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

    put_rules(&app, SHIRT, rules).await;
    let r = app.post(&approve, &manager, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(catalog_price(&app, SHIRT).await, to);
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
    let shop = TenantId::parse("shop").unwrap();
    assert_eq!(app.db.store.demand_model(&shop).await.unwrap(), None);

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
    let doc = app
        .db
        .store
        .demand_model(&shop)
        .await
        .unwrap()
        .expect("saved");
    let book: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(book["items"][SHIRT]["views"], 2, "{doc}");
    assert_eq!(book["items"][SHIRT]["purchases"], 1);
    assert_eq!(book["items"][SHIRT]["units"], 2);
    let other = TenantId::parse("other").unwrap();
    assert_eq!(app.db.store.demand_model(&other).await.unwrap(), None);

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
/// --ignored --nocapture` (figures in docs/BENCHMARKS.md).
#[tokio::test]
#[ignore = "benchmark"]
async fn pricing_speed() {
    const ITEMS: usize = 2_000;
    let mut products = serde_json::Map::new();
    for i in 0..ITEMS {
        let (pid, iid) = (
            format!("{}", 3_000_000_000u64 + i as u64),
            format!("{}", 4_000_000_000u64 + i as u64),
        );
        products.insert(
            pid.clone(),
            json!({"name": format!("Item {i}"), "product_id": pid, "variants": {
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
    let shop = TenantId::parse("shop").unwrap();
    let rules = json!({"cost": 10.0, "min_price": 30.0, "max_price": 60.0, "max_change_pct": 10.0,
                       "mode": "auto", "policy": null, "stock": null, "sell_by": null});
    for i in 0..ITEMS {
        let item = hc_domain::ItemId::parse(format!("{}", 4_000_000_000u64 + i as u64)).unwrap();
        app.db
            .store
            .put_price_rules(&shop, &item, &rules, 1)
            .await
            .unwrap();
    }
    let manager = app.key(Role::Manager).to_string();
    for round in 0..2 {
        let t = std::time::Instant::now();
        let out = reprice(&app, json!({})).await;
        println!(
            "reprice round {round}: {ITEMS} items, {} changes in {:?}",
            out["changes"].as_array().unwrap().len(),
            t.elapsed()
        );
    }
    let events: Vec<Value> = (0..10_000)
        .map(|i| json!({"item_id": format!("{}", 4_000_000_000u64 + (i % ITEMS) as u64),
                        "price_shown": 45.0, "purchased": i % 7 == 0, "quantity": u32::from(i % 7 == 0),
                        "at": 1_790_000_000 + i}))
        .collect();
    for batch in [100usize, 10_000] {
        let t = std::time::Instant::now();
        let r = app
            .post(
                "/v1/pricing/observations",
                &manager,
                &json!(events[..batch]),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        println!("observations: batch of {batch} in {:?}", t.elapsed());
    }
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
    let shop = TenantId::parse("shop").unwrap();
    let learned = || async {
        app.db
            .store
            .demand_model(&shop)
            .await
            .unwrap()
            .map(|d| serde_json::from_str::<Value>(&d).unwrap())
    };
    let mut book = None;
    for _ in 0..100 {
        book = learned().await;
        if book.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let book = book.expect("the events were learned from");
    assert_eq!(book["items"][SHIRT]["views"], 3, "{book}");
    assert_eq!(book["items"][SHIRT]["purchases"], 1, "{book}");
    assert_eq!(book["items"][SHIRT]["units"], 2, "{book}");

    // The same batch again (a client retry): stored as duplicates, not learned twice.
    let r = app.post("/v1/events", &owner, &batch).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["duplicates"], 4, "{}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let again = learned().await.unwrap();
    assert_eq!(again["items"][SHIRT]["views"], 3, "{again}");
    assert_eq!(again["items"][SHIRT]["units"], 2, "{again}");
    app.finish().await;
}
