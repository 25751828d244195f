//! The agent over HTTP: scripted multi-turn conversations on the fixture
//! store, the policy gate, escalation, and bad input.

use std::sync::Arc;

use hc_agent::gate::{Gate, fingerprint};
use hc_agent::state::DialogueState;
use hc_commerce::Actor;
use hc_domain::{Role, TenantId, UserId};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

pub async fn open(app: &TestApp) -> String {
    let r = app
        .post(
            "/v1/conversations",
            app.key(Role::Agent),
            &json!({"channel": "chat"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

pub async fn say(app: &TestApp, id: &str, text: &str) -> Value {
    let r = app
        .post(
            &format!("/v1/conversations/{id}/messages"),
            app.key(Role::Agent),
            &json!({"text": text}),
        )
        .await;
    assert_eq!(r.status, 200, "{text}: {}", r.body);
    r.body
}

pub fn reply(turn: &Value) -> String {
    turn["reply"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase()
}

pub async fn order_status(app: &TestApp, id: &str) -> String {
    app.tool("get_order_details", &json!({"order_id": id}))
        .await
        .body["output"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_shopper_is_identified_asked_to_confirm_and_then_the_order_is_cancelled() {
    let app = spawn_app().await;
    let c = open(&app).await;
    let t = say(&app, &c, "Hi, I'd like to cancel my order please").await;
    assert!(
        reply(&t).contains("email"),
        "asks to identify first: {}",
        reply(&t)
    );
    assert!(
        t["tool_calls"].as_array().unwrap().is_empty(),
        "no account data before authentication"
    );
    let t = say(&app, &c, "sure, it's Zoe.Muller@example.com").await;
    assert!(
        reply(&t).contains("why") || reply(&t).contains("reason"),
        "asks the reason: {}",
        reply(&t)
    );
    assert!(
        reply(&t).contains("#w0000001"),
        "picked the only pending order: {}",
        reply(&t)
    );
    let t = say(&app, &c, "I don't need it anymore").await;
    assert!(
        reply(&t).contains("to confirm") && reply(&t).contains("no longer needed"),
        "{}",
        reply(&t)
    );
    assert_eq!(
        order_status(&app, "#W0000001").await,
        "pending",
        "nothing changes before yes"
    );
    let t = say(&app, &c, "yes").await;
    assert!(reply(&t).contains("cancelled"), "{}", reply(&t));
    let call = t["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cancel_pending_order")
        .unwrap();
    assert_eq!(
        call["arguments"],
        json!({"order_id": "#W0000001", "reason": "no longer needed"})
    );
    assert!(call["error"].is_null());
    assert_eq!(order_status(&app, "#W0000001").await, "cancelled");
    let transcript = app
        .get(&format!("/v1/conversations/{c}"), app.key(Role::Viewer))
        .await;
    assert_eq!(transcript.body["customer"], "zoe_muller_1");
    assert_eq!(transcript.body["messages"].as_array().unwrap().len(), 8);
    assert_eq!(transcript.body["messages"][0]["intent"], "cancel_order");
    app.finish().await;
}

#[tokio::test]
async fn saying_no_to_the_proposal_changes_nothing() {
    let app = spawn_app().await;
    let c = open(&app).await;
    say(&app, &c, "my email is zoe.muller@example.com").await;
    let t = say(
        &app,
        &c,
        "please cancel order #W0000001, I ordered it by mistake",
    )
    .await;
    assert!(reply(&t).contains("to confirm"), "{}", reply(&t));
    let t = say(&app, &c, "no").await;
    assert!(reply(&t).contains("haven't changed"), "{}", reply(&t));
    assert_eq!(order_status(&app, "#W0000001").await, "pending");
    app.finish().await;
}

#[tokio::test]
async fn another_customers_order_is_indistinguishable_from_a_missing_one() {
    let app = spawn_app().await;
    let c = open(&app).await;
    say(&app, &c, "hello, this is zoe.muller@example.com").await;
    let t = say(&app, &c, "what's the status of order #W0000003?").await;
    assert!(reply(&t).contains("couldn't find"), "{}", reply(&t));
    assert!(
        !reply(&t).contains("t-shirt"),
        "nothing about Sam's order leaks"
    );
    let t = say(&app, &c, "cancel #W0000003, no longer needed").await;
    assert!(!reply(&t).contains("to confirm"));
    app.finish().await;
}

#[tokio::test]
async fn asking_for_a_human_escalates_with_a_summary() {
    let app = spawn_app().await;
    let c = open(&app).await;
    say(&app, &c, "my email is sam@example.com").await;
    let t = say(&app, &c, "I want to talk to a real person").await;
    assert_eq!(t["status"], "escalated");
    let conv = app
        .get(&format!("/v1/conversations/{c}"), app.key(Role::Viewer))
        .await;
    let summary = conv.body["escalation"]["summary"].as_str().unwrap();
    assert!(summary.contains("sam_lee_2"), "{summary}");
    assert!(summary.contains("real person"), "{summary}");
    // While escalated the AI stays silent; the message is still stored.
    let t = say(&app, &c, "hello?").await;
    assert!(t["tool_calls"].as_array().unwrap().is_empty());
    let conv = app
        .get(&format!("/v1/conversations/{c}"), app.key(Role::Viewer))
        .await;
    assert_eq!(conv.body["messages"].as_array().unwrap().len(), 5);
    let inbox = app
        .get("/v1/conversations?status=escalated", app.key(Role::Viewer))
        .await;
    assert_eq!(inbox.body["items"][0]["id"], c.as_str());
    app.finish().await;
}

#[tokio::test]
async fn bad_messages_are_refused_and_concurrent_ones_all_kept_in_order() {
    let app = spawn_app().await;
    let c = open(&app).await;
    let url = format!("/v1/conversations/{c}/messages");
    let agent = app.key(Role::Agent).to_string();
    let r = app.post(&url, &agent, &json!({"text": "   "})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_message"));
    let r = app
        .post(&url, &agent, &json!({"text": "x".repeat(5000)}))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_message"));
    let r = app.post(&url, &agent, &json!({"txt": "hi"})).await;
    assert_eq!(r.status, 400);
    let r = app
        .post(
            "/v1/conversations/conv_nope/messages",
            &agent,
            &json!({"text": "hi"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "conversation_not_found"));
    let r = app
        .post(&url, app.key(Role::Viewer), &json!({"text": "hi"}))
        .await;
    assert_eq!(r.status, 403);
    let r = app.post(&url, &app.other_key, &json!({"text": "hi"})).await;
    assert_eq!(r.status, 404, "another tenant cannot see the conversation");

    let mut tasks = Vec::new();
    for i in 0..10 {
        let (client, base, key, url) = (
            app.client.clone(),
            app.base.clone(),
            agent.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("{base}{url}"))
                .bearer_auth(key)
                .json(&json!({"text": format!("hello number {i} \u{202e}<script>")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let conv = app
        .get(&format!("/v1/conversations/{c}"), app.key(Role::Viewer))
        .await;
    let messages = conv.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 20, "every message and reply kept");
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m["seq"], i as i64 + 1);
        let expected = if i % 2 == 0 { "customer" } else { "agent" };
        assert_eq!(m["author"], expected, "turns never interleave");
    }
    app.finish().await;
}

#[tokio::test]
async fn the_gate_refuses_unconfirmed_writes_and_foreign_records_whichever_brain_asks() {
    let app = spawn_app().await;
    let tools = app.tools();
    let actor = Actor::new(TenantId::parse("shop").unwrap(), "agent:test");
    let mut state = DialogueState::default();
    let cancel = json!({"order_id": "#W0000001", "reason": "no longer needed"});
    {
        let mut gate = Gate::new(&tools, actor.clone(), &mut state);
        let e = gate
            .call("get_order_details", json!({"order_id": "#W0000001"}), 0.9)
            .await
            .unwrap_err();
        assert_eq!(e.code, "authentication_required");
        gate.call(
            "find_user_id_by_email",
            json!({"email": "zoe.muller@example.com"}),
            0.9,
        )
        .await
        .unwrap();
        let e = gate
            .call("cancel_pending_order", cancel.clone(), 0.9)
            .await
            .unwrap_err();
        assert_eq!(
            e.code, "confirmation_required",
            "a brain cannot skip the customer's yes"
        );
        let e = gate
            .call("get_order_details", json!({"order_id": "#W0000003"}), 0.9)
            .await
            .unwrap_err();
        assert_eq!(e.code, "order_not_found", "Sam's order");
        let e = gate
            .call("get_user_details", json!({"user_id": "sam_lee_2"}), 0.9)
            .await
            .unwrap_err();
        assert_eq!(e.code, "user_not_found");
        let e = gate
            .call(
                "find_user_id_by_email",
                json!({"email": "sam@example.com"}),
                0.9,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "one_customer_per_conversation");
        assert_eq!(gate.into_calls().len(), 6, "refusals are recorded too");
    }
    assert_eq!(state.customer, Some(UserId::parse("zoe_muller_1").unwrap()));
    assert_eq!(order_status(&app, "#W0000001").await, "pending");
    // A confirmation authorises exactly one matching call.
    state.confirmed = vec![fingerprint(
        "cancel_pending_order",
        &json!({"order_id": "#W0000001", "reason": "ordered by mistake"}),
    )];
    let mut gate = Gate::new(&tools, actor, &mut state);
    let e = gate
        .call("cancel_pending_order", cancel.clone(), 0.9)
        .await
        .unwrap_err();
    assert_eq!(
        e.code, "confirmation_required",
        "confirmed a different reason"
    );
    gate.state_mut().confirmed = vec![fingerprint("cancel_pending_order", &cancel)];
    gate.call("cancel_pending_order", cancel.clone(), 0.9)
        .await
        .unwrap();
    assert_eq!(order_status(&app, "#W0000001").await, "cancelled");
    app.finish().await;
}

#[tokio::test]
async fn an_exchange_is_collected_across_turns_stated_with_the_price_difference_and_done_on_yes() {
    let app = spawn_app().await;
    let c = open(&app).await;
    let t = say(
        &app,
        &c,
        "I'd like to exchange my water bottle for the 1L one",
    )
    .await;
    assert!(reply(&t).contains("email"), "{}", reply(&t));
    let t = say(&app, &c, "zoe.muller@example.com").await;
    assert!(reply(&t).contains("to confirm"), "{}", reply(&t));
    assert!(
        reply(&t).contains("water bottle (1l)"),
        "names the new variant: {}",
        reply(&t)
    );
    assert!(
        reply(&t).contains("$4.54"),
        "states the difference: {}",
        reply(&t)
    );
    assert!(reply(&t).contains("visa card ending 4242"), "{}", reply(&t));
    assert_eq!(order_status(&app, "#W0000002").await, "delivered");
    let t = say(&app, &c, "yes please").await;
    assert!(reply(&t).contains("exchange"), "{}", reply(&t));
    let o = app
        .tool("get_order_details", &json!({"order_id": "#W0000002"}))
        .await
        .body["output"]
        .clone();
    assert_eq!(o["status"], "exchange requested");
    assert_eq!(o["exchange_new_items"], json!(["2000000012"]));
    assert_eq!(o["exchange_price_difference"], 4.54);
    app.finish().await;
}

#[tokio::test]
async fn a_return_goes_to_the_gift_card_the_customer_names() {
    let app = spawn_app().await;
    let c = open(&app).await;
    say(&app, &c, "hi, zoe.muller@example.com here").await;
    let t = say(
        &app,
        &c,
        "I want to return the water bottle and get the refund on my gift card",
    )
    .await;
    assert!(
        reply(&t).contains("to confirm") && reply(&t).contains("gift card"),
        "{}",
        reply(&t)
    );
    let t = say(&app, &c, "yes").await;
    assert!(reply(&t).contains("return"), "{}", reply(&t));
    let o = app
        .tool("get_order_details", &json!({"order_id": "#W0000002"}))
        .await
        .body["output"]
        .clone();
    assert_eq!(o["status"], "return requested");
    assert_eq!(o["return_payment_method_id"], "gift_card_1");
    app.finish().await;
}

#[tokio::test]
async fn a_pending_order_gets_a_new_address_after_confirmation() {
    let app = spawn_app().await;
    let c = open(&app).await;
    say(&app, &c, "my email is zoe.muller@example.com").await;
    let t = say(
        &app,
        &c,
        "please ship order #W0000001 to 9 Elm Road, Denver, CO 80202 instead",
    )
    .await;
    assert!(
        reply(&t).contains("9 elm road, denver, co 80202"),
        "{}",
        reply(&t)
    );
    say(&app, &c, "yes").await;
    let o = app
        .tool("get_order_details", &json!({"order_id": "#W0000001"}))
        .await
        .body["output"]
        .clone();
    assert_eq!(o["address"]["address1"], "9 Elm Road");
    assert_eq!(o["address"]["city"], "Denver");
    assert_eq!(o["address"]["zip"], "80202");
    app.finish().await;
}

#[tokio::test]
async fn a_delivered_order_cannot_be_cancelled_and_the_agent_says_why() {
    let app = spawn_app().await;
    let c = open(&app).await;
    say(&app, &c, "zoe.muller@example.com").await;
    let t = say(&app, &c, "cancel order #W0000002 please").await;
    assert!(
        reply(&t).contains("delivered") && reply(&t).contains("return"),
        "{}",
        reply(&t)
    );
    assert!(!reply(&t).contains("to confirm"));
    assert_eq!(order_status(&app, "#W0000002").await, "delivered");
    app.finish().await;
}

/// A local HTTP endpoint that records the webhook bodies it receives.
async fn webhook_receiver() -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::routing::post;
    let seen: Arc<std::sync::Mutex<Vec<Value>>> = Arc::default();
    let sink = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn a_human_takes_over_from_the_inbox_hands_back_and_closes_and_stats_and_webhooks_follow() {
    let (hook, seen) = webhook_receiver().await;
    let mut cfg = crate::helpers::config();
    cfg.webhook_url = Some(hook);
    let app = crate::helpers::spawn_app_with(
        hc_store::testing::sqlite().await,
        cfg,
        crate::helpers::MINI_DB,
    )
    .await;
    let agent = app.key(Role::Agent).to_string();
    let c = open(&app).await;
    say(&app, &c, "sam@example.com").await;
    say(&app, &c, "can I speak to a human agent?").await;

    let inbox = app.get("/v1/inbox", &agent).await;
    let item = &inbox.body["items"][0];
    assert_eq!(item["id"], c.as_str());
    assert!(
        item["escalation"]["summary"]
            .as_str()
            .unwrap()
            .contains("sam_lee_2")
    );
    let r = app
        .post(
            &format!("/v1/conversations/{c}/human-reply"),
            &agent,
            &json!({"text": "Hi Sam, Alex here. How can I help?"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            &format!("/v1/conversations/{c}/hand-back"),
            &agent,
            &json!({}),
        )
        .await;
    assert_eq!(r.body["status"], "open");
    let t = say(&app, &c, "what's the status of order #W0000003?").await;
    assert!(
        reply(&t).contains("cancelled"),
        "the AI is back: {}",
        reply(&t)
    );
    let r = app
        .post(
            &format!("/v1/conversations/{c}/hand-back"),
            &agent,
            &json!({}),
        )
        .await;
    assert_eq!(
        r.status, 400,
        "only escalated conversations can be handed back"
    );
    let r = app
        .post(
            &format!("/v1/conversations/{c}/close"),
            &agent,
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.body["status"], "resolved");
    let r = app
        .post(
            &format!("/v1/conversations/{c}/messages"),
            &agent,
            &json!({"text": "hello again"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "conversation_closed"));

    let transcript = app
        .get(&format!("/v1/conversations/{c}"), app.key(Role::Viewer))
        .await;
    let authors: Vec<&str> = transcript.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(
        authors,
        [
            "customer", "agent", "customer", "agent", "human", "system", "customer", "agent"
        ]
    );

    // A second conversation resolved by the AI with a rating.
    let d = open(&app).await;
    say(&app, &d, "thanks, bye").await;
    say(&app, &d, "4").await;
    let stats = app.get("/v1/stats", app.key(Role::Viewer)).await.body;
    assert_eq!(stats["conversations"], 2);
    assert_eq!(stats["resolved"], 2);
    assert_eq!(
        stats["resolved_by_ai_rate"], 0.5,
        "one of two needed a human"
    );
    assert_eq!(stats["csat"], 4.0);
    assert!(stats["avg_first_response_ms"].as_f64().is_some());

    for _ in 0..50 {
        if seen.lock().unwrap().len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let events: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        [
            "conversation.escalated",
            "conversation.handed_back",
            "conversation.resolved",
            "conversation.resolved"
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn the_public_widget_chats_without_a_key_and_shows_no_tool_internals() {
    let app = spawn_app().await;
    let js = app
        .client
        .get(format!("{}/widget.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let js = js.text().await.unwrap();
    assert!(
        js.contains("aria-live") && js.contains("role\", \"dialog\""),
        "accessible markup"
    );
    assert!(
        !js.contains("innerHTML = text") && js.contains("textContent = text"),
        "replies are never HTML"
    );

    let base = format!("{}/widget/v1/shop/conversations", app.base);
    let opened: Value = app
        .client
        .post(&base)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = opened["id"].as_str().unwrap().to_string();
    assert!(
        id.starts_with("conv_") && id.len() == 37,
        "128 random bits: {id}"
    );
    // The greeting speaks in the tenant's voice (its display name by default).
    let greeting = opened["greeting"].as_str().unwrap();
    assert!(greeting.starts_with("Hi! Welcome to shop."), "{greeting}");
    let send = |text: &str| {
        app.client
            .post(format!("{base}/{id}/messages"))
            .json(&json!({"text": text}))
            .send()
    };
    let r: Value = send("my email is zoe.muller@example.com")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        r["reply"].as_str().unwrap().contains("found your account"),
        "{r}"
    );
    assert!(r.get("tool_calls").is_none(), "shoppers see replies only");
    let lines: Value = app
        .client
        .get(format!("{base}/{id}/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lines.as_array().unwrap().len(), 2);
    assert_eq!(lines[0]["from"], "you");

    let r = app
        .client
        .post(format!("{}/widget/v1/nope/conversations", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .post(format!("{base}/conv_guessed/messages"))
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The widget endpoints cannot reach another tenant's conversation.
    let other = app
        .client
        .get(format!(
            "{}/widget/v1/other/conversations/{id}/messages",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    app.finish().await;
}

#[tokio::test]
async fn the_websocket_carries_turns_and_pushes_a_humans_reply() {
    use tokio_tungstenite::tungstenite::Message as Frame;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let c = open(&app).await;
    let url = format!(
        "{}/v1/conversations/{c}/ws",
        app.base.replace("http://", "ws://")
    );
    let mut request = url.clone().into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", app.key(Role::Agent)).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();

    use futures_util::{SinkExt, StreamExt};
    ws.send(Frame::text(
        r#"{"text": "hello, zoe.muller@example.com here"}"#,
    ))
    .await
    .unwrap();
    // The reply's text comes first as delta frames, then the whole turn.
    let mut streamed = String::new();
    let frame: Value = loop {
        let f: Value =
            serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
        if f["type"] != "delta" {
            break f;
        }
        streamed.push_str(f["text"].as_str().unwrap());
    };
    assert_eq!(frame["type"], "turn");
    assert_eq!(frame["reply"]["text"], streamed.as_str());
    assert!(
        frame["reply"]["text"]
            .as_str()
            .unwrap()
            .contains("found your account"),
        "{frame}"
    );
    assert_eq!(frame["tool_calls"][0]["name"], "find_user_id_by_email");

    let r = app
        .post(
            &format!("/v1/conversations/{c}/human-reply"),
            app.key(Role::Agent),
            &json!({"text": "Hi Zoe, Alex here."}),
        )
        .await;
    assert_eq!(r.status, 200);
    let mut pushed = Vec::new();
    for _ in 0..2 {
        let f = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        pushed.push(serde_json::from_str::<Value>(f.to_text().unwrap()).unwrap());
    }
    let human = pushed
        .iter()
        .find(|e| e["event"] == "message.human")
        .expect("human reply pushed");
    assert_eq!(human["message"]["text"], "Hi Zoe, Alex here.");
    assert!(
        pushed
            .iter()
            .any(|e| e["event"] == "conversation.escalated")
    );

    ws.send(Frame::binary(vec![0u8, 159, 146, 150]))
        .await
        .unwrap();
    let err: Value =
        serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(err["error"]["code"], "invalid_message");
    // Without a key there is no upgrade.
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
    app.finish().await;
}

#[tokio::test]
async fn idle_open_conversations_are_abandoned_and_active_ones_kept() {
    let app = spawn_app().await;
    let idle = open(&app).await;
    say(&app, &idle, "hello").await;
    let cutoff = hc_domain::now_ms() + 1;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let active = open(&app).await;
    say(&app, &active, "hello").await;
    let escalated = open(&app).await;
    say(&app, &escalated, "get me a human").await;
    let tools = app.tools();
    let agent = hc_agent::Agent::new(
        tools,
        Arc::new(app.db.store.clone()),
        hc_agent::nlu::Nlu::builtin(),
        hc_agent::Voice::default(),
    );
    let closed = agent
        .abandon_idle(&TenantId::parse("shop").unwrap(), cutoff)
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let status = |id: String| {
        let app = &app;
        async move {
            app.get(&format!("/v1/conversations/{id}"), app.key(Role::Viewer))
                .await
                .body["status"]
                .clone()
        }
    };
    assert_eq!(status(idle.clone()).await, "abandoned");
    assert_eq!(status(active).await, "open");
    assert_eq!(
        status(escalated).await,
        "escalated",
        "a human's queue is not swept"
    );
    let stats = app.get("/v1/stats", app.key(Role::Viewer)).await.body;
    assert_eq!(stats["abandoned"], 1);
    app.finish().await;
}

#[tokio::test]
async fn the_console_lists_conversations_and_shows_tool_calls_escaped() {
    let app = spawn_app().await;
    let c = open(&app).await;
    say(
        &app,
        &c,
        "<script>alert(1)</script> my email is zoe.muller@example.com",
    )
    .await;
    let r = app
        .client
        .get(format!("{}/console/conversations", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"),
        "the browser is asked for the key"
    );
    let list = app
        .client
        .get(format!("{}/console/conversations", app.base))
        .basic_auth("operator", Some(app.key(Role::Viewer)))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    assert!(html.contains(&c), "lists the conversation");
    let page = app
        .client
        .get(format!("{}/console/conversations/{c}", app.base))
        .basic_auth("operator", Some(app.key(Role::Viewer)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("find_user_id_by_email"),
        "shows the tool calls"
    );
    assert!(
        page.contains("&lt;script&gt;") && !page.contains("<script>alert"),
        "message text is escaped"
    );
    let other = app
        .client
        .get(format!("{}/console/conversations/{c}", app.base))
        .basic_auth("x", Some(&app.other_key))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "another tenant's key sees nothing");
    app.finish().await;
}

#[tokio::test]
async fn recommendations_come_from_orders_and_stay_private() {
    let app = spawn_app().await;
    let r = app
        .tool("recommend_products", &json!({"product_id": "1000000001"}))
        .await;
    let picks = r.body["output"].as_array().unwrap();
    assert_eq!(picks.len(), 1, "{}", r.body);
    assert_eq!(
        picks[0]["name"], "Water Bottle",
        "the anchor itself is never suggested"
    );
    assert_eq!(picks[0]["from_price"], 47.76, "cheapest available variant");
    let r = app
        .tool("recommend_products", &json!({"user_id": "sam_lee_2"}))
        .await;
    assert_eq!(
        r.body["output"][0]["name"], "Water Bottle",
        "Sam already has the T-Shirt"
    );

    // Inside a conversation, another customer's history is off limits.
    let tools = app.tools();
    let mut state = DialogueState::default();
    let mut gate = Gate::new(
        &tools,
        Actor::new(TenantId::parse("shop").unwrap(), "agent:t"),
        &mut state,
    );
    let e = gate
        .call("recommend_products", json!({"user_id": "sam_lee_2"}), 0.9)
        .await
        .unwrap_err();
    assert_eq!(e.code, "authentication_required");
    gate.call(
        "find_user_id_by_email",
        json!({"email": "zoe.muller@example.com"}),
        0.9,
    )
    .await
    .unwrap();
    let e = gate
        .call("recommend_products", json!({"user_id": "sam_lee_2"}), 0.9)
        .await
        .unwrap_err();
    assert_eq!(e.code, "user_not_found");
    assert!(
        gate.call("recommend_products", json!({"limit": 2}), 0.9)
            .await
            .is_ok(),
        "popular picks need no account"
    );

    let c = open(&app).await;
    let t = say(&app, &c, "can you recommend something?").await;
    assert!(reply(&t).contains("you might like"), "{}", reply(&t));
    app.finish().await;
}

#[tokio::test]
async fn a_shopper_buys_in_chat_after_choosing_payment_and_confirming() {
    let app = spawn_app().await;
    let c = open(&app).await;
    let t = say(&app, &c, "I'd like to buy a water bottle, the 1L one").await;
    assert!(reply(&t).contains("email"), "{}", reply(&t));
    let t = say(&app, &c, "zoe.muller@example.com").await;
    assert!(
        reply(&t).contains("how would you like to pay"),
        "{}",
        reply(&t)
    );
    let t = say(&app, &c, "with my visa").await;
    assert!(
        reply(&t).contains("to confirm")
            && reply(&t).contains("water bottle (1l)")
            && reply(&t).contains("$52.30"),
        "{}",
        reply(&t)
    );
    let before = app
        .tool("get_user_details", &json!({"user_id": "zoe_muller_1"}))
        .await
        .body["output"]["orders"]
        .as_array()
        .unwrap()
        .len();
    let t = say(&app, &c, "yes").await;
    assert!(reply(&t).contains("is placed"), "{}", reply(&t));
    let user = app
        .tool("get_user_details", &json!({"user_id": "zoe_muller_1"}))
        .await
        .body["output"]
        .clone();
    let orders = user["orders"].as_array().unwrap();
    assert_eq!(orders.len(), before + 1);
    let o = app
        .tool(
            "get_order_details",
            &json!({"order_id": orders.last().unwrap()}),
        )
        .await
        .body["output"]
        .clone();
    assert_eq!(o["status"], "pending");
    assert_eq!(o["items"][0]["item_id"], "2000000012");
    assert_eq!(
        o["payment_history"][0]["payment_method_id"],
        "credit_card_1"
    );
    app.finish().await;
}

#[tokio::test]
async fn two_requests_in_one_message_are_both_handled_one_after_the_other() {
    let app = spawn_app().await;
    let id = open(&app).await;
    let t = say(
        &app,
        &id,
        "Hi, I'm zoe.muller@example.com. Please cancel order #W0000001, I ordered it by mistake, and also can you track order #W0000002?",
    )
    .await;
    let r = reply(&t);
    assert!(r.contains("cancel order #w0000001"), "{r}");
    assert_eq!(order_status(&app, "#W0000001").await, "pending");
    let t = say(&app, &id, "yes").await;
    let r = reply(&t);
    assert!(r.contains("cancelled"), "{r}");
    assert!(r.contains("you also asked to track an order"), "{r}");
    assert!(
        r.contains("#w0000002"),
        "the second request is answered: {r}"
    );
    assert_eq!(order_status(&app, "#W0000001").await, "cancelled");
    let names: Vec<&str> = t["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"cancel_pending_order"), "{names:?}");
    assert!(names.contains(&"track_order"), "{names:?}");
    app.finish().await;
}
