//! The event log: deduplication, order and tenant scoping, sessions split by
//! inactivity, concurrent batches, and the quarantine.

use hc_domain::{
    Event, EventLimits, EventType, Money, SESSION_GAP_MS, SessionId, UserId, events::parse_event,
};
use hc_store::{EventStore, NewQuarantine, testing};

use crate::fixture::tenant;

fn now() -> i64 {
    hc_domain::now_ms()
}

fn ev(id: &str, session: &str, at: i64, body: &str) -> Event {
    let json =
        format!(r#"{{"event_id":"{id}","session_id":"{session}","timestamp_ms":{at},{body}}}"#);
    parse_event(&json, at, &EventLimits::default()).unwrap()
}

fn view(id: &str, session: &str, at: i64) -> Event {
    ev(
        id,
        session,
        at,
        r#""type":"page_view","page_type":"home","duration_ms":1000"#,
    )
}

#[tokio::test]
async fn batches_are_deduplicated_ordered_and_scoped_by_tenant() {
    for db in testing::all().await {
        let s = &db.store;
        let (shop, other) = (tenant("shop"), tenant("other"));
        let t0 = now() - 60_000;
        let batch = vec![
            view("a", "s1", t0),
            view("b", "s1", t0 + 1),
            view("a", "s1", t0 + 2),
        ];
        let r = s.append_events(&shop, batch).await.unwrap();
        assert_eq!((r.accepted, r.duplicates), (2, 1), "{}", db.label);
        let r = s
            .append_events(&shop, vec![view("b", "s1", t0), view("c", "s1", t0 + 3)])
            .await
            .unwrap();
        assert_eq!((r.accepted, r.duplicates), (1, 1), "{}", db.label);
        // The same event id is another tenant's own event.
        let r = s
            .append_events(&other, vec![view("a", "z", t0)])
            .await
            .unwrap();
        assert_eq!(r.accepted, 1, "{}", db.label);

        let log = s.events_after(&shop, 0, 100).await.unwrap();
        let ids: Vec<&str> = log.iter().map(|e| e.event.event_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"], "{}", db.label);
        assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(
            log[0].event,
            view("a", "s1", t0),
            "{}: stored as sent",
            db.label
        );
        let rest = s.events_after(&shop, log[0].seq, 1).await.unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].event.event_id.as_str(), "b");
        let theirs = s.events_after(&other, 0, 100).await.unwrap();
        assert_eq!(theirs.len(), 1, "{}", db.label);
        assert_eq!(theirs[0].session_id.as_str(), "z");
        db.finish().await;
    }
}

