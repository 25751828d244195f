//! Long-term customer memory: retention rules, erasure and tenant isolation.

use hc_agent::ports::MemoryStore;
use hc_domain::{CustomerFact, FactKind, Tenant, UserId};
use hc_store::{TenantStore, testing};

use crate::fixture::tenant;

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn fact(u: &str, kind: FactKind, subject: &str, value: &str, at: i64) -> CustomerFact {
    CustomerFact::new(user(u), kind, subject, value, "order:#W0000001", at)
}

async fn tenants(s: &hc_store::SqlStore) {
    for id in ["shop", "other"] {
        s.create_tenant(&Tenant {
            id: tenant(id),
            name: id.into(),
            created_at_ms: 1,
        })
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_newer_fact_replaces_the_older_and_a_late_older_one_is_ignored() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let t = tenant("shop");
        s.remember(
            &t,
            &[
                fact("ava", FactKind::Size, "Jacket", "M", 10),
                fact("ava", FactKind::Color, "Jacket", "navy", 10),
                fact("ava", FactKind::Size, "T-Shirt", "L", 11),
            ],
        )
        .await
        .unwrap();
        s.remember(&t, &[fact("ava", FactKind::Size, "jacket", "L", 20)])
            .await
            .unwrap();
        s.remember(&t, &[fact("ava", FactKind::Size, "Jacket", "XS", 5)])
            .await
            .unwrap();
        let facts = s.recall(&t, &user("ava")).await.unwrap();
        assert_eq!(facts.len(), 3, "{}: {facts:?}", db.label);
        assert_eq!(facts[0].value, "L", "{}: newest first", db.label);
        assert_eq!(facts[0].subject, "jacket");
        assert_eq!(facts[0].learned_at_ms, 20);
        assert!(
            !facts.iter().any(|f| f.value == "XS" || f.value == "M"),
            "{}: one size per product type, the newest",
            db.label
        );
        assert!(facts.iter().all(|f| f.source == "order:#W0000001"));
        db.finish().await;
    }
}

#[tokio::test]
async fn issues_keep_only_the_newest_five_per_customer() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let t = tenant("shop");
        for i in 0..7 {
            s.remember(
                &t,
                &[fact(
                    "ava",
                    FactKind::Issue,
                    "",
                    &format!("issue {i}"),
                    100 + i,
                )],
            )
            .await
            .unwrap();
        }
        // The same issue again is stored once.
        s.remember(&t, &[fact("ava", FactKind::Issue, "", "issue 6", 106)])
            .await
            .unwrap();
        s.remember(&t, &[fact("bob", FactKind::Issue, "", "bob's", 1)])
            .await
            .unwrap();
        let issues: Vec<String> = s
            .recall(&t, &user("ava"))
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert_eq!(
            issues,
            vec!["issue 6", "issue 5", "issue 4", "issue 3", "issue 2"],
            "{}",
            db.label
        );
        assert_eq!(s.recall(&t, &user("bob")).await.unwrap().len(), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn forget_erases_one_customer_in_one_tenant_only() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let (shop, other) = (tenant("shop"), tenant("other"));
        let facts = [
            fact("ava", FactKind::Size, "Jacket", "M", 1),
            fact("ava", FactKind::Satisfaction, "", "2/5", 2),
            fact("ava", FactKind::Issue, "", "escalated", 3),
        ];
        s.remember(&shop, &facts).await.unwrap();
        s.remember(&other, &facts[..1]).await.unwrap();
        s.remember(&shop, &[fact("bob", FactKind::Size, "Jacket", "S", 1)])
            .await
            .unwrap();
        // Another tenant sees nothing of this tenant's memory.
        assert_eq!(s.recall(&other, &user("ava")).await.unwrap().len(), 1);
        assert!(s.recall(&other, &user("bob")).await.unwrap().is_empty());
        assert_eq!(
            s.forget(&shop, &user("ava")).await.unwrap(),
            3,
            "{}",
            db.label
        );
        assert!(s.recall(&shop, &user("ava")).await.unwrap().is_empty());
        assert_eq!(s.recall(&shop, &user("bob")).await.unwrap().len(), 1);
        assert_eq!(
            s.recall(&other, &user("ava")).await.unwrap().len(),
            1,
            "{}: erasure is per tenant",
            db.label
        );
        assert_eq!(s.forget(&shop, &user("ava")).await.unwrap(), 0);
        db.finish().await;
    }
}

#[tokio::test]
async fn facts_written_with_a_turn_commit_with_it_or_not_at_all() {
    use hc_agent::ports::{ConversationStore, TurnWrite};
    use hc_domain::{Channel, Conversation, ConversationId, ConversationStatus};
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let t = tenant("shop");
        let mut c = Conversation {
            id: ConversationId::parse("conv_mem").unwrap(),
            tenant_id: t.clone(),
            channel: Channel::Chat,
            status: ConversationStatus::Open,
            customer: Some(user("ava")),
            created_at_ms: 1,
            updated_at_ms: 1,
            first_response_at_ms: None,
            closed_at_ms: None,
            satisfaction: None,
            escalation: None,
            message_count: 0,
            version: 0,
            usage: Default::default(),
            state: serde_json::json!({}),
        };
        s.create_conversation(&c).await.unwrap();
        c.version = 1;
        let mut facts = vec![fact("ava", FactKind::Size, "Jacket", "M", 10)];
        facts.extend((0..7).map(|i| fact("ava", FactKind::Issue, "", &format!("issue {i}"), i)));
        s.save_turn(&TurnWrite::new(&c, 0, &[]).learning(&facts))
            .await
            .unwrap();
        let kept = s.recall(&t, &user("ava")).await.unwrap();
        assert_eq!(
            kept.iter().filter(|f| f.kind == FactKind::Issue).count(),
            CustomerFact::MAX_ISSUES,
            "{}: pruned in the turn's transaction: {kept:?}",
            db.label
        );
        assert!(kept.iter().any(|f| f.value == "M"), "{}", db.label);

        // A stale turn writes nothing, its facts included.
        let late = [fact("ava", FactKind::Size, "Jacket", "XL", 99)];
        let err = s
            .save_turn(&TurnWrite::new(&c, 0, &[]).learning(&late))
            .await
            .unwrap_err();
        assert!(
            matches!(err, hc_store::Error::Conflict(_)),
            "{}: {err}",
            db.label
        );
        let after = s.recall(&t, &user("ava")).await.unwrap();
        assert!(
            !after.iter().any(|f| f.value == "XL"),
            "{}: {after:?}",
            db.label
        );

        // Facts about another customer are refused (one customer per conversation).
        c.version = 2;
        let foreign = [fact("bob", FactKind::Size, "Jacket", "S", 5)];
        assert!(
            s.save_turn(&TurnWrite::new(&c, 1, &[]).learning(&foreign))
                .await
                .is_err(),
            "{}",
            db.label
        );
        assert!(s.recall(&t, &user("bob")).await.unwrap().is_empty());
        db.finish().await;
    }
}
