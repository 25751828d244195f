//! Products: list and search, read, create, replace.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use hc_commerce::Page;
use hc_domain::{Product, ProductId, Role};
use serde::Deserialize;

use crate::api::PageQuery;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/products", get(list_products).post(create_product))
        .route(
            "/v1/products/{product_id}",
            get(get_product).put(update_product),
        )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Case- and accent-insensitive substring of the product name.
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

fn product_id(raw: String) -> ApiResult<ProductId> {
    ProductId::parse(raw).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
}

/// Lists products, optionally filtered by name.
#[utoipa::path(get, path = "/v1/products", tag = "catalog", params(ProductQuery),
    responses((status = 200, description = "`{items: [Product], next_cursor}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_products(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ProductQuery>,
) -> ApiResult<Json<Page<Product>>> {
    principal.require(Role::Viewer)?;
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    }
    .page();
    let store = state.tools.retail().store();
    Ok(Json(
        store
            .list_products(&principal.key.tenant_id, q.q.as_deref(), &page)
            .await?,
    ))
}

/// Reads one product with its variants.
#[utoipa::path(get, path = "/v1/products/{product_id}", tag = "catalog",
    params(("product_id" = String, Path)),
    responses((status = 200, description = "The product (τ-retail layout)", body = serde_json::Value),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Product>> {
    principal.require(Role::Viewer)?;
    let id = product_id(id)?;
    Ok(Json(
        state
            .tools
            .retail()
            .product(&principal.actor(), &id)
            .await?,
    ))
}

/// Creates a product (manager role). 409 if the id or an item id is taken.
#[utoipa::path(post, path = "/v1/products", tag = "catalog",
    request_body(content = serde_json::Value, description = "A product in the τ-retail layout, with optional description, category, cost and stock"),
    responses((status = 201, body = serde_json::Value), (status = 400, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_product(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(product): JsonBody<Product>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    principal.require(Role::Manager)?;
    let retail = state.tools.retail();
    let actor = principal.actor();
    if retail
        .store()
        .product(&actor.tenant, &product.product_id)
        .await?
        .is_some()
    {
        return Err(
            hc_commerce::Error::AlreadyExists(format!("product {}", product.product_id)).into(),
        );
    }
    let created = retail.upsert_product(&actor, product).await?;
    state.pricing.quotes.forget_tenant(&actor.tenant);
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates or replaces a product (manager role). The body's id must match the path.
#[utoipa::path(put, path = "/v1/products/{product_id}", tag = "catalog",
    params(("product_id" = String, Path)),
    request_body(content = serde_json::Value),
    responses((status = 200, body = serde_json::Value), (status = 400, body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn update_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(product): JsonBody<Product>,
) -> ApiResult<Json<Product>> {
    principal.require(Role::Manager)?;
    if product_id(id)? != product.product_id {
        return Err(ApiError::bad_request(
            "id_mismatch",
            "product_id in the body differs from the path",
        ));
    }
    let actor = principal.actor();
    let updated = state.tools.retail().upsert_product(&actor, product).await?;
    state.pricing.quotes.forget_tenant(&actor.tenant);
    Ok(Json(updated))
}
