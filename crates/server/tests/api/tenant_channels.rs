//! Per-tenant channel accounts and human handoff over the channels: settings
//! with redacted secrets, webhooks checked with the tenant's own secrets and
//! routed by the number or address called, a human's inbox reply delivered
//! over the conversation's channel (Twilio's Messages API, Postmark's email
//! API, fakes speaking their wire formats) through the durable outbox, with
//! retries, permanent failures and a restart in between.

use std::time::Duration;

use hc_domain::Role;
use hc_server::ServerConfig;
use serde_json::{Value, json};

use crate::channels::{Answer, conversations, inbound_email, twilio_signature};
use crate::fakes::{self, Fake};
use crate::helpers::{MINI_DB, Reply, TestApp, config, spawn_app_on, spawn_app_with};

const PUBLIC: &str = "https://support.shop.example";
/// The server-wide fallback token (`[server.channels]`).
const SERVER_TOKEN: &str = "server-wide-twilio-token";

const SHOP_SID: &str = "AC11111111111111111111111111111111";
const SHOP_TOKEN: &str = "shop-own-twilio-token";
const SHOP_NUMBER: &str = "+15005550006";
const SHOP_PM_TOKEN: &str = "shop-postmark-server-token";
const SHOP_PM_PASSWORD: &str = "shop-inbound-password";

const OTHER_SID: &str = "AC22222222222222222222222222222222";
const OTHER_TOKEN: &str = "other-own-twilio-token";
const OTHER_NUMBER: &str = "+15005550007";

const CUSTOMER: &str = "+14155550100";

fn shop_channels() -> Value {
    json!({
        "twilio": {"account_sid": SHOP_SID, "auth_token": SHOP_TOKEN, "phone_numbers": [SHOP_NUMBER]},
        "postmark": {
            "server_token": SHOP_PM_TOKEN,
            "from": "help@shop.example",
            "inbound_addresses": ["support@shop.example"],
            "inbound_user": "postmark-shop",
            "inbound_password": SHOP_PM_PASSWORD
        }
    })
}

fn other_channels() -> Value {
    json!({
        "twilio": {"account_sid": OTHER_SID, "auth_token": OTHER_TOKEN, "phone_numbers": [OTHER_NUMBER]},
        "voice_handoff_number": "+15550002222"
    })
}

fn channel_config(twilio_base: &str, postmark_base: &str) -> ServerConfig {
    let mut c = config();
    c.channels.public_base_url = Some(PUBLIC.into());
    c.channels.twilio_auth_token = Some(SERVER_TOKEN.into());
    c.channels.twilio_api_base = twilio_base.into();
    c.channels.postmark_api_base = postmark_base.into();
    c
}

struct Setup {
    app: TestApp,
    twilio: Fake,
    postmark: Fake,
}

/// An app whose tenants have their own accounts, and fakes accepting them.
async fn setup_on(db: hc_store::testing::TestDb, enabled: bool) -> Setup {
    let (tw, twilio) = fakes::twilio().await;
    let (pm, postmark) = fakes::postmark().await;
    twilio.accept(SHOP_SID, SHOP_TOKEN);
    twilio.accept(OTHER_SID, OTHER_TOKEN);
    postmark.accept(SHOP_PM_TOKEN, "");
    let mut c = channel_config(&tw, &pm);
    c.outbox.enabled = enabled;
    let app = spawn_app_with(db, c, MINI_DB).await;
    let r = put_channels(&app, app.key(Role::Admin), shop_channels()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = put_channels(&app, &app.other_key, other_channels()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    Setup {
        app,
        twilio,
        postmark,
    }
}

async fn setup() -> Setup {
    setup_on(hc_store::testing::sqlite().await, true).await
}

async fn put_channels(app: &TestApp, key: &str, channels: Value) -> Reply {
    app.put("/v1/settings", key, &json!({ "channels": channels }))
        .await
}

/// POSTs a Twilio webhook to `path`, signed with `token` for the public URL.
async fn twilio_hook(app: &TestApp, path: &str, params: &[(&str, &str)], token: &str) -> Answer {
    let sig = twilio_signature(token, &format!("{PUBLIC}{path}"), params);
    crate::channels::twilio(app, path, params, Some(sig)).await
}

fn sms_params<'a>(from: &'a str, to: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("From", from),
        ("To", to),
        ("Body", body),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("NumMedia", "0"),
    ]
}

