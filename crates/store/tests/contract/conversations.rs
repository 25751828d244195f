//! The conversation store: durable turns with optimistic versioning.

use hc_agent::ports::{ConversationStore, TurnWrite};
use hc_commerce::PageRequest;
use hc_domain::{
    Author, Channel, Conversation, ConversationId, ConversationStatus, Message, Tenant,
};
use hc_store::{TenantStore, testing};

use crate::fixture::tenant;

fn conversation(id: &str, updated: i64) -> Conversation {
    Conversation {
        id: ConversationId::parse(id).unwrap(),
        tenant_id: tenant("shop"),
        channel: Channel::Chat,
        status: ConversationStatus::Open,
        customer: None,
        created_at_ms: 1,
        updated_at_ms: updated,
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

fn message(seq: i64, text: &str) -> Message {
    Message {
        seq,
        author: Author::Customer,
        text: text.into(),
        at_ms: seq,
        intent: None,
        confidence: None,
        tool_calls: vec![],
        brain: None,
        usage: None,
    }
}

#[tokio::test]
async fn turns_are_saved_atomically_and_stale_versions_are_refused() {
    for db in testing::all().await {
        let s = &db.store;
        s.create_tenant(&Tenant {
            id: tenant("shop"),
            name: "s".into(),
            created_at_ms: 1,
        })
        .await
        .unwrap();
        let mut c = conversation("conv_a", 10);
        s.create_conversation(&c).await.unwrap();
        assert!(
            s.create_conversation(&c).await.is_err(),
            "{}: ids are unique",
            db.label
        );
        c.version = 1;
        c.message_count = 2;
        s.save_turn(&TurnWrite::new(
            &c,
            0,
            &[message(1, "hi"), message(2, "hello")],
        ))
        .await
        .unwrap();
        // A writer holding the old version loses and writes nothing.
        let mut stale = c.clone();
        stale.version = 1;
        stale.message_count = 3;
        let err = s
            .save_turn(&TurnWrite::new(&stale, 0, &[message(3, "lost?")]))
            .await
            .unwrap_err();
        assert!(
            matches!(err, hc_store::Error::Conflict(_)),
            "{}: {err}",
            db.label
        );
        let msgs = s.messages(&tenant("shop"), &c.id).await.unwrap();
        assert_eq!(
            msgs.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
            ["hi", "hello"]
        );
        assert_eq!(
            s.conversation(&tenant("shop"), &c.id)
                .await
                .unwrap()
                .unwrap()
                .version,
            1
        );
        assert!(
            s.conversation(&tenant("other"), &c.id)
                .await
                .unwrap()
                .is_none(),
            "tenant scoped"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn conversations_list_newest_first_by_status_with_a_cursor() {
    for db in testing::all().await {
        let s = &db.store;
        s.create_tenant(&Tenant {
            id: tenant("shop"),
            name: "s".into(),
            created_at_ms: 1,
        })
        .await
        .unwrap();
        for (i, id) in ["conv_1", "conv_2", "conv_3"].iter().enumerate() {
            s.create_conversation(&conversation(id, 100 + i as i64))
                .await
                .unwrap();
        }
        let mut escalated = conversation("conv_2", 500);
        escalated.status = ConversationStatus::Escalated;
        escalated.version = 1;
        s.save_turn(&TurnWrite::new(&escalated, 0, &[]))
            .await
            .unwrap();
        let page = s
            .list_conversations(&tenant("shop"), None, &PageRequest::new(None, Some(2)))
            .await
            .unwrap();
        let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["conv_2", "conv_3"], "{}", db.label);
        let rest = s
            .list_conversations(
                &tenant("shop"),
                None,
                &PageRequest::new(page.next_cursor, Some(2)),
            )
            .await
            .unwrap();
        assert_eq!(
            rest.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["conv_1"]
        );
        let inbox = s
            .list_conversations(
                &tenant("shop"),
                Some(ConversationStatus::Escalated),
                &PageRequest::new(None, None),
            )
            .await
            .unwrap();
        assert_eq!(inbox.items.len(), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn one_live_conversation_per_channel_key_and_a_new_one_after_it_closes() {
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
        let phone = "+15005550006";
        let mut first = conversation("conv_sms1", 10);
        first.channel = Channel::Sms;
        s.create_external_conversation(&first, phone).await.unwrap();
        let found = s
            .find_by_external(&tenant("shop"), Channel::Sms, phone)
            .await
            .unwrap()
            .expect("found by key");
        assert_eq!(found.id, first.id, "{}", db.label);
        assert_eq!(found.channel, Channel::Sms);

        // A second live conversation for the same key is refused (the race loser).
        let mut twin = conversation("conv_sms2", 11);
        twin.channel = Channel::Sms;
        let err = s
            .create_external_conversation(&twin, phone)
            .await
            .unwrap_err();
        assert!(
            matches!(err, hc_store::Error::Conflict(_)),
            "{}: {err}",
            db.label
        );
        assert!(
            s.conversation(&tenant("shop"), &twin.id)
                .await
                .unwrap()
                .is_none(),
            "{}: nothing stored for the loser",
            db.label
        );

        // Other channels, keys and tenants are separate.
        let mut voice = conversation("conv_voice", 12);
        voice.channel = Channel::Voice;
        s.create_external_conversation(&voice, phone).await.unwrap();
        assert!(
            s.find_by_external(&tenant("shop"), Channel::Sms, "+15005550007")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.find_by_external(&tenant("other"), Channel::Sms, phone)
                .await
                .unwrap()
                .is_none(),
            "{}: tenant scoped",
            db.label
        );
        // A plain conversation has no key and is never found by one.
        s.create_conversation(&conversation("conv_plain", 13))
            .await
            .unwrap();
        assert!(
            s.find_by_external(&tenant("shop"), Channel::Chat, "")
                .await
                .unwrap()
                .is_none()
        );

        // Once it is resolved it no longer counts: a new one may take the key.
        let mut resolved = found.clone();
        resolved.status = ConversationStatus::Resolved;
        resolved.version = 1;
        s.save_turn(&TurnWrite::new(&resolved, 0, &[]))
            .await
            .unwrap();
        assert!(
            s.find_by_external(&tenant("shop"), Channel::Sms, phone)
                .await
                .unwrap()
                .is_none(),
            "{}: closed conversations are not continued",
            db.label
        );
        s.create_external_conversation(&twin, phone).await.unwrap();
        let found = s
            .find_by_external(&tenant("shop"), Channel::Sms, phone)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, twin.id, "{}", db.label);
        db.finish().await;
    }
}
