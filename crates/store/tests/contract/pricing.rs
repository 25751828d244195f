//! The pricing service's tables: rules seed the base price from the catalog,
//! a live change moves the catalog price with its history entry, approvals
//! supersede and decide once, competitor prices and demand models are
//! tenant-scoped.

use hc_commerce::ports::CatalogStore;
use hc_domain::{ItemId, Money};
use hc_store::{ApprovalStatus, CompetitorObservation, NewPriceChange, PricingStore, testing};
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
        s.put_demand_model(&t, "{\"items\":{}}").await.unwrap();
        s.put_demand_model(&t, "{\"items\":{\"a\":1}}")
            .await
            .unwrap();
        assert_eq!(
            s.demand_model(&t).await.unwrap().as_deref(),
            Some("{\"items\":{\"a\":1}}")
        );
        assert_eq!(s.demand_model(&other).await.unwrap(), None);
        db.finish().await;
    }
}
