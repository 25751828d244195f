//! Settings → Knowledge base: the articles the agent answers from, through
//! the same `KnowledgeBase` as `/v1/knowledge/articles` (so the search index
//! follows every change). List (50 a page), create, edit, delete. Text is
//! plain: HTML tags are refused. Every write is audited.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hc_domain::{ArticleSlug, Role};
use hc_knowledge::{ArticleDraft, KnowledgeBase};
use serde_json::json;

use super::super::{
    DashError, DashResult, PageCtx, Signed, field, form_fields, format_time, plain_text,
    render_status, require,
};
use super::{CHANGE_ROLE, Section, audit, ctx, one_line};
use crate::state::AppState;

/// Longest article body typed into the dashboard (the API takes up to 100 KiB).
const MAX_BODY_CHARS: usize = 20_000;
/// The knowledge base's own bounds (`hc_knowledge::base`), checked here first
/// so each message sits next to its field.
const MAX_TITLE_CHARS: usize = 200;
const MAX_TAG_CHARS: usize = 50;
const MAX_TAGS: usize = 20;

pub struct ArticleRow {
    pub slug: String,
    pub title: String,
    pub tags: String,
    pub updated: String,
}

#[derive(Default)]
pub struct ArticleForm {
    pub title: String,
    pub tags: String,
    pub body: String,
}

#[derive(Default)]
pub struct ArticleErrors {
    pub title: Option<String>,
    pub tags: Option<String>,
    pub body: Option<String>,
    pub form: Option<String>,
}

impl ArticleErrors {
    fn any(&self) -> bool {
        self.title.is_some() || self.tags.is_some() || self.body.is_some() || self.form.is_some()
    }
}

#[derive(Template)]
#[template(path = "dashboard/settings_knowledge.html")]
struct ArticlesPage {
    page: PageCtx,
    nav: Vec<Section>,
    can_change: bool,
    enabled: bool,
    articles: Vec<ArticleRow>,
    next: Option<String>,
    form: ArticleForm,
    errors: ArticleErrors,
    done: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "dashboard/settings_article.html")]
struct ArticlePage {
    page: PageCtx,
    nav: Vec<Section>,
    can_change: bool,
    slug: String,
    form: ArticleForm,
    errors: ArticleErrors,
    saved: bool,
}

fn kb(state: &AppState) -> Option<&Arc<KnowledgeBase>> {
    state.knowledge.as_ref()
}

fn off() -> DashError {
    DashError::not_found("knowledge base (it is off on this server)")
}

fn slug_of(raw: String) -> DashResult<ArticleSlug> {
    ArticleSlug::parse(raw).map_err(|_| DashError::not_found("article"))
}

async fn show_list(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    after: Option<&str>,
    form: ArticleForm,
    errors: ArticleErrors,
    done: Option<&'static str>,
) -> DashResult<Response> {
    let (page, nav, can_change) = ctx(signed, "Knowledge base");
    let (articles, next) = match kb(state) {
        Some(kb) => {
            let after = after
                .map(|a| ArticleSlug::parse(a.to_string()))
                .transpose()
                .map_err(|_| DashError {
                    status: StatusCode::BAD_REQUEST,
                    message: "The page cursor is not an article address.".into(),
                })?;
            let p = kb
                .list(&signed.operator.tenant_id, after.as_ref(), Some(50))
                .await
                .map_err(crate::error::ApiError::from)?;
            (
                p.items
                    .into_iter()
                    .map(|a| ArticleRow {
                        slug: a.slug.to_string(),
                        title: a.title,
                        tags: a.tags.join(", "),
                        updated: format_time(a.updated_at_ms),
                    })
                    .collect(),
                p.next_cursor,
            )
        }
        None => (Vec::new(), None),
    };
    render_status(
        status,
        &ArticlesPage {
            page,
            nav,
            can_change,
            enabled: kb(state).is_some(),
            articles,
            next,
            form,
            errors,
            done,
        },
    )
}

pub async fn articles_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let done = match q.get("done").map(String::as_str) {
        Some("deleted") => Some("Article deleted. The agent no longer answers from it."),
        _ => None,
    };
    show_list(
        &state,
        &signed,
        StatusCode::OK,
        q.get("after").map(String::as_str),
        ArticleForm::default(),
        ArticleErrors::default(),
        done,
    )
    .await
}

/// Reads and checks the form; the draft when every field is good.
fn read(fields: &[(String, String)]) -> (ArticleForm, ArticleErrors, Option<ArticleDraft>) {
    let get = |name: &str| field(fields, name).unwrap_or("").to_string();
    let form = ArticleForm {
        title: get("title"),
        tags: get("tags"),
        body: get("body"),
    };
    let mut e = ArticleErrors::default();
    let title = one_line(&form.title, MAX_TITLE_CHARS)
        .map_err(|m| e.title = Some(m))
        .ok();
    let mut tags = Vec::new();
    for raw in form
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        match one_line(raw, MAX_TAG_CHARS) {
            Ok(t) => tags.push(t),
            Err(m) => {
                e.tags = Some(format!("\u{201c}{raw}\u{201d}: {m}"));
                break;
            }
        }
    }
    if tags.len() > MAX_TAGS {
        e.tags = Some(format!("At most {} tags, separated by commas.", MAX_TAGS));
    }
    let body = plain_text(&form.body, MAX_BODY_CHARS)
        .map_err(|m| e.body = Some(m))
        .ok();
    let draft = match (title, body, e.any()) {
        (Some(title), Some(body_markdown), false) => Some(ArticleDraft {
            title,
            body_markdown,
            tags,
            slug: None,
        }),
        _ => None,
    };
    (form, e, draft)
}

