//! `POST /v1/events` (JSON array and NDJSON), whole-batch validation errors
//! by index, duplicates, batch caps, roles and the tracker key, replay,
//! sessions, the quarantine, metrics, the public tracker endpoint and `/t.js`.

use hc_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{MINI_DB, TestApp, config, spawn_app, spawn_app_with};

fn now() -> i64 {
    hc_domain::now_ms()
}

fn view(id: &str, session: &str) -> Value {
    json!({"event_id": id, "type": "page_view", "timestamp_ms": now() - 1000,
           "session_id": session, "page_type": "home", "duration_ms": 1200})
}

async fn post_raw(
    app: &TestApp,
    key: &str,
    content_type: &str,
    body: String,
) -> crate::helpers::Reply {
    app.send(
        app.client
            .post(format!("{}/v1/events", app.base))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

#[tokio::test]
async fn a_batch_is_accepted_once_and_duplicates_are_counted() {
    let app = spawn_app().await;
    let key = app.key(Role::Agent).to_string();
    let batch = json!([view("e1", "s1"), view("e2", "s1"), view("e1", "s1")]);
    let r = app.post("/v1/events", &key, &batch).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body, json!({"accepted": 2, "duplicates": 1}));
    let r = app.post("/v1/events", &key, &batch).await;
    assert_eq!(r.body, json!({"accepted": 0, "duplicates": 3}));

    let log = app.get("/v1/events", app.key(Role::Viewer)).await;
    assert_eq!(log.status, 200);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["event"]["event_id"], "e1");
    assert_eq!(items[1]["event"]["event_id"], "e2");
    assert_eq!(items[0]["session"], "s1");
    app.finish().await;
}

#[tokio::test]
async fn ndjson_bodies_are_read_line_by_line() {
    let app = spawn_app().await;
    let body = format!("{}\n\n{}\n", view("n1", "s"), view("n2", "s"));
    let r = post_raw(&app, app.key(Role::Agent), "application/x-ndjson", body).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 2);
    app.finish().await;
}

#[tokio::test]
async fn one_bad_event_refuses_the_whole_batch_listing_each_by_index() {
    let app = spawn_app().await;
    let future = json!({"event_id": "f", "type": "page_view", "timestamp_ms": now() + 3_600_000,
                        "session_id": "s", "page_type": "home"});
    let batch = json!([
        view("ok1", "s"),
        {"event_id": "u", "type": "teleport", "timestamp_ms": now(), "session_id": "s"},
        future,
        {"event_id": "m", "type": "add_to_cart", "timestamp_ms": now(), "session_id": "s", "item_id": "i"},
        {"event_id": "p", "type": "checkout", "timestamp_ms": now(), "session_id": "s",
         "properties": {"blob": "x".repeat(5000)}},
        "not an object",
    ]);
    let r = app.post("/v1/events", app.key(Role::Agent), &batch).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.code(), "invalid_events");
    let bad: Vec<(u64, &str)> = r.body["error"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        bad,
        [
            (1, "unknown_type"),
            (2, "timestamp_in_future"),
            (3, "missing_field"),
            (4, "properties_too_large"),
            (5, "invalid_field"),
        ]
    );
    assert_eq!(r.body["error"]["events"][0]["event_id"], "u");
    let log = app.get("/v1/events", app.key(Role::Viewer)).await;
    assert_eq!(log.body["items"], json!([]), "nothing stored");
    let q = app
        .get("/v1/events/quarantine", app.key(Role::Viewer))
        .await;
    assert_eq!(q.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(q.body["items"][4]["code"], "unknown_type");
    assert_eq!(q.body["items"][4]["source"], "api");

    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("hc_events_rejected_total{source=\"api\",code=\"unknown_type\"}"),
        "{text}"
    );
    app.finish().await;
}

