//! The storage the knowledge base needs. `hc-store` implements it for SQLite
//! and PostgreSQL; the SQL rows are the source of truth and the search index
//! is rebuilt from them.

use async_trait::async_trait;
use hc_domain::{Article, ArticleSlug, TenantId};

use crate::error::Result;

/// What an upsert did. Both carry the article as stored (an existing
/// article keeps its id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upserted {
    Created(Article),
    Updated(Article),
}

impl Upserted {
    pub fn article(&self) -> &Article {
        match self {
            Upserted::Created(a) | Upserted::Updated(a) => a,
        }
    }

    pub fn into_article(self) -> Article {
        match self {
            Upserted::Created(a) | Upserted::Updated(a) => a,
        }
    }
}

/// Articles, scoped by tenant and keyed by slug.
#[async_trait]
pub trait ArticleStore: Send + Sync {
    /// Inserts the article, or replaces the one with the same slug (keeping
    /// its id). Inserting fails with `LimitReached` when the tenant already
    /// has `max_articles`; replacing is always allowed.
    async fn upsert_article(&self, article: &Article, max_articles: usize) -> Result<Upserted>;
    async fn article(&self, t: &TenantId, slug: &ArticleSlug) -> Result<Option<Article>>;
    /// Up to `limit` articles ordered by slug, after `after` if given.
    async fn list_articles(
        &self,
        t: &TenantId,
        after: Option<&ArticleSlug>,
        limit: usize,
    ) -> Result<Vec<Article>>;
    /// Deletes an article; false if there was none.
    async fn delete_article(&self, t: &TenantId, slug: &ArticleSlug) -> Result<bool>;
    /// Every article of the tenant, to build its index.
    async fn all_articles(&self, t: &TenantId) -> Result<Vec<Article>>;
    /// The tenant's article revision: incremented by one, in the same
    /// transaction, by every upsert and every delete that removed a row, by
    /// any process sharing the store. Cheap to read.
    async fn revision(&self, t: &TenantId) -> Result<i64>;
}
