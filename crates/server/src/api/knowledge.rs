//! The knowledge base: merchant articles (shipping, returns, FAQs) written in
//! Markdown, and full-text search over them. Writes need the manager role,
//! reads and search the viewer role. Every write is audited.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use hc_domain::{Article, ArticleSlug, AuditRecord, KnowledgeHit, Role, now_ms};
use hc_knowledge::{ArticleDraft, KnowledgeBase, Upserted};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Query, body_error, parse_json};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/knowledge/articles",
            get(list_articles).post(create_article),
        )
        .route(
            "/v1/knowledge/articles/{slug}",
            get(get_article).put(put_article).delete(delete_article),
        )
        .route("/v1/knowledge/search", get(search_knowledge))
}

/// An article as JSON. With `Content-Type: text/markdown` the body is the
/// Markdown document itself and its first `# ` heading is the title.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleIn {
    /// 1 to 200 characters.
    pub title: String,
    /// Markdown, at most 100 KB.
    pub body: String,
    /// Up to 20 tags, each 1 to 50 characters (stored lowercase).
    #[serde(default)]
    pub tags: Vec<String>,
    /// 1 to 80 of `a-z`, `0-9`, `-`; derived from the title when absent.
    pub slug: Option<String>,
}

/// Options of a Markdown upload.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Markdown uploads only: the slug (default: derived from the title).
    pub slug: Option<String>,
    /// Markdown uploads only: comma-separated tags.
    pub tags: Option<String>,
}

/// An article on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleOut {
    pub id: String,
    pub slug: String,
    pub title: String,
    /// The Markdown source (omitted in listings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub tags: Vec<String>,
    pub updated_at_ms: i64,
}

impl ArticleOut {
    fn full(mut a: Article) -> Self {
        let body = std::mem::take(&mut a.body_markdown);
        Self {
            body: Some(body),
            ..Self::summary(a)
        }
    }

    fn summary(a: Article) -> Self {
        Self {
            id: a.id.to_string(),
            slug: a.slug.to_string(),
            title: a.title,
            body: None,
            tags: a.tags,
            updated_at_ms: a.updated_at_ms,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Free text, e.g. a customer's question. Query syntax is not interpreted.
    pub q: String,
    /// Most hits, 1 to 20 (default 5).
    pub limit: Option<usize>,
}

fn knowledge(state: &AppState) -> ApiResult<&Arc<KnowledgeBase>> {
    state.knowledge.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the knowledge base is not configured on this server",
        )
    })
}

fn slug(raw: String) -> ApiResult<ArticleSlug> {
    ArticleSlug::parse(raw).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
}

/// The draft in a request body: JSON, or Markdown with `Content-Type: text/markdown`.
fn draft(headers: &HeaderMap, query: UploadQuery, body: &[u8]) -> ApiResult<ArticleDraft> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("text/markdown") {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("invalid_body", "the body is not UTF-8"))?;
        let tags = query
            .tags
            .map(|t| t.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
        return Ok(ArticleDraft {
            tags,
            slug: query.slug,
            ..ArticleDraft::from_markdown(text)?
        });
    }
    if query.slug.is_some() || query.tags.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "slug and tags go in the JSON body; the query parameters are for Markdown uploads",
        ));
    }
    let a: ArticleIn = parse_json(body)?;
    Ok(ArticleDraft {
        title: a.title,
        body_markdown: a.body,
        tags: a.tags,
        slug: a.slug,
    })
}

async fn audit(
    state: &AppState,
    principal: &Principal,
    action: &str,
    slug: &ArticleSlug,
) -> ApiResult<()> {
    state
        .platform
        .record_audit(&AuditRecord {
            tenant_id: principal.key.tenant_id.clone(),
            actor: format!("key:{}", principal.key.id),
            action: action.into(),
            target: format!("article:{slug}"),
            at_ms: now_ms(),
            detail: json!({}),
        })
        .await?;
    Ok(())
}

