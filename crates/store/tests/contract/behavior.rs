//! Customer histories (orders, returns, support, visits), stored scores,
//! the customer model artifact, triggers with sealed secrets, and firings
//! that queue each webhook once.

use hc_domain::outbox::{DeliveryKind, NewDelivery};
use hc_domain::{
    CustomerScoreRecord, EventLimits, Trigger, TriggerCondition, UserId, events::parse_event,
};
use hc_store::{BehaviorStore, EventStore, Firing, OutboxStore, testing};

use crate::fixture::{seeded, tenant};

fn user(id: &str) -> UserId {
    UserId::parse(id.to_string()).unwrap()
}

fn score(user: &str, churn: Option<f64>, at: i64) -> CustomerScoreRecord {
    CustomerScoreRecord {
        user_id: user.into(),
        orders: 2,
        churn,
        churn_basis: churn.map(|_| "gbt".into()),
        p_alive: Some(0.5),
        expected_purchases_90d: None,
        clv_365d: Some(12.5),
        segment: Some("Loyal".into()),
        scored_at_ms: at,
    }
}

#[tokio::test]
async fn a_customer_history_gathers_orders_returns_and_visits_within_the_tenant() {
    for db in testing::all().await {
        let s = &db.store;
        let shop = seeded(s, "shop").await;
        let other = seeded(s, "other").await;
        let now = hc_domain::now_ms();
        let events = [
            format!(
                r#"{{"event_id":"r1","type":"return","session_id":"w1","timestamp_ms":{},"customer_id":"zoe_muller_1","product_id":"1000000002","price":47.76}}"#,
                now - 5_000
            ),
            format!(
                r#"{{"event_id":"v1","type":"page_view","page_type":"home","session_id":"w1","timestamp_ms":{},"customer_id":"zoe_muller_1"}}"#,
                now - 4_000
            ),
        ];
        let events = events
            .iter()
            .map(|e| parse_event(e, now, &EventLimits::default()).unwrap())
            .collect();
        s.append_events(&shop, events).await.unwrap();

        let h = s
            .customer_history(&shop, &user("zoe_muller_1"), now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h.orders.len(), 2, "{}", db.label);
        let values: f64 = h
            .orders
            .iter()
            .flat_map(|o| &o.lines)
            .map(|l| l.value)
            .sum();
        assert!(
            (values - (50.88 + 47.76)).abs() < 1e-9,
            "{}: {values}",
            db.label
        );
        assert_eq!(h.returns.len(), 1, "{}", db.label);
        assert_eq!(h.returns[0].lines[0].product, "1000000002");
        assert_eq!(h.sessions_last_30d, 1, "{}", db.label);
        assert_eq!(h.latest_session.as_deref(), Some("w1"), "{}", db.label);
        assert_eq!(h.last_seen_ms, Some(now - 4_000), "{}", db.label);
        // A cancelled order is not a purchase.
        let sam = s
            .customer_history(&shop, &user("sam_lee_2"), now)
            .await
            .unwrap()
            .unwrap();
        assert!(sam.orders.is_empty(), "{}", db.label);
        // Another tenant's customer of the same id has no visits here.
        let theirs = s
            .customer_history(&other, &user("zoe_muller_1"), now)
            .await
            .unwrap()
            .unwrap();
        assert!(
            theirs.returns.is_empty() && theirs.latest_session.is_none(),
            "{}",
            db.label
        );
        assert!(
            s.customer_history(&shop, &user("nobody_9"), now)
                .await
                .unwrap()
                .is_none()
        );

        // Pages of histories, in id order.
        let page = s.customer_histories(&shop, None, 1, now).await.unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].customer, "sam_lee_2");
        let page = s
            .customer_histories(&shop, Some("sam_lee_2"), 10, now)
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].customer, "zoe_muller_1");
        assert_eq!(page[0].orders.len(), 2, "{}", db.label);
        db.finish().await;
    }
}

