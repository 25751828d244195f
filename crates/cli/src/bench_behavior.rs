//! Behavior benchmarks: `recommendations` (latency of
//! `POST /v1/recommendations` over a 43,000-product catalog with shopper
//! sessions) and `rescore` (fitting the customer models and scoring every
//! customer of a shop of `--rescore-customers` customers, default 1,000,000).
//! Both build their own tenant in the bench database; set-up is not measured.

use std::time::Instant;

use anyhow::{Context, Result};
use hc_domain::retail::Options;
use hc_domain::{
    Address, Customer, Event, EventId, EventType, ItemId, Money, Order, OrderId, OrderItem,
    Payment, PaymentMethodId, PersonName, Product, ProductId, RetailDb, SessionId, Tenant,
    TenantId, TransactionType, UserId, Variant,
};
use hc_server::AppState;
use hc_store::{EventStore, SqlStore, TenantStore};
use indexmap::IndexMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;
const CATEGORIES: [&str; 8] = [
    "shoes", "jackets", "bags", "hats", "tents", "stoves", "lamps", "socks",
];

fn address() -> Address {
    Address {
        address1: "1 Bench Street".into(),
        address2: String::new(),
        city: "Austin".into(),
        country: "USA".into(),
        state: "TX".into(),
        zip: "78701".into(),
    }
}

fn product(i: usize, rng: &mut StdRng) -> Result<Product> {
    let mut variants = IndexMap::new();
    for v in 0..2 {
        let item_id = ItemId::parse(format!("i{i}-{v}"))?;
        variants.insert(
            item_id.clone(),
            Variant {
                item_id,
                options: Options::default(),
                // One product in ten is sold out.
                available: !i.is_multiple_of(10),
                price: Money::from_cents(rng.gen_range(500..50_000)),
                cost: None,
                stock: None,
            },
        );
    }
    Ok(Product {
        name: format!("Product {i}"),
        product_id: ProductId::parse(format!("p{i}"))?,
        variants,
        description: None,
        category: Some(CATEGORIES[i % CATEGORIES.len()].into()),
    })
}

fn customer(id: &str, orders: Vec<OrderId>) -> Result<Customer> {
    Ok(Customer {
        user_id: UserId::parse(id.to_string())?,
        name: PersonName {
            first_name: "Bench".into(),
            last_name: id.into(),
        },
        address: address(),
        email: format!("{id}@bench.example"),
        payment_methods: IndexMap::new(),
        orders,
        cart: Vec::new(),
    })
}

fn order(id: &str, user: &str, products: &[usize], at_ms: i64, rng: &mut StdRng) -> Result<Order> {
    let items: Vec<OrderItem> = products
        .iter()
        .map(|&p| {
            Ok(OrderItem {
                name: format!("Product {p}"),
                product_id: ProductId::parse(format!("p{p}"))?,
                item_id: ItemId::parse(format!("i{p}-0"))?,
                price: Money::from_cents(rng.gen_range(500..20_000)),
                options: Options::default(),
            })
        })
        .collect::<Result<_>>()?;
    let total = items.iter().map(|i| i.price).sum();
    Ok(Order::pending(
        OrderId::parse(id.to_string())?,
        UserId::parse(user.to_string())?,
        address(),
        items,
        Payment {
            transaction_type: TransactionType::Payment,
            amount: total,
            payment_method_id: PaymentMethodId::parse("credit_card_1".to_string())?,
        },
        Some(at_ms),
    ))
}

async fn new_tenant(store: &SqlStore, name: &str) -> Result<TenantId> {
    let t = TenantId::parse(name)?;
    store
        .create_tenant(&Tenant {
            id: t.clone(),
            name: name.into(),
            created_at_ms: hc_domain::now_ms(),
        })
        .await?;
    Ok(t)
}

