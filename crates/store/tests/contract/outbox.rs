//! The outbox (claims with leases, outcomes, counts), turns enqueued in the
//! same transaction as their message, reply contacts, and the channel
//! addresses claimed by tenant settings.

use hc_agent::ports::{ConversationStore, TurnWrite};
use hc_domain::outbox::{DeliveryKind, DeliveryStatus, NewDelivery, OutboxCounts};
use hc_domain::{
    AuditRecord, Author, Channel, ChannelSettings, Conversation, ConversationId,
    ConversationStatus, Message, Tenant, TenantSettings,
};
use hc_store::{AttemptOutcome, OutboxStore, SqlStore, TenantStore, testing};
use serde_json::json;

use crate::fixture::tenant;

async fn tenants(s: &SqlStore, ids: &[&str]) {
    for id in ids {
        s.create_tenant(&Tenant {
            id: tenant(id),
            name: id.to_string(),
            created_at_ms: 1,
        })
        .await
        .unwrap();
    }
}

fn sms(t: &str, to: &str) -> NewDelivery {
    NewDelivery {
        tenant_id: tenant(t),
        conversation_id: None,
        kind: DeliveryKind::Sms,
        payload: json!({"to": to, "body": "hello"}),
    }
}

fn conversation(id: &str) -> Conversation {
    Conversation {
        id: ConversationId::parse(id).unwrap(),
        tenant_id: tenant("shop"),
        channel: Channel::Sms,
        status: ConversationStatus::Escalated,
        customer: None,
        created_at_ms: 1,
        updated_at_ms: 1,
        first_response_at_ms: None,
        closed_at_ms: None,
        satisfaction: None,
        escalation: None,
        message_count: 0,
        version: 0,
        usage: Default::default(),
        state: json!({}),
    }
}

