//! Retail ports: import/export, lookups, lists, transactions and tenant scoping.

use std::sync::Arc;

use hc_commerce::ports::{
    Actor, CatalogStore, CustomerFilter, CustomerStore, OrderFilter, OrderStore, PageRequest,
    UnitOfWork,
};
use hc_commerce::{Retail, RetailPolicy};
use hc_domain::{OrderId, OrderStatus, PaymentMethod, PaymentMethodId, ProductId, UserId};
use hc_store::testing;

use crate::fixture::{MINI_DB, mini_db, seeded};

fn oid(s: &str) -> OrderId {
    OrderId::parse(s).unwrap()
}

#[tokio::test]
async fn import_then_export_round_trips_as_json_values() {
    for db in testing::all().await {
        let t = seeded(&db.store, "shop").await;
        let exported = db.store.export_retail(&t).await.unwrap();
        let got = serde_json::to_value(&exported).unwrap();
        let want: serde_json::Value = serde_json::from_str(MINI_DB).unwrap();
        assert_eq!(got, normalise(want), "{}", db.label);
        db.finish().await;
    }
}

/// Integers such as a balance of `100` come back as `100.0`; compare numbers as cents.
fn normalise(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        other => other,
    }
}

#[tokio::test]
async fn the_public_tau_retail_database_round_trips_when_present() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/tau-retail/db.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("../shared/data not present; tested with the built-in fixture only");
        return;
    };
    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
    let parsed: hc_domain::RetailDb = serde_json::from_str(&text).unwrap();
    for db in testing::all().await {
        let t = hc_domain::TenantId::parse("tau").unwrap();
        hc_store::TenantStore::create_tenant(
            &db.store,
            &hc_domain::Tenant {
                id: t.clone(),
                name: "tau".into(),
                created_at_ms: 0,
            },
        )
        .await
        .unwrap();
        db.store.import_retail(&t, &parsed, "test").await.unwrap();
        let got = serde_json::to_value(db.store.export_retail(&t).await.unwrap()).unwrap();
        assert_eq!(normalise(got), normalise(want.clone()), "{}", db.label);
        db.finish().await;
    }
}