async fn postmark_hook(app: &TestApp, path: &str, auth: (&str, &str), mail: &Value) -> Answer {
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .header("Content-Type", "application/json")
        .basic_auth(auth.0, Some(auth.1))
        .body(mail.to_string())
        .send()
        .await
        .unwrap();
    Answer {
        status: resp.status().as_u16(),
        content_type: String::new(),
        body: resp.text().await.unwrap(),
    }
}

async fn human_reply(app: &TestApp, conversation: &str, text: &str) -> Reply {
    app.post(
        &format!("/v1/conversations/{conversation}/human-reply"),
        app.key(Role::Agent),
        &json!({ "text": text }),
    )
    .await
}

/// Waits until the tenant's outbox has no pending delivery; returns its items.
async fn settled(app: &TestApp, key: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get("/v1/outbox", key).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap().clone();
        if items.iter().all(|d| d["status"] != "pending") || tokio::time::Instant::now() > deadline
        {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn no_secret_in(text: &str) {
    for secret in [SHOP_TOKEN, SHOP_PM_TOKEN, SHOP_PM_PASSWORD, OTHER_TOKEN] {
        assert!(!text.contains(secret), "a secret leaked: {text}");
    }
}

// ------------------------------------------------------------ settings

#[tokio::test]
async fn channel_secrets_are_stored_per_tenant_but_never_read_back() {
    let s = setup().await;
    let app = &s.app;
    let got = app.get("/v1/settings", app.key(Role::Viewer)).await;
    assert_eq!(got.status, 200);
    let ch = &got.body["channels"];
    assert_eq!(ch["twilio"]["account_sid"], SHOP_SID);
    assert_eq!(ch["twilio"]["phone_numbers"], json!([SHOP_NUMBER]));
    assert_eq!(ch["twilio"]["auth_token"], json!({"set": true}));
    assert_eq!(ch["postmark"]["server_token"], json!({"set": true}));
    assert_eq!(ch["postmark"]["inbound_password"], json!({"set": true}));
    assert_eq!(ch["postmark"]["inbound_user"], "postmark-shop");
    no_secret_in(&got.body.to_string());
    let audit = app.get("/v1/audit?limit=200", app.key(Role::Owner)).await;
    assert!(audit.body.to_string().contains("settings.update"));
    no_secret_in(&audit.body.to_string());
    let other = app.get("/v1/settings", &app.other_key).await;
    assert_eq!(other.body["channels"]["twilio"]["account_sid"], OTHER_SID);
    no_secret_in(&other.body.to_string());

    // What a read returns can be written back: `{"set": true}` keeps the secrets.
    let mut back = got.body.clone();
    back["brand"] = json!("Acme");
    let r = app.put("/v1/settings", app.key(Role::Admin), &back).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["brand"], "Acme");
    no_secret_in(&r.body.to_string());
    let a = twilio_hook(
        app,
        "/channels/twilio/shop/sms",
        &sms_params(CUSTOMER, SHOP_NUMBER, "hello"),
        SHOP_TOKEN,
    )
    .await;
    assert_eq!(a.status, 200, "the kept token still checks: {}", a.body);
    s.app.finish().await;
}

#[tokio::test]
async fn bad_channel_settings_are_refused_and_change_nothing() {
    let (tw, _) = fakes::twilio().await;
    let app = spawn_app_with(
        hc_store::testing::sqlite().await,
        channel_config(&tw, &tw),
        MINI_DB,
    )
    .await;
    let admin = app.key(Role::Admin).to_string();
    let before = app.get("/v1/settings", &admin).await.body;
    let audit = app.audit_count().await;
    let twilio = |field: &str, value: Value| {
        let mut t = shop_channels()["twilio"].clone();
        t[field] = value;
        json!({ "twilio": t })
    };
    for bad in [
        twilio("account_sid", json!("AC123")),
        twilio("account_sid", json!("SK11111111111111111111111111111111")),
        twilio("phone_numbers", json!(["5005550006"])),
        twilio("phone_numbers", json!([])),
        twilio("auth_token", json!("")),
        // Nothing is stored to keep.
        twilio("auth_token", json!({"set": true})),
        twilio("auth_token", json!({"set": false})),
        twilio("auth_token", json!(42)),
        twilio("region", json!("us1")),
        json!({"voice_handoff_number": "555-0100"}),
        json!({"postmark": {"server_token": "t", "from": "not an address",
            "inbound_user": "u", "inbound_password": "p"}}),
        json!({"postmark": {"server_token": "t", "from": "help@shop.example",
            "inbound_user": "u:x", "inbound_password": "p"}}),
    ] {
        let r = put_channels(&app, &admin, bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.code(), "invalid_settings", "{bad}");
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.get("/v1/settings", &admin).await.body, before);
    assert_eq!(app.audit_count().await, audit, "nothing audited");

    // A number another tenant holds: 409, and the tenant's settings stay as they were.
    assert_eq!(
        put_channels(&app, &admin, shop_channels()).await.status,
        200
    );
    let other_before = app.get("/v1/settings", &app.other_key).await.body;
    let mut stolen = other_channels();
    stolen["twilio"]["phone_numbers"] = json!([OTHER_NUMBER, SHOP_NUMBER]);
    let r = put_channels(&app, &app.other_key, stolen).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "channel_address_taken"),
        "{}",
        r.body
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(SHOP_NUMBER)
    );
    assert_eq!(
        app.get("/v1/settings", &app.other_key).await.body,
        other_before
    );
    // Not even the part that was free was claimed.
    let a = twilio_hook(
        &app,
        "/channels/twilio/sms",
        &sms_params(CUSTOMER, OTHER_NUMBER, "hi"),
        OTHER_TOKEN,
    )
    .await;
    assert_eq!(a.status, 404, "{}", a.body);
    app.finish().await;
}

