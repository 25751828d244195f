//! The knowledge base service: validates articles, writes them to the store,
//! keeps each tenant's search index in step, and searches.
//!
//! Consistency: the store is the source of truth. A tenant's index is built
//! from the store on its first search and updated by every write made
//! through this value; writes and the build of one tenant are serialised by
//! that tenant's lock, so the index never misses a write it raced with. A
//! failed index update drops the index, and the next search rebuilds it.
//! Writes made by another process to the same database move the store's
//! per-tenant revision ([`ArticleStore::revision`]): a search reads it at
//! most once per `revision_check_ms` and rebuilds the index when it moved
//! past the revision the index was built from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hc_domain::{Article, ArticleId, ArticleSlug, KnowledgeHit, TenantId, now_ms};
use serde::{Deserialize, Serialize};
use tracing::{instrument, warn};

use crate::error::{Error, Result};
use crate::index::TenantIndex;
use crate::ports::{ArticleStore, Upserted};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Largest Markdown body, in bytes.
pub const MAX_BODY_BYTES: usize = 100 * 1024;
/// Most tags per article, and longest tag in characters.
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;
/// Longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most hits one search returns.
pub const MAX_HITS: usize = 20;

/// Knowledge-base settings (`[knowledge]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnowledgeConfig {
    /// Most articles one tenant may hold.
    pub max_articles: usize,
    /// How often a search checks whether another process changed the
    /// tenant's articles (one small read), in milliseconds; 0 = every search.
    pub revision_check_ms: u64,
}

impl Default for KnowledgeConfig {
    fn default() -> Self {
        Self {
            max_articles: 1000,
            revision_check_ms: 1000,
        }
    }
}

/// An article as a client submits it; [`KnowledgeBase::upsert`] validates it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArticleDraft {
    pub title: String,
    pub body_markdown: String,
    pub tags: Vec<String>,
    /// Derived from the title when absent.
    pub slug: Option<String>,
}

impl ArticleDraft {
    /// A draft from a Markdown document whose first `# ` heading is the title.
    pub fn from_markdown(markdown: &str) -> Result<Self> {
        let (title, body) = crate::markdown::split_title(markdown).ok_or_else(|| {
            Error::invalid(
                "title",
                "a Markdown upload needs a '# ' heading; its text is the title",
            )
        })?;
        Ok(Self {
            title,
            body_markdown: body,
            ..Self::default()
        })
    }

    /// Checks every bound and builds the article to store.
    fn validate(self, tenant: &TenantId) -> Result<Article> {
        let title = self.title.trim().to_string();
        let title_chars = title.chars().count();
        if !(1..=MAX_TITLE_CHARS).contains(&title_chars) {
            return Err(Error::invalid(
                "title",
                format!("must be 1 to {MAX_TITLE_CHARS} characters"),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(Error::invalid(
                "title",
                "must not contain control characters",
            ));
        }
        if self.body_markdown.len() > MAX_BODY_BYTES {
            return Err(Error::invalid(
                "body",
                format!("must be at most {MAX_BODY_BYTES} bytes"),
            ));
        }
        if self.body_markdown.trim().is_empty() {
            return Err(Error::invalid("body", "must not be empty"));
        }
        if self
            .body_markdown
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Error::invalid(
                "body",
                "must not contain control characters other than newlines and tabs",
            ));
        }
        if self.tags.len() > MAX_TAGS {
            return Err(Error::invalid("tags", format!("at most {MAX_TAGS} tags")));
        }
        let mut tags: Vec<String> = Vec::with_capacity(self.tags.len());
        for tag in &self.tags {
            let tag = tag.trim().to_lowercase();
            let n = tag.chars().count();
            if n == 0 || n > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "tags",
                    format!("each tag is 1 to {MAX_TAG_CHARS} characters"),
                ));
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let slug = match self.slug {
            Some(s) => ArticleSlug::parse(s)?,
            None => ArticleSlug::from_title(&title)?,
        };
        Ok(Article {
            id: new_id(),
            tenant_id: tenant.clone(),
            slug,
            title,
            body_markdown: self.body_markdown,
            tags,
            updated_at_ms: now_ms(),
        })
    }
}

