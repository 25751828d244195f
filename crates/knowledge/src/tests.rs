//! The knowledge base over an in-memory store: validation, search quality
//! (stemming, snippets, boosts), hostile queries, deletion, tenant isolation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hc_domain::{Article, ArticleSlug, TenantId};

use crate::error::{Error, Result};
use crate::ports::{ArticleStore, Upserted};
use crate::{ArticleDraft, KnowledgeBase, KnowledgeConfig};

/// Articles by (tenant, slug), as a SQL store would keep them.
#[derive(Default)]
struct MemoryStore {
    rows: Mutex<BTreeMap<(String, String), Article>>,
    /// One counter for every tenant: enough for a revision that moves.
    revision: std::sync::atomic::AtomicI64,
}

impl MemoryStore {
    fn bump(&self) {
        self.revision
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl ArticleStore for MemoryStore {
    async fn upsert_article(&self, a: &Article, max: usize) -> Result<Upserted> {
        let mut rows = self.rows.lock().unwrap();
        self.bump();
        let key = (a.tenant_id.to_string(), a.slug.to_string());
        if let Some(old) = rows.get(&key) {
            let stored = Article {
                id: old.id.clone(),
                ..a.clone()
            };
            rows.insert(key, stored.clone());
            return Ok(Upserted::Updated(stored));
        }
        if rows.keys().filter(|(t, _)| *t == key.0).count() >= max {
            return Err(Error::LimitReached(max));
        }
        rows.insert(key, a.clone());
        Ok(Upserted::Created(a.clone()))
    }

    async fn article(&self, t: &TenantId, slug: &ArticleSlug) -> Result<Option<Article>> {
        let rows = self.rows.lock().unwrap();
        Ok(rows.get(&(t.to_string(), slug.to_string())).cloned())
    }

    async fn list_articles(
        &self,
        t: &TenantId,
        after: Option<&ArticleSlug>,
        limit: usize,
    ) -> Result<Vec<Article>> {
        let rows = self.rows.lock().unwrap();
        Ok(rows
            .values()
            .filter(|a| &a.tenant_id == t && after.is_none_or(|s| &a.slug > s))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn delete_article(&self, t: &TenantId, slug: &ArticleSlug) -> Result<bool> {
        let mut rows = self.rows.lock().unwrap();
        let removed = rows.remove(&(t.to_string(), slug.to_string())).is_some();
        if removed {
            self.bump();
        }
        Ok(removed)
    }

    async fn revision(&self, _t: &TenantId) -> Result<i64> {
        Ok(self.revision.load(std::sync::atomic::Ordering::SeqCst))
    }

    async fn all_articles(&self, t: &TenantId) -> Result<Vec<Article>> {
        self.list_articles(t, None, usize::MAX).await
    }
}

fn tenant(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

fn draft(title: &str, body: &str) -> ArticleDraft {
    ArticleDraft {
        title: title.into(),
        body_markdown: body.into(),
        ..ArticleDraft::default()
    }
}

fn kb_with(store: Arc<MemoryStore>, max_articles: usize) -> KnowledgeBase {
    KnowledgeBase::new(
        store,
        KnowledgeConfig {
            max_articles,
            ..KnowledgeConfig::default()
        },
    )
}

async fn demo_kb() -> KnowledgeBase {
    let kb = kb_with(Arc::default(), 1000);
    for d in crate::demo::demo_articles() {
        kb.upsert(&tenant("shop"), d).await.unwrap();
    }
    kb
}

fn slugs(hits: &[hc_domain::KnowledgeHit]) -> Vec<&str> {
    hits.iter().map(|h| h.slug.as_str()).collect()
}

#[tokio::test]
async fn a_plural_question_finds_the_article_through_stemming() {
    let kb = kb_with(Arc::default(), 10);
    let t = tenant("shop");
    kb.upsert(
        &t,
        draft(
            "Money back",
            "A refund is issued within five business days.",
        ),
    )
    .await
    .unwrap();
    kb.upsert(&t, draft("Delivery", "We deliver parcels on weekdays."))
        .await
        .unwrap();
    let hits = kb.search(&t, "how long do refunds take?", 5).await.unwrap();
    assert_eq!(
        slugs(&hits),
        ["money-back"],
        "only the refund article matches"
    );
    assert!(hits[0].snippet.contains("refund"), "{}", hits[0].snippet);
}

#[tokio::test]
async fn the_demo_articles_answer_typical_policy_questions() {
    let kb = demo_kb().await;
    let t = tenant("shop");
    for (question, slug) in [
        ("how long do refunds take?", "returns-and-refunds"),
        ("do you ship to Canada?", "shipping"),
        (
            "can I cancel my order after it shipped",
            "cancelling-or-changing-an-order",
        ),
        ("do you accept paypal", "payment-methods"),
        ("what's the warranty on headphones", "warranty-and-contact"),
        ("can I swap for a different size", "exchanges"),
    ] {
        let hits = kb.search(&t, question, 3).await.unwrap();
        assert_eq!(
            hits.first().map(|h| h.slug.as_str()),
            Some(slug),
            "{question}: {hits:?}"
        );
    }
}

#[tokio::test]
async fn the_snippet_is_the_passage_with_the_matched_words() {
    let kb = demo_kb().await;
    let hits = kb
        .search(&tenant("shop"), "do you ship to Canada?", 1)
        .await
        .unwrap();
    let snippet = hits[0].snippet.to_lowercase();
    assert!(snippet.contains("canada"), "{snippet}");
    assert!(snippet.len() < 600, "a passage, not the article: {snippet}");
    assert!(
        !snippet.contains("**") && !snippet.contains("##"),
        "markdown stripped: {snippet}"
    );
}

#[tokio::test]
async fn hostile_or_odd_query_text_never_fails() {
    let kb = demo_kb().await;
    let t = tenant("shop");
    for q in [
        "title:\"refund",
        "((( AND OR NOT",
        "body:[a TO z] ^2 ~3 *",
        "'; drop table knowledge_articles; --",
        "-refund +shipping \\ \" : { } [ ] !",
        "返品はできますか？",
        "🙂🙂🙂",
        "a",
        "the and of",
    ] {
        let hits = kb.search(&t, q, 5);
        assert!(hits.await.is_ok(), "{q} must not fail");
    }
    let hits = kb.search(&t, "refund: \"gift card\"", 5).await.unwrap();
    assert!(
        !hits.is_empty(),
        "words around syntax characters still count"
    );
    assert!(matches!(
        kb.search(&t, "   ", 5).await,
        Err(Error::InvalidQuery(_))
    ));
    assert!(matches!(
        kb.search(&t, &"x".repeat(501), 5).await,
        Err(Error::InvalidQuery(_))
    ));
}

#[tokio::test]
async fn deleting_an_article_removes_it_from_search_and_updates_replace_it() {
    let kb = demo_kb().await;
    let t = tenant("shop");
    let warranty = ArticleSlug::parse("warranty-and-contact").unwrap();
    assert!(!kb.search(&t, "warranty", 5).await.unwrap().is_empty());
    kb.delete(&t, &warranty).await.unwrap();
    let hits = kb.search(&t, "warranty", 5).await.unwrap();
    assert!(!slugs(&hits).contains(&"warranty-and-contact"), "{hits:?}");
    assert!(matches!(
        kb.delete(&t, &warranty).await,
        Err(Error::NotFound(_))
    ));

    let first = kb
        .upsert(&t, draft("Store hours", "We open at nine."))
        .await
        .unwrap();
    assert!(matches!(first, Upserted::Created(_)));
    let second = kb
        .upsert(&t, draft("Store hours", "We open at ten o'clock sharp."))
        .await
        .unwrap();
    assert!(matches!(second, Upserted::Updated(_)));
    assert_eq!(first.article().id, second.article().id, "the id is stable");
    assert!(
        kb.search(&t, "nine", 5).await.unwrap().is_empty(),
        "old text is gone"
    );
    assert_eq!(
        slugs(&kb.search(&t, "sharp", 5).await.unwrap()),
        ["store-hours"]
    );
}

#[tokio::test]
async fn a_tenant_never_finds_another_tenants_articles() {
    let kb = demo_kb().await;
    let other = tenant("other");
    assert!(kb.search(&other, "refund", 5).await.unwrap().is_empty());
    kb.upsert(&other, draft("Refunds at Other", "Refunds in cash only."))
        .await
        .unwrap();
    assert_eq!(
        slugs(&kb.search(&other, "refund", 5).await.unwrap()),
        ["refunds-at-other"]
    );
    let shop = kb.search(&tenant("shop"), "cash", 5).await.unwrap();
    assert!(shop.is_empty(), "{shop:?}");
}

#[tokio::test]
async fn the_index_is_rebuilt_from_the_store() {
    let store = Arc::new(MemoryStore::default());
    let t = tenant("shop");
    {
        let kb = kb_with(store.clone(), 10);
        kb.upsert(&t, draft("Gift wrapping", "We wrap presents for free."))
            .await
            .unwrap();
    }
    let restarted = kb_with(store, 10);
    let hits = restarted.search(&t, "wrapped present", 5).await.unwrap();
    assert_eq!(slugs(&hits), ["gift-wrapping"]);
}

#[tokio::test]
async fn bad_articles_are_refused_and_nothing_is_stored() {
    let store = Arc::new(MemoryStore::default());
    let kb = kb_with(store.clone(), 2);
    let t = tenant("shop");
    let bad = [
        draft("", "body"),
        draft(&"t".repeat(201), "body"),
        draft("Title", ""),
        draft("Title", &"x".repeat(100 * 1024 + 1)),
        draft("Title\u{7}", "body"),
        draft("???", "no slug can be derived"),
        ArticleDraft {
            slug: Some("Not A Slug".into()),
            ..draft("Title", "body")
        },
        ArticleDraft {
            tags: vec![" ".into()],
            ..draft("Title", "body")
        },
        ArticleDraft {
            tags: vec!["t".into(); 21],
            ..draft("Title", "body")
        },
    ];
    for d in bad {
        let e = kb.upsert(&t, d.clone()).await.unwrap_err();
        assert_eq!(e.code(), "invalid_article", "{d:?}: {e}");
    }
    assert!(store.rows.lock().unwrap().is_empty());
    kb.upsert(&t, draft("One", "1")).await.unwrap();
    kb.upsert(&t, draft("Two", "2")).await.unwrap();
    let e = kb.upsert(&t, draft("Three", "3")).await.unwrap_err();
    assert_eq!(e.code(), "knowledge_base_full");
    assert!(
        kb.upsert(&t, draft("Two", "2 again")).await.is_ok(),
        "replacing is allowed at the limit"
    );
    assert!(kb.search(&t, "three", 5).await.unwrap().is_empty());
}

#[tokio::test]
async fn listing_pages_through_articles_by_slug() {
    let kb = demo_kb().await;
    let t = tenant("shop");
    let first = kb.list(&t, None, Some(4)).await.unwrap();
    assert_eq!(first.items.len(), 4);
    let after = ArticleSlug::parse(first.next_cursor.clone().unwrap()).unwrap();
    let second = kb.list(&t, Some(&after), Some(4)).await.unwrap();
    assert_eq!(second.items.len(), 2);
    assert!(second.next_cursor.is_none());
    let mut all: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|a| a.slug.to_string())
        .collect();
    let sorted = {
        let mut s = all.clone();
        s.sort();
        s
    };
    assert_eq!(all, sorted);
    all.dedup();
    assert_eq!(all.len(), 6);
}

#[tokio::test]
async fn an_answer_needs_enough_of_the_question_words_and_quotes_the_right_sentence() {
    let kb = demo_kb().await;
    let t = tenant("shop");
    let ranked = kb.search(&t, "what are your store hours", 3).await.unwrap();
    assert!(
        !ranked.is_empty(),
        "\"store\" alone matches a payment sentence"
    );
    assert!(ranked[0].coverage < 1.0);
    let answers = kb.answer(&t, "what are your store hours", 3).await.unwrap();
    assert!(
        answers.is_empty(),
        "one word of two is no answer: {answers:?}"
    );

    let answers = kb.answer(&t, "how long do refunds take?", 3).await.unwrap();
    assert_eq!(answers[0].slug.as_str(), "returns-and-refunds");
    assert!(
        answers[0].snippet.contains("5 to 10 business days"),
        "the sentence with both words: {}",
        answers[0].snippet
    );
    let answers = kb.answer(&t, "do you ship to Canada?", 3).await.unwrap();
    assert_eq!(answers[0].slug.as_str(), "shipping");
    assert!(
        answers[0].snippet.starts_with("We ship to addresses"),
        "{}",
        answers[0].snippet
    );
    assert_eq!(answers[0].coverage, 1.0);
}

/// `cargo test -p hc-knowledge --release -- --ignored --nocapture`: build and
/// search times for a tenant at the article limit.
#[tokio::test]
#[ignore]
async fn measure_a_full_tenant() {
    let kb = kb_with(Arc::default(), 1000);
    let t = tenant("shop");
    let demo = crate::demo::demo_articles();
    for i in 0..1000 {
        let d = &demo[i % demo.len()];
        kb.upsert(
            &t,
            ArticleDraft {
                slug: Some(format!("article-{i}")),
                title: format!("{} {i}", d.title),
                ..d.clone()
            },
        )
        .await
        .unwrap();
    }
    let started = std::time::Instant::now();
    kb.search(&t, "warm up", 1).await.unwrap();
    let build = started.elapsed();
    let started = std::time::Instant::now();
    for _ in 0..100 {
        kb.answer(&t, "how long do refunds take?", 3).await.unwrap();
    }
    let search = started.elapsed() / 100;
    let started = std::time::Instant::now();
    kb.upsert(
        &t,
        ArticleDraft {
            slug: Some("article-0".into()),
            ..draft("Store hours", "We open at nine.")
        },
    )
    .await
    .unwrap();
    let write = started.elapsed();
    eprintln!(
        "1000 articles: index build {build:?}, search+snippets {search:?}, one write {write:?}"
    );
}

#[tokio::test]
async fn a_write_by_another_process_is_searchable_after_the_revision_check() {
    let store: Arc<MemoryStore> = Arc::default();
    let config = |ms| KnowledgeConfig {
        revision_check_ms: ms,
        ..KnowledgeConfig::default()
    };
    let here = KnowledgeBase::new(store.clone(), config(0));
    let there = KnowledgeBase::new(store.clone(), config(0));
    let shop = tenant("shop");
    assert!(here.search(&shop, "refund", 5).await.unwrap().is_empty());
    there
        .upsert(&shop, draft("Refunds", "Refunds take five days."))
        .await
        .unwrap();
    let hits = here.search(&shop, "refund", 5).await.unwrap();
    assert_eq!(hits.len(), 1, "rebuilt from the store");
    there
        .delete(&shop, &ArticleSlug::parse("refunds").unwrap())
        .await
        .unwrap();
    assert!(here.search(&shop, "refund", 5).await.unwrap().is_empty());

    // Checked at most once per interval: a change inside it is seen after it.
    let slow = KnowledgeBase::new(store.clone(), config(60_000));
    assert!(slow.search(&shop, "refund", 5).await.unwrap().is_empty());
    there
        .upsert(&shop, draft("Refunds", "Refunds take five days."))
        .await
        .unwrap();
    assert!(
        slow.search(&shop, "refund", 5).await.unwrap().is_empty(),
        "not checked again within the interval"
    );
    // Its own writes apply at once, without a rebuild.
    slow.upsert(&shop, draft("Shipping", "We ship in two days."))
        .await
        .unwrap();
    assert_eq!(slow.search(&shop, "ship", 5).await.unwrap().len(), 1);
}