fn human(seq: i64, text: &str) -> Message {
    Message {
        seq,
        author: Author::Human,
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
async fn claims_lease_deliveries_and_outcomes_settle_them() {
    for db in testing::all().await {
        let (s, label) = (&db.store, db.label);
        tenants(s, &["shop", "other"]).await;
        let a = s.enqueue(&sms("shop", "+14155550100")).await.unwrap();
        let b = s.enqueue(&sms("shop", "+14155550101")).await.unwrap();
        let c = s.enqueue(&sms("other", "+14155550102")).await.unwrap();
        assert!(a < b && b < c, "{label}: ids grow");
        let now = hc_domain::now_ms() + 10;

        let claimed = s.claim_deliveries(now, 1_000, 2).await.unwrap();
        assert_eq!(
            claimed.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![a, b],
            "{label}: oldest first, at most the limit"
        );
        assert!(claimed.iter().all(|d| d.attempts == 1
            && d.status == DeliveryStatus::Pending
            && d.next_attempt_at_ms == now + 1_000));
        assert_eq!(claimed[0].payload["to"], "+14155550100");
        // Leased: a second claim in the meantime gets only the third.
        let again = s.claim_deliveries(now, 1_000, 10).await.unwrap();
        assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), vec![c]);
        assert!(s.claim_deliveries(now, 1_000, 10).await.unwrap().is_empty());

        s.finish_attempt(
            a,
            &AttemptOutcome::Delivered {
                provider_id: "SM1".into(),
            },
            now,
        )
        .await
        .unwrap();
        s.finish_attempt(
            b,
            &AttemptOutcome::Retry {
                error: "503".into(),
                at_ms: now + 50,
            },
            now,
        )
        .await
        .unwrap();
        s.finish_attempt(
            c,
            &AttemptOutcome::Failed {
                error: "400 Twilio error 21211".into(),
            },
            now,
        )
        .await
        .unwrap();
        assert_eq!(
            s.outbox_counts(&tenant("shop")).await.unwrap(),
            OutboxCounts {
                pending: 1,
                delivered: 1,
                failed: 0
            },
            "{label}"
        );
        assert_eq!(
            s.outbox_counts(&tenant("other")).await.unwrap(),
            OutboxCounts {
                pending: 0,
                delivered: 0,
                failed: 1
            },
            "{label}"
        );
        // The retry is due at its time, not before; delivered and failed never again.
        assert!(
            s.claim_deliveries(now + 49, 1_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let retry = s.claim_deliveries(now + 50, 1_000, 10).await.unwrap();
        assert_eq!(retry.len(), 1);
        assert_eq!((retry[0].id, retry[0].attempts), (b, 2));
        assert_eq!(retry[0].last_error.as_deref(), Some("503"));
        // A claim whose process died is due again once the lease runs out.
        let later = now + 50 + 1_000;
        let reclaimed = s.claim_deliveries(later, 1_000, 10).await.unwrap();
        assert_eq!((reclaimed[0].id, reclaimed[0].attempts), (b, 3), "{label}");

        let failed = s
            .list_deliveries(&tenant("other"), Some(DeliveryStatus::Failed), 10)
            .await
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(
            failed[0].last_error.as_deref(),
            Some("400 Twilio error 21211")
        );
        let delivered = s.list_deliveries(&tenant("shop"), None, 10).await.unwrap();
        assert_eq!(
            delivered.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![b, a],
            "{label}: newest first, only the tenant's"
        );
        assert_eq!(delivered[1].provider_id.as_deref(), Some("SM1"));
        db.finish().await;
    }
}

#[tokio::test]
async fn a_turn_and_its_delivery_are_stored_together_or_not_at_all() {
    for db in testing::all().await {
        let (s, label) = (&db.store, db.label);
        tenants(s, &["shop"]).await;
        let mut c = conversation("conv_sms");
        s.create_conversation(&c).await.unwrap();
        c.version = 1;
        c.message_count = 1;
        let mut d = sms("shop", "+14155550100");
        d.conversation_id = Some(c.id.clone());
        s.save_turn(&TurnWrite::new(&c, 0, &[human(1, "On its way")]).delivering(Some(&d)))
            .await
            .unwrap();
        assert_eq!(s.messages(&c.tenant_id, &c.id).await.unwrap().len(), 1);
        let queued = s.list_deliveries(&c.tenant_id, None, 10).await.unwrap();
        assert_eq!(queued.len(), 1, "{label}");
        assert_eq!(queued[0].conversation_id.as_ref(), Some(&c.id));

        // A stale version: neither the message nor the delivery is written.
        let err = s
            .save_turn(&TurnWrite::new(&c, 0, &[human(2, "again")]).delivering(Some(&d)))
            .await
            .unwrap_err();
        assert!(
            matches!(err, hc_store::Error::Conflict(_)),
            "{label}: {err}"
        );
        assert_eq!(s.messages(&c.tenant_id, &c.id).await.unwrap().len(), 1);
        assert_eq!(
            s.list_deliveries(&c.tenant_id, None, 10)
                .await
                .unwrap()
                .len(),
            1,
            "{label}: no delivery without its message"
        );
        // A delivery of another tenant is refused.
        let mut foreign = d.clone();
        foreign.tenant_id = tenant("other");
        c.version = 2;
        c.message_count = 2;
        assert!(
            s.save_turn(&TurnWrite::new(&c, 1, &[human(2, "x")]).delivering(Some(&foreign)))
                .await
                .is_err()
        );

        // The reply contact.
        assert_eq!(s.contact(&c.tenant_id, &c.id).await.unwrap(), None);
        let contact = json!({"customer": "+14155550100", "ours": "+15005550006"});
        s.set_contact(&c.tenant_id, &c.id, &contact).await.unwrap();
        assert_eq!(
            s.contact(&c.tenant_id, &c.id).await.unwrap(),
            Some(contact),
            "{label}"
        );
        assert_eq!(
            s.contact(&tenant("other"), &c.id).await.unwrap(),
            None,
            "{label}: scoped by tenant"
        );
        db.finish().await;
    }
}

fn with_numbers(numbers: &[&str]) -> TenantSettings {
    let channels: ChannelSettings = serde_json::from_value(json!({
        "twilio": {
            "account_sid": "AC0123456789abcdef0123456789abcdef",
            "auth_token": "token",
            "phone_numbers": numbers,
        }
    }))
    .unwrap();
    TenantSettings {
        channels,
        ..TenantSettings::default()
    }
}

fn audit(t: &str) -> AuditRecord {
    AuditRecord {
        tenant_id: tenant(t),
        actor: "test".into(),
        action: "settings.update".into(),
        target: "settings".into(),
        at_ms: 1,
        detail: json!({}),
    }
}

#[tokio::test]
async fn a_number_belongs_to_one_tenant_and_a_refused_claim_changes_nothing() {
    for db in testing::all().await {
        let (s, label) = (&db.store, db.label);
        tenants(s, &["a", "b"]).await;
        let a = with_numbers(&["+15005550001", "+15005550002"]);
        assert!(
            s.put_tenant_settings(&tenant("a"), &a, &audit("a"))
                .await
                .unwrap()
        );
        assert_eq!(
            s.tenant_for_address("+15005550002").await.unwrap(),
            Some(tenant("a")),
            "{label}"
        );
        assert_eq!(s.tenant_for_address("+15005550009").await.unwrap(), None);

        let b = with_numbers(&["+15005550003", "+15005550002"]);
        let err = s
            .put_tenant_settings(&tenant("b"), &b, &audit("b"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, hc_store::Error::Conflict(m) if m.contains("+15005550002")),
            "{label}: {err}"
        );
        assert_eq!(
            s.tenant_settings(&tenant("b")).await.unwrap(),
            Some(TenantSettings::default()),
            "{label}: nothing written"
        );
        assert_eq!(s.tenant_for_address("+15005550003").await.unwrap(), None);

        // Tenant a lets one number go; b may then take it.
        let a = with_numbers(&["+15005550001"]);
        assert!(
            s.put_tenant_settings(&tenant("a"), &a, &audit("a"))
                .await
                .unwrap()
        );
        assert!(
            s.put_tenant_settings(&tenant("b"), &b, &audit("b"))
                .await
                .unwrap()
        );
        assert_eq!(
            s.tenant_for_address("+15005550002").await.unwrap(),
            Some(tenant("b")),
            "{label}"
        );
        assert_eq!(
            s.tenant_settings(&tenant("b")).await.unwrap(),
            Some(b),
            "{label}: secrets are stored"
        );
        db.finish().await;
    }
}
