//! The dashboard's rollup: facts per conversation, sums per day and
//! channel, labels; refreshed incrementally; scoped by tenant.

use hc_agent::ports::{ConversationStore, TurnWrite};
use hc_commerce::PageRequest;
use hc_domain::{
    Author, Channel, Conversation, ConversationId, ConversationStatus, Escalation, Message, Tenant,
};
use hc_store::{ConversationFilter, DAY_MS, DashboardStore, TenantStore, testing};

use crate::fixture::tenant;

fn conversation(t: &str, id: &str, day: i64) -> Conversation {
    Conversation {
        id: ConversationId::parse(id).unwrap(),
        tenant_id: tenant(t),
        channel: Channel::Chat,
        status: ConversationStatus::Open,
        customer: None,
        created_at_ms: day * DAY_MS + 1_000,
        updated_at_ms: day * DAY_MS + 1_000,
        first_response_at_ms: None,
        closed_at_ms: None,
        satisfaction: None,
        escalation: None,
        message_count: 0,
        version: 0,
        usage: Default::default(),
        state: serde_json::json!({}),
    }
}

fn said(seq: i64, intent: &str) -> Message {
    Message {
        seq,
        author: Author::Customer,
        text: "hi".into(),
        at_ms: seq,
        intent: Some(intent.into()),
        confidence: Some(0.9),
        tool_calls: vec![],
        brain: None,
        usage: None,
    }
}

#[tokio::test]
async fn the_rollup_counts_conversations_incrementally_per_tenant() {
    for db in testing::all().await {
        let s = &db.store;
        for t in ["shop", "other"] {
            s.create_tenant(&Tenant {
                id: tenant(t),
                name: t.into(),
                created_at_ms: 1,
            })
            .await
            .unwrap();
        }
        let day = 20_000;
        let a = conversation("shop", "conv_a", day);
        let b = conversation("shop", "conv_b", day);
        let o = conversation("other", "conv_o", day);
        for c in [&a, &b, &o] {
            s.create_conversation(c).await.unwrap();
        }
        // a: resolved by the AI, rated 5; b: escalated.
        let mut a2 = a.clone();
        a2.status = ConversationStatus::Resolved;
        a2.closed_at_ms = Some(a.created_at_ms + 60_000);
        a2.first_response_at_ms = Some(a.created_at_ms + 500);
        a2.satisfaction = Some(5);
        a2.version = 1;
        a2.updated_at_ms += 60_000;
        s.save_turn(&TurnWrite::new(&a2, 0, &[said(1, "cancel_order")]))
            .await
            .unwrap();
        let r = s.refresh_rollup(&tenant("shop")).await.unwrap();
        assert_eq!(r.conversations, 2, "{}", db.label);
        let rows = s.daily(&tenant("shop"), day, day, None).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].conversations, rows[0].resolved_by_ai, rows[0].open),
            (2, 1, 1)
        );
        assert_eq!((rows[0].rating_sum, rows[0].rating_n), (5, 1));
        assert_eq!(rows[0].resolution_sum_ms, 60_000);

        let mut b2 = b.clone();
        b2.status = ConversationStatus::Escalated;
        b2.escalation = Some(Escalation {
            reason: "customer asked for a person".into(),
            summary: "s".into(),
            at_ms: 5,
        });
        b2.version = 1;
        b2.updated_at_ms = a2.updated_at_ms + 10_000;
        s.save_turn(&TurnWrite::new(&b2, 0, &[said(1, "talk_to_human")]))
            .await
            .unwrap();
        s.refresh_rollup(&tenant("shop")).await.unwrap();
        let rows = s
            .daily(&tenant("shop"), day - 1, day + 1, Some("chat"))
            .await
            .unwrap();
        assert_eq!(
            (rows[0].conversations, rows[0].escalated, rows[0].open),
            (2, 1, 0),
            "{}",
            db.label
        );
        assert!(
            s.daily(&tenant("shop"), day, day, Some("sms"))
                .await
                .unwrap()
                .is_empty()
        );
        let reasons = s
            .top_labels(&tenant("shop"), "escalation", day, day, None, 5)
            .await
            .unwrap();
        assert_eq!(
            reasons,
            vec![("customer asked for a person".to_string(), 1)]
        );
        let intents = s
            .top_labels(&tenant("shop"), "intent", day, day, None, 5)
            .await
            .unwrap();
        assert_eq!(intents.len(), 2);
        assert_eq!(s.waiting_for_human(&tenant("shop")).await.unwrap(), 1);

        let found = s
            .search_conversations(
                &tenant("shop"),
                &ConversationFilter {
                    status: Some(ConversationStatus::Escalated),
                    ..Default::default()
                },
                &PageRequest::new(None, Some(10)),
            )
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.items[0].conversation_id.as_str(), "conv_b");
        let by_rating = s
            .search_conversations(
                &tenant("shop"),
                &ConversationFilter {
                    rating: Some(5),
                    from_day: Some(day),
                    to_day: Some(day),
                    ..Default::default()
                },
                &PageRequest::new(None, Some(10)),
            )
            .await
            .unwrap();
        assert_eq!(by_rating.items.len(), 1);
        // The other tenant's conversation is in neither tenant's rollup until its own refresh.
        assert!(
            s.daily(&tenant("other"), day, day, None)
                .await
                .unwrap()
                .is_empty()
        );
        s.refresh_rollup(&tenant("other")).await.unwrap();
        assert_eq!(
            s.daily(&tenant("other"), day, day, None).await.unwrap()[0].conversations,
            1
        );
        assert_eq!(
            s.daily(&tenant("shop"), day, day, None).await.unwrap()[0].conversations,
            2
        );
        db.finish().await;
    }
}
