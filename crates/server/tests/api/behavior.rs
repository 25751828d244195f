//! Customer insights (cold start and a shop with history), recommendations
//! with customer history and business filters, batch rescoring, and
//! triggers whose webhooks reach a local HTTP receiver through the outbox.

use std::sync::{Arc, Mutex};

use hc_domain::{
    Address, Customer, Money, Order, OrderId, OrderItem, Payment, PaymentMethodId, PersonName,
    Product, ProductId, RetailDb, Role, TransactionType, UserId, Variant,
};
use hc_domain::{ItemId, retail::Options};
use indexmap::IndexMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::{MINI_DB, TestApp, config, spawn_app, spawn_app_with};

const DAY: i64 = 86_400_000;

fn address() -> Address {
    Address {
        address1: "1 Elm St".into(),
        address2: String::new(),
        city: "Austin".into(),
        country: "USA".into(),
        state: "TX".into(),
        zip: "78701".into(),
    }
}

/// Products p1…p6: p1–p3 shoes, p4–p6 bags; p3 is sold out; prices 10, 20, …, 60.
fn products() -> IndexMap<ProductId, Product> {
    (1..=6)
        .map(|i| {
            let item = ItemId::parse(format!("i{i}")).unwrap();
            let p = Product {
                name: format!("Product {i}"),
                product_id: ProductId::parse(format!("p{i}")).unwrap(),
                variants: IndexMap::from([(
                    item.clone(),
                    Variant {
                        item_id: item,
                        options: Options::default(),
                        available: i != 3,
                        price: Money::from_cents(1_000 * i),
                        cost: None,
                        stock: None,
                    },
                )]),
                description: None,
                category: Some(if i <= 3 { "Shoes" } else { "Bags" }.into()),
            };
            (p.product_id.clone(), p)
        })
        .collect()
}

/// A shop of `n` customers over two years: odd ones buy every 15–35 days up
/// to now, even ones stopped 150–300 days ago. Customer `c00001` is active,
/// `c00000` lapsed.
fn shop_db(n: usize) -> String {
    let mut rng = StdRng::seed_from_u64(21);
    let now = hc_domain::now_ms();
    let mut db = RetailDb {
        products: products(),
        ..Default::default()
    };
    for c in 0..n {
        let id = format!("c{c:05}");
        let start = now - rng.gen_range(300..700) * DAY;
        let end = if c % 2 == 0 {
            now - rng.gen_range(150..300) * DAY
        } else {
            now - rng.gen_range(1..15) * DAY
        };
        let gap = rng.gen_range(15..35) * DAY;
        let (mut at, mut orders) = (start, Vec::new());
        while at < end {
            let p = rng.gen_range(1..=6);
            let price = Money::from_cents(rng.gen_range(2_000..8_000));
            let o = Order::pending(
                OrderId::parse(format!("#C{c:05}-{}", orders.len())).unwrap(),
                UserId::parse(id.clone()).unwrap(),
                address(),
                vec![OrderItem {
                    name: format!("Product {p}"),
                    product_id: ProductId::parse(format!("p{p}")).unwrap(),
                    item_id: ItemId::parse(format!("i{p}")).unwrap(),
                    price,
                    options: Options::default(),
                }],
                Payment {
                    transaction_type: TransactionType::Payment,
                    amount: price,
                    payment_method_id: PaymentMethodId::parse("paypal_1".to_string()).unwrap(),
                },
                Some(at),
            );
            orders.push(o.order_id.clone());
            db.orders.insert(o.order_id.clone(), o);
            at += gap + rng.gen_range(0..5) * DAY;
        }
        db.users.insert(
            UserId::parse(id.clone()).unwrap(),
            Customer {
                user_id: UserId::parse(id.clone()).unwrap(),
                name: PersonName {
                    first_name: "C".into(),
                    last_name: id.clone(),
                },
                address: address(),
                email: format!("{id}@example.com"),
                payment_methods: IndexMap::new(),
                orders,
                cart: Vec::new(),
            },
        );
    }
    // One customer who has not ordered yet.
    let new = UserId::parse("newbie_1".to_string()).unwrap();
    db.users.insert(
        new.clone(),
        Customer {
            user_id: new,
            name: PersonName {
                first_name: "New".into(),
                last_name: "Bie".into(),
            },
            address: address(),
            email: "newbie@example.com".into(),
            payment_methods: IndexMap::new(),
            orders: Vec::new(),
            cart: Vec::new(),
        },
    );
    serde_json::to_string(&db).unwrap()
}

