//! The agent's tool API: `GET /v1/tools` lists every tool as a JSON-schema
//! function; `POST /v1/tools/{name}` runs one for the caller's tenant.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use hc_commerce::ToolKind;
use hc_domain::Role;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tools", get(list_tools))
        .route("/v1/tools/{name}", post(call_tool))
}

/// The result of a tool call.
#[derive(Serialize, ToSchema)]
pub struct ToolOutput {
    /// The record the tool returns (order, user, product…), or its text.
    #[schema(value_type = Object)]
    pub output: Box<serde_json::value::RawValue>,
}

/// Lists every tool in the function-calling format LLM APIs accept.
#[utoipa::path(get, path = "/v1/tools", tag = "tools",
    responses((status = 200, description = "`{\"tools\": [{\"type\": \"function\", \"function\": {name, description, parameters}}], \"write_tools\": [...]}`", body = serde_json::Value)),
    security(("api_key" = [])))]
pub async fn list_tools(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require(Role::Viewer)?;
    let specs = state.tools.specs();
    let tools: Vec<Value> = specs.iter().map(|s| s.as_function()).collect();
    let writes: Vec<&str> = specs
        .iter()
        .filter(|s| s.kind == ToolKind::Write)
        .map(|s| s.name)
        .collect();
    Ok(Json(json!({"tools": tools, "write_tools": writes})))
}

/// Runs a tool. The body is the arguments object. Read tools need the viewer
/// role, write tools the agent role. Writes act at once (the caller is a
/// trusted operator or integration; conversation gates belong to the agent).
#[utoipa::path(post, path = "/v1/tools/{name}", tag = "tools",
    params(("name" = String, Path, description = "Tool name, e.g. get_order_details")),
    request_body(content = serde_json::Value, description = "The tool's arguments"),
    responses(
        (status = 200, body = ToolOutput),
        (status = 400, description = "invalid_json / invalid_arguments", body = crate::openapi::ErrorBody),
        (status = 404, description = "unknown_tool / order_not_found / …", body = crate::openapi::ErrorBody),
        (status = 422, description = "A rule refused the action: order_not_pending, invalid_reason, …", body = crate::openapi::ErrorBody)),
    security(("api_key" = [])))]
pub async fn call_tool(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    JsonBody(arguments): JsonBody<Value>,
) -> ApiResult<Json<ToolOutput>> {
    let spec = state.tools.spec(&name).ok_or_else(|| {
        ApiError::from(hc_commerce::Error::UnknownTool(
            name.chars().take(64).collect(),
        ))
    })?;
    principal.require(match spec.kind {
        ToolKind::Read => Role::Viewer,
        ToolKind::Write => Role::Agent,
    })?;
    let result = state
        .tools
        .call(&principal.actor(), spec.name, arguments)
        .await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    };
    metrics::counter!("hc_tool_calls_total", "tool" => spec.name, "outcome" => outcome)
        .increment(1);
    Ok(Json(ToolOutput { output: result? }))
}
