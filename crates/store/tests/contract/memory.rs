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