#[tokio::test]
async fn malformed_empty_and_oversized_batches_are_refused() {
    let mut c = config();
    c.events.max_batch = 3;
    let app = spawn_app_with(hc_store::testing::sqlite().await, c, MINI_DB).await;
    let key = app.key(Role::Agent).to_string();
    let r = post_raw(&app, &key, "application/json", "[{".into()).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let r = post_raw(&app, &key, "application/json", "{}".into()).await;
    assert_eq!((r.status, r.code()), (400, "expected_array"));
    let r = app.post("/v1/events", &key, &json!([])).await;
    assert_eq!((r.status, r.code()), (400, "empty_batch"));
    let four = json!([
        view("a", "s"),
        view("b", "s"),
        view("c", "s"),
        view("d", "s")
    ]);
    let r = app.post("/v1/events", &key, &four).await;
    assert_eq!((r.status, r.code()), (413, "batch_too_large"));
    app.finish().await;
}

#[tokio::test]
async fn roles_decide_who_posts_and_reads_events() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/v1/events",
            app.key(Role::Viewer),
            &json!([view("v", "s")]),
        )
        .await;
    assert_eq!(r.status, 403, "a viewer cannot write events");
    let tracker = app.key(Role::Tracker).to_string();
    let r = app
        .post("/v1/events", &tracker, &json!([view("t", "s")]))
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    for path in ["/v1/events", "/v1/sessions/s", "/v1/customers", "/v1/keys"] {
        let r = app.get(path, &tracker).await;
        assert_eq!(r.status, 403, "{path}: a tracker key only posts events");
    }
    let r = app
        .post(
            "/v1/tools/get_user_details",
            &tracker,
            &json!({"user_id": "x"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app.get("/v1/events", &app.other_key).await;
    assert_eq!(r.body["items"], json!([]), "another tenant sees nothing");
    app.finish().await;
}

#[tokio::test]
async fn sessions_show_their_counters_and_events() {
    let app = spawn_app().await;
    let t = now() - 10_000;
    let batch = json!([
        {"event_id": "1", "type": "page_view", "timestamp_ms": t, "session_id": "web-9", "page_type": "home", "duration_ms": 3000},
        {"event_id": "2", "type": "product_view", "timestamp_ms": t + 1000, "session_id": "web-9", "product_id": "p1", "price": 19.99},
        {"event_id": "3", "type": "add_to_cart", "timestamp_ms": t + 2000, "session_id": "web-9", "item_id": "i1", "price": 19.99, "quantity": 2},
    ]);
    assert_eq!(
        app.post("/v1/events", app.key(Role::Agent), &batch)
            .await
            .status,
        202
    );
    let r = app.get("/v1/sessions/web-9", app.key(Role::Viewer)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["session"]["events"], 3);
    assert_eq!(r.body["session"]["cart_value"], 39.98);
    assert_eq!(r.body["session"]["pages"]["home"]["duration_ms"], 3000);
    assert_eq!(r.body["closed"], false);
    assert_eq!(r.body["events"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.get("/v1/sessions/nope", app.key(Role::Viewer))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/v1/sessions/web-9", &app.other_key).await.status,
        404
    );
    app.finish().await;
}

#[tokio::test]
async fn the_replay_pages_through_the_log_in_order() {
    let app = spawn_app().await;
    let batch: Vec<Value> = (0..25).map(|i| view(&format!("r{i:02}"), "s")).collect();
    assert_eq!(
        app.post("/v1/events", app.key(Role::Agent), &json!(batch))
            .await
            .status,
        202
    );
    let mut cursor: Option<i64> = None;
    let mut seen = Vec::new();
    loop {
        let path = match cursor {
            Some(c) => format!("/v1/events?limit=10&after={c}"),
            None => "/v1/events?limit=10".to_string(),
        };
        let r = app.get(&path, app.key(Role::Viewer)).await;
        for e in r.body["items"].as_array().unwrap() {
            seen.push(e["event"]["event_id"].as_str().unwrap().to_string());
        }
        match r.body["next_cursor"].as_i64() {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("r{i:02}")).collect();
    assert_eq!(seen, expected);
    app.finish().await;
}

#[tokio::test]
async fn the_tracker_endpoint_takes_only_tracker_keys_and_small_batches() {
    let app = spawn_app().await;
    let url = |key: &str| format!("{}/t/v1/events?key={key}", app.base);
    let body = json!([view("t1", "w-1"), view("t2", "w-1")]).to_string();
    let r = app
        .send(
            app.client
                .post(url(app.key(Role::Tracker)))
                .header("content-type", "text/plain")
                .body(body.clone()),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 2);
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    let r = app
        .send(
            app.client
                .post(url(app.key(Role::Owner)))
                .body(body.clone()),
        )
        .await;
    assert_eq!(
        r.status, 403,
        "an owner key is refused on the public endpoint"
    );
    let r = app
        .send(app.client.post(url("hc_nonsense")).body(body.clone()))
        .await;
    assert_eq!(r.status, 401);
    let many: Vec<Value> = (0..51).map(|i| view(&format!("m{i}"), "w")).collect();
    let r = app
        .send(
            app.client
                .post(url(app.key(Role::Tracker)))
                .body(json!(many).to_string()),
        )
        .await;
    assert_eq!((r.status, r.code()), (413, "batch_too_large"));
    let js = app
        .client
        .get(format!("{}/t.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.text().await.unwrap().contains("/t/v1/events"));
    app.finish().await;
}

#[tokio::test]
async fn a_flood_on_the_tracker_endpoint_is_limited() {
    let mut c = config();
    c.events.tracker_rate_per_ip = 2; // burst 20
    let app = spawn_app_with(hc_store::testing::sqlite().await, c, MINI_DB).await;
    let url = format!("{}/t/v1/events?key={}", app.base, app.key(Role::Tracker));
    let mut statuses = Vec::new();
    for i in 0..40 {
        let body = json!([view(&format!("f{i}"), "w")]).to_string();
        statuses.push(app.send(app.client.post(&url).body(body)).await.status);
    }
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!((20..30).contains(&accepted), "{statuses:?}");
    assert_eq!(accepted + limited, 40, "{statuses:?}");
    app.finish().await;
}

#[tokio::test]
async fn a_flood_from_one_api_key_is_limited() {
    let mut c = config();
    c.rate_limit_per_sec = 5;
    c.rate_limit_burst = 10;
    let app = spawn_app_with(hc_store::testing::sqlite().await, c, MINI_DB).await;
    let mut limited = 0;
    for i in 0..30 {
        let r = app
            .post(
                "/v1/events",
                app.key(Role::Agent),
                &json!([view(&format!("k{i}"), "s")]),
            )
            .await;
        if r.status == 429 {
            assert!(r.headers.contains_key("retry-after"));
            limited += 1;
        }
    }
    assert!(limited >= 15, "{limited} of 30 limited");
    app.finish().await;
}

#[tokio::test]
async fn events_work_on_postgres_too() {
    let Some(db) = hc_store::testing::postgres().await else {
        return;
    };
    let app = spawn_app_with(db, config(), MINI_DB).await;
    let batch = json!([view("p1", "s"), view("p2", "s"), view("p1", "s")]);
    let r = app.post("/v1/events", app.key(Role::Agent), &batch).await;
    assert_eq!(r.body, json!({"accepted": 2, "duplicates": 1}));
    let r = app.get("/v1/sessions/s", app.key(Role::Viewer)).await;
    assert_eq!(r.body["session"]["events"], 2);
    app.finish().await;
}

/// A small intent model trained on synthetic sessions where buyers see more
/// product pages and add more to their carts (page value).
fn tiny_intent_model() -> hc_behavior::intent::IntentModel {
    use hc_behavior::intent::{IntentConfig, IntentModel, SessionFeatures, VisitorType, dataset};
    let mut sessions = Vec::new();
    let mut labels = Vec::new();
    for i in 0..400 {
        let buyer = i % 3 == 0;
        let noise = f64::from(i % 7);
        sessions.push(SessionFeatures {
            administrative: 0.0,
            administrative_duration: 0.0,
            informational: 0.0,
            informational_duration: 0.0,
            product_related: if buyer {
                8.0 + noise
            } else {
                1.0 + noise / 3.0
            },
            product_related_duration: if buyer { 300.0 } else { 40.0 } + noise * 10.0,
            bounce_rates: if buyer { 0.0 } else { 0.05 },
            exit_rates: 0.05,
            page_values: if buyer { 12.0 + noise } else { noise / 10.0 },
            special_day: 0.0,
            month: 11,
            operating_system: 1,
            browser: 1,
            region: 1,
            traffic_type: 1,
            visitor_type: VisitorType::New,
            weekend: false,
        });
        labels.push(buyer);
    }
    let data = dataset(&sessions, &labels).unwrap();
    let mut config = IntentConfig::default();
    config.gbt.max_trees = 40;
    config.gbt.min_samples_leaf = 5;
    config.threshold_folds = 0;
    IntentModel::train(&data, &config).unwrap()
}

#[tokio::test]
async fn session_insights_score_purchase_intent_as_events_arrive() {
    let dir = tempfile_dir();
    let path = dir.join("intent.json");
    std::fs::write(&path, tiny_intent_model().to_json()).unwrap();
    let mut c = config();
    c.events.intent_model = Some(path);
    let app = spawn_app_with(hc_store::testing::sqlite().await, c, MINI_DB).await;
    let t = now() - 600_000;
    let first = json!([
        {"event_id": "a", "type": "page_view", "timestamp_ms": t, "session_id": "live-1",
         "page_type": "home", "duration_ms": 20000, "customer_id": "u1"},
    ]);
    assert_eq!(
        app.post("/v1/events", app.key(Role::Agent), &first)
            .await
            .status,
        202
    );
    let before = app
        .get("/v1/sessions/live-1/insights", app.key(Role::Viewer))
        .await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert_eq!(before.body["features"]["product_related"], 1.0);
    assert_eq!(before.body["returning_visitor"], false);
    let p0 = before.body["intent"]["probability"].as_f64().unwrap();

    let more: Vec<Value> = (0..9)
        .flat_map(|i| {
            vec![
                json!({"event_id": format!("v{i}"), "type": "product_view", "timestamp_ms": t + 1000 + i * 2000,
                       "session_id": "live-1", "product_id": format!("p{i}"), "duration_ms": 40000}),
                json!({"event_id": format!("c{i}"), "type": "add_to_cart", "timestamp_ms": t + 2000 + i * 2000,
                       "session_id": "live-1", "item_id": format!("i{i}"), "price": 25.0, "quantity": 1}),
            ]
        })
        .collect();
    assert_eq!(
        app.post("/v1/events", app.key(Role::Agent), &json!(more))
            .await
            .status,
        202
    );
    let after = app
        .get("/v1/sessions/live-1/insights", app.key(Role::Viewer))
        .await;
    assert_eq!(after.body["features"]["product_related"], 10.0);
    let p1 = after.body["intent"]["probability"].as_f64().unwrap();
    assert!(
        p1 > p0 + 0.2,
        "intent rose with the browsing and cart adds: {p0} -> {p1}"
    );
    assert_eq!(after.body["intent"]["likely_to_buy"], true);

    // A later visit of the same customer is a returning visitor.
    let later = json!([{"event_id": "z", "type": "page_view", "timestamp_ms": now() - 1000,
                        "session_id": "live-2", "page_type": "home", "customer_id": "u1"}]);
    assert_eq!(
        app.post("/v1/events", app.key(Role::Agent), &later)
            .await
            .status,
        202
    );
    let r = app
        .get("/v1/sessions/live-2/insights", app.key(Role::Viewer))
        .await;
    assert_eq!(r.body["returning_visitor"], true);
    assert_eq!(
        app.get("/v1/sessions/none/insights", app.key(Role::Viewer))
            .await
            .status,
        404
    );
    app.finish().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn insights_without_a_model_have_features_and_no_score() {
    let app = spawn_app().await;
    let batch = json!([view("x1", "plain")]);
    assert_eq!(
        app.post("/v1/events", app.key(Role::Agent), &batch)
            .await
            .status,
        202
    );
    let r = app
        .get("/v1/sessions/plain/insights", app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["intent"], Value::Null);
    assert_eq!(r.body["features"]["bounce_rates"], 0.2);
    app.finish().await;
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hc-intent-{}-{}",
        std::process::id(),
        hc_domain::now_ms()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_large_batch_with_an_idempotency_key_is_stored_once() {
    let app = spawn_app().await;
    // About 1.5 MiB: over the general body limit, within the events limit.
    let batch: Vec<Value> = (0..6000)
        .map(|i| {
            let mut e = view(&format!("big-{i}"), "s");
            e["properties"] = json!({"url": format!("/products/{i}/{}", "x".repeat(100))});
            e
        })
        .collect();
    let body = json!(batch).to_string();
    assert!(body.len() > 1024 * 1024);
    let send = || {
        app.client
            .post(format!("{}/v1/events", app.base))
            .bearer_auth(app.key(Role::Agent))
            .header("content-type", "application/json")
            .header("idempotency-key", "batch-1")
            .body(body.clone())
    };
    let r = app.send(send()).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 6000);
    let again = app.send(send()).await;
    assert_eq!(again.status, 202);
    assert_eq!(
        again.body["accepted"], 6000,
        "the stored response is replayed"
    );
    app.finish().await;
}

#[tokio::test]
async fn recommendations_come_from_products_seen_together_in_the_tenants_sessions() {
    let app = spawn_app().await;
    let owner = app.key(Role::Owner).to_string();
    let now = hc_domain::now_ms();
    let (a, b, c, d) = ("1000000001", "1000000002", "1000000003", "1000000004");
    let mut events = Vec::new();
    let sessions: [(&str, &[&str]); 4] = [
        ("s1", &[a, b, c]),
        ("s2", &[a, b]),
        ("s3", &[d, c]),
        ("s4", &[d]),
    ];
    for (session, products) in sessions {
        for (i, p) in products.iter().enumerate() {
            events.push(
                json!({"event_id": format!("{session}-{i}"), "type": "product_view",
                "timestamp_ms": now - 10_000 + i as i64, "session_id": session, "product_id": p}),
            );
        }
    }
    let r = app.post("/v1/events", &owner, &json!(events)).await;
    assert_eq!(r.status, 202, "{}", r.body);

    let viewer = app.key(Role::Viewer).to_string();
    let r = app
        .post(
            "/v1/recommendations",
            &viewer,
            &json!({"product_ids": [a], "k": 3}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<&str> = r.body["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["product_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.first(), Some(&b), "seen with A most often: {}", r.body);
    assert!(
        !ids.contains(&a),
        "never the product asked about: {}",
        r.body
    );
    assert_eq!(
        r.body["recommendations"][0]["reason"],
        "seen with these products in similar sessions"
    );
    assert_eq!(r.body["model"]["sessions"], 4, "{}", r.body);

    // A stored session stands for its products.
    let r = app
        .post(
            "/v1/recommendations",
            &viewer,
            &json!({"session_id": "s4", "k": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["recommendations"][0]["product_id"], c, "{}", r.body);

    // Bad input: a clear error.
    for (body, status) in [
        (json!({"k": 0}), 400),
        (json!({"product_ids": [""]}), 400),
        (json!({"product_ids": vec!["1"; 101]}), 400),
        (json!({"session_id": "nope"}), 404),
        (json!({"surprise": 1}), 400),
    ] {
        let r = app.post("/v1/recommendations", &viewer, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
    }
    // Another tenant's shoppers are not this one's.
    let r = app
        .post(
            "/v1/recommendations",
            &app.other_key,
            &json!({"product_ids": [a]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["recommendations"], json!([]), "{}", r.body);
    app.finish().await;
}
