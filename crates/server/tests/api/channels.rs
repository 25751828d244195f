//! Inbound channels over real HTTP: Twilio SMS and voice webhooks with
//! signatures computed from Twilio's documented algorithm, and Postmark's
//! inbound webhook with replies sent to a fake Postmark email API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hc_domain::Role;
use hc_server::ServerConfig;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::helpers::{MINI_DB, TestApp, config, spawn_app, spawn_app_with};

const TOKEN: &str = "twilio-auth-token-for-tests";
/// Where Twilio believes the server is (a proxy in front of it): what it signs.
const PUBLIC: &str = "https://support.shop.example";
const POSTMARK_TOKEN: &str = "postmark-server-token-for-tests";

fn channels_config(postmark_api_base: Option<String>, handoff: Option<&str>) -> ServerConfig {
    let mut c = config();
    c.channels.public_base_url = Some(PUBLIC.into());
    c.channels.twilio_auth_token = Some(TOKEN.into());
    c.channels.voice_handoff_number = handoff.map(str::to_string);
    if let Some(base) = postmark_api_base {
        c.channels.postmark_api_base = base;
        c.channels.postmark_server_token = Some(POSTMARK_TOKEN.into());
        c.channels.email_from = Some("help@shop.example".into());
        c.channels.inbound_basic_user = Some("postmark".into());
        c.channels.inbound_basic_password = Some("s3cret:pass".into());
    }
    c
}

async fn spawn_channels(postmark: Option<String>, handoff: Option<&str>) -> TestApp {
    spawn_app_with(
        hc_store::testing::sqlite().await,
        channels_config(postmark, handoff),
        MINI_DB,
    )
    .await
}

/// Twilio's algorithm, written out here independently of the server: HMAC-SHA1
/// keyed by the auth token over the URL, then each parameter name and value
/// sorted by name; base64.
pub(crate) fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

pub(crate) fn form(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

pub(crate) struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The unescaped text of each `<tag>…</tag>` in the TwiML.
    pub fn texts(&self, tag: &str) -> Vec<String> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        self.body
            .split(&open)
            .skip(1)
            .map(|rest| {
                let raw = rest.split(&close).next().unwrap();
                quick_xml::escape::unescape(raw).unwrap().to_string()
            })
            .collect()
    }
}

/// POSTs a Twilio webhook signed for the public URL (or with `signature`).
pub(crate) async fn twilio(
    app: &TestApp,
    path: &str,
    params: &[(&str, &str)],
    signature: Option<String>,
) -> Answer {
    let sig =
        signature.unwrap_or_else(|| twilio_signature(TOKEN, &format!("{PUBLIC}{path}"), params));
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", sig)
        .body(form(params))
        .send()
        .await
        .unwrap();
    Answer {
        status: resp.status().as_u16(),
        content_type: resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        body: resp.text().await.unwrap(),
    }
}

const SMS: &str = "/channels/twilio/shop/sms";
const VOICE: &str = "/channels/twilio/shop/voice";
const INBOUND: &str = "/channels/postmark/shop/inbound";

async fn sms(app: &TestApp, from: &str, body: &str) -> Answer {
    twilio(
        app,
        SMS,
        &[
            ("From", from),
            ("To", "+15005550006"),
            ("Body", body),
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("NumMedia", "0"),
        ],
        None,
    )
    .await
}

/// The tenant's conversations, newest first, with their transcripts.
pub(crate) async fn conversations(app: &TestApp) -> Vec<Value> {
    let list = app
        .get("/v1/conversations?limit=200", app.key(Role::Viewer))
        .await;
    let mut out = Vec::new();
    for c in list.body["items"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        out.push(
            app.get(&format!("/v1/conversations/{id}"), app.key(Role::Viewer))
                .await
                .body,
        );
    }
    out
}

