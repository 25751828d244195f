//! A local stand-in for an LLM provider that speaks the real wire format of
//! OpenAI Chat Completions or the Anthropic Messages API (streamed SSE,
//! tool calls in pieces, usage), scripted by a function of the request.
//! Used by tests and by `hypercommerce bench` (engine overhead per turn).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use super::ProviderKind;

/// What the fake answers to one request.
#[derive(Clone, Debug)]
pub enum FakeReply {
    /// A streamed reply: text (may be empty) and tool calls `(name, arguments)`.
    Say(String, Vec<(String, Value)>),
    /// An HTTP error with a provider-style JSON body.
    Status(u16, String),
    /// Waits, then answers.
    Delay(Duration, Box<FakeReply>),
    /// Starts streaming the text, then drops the connection mid-stream.
    Truncated(String),
}

impl FakeReply {
    pub fn text(t: impl Into<String>) -> Self {
        FakeReply::Say(t.into(), vec![])
    }

    pub fn tool(name: &str, arguments: Value) -> Self {
        FakeReply::Say(String::new(), vec![(name.to_string(), arguments)])
    }
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    /// Lower-cased header names.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of the last user message (OpenAI or Anthropic shape).
    pub fn last_user_text(&self) -> String {
        let messages = self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for m in messages.iter().rev() {
            if m["role"] != "user" {
                continue;
            }
            if let Some(s) = m["content"].as_str() {
                return s.to_string();
            }
            let texts: Vec<&str> = m["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| b["type"] == "text")
                .filter_map(|b| b["text"].as_str())
                .collect();
            if let Some(t) = texts.last() {
                return t.to_string();
            }
        }
        String::new()
    }

    /// Tool results sent back since the last user text, in order (either shape).
    pub fn tool_results(&self) -> Vec<String> {
        let messages = self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for m in messages.iter().rev() {
            if m["role"] == "tool" {
                out.push(m["content"].as_str().unwrap_or_default().to_string());
                continue;
            }
            let blocks = m["content"].as_array().cloned().unwrap_or_default();
            let results: Vec<String> = blocks
                .iter()
                .filter(|b| b["type"] == "tool_result")
                .map(|b| b["content"].as_str().unwrap_or_default().to_string())
                .collect();
            if m["role"] == "user" && results.is_empty() {
                break;
            }
            out.extend(results.into_iter().rev());
        }
        out.reverse();
        out
    }

    /// The system prompt (either shape).
    pub fn system(&self) -> String {
        if let Some(s) = self.body["system"].as_str() {
            return s.to_string();
        }
        self.body["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

type Responder = dyn Fn(&Received) -> FakeReply + Send + Sync;

/// A running fake provider on 127.0.0.1 (port chosen by the OS).
pub struct FakeLlm {
    /// The base URL to configure (`…/v1` for OpenAI, the root for Anthropic).
    pub base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    pub async fn start(
        kind: ProviderKind,
        responder: impl Fn(&Received) -> FakeReply + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let responder: Arc<Responder> = Arc::new(responder);
        let log = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, responder) = (log.clone(), responder.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (log, responder) = (log.clone(), responder.clone());
                        async move { Ok::<_, Infallible>(serve(kind, req, &log, &*responder).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let base_url = match kind {
            ProviderKind::Openai => format!("http://{addr}/v1"),
            ProviderKind::Anthropic => format!("http://{addr}"),
        };
        Ok(Self {
            base_url,
            received,
            task,
        })
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

async fn serve(
    kind: ProviderKind,
    req: Request<Incoming>,
    log: &Mutex<Vec<Received>>,
    responder: &Responder,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let bytes = req.into_body().collect().await.map(|b| b.to_bytes());
    let body: Value = bytes
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let expected = match kind {
        ProviderKind::Openai => "/v1/chat/completions",
        ProviderKind::Anthropic => "/v1/messages",
    };
    if path != expected || body.is_null() {
        return respond(
            404,
            "application/json",
            json!({"error": {"message": "not found"}}).to_string(),
        );
    }
    let received = Received {
        path,
        headers,
        body,
    };
    let mut reply = responder(&received);
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(received.clone());
    loop {
        match reply {
            FakeReply::Delay(d, next) => {
                tokio::time::sleep(d).await;
                reply = *next;
            }
            FakeReply::Status(status, message) => {
                let body = match kind {
                    ProviderKind::Openai => {
                        json!({"error": {"message": message, "type": "server_error", "code": null}})
                    }
                    ProviderKind::Anthropic => {
                        json!({"type": "error", "error": {"type": "api_error", "message": message}})
                    }
                };
                return respond(status, "application/json", body.to_string());
            }
            FakeReply::Say(text, calls) => {
                let input = received.body.to_string().len() as u64 / 4;
                let sse = match kind {
                    ProviderKind::Openai => openai_stream(&text, &calls, input, true),
                    ProviderKind::Anthropic => anthropic_stream(&text, &calls, input, true),
                };
                return respond(200, "text/event-stream", sse);
            }
            FakeReply::Truncated(text) => {
                let sse = match kind {
                    ProviderKind::Openai => openai_stream(&text, &[], 1, false),
                    ProviderKind::Anthropic => anthropic_stream(&text, &[], 1, false),
                };
                return respond(200, "text/event-stream", sse);
            }
        }
    }
}

fn respond(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// The text in two pieces, cut at a character boundary.
fn halves(s: &str) -> [&str; 2] {
    let mut mid = s.len() / 2;
    while !s.is_char_boundary(mid) {
        mid -= 1;
    }
    let (a, b) = s.split_at(mid);
    [a, b]
}

/// Splits text into a few pieces, the way a model streams tokens.
fn pieces(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    words.chunks(3).map(|c| c.concat()).collect()
}

fn openai_stream(text: &str, calls: &[(String, Value)], input: u64, complete: bool) -> String {
    let mut out = String::new();
    let mut event = |v: Value| out.push_str(&format!("data: {v}\n\n"));
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
               "model": "fake", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    event(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ));
    for p in pieces(text) {
        event(chunk(json!({"content": p}), Value::Null));
    }
    if !complete {
        return out;
    }
    for (i, (name, args)) in calls.iter().enumerate() {
        event(chunk(
            json!({"tool_calls": [{"index": i, "id": format!("call_{i}"), "type": "function",
                   "function": {"name": name, "arguments": ""}}]}),
            Value::Null,
        ));
        let args = args.to_string();
        for part in halves(&args) {
            event(chunk(
                json!({"tool_calls": [{"index": i, "function": {"arguments": part}}]}),
                Value::Null,
            ));
        }
    }
    let finish = if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    event(chunk(json!({}), json!(finish)));
    let output = (text.len() as u64 / 4) + 8 * calls.len() as u64 + 1;
    event(
        json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [],
                 "usage": {"prompt_tokens": input, "completion_tokens": output,
                           "total_tokens": input + output}}),
    );
    out.push_str("data: [DONE]\n\n");
    out
}

fn anthropic_stream(text: &str, calls: &[(String, Value)], input: u64, complete: bool) -> String {
    let mut out = String::new();
    let mut event = |name: &str, v: Value| out.push_str(&format!("event: {name}\ndata: {v}\n\n"));
    event(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_fake", "type": "message",
               "role": "assistant", "content": [], "model": "fake", "stop_reason": null,
               "usage": {"input_tokens": input, "output_tokens": 1}}}),
    );
    event("ping", json!({"type": "ping"}));
    let mut index = 0;
    if !text.is_empty() {
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
        );
        for p in pieces(text) {
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}}),
            );
        }
        if !complete {
            return out;
        }
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        );
        index += 1;
    }
    if !complete {
        return out;
    }
    for (i, (name, args)) in calls.iter().enumerate() {
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block":
                   {"type": "tool_use", "id": format!("toolu_{i}"), "name": name, "input": {}}}),
        );
        let args = args.to_string();
        for part in halves(&args) {
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                       "delta": {"type": "input_json_delta", "partial_json": part}}),
            );
        }
        event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        );
        index += 1;
    }
    let stop = if calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let output = (text.len() as u64 / 4) + 8 * calls.len() as u64 + 1;
    event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
               "usage": {"output_tokens": output}}),
    );
    event("message_stop", json!({"type": "message_stop"}));
    out
}