// ------------------------------------------------------------ inbound

#[tokio::test]
async fn each_tenant_signs_with_its_own_token_and_the_shared_path_routes_by_the_number_called() {
    let s = setup().await;
    let app = &s.app;
    let shop_path = "/channels/twilio/shop/sms";
    let params = sms_params(CUSTOMER, SHOP_NUMBER, "Hi, where is my order?");
    // The server-wide token and another tenant's token do not sign for shop.
    for token in [SERVER_TOKEN, OTHER_TOKEN] {
        let a = twilio_hook(app, shop_path, &params, token).await;
        assert_eq!((a.status, a.code().as_str()), (403, "forbidden"), "{token}");
    }
    assert!(conversations(app).await.is_empty(), "nothing stored");
    let a = twilio_hook(app, shop_path, &params, SHOP_TOKEN).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(conversations(app).await.len(), 1);

    // The shared path: `To` picks the tenant, whose token must sign.
    let shared = "/channels/twilio/sms";
    let to_other = sms_params(CUSTOMER, OTHER_NUMBER, "hello other shop");
    for token in [SHOP_TOKEN, SERVER_TOKEN] {
        let a = twilio_hook(app, shared, &to_other, token).await;
        assert_eq!(a.status, 403, "{token}: {}", a.body);
    }
    let a = twilio_hook(app, shared, &to_other, OTHER_TOKEN).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.texts("Message").len(), 1, "{}", a.body);
    let others = app.get("/v1/conversations", &app.other_key).await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(others.len(), 1, "stored in tenant other");
    assert_eq!(others[0]["channel"], "sms");
    assert_eq!(conversations(app).await.len(), 1, "shop unchanged");

    // A number nobody holds, and no To at all.
    let a = twilio_hook(
        app,
        shared,
        &sms_params(CUSTOMER, "+15005550999", "hi"),
        SERVER_TOKEN,
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "not_found"),
        "{}",
        a.body
    );
    let a = twilio_hook(
        app,
        shared,
        &[("From", CUSTOMER), ("Body", "hi")],
        SHOP_TOKEN,
    )
    .await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (422, "invalid_payload"),
        "{}",
        a.body
    );
    s.app.finish().await;
}