async fn insights(app: &TestApp, id: &str) -> Value {
    let r = app
        .get(
            &format!("/v1/customers/{id}/insights"),
            app.key(Role::Viewer),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn a_tiny_shop_gets_honest_insights(app: TestApp) {
    let b = insights(&app, "zoe_muller_1").await;
    assert_eq!(b["features"]["orders"], 2, "{b}");
    assert_eq!(b["features"]["monetary"], 98.64, "{b}");
    // Two customers cannot support churn, purchase or value models: null, with the reason.
    assert_eq!(b["churn"], Value::Null, "{b}");
    assert_eq!(b["clv"], Value::Null, "{b}");
    let parts: Vec<&str> = b["unavailable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["part"].as_str().unwrap())
        .collect();
    assert!(parts.contains(&"churn") && parts.contains(&"clv"), "{b}");
    assert!(
        b["unavailable"][0]["reason"].as_str().unwrap().len() > 20,
        "{b}"
    );
    assert_eq!(b["model"]["customers"], 2, "{b}");
    // No orders (the only one was cancelled): a prospect.
    let b = insights(&app, "sam_lee_2").await;
    assert_eq!(b["features"]["orders"], 0, "{b}");
    assert_eq!(b["segment"]["name"], "Prospect", "{b}");
    // Unknown here, and another tenant's key cannot see this tenant's customer.
    let r = app
        .get("/v1/customers/nobody_1/insights", app.key(Role::Viewer))
        .await;
    assert_eq!((r.status, r.code()), (404, "user_not_found"), "{}", r.body);
    let r = app
        .get("/v1/customers/zoe_muller_1/insights", &app.other_key)
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .get(
            "/v1/customers/zoe_muller_1/insights",
            app.key(Role::Tracker),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app
        .get(
            "/v1/customers/zoe_muller_1/insights?k=99",
            app.key(Role::Viewer),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    app.finish().await;
}

#[tokio::test]
async fn a_tiny_shop_gets_honest_insights_on_sqlite() {
    a_tiny_shop_gets_honest_insights(spawn_app().await).await;
}

#[tokio::test]
async fn a_tiny_shop_gets_honest_insights_on_postgres() {
    let Some(db) = hc_store::testing::postgres().await else {
        return;
    };
    a_tiny_shop_gets_honest_insights(spawn_app_with(db, config(), MINI_DB).await).await;
}

async fn a_shop_with_history_gets_trained_scores(app: TestApp) {
    let active = insights(&app, "c00001").await;
    let lapsed = insights(&app, "c00000").await;
    for b in [&active, &lapsed] {
        assert_eq!(b["churn"]["basis"], "gbt", "{b}");
        assert_eq!(b["model"]["churn"], "gbt", "{b}");
        assert!(b["clv"]["next_365_days"].is_number(), "{b}");
        assert!(b["segment"]["name"].is_string(), "{b}");
        assert!(!b["reasons"].as_array().unwrap().is_empty(), "{b}");
        assert_eq!(b["unavailable"], json!([]), "{b}");
    }
    let p = |b: &Value| b["churn"]["probability"].as_f64().unwrap();
    assert!(p(&lapsed) > 0.9, "{lapsed}");
    // The purchase model tells them apart: the active customer is far more
    // likely alive and expected to buy. (The churn trees do not separate
    // these two well on this small synthetic shop; see docs/BEHAVIOR.md.)
    let alive = |b: &Value| b["purchases"]["p_alive"].as_f64().unwrap();
    assert!(alive(&active) > alive(&lapsed) + 0.5, "{active} / {lapsed}");
    let clv = |b: &Value| b["clv"]["next_365_days"].as_f64().unwrap();
    assert!(clv(&active) > clv(&lapsed), "{active} / {lapsed}");
    let newbie = insights(&app, "newbie_1").await;
    assert_eq!(newbie["churn"], Value::Null);
    assert_eq!(newbie["segment"]["name"], "Prospect");

    // Batch rescoring: admin only; every customer gets a stored score.
    let r = app
        .post("/v1/customers/rescore", app.key(Role::Viewer), &json!({}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app
        .post("/v1/customers/rescore", app.key(Role::Admin), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["customers"], 201, "{}", r.body);
    assert_eq!(r.body["scored_churn"], 200, "{}", r.body);
    let b = insights(&app, "c00000").await;
    let stored = b["stored_score"]["churn"].as_f64().unwrap();
    assert!((stored - p(&lapsed)).abs() < 0.05, "{b}");
    app.finish().await;
}

#[tokio::test]
async fn a_shop_with_history_gets_trained_scores_on_sqlite() {
    let db = hc_store::testing::sqlite().await;
    a_shop_with_history_gets_trained_scores(spawn_app_with(db, config(), &shop_db(200)).await)
        .await;
}

#[tokio::test]
async fn a_shop_with_history_gets_trained_scores_on_postgres() {
    let Some(db) = hc_store::testing::postgres().await else {
        return;
    };
    a_shop_with_history_gets_trained_scores(spawn_app_with(db, config(), &shop_db(200)).await)
        .await;
}

fn view(id: &str, session: &str, product: &str, at: i64) -> Value {
    json!({"event_id": id, "type": "product_view", "timestamp_ms": at,
           "session_id": session, "product_id": product})
}

fn ids(b: &Value) -> Vec<String> {
    b["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["product_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn recommendations_use_customer_history_and_business_filters() {
    let db = hc_store::testing::sqlite().await;
    let app = spawn_app_with(db, config(), &shop_db(4)).await;
    let now = hc_domain::now_ms() - 60_000;
    // p1 is seen with p2, p3 (sold out), p5 and p6; p4 only with p5.
    let sessions: [(&str, &[&str]); 6] = [
        ("s1", &["p1", "p3", "p2"]),
        ("s2", &["p1", "p3"]),
        ("s3", &["p1", "p2", "p5"]),
        ("s4", &["p1", "p6"]),
        ("s5", &["p4", "p5"]),
        ("s6", &["p1", "p3", "p6"]),
    ];
    let mut events = Vec::new();
    for (s, products) in sessions {
        for (i, p) in products.iter().enumerate() {
            events.push(view(&format!("{s}-{i}"), s, p, now + i as i64));
        }
    }
    let r = app
        .post("/v1/events", app.key(Role::Agent), &json!(events))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let viewer = app.key(Role::Viewer).to_string();
    let rec = |body: Value| {
        let (app, viewer) = (&app, viewer.clone());
        async move { app.post("/v1/recommendations", &viewer, &body).await }
    };

    // Sold out p3 is the strongest co-view of p1, but only in stock is shown by default.
    let r = rec(json!({"product_ids": ["p1"], "k": 5})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!ids(&r.body).contains(&"p3".to_string()), "{}", r.body);
    let r = rec(json!({"product_ids": ["p1"], "k": 5, "filters": {"in_stock_only": false}})).await;
    assert_eq!(ids(&r.body)[0], "p3", "{}", r.body);

    // Category and price range.
    let r = rec(json!({"product_ids": ["p1"], "k": 5, "filters": {"category": "bags"}})).await;
    let got = ids(&r.body);
    assert!(
        !got.is_empty() && got.iter().all(|p| ["p4", "p5", "p6"].contains(&p.as_str())),
        "{}",
        r.body
    );
    let r = rec(json!({"product_ids": ["p1"], "k": 5,
        "filters": {"min_price": 45.00, "max_price": 55.00}}))
    .await;
    assert_eq!(ids(&r.body), ["p5"], "{}", r.body);
    // k is the most results.
    let r = rec(json!({"product_ids": ["p1"], "k": 2})).await;
    assert_eq!(ids(&r.body).len(), 2, "{}", r.body);

    // A customer's purchases are the context and are not recommended back.
    let h = app.db.store.clone();
    let bought = hc_store::BehaviorStore::customer_history(
        &h,
        &hc_domain::TenantId::parse("shop").unwrap(),
        &UserId::parse("c00001".to_string()).unwrap(),
        hc_domain::now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
    let purchased: Vec<String> = bought
        .orders
        .iter()
        .flat_map(|o| o.lines.iter().map(|l| l.product.clone()))
        .collect();
    assert!(!purchased.is_empty());
    let r = rec(json!({"customer_id": "c00001", "k": 6})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for p in ids(&r.body) {
        assert!(!purchased.contains(&p), "{p} was bought: {}", r.body);
    }
    let r = rec(json!({"customer_id": "c00001", "k": 6, "filters": {"exclude_purchased": false, "in_stock_only": false}})).await;
    assert!(
        ids(&r.body).iter().any(|p| purchased.contains(p)),
        "{}",
        r.body
    );

    for (body, status) in [
        (
            json!({"filters": {"min_price": 50.00, "max_price": 10.00}}),
            400,
        ),
        (json!({"filters": {"min_price": "abc"}}), 400),
        (json!({"filters": {"colour": "red"}}), 400),
        (json!({"filters": {"category": " "}}), 400),
        (json!({"customer_id": "nobody_1"}), 404),
    ] {
        let r = rec(body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
    }
    app.finish().await;
}

/// A local webhook receiver: records each request; answers 500 to the
/// first one (so the outbox must retry), 200 afterwards.
async fn receiver() -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    use axum::http::StatusCode;
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut s = seen.lock().unwrap();
                s.push((headers, body));
                if s.len() == 1 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

fn signature(secret: &str, body: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2_v11::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn wait_for(got: &Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>, n: usize) {
    for _ in 0..200 {
        if got.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{} of {n} webhooks arrived", got.lock().unwrap().len());
}

#[tokio::test]
async fn a_churn_risk_trigger_posts_a_signed_webhook_that_is_retried() {
    let (url, got) = receiver().await;
    let db = hc_store::testing::sqlite().await;
    let app = spawn_app_with(db, config(), &shop_db(40)).await;
    let admin = app.key(Role::Admin).to_string();
    // Bad rules are refused with the reason; viewers cannot create.
    for bad in [
        json!({"name": "x", "webhook_url": "ftp://h/x", "condition": {"kind": "churn_risk", "threshold": 0.5}}),
        json!({"name": "x", "webhook_url": url, "condition": {"kind": "churn_risk", "threshold": 3}}),
        json!({"name": "x", "webhook_url": url, "condition": {"kind": "cart_abandoned", "min_intent": 0.5}}),
    ] {
        let r = app.post("/v1/triggers", &admin, &bad).await;
        assert_eq!(
            (r.status, r.code()),
            (422, "invalid_trigger"),
            "{bad}: {}",
            r.body
        );
    }
    let rule = json!({"name": "churn risk", "webhook_url": url,
        "condition": {"kind": "churn_risk", "threshold": 0.5}});
    let r = app.post("/v1/triggers", app.key(Role::Viewer), &rule).await;
    assert_eq!(r.status, 403);
    let r = app.post("/v1/triggers", &admin, &rule).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let r = app.get("/v1/triggers", app.key(Role::Viewer)).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert!(
        !r.body.to_string().contains(&secret),
        "the secret is shown once"
    );

    // The first scoring sets the baseline: nothing crosses.
    let r = app.post("/v1/customers/rescore", &admin, &json!({})).await;
    assert_eq!(
        (r.status, r.body["triggers_fired"].as_u64()),
        (200, Some(0)),
        "{}",
        r.body
    );
    // Everyone was at 0 before this scoring: each customer now at ≥ 0.5 crosses.
    let t = hc_domain::TenantId::parse("shop").unwrap();
    let store = app.db.store.clone();
    let mut before = Vec::new();
    let mut risky = 0;
    let mut after = None;
    loop {
        let page =
            hc_store::BehaviorStore::customer_histories(&store, &t, after.as_deref(), 100, 0)
                .await
                .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.customer.clone());
        for h in &page {
            let s = hc_store::BehaviorStore::customer_score(
                &store,
                &t,
                &UserId::parse(h.customer.clone()).unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
            risky += usize::from(s.churn.is_some_and(|c| c >= 0.5));
            before.push(hc_domain::CustomerScoreRecord {
                churn: s.churn.map(|_| 0.0),
                ..s
            });
        }
    }
    assert!(risky > 0);
    hc_store::BehaviorStore::put_customer_scores(&store, &t, &before, &[])
        .await
        .unwrap();
    let r = app
        .post("/v1/customers/rescore?refit=false", &admin, &json!({}))
        .await;
    assert_eq!(r.body["triggers_fired"], risky, "{}", r.body);

    // Each webhook arrives, the first after a retry, signed with the secret.
    wait_for(&got, risky + 1).await;
    let got = got.lock().unwrap().clone();
    let (first, retried) = (&got[0], &got[1..]);
    assert!(
        retried
            .iter()
            .any(|(h, b)| b == &first.1 && h["x-hc-delivery"] == first.0["x-hc-delivery"])
    );
    for (headers, body) in &got {
        assert_eq!(headers["x-hc-event"], "churn_risk");
        assert_eq!(headers["x-hc-signature"], signature(&secret, body).as_str());
        let v: Value = serde_json::from_str(body).unwrap();
        assert!(
            v["churn"].as_f64().unwrap() >= 0.5 && v["previous"] == 0.0,
            "{v}"
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn an_abandoned_cart_fires_once_after_the_session_ends() {
    let (url, got) = receiver().await;
    let mut cfg = config();
    cfg.behavior.trigger_sweep_secs = 1;
    let app = spawn_app_with(hc_store::testing::sqlite().await, cfg, MINI_DB).await;
    let admin = app.key(Role::Admin).to_string();
    let r = app
        .post(
            "/v1/triggers",
            &admin,
            &json!({"name": "cart", "webhook_url": url,
            "condition": {"kind": "cart_abandoned", "min_cart_value": 20.00}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Sessions whose last event is 30 minutes minus 1.5 s ago: they end in 1.5 s.
    let at = hc_domain::now_ms() - hc_domain::SESSION_GAP_MS + 1_500;
    let cart = |id: &str, session: &str, price: f64| {
        json!({"event_id": id, "type": "add_to_cart", "timestamp_ms": at, "session_id": session,
               "customer_id": "zoe_muller_1", "product_id": "1000000001", "quantity": 1, "price": price})
    };
    let events = json!([
        cart("a1", "abandoned", 50.88),
        cart("b1", "small", 5.00),
        cart("c1", "bought", 50.88),
        {"event_id": "c2", "type": "purchase", "timestamp_ms": at + 1, "session_id": "bought", "price": 50.88},
    ]);
    let r = app.post("/v1/events", app.key(Role::Agent), &events).await;
    assert_eq!(r.status, 202, "{}", r.body);
    // The first attempt gets a 500 and is retried: two requests, one session.
    wait_for(&got, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "fired once, retried once: {got:?}");
    for (headers, body) in &got {
        assert_eq!(headers["x-hc-event"], "cart_abandoned");
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["session_id"], "abandoned", "{v}");
        assert_eq!(v["customer_id"], "zoe_muller_1", "{v}");
        assert_eq!(v["cart_value"], 50.88, "{v}");
    }
    // Deleting the trigger.
    let id = app.get("/v1/triggers", &admin).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/v1/triggers/{id}"), &admin)
            .await
            .status,
        204
    );
    assert_eq!(
        app.delete(&format!("/v1/triggers/{id}"), &admin)
            .await
            .status,
        404
    );
    app.finish().await;
}
