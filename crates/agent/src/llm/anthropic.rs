//! The Anthropic Messages API with tool use, streamed. Roles must alternate,
//! so consecutive messages of one side are merged into one message of
//! content blocks; tool results travel as `tool_result` blocks of a user turn.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{
    ChatMessage, Completion, DeltaSink, LlmConfig, LlmError, Provider, Request, ToolCall,
    parse_arguments, sse, status_error, transport,
};

/// The API version this client speaks.
pub const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    http: reqwest::Client,
    config: Arc<LlmConfig>,
}

impl Anthropic {
    pub fn new(http: reqwest::Client, config: Arc<LlmConfig>) -> Self {
        Self { http, config }
    }
}

fn blocks(m: &ChatMessage) -> (&'static str, Vec<Value>) {
    match m {
        ChatMessage::User(text) => ("user", vec![json!({"type": "text", "text": text})]),
        ChatMessage::Assistant { text, tool_calls } => {
            let mut out = Vec::new();
            if !text.is_empty() {
                out.push(json!({"type": "text", "text": text}));
            }
            for c in tool_calls {
                out.push(json!({
                    "type": "tool_use",
                    "id": c.id,
                    "name": c.name,
                    "input": c.arguments.clone().unwrap_or_else(|_| json!({})),
                }));
            }
            ("assistant", out)
        }
        ChatMessage::ToolResult {
            call_id,
            content,
            is_error,
        } => (
            "user",
            vec![json!({
                "type": "tool_result", "tool_use_id": call_id,
                "content": content, "is_error": is_error,
            })],
        ),
    }
}

/// The request body for a streamed message.
pub fn body(config: &LlmConfig, request: &Request<'_>) -> Value {
    let mut messages: Vec<Value> = Vec::new();
    for m in request.messages {
        let (role, content) = blocks(m);
        if content.is_empty() {
            continue;
        }
        match messages.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(existing) = last["content"].as_array_mut() {
                    existing.extend(content);
                }
            }
            _ => messages.push(json!({"role": role, "content": content})),
        }
    }
    let mut body = json!({
        "model": config.model,
        "max_tokens": config.max_tokens,
        "system": request.system,
        "messages": messages,
        "stream": true,
    });
    if let Some(t) = config.temperature {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
    }
    body
}

enum Block {
    Text,
    Tool {
        id: String,
        name: String,
        json: String,
    },
}