#[tokio::test]
async fn a_tenant_without_its_own_account_falls_back_to_the_servers() {
    let s = setup().await;
    let app = &s.app;
    // Tenant `other` drops its own account: the server's token signs for it again.
    assert_eq!(
        put_channels(app, &app.other_key, json!({})).await.status,
        200
    );
    let path = "/channels/twilio/other/sms";
    let params = sms_params(CUSTOMER, OTHER_NUMBER, "hello");
    let a = twilio_hook(app, path, &params, OTHER_TOKEN).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = twilio_hook(app, path, &params, SERVER_TOKEN).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // And its number is free for routing no more.
    let a = twilio_hook(app, "/channels/twilio/sms", &params, SERVER_TOKEN).await;
    assert_eq!(a.status, 404, "{}", a.body);
    s.app.finish().await;
}

#[tokio::test]
async fn inbound_email_on_the_shared_path_is_routed_by_recipient_and_checked_with_the_tenants_credentials()
 {
    let s = setup().await;
    let app = &s.app;
    let mut mail = inbound_email("Order question", "What's the status of order #W0000002?");
    mail["To"] = json!("Support <Support@Shop.example>");
    mail["ToFull"] = json!([{"Email": "Support@Shop.example", "Name": "Support"}]);
    mail["OriginalRecipient"] = json!("support@shop.example");
    let shared = "/channels/postmark/inbound";
    for auth in [("postmark-shop", "wrong"), ("postmark", SHOP_PM_PASSWORD)] {
        let a = postmark_hook(app, shared, auth, &mail).await;
        assert_eq!(
            (a.status, a.code().as_str()),
            (401, "unauthorized"),
            "{auth:?}"
        );
    }
    assert!(conversations(app).await.is_empty());
    let a = postmark_hook(app, shared, ("postmark-shop", SHOP_PM_PASSWORD), &mail).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["outcome"], "replied");
    assert_eq!(conversations(app).await.len(), 1);
    // The reply goes out with the tenant's own server token and sender.
    let sent = s.postmark.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].headers["x-postmark-server-token"], SHOP_PM_TOKEN);
    assert_eq!(sent[0].body["From"], "help@shop.example");
    assert_eq!(sent[0].body["To"], "zoe.muller@example.com");

    let mut stray = mail.clone();
    stray["To"] = json!("nobody@elsewhere.example");
    stray["ToFull"] = json!([]);
    stray["OriginalRecipient"] = json!("");
    let a = postmark_hook(app, shared, ("postmark-shop", SHOP_PM_PASSWORD), &stray).await;
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "not_found"),
        "{}",
        a.body
    );
    s.app.finish().await;
}

// ------------------------------------------------------------ outbound

