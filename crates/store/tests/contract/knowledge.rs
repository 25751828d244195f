//! The article store: upsert keeps ids, the per-tenant limit, paging by
//! slug, deletion and tenant scoping, on every backend.

use std::sync::Arc;

use hc_domain::{Article, ArticleId, ArticleSlug, Tenant};
use hc_knowledge::ports::{ArticleStore, Upserted};
use hc_knowledge::{ArticleDraft, KnowledgeBase, KnowledgeConfig};
use hc_store::{TenantStore, testing};

use crate::fixture::tenant;

fn article(t: &str, slug: &str, id: &str, title: &str) -> Article {
    Article {
        id: ArticleId::parse(id).unwrap(),
        tenant_id: tenant(t),
        slug: ArticleSlug::parse(slug).unwrap(),
        title: title.into(),
        body_markdown: format!("# {title}\n\nBody of {slug}."),
        tags: vec!["a".into(), "b".into()],
        updated_at_ms: 7,
    }
}

async fn tenants(store: &hc_store::SqlStore) {
    for id in ["shop", "other"] {
        store
            .create_tenant(&Tenant {
                id: tenant(id),
                name: id.into(),
                created_at_ms: 1,
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn articles_are_upserted_by_slug_keeping_their_id_and_scoped_by_tenant() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        let a = article("shop", "returns", "art_1", "Returns");
        let created = s.upsert_article(&a, 10).await.unwrap();
        assert_eq!(created, Upserted::Created(a.clone()), "{}", db.label);
        let edited = Article {
            id: ArticleId::parse("art_2").unwrap(),
            title: "Returns & refunds".into(),
            ..a.clone()
        };
        let updated = s.upsert_article(&edited, 10).await.unwrap();
        let stored = updated.article().clone();
        assert!(matches!(updated, Upserted::Updated(_)), "{}", db.label);
        assert_eq!(
            stored.id.as_str(),
            "art_1",
            "{}: the id survives edits",
            db.label
        );
        assert_eq!(stored.title, "Returns & refunds");
        assert_eq!(
            s.article(&tenant("shop"), &a.slug).await.unwrap(),
            Some(stored.clone()),
            "{}",
            db.label
        );
        assert_eq!(
            s.article(&tenant("other"), &a.slug).await.unwrap(),
            None,
            "{}: another tenant sees nothing",
            db.label
        );
        assert!(s.all_articles(&tenant("other")).await.unwrap().is_empty());
        assert!(
            !s.delete_article(&tenant("other"), &a.slug).await.unwrap(),
            "{}: another tenant cannot delete it",
            db.label
        );
        assert!(s.delete_article(&tenant("shop"), &a.slug).await.unwrap());
        assert!(!s.delete_article(&tenant("shop"), &a.slug).await.unwrap());
        assert_eq!(s.article(&tenant("shop"), &a.slug).await.unwrap(), None);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_article_limit_refuses_new_slugs_but_not_edits() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        s.upsert_article(&article("shop", "a", "art_a", "A"), 2)
            .await
            .unwrap();
        s.upsert_article(&article("shop", "b", "art_b", "B"), 2)
            .await
            .unwrap();
        let e = s
            .upsert_article(&article("shop", "c", "art_c", "C"), 2)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "knowledge_base_full", "{}", db.label);
        assert!(
            s.article(&tenant("shop"), &ArticleSlug::parse("c").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.upsert_article(&article("shop", "b", "art_x", "B2"), 2)
                .await
                .is_ok()
        );
        assert!(
            s.upsert_article(&article("other", "c", "art_c", "C"), 2)
                .await
                .is_ok(),
            "{}: the limit is per tenant",
            db.label
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn articles_list_in_slug_order_page_by_page() {
    for db in testing::all().await {
        let s = &db.store;
        tenants(s).await;
        for slug in ["b-x", "a", "ab", "a-b", "c", "a0"] {
            s.upsert_article(&article("shop", slug, &format!("art_{slug}"), slug), 100)
                .await
                .unwrap();
        }
        s.upsert_article(&article("other", "zz", "art_zz", "zz"), 100)
            .await
            .unwrap();
        let t = tenant("shop");
        let first: Vec<String> = s
            .list_articles(&t, None, 3)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.slug.to_string())
            .collect();
        assert_eq!(first, ["a", "a-b", "a0"], "{}: bytewise order", db.label);
        let after = ArticleSlug::parse("a0").unwrap();
        let rest: Vec<String> = s
            .list_articles(&t, Some(&after), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.slug.to_string())
            .collect();
        assert_eq!(rest, ["ab", "b-x", "c"], "{}", db.label);
        assert_eq!(s.all_articles(&t).await.unwrap().len(), 6);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_knowledge_base_searches_what_the_store_holds() {
    for db in testing::all().await {
        tenants(&db.store).await;
        let store = Arc::new(db.store.clone());
        let kb = KnowledgeBase::new(store.clone(), KnowledgeConfig::default());
        for d in hc_knowledge::demo::demo_articles() {
            kb.upsert(&tenant("shop"), d).await.unwrap();
        }
        kb.upsert(
            &tenant("other"),
            ArticleDraft {
                title: "Refunds".into(),
                body_markdown: "Store credit only.".into(),
                ..ArticleDraft::default()
            },
        )
        .await
        .unwrap();
        // A second instance starts cold and builds its index from the rows.
        let restarted = KnowledgeBase::new(store, KnowledgeConfig::default());
        let hits = restarted
            .search(&tenant("shop"), "how long do refunds take?", 3)
            .await
            .unwrap();
        assert_eq!(hits[0].slug.as_str(), "returns-and-refunds", "{}", db.label);
        assert!(
            hits.iter()
                .all(|h| !h.snippet.contains("Store credit only")),
            "{}: no other tenant's text",
            db.label
        );
        db.finish().await;
    }
}