#[tokio::test]
async fn an_sms_with_a_valid_signature_gets_a_twiml_reply_and_is_stored_on_the_sms_channel() {
    let app = spawn_channels(None, None).await;
    let a = sms(&app, "+14155550100", "Hi, where is my order?").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.content_type.starts_with("application/xml"),
        "{}",
        a.content_type
    );
    assert!(a.body.starts_with("<?xml"), "{}", a.body);
    let replies = a.texts("Message");
    assert_eq!(replies.len(), 1, "{}", a.body);
    assert!(
        replies[0].to_lowercase().contains("email"),
        "the agent asks who they are: {}",
        replies[0]
    );
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["channel"], "sms");
    let messages = convs[0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["text"], "Hi, where is my order?");
    assert_eq!(messages[1]["text"], replies[0].as_str());
    app.finish().await;
}

#[tokio::test]
async fn an_sms_with_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored() {
    let app = spawn_channels(None, None).await;
    let params = [("From", "+14155550100"), ("Body", "cancel order #W0000001")];
    // Signed for other parameters (tampered body).
    let tampered = twilio_signature(
        TOKEN,
        &format!("{PUBLIC}{SMS}"),
        &[("From", "+14155550100"), ("Body", "hello")],
    );
    // Signed for the address the server listens on, not the configured public URL.
    let wrong_url = twilio_signature(TOKEN, &format!("{}{SMS}", app.base), &params);
    let wrong_token = twilio_signature("another-token", &format!("{PUBLIC}{SMS}"), &params);
    for sig in [tampered, wrong_url, wrong_token, String::new()] {
        let a = twilio(&app, SMS, &params, Some(sig)).await;
        assert_eq!(a.status, 403, "{}", a.body);
        assert_eq!(a.code(), "forbidden");
    }
    let resp = app
        .client
        .post(format!("{}{SMS}", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&params))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "no signature header at all");
    assert!(conversations(&app).await.is_empty(), "nothing stored");
    app.finish().await;
}

#[tokio::test]
async fn two_sms_from_one_number_continue_one_conversation_and_another_number_gets_its_own() {
    let app = spawn_channels(None, None).await;
    let zoe = "+14155550100";
    let a = sms(&app, zoe, "hello, this is zoe.muller@example.com").await;
    assert_eq!(a.status, 200, "{}", a.body);
    // The second text carries no identity: the order is found only because the
    // conversation remembers who was identified in the first.
    let a = sms(&app, zoe, "what's the status of order #W0000002?").await;
    let reply = a.texts("Message").join(" ").to_lowercase();
    assert!(reply.contains("delivered"), "{reply}");
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1, "one conversation for one number");
    assert_eq!(convs[0]["customer"], "zoe_muller_1");
    assert_eq!(convs[0]["messages"].as_array().unwrap().len(), 4);

    let a = sms(
        &app,
        "+14155550199",
        "what's the status of order #W0000002?",
    )
    .await;
    let reply = a.texts("Message").join(" ").to_lowercase();
    assert!(
        !reply.contains("delivered"),
        "a stranger learns nothing: {reply}"
    );
    assert_eq!(conversations(&app).await.len(), 2);
    app.finish().await;
}

#[tokio::test]
async fn concurrent_sms_from_a_new_number_open_exactly_one_conversation() {
    let app = spawn_channels(None, None).await;
    let texts = ["hi", "hello?", "anyone there", "where is my order", "help"];
    let answers =
        futures_util::future::join_all(texts.iter().map(|t| sms(&app, "+14155550123", t))).await;
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1, "{convs:?}");
    assert_eq!(convs[0]["messages"].as_array().unwrap().len(), 10);
    app.finish().await;
}