#[tokio::test]
async fn a_human_reply_to_an_sms_conversation_is_texted_through_twilio() {
    let s = setup().await;
    let app = &s.app;
    let a = twilio_hook(
        app,
        "/channels/twilio/sms",
        &sms_params(CUSTOMER, SHOP_NUMBER, "Hi, where is my order?"),
        SHOP_TOKEN,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let id = conversations(app).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = human_reply(app, &id, "Hi, this is Sam from the team: it ships today.").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "escalated", "taken over");
    assert_eq!(r.body["delivery"], json!({"kind": "sms", "to": CUSTOMER}));

    let sent = s.twilio.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1, "one SMS");
    let sms = &sent[0];
    assert_eq!(
        sms.path,
        format!("/2010-04-01/Accounts/{SHOP_SID}/Messages.json")
    );
    assert_eq!(sms.body["To"], CUSTOMER);
    assert_eq!(
        sms.body["From"], SHOP_NUMBER,
        "from the number the customer texted"
    );
    assert_eq!(
        sms.body["Body"],
        "Hi, this is Sam from the team: it ships today."
    );
    let items = settled(app, app.key(Role::Viewer)).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "delivered");
    assert_eq!(items[0]["attempts"], 1);
    assert_eq!(items[0]["conversation_id"], id.as_str());
    assert!(
        items[0]["provider_id"].as_str().unwrap().starts_with("SM"),
        "Twilio's message SID: {}",
        items[0]
    );
    let stats = app.get("/v1/stats", app.key(Role::Viewer)).await.body;
    assert_eq!(
        stats["outbox"],
        json!({"pending": 0, "delivered": 1, "failed": 0})
    );
    assert_eq!(stats["escalated"], 1, "conversation stats still there");
    // The transcript holds the human's message once.
    let t = app
        .get(&format!("/v1/conversations/{id}"), app.key(Role::Viewer))
        .await
        .body;
    let last = t["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author"], "human");
    s.app.finish().await;
}

#[tokio::test]
async fn a_human_reply_to_an_email_conversation_is_threaded_on_the_customers_last_message() {
    let s = setup().await;
    let app = &s.app;
    let auth = ("postmark-shop", SHOP_PM_PASSWORD);
    let first = inbound_email("Order question", "What's the status of order #W0000002?");
    let a = postmark_hook(app, "/channels/postmark/shop/inbound", auth, &first).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let mut second = inbound_email("RE: Order question", "Can a person look at this please?");
    second["Headers"] = json!([
        {"Name": "Message-ID", "Value": "<CAzoe456@mail.example.com>"},
        {"Name": "In-Reply-To", "Value": "<reply1@shop.example>"},
        {"Name": "References", "Value": "<CAzoe123@mail.example.com> <reply1@shop.example>"}
    ]);
    let a = postmark_hook(app, "/channels/postmark/shop/inbound", auth, &second).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let id = a.json()["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(
        s.postmark.wait_for(2, Duration::from_secs(5)).await.len(),
        2
    );

    let r = human_reply(app, &id, "Hello Zoe, Sam here. I've looked into it.").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["delivery"],
        json!({"kind": "email", "to": "zoe.muller@example.com"})
    );
    let sent = s.postmark.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 3);
    let email = &sent[2];
    assert_eq!(email.headers["x-postmark-server-token"], SHOP_PM_TOKEN);
    assert_eq!(email.body["From"], "help@shop.example");
    assert_eq!(email.body["To"], "zoe.muller@example.com");
    assert_eq!(email.body["Subject"], "RE: Order question");
    assert_eq!(
        email.body["TextBody"],
        "Hello Zoe, Sam here. I've looked into it."
    );
    assert_eq!(
        email.body["Headers"],
        json!([
            {"Name": "In-Reply-To", "Value": "<CAzoe456@mail.example.com>"},
            {"Name": "References", "Value": "<CAzoe123@mail.example.com> <reply1@shop.example> <CAzoe456@mail.example.com>"}
        ])
    );
    s.app.finish().await;
}

