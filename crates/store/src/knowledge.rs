//! The knowledge base's article port over SQL: one row per article, the
//! article as a JSON document beside its slug, id and update time.

use async_trait::async_trait;
use hc_domain::{Article, ArticleSlug, TenantId};
use hc_knowledge::ports::{ArticleStore, Upserted};
use sqlx::Row;
use tracing::instrument;

use crate::db::SqlStore;
use crate::error::{Error, map};
use crate::retail::{decode, to_doc};

/// The knowledge base speaks its own error vocabulary; storage failures map onto it.
fn kb(e: Error) -> hc_knowledge::Error {
    match e {
        Error::Unavailable(m) => hc_knowledge::Error::Unavailable(m),
        Error::Conflict(m) => hc_knowledge::Error::Conflict(m),
        Error::Corrupt(m) => hc_knowledge::Error::Corrupt(m),
    }
}

fn articles(rows: &[sqlx::any::AnyRow]) -> crate::Result<Vec<Article>> {
    rows.iter()
        .map(|r| decode(&r.try_get::<String, _>(0).map_err(map)?))
        .collect()
}

/// Moves the tenant's knowledge revision (inside the write's transaction).
async fn bump_revision(conn: &mut sqlx::AnyConnection, t: &str) -> crate::Result<()> {
    sqlx::query("update tenants set knowledge_revision = knowledge_revision + 1 where id = $1")
        .bind(t)
        .execute(&mut *conn)
        .await
        .map_err(map)?;
    Ok(())
}

impl SqlStore {
    async fn delete_article_tx(&self, t: &TenantId, slug: &ArticleSlug) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("delete from knowledge_articles where tenant_id = $1 and slug = $2")
            .bind(t.as_str())
            .bind(slug.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        bump_revision(&mut tx, t.as_str()).await?;
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    async fn upsert_article_tx(&self, a: &Article, max: usize) -> crate::Result<Option<Upserted>> {
        let t = a.tenant_id.as_str();
        let mut tx = self.begin_write().await?;
        // Serialises article inserts of one tenant, so the limit holds under concurrency.
        let lock = format!("select id from tenants where id = $1{}", self.for_update());
        sqlx::query(sqlx::AssertSqlSafe(lock))
            .bind(t)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?
            .ok_or_else(|| Error::Conflict(format!("tenant {t} does not exist")))?;
        let existing =
            sqlx::query("select id from knowledge_articles where tenant_id = $1 and slug = $2")
                .bind(t)
                .bind(a.slug.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?;
        let outcome = match existing {
            Some(row) => {
                let id = hc_domain::ArticleId::parse(row.try_get::<String, _>(0).map_err(map)?)
                    .map_err(|e| Error::Corrupt(e.to_string()))?;
                let stored = Article { id, ..a.clone() };
                sqlx::query(
                    "update knowledge_articles set doc = $3, updated_at_ms = $4 \
                     where tenant_id = $1 and slug = $2",
                )
                .bind(t)
                .bind(a.slug.as_str())
                .bind(to_doc(&stored)?)
                .bind(stored.updated_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
                Upserted::Updated(stored)
            }
            None => {
                let count: i64 =
                    sqlx::query("select count(*) from knowledge_articles where tenant_id = $1")
                        .bind(t)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(map)?
                        .try_get(0)
                        .map_err(map)?;
                if count >= max as i64 {
                    return Ok(None);
                }
                sqlx::query(
                    "insert into knowledge_articles (tenant_id, slug, id, doc, updated_at_ms) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(t)
                .bind(a.slug.as_str())
                .bind(a.id.as_str())
                .bind(to_doc(a)?)
                .bind(a.updated_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
                Upserted::Created(a.clone())
            }
        };
        bump_revision(&mut tx, t).await?;
        tx.commit().await.map_err(map)?;
        Ok(Some(outcome))
    }
}

#[async_trait]
impl ArticleStore for SqlStore {
    #[instrument(skip_all, fields(tenant = %a.tenant_id, slug = %a.slug))]
    async fn upsert_article(&self, a: &Article, max: usize) -> hc_knowledge::Result<Upserted> {
        self.upsert_article_tx(a, max)
            .await
            .map_err(kb)?
            .ok_or(hc_knowledge::Error::LimitReached(max))
    }

    async fn article(
        &self,
        t: &TenantId,
        slug: &ArticleSlug,
    ) -> hc_knowledge::Result<Option<Article>> {
        let row =
            sqlx::query("select doc from knowledge_articles where tenant_id = $1 and slug = $2")
                .bind(t.as_str())
                .bind(slug.as_str())
                .fetch_optional(&self.read)
                .await
                .map_err(map)
                .map_err(kb)?;
        Ok(articles(row.as_slice()).map_err(kb)?.pop())
    }

    async fn list_articles(
        &self,
        t: &TenantId,
        after: Option<&ArticleSlug>,
        limit: usize,
    ) -> hc_knowledge::Result<Vec<Article>> {
        let rows = sqlx::query(
            "select doc from knowledge_articles where tenant_id = $1 and slug > $2 \
             order by slug limit $3",
        )
        .bind(t.as_str())
        .bind(after.map(ArticleSlug::as_str).unwrap_or_default())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.read)
        .await
        .map_err(map)
        .map_err(kb)?;
        articles(&rows).map_err(kb)
    }

    #[instrument(skip_all, fields(tenant = %t, slug = %slug))]
    async fn delete_article(&self, t: &TenantId, slug: &ArticleSlug) -> hc_knowledge::Result<bool> {
        self.delete_article_tx(t, slug).await.map_err(kb)
    }

    async fn all_articles(&self, t: &TenantId) -> hc_knowledge::Result<Vec<Article>> {
        let rows =
            sqlx::query("select doc from knowledge_articles where tenant_id = $1 order by slug")
                .bind(t.as_str())
                .fetch_all(&self.read)
                .await
                .map_err(map)
                .map_err(kb)?;
        articles(&rows).map_err(kb)
    }

    async fn revision(&self, t: &TenantId) -> hc_knowledge::Result<i64> {
        let row = sqlx::query("select knowledge_revision from tenants where id = $1")
            .bind(t.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(map)
            .map_err(kb)?;
        match row {
            Some(r) => r.try_get(0).map_err(map).map_err(kb),
            None => Ok(0),
        }
    }
}