#[tokio::test]
async fn scores_models_and_trigger_firings_are_stored_once() {
    for db in testing::all().await {
        let s = &db.store;
        let shop = seeded(s, "shop").await;
        let other = tenant("other");
        seeded(s, "other").await;

        s.put_customer_model(&shop, 1, r#"{"version":1}"#, 42)
            .await
            .unwrap();
        s.put_customer_model(&shop, 1, r#"{"version":1,"x":2}"#, 43)
            .await
            .unwrap();
        assert_eq!(
            s.customer_model(&shop).await.unwrap(),
            Some((r#"{"version":1,"x":2}"#.to_string(), 43))
        );
        assert!(s.customer_model(&other).await.unwrap().is_none());

        let trigger = Trigger {
            id: "trg_1".into(),
            name: "risk".into(),
            condition: TriggerCondition::ChurnRisk { threshold: 0.6 },
            webhook_url: "http://127.0.0.1:9/hook".into(),
            message: Some("Hi {first_name}".into()),
            created_at_ms: 1,
        };
        s.create_trigger(&shop, &trigger, "whsec_abc")
            .await
            .unwrap();
        let (t, secret) = s.trigger(&shop, "trg_1").await.unwrap().unwrap();
        assert_eq!((t, secret.as_str()), (trigger.clone(), "whsec_abc"));
        assert!(
            s.trigger(&other, "trg_1").await.unwrap().is_none(),
            "{}",
            db.label
        );
        assert_eq!(s.list_triggers(&shop).await.unwrap().len(), 1);
        assert_eq!(s.all_triggers().await.unwrap().len(), 1);

        let firing = |subject: &str| Firing {
            trigger_id: "trg_1".into(),
            subject: subject.into(),
            delivery: NewDelivery {
                tenant_id: shop.clone(),
                conversation_id: None,
                kind: DeliveryKind::Webhook,
                payload: serde_json::json!({"url": "http://127.0.0.1:9/hook", "trigger_id": "trg_1", "event": "churn_risk", "body": {}}),
            },
        };
        let scores = vec![
            score("sam_lee_2", None, 10),
            score("zoe_muller_1", Some(0.7), 10),
        ];
        let fired = s
            .put_customer_scores(&shop, &scores, &[firing("customer:zoe_muller_1:10")])
            .await
            .unwrap();
        assert_eq!(fired, vec![0], "{}", db.label);
        // Rewriting replaces the scores; the same firing is not queued twice.
        let fired = s
            .put_customer_scores(
                &shop,
                &[score("zoe_muller_1", Some(0.2), 11)],
                &[firing("customer:zoe_muller_1:10")],
            )
            .await
            .unwrap();
        assert!(fired.is_empty(), "{}", db.label);
        let z = s
            .customer_score(&shop, &user("zoe_muller_1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((z.churn, z.scored_at_ms), (Some(0.2), 11), "{}", db.label);
        let sam = s
            .customer_score(&shop, &user("sam_lee_2"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sam.churn, None, "{}", db.label);
        assert_eq!(sam, score("sam_lee_2", None, 10), "{}", db.label);
        assert_eq!(s.count_customer_scores(&shop).await.unwrap(), 2);
        assert_eq!(s.count_customer_scores(&other).await.unwrap(), 0);
        let between = s.customer_scores_between(&shop, "a", "zzz").await.unwrap();
        assert_eq!(between.len(), 2);
        // Exactly one webhook is waiting in the outbox.
        let counts = s.outbox_counts(&shop).await.unwrap();
        assert_eq!(counts.pending, 1, "{}", db.label);
        let d = &s.list_deliveries(&shop, None, 10).await.unwrap()[0];
        assert_eq!(d.kind, DeliveryKind::Webhook);

        // The sweep cursor only moves forward, in the firing's transaction.
        assert_eq!(
            s.fire(
                &shop,
                &[firing("session:w0"), firing("session:w1")],
                Some(("trg_1", 500))
            )
            .await
            .unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            s.fire(
                &shop,
                &[firing("session:w1"), firing("session:w2")],
                Some(("trg_1", 400))
            )
            .await
            .unwrap(),
            vec![1],
            "only the firing not recorded before is new"
        );
        assert_eq!(
            s.all_triggers().await.unwrap()[0].cursor_ms,
            500,
            "{}",
            db.label
        );

        assert!(s.delete_trigger(&shop, "trg_1").await.unwrap());
        assert!(!s.delete_trigger(&shop, "trg_1").await.unwrap());
        db.finish().await;
    }
}