#[tokio::test]
async fn an_escalated_call_is_dialed_to_the_tenants_number_or_followed_up_by_text() {
    let s = setup().await;
    let app = &s.app;
    let ask = |call: &'static str, to: &'static str| {
        vec![
            ("CallSid", call),
            ("From", CUSTOMER),
            ("To", to),
            ("SpeechResult", "can I speak to a human agent?"),
        ]
    };
    // Tenant `other` set a handoff number: the call is transferred there.
    let a = twilio_hook(
        app,
        "/channels/twilio/voice",
        &ask("CA00000000000000000000000000000001", OTHER_NUMBER),
        OTHER_TOKEN,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.texts("Dial"), ["+15550002222"], "{}", a.body);

    // Shop has none: an apology, a text-message follow-up, and the call ends.
    let a = twilio_hook(
        app,
        "/channels/twilio/voice",
        &ask("CA00000000000000000000000000000002", SHOP_NUMBER),
        SHOP_TOKEN,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(!a.body.contains("<Dial"), "{}", a.body);
    assert!(a.body.ends_with("<Hangup/></Response>"), "{}", a.body);
    let said = a.texts("Say").join(" ");
    assert!(
        said.contains("sorry") && said.contains("text message"),
        "{said}"
    );
    let convs = conversations(app).await;
    assert_eq!(convs[0]["status"], "escalated");
    assert_eq!(convs[0]["channel"], "voice");

    // The human's reply reaches the caller by SMS, from the number they called.
    let id = convs[0]["id"].as_str().unwrap();
    let r = human_reply(app, id, "Hi, it's Sam. I saw you called: how can I help?").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["delivery"], json!({"kind": "sms", "to": CUSTOMER}));
    let sent = s.twilio.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["To"], CUSTOMER);
    assert_eq!(sent[0].body["From"], SHOP_NUMBER);
    assert_eq!(
        sent[0].body["Body"],
        "Hi, it's Sam. I saw you called: how can I help?"
    );
    s.app.finish().await;
}