#[tokio::test]
async fn a_call_is_greeted_in_a_gather_and_speech_gets_a_spoken_reply() {
    let app = spawn_channels(None, None).await;
    let call = [
        ("CallSid", "CA0000000000000000000000000000c001"),
        ("From", "+14155550100"),
        ("To", "+15005550006"),
        ("CallStatus", "ringing"),
    ];
    let a = twilio(&app, VOICE, &call, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let gather = format!(
        "<Gather input=\"speech\" action=\"{PUBLIC}{VOICE}\" method=\"POST\" speechTimeout=\"auto\"><Say>"
    );
    assert!(a.body.contains(&gather), "{}", a.body);
    assert!(a.texts("Say")[0].contains("How can I help"), "{}", a.body);

    let mut turn = call.to_vec();
    turn.push(("SpeechResult", "my email is zoe.muller@example.com"));
    turn.push(("Confidence", "0.92"));
    twilio(&app, VOICE, &turn, None).await;
    let mut turn = call.to_vec();
    turn.push(("SpeechResult", "what's the status of order #W0000002?"));
    let a = twilio(&app, VOICE, &turn, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains(&gather), "keeps listening: {}", a.body);
    assert!(
        a.texts("Say")[0].to_lowercase().contains("delivered"),
        "{}",
        a.body
    );

    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1, "one conversation per CallSid");
    assert_eq!(convs[0]["channel"], "voice");
    assert_eq!(convs[0]["customer"], "zoe_muller_1");
    assert_eq!(convs[0]["messages"].as_array().unwrap().len(), 4);
    app.finish().await;
}

#[tokio::test]
async fn asking_for_a_human_on_a_call_dials_the_handoff_number_or_promises_a_call_back() {
    let app = spawn_channels(None, Some("+15550001111")).await;
    let turn = [
        ("CallSid", "CA0000000000000000000000000000c002"),
        ("SpeechResult", "can I speak to a human agent?"),
    ];
    let a = twilio(&app, VOICE, &turn, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.texts("Dial"), ["+15550001111"], "{}", a.body);
    assert!(!a.body.contains("<Gather"), "{}", a.body);
    assert_eq!(conversations(&app).await[0]["status"], "escalated");
    app.finish().await;

    let app = spawn_channels(None, None).await;
    let a = twilio(&app, VOICE, &turn, None).await;
    assert!(!a.body.contains("<Dial"), "{}", a.body);
    assert!(a.body.ends_with("<Hangup/></Response>"), "{}", a.body);
    assert!(
        a.texts("Say").join(" ").contains("call you back"),
        "{}",
        a.body
    );
    app.finish().await;
}

// ------------------------------------------------------------ Postmark

/// A stand-in for Postmark's email API: `POST /email` with the server token,
/// answering in Postmark's JSON; fails the first `fail_first` sends with 500.
#[derive(Clone, Default)]
struct FakePostmark {
    received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    fail_first: Arc<Mutex<u32>>,
}

async fn fake_send(
    State(fake): State<FakePostmark>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if headers
        .get("x-postmark-server-token")
        .and_then(|v| v.to_str().ok())
        != Some(POSTMARK_TOKEN)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"ErrorCode": 10, "Message": "Request does not contain a valid Server token."}),
            ),
        );
    }
    {
        let mut fail = fake.fail_first.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"ErrorCode": 500, "Message": "Internal server error"})),
            );
        }
    }
    let to = body["To"].clone();
    fake.received.lock().unwrap().push((headers, body));
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

