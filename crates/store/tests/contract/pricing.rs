//! The pricing service's tables: rules seed the base price from the catalog,
//! a live change moves the catalog price with its history entry, approvals
//! supersede and decide once, competitor prices and demand models are
//! tenant-scoped.

use hc_commerce::ports::CatalogStore;
use hc_domain::{ItemId, Money};
use hc_store::{
    ApprovalStatus, CompetitorObservation, DemandApply, DemandRow, DemandRows, DemandUpdate,
    NewPriceChange, PricingStore, Sale, testing,
};
use serde_json::json;

use crate::fixture::seeded;

fn item(id: &str) -> ItemId {
    ItemId::parse(id).unwrap()
}

fn m(cents: i64) -> Money {
    Money::from_cents(cents)
}

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn rules_seed_prices_and_a_live_change_moves_the_catalog_with_history() {
    for db in testing::all().await {
        let s = &db.store;
        let t = seeded(s, "shop").await;
        let other = seeded(s, "other").await;
        let shirt = item("2000000001");
        // Not in the catalog: nothing stored.
        assert_eq!(
            s.put_price_rules(&t, &item("9999999999"), &json!({}), DAY)
                .await
                .unwrap(),
            None,
            "{}",
            db.label
        );
        let p = s
            .put_price_rules(&t, &shirt, &json!({"mode": "auto"}), DAY + 5)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((p.base, p.current, p.day_open), (m(5088), m(5088), m(5088)));
        assert_eq!(p.rules, json!({"mode": "auto"}));
        // Replacing the rules keeps the prices.
        s.put_price_rules(&t, &shirt, &json!({"mode": "approve"}), DAY + 6)
            .await
            .unwrap();
        let p = s.priced_item(&t, &shirt).await.unwrap().unwrap();
        assert_eq!(
            (p.rules["mode"].as_str(), p.current),
            (Some("approve"), m(5088))
        );
        assert!(s.priced_item(&other, &shirt).await.unwrap().is_none());

        let change = NewPriceChange {
            item_id: shirt.clone(),
            from: Some(m(5088)),
            to: m(4999),
            reason: json!({"policy": "ts_contextual", "clips": []}),
            at_ms: 2 * DAY + 1,
        };
        let entry = s.apply_price(&t, &change).await.unwrap();
        assert_eq!((entry.status.as_str(), entry.to), ("live", m(4999)));
        let p = s.priced_item(&t, &shirt).await.unwrap().unwrap();
        assert_eq!(p.current, m(4999));
        // A new day opened at the price before the change.
        assert_eq!((p.day_open, p.day), (m(5088), 2));
        assert_eq!(p.day_open_at(2 * DAY + 9), m(5088));
        assert_eq!(p.day_open_at(3 * DAY), m(4999));
        let product = s.product_of_item(&t, &shirt).await.unwrap().unwrap();
        assert_eq!(product.variants[&shirt].price, m(4999), "{}", db.label);
        // The other tenant's catalog is untouched.
        assert!(
            s.product_of_item(&other, &shirt)
                .await
                .unwrap()
                .unwrap()
                .variants[&shirt]
                .price
                == m(5088)
        );
        // A stale change (from the old price) is a conflict and changes nothing.
        let err = s.apply_price(&t, &change).await.unwrap_err();
        assert!(matches!(err, hc_store::Error::Conflict(_)), "{err}");
        let history = s.price_history(&t, &shirt, 10).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].reason["policy"], "ts_contextual");
        assert_eq!(history[0].from, Some(m(5088)));
        assert!(
            s.price_history(&other, &shirt, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.priced_items(&t, None).await.unwrap().len(), 1);
        assert!(
            s.priced_items(&t, Some(&[item("2000000002")]))
                .await
                .unwrap()
                .is_empty()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn approvals_supersede_and_are_decided_once() {
    for db in testing::all().await {
        let s = &db.store;
        let t = seeded(s, "shop").await;
        let shirt = item("2000000001");
        s.put_price_rules(&t, &shirt, &json!({"mode": "approve"}), 1)
            .await
            .unwrap();
        let change = |to: i64, at_ms: i64| NewPriceChange {
            item_id: shirt.clone(),
            from: Some(m(5088)),
            to: m(to),
            reason: json!({"policy": "ts_contextual"}),
            at_ms,
        };
        let first = s.queue_price(&t, &change(4500, 10)).await.unwrap();
        let second = s.queue_price(&t, &change(4600, 20)).await.unwrap();
        let pending = s
            .price_approvals(&t, Some(ApprovalStatus::Pending))
            .await
            .unwrap();
        assert_eq!(pending.len(), 1, "{}", db.label);
        assert_eq!((pending[0].id, pending[0].to), (second.id, m(4600)));
        let old = s.price_approval(&t, first.id).await.unwrap().unwrap();
        assert_eq!(old.status, ApprovalStatus::Superseded);
        assert_eq!(s.price_approvals(&t, None).await.unwrap().len(), 2);
        // Queued changes are not live.
        assert_eq!(
            s.priced_item(&t, &shirt).await.unwrap().unwrap().current,
            m(5088)
        );

        // Approving against a moved price is a conflict and leaves it pending.
        let err = s
            .decide_price(&t, second.id, true, m(1), 30)
            .await
            .unwrap_err();
        assert!(matches!(err, hc_store::Error::Conflict(_)), "{err}");
        assert_eq!(
            s.price_approval(&t, second.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            ApprovalStatus::Pending
        );
        let done = s
            .decide_price(&t, second.id, true, m(5088), 40)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (done.status, done.decided_at_ms),
            (ApprovalStatus::Approved, Some(40))
        );
        assert_eq!(
            s.priced_item(&t, &shirt).await.unwrap().unwrap().current,
            m(4600)
        );
        let product = s.product_of_item(&t, &shirt).await.unwrap().unwrap();
        assert_eq!(product.variants[&shirt].price, m(4600));
        // Decided once.
        assert!(
            s.decide_price(&t, second.id, false, m(4600), 50)
                .await
                .is_err()
        );
        assert!(
            s.decide_price(&t, 999_999, true, m(4600), 50)
                .await
                .unwrap()
                .is_none()
        );
        let statuses: Vec<String> = s
            .price_history(&t, &shirt, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.status)
            .collect();
        assert_eq!(statuses, ["approved", "pending", "pending"]);

        // Rejection records and changes no price.
        let third = s.queue_price(&t, &change(4000, 60)).await.unwrap();
        let rejected = s
            .decide_price(&t, third.id, false, m(4600), 70)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rejected.status, ApprovalStatus::Rejected);
        assert_eq!(
            s.priced_item(&t, &shirt).await.unwrap().unwrap().current,
            m(4600)
        );
        assert_eq!(
            s.price_history(&t, &shirt, 1).await.unwrap()[0].status,
            "rejected"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn competitor_prices_and_demand_models_are_per_tenant() {
    for db in testing::all().await {
        let s = &db.store;
        let t = seeded(s, "shop").await;
        let other = seeded(s, "other").await;
        let shirt = item("2000000001");
        let obs = |competitor: &str, cents: i64, at: i64| CompetitorObservation {
            item_id: shirt.clone(),
            competitor: competitor.into(),
            price: m(cents),
            observed_at: at,
        };
        let n = s
            .put_competitor_prices(
                &t,
                &[obs("x", 4000, 1), obs("y", 4200, 1), obs("x", 3900, 2)],
            )
            .await
            .unwrap();
        assert_eq!(n, 3);
        // The same competitor and time replaces.
        s.put_competitor_prices(&t, &[obs("x", 3800, 2)])
            .await
            .unwrap();
        let got = s.competitor_prices(&t, &shirt).await.unwrap();
        assert_eq!(got.len(), 3, "{}", db.label);
        assert_eq!(got.last().unwrap().price, m(3800));
        assert!(
            s.competitor_prices(&other, &shirt)
                .await
                .unwrap()
                .is_empty()
        );

        assert_eq!(s.demand_model(&t).await.unwrap(), None);
        // A learning batch creates the rows, and sees them on the next one.
        s.learn_demand(
            &t,
            std::slice::from_ref(&shirt),
            &[(shirt.clone(), Some("tees".into()))],
            counting(None),
        )
        .await
        .unwrap();
        let rows = s.demand_rows(&t, None).await.unwrap();
        assert_eq!(rows.items.len(), 1, "{}", db.label);
        assert_eq!(
            (
                rows.items[0].category.as_deref(),
                rows.items[0].doc.as_str()
            ),
            (Some("tees"), "1")
        );
        assert_eq!(rows.categories[0].doc, "1");
        assert_eq!(
            s.demand_rows(&other, None).await.unwrap(),
            DemandRows::default()
        );
        // Importing a legacy document never overwrites a learned row.
        let legacy = DemandRows {
            items: vec![
                DemandRow {
                    key: shirt.to_string(),
                    category: None,
                    doc: "99".into(),
                },
                DemandRow {
                    key: "2000000002".into(),
                    category: None,
                    doc: "7".into(),
                },
            ],
            categories: vec![],
        };
        s.import_demand(&t, &legacy).await.unwrap();
        let rows = s
            .demand_rows(&t, Some(&[shirt.clone(), item("2000000002")]))
            .await
            .unwrap();
        let docs: Vec<&str> = rows.items.iter().map(|r| r.doc.as_str()).collect();
        assert_eq!(docs, ["1", "7"], "{}", db.label);
        // A failing batch changes nothing.
        let err = s
            .learn_demand(
                &t,
                std::slice::from_ref(&shirt),
                &[],
                Box::new(|_| Err("no".into())),
            )
            .await;
        assert!(err.is_err());
        let rows = s
            .demand_rows(&t, Some(std::slice::from_ref(&shirt)))
            .await
            .unwrap();
        assert_eq!(rows.items[0].doc, "1");
        db.finish().await;
    }
}

/// A batch that adds one to every row's counter (and records one sale when asked).
fn counting(sale: Option<Sale>) -> DemandApply {
    Box::new(move |rows: DemandRows| {
        let bump = |r: &DemandRow| DemandRow {
            doc: (r.doc.parse::<u64>().unwrap_or(0) + 1).to_string(),
            ..r.clone()
        };
        Ok(DemandUpdate {
            items: rows.items.iter().map(bump).collect(),
            categories: rows.categories.iter().map(bump).collect(),
            sales: sale.into_iter().collect(),
        })
    })
}

/// Two stores on one database (as two server processes would have) learn
/// concurrently about the same item and category: no update is lost, and
/// every sale is counted against the stock.
#[tokio::test]
async fn concurrent_learners_never_lose_an_update() {
    for db in testing::all().await {
        let second = db.second_handle().await;
        let t = seeded(&db.store, "shop").await;
        let shirt = item("2000000001");
        let red = item("2000000002");
        db.store
            .put_price_rules(&t, &shirt, &json!({"stock": 500}), 0)
            .await
            .unwrap();
        const BATCHES: usize = 40;
        let writer = |store: hc_store::SqlStore, first: ItemId, other: ItemId| {
            let t = t.clone();
            let shirt = shirt.clone();
            tokio::spawn(async move {
                for n in 0..BATCHES {
                    // Both writers create and touch both items, in opposite orders.
                    let items = if n % 2 == 0 {
                        vec![first.clone(), other.clone()]
                    } else {
                        vec![other.clone(), first.clone()]
                    };
                    let new: Vec<(ItemId, Option<String>)> = items
                        .iter()
                        .map(|i| (i.clone(), Some("tees".into())))
                        .collect();
                    let sale = Sale {
                        item_id: shirt.clone(),
                        units: 1,
                        at_ms: 10,
                    };
                    store
                        .learn_demand(&t, &items, &new, counting(Some(sale)))
                        .await
                        .unwrap();
                }
            })
        };
        let a = writer(db.store.clone(), shirt.clone(), red.clone());
        let b = writer(second.store.clone(), red.clone(), shirt.clone());
        a.await.unwrap();
        b.await.unwrap();
        let rows = db.store.demand_rows(&t, None).await.unwrap();
        let total = (2 * BATCHES).to_string();
        assert_eq!(rows.items.len(), 2, "{}", db.label);
        for r in &rows.items {
            assert_eq!(r.doc, total, "{} {}", db.label, r.key);
        }
        assert_eq!(rows.categories.len(), 1);
        assert_eq!(rows.categories[0].doc, total, "{}", db.label);
        let p = db.store.priced_item(&t, &shirt).await.unwrap().unwrap();
        assert_eq!(p.sold_units, 2 * BATCHES as i64, "{}", db.label);
        second.finish().await;
        db.finish().await;
    }
}

/// A whole step's changes in one transaction: applied in order, each
/// conflicting or unruled change refused alone, the catalog and the history
/// move with the applied ones.
#[tokio::test]
async fn a_batch_of_changes_applies_in_order_and_refuses_only_the_stale() {
    for db in testing::all().await {
        let s = &db.store;
        let t = seeded(s, "shop").await;
        let (shirt, red) = (item("2000000001"), item("2000000002"));
        for i in [&shirt, &red] {
            s.put_price_rules(&t, i, &json!({"mode": "auto"}), DAY)
                .await
                .unwrap();
        }
        let change = |i: &ItemId, from: i64, to: i64| NewPriceChange {
            item_id: i.clone(),
            from: Some(m(from)),
            to: m(to),
            reason: json!({"policy": "test"}),
            at_ms: 3 * DAY,
        };
        let out = s
            .apply_prices(
                &t,
                &[
                    change(&shirt, 5088, 4500),
                    change(&shirt, 4500, 4400),
                    change(&red, 1, 4000),
                    change(&item("2000000003"), 4700, 4000),
                ],
            )
            .await
            .unwrap();
        assert_eq!(out[0], None, "{}", db.label);
        assert_eq!(out[1], None);
        assert!(out[2].as_deref().unwrap().contains("moved"), "{out:?}");
        assert!(out[3].as_deref().unwrap().contains("no rules"), "{out:?}");
        let p = s.priced_item(&t, &shirt).await.unwrap().unwrap();
        assert_eq!((p.current, p.day_open, p.day), (m(4400), m(5088), 3));
        let r = s.priced_item(&t, &red).await.unwrap().unwrap();
        assert_eq!(r.current, m(4685));
        let product = s
            .product(&t, &hc_domain::ProductId::parse("1000000001").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(product.variants[&shirt].price, m(4400), "{}", db.label);
        assert_eq!(product.variants[&red].price, m(4685));
        let h = s.price_history(&t, &shirt, 10).await.unwrap();
        let tos: Vec<Money> = h.iter().map(|e| e.to).collect();
        assert_eq!(tos, [m(4400), m(4500)], "{}", db.label);
        assert!(s.price_history(&t, &red, 10).await.unwrap().is_empty());
        let cat = s.catalog_prices(&t).await.unwrap();
        assert!(cat.iter().any(|c| c.item_id == shirt && c.price == m(4400)));
        db.finish().await;
    }
}