/// A new article id: 128 bits from the OS random source.
fn new_id() -> ArticleId {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    ArticleId::parse(format!("art_{hex}")).expect("valid id")
}

/// One page of articles, ordered by slug.
#[derive(Clone, Debug, Serialize)]
pub struct ArticlePage {
    pub items: Vec<Article>,
    /// The slug to pass as `after` for the next page.
    pub next_cursor: Option<String>,
}

/// A tenant's index slot: the lock that serialises its writes and build, and
/// the index once built with the store revision it reflects.
#[derive(Default)]
struct Slot {
    writes: tokio::sync::Mutex<()>,
    index: RwLock<Option<(Arc<TenantIndex>, i64)>>,
    /// When the store's revision was last compared.
    checked: Mutex<Option<Instant>>,
}

impl Slot {
    fn built(&self) -> Option<(Arc<TenantIndex>, i64)> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, index: Option<(Arc<TenantIndex>, i64)>) {
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = index;
    }

    /// Records that the index now reflects `revision` (it took our own write).
    fn advance(&self, revision: i64) {
        if let Some((_, r)) = self
            .index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            *r = revision;
        }
    }

    /// Whether the revision is due for a check (and marks it checked).
    fn check_due(&self, every: Duration) -> bool {
        let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        if checked.is_some_and(|at| at.elapsed() < every) {
            return false;
        }
        *checked = Some(Instant::now());
        true
    }
}

/// Change to apply to a built index.
enum Change {
    Upsert(Article),
    Delete(ArticleSlug),
}

/// The knowledge base of every tenant. Cheap to share behind an `Arc`.
pub struct KnowledgeBase {
    store: Arc<dyn ArticleStore>,
    config: KnowledgeConfig,
    slots: Mutex<HashMap<TenantId, Arc<Slot>>>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Index(format!("index task failed: {e}")))?
}

impl KnowledgeBase {
    pub fn new(store: Arc<dyn ArticleStore>, config: KnowledgeConfig) -> Self {
        Self {
            store,
            config,
            slots: Mutex::default(),
        }
    }

    pub fn config(&self) -> &KnowledgeConfig {
        &self.config
    }

    fn slot(&self, tenant: &TenantId) -> Arc<Slot> {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(tenant.clone())
            .or_default()
            .clone()
    }

