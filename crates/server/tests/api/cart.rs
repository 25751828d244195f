//! The shopping cart tools: add, remove, view, checkout (one transaction
//! that places the order and empties the cart), through the tool API and
//! through the conversation gate.

use hc_agent::gate::{Gate, fingerprint};
use hc_agent::state::DialogueState;
use hc_commerce::Actor;
use hc_domain::TenantId;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_cart_fills_merges_prices_and_checks_out_into_one_paid_order() {
    let app = spawn_app().await;
    let zoe = "zoe_muller_1";
    let r = app
        .tool(
            "add_to_cart",
            &json!({"user_id": zoe, "item_id": "2000000002", "quantity": 2}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .tool(
            "add_to_cart",
            &json!({"user_id": zoe, "item_id": "2000000002"}),
        )
        .await;
    assert_eq!(r.body["output"]["lines"][0]["quantity"], 3);
    let r = app
        .tool(
            "add_to_cart",
            &json!({"user_id": zoe, "item_id": "2000000011"}),
        )
        .await;
    let cart = &r.body["output"];
    assert_eq!(cart["lines"].as_array().unwrap().len(), 2);
    assert_eq!(cart["lines"][0]["name"], "T-Shirt");
    assert_eq!(cart["lines"][0]["line_total"], 140.55);
    assert_eq!(cart["subtotal"], 188.31);

    // Refusals change nothing.
    let before = app.tool("view_cart", &json!({"user_id": zoe})).await.body;
    for (args, code) in [
        (
            json!({"user_id": zoe, "item_id": "2000000003"}),
            "item_unavailable",
        ),
        (
            json!({"user_id": zoe, "item_id": "9999999999"}),
            "item_not_found",
        ),
        (
            json!({"user_id": zoe, "item_id": "2000000002", "quantity": 0}),
            "invalid_arguments",
        ),
        (
            json!({"user_id": zoe, "item_id": "2000000002", "quantity": 18}),
            "cart_full",
        ),
        (
            json!({"user_id": "nobody_1", "item_id": "2000000002"}),
            "user_not_found",
        ),
    ] {
        let r = app.tool("add_to_cart", &args).await;
        assert_eq!(r.code(), code, "{args}: {}", r.body);
    }
    assert_eq!(
        app.tool("view_cart", &json!({"user_id": zoe})).await.body,
        before
    );

    let r = app
        .tool(
            "remove_from_cart",
            &json!({"user_id": zoe, "item_id": "2000000002", "quantity": 1}),
        )
        .await;
    assert_eq!(r.body["output"]["lines"][0]["quantity"], 2);
    let r = app
        .tool(
            "remove_from_cart",
            &json!({"user_id": zoe, "item_id": "2000000012"}),
        )
        .await;
    assert_eq!(r.code(), "item_not_in_cart");

    // 2 × 46.85 + 47.76 = 141.46 > the 100 gift card: refused, cart kept.
    let r = app
        .tool(
            "checkout_cart",
            &json!({"user_id": zoe, "payment_method_id": "gift_card_1"}),
        )
        .await;
    assert_eq!(r.code(), "insufficient_gift_card_balance");
    let r = app
        .tool(
            "checkout_cart",
            &json!({"user_id": zoe, "payment_method_id": "credit_card_1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let order = &r.body["output"];
    assert_eq!(order["status"], "pending");
    assert_eq!(order["items"].as_array().unwrap().len(), 3);
    assert_eq!(order["payment_history"][0]["amount"], 141.46);
    let cart = app.tool("view_cart", &json!({"user_id": zoe})).await;
    assert_eq!(cart.body["output"]["lines"], json!([]));
    let r = app
        .tool(
            "checkout_cart",
            &json!({"user_id": zoe, "payment_method_id": "credit_card_1"}),
        )
        .await;
    assert_eq!(r.code(), "empty_cart");
    // The τ export has no cart field for an empty cart.
    assert!(app.export().await["users"][zoe].get("cart").is_none());
    app.finish().await;
}

#[tokio::test]
async fn in_a_conversation_adding_needs_identification_and_checkout_needs_a_yes() {
    let app = spawn_app().await;
    let tools = app.tools();
    let actor = Actor::new(TenantId::parse("shop").unwrap(), "agent:test");
    let mut state = DialogueState::default();
    let add = json!({"user_id": "zoe_muller_1", "item_id": "2000000011"});
    let checkout = json!({"user_id": "zoe_muller_1", "payment_method_id": "credit_card_1"});
    let mut gate = Gate::new(&tools, actor.clone(), &mut state);
    let e = gate
        .call("add_to_cart", add.clone(), 0.9)
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
    gate.call("add_to_cart", add, 0.9)
        .await
        .expect("no confirmation needed to add");
    let e = gate
        .call(
            "add_to_cart",
            json!({"user_id": "sam_lee_2", "item_id": "2000000011"}),
            0.9,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "user_not_found", "only the customer's own cart");
    let e = gate
        .call("checkout_cart", checkout.clone(), 0.9)
        .await
        .unwrap_err();
    assert_eq!(e.code, "confirmation_required");
    drop(gate);
    state.confirmed = vec![fingerprint("checkout_cart", &checkout)];
    let mut gate = Gate::new(&tools, actor, &mut state);
    let order = gate.call("checkout_cart", checkout, 0.9).await.unwrap();
    assert_eq!(order["items"][0]["item_id"], "2000000011");
    app.finish().await;
}
