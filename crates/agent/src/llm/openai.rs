//! OpenAI-compatible Chat Completions with tool calling, streamed
//! (`stream: true`, usage in the last chunk). Works with OpenAI, vLLM,
//! llama.cpp server and Ollama through the configurable base URL.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{
    ChatMessage, Completion, DeltaSink, LlmConfig, LlmError, Provider, Request, ToolCall,
    parse_arguments, sse, status_error, transport,
};

pub struct OpenAi {
    http: reqwest::Client,
    config: Arc<LlmConfig>,
}

impl OpenAi {
    pub fn new(http: reqwest::Client, config: Arc<LlmConfig>) -> Self {
        Self { http, config }
    }
}

/// The request body for a streamed chat completion.
pub fn body(config: &LlmConfig, request: &Request<'_>) -> Value {
    let mut messages = vec![json!({"role": "system", "content": request.system})];
    for m in request.messages {
        messages.push(match m {
            ChatMessage::User(text) => json!({"role": "user", "content": text}),
            ChatMessage::Assistant { text, tool_calls } if tool_calls.is_empty() => {
                json!({"role": "assistant", "content": text})
            }
            ChatMessage::Assistant { text, tool_calls } => json!({
                "role": "assistant",
                "content": if text.is_empty() { Value::Null } else { json!(text) },
                "tool_calls": tool_calls.iter().map(|c| json!({
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": match &c.arguments {
                        Ok(v) => v.to_string(),
                        Err(raw) => raw.clone(),
                    }},
                })).collect::<Vec<_>>(),
            }),
            ChatMessage::ToolResult {
                call_id, content, ..
            } => json!({"role": "tool", "tool_call_id": call_id, "content": content}),
        });
    }
    let mut body = json!({
        "model": config.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": config.max_tokens,
    });
    if let Some(t) = config.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters,
                }})
            })
            .collect();
        body["tool_choice"] = json!("auto");
    }
    body
}

/// Tool calls arrive in pieces keyed by index: id and name first, then argument text.
#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

#[async_trait]
impl Provider for OpenAi {
    async fn complete(
        &self,
        request: &Request<'_>,
        deltas: Option<&DeltaSink>,
        streamed: &mut bool,
    ) -> Result<Completion, LlmError> {
        let url = format!("{}/chat/completions", self.config.base_url());
        let mut http = self.http.post(url).json(&body(&self.config, request));
        if let Some(key) = &self.config.api_key {
            http = http.bearer_auth(key.expose_secret());
        }
        let response = http.send().await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let mut out = Completion::default();
        let mut calls: Vec<PartialCall> = Vec::new();
        let mut events = std::pin::pin!(sse::events(response));
        let mut done = false;
        while let Some(event) = events.next().await {
            let event = event?;
            if event.data.trim() == "[DONE]" {
                done = true;
                break;
            }
            if event.data.trim().is_empty() {
                continue;
            }
            let chunk: Value = serde_json::from_str(&event.data)
                .map_err(|e| LlmError::Protocol(format!("bad chunk: {e}")))?;
            if let Some(err) = chunk.get("error") {
                return Err(LlmError::Protocol(
                    err["message"].as_str().unwrap_or("stream error").into(),
                ));
            }
            if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
                out.input_tokens = usage["prompt_tokens"].as_u64().unwrap_or(0);
                out.output_tokens = usage["completion_tokens"].as_u64().unwrap_or(0);
            }
            let Some(choice) = chunk["choices"].get(0) else {
                continue;
            };
            if choice["finish_reason"].is_string() {
                // Some servers end the stream without `[DONE]` after this.
                done = true;
            }
            let delta = &choice["delta"];
            if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                out.text.push_str(text);
                if let Some(sink) = deltas {
                    *streamed = true;
                    let _ = sink.send(text.to_string());
                }
            }
            for piece in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = piece["index"].as_u64().unwrap_or(0) as usize;
                if index > 64 {
                    return Err(LlmError::Protocol("tool call index out of range".into()));
                }
                if calls.len() <= index {
                    calls.resize_with(index + 1, PartialCall::default);
                }
                let call = &mut calls[index];
                if let Some(id) = piece["id"].as_str() {
                    call.id = id.to_string();
                }
                if let Some(name) = piece["function"]["name"].as_str() {
                    call.name.push_str(name);
                }
                if let Some(args) = piece["function"]["arguments"].as_str() {
                    call.arguments.push_str(args);
                }
            }
        }
        if !done {
            return Err(LlmError::Protocol(
                "the stream ended before the reply was complete".into(),
            ));
        }
        out.tool_calls = calls
            .into_iter()
            .filter(|c| !c.name.is_empty())
            .enumerate()
            .map(|(i, c)| ToolCall {
                id: if c.id.is_empty() {
                    format!("call_{i}")
                } else {
                    c.id
                },
                name: c.name,
                arguments: parse_arguments(&c.arguments),
            })
            .collect();
        Ok(out)
    }
}