    /// Applies a stored change to the tenant's index, if it is built. Call
    /// with the slot's write lock held, right after the store write.
    async fn apply(&self, tenant: &TenantId, slot: &Slot, change: Change) {
        let Some((index, built)) = slot.built() else {
            return;
        };
        let result = blocking(move || match &change {
            Change::Upsert(a) => index.write(std::slice::from_ref(a), &[]),
            Change::Delete(slug) => index.write(&[], &[slug.as_str()]),
        })
        .await;
        if let Err(e) = result {
            warn!(error = %e, "knowledge index update failed; it will be rebuilt");
            slot.set(None);
            return;
        }
        // Our write moved the revision by one: if nothing else did, the index
        // is current; otherwise the next check rebuilds it.
        match self.store.revision(tenant).await {
            Ok(r) if r == built + 1 => slot.advance(r),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "cannot read the knowledge revision"),
        }
    }

    /// The tenant's index: built from the store if needed, and rebuilt when
    /// the store's revision moved (checked at most once per `revision_check_ms`).
    async fn index(&self, tenant: &TenantId) -> Result<Arc<TenantIndex>> {
        let slot = self.slot(tenant);
        let mut wanted = None;
        if let Some((index, built)) = slot.built() {
            if !slot.check_due(Duration::from_millis(self.config.revision_check_ms)) {
                return Ok(index);
            }
            match self.store.revision(tenant).await {
                Ok(r) if r == built => return Ok(index),
                Ok(r) => wanted = Some(r),
                Err(e) => {
                    // A stale index beats no answer; the next check retries.
                    warn!(error = %e, "cannot read the knowledge revision");
                    return Ok(index);
                }
            }
        }
        let _writes = slot.writes.lock().await;
        if let Some((index, built)) = slot.built()
            && wanted.is_none_or(|w| built >= w)
        {
            // Built (or rebuilt) by another search meanwhile.
            return Ok(index);
        }
        // The revision is read before the articles: a write in between is
        // in the articles and moves the revision past this one, so the next
        // check rebuilds again rather than missing it.
        let revision = self.store.revision(tenant).await?;
        let articles = self.store.all_articles(tenant).await?;
        let count = articles.len();
        let index = Arc::new(blocking(move || TenantIndex::build(&articles)).await?);
        tracing::info!(tenant = %tenant, articles = count, revision, "knowledge index built");
        slot.set(Some((index.clone(), revision)));
        // The build read the revision: the next check is due an interval from now.
        *slot.checked.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(index)
    }

    /// Creates or replaces an article (by slug).
    pub async fn upsert(&self, tenant: &TenantId, draft: ArticleDraft) -> Result<Upserted> {
        self.write(tenant, draft, false).await
    }

    /// Creates an article; `AlreadyExists` if its slug is taken.
    pub async fn create(&self, tenant: &TenantId, draft: ArticleDraft) -> Result<Article> {
        Ok(self.write(tenant, draft, true).await?.into_article())
    }

    #[instrument(skip_all, fields(tenant = %tenant))]
    async fn write(
        &self,
        tenant: &TenantId,
        draft: ArticleDraft,
        create: bool,
    ) -> Result<Upserted> {
        let article = draft.validate(tenant)?;
        let slot = self.slot(tenant);
        let _writes = slot.writes.lock().await;
        // Writes through this process are serialised per tenant, so the check holds.
        if create && self.store.article(tenant, &article.slug).await?.is_some() {
            return Err(Error::AlreadyExists(article.slug));
        }
        let stored = self
            .store
            .upsert_article(&article, self.config.max_articles)
            .await?;
        self.apply(tenant, &slot, Change::Upsert(stored.article().clone()))
            .await;
        Ok(stored)
    }

    pub async fn get(&self, tenant: &TenantId, slug: &ArticleSlug) -> Result<Article> {
        self.store
            .article(tenant, slug)
            .await?
            .ok_or_else(|| Error::NotFound(slug.clone()))
    }

    /// Articles ordered by slug; `limit` is clamped to 1..=100 (default 50).
    pub async fn list(
        &self,
        tenant: &TenantId,
        after: Option<&ArticleSlug>,
        limit: Option<usize>,
    ) -> Result<ArticlePage> {
        let limit = limit.unwrap_or(50).clamp(1, 100);
        let mut items = self.store.list_articles(tenant, after, limit + 1).await?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|a| a.slug.to_string())
        } else {
            None
        };
        Ok(ArticlePage { items, next_cursor })
    }

    #[instrument(skip_all, fields(tenant = %tenant, slug = %slug))]
    pub async fn delete(&self, tenant: &TenantId, slug: &ArticleSlug) -> Result<()> {
        let slot = self.slot(tenant);
        let _writes = slot.writes.lock().await;
        if !self.store.delete_article(tenant, slug).await? {
            return Err(Error::NotFound(slug.clone()));
        }
        self.apply(tenant, &slot, Change::Delete(slug.clone()))
            .await;
        Ok(())
    }

    /// The best-matching articles for free text, best first, at most `limit`
    /// (clamped to 1..=20). Any text is accepted: query syntax is not
    /// interpreted, and text without searchable words finds nothing.
    pub async fn search(
        &self,
        tenant: &TenantId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KnowledgeHit>> {
        self.run_search(tenant, query, limit, false).await
    }

    /// Like [`search`](Self::search), but keeps only articles that contain
    /// enough of the question's words to answer it: what the agent quotes.
    pub async fn answer(
        &self,
        tenant: &TenantId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<KnowledgeHit>> {
        self.run_search(tenant, query, limit, true).await
    }

    #[instrument(skip_all, fields(tenant = %tenant, strict))]
    async fn run_search(
        &self,
        tenant: &TenantId,
        query: &str,
        limit: usize,
        strict: bool,
    ) -> Result<Vec<KnowledgeHit>> {
        let query = query.trim();
        if query.is_empty() {
            return Err(Error::InvalidQuery("the query is empty".into()));
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::InvalidQuery(format!(
                "the query may be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let limit = limit.clamp(1, MAX_HITS);
        let index = self.index(tenant).await?;
        let query = query.to_string();
        blocking(move || index.search(&query, limit, strict)).await
    }
}