/// Builds tenant `recs`: a 43,000-product catalog, shopper sessions of
/// product views (the Diginetica training sessions when `sessions` exists,
/// mapped onto the catalog; else synthetic sessions), and 2,000 customers
/// with orders. Returns the tenant and the request bodies to send.
pub async fn seed_recommendations(
    store: &SqlStore,
    sessions: &std::path::Path,
) -> Result<(TenantId, Vec<Value>)> {
    const PRODUCTS: usize = 43_000;
    const CUSTOMERS: usize = 2_000;
    let started = Instant::now();
    let t = new_tenant(store, "bench-recs").await?;
    let mut rng = StdRng::seed_from_u64(11);
    let mut db = RetailDb::default();
    for i in 0..PRODUCTS {
        let p = product(i, &mut rng)?;
        db.products.insert(p.product_id.clone(), p);
    }
    // Shopper sessions as lists of product indexes.
    let mut visits: Vec<Vec<usize>> = Vec::new();
    match std::fs::read_to_string(sessions) {
        Ok(text) => {
            for line in text.lines() {
                let items: Vec<usize> = line
                    .split_whitespace()
                    .filter_map(|x| x.parse::<usize>().ok())
                    .map(|x| x % PRODUCTS)
                    .collect();
                if !items.is_empty() {
                    visits.push(items);
                }
            }
        }
        Err(_) => {
            // Synthetic: each session wanders within a neighbourhood of products.
            for _ in 0..180_000 {
                let base = rng.gen_range(0..PRODUCTS);
                let n = rng.gen_range(2..8);
                visits.push(
                    (0..n)
                        .map(|_| (base + rng.gen_range(0..30)) % PRODUCTS)
                        .collect(),
                );
            }
        }
    }
    for c in 0..CUSTOMERS {
        let id = format!("bc{c:06}");
        let mut orders = Vec::new();
        for k in 0..3 {
            let oid = format!("#B{c:06}{k}");
            let v = &visits[rng.gen_range(0..visits.len())];
            let o = order(
                &oid,
                &id,
                &v[..v.len().min(2)],
                hc_domain::now_ms() - (k + 1) * 30 * DAY,
                &mut rng,
            )?;
            orders.push(o.order_id.clone());
            db.orders.insert(o.order_id.clone(), o);
        }
        let cu = customer(&id, orders)?;
        db.users.insert(cu.user_id.clone(), cu);
    }
    store.import_retail(&t, &db, "bench").await?;
    let now = hc_domain::now_ms();
    let n_visits = visits.len();
    let mut batch = Vec::with_capacity(10_000);
    for (s, items) in visits.iter().enumerate() {
        let session = SessionId::parse(format!("v{s}"))?;
        for (i, &p) in items.iter().enumerate() {
            batch.push(Event {
                event_id: EventId::parse(format!("v{s}-{i}"))?,
                kind: EventType::ProductView,
                timestamp_ms: now - ((n_visits - s) as i64) * 1_000 + i as i64,
                session_id: session.clone(),
                customer_id: None,
                product_id: Some(ProductId::parse(format!("p{p}"))?),
                item_id: None,
                price: None,
                quantity: None,
                page_type: None,
                duration_ms: None,
                query: None,
                properties: Default::default(),
            });
        }
        if batch.len() >= 10_000 {
            store.append_events(&t, std::mem::take(&mut batch)).await?;
        }
    }
    store.append_events(&t, batch).await?;
    // Queries: the last one to three products of random sessions, a quarter
    // with a customer, a quarter with category and price filters.
    let mut bodies = Vec::new();
    for q in 0..5_000 {
        let v = &visits[rng.gen_range(0..visits.len())];
        let take = rng.gen_range(1..=3).min(v.len());
        let products: Vec<String> = v[v.len() - take..]
            .iter()
            .map(|p| format!("p{p}"))
            .collect();
        let mut body = json!({"product_ids": products, "k": 20});
        match q % 4 {
            1 => body["customer_id"] = json!(format!("bc{:06}", rng.gen_range(0..CUSTOMERS))),
            2 => {
                body["filters"] = json!({"category": CATEGORIES[rng.gen_range(0..CATEGORIES.len())],
                    "min_price": 20.00, "max_price": 300.00})
            }
            _ => {}
        }
        bodies.push(body);
    }
    eprintln!(
        "recommendations: seeded {PRODUCTS} products, {} sessions, {CUSTOMERS} customers in {:.1} s",
        visits.len(),
        started.elapsed().as_secs_f64()
    );
    Ok((t, bodies))
}

/// Builds tenant `bench-rescore` with `customers` customers whose orders
/// follow a buy-till-you-die pattern over two years, then times
/// `hc_server::behavior::rescore` (fit + score + store every customer).
pub async fn rescore(state: &AppState, store: &SqlStore, customers: usize) -> Result<Value> {
    const CHUNK: usize = 20_000;
    let started = Instant::now();
    let t = new_tenant(store, "bench-rescore").await?;
    let mut rng = StdRng::seed_from_u64(5);
    let now = hc_domain::now_ms();
    let mut orders_total = 0usize;
    for chunk in 0..customers.div_ceil(CHUNK) {
        let mut db = RetailDb::default();
        for c in chunk * CHUNK..((chunk + 1) * CHUNK).min(customers) {
            let id = format!("c{c:07}");
            let start = now - rng.gen_range(30..730) * DAY;
            // Active customers buy until now; others stop somewhere along the way.
            let end = if rng.gen_bool(0.5) {
                now
            } else {
                rng.gen_range(start..now)
            };
            let gap = rng.gen_range(20..200) * DAY;
            let mut ids = Vec::new();
            let mut at = start;
            while at < end && ids.len() < 12 {
                let oid = format!("#{c:07}-{}", ids.len());
                let n = rng.gen_range(1..=2);
                let items: Vec<usize> = (0..n).map(|_| rng.gen_range(0..1_000)).collect();
                let o = order(&oid, &id, &items, at, &mut rng)?;
                ids.push(o.order_id.clone());
                db.orders.insert(o.order_id.clone(), o);
                at += gap + rng.gen_range(0..30) * DAY;
            }
            orders_total += ids.len();
            let cu = customer(&id, ids)?;
            db.users.insert(cu.user_id.clone(), cu);
        }
        store.import_retail(&t, &db, "bench").await?;
    }
    let seeded = started.elapsed().as_secs_f64();
    eprintln!("rescore: seeded {customers} customers with {orders_total} orders in {seeded:.1} s");
    let timed = Instant::now();
    let report = hc_server::behavior::rescore(state, &t, true)
        .await
        .map_err(|e| anyhow::anyhow!("rescoring failed: {}", e.message))
        .context("rescore")?;
    let seconds = timed.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.customers as usize == customers,
        "{customers} customers but {} scored",
        report.customers
    );
    eprintln!(
        "{:<30} {customers} customers in {seconds:.1} s (fit {:.1} s, score+store {:.1} s), {:.0} customers/s",
        "rescore",
        report.fit_seconds,
        report.score_seconds,
        customers as f64 / seconds
    );
    Ok(json!({
        "customers": customers, "orders": orders_total, "seconds": (seconds * 100.0).round() / 100.0,
        "fit_seconds": (report.fit_seconds * 100.0).round() / 100.0,
        "score_seconds": (report.score_seconds * 100.0).round() / 100.0,
        "customers_per_sec": (customers as f64 / seconds).round(),
        "scored_churn": report.scored_churn, "model": report.model,
    }))
}