/// Creates an article (manager role). 409 `already_exists` if the slug is taken.
#[utoipa::path(post, path = "/v1/knowledge/articles", tag = "knowledge", params(UploadQuery),
    request_body(content(
        (ArticleIn = "application/json"),
        (String = "text/markdown")
    )),
    responses((status = 201, body = ArticleOut), (status = 400, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 422, description = "`knowledge_base_full`", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_article(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ArticleOut>)> {
    principal.require(Role::Manager)?;
    let kb = knowledge(&state)?;
    let draft = draft(&headers, query, &body.map_err(body_error)?)?;
    let article = kb.create(&principal.key.tenant_id, draft).await?;
    audit(&state, &principal, "article.create", &article.slug).await?;
    Ok((StatusCode::CREATED, Json(ArticleOut::full(article))))
}

/// Creates or replaces the article at this slug (manager role): 201 when created, 200 when replaced.
#[utoipa::path(put, path = "/v1/knowledge/articles/{slug}", tag = "knowledge",
    params(("slug" = String, Path), UploadQuery),
    request_body(content(
        (ArticleIn = "application/json"),
        (String = "text/markdown")
    )),
    responses((status = 200, body = ArticleOut), (status = 201, body = ArticleOut),
              (status = 400, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn put_article(
    State(state): State<AppState>,
    principal: Principal,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ArticleOut>)> {
    principal.require(Role::Manager)?;
    let kb = knowledge(&state)?;
    let path_slug = slug(raw)?;
    let mut draft = draft(&headers, query, &body.map_err(body_error)?)?;
    if draft
        .slug
        .as_deref()
        .is_some_and(|s| s != path_slug.as_str())
    {
        return Err(ApiError::bad_request(
            "id_mismatch",
            "the slug in the body differs from the path",
        ));
    }
    draft.slug = Some(path_slug.to_string());
    let stored = kb.upsert(&principal.key.tenant_id, draft).await?;
    let status = match stored {
        Upserted::Created(_) => StatusCode::CREATED,
        Upserted::Updated(_) => StatusCode::OK,
    };
    audit(&state, &principal, "article.upsert", &path_slug).await?;
    Ok((status, Json(ArticleOut::full(stored.into_article()))))
}

/// Lists articles by slug (without bodies).
#[utoipa::path(get, path = "/v1/knowledge/articles", tag = "knowledge", params(ListQuery),
    responses((status = 200, description = "`{items: [article without body], next_cursor}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_articles(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let kb = knowledge(&state)?;
    let after = q.after.map(slug).transpose()?;
    let page = kb
        .list(&principal.key.tenant_id, after.as_ref(), q.limit)
        .await?;
    let items: Vec<ArticleOut> = page.items.into_iter().map(ArticleOut::summary).collect();
    Ok(Json(
        json!({"items": items, "next_cursor": page.next_cursor}),
    ))
}

/// Reads one article with its Markdown body.
#[utoipa::path(get, path = "/v1/knowledge/articles/{slug}", tag = "knowledge",
    params(("slug" = String, Path)),
    responses((status = 200, body = ArticleOut), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_article(
    State(state): State<AppState>,
    principal: Principal,
    Path(raw): Path<String>,
) -> ApiResult<Json<ArticleOut>> {
    principal.require(Role::Viewer)?;
    let kb = knowledge(&state)?;
    let article = kb.get(&principal.key.tenant_id, &slug(raw)?).await?;
    Ok(Json(ArticleOut::full(article)))
}

/// Deletes an article (manager role); it leaves search at once.
#[utoipa::path(delete, path = "/v1/knowledge/articles/{slug}", tag = "knowledge",
    params(("slug" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete_article(
    State(state): State<AppState>,
    principal: Principal,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Role::Manager)?;
    let kb = knowledge(&state)?;
    let slug = slug(raw)?;
    kb.delete(&principal.key.tenant_id, &slug).await?;
    audit(&state, &principal, "article.delete", &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Full-text search (English stemming, title boosted) with a passage from each article.
#[utoipa::path(get, path = "/v1/knowledge/search", tag = "knowledge", params(SearchQuery),
    responses((status = 200, description = "`{hits: [{slug, title, snippet, score}]}`, best first", body = serde_json::Value),
              (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn search_knowledge(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    principal.require(Role::Viewer)?;
    let kb = knowledge(&state)?;
    let hits: Vec<KnowledgeHit> = kb
        .search(&principal.key.tenant_id, &q.q, q.limit.unwrap_or(5))
        .await?;
    Ok(Json(json!({ "hits": hits })))
}
