//! Local stand-ins for Twilio's Messages REST API and Postmark's email API
//! that speak their wire formats: the request paths, HTTP Basic / server-token
//! authentication, form and JSON bodies, and the providers' JSON answers,
//! errors included. Each can be scripted to fail the next requests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// One request a fake accepted.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    /// Twilio: the form's fields as a JSON object; Postmark: the JSON body.
    pub body: Value,
}

/// A scripted failure: status and JSON body.
pub type Scripted = (u16, Value);

#[derive(Clone, Default)]
pub struct Fake {
    /// Accepted credentials: Twilio `(account_sid, auth_token)`, Postmark `(token, "")`.
    credentials: Arc<Mutex<Vec<(String, String)>>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Every request, accepted or not.
    pub hits: Arc<Mutex<u32>>,
    script: Arc<Mutex<VecDeque<Scripted>>>,
    base: Arc<Mutex<String>>,
}

impl Fake {
    pub fn accept(&self, user: &str, secret: &str) {
        self.credentials
            .lock()
            .unwrap()
            .push((user.into(), secret.into()));
    }

    /// The next requests (after authentication) get these answers, in order.
    pub fn fail_next(&self, answers: Vec<Scripted>) {
        self.script.lock().unwrap().extend(answers);
    }

    /// Where the fake listens.
    pub fn base(&self) -> String {
        self.base.lock().unwrap().clone()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn hits(&self) -> u32 {
        *self.hits.lock().unwrap()
    }

    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn scripted(&self) -> Option<Scripted> {
        self.script.lock().unwrap().pop_front()
    }
}

fn twilio_error(status: u16, code: u32, message: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status
        })),
    )
}

/// `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
async fn twilio_messages(
    State(fake): State<Fake>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    *fake.hits.lock().unwrap() += 1;
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    let authorised = basic.as_ref().is_some_and(|(sid, token)| {
        *sid == account
            && fake
                .credentials
                .lock()
                .unwrap()
                .contains(&(sid.clone(), token.clone()))
    });
    if !authorised {
        return twilio_error(401, 20003, "Authenticate");
    }
    let form_ok = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_ok {
        return twilio_error(400, 20001, "Unsupported content type");
    }
    let fields: serde_json::Map<String, Value> = form_urlencoded::parse(&body)
        .into_owned()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    if let Some((status, body)) = fake.scripted() {
        return (StatusCode::from_u16(status).unwrap(), Json(body));
    }
    let to = fields.get("To").and_then(Value::as_str).unwrap_or("");
    if !to.starts_with('+') {
        return twilio_error(
            400,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if fields
        .get("Body")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        return twilio_error(400, 21602, "Message body is required.");
    }
    let n = fake.received.lock().unwrap().len();
    let sid = format!("SM{:032x}", n + 1);
    let answer = json!({
        "account_sid": account,
        "api_version": "2010-04-01",
        "body": fields["Body"],
        "date_created": "Sat, 21 Nov 2026 17:00:00 +0000",
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": fields.get("From"),
        "num_segments": "1",
        "price": null,
        "sid": sid,
        "status": "queued",
        "to": to,
        "uri": format!("/2010-04-01/Accounts/{account}/Messages/{sid}.json")
    });
    fake.received.lock().unwrap().push(Received {
        path: format!("/2010-04-01/Accounts/{account}/Messages.json"),
        headers,
        body: Value::Object(fields),
    });
    (StatusCode::CREATED, Json(answer))
}

/// `POST /email` with `X-Postmark-Server-Token`.
async fn postmark_email(
    State(fake): State<Fake>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    *fake.hits.lock().unwrap() += 1;
    let token = headers
        .get("x-postmark-server-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !fake
        .credentials
        .lock()
        .unwrap()
        .iter()
        .any(|(t, _)| *t == token)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"ErrorCode": 10, "Message": "Request does not contain a valid Server token."}),
            ),
        );
    }
    let Ok(email) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"ErrorCode": 402, "Message": "Received invalid JSON input."})),
        );
    };
    if let Some((status, body)) = fake.scripted() {
        return (StatusCode::from_u16(status).unwrap(), Json(body));
    }
    let to = email["To"].clone();
    fake.received.lock().unwrap().push(Received {
        path: "/email".into(),
        headers,
        body: email,
    });
    (
        StatusCode::OK,
        Json(json!({
            "To": to,
            "SubmittedAt": "2026-11-21T14:00:00.0000000-05:00",
            "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
            "ErrorCode": 0,
            "Message": "OK"
        })),
    )
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// A fake Twilio REST API; returns its base URL.
pub async fn twilio() -> (String, Fake) {
    let fake = Fake::default();
    let router = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            axum::routing::post(twilio_messages),
        )
        .with_state(fake.clone());
    let base = serve(router).await;
    *fake.base.lock().unwrap() = base.clone();
    (base, fake)
}

/// A fake Postmark API; returns its base URL.
pub async fn postmark() -> (String, Fake) {
    let fake = Fake::default();
    let router = axum::Router::new()
        .route("/email", axum::routing::post(postmark_email))
        .with_state(fake.clone());
    let base = serve(router).await;
    *fake.base.lock().unwrap() = base.clone();
    (base, fake)
}