async fn spawn_postmark(fail_first: u32) -> (String, FakePostmark) {
    let fake = FakePostmark::default();
    *fake.fail_first.lock().unwrap() = fail_first;
    let app = axum::Router::new()
        .route("/email", axum::routing::post(fake_send))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

impl FakePostmark {
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<(HeaderMap, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n || tokio::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub(crate) fn inbound_email(subject: &str, stripped: &str) -> Value {
    json!({
        "FromName": "Zoë Müller",
        "MessageStream": "inbound",
        "From": "Zoe.Muller@example.com",
        "FromFull": {"Email": "Zoe.Muller@example.com", "Name": "Zoë Müller", "MailboxHash": ""},
        "To": "help@shop.example",
        "ToFull": [{"Email": "help@shop.example", "Name": "", "MailboxHash": ""}],
        "Cc": "", "CcFull": [], "Bcc": "", "BccFull": [],
        "OriginalRecipient": "help@shop.example",
        "Subject": subject,
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Sat, 21 Nov 2026 09:00:00 -0500",
        "TextBody": format!("{stripped}\n\nOn Fri, Shop <help@shop.example> wrote:\n> earlier text\n"),
        "HtmlBody": "<p>ignored</p>",
        "StrippedTextReply": stripped,
        "Tag": "",
        "Headers": [
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": "<CAzoe123@mail.example.com>"}
        ],
        "Attachments": []
    })
}

async fn post_inbound(app: &TestApp, auth: Option<(&str, &str)>, body: String) -> Answer {
    let mut req = app
        .client
        .post(format!("{}{INBOUND}", app.base))
        .header("Content-Type", "application/json")
        .body(body);
    if let Some((u, p)) = auth {
        req = req.basic_auth(u, Some(p));
    }
    let resp = req.send().await.unwrap();
    Answer {
        status: resp.status().as_u16(),
        content_type: String::new(),
        body: resp.text().await.unwrap(),
    }
}

const AUTH: Option<(&str, &str)> = Some(("postmark", "s3cret:pass"));

#[tokio::test]
async fn an_inbound_email_is_answered_through_postmark_threaded_and_identified_by_its_sender() {
    let (pm, fake) = spawn_postmark(0).await;
    let app = spawn_channels(Some(pm), None).await;
    let mail = inbound_email("Order question", "What's the status of order #W0000002?");
    let a = post_inbound(&app, AUTH, mail.to_string()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["outcome"], "replied");

    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["id"], a.json()["conversation_id"]);
    assert_eq!(convs[0]["channel"], "email");
    assert_eq!(
        convs[0]["customer"], "zoe_muller_1",
        "the sender address identified her"
    );
    let messages = convs[0]["messages"].as_array().unwrap();
    assert_eq!(
        messages[0]["text"],
        "My email is zoe.muller@example.com.\n\nWhat's the status of order #W0000002?"
    );
    let stored_reply = messages[1]["text"].as_str().unwrap();
    assert!(
        stored_reply.to_lowercase().contains("delivered"),
        "{stored_reply}"
    );

    let sent = fake.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1, "one reply sent");
    let (headers, email) = &sent[0];
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(email["From"], "help@shop.example");
    assert_eq!(email["To"], "zoe.muller@example.com");
    assert_eq!(email["Subject"], "Re: Order question");
    assert_eq!(email["TextBody"], stored_reply);
    assert_eq!(email["MessageStream"], "outbound");
    assert_eq!(
        email["Headers"],
        json!([
            {"Name": "In-Reply-To", "Value": "<CAzoe123@mail.example.com>"},
            {"Name": "References", "Value": "<CAzoe123@mail.example.com>"}
        ])
    );

    // A follow-up from the same sender continues the conversation, without the prefix.
    let mail = inbound_email("Re: Order question", "And order #W0000001?");
    let a = post_inbound(&app, AUTH, mail.to_string()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["messages"][2]["text"], "And order #W0000001?");
    let sent = fake.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(sent[1].1["Subject"], "Re: Order question", "no stacked Re:");
    app.finish().await;
}

#[tokio::test]
async fn a_reply_postmark_fails_to_take_is_retried_and_the_turn_stays_stored() {
    let (pm, fake) = spawn_postmark(1).await;
    let app = spawn_channels(Some(pm), None).await;
    let a = post_inbound(
        &app,
        AUTH,
        inbound_email("Hi", "where is my order #W0000002?").to_string(),
    )
    .await;
    assert_eq!(a.status, 200, "acknowledged once stored: {}", a.body);
    assert_eq!(
        conversations(&app).await[0]["messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let sent = fake.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1, "delivered on the second attempt");
    assert_eq!(
        *fake.fail_first.lock().unwrap(),
        0,
        "the first attempt failed"
    );
    app.finish().await;
}

#[tokio::test]
async fn inbound_email_with_wrong_basic_credentials_is_refused_and_nothing_is_stored() {
    let (pm, fake) = spawn_postmark(0).await;
    let app = spawn_channels(Some(pm), None).await;
    let mail = inbound_email("Hi", "cancel order #W0000001").to_string();
    for auth in [
        None,
        Some(("postmark", "wrong")),
        Some(("someone", "s3cret:pass")),
        Some(("postmark", "s3cret")),
    ] {
        let a = post_inbound(&app, auth, mail.clone()).await;
        assert_eq!(a.status, 401, "{auth:?}: {}", a.body);
        assert_eq!(a.code(), "unauthorized");
    }
    assert!(conversations(&app).await.is_empty());
    assert!(
        fake.wait_for(1, Duration::from_millis(300))
            .await
            .is_empty(),
        "nothing sent"
    );
    app.finish().await;
}

#[tokio::test]
async fn malformed_channel_payloads_get_structured_errors_and_change_nothing() {
    let (pm, fake) = spawn_postmark(0).await;
    let app = spawn_channels(Some(pm), None).await;
    let a = post_inbound(&app, AUTH, "{not json".into()).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "invalid_json"),
        "{}",
        a.body
    );
    let a = post_inbound(&app, AUTH, json!({"From": 42}).to_string()).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (422, "invalid_payload"),
        "{}",
        a.body
    );
    let a = post_inbound(&app, AUTH, json!({"TextBody": "hi"}).to_string()).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (422, "invalid_payload"),
        "no sender: {}",
        a.body
    );
    let a = post_inbound(
        &app,
        AUTH,
        json!({"From": "zoe@example.com", "TextBody": "> only quoted\n"}).to_string(),
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (422, "invalid_payload"),
        "no text: {}",
        a.body
    );
    // An auto-reply is acknowledged but never answered (no mail loops).
    let mut auto = inbound_email("Out of office", "I'm away");
    auto["Headers"] = json!([{"Name": "Auto-Submitted", "Value": "auto-replied"}]);
    let a = post_inbound(&app, AUTH, auto.to_string()).await;
    assert_eq!(
        (a.status, a.json()["outcome"].as_str()),
        (200, Some("ignored")),
        "{}",
        a.body
    );

    let a = twilio(&app, SMS, &[("Body", "hi")], None).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (422, "invalid_payload"),
        "no From: {}",
        a.body
    );
    let a = twilio(&app, SMS, &[("From", "+14155550100")], None).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (422, "invalid_payload"),
        "no Body: {}",
        a.body
    );
    let a = twilio(&app, VOICE, &[("From", "+14155550100")], None).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (422, "invalid_payload"),
        "no CallSid: {}",
        a.body
    );
    let resp = app
        .client
        .post(format!("{}{SMS}", app.base))
        .json(&json!({"From": "+1", "Body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let a = twilio(
        &app,
        "/channels/twilio/nosuchshop/sms",
        &[("From", "+14155550100"), ("Body", "hi")],
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "not_found"),
        "{}",
        a.body
    );

    assert!(conversations(&app).await.is_empty(), "nothing stored");
    assert!(
        fake.wait_for(1, Duration::from_millis(300))
            .await
            .is_empty(),
        "nothing sent"
    );
    app.finish().await;
}