/// Puts the knowledge base's refusal next to the field it names.
fn place(err: hc_knowledge::Error, e: &mut ArticleErrors) -> Result<(), DashError> {
    use hc_knowledge::Error as K;
    match err {
        K::Invalid { field, reason } => {
            let m = format!("This {reason}.");
            match field {
                "title" | "slug" => e.title = Some(m),
                "tags" => e.tags = Some(m),
                _ => e.body = Some(m),
            }
        }
        K::AlreadyExists(slug) => {
            e.title = Some(format!(
                "An article with the address \u{201c}{slug}\u{201d} exists: choose another title or edit that one."
            ))
        }
        K::LimitReached(n) => {
            e.form = Some(format!(
                "The knowledge base already holds its maximum of {n} articles."
            ))
        }
        other => return Err(crate::error::ApiError::from(other).into()),
    }
    Ok(())
}

pub async fn create_article(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let kb = kb(&state).ok_or_else(off)?.clone();
    let (form, mut errors, draft) = read(&form_fields(&body));
    if let Some(draft) = draft {
        let t = &signed.operator.tenant_id;
        match kb.create(t, draft).await {
            Ok(a) => {
                record(&state, &signed, "article.create", &a.slug).await?;
                return Ok(Redirect::to(&format!(
                    "/dashboard/settings/knowledge/{}?done=created",
                    a.slug
                ))
                .into_response());
            }
            Err(err) => place(err, &mut errors)?,
        }
    }
    show_list(
        &state,
        &signed,
        StatusCode::BAD_REQUEST,
        None,
        form,
        errors,
        None,
    )
    .await
}

async fn record(
    state: &AppState,
    signed: &Signed,
    action: &str,
    slug: &ArticleSlug,
) -> DashResult<()> {
    state
        .platform
        .record_audit(&audit(signed, action, format!("article:{slug}"), json!({})))
        .await?;
    Ok(())
}

fn show_article(
    signed: &Signed,
    status: StatusCode,
    slug: &ArticleSlug,
    form: ArticleForm,
    errors: ArticleErrors,
    saved: bool,
) -> DashResult<Response> {
    let (page, nav, can_change) = ctx(signed, "Knowledge base");
    render_status(
        status,
        &ArticlePage {
            page,
            nav,
            can_change,
            slug: slug.to_string(),
            form,
            errors,
            saved,
        },
    )
}

pub async fn article_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> DashResult<Response> {
    require(&signed, Role::Viewer)?;
    let kb = kb(&state).ok_or_else(off)?;
    let slug = slug_of(slug)?;
    let a = kb
        .get(&signed.operator.tenant_id, &slug)
        .await
        .map_err(|e| match e {
            hc_knowledge::Error::NotFound(_) => DashError::not_found("article"),
            other => crate::error::ApiError::from(other).into(),
        })?;
    let form = ArticleForm {
        title: a.title,
        tags: a.tags.join(", "),
        body: a.body_markdown,
    };
    let saved = q
        .get("done")
        .is_some_and(|d| d == "created" || d == "saved");
    show_article(
        &signed,
        StatusCode::OK,
        &slug,
        form,
        ArticleErrors::default(),
        saved,
    )
}

pub async fn update_article(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
    body: Bytes,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let kb = kb(&state).ok_or_else(off)?.clone();
    let slug = slug_of(slug)?;
    let t = &signed.operator.tenant_id;
    // Editing never creates: the article must exist in this tenant.
    if let Err(hc_knowledge::Error::NotFound(_)) = kb.get(t, &slug).await {
        return Err(DashError::not_found("article"));
    }
    let (form, mut errors, draft) = read(&form_fields(&body));
    if let Some(mut draft) = draft {
        draft.slug = Some(slug.to_string());
        match kb.upsert(t, draft).await {
            Ok(_) => {
                record(&state, &signed, "article.upsert", &slug).await?;
                return Ok(Redirect::to(&format!(
                    "/dashboard/settings/knowledge/{slug}?done=saved"
                ))
                .into_response());
            }
            Err(err) => place(err, &mut errors)?,
        }
    }
    show_article(&signed, StatusCode::BAD_REQUEST, &slug, form, errors, false)
}

pub async fn delete_article(
    State(state): State<AppState>,
    signed: Signed,
    Path(slug): Path<String>,
) -> DashResult<Response> {
    require(&signed, CHANGE_ROLE)?;
    let kb = kb(&state).ok_or_else(off)?.clone();
    let slug = slug_of(slug)?;
    match kb.delete(&signed.operator.tenant_id, &slug).await {
        Ok(()) => {}
        Err(hc_knowledge::Error::NotFound(_)) => return Err(DashError::not_found("article")),
        Err(e) => return Err(crate::error::ApiError::from(e).into()),
    }
    record(&state, &signed, "article.delete", &slug).await?;
    Ok(Redirect::to("/dashboard/settings/knowledge?done=deleted").into_response())
}
