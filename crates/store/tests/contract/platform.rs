//! Platform stores: tenants, keys, idempotency.

use hc_domain::{ApiKeyId, ApiKeyRecord, Role, Tenant};
use hc_store::{ApiKeyStore, IdempotencyStore, Reservation, TenantStore, testing};

use crate::fixture::tenant;

#[tokio::test]
async fn tenant_ids_are_unique() {
    for db in testing::all().await {
        let t = Tenant {
            id: tenant("acme"),
            name: "Acme".into(),
            created_at_ms: 5,
        };
        db.store.create_tenant(&t).await.unwrap();
        let err = db.store.create_tenant(&t).await.unwrap_err();
        assert!(
            matches!(err, hc_store::Error::Conflict(_)),
            "{}: {err}",
            db.label
        );
        assert_eq!(db.store.tenant(&tenant("acme")).await.unwrap(), Some(t));
        assert_eq!(db.store.list_tenants().await.unwrap().len(), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn keys_are_found_by_hash_and_revoked_within_their_tenant() {
    for db in testing::all().await {
        for id in ["a", "b"] {
            db.store
                .create_tenant(&Tenant {
                    id: tenant(id),
                    name: id.into(),
                    created_at_ms: 1,
                })
                .await
                .unwrap();
        }
        let key = ApiKeyRecord {
            id: ApiKeyId::parse("k1").unwrap(),
            tenant_id: tenant("a"),
            role: Role::Manager,
            label: "ci".into(),
            prefix: "hc_abcd".into(),
            rate_limit_per_sec: Some(50),
            created_at_ms: 10,
            revoked_at_ms: None,
        };
        db.store.insert_key(&key, "hash1").await.unwrap();
        assert_eq!(
            db.store.key_by_hash("hash1").await.unwrap(),
            Some(key.clone())
        );
        assert_eq!(db.store.key_by_hash("nope").await.unwrap(), None);
        assert!(
            !db.store
                .revoke_key(&tenant("b"), &key.id, 20)
                .await
                .unwrap(),
            "other tenant"
        );
        assert!(
            db.store
                .revoke_key(&tenant("a"), &key.id, 20)
                .await
                .unwrap()
        );
        let stored = db.store.key_by_hash("hash1").await.unwrap().unwrap();
        assert_eq!(stored.revoked_at_ms, Some(20));
        db.finish().await;
    }
}

#[tokio::test]
async fn idempotency_reserves_once_replays_and_detects_mismatch() {
    for db in testing::all().await {
        let t = tenant("a");
        db.store
            .create_tenant(&Tenant {
                id: t.clone(),
                name: "a".into(),
                created_at_ms: 1,
            })
            .await
            .unwrap();
        let s = &db.store;
        assert_eq!(
            s.reserve(&t, "k", "idem-1", "h1").await.unwrap(),
            Reservation::Reserved
        );
        assert_eq!(
            s.reserve(&t, "k", "idem-1", "h1").await.unwrap(),
            Reservation::InProgress
        );
        s.complete(&t, "k", "idem-1", 200, "{\"ok\":1}")
            .await
            .unwrap();
        assert_eq!(
            s.reserve(&t, "k", "idem-1", "h1").await.unwrap(),
            Reservation::Completed {
                status: 200,
                body: "{\"ok\":1}".into()
            }
        );
        assert_eq!(
            s.reserve(&t, "k", "idem-1", "h2").await.unwrap(),
            Reservation::Mismatch
        );
        // A released (failed) reservation may be retried.
        assert_eq!(
            s.reserve(&t, "k", "idem-2", "h1").await.unwrap(),
            Reservation::Reserved
        );
        s.release(&t, "k", "idem-2").await.unwrap();
        assert_eq!(
            s.reserve(&t, "k", "idem-2", "h1").await.unwrap(),
            Reservation::Reserved
        );
        // Keys are per API key.
        assert_eq!(
            s.reserve(&t, "other", "idem-1", "h1").await.unwrap(),
            Reservation::Reserved
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn tenant_settings_round_trip_within_their_tenant_with_an_audit_record() {
    use hc_domain::{AuditRecord, TenantSettings, Tone};
    use hc_store::AuditStore;
    for db in testing::all().await {
        for id in ["a", "b"] {
            db.store
                .create_tenant(&Tenant {
                    id: tenant(id),
                    name: id.into(),
                    created_at_ms: 1,
                })
                .await
                .unwrap();
        }
        let label = db.label;
        assert_eq!(
            db.store.tenant_settings(&tenant("a")).await.unwrap(),
            Some(TenantSettings::default()),
            "{label}: never set means the defaults"
        );
        assert_eq!(db.store.tenant_settings(&tenant("zz")).await.unwrap(), None);

        let mut s = TenantSettings {
            brand: Some("Acme".into()),
            tone: Tone::Formal,
            cancel_reasons: Some(vec!["ordered by mistake".into()]),
            refund_to_gift_card: false,
            ..TenantSettings::default()
        };
        s.escalation.max_failures = 1;
        let audit = |t: &str| AuditRecord {
            tenant_id: tenant(t),
            actor: "test".into(),
            action: "settings.update".into(),
            target: "settings".into(),
            at_ms: 7,
            detail: serde_json::json!({}),
        };
        assert!(
            db.store
                .put_tenant_settings(&tenant("a"), &s, &audit("a"))
                .await
                .unwrap()
        );
        assert_eq!(
            db.store.tenant_settings(&tenant("a")).await.unwrap(),
            Some(s.clone()),
            "{label}"
        );
        assert_eq!(
            db.store.tenant_settings(&tenant("b")).await.unwrap(),
            Some(TenantSettings::default()),
            "{label}: another tenant is untouched"
        );
        // An audit record of another tenant is refused and nothing changes.
        assert!(
            db.store
                .put_tenant_settings(&tenant("b"), &s, &audit("a"))
                .await
                .is_err()
        );
        assert_eq!(
            db.store.tenant_settings(&tenant("b")).await.unwrap(),
            Some(TenantSettings::default())
        );
        assert!(
            !db.store
                .put_tenant_settings(&tenant("zz"), &s, &audit("zz"))
                .await
                .unwrap()
        );
        let page = hc_commerce::PageRequest::new(None, None);
        let a = db.store.list_audit(&tenant("a"), &page).await.unwrap();
        assert_eq!(a.items.len(), 1, "{label}");
        assert_eq!(a.items[0].record.action, "settings.update");
        let zz = db.store.list_audit(&tenant("zz"), &page).await.unwrap();
        assert!(
            zz.items.is_empty(),
            "{label}: a missing tenant's write is rolled back"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn channel_secrets_are_sealed_at_rest_and_open_only_with_the_key() {
    use hc_domain::{AuditRecord, PostmarkSettings, Secret, TenantSettings, TwilioSettings};
    for db in testing::all().await {
        let label = db.label;
        db.store
            .create_tenant(&Tenant {
                id: tenant("a"),
                name: "A".into(),
                created_at_ms: 1,
            })
            .await
            .unwrap();
        let mut s = TenantSettings::default();
        s.channels.twilio = Some(TwilioSettings {
            account_sid: format!("AC{}", "0".repeat(32)),
            auth_token: Secret::Value("twilio-token-123".into()),
            phone_numbers: vec!["+14155550100".into()],
        });
        s.channels.postmark = Some(PostmarkSettings {
            server_token: Secret::Value("postmark-token-456".into()),
            from: "help@a.example".into(),
            inbound_addresses: vec![],
            inbound_user: "hook".into(),
            inbound_password: Secret::Value("hook-pass-789".into()),
        });
        let audit = AuditRecord {
            tenant_id: tenant("a"),
            actor: "test".into(),
            action: "settings.update".into(),
            target: "settings".into(),
            at_ms: 7,
            detail: serde_json::json!({}),
        };
        assert!(
            db.store
                .put_tenant_settings(&tenant("a"), &s, &audit)
                .await
                .unwrap()
        );
        assert_eq!(
            db.store.tenant_settings(&tenant("a")).await.unwrap(),
            Some(s.clone()),
            "{label}: read back as written"
        );
        // Without the key the stored document holds no usable credential.
        let raw = hc_store::SqlStore::open(&db.url, &hc_store::StoreConfig::default())
            .await
            .unwrap();
        let stored = raw.tenant_settings(&tenant("a")).await.unwrap().unwrap();
        let doc = serde_json::to_string(&stored).unwrap();
        for secret in ["twilio-token-123", "postmark-token-456", "hook-pass-789"] {
            assert!(!doc.contains(secret), "{label}: {secret} in clear: {doc}");
        }
        assert!(doc.contains("enc:v1:"), "{label}: {doc}");
        raw.close().await;
        // Another key does not open them.
        let wrong = hc_store::SqlStore::open(&db.url, &hc_store::StoreConfig::default())
            .await
            .unwrap()
            .with_secrets_key(hc_store::SecretsKey::generate());
        assert!(
            matches!(
                wrong.tenant_settings(&tenant("a")).await,
                Err(hc_store::Error::Corrupt(_))
            ),
            "{label}"
        );
        wrong.close().await;
        db.finish().await;
    }
}