#[tokio::test]
async fn channels_without_their_secrets_are_off() {
    let app = spawn_app().await;
    let a = sms(&app, "+14155550100", "hi").await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "channel_disabled"),
        "{}",
        a.body
    );
    let a = twilio(&app, VOICE, &[("CallSid", "CA1")], None).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "channel_disabled"),
        "{}",
        a.body
    );
    let a = post_inbound(&app, AUTH, inbound_email("Hi", "hello").to_string()).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "channel_disabled"),
        "{}",
        a.body
    );
    assert!(conversations(&app).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn the_channel_webhooks_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json", "").await.body;
    for path in [
        "/channels/twilio/{tenant}/sms",
        "/channels/twilio/{tenant}/voice",
        "/channels/postmark/{tenant}/inbound",
    ] {
        assert!(doc["paths"][path]["post"].is_object(), "{path} documented");
    }
    assert_eq!(
        doc["paths"]["/channels/postmark/{tenant}/inbound"]["post"]["security"],
        json!([{"postmark_basic": []}])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["postmark_basic"]["scheme"],
        "basic"
    );
    app.finish().await;
}

/// A cart-abandoned trigger with a message: when the session ends, the agent
/// emails the customer first (their name filled in), once; their reply
/// continues that conversation with the agent.
#[tokio::test]
async fn a_trigger_has_the_agent_email_the_customer_first_and_the_reply_continues_it() {
    let (pm, fake) = spawn_postmark(0).await;
    let mut cfg = channels_config(Some(pm), None);
    cfg.behavior.trigger_sweep_secs = 1;
    let app = spawn_app_with(hc_store::testing::sqlite().await, cfg, MINI_DB).await;
    let admin = app.key(Role::Admin).to_string();
    let bad = json!({"name": "cart", "webhook_url": "http://127.0.0.1:9/hook",
        "condition": {"kind": "cart_abandoned"}, "message": "   "});
    let r = app.post("/v1/triggers", &admin, &bad).await;
    assert_eq!((r.status, r.code()), (422, "invalid_trigger"), "{}", r.body);
    let rule = json!({"name": "cart", "webhook_url": "http://127.0.0.1:9/hook",
        "condition": {"kind": "cart_abandoned", "min_cart_value": 20.00},
        "message": "Hi {first_name}, your cart is still waiting. Reply here and I can help you finish your order."});
    let r = app.post("/v1/triggers", &admin, &rule).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["trigger"]["message"], rule["message"], "{}", r.body);

    // Zoe's session ends in 1.5 s with a cart and no purchase; a guest's too.
    let at = hc_domain::now_ms() - hc_domain::SESSION_GAP_MS + 1_500;
    let events = json!([
        {"event_id": "a1", "type": "add_to_cart", "timestamp_ms": at, "session_id": "zoe-cart",
         "customer_id": "zoe_muller_1", "product_id": "1000000001", "quantity": 1, "price": 50.88},
        {"event_id": "g1", "type": "add_to_cart", "timestamp_ms": at, "session_id": "guest-cart",
         "product_id": "1000000001", "quantity": 1, "price": 50.88},
    ]);
    let r = app.post("/v1/events", app.key(Role::Agent), &events).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let sent = fake.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(sent.len(), 1, "one email, to the known customer only");
    let email = &sent[0].1;
    assert_eq!(email["To"], "zoe.muller@example.com", "{email}");
    assert_eq!(email["From"], "help@shop.example");
    assert!(
        email["TextBody"]
            .as_str()
            .unwrap()
            .starts_with("Hi Zoë, your cart is still waiting."),
        "{email}"
    );
    let all = conversations(&app).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let c = &all[0];
    assert_eq!(c["channel"], "email");
    assert_eq!(c["status"], "open", "the conversation stays with the AI");
    assert_eq!(c["messages"][0]["author"], "agent");

    // Zoe replies: the same conversation, answered by the agent.
    let reply = inbound_email("Re: A note from Shop", "what's in my cart?").to_string();
    let a = post_inbound(&app, Some(("postmark", "s3cret:pass")), reply).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let all = conversations(&app).await;
    assert_eq!(all.len(), 1, "the reply continues the conversation");
    let messages = all[0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[1]["author"], "customer");
    assert_eq!(messages[2]["author"], "agent");

    // Later sweeps do not send the message again.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let to_zoe_first = fake
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, e)| {
            e["TextBody"]
                .as_str()
                .is_some_and(|t| t.starts_with("Hi Zoë, your cart"))
        })
        .count();
    assert_eq!(to_zoe_first, 1);
    app.finish().await;
}