/// Opens an SMS conversation in shop; returns its id.
async fn sms_conversation(app: &TestApp) -> String {
    let a = twilio_hook(
        app,
        "/channels/twilio/shop/sms",
        &sms_params(CUSTOMER, SHOP_NUMBER, "Hello?"),
        SHOP_TOKEN,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    conversations(app).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_provider_outage_is_retried_with_backoff_until_delivered() {
    let s = setup().await;
    let app = &s.app;
    let id = sms_conversation(app).await;
    s.twilio.fail_next(vec![
        (
            503,
            json!({"code": 20503, "message": "Service unavailable", "status": 503}),
        ),
        (
            429,
            json!({"code": 20429, "message": "Too Many Requests", "status": 429}),
        ),
    ]);
    let r = human_reply(app, &id, "We're on it.").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = settled(app, app.key(Role::Viewer)).await;
    assert_eq!(items[0]["status"], "delivered", "{}", items[0]);
    assert_eq!(items[0]["attempts"], 3, "two failures, then success");
    assert_eq!(s.twilio.hits(), 3);
    assert_eq!(s.twilio.received().len(), 1, "sent once");
    s.app.finish().await;
}

#[tokio::test]
async fn a_refused_delivery_fails_at_once_and_is_not_retried() {
    let s = setup().await;
    let app = &s.app;
    let id = sms_conversation(app).await;
    s.twilio.fail_next(vec![(
        400,
        json!({"code": 21610, "message": "Attempt to send to unsubscribed recipient",
               "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}),
    )]);
    let r = human_reply(app, &id, "Are you still there?").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = settled(app, app.key(Role::Viewer)).await;
    assert_eq!(items[0]["status"], "failed", "{}", items[0]);
    assert_eq!(items[0]["attempts"], 1);
    let error = items[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("21610") && error.contains("unsubscribed"),
        "{error}"
    );
    // Longer than several retry periods: still one attempt.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(s.twilio.hits(), 1);
    let failed = app
        .get("/v1/outbox?status=failed", app.key(Role::Viewer))
        .await;
    assert_eq!(failed.body["items"].as_array().unwrap().len(), 1);
    let stats = app.get("/v1/stats", app.key(Role::Viewer)).await.body;
    assert_eq!(
        stats["outbox"],
        json!({"pending": 0, "delivered": 0, "failed": 1})
    );
    let bad = app
        .get("/v1/outbox?status=lost", app.key(Role::Viewer))
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_status"));
    s.app.finish().await;
}

#[tokio::test]
async fn a_provider_that_stays_down_is_given_up_after_the_last_attempt() {
    let s = setup().await;
    let app = &s.app;
    let id = sms_conversation(app).await;
    let down = (
        500,
        json!({"code": 20500, "message": "Internal Server Error", "status": 500}),
    );
    s.twilio.fail_next(vec![down; 10]);
    assert_eq!(human_reply(app, &id, "Hello again").await.status, 200);
    let items = settled(app, app.key(Role::Viewer)).await;
    assert_eq!(items[0]["status"], "failed", "{}", items[0]);
    assert_eq!(items[0]["attempts"], 4, "max_attempts in the test config");
    assert!(items[0]["last_error"].as_str().unwrap().contains("500"));
    s.app.finish().await;
}

#[tokio::test]
async fn a_human_reply_that_cannot_be_delivered_is_refused_and_stores_nothing() {
    // The server's token checks webhooks, but no account SID: SMS cannot be sent.
    let (tw, twilio) = fakes::twilio().await;
    let app = spawn_app_with(
        hc_store::testing::sqlite().await,
        channel_config(&tw, &tw),
        MINI_DB,
    )
    .await;
    let a = twilio_hook(
        &app,
        "/channels/twilio/shop/sms",
        &sms_params(CUSTOMER, SHOP_NUMBER, "Hello?"),
        SERVER_TOKEN,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let before = conversations(&app).await;
    let c = &before[0];
    let id = c["id"].as_str().unwrap();
    let r = human_reply(&app, id, "Hi from the team").await;
    assert_eq!(
        (r.status, r.code()),
        (409, "channel_unavailable"),
        "{}",
        r.body
    );
    let after = conversations(&app).await;
    let after = &after[0];
    assert_eq!(after["messages"], c["messages"], "no message stored");
    assert_eq!(after["status"], "open", "not taken over");
    app.finish().await;

    // With an account, a reply longer than an SMS may be is refused too.
    let s = setup().await;
    let id = sms_conversation(&s.app).await;
    let r = human_reply(&s.app, &id, &"a".repeat(1601)).await;
    assert_eq!((r.status, r.code()), (400, "invalid_message"), "{}", r.body);
    assert_eq!(
        conversations(&s.app).await[0]["messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A chat conversation has no channel to deliver on: nothing is queued.
    let chat = s
        .app
        .post(
            "/v1/conversations",
            s.app.key(Role::Agent),
            &json!({"channel": "chat"}),
        )
        .await;
    let r = human_reply(&s.app, chat.body["id"].as_str().unwrap(), "hi").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("delivery").is_none(), "{}", r.body);
    assert_eq!(
        s.app.get("/v1/outbox", s.app.key(Role::Viewer)).await.body["items"],
        json!([])
    );
    assert_eq!(twilio.hits(), 0);
    s.app.finish().await;
}

#[tokio::test]
async fn a_queued_delivery_survives_a_restart() {
    for db in hc_store::testing::all().await {
        let label = db.label;
        // A process that only queues (its worker is off) takes the reply, then stops.
        let s = setup_on(db, false).await;
        let id = sms_conversation(&s.app).await;
        let r = human_reply(&s.app, &id, "Sorry for the wait!").await;
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stats = s.app.get("/v1/stats", s.app.key(Role::Viewer)).await.body;
        assert_eq!(stats["outbox"]["pending"], 1, "{label}");
        assert_eq!(s.twilio.hits(), 0, "{label}: nothing sent yet");
        let (twilio, _postmark) = (s.twilio.clone(), s.postmark.clone());
        let mut config = channel_config(&twilio.base(), "http://127.0.0.1:9");
        config.outbox.enabled = true;
        let db = s.app.stop().await;

        // A new process on the same database delivers it.
        let app = spawn_app_on(db, config).await;
        let sent = twilio.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(sent.len(), 1, "{label}: delivered after the restart");
        assert_eq!(sent[0].body["Body"], "Sorry for the wait!");
        assert_eq!(sent[0].body["To"], CUSTOMER);
        let items = settled(&app, app.key(Role::Viewer)).await;
        assert_eq!(items[0]["status"], "delivered", "{label}");
        assert_eq!(items[0]["attempts"], 1, "{label}");
        app.finish().await;
    }
}
