//! The dashboard's settings: operator changes that never leave a tenant
//! without an active owner, the tenant's LLM provider (key sealed), webhook
//! endpoints (secret sealed) and the webhook delivery log; scoped by tenant.

use hc_domain::outbox::{DeliveryKind, NewDelivery};
use hc_domain::{AuditRecord, Operator, OperatorId, Role, Tenant, TenantId};
use hc_store::{
    OperatorChange, OperatorChanged, OperatorStore, OutboxStore, SettingsStore, TenantLlm,
    TenantStore, WebhookEndpoint, testing,
};
use serde_json::json;

use crate::fixture::tenant;

fn audit(t: &str, action: &str) -> AuditRecord {
    AuditRecord {
        tenant_id: tenant(t),
        actor: "test".into(),
        action: action.into(),
        target: "x".into(),
        at_ms: 1,
        detail: json!({}),
    }
}

fn op(t: &str, id: &str, role: Role) -> Operator {
    Operator {
        id: OperatorId::parse(id).unwrap(),
        tenant_id: tenant(t),
        email: format!("{id}@{t}.example"),
        role,
        created_at_ms: 1,
        disabled_at_ms: None,
    }
}

async fn tenants(s: &hc_store::SqlStore) {
    for t in ["shop", "other"] {
        s.create_tenant(&Tenant {
            id: tenant(t),
            name: t.into(),
            created_at_ms: 1,
        })
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_last_active_owner_is_never_demoted_or_disabled() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let t = tenant("shop");
        for o in [
            op("shop", "op_a", Role::Owner),
            op("shop", "op_b", Role::Admin),
            op("other", "op_c", Role::Owner),
        ] {
            s.insert_operator(&o, "hash", &audit(o.tenant_id.as_str(), "create"))
                .await
                .unwrap();
        }
        let a = OperatorId::parse("op_a").unwrap();
        let b = OperatorId::parse("op_b").unwrap();
        let change = |id: &OperatorId, c: OperatorChange| {
            let id = id.clone();
            let t = t.clone();
            async move {
                s.change_operator(&t, &id, c, &audit("shop", "change"))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            change(&a, OperatorChange::Role(Role::Admin)).await,
            OperatorChanged::LastOwner,
            "{}",
            db.label
        );
        assert_eq!(
            change(&a, OperatorChange::Disable(5)).await,
            OperatorChanged::LastOwner
        );
        // A second owner: now the first may go, and then the second is the last.
        assert_eq!(
            change(&b, OperatorChange::Role(Role::Owner)).await,
            OperatorChanged::Done
        );
        assert_eq!(
            change(&a, OperatorChange::Disable(5)).await,
            OperatorChanged::Done
        );
        assert_eq!(
            change(&b, OperatorChange::Role(Role::Viewer)).await,
            OperatorChanged::LastOwner
        );
        // A disabled owner does not count; enabling it makes two again.
        assert_eq!(
            change(&a, OperatorChange::Enable).await,
            OperatorChanged::Done
        );
        assert_eq!(
            change(&b, OperatorChange::Role(Role::Viewer)).await,
            OperatorChanged::Done
        );
        let ops = s.list_operators(&t).await.unwrap();
        let roles: Vec<(String, Role, bool)> = ops
            .iter()
            .map(|o| (o.id.to_string(), o.role, o.disabled_at_ms.is_some()))
            .collect();
        assert_eq!(
            roles,
            vec![
                ("op_a".into(), Role::Owner, false),
                ("op_b".into(), Role::Viewer, false)
            ]
        );
        // Another tenant's operator is not found from this tenant.
        let c = OperatorId::parse("op_c").unwrap();
        assert_eq!(
            change(&c, OperatorChange::Disable(5)).await,
            OperatorChanged::NotFound
        );
        // An audit record of another tenant is refused.
        assert!(
            s.change_operator(&t, &a, OperatorChange::Enable, &audit("other", "x"))
                .await
                .is_err()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_llm_key_is_sealed_at_rest_and_scoped_by_tenant() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let t = tenant("shop");
        assert!(s.tenant_llm(&t).await.unwrap().is_none());
        let llm = TenantLlm {
            provider: "openai".into(),
            base_url: String::new(),
            model: "gpt-4o-mini".into(),
            api_key: Some("sk-secret".into()),
            updated_at_ms: 7,
        };
        s.put_tenant_llm(&t, Some(&llm), &audit("shop", "llm"))
            .await
            .unwrap();
        assert_eq!(
            s.tenant_llm(&t).await.unwrap(),
            Some(llm.clone()),
            "{}",
            db.label
        );
        assert!(
            !format!("{llm:?}").contains("sk-secret"),
            "not in debug output"
        );
        assert!(s.tenant_llm(&tenant("other")).await.unwrap().is_none());
        // A store without the secrets key reads the sealed text, not the key.
        let plain = hc_store::SqlStore::open(&db.url, &Default::default())
            .await
            .unwrap();
        let raw = plain
            .tenant_llm(&t)
            .await
            .unwrap()
            .unwrap()
            .api_key
            .unwrap();
        assert!(
            raw.starts_with("enc:v1:") && !raw.contains("sk-secret"),
            "{raw}"
        );
        plain.close().await;
        s.put_tenant_llm(&t, None, &audit("shop", "llm"))
            .await
            .unwrap();
        assert!(s.tenant_llm(&t).await.unwrap().is_none());
        db.finish().await;
    }
}

#[tokio::test]
async fn webhook_endpoints_and_their_deliveries_belong_to_one_tenant() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let t = tenant("shop");
        let e = WebhookEndpoint {
            id: "wh_1".into(),
            tenant_id: t.clone(),
            url: "https://h.example/x".into(),
            description: "ops".into(),
            created_at_ms: 3,
        };
        s.insert_webhook_endpoint(&e, "whsec_1", &audit("shop", "wh"))
            .await
            .unwrap();
        assert_eq!(s.list_webhook_endpoints(&t).await.unwrap(), vec![e.clone()]);
        assert_eq!(
            s.webhook_endpoint(&t, "wh_1").await.unwrap(),
            Some((e.clone(), "whsec_1".to_string())),
            "{}",
            db.label
        );
        let other = TenantId::parse("other").unwrap();
        assert!(s.list_webhook_endpoints(&other).await.unwrap().is_empty());
        assert!(s.webhook_endpoint(&other, "wh_1").await.unwrap().is_none());
        assert!(
            !s.delete_webhook_endpoint(&other, "wh_1", &audit("other", "wh"))
                .await
                .unwrap()
        );
        // The log: webhook deliveries only, newest first, this tenant's.
        for (tn, kind) in [
            ("shop", DeliveryKind::Webhook),
            ("shop", DeliveryKind::Sms),
            ("shop", DeliveryKind::Webhook),
            ("other", DeliveryKind::Webhook),
        ] {
            s.enqueue(&NewDelivery {
                tenant_id: tenant(tn),
                conversation_id: None,
                kind,
                payload: json!({"url": "u", "endpoint_id": "wh_1", "event": "e"}),
            })
            .await
            .unwrap();
        }
        let log = s.webhook_deliveries(&t, 10).await.unwrap();
        assert_eq!(log.len(), 2);
        assert!(log[0].id > log[1].id);
        assert!(
            log.iter()
                .all(|d| d.kind == DeliveryKind::Webhook && d.tenant_id == t)
        );
        assert!(
            s.delete_webhook_endpoint(&t, "wh_1", &audit("shop", "wh"))
                .await
                .unwrap()
        );
        assert!(s.webhook_endpoint(&t, "wh_1").await.unwrap().is_none());
        db.finish().await;
    }
}