#[async_trait]
impl Provider for Anthropic {
    async fn complete(
        &self,
        request: &Request<'_>,
        deltas: Option<&DeltaSink>,
        streamed: &mut bool,
    ) -> Result<Completion, LlmError> {
        let url = format!("{}/v1/messages", self.config.base_url());
        let mut http = self
            .http
            .post(url)
            .header("anthropic-version", API_VERSION)
            .json(&body(&self.config, request));
        if let Some(key) = &self.config.api_key {
            http = http.header("x-api-key", key.expose_secret());
        }
        let response = http.send().await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let mut out = Completion::default();
        let mut open: Vec<(u64, Block)> = Vec::new();
        let mut stopped = false;
        let mut events = std::pin::pin!(sse::events(response));
        while let Some(event) = events.next().await {
            let event = event?;
            if event.data.trim().is_empty() {
                continue;
            }
            let data: Value = serde_json::from_str(&event.data)
                .map_err(|e| LlmError::Protocol(format!("bad event: {e}")))?;
            let kind = data["type"].as_str().unwrap_or(event.name.as_str());
            match kind {
                "message_start" => {
                    let usage = &data["message"]["usage"];
                    out.input_tokens = usage["input_tokens"].as_u64().unwrap_or(0);
                    out.output_tokens = usage["output_tokens"].as_u64().unwrap_or(0);
                }
                "content_block_start" => {
                    let index = data["index"].as_u64().unwrap_or(0);
                    let block = &data["content_block"];
                    let b = match block["type"].as_str() {
                        Some("tool_use") => Block::Tool {
                            id: block["id"].as_str().unwrap_or_default().to_string(),
                            name: block["name"].as_str().unwrap_or_default().to_string(),
                            json: String::new(),
                        },
                        _ => Block::Text,
                    };
                    open.push((index, b));
                }
                "content_block_delta" => {
                    let index = data["index"].as_u64().unwrap_or(0);
                    let delta = &data["delta"];
                    let Some((_, block)) = open.iter_mut().find(|(i, _)| *i == index) else {
                        return Err(LlmError::Protocol("delta for an unknown block".into()));
                    };
                    match (block, delta["type"].as_str()) {
                        (Block::Text, Some("text_delta")) => {
                            let text = delta["text"].as_str().unwrap_or_default();
                            out.text.push_str(text);
                            if let Some(sink) = deltas.filter(|_| !text.is_empty()) {
                                *streamed = true;
                                let _ = sink.send(text.to_string());
                            }
                        }
                        (Block::Tool { json, .. }, Some("input_json_delta")) => {
                            json.push_str(delta["partial_json"].as_str().unwrap_or_default());
                        }
                        _ => {}
                    }
                }
                "message_delta" => {
                    if let Some(n) = data["usage"]["output_tokens"].as_u64() {
                        out.output_tokens = n;
                    }
                }
                "message_stop" => {
                    stopped = true;
                    break;
                }
                "error" => {
                    let e = &data["error"];
                    let message = e["message"].as_str().unwrap_or("stream error").to_string();
                    // An overloaded provider mid-stream is worth a retry (if nothing was shown yet).
                    return Err(match e["type"].as_str() {
                        Some("overloaded_error") => LlmError::Status {
                            status: 529,
                            message,
                            retry_after: None,
                        },
                        Some("rate_limit_error") => LlmError::Status {
                            status: 429,
                            message,
                            retry_after: None,
                        },
                        _ => LlmError::Protocol(message),
                    });
                }
                _ => {} // ping, content_block_stop
            }
        }
        if !stopped {
            return Err(LlmError::Protocol(
                "the stream ended before message_stop".into(),
            ));
        }
        out.tool_calls = open
            .into_iter()
            .filter_map(|(_, b)| match b {
                Block::Tool { id, name, json } => Some(ToolCall {
                    id,
                    name,
                    arguments: parse_arguments(&json),
                }),
                Block::Text => None,
            })
            .collect();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolSpec;

    #[test]
    fn consecutive_turns_of_one_side_are_merged_and_tool_results_are_user_blocks() {
        let call = ToolCall {
            id: "toolu_1".into(),
            name: "get_order_details".into(),
            arguments: Ok(json!({"order_id": "#W1"})),
        };
        let messages = [
            ChatMessage::User("hi".into()),
            ChatMessage::User("my order?".into()),
            ChatMessage::Assistant {
                text: "Let me check.".into(),
                tool_calls: vec![call],
            },
            ChatMessage::ToolResult {
                call_id: "toolu_1".into(),
                content: "{}".into(),
                is_error: false,
            },
        ];
        let tools = [ToolSpec {
            name: "get_order_details".into(),
            description: "d".into(),
            parameters: json!({"type": "object"}),
        }];
        let b = body(
            &LlmConfig::default(),
            &Request {
                system: "sys",
                messages: &messages,
                tools: &tools,
            },
        );
        let m = b["messages"].as_array().unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0]["content"].as_array().unwrap().len(), 2);
        assert_eq!(m[1]["content"][1]["type"], "tool_use");
        assert_eq!(m[1]["content"][1]["input"]["order_id"], "#W1");
        assert_eq!(m[2]["role"], "user");
        assert_eq!(m[2]["content"][0]["tool_use_id"], "toolu_1");
        assert_eq!(b["system"], "sys");
        assert_eq!(b["tools"][0]["input_schema"]["type"], "object");
    }
}