#[tokio::test]
async fn lookups_fold_case_and_diacritics_and_escape_like_patterns() {
    for db in testing::all().await {
        let t = seeded(&db.store, "shop").await;
        let s = &db.store;
        let zoe = UserId::parse("zoe_muller_1").unwrap();
        assert_eq!(
            s.find_by_email(&t, "ZOE.MULLER@example.com").await.unwrap(),
            Some(zoe.clone())
        );
        assert_eq!(
            s.find_by_name_zip(&t, "zoe", "MULLER", "78701")
                .await
                .unwrap(),
            Some(zoe.clone())
        );
        assert_eq!(
            s.find_by_name_zip(&t, "zoe", "muller", "78702")
                .await
                .unwrap(),
            None
        );
        // '%' and '_' in a search are literal, not wildcards.
        let all = CustomerFilter {
            name: Some("%".into()),
            ..Default::default()
        };
        let page = s
            .list_customers(&t, &all, &PageRequest::new(None, None))
            .await
            .unwrap();
        assert_eq!(
            page.items.len(),
            1,
            "{}: only Lee_% contains a percent sign",
            db.label
        );
        let hostile = CustomerFilter {
            name: Some("'; drop table customers; --".into()),
            ..Default::default()
        };
        let page = s
            .list_customers(&t, &hostile, &PageRequest::new(None, None))
            .await
            .unwrap();
        assert!(page.items.is_empty());
        assert!(
            s.customer(&t, &zoe).await.unwrap().is_some(),
            "table still there"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn lists_paginate_by_cursor_and_filter() {
    for db in testing::all().await {
        let t = seeded(&db.store, "shop").await;
        let s = &db.store;
        let first = s
            .list_orders(
                &t,
                &OrderFilter::default(),
                &PageRequest::new(None, Some(2)),
            )
            .await
            .unwrap();
        assert_eq!(first.items.len(), 2);
        let next = first.next_cursor.clone().expect("more pages");
        let second = s
            .list_orders(
                &t,
                &OrderFilter::default(),
                &PageRequest::new(Some(next), Some(2)),
            )
            .await
            .unwrap();
        assert_eq!(second.items.len(), 1);
        assert_eq!(second.next_cursor, None);
        assert_eq!(second.items[0].order_id, oid("#W0000003"));
        let delivered = OrderFilter {
            status: Some(OrderStatus::Delivered),
            ..Default::default()
        };
        let page = s
            .list_orders(&t, &delivered, &PageRequest::new(None, None))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        let by_user = OrderFilter {
            user_id: Some(UserId::parse("zoe_muller_1").unwrap()),
            ..Default::default()
        };
        assert_eq!(
            s.list_orders(&t, &by_user, &PageRequest::new(None, None))
                .await
                .unwrap()
                .items
                .len(),
            2
        );
        let shirts = s
            .list_products(&t, Some("shirt"), &PageRequest::new(None, None))
            .await
            .unwrap();
        assert_eq!(shirts.items.len(), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn tenants_never_see_each_others_records() {
    for db in testing::all().await {
        let a = seeded(&db.store, "shop-a").await;
        let b = hc_domain::TenantId::parse("shop-b").unwrap();
        hc_store::TenantStore::create_tenant(
            &db.store,
            &hc_domain::Tenant {
                id: b.clone(),
                name: "B".into(),
                created_at_ms: 1,
            },
        )
        .await
        .unwrap();
        let s = &db.store;
        assert!(s.order(&a, &oid("#W0000001")).await.unwrap().is_some());
        assert!(s.order(&b, &oid("#W0000001")).await.unwrap().is_none());
        assert!(
            s.find_by_email(&b, "sam@example.com")
                .await
                .unwrap()
                .is_none()
        );
        let p = ProductId::parse("1000000001").unwrap();
        assert!(s.product(&b, &p).await.unwrap().is_none());
        assert!(
            s.list_orders(&b, &OrderFilter::default(), &PageRequest::new(None, None))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        // The same ids may exist in both tenants, independently.
        s.import_retail(&b, &mini_db(), "test").await.unwrap();
        let retail_b = Retail::new(Arc::new(s.clone()), RetailPolicy::default());
        retail_b
            .cancel_pending_order(
                &Actor::new(b.clone(), "t"),
                &oid("#W0000001"),
                "no longer needed",
            )
            .await
            .unwrap();
        assert_eq!(
            s.order(&a, &oid("#W0000001"))
                .await
                .unwrap()
                .unwrap()
                .status,
            OrderStatus::Pending
        );
        assert_eq!(
            s.order(&b, &oid("#W0000001"))
                .await
                .unwrap()
                .unwrap()
                .status,
            OrderStatus::Cancelled
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_dropped_transaction_changes_nothing() {
    for db in testing::all().await {
        let t = seeded(&db.store, "shop").await;
        let mut tx = db.store.begin(&t).await.unwrap();
        let mut order = tx.order(&oid("#W0000001")).await.unwrap().unwrap();
        order.status = OrderStatus::Cancelled;
        tx.put_order(&order).await.unwrap();
        drop(tx);
        let stored = db
            .store
            .order(&t, &oid("#W0000001"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, OrderStatus::Pending, "{}", db.label);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_write_action_commits_order_customer_and_audit_together() {
    for db in testing::all().await {
        let t = seeded(&db.store, "shop").await;
        let retail = Retail::new(Arc::new(db.store.clone()), RetailPolicy::default());
        let actor = Actor::new(t.clone(), "key:test");
        retail
            .cancel_pending_order(&actor, &oid("#W0000001"), "ordered by mistake")
            .await
            .unwrap();
        let zoe = db
            .store
            .customer(&t, &UserId::parse("zoe_muller_1").unwrap())
            .await
            .unwrap()
            .unwrap();
        let gc = &zoe.payment_methods[&PaymentMethodId::parse("gift_card_1").unwrap()];
        assert!(matches!(gc, PaymentMethod::GiftCard { balance, .. } if balance.cents() == 15088));
        let audit = hc_store::AuditStore::list_audit(&db.store, &t, &PageRequest::new(None, None))
            .await
            .unwrap();
        assert_eq!(audit.items[0].record.action, "tool.cancel_pending_order");
        assert_eq!(audit.items[0].record.actor, "key:test");
        assert_eq!(audit.items[0].record.target, "order:#W0000001");
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_writes_to_one_order_apply_exactly_once() {
    for db in testing::all().await {
        let t = seeded(&db.store, "shop").await;
        let retail = Retail::new(Arc::new(db.store.clone()), RetailPolicy::default());
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (retail, t) = (retail.clone(), t.clone());
            tasks.push(tokio::spawn(async move {
                retail
                    .modify_pending_order_payment(
                        &Actor::new(t, "test"),
                        &oid("#W0000001"),
                        &PaymentMethodId::parse("credit_card_1").unwrap(),
                    )
                    .await
                    .map_err(|e| e.code())
            }));
        }
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(code) => assert!(
                    code == "payment_history_not_single" || code == "same_payment_method",
                    "{}: unexpected {code}",
                    db.label
                ),
            }
        }
        assert_eq!(ok, 1, "{}", db.label);
        let order = db
            .store
            .order(&t, &oid("#W0000001"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(order.payment_history.len(), 3);
        let zoe = db
            .store
            .customer(&t, &UserId::parse("zoe_muller_1").unwrap())
            .await
            .unwrap()
            .unwrap();
        let gc = &zoe.payment_methods[&PaymentMethodId::parse("gift_card_1").unwrap()];
        assert!(
            matches!(gc, PaymentMethod::GiftCard { balance, .. } if balance.cents() == 15088),
            "refunded once"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn product_upsert_reindexes_items_and_rejects_foreign_item_ids() {
    for db in testing::all().await {
        let t = seeded(&db.store, "shop").await;
        let retail = Retail::new(Arc::new(db.store.clone()), RetailPolicy::default());
        let actor = Actor::new(t.clone(), "test");
        let mut bottle = db
            .store
            .product(&t, &ProductId::parse("1000000002").unwrap())
            .await
            .unwrap()
            .unwrap();
        bottle.name = "Steel Bottle".into();
        bottle
            .variants
            .shift_remove(&hc_domain::ItemId::parse("2000000012").unwrap());
        retail.upsert_product(&actor, bottle.clone()).await.unwrap();
        let gone = hc_domain::ItemId::parse("2000000012").unwrap();
        assert!(db.store.product_of_item(&t, &gone).await.unwrap().is_none());
        // An item id owned by the T-Shirt cannot be added to the bottle.
        let shirt_item = hc_domain::ItemId::parse("2000000001").unwrap();
        let mut v = bottle.variants[0].clone();
        v.item_id = shirt_item.clone();
        bottle.variants.insert(shirt_item.clone(), v);
        let err = retail.upsert_product(&actor, bottle).await.unwrap_err();
        assert_eq!(err.code(), "already_exists");
        let owner = db
            .store
            .product_of_item(&t, &shirt_item)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(owner.name, "T-Shirt");
        db.finish().await;
    }
}