#[tokio::test]
async fn sessions_count_events_and_split_after_thirty_idle_minutes() {
    for db in testing::all().await {
        let s = &db.store;
        let shop = tenant("shop");
        let t0 = now() - 3 * SESSION_GAP_MS;
        let first = vec![
            view("v1", "web-1", t0),
            ev(
                "p1",
                "web-1",
                t0 + 1_000,
                r#""type":"product_view","item_id":"i1","price":25,"duration_ms":4000"#,
            ),
            ev(
                "c1",
                "web-1",
                t0 + 2_000,
                r#""type":"add_to_cart","item_id":"i1","price":25,"quantity":2,"customer_id":"u1""#,
            ),
        ];
        s.append_events(&shop, first).await.unwrap();
        // Next batch: one event continuing the visit, then one after a long gap.
        let later = t0 + 3_000 + SESSION_GAP_MS + 1;
        let second = vec![
            ev("k1", "web-1", t0 + 3_000, r#""type":"checkout""#),
            ev(
                "b1",
                "web-1",
                later,
                r#""type":"purchase","price":50,"customer_id":"u1""#,
            ),
        ];
        s.append_events(&shop, second).await.unwrap();

        let sid = SessionId::parse("web-1").unwrap();
        let one = s.session(&shop, &sid).await.unwrap().expect("first visit");
        assert_eq!(one.events, 4, "{}", db.label);
        assert_eq!(one.page_views(), 2);
        assert_eq!(one.count(EventType::AddToCart), 1);
        assert_eq!(one.cart_value, Money::from_cents(5000));
        assert_eq!(one.started_at_ms, t0);
        assert_eq!(one.last_event_at_ms, t0 + 3_000);
        assert_eq!(one.customer_id.as_ref().map(|c| c.as_str()), Some("u1"));

        let two_id = SessionId::parse_stored("web-1~2").unwrap();
        let two = s
            .session(&shop, &two_id)
            .await
            .unwrap()
            .expect("second visit");
        assert_eq!((two.events, two.ordinal), (1, 2), "{}", db.label);
        assert_eq!(two.revenue, Money::from_cents(5000));

        let events = s.session_events(&shop, &sid, 100).await.unwrap();
        let ids: Vec<&str> = events.iter().map(|e| e.event.event_id.as_str()).collect();
        assert_eq!(ids, ["v1", "p1", "c1", "k1"], "{}", db.label);
        let events = s.session_events(&shop, &two_id, 100).await.unwrap();
        assert_eq!(events[0].session_id, two_id);

        let u1 = UserId::parse("u1").unwrap();
        assert_eq!(
            s.customer_sessions_before(&shop, &u1, later).await.unwrap(),
            1
        );
        assert_eq!(
            s.customer_sessions_before(&shop, &u1, later + 1)
                .await
                .unwrap(),
            2
        );
        assert!(s.session(&tenant("other"), &sid).await.unwrap().is_none());

        // A customer's events: every event of the sessions they were seen in
        // (the page view before they were identified too), by time; never
        // another tenant's.
        let mine = s.customer_events(&shop, &u1, 100).await.unwrap();
        let ids: Vec<&str> = mine.iter().map(|e| e.event.event_id.as_str()).collect();
        assert_eq!(ids, ["v1", "p1", "c1", "k1", "b1"], "{}", db.label);
        assert_eq!(s.customer_events(&shop, &u1, 2).await.unwrap().len(), 2);
        let nobody = UserId::parse("u2").unwrap();
        assert!(
            s.customer_events(&shop, &nobody, 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.customer_events(&tenant("other"), &u1, 100)
                .await
                .unwrap()
                .is_empty()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_batches_are_all_stored() {
    for db in testing::all().await {
        let shop = tenant("shop");
        let t0 = now() - 60_000;
        let mut tasks = Vec::new();
        for b in 0..16 {
            let store = db.store.clone();
            let shop = shop.clone();
            tasks.push(tokio::spawn(async move {
                let batch = (0..50)
                    .map(|i| view(&format!("e{b}-{i}"), &format!("s{}", i % 5), t0 + i))
                    .collect();
                store.append_events(&shop, batch).await.unwrap()
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            accepted += t.await.unwrap().accepted;
        }
        assert_eq!(accepted, 800, "{}", db.label);
        let log = db.store.events_after(&shop, 0, 10_000).await.unwrap();
        assert_eq!(log.len(), 800, "{}", db.label);
        assert_eq!(db.store.count_events(&shop).await.unwrap(), 800);
        let mut total = 0;
        for i in 0..5 {
            let sid = SessionId::parse(format!("s{i}")).unwrap();
            total += db.store.session(&shop, &sid).await.unwrap().unwrap().events;
        }
        assert_eq!(
            total, 800,
            "{}: every event counted once in a session",
            db.label
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn refused_events_are_quarantined_with_their_reason() {
    for db in testing::all().await {
        let s = &db.store;
        let shop = tenant("shop");
        let long = "x".repeat(10_000);
        s.quarantine(
            &shop,
            vec![
                NewQuarantine {
                    source: "mqtt".into(),
                    code: "invalid_json".into(),
                    reason: "expected value at line 1".into(),
                    payload: "garbage".into(),
                },
                NewQuarantine {
                    source: "http".into(),
                    code: "unknown_type".into(),
                    reason: "unknown event type".into(),
                    payload: long,
                },
            ],
        )
        .await
        .unwrap();
        let q = s.quarantined(&shop, 10).await.unwrap();
        assert_eq!(q.len(), 2, "{}", db.label);
        assert_eq!(q[0].code, "unknown_type", "newest first");
        assert_eq!(q[0].payload.len(), hc_store::QUARANTINE_PAYLOAD_BYTES);
        assert_eq!(q[1].source, "mqtt");
        assert!(
            s.quarantined(&tenant("other"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        db.finish().await;
    }
}
