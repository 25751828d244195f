//! Idempotency, audit, catalog writes, documentation and metrics.

use hc_domain::Role;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_retried_write_with_the_same_idempotency_key_acts_once() {
    let app = spawn_app().await;
    let url = format!("{}/v1/tools/modify_pending_order_payment", app.base);
    let body = json!({"order_id": "#W0000001", "payment_method_id": "credit_card_1"});
    let send = |b: serde_json::Value, key: &str| {
        app.client
            .post(&url)
            .bearer_auth(app.key(Role::Agent))
            .header("idempotency-key", key)
            .json(&b)
    };
    let first = app.send(send(body.clone(), "retry-1")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = app.send(send(body.clone(), "retry-1")).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    let order = app
        .tool("get_order_details", &json!({"order_id": "#W0000001"}))
        .await;
    assert_eq!(
        order.body["output"]["payment_history"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "acted once"
    );
    // Same key, different request: refused.
    let other = app
        .send(send(
            json!({"order_id": "#W0000001", "payment_method_id": "gift_card_1"}),
            "retry-1",
        ))
        .await;
    assert_eq!(
        (other.status, other.code()),
        (422, "idempotency_key_reused")
    );
    // Without the key the same request runs again (and fails the rule).
    let again = app
        .post(
            "/v1/tools/modify_pending_order_payment",
            app.key(Role::Agent),
            &body,
        )
        .await;
    assert_eq!(again.code(), "payment_history_not_single");
    app.finish().await;
}

#[tokio::test]
async fn every_write_leaves_an_audit_record_naming_who_what_and_which() {
    let app = spawn_app().await;
    let agent = app.key(Role::Agent);
    let before = app.audit_count().await;
    let r = app
        .post(
            "/v1/tools/cancel_pending_order",
            agent,
            &json!({"order_id": "#W0000001", "reason": "ordered by mistake"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let failed = app
        .post(
            "/v1/tools/cancel_pending_order",
            agent,
            &json!({"order_id": "#W0000002", "reason": "ordered by mistake"}),
        )
        .await;
    assert_eq!(failed.code(), "order_not_pending");
    let r = app.post("/v1/tools/modify_user_address", agent, &json!({"user_id": "sam_lee_2", "address1": "9 Pine", "address2": "", "city": "Boise", "state": "ID", "country": "USA", "zip": "83702"})).await;
    assert_eq!(r.status, 200);
    let audit = app.get("/v1/audit", app.key(Role::Owner)).await;
    let items = audit.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        before + 2,
        "failed writes change nothing and are not audited as done"
    );
    let keys = app.get("/v1/keys", app.key(Role::Owner)).await;
    let agent_id = keys.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "agent")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(items[0]["action"], "tool.modify_user_address");
    assert_eq!(items[0]["target"], "user:sam_lee_2");
    assert_eq!(items[0]["actor"], format!("key:{agent_id}"));
    assert!(items[0]["at_ms"].as_i64().unwrap() > 0);
    assert_eq!(items[1]["action"], "tool.cancel_pending_order");
    assert_eq!(items[1]["target"], "order:#W0000001");
    app.finish().await;
}

#[tokio::test]
async fn products_are_created_validated_and_replaced() {
    let app = spawn_app().await;
    let m = app.key(Role::Manager);
    let mug = json!({"name": "Mug", "product_id": "3000000001", "category": "kitchen",
        "variants": {"3000000002": {"item_id": "3000000002", "options": {"color": "white"}, "available": true, "price": 9.5, "cost": 3.1, "stock": 12}}});
    assert_eq!(app.post("/v1/products", m, &mug).await.status, 201);
    let dup = app.post("/v1/products", m, &mug).await;
    assert_eq!((dup.status, dup.code()), (409, "already_exists"));
    let mut stolen = mug.clone();
    stolen["product_id"] = json!("3000000009");
    stolen["variants"] = json!({"2000000001": {"item_id": "2000000001", "options": {}, "available": true, "price": 1.0}});
    assert_eq!(
        app.post("/v1/products", m, &stolen).await.code(),
        "already_exists",
        "item ids belong to one product"
    );
    let mut cheaper = mug.clone();
    cheaper["variants"]["3000000002"]["price"] = json!(8.25);
    let r = app
        .send(
            app.client
                .put(format!("{}/v1/products/3000000001", app.base))
                .bearer_auth(m)
                .json(&cheaper),
        )
        .await;
    assert_eq!(r.status, 200);
    let got = app.get("/v1/products/3000000001", m).await;
    assert_eq!(got.body["variants"]["3000000002"]["price"], 8.25);
    assert_eq!(got.body["variants"]["3000000002"]["stock"], 12);
    let r = app
        .send(
            app.client
                .put(format!("{}/v1/products/9999999999", app.base))
                .bearer_auth(m)
                .json(&cheaper),
        )
        .await;
    assert_eq!(r.code(), "id_mismatch");
    let searched = app.get("/v1/products?q=MUG", m).await;
    assert_eq!(searched.body["items"].as_array().unwrap().len(), 1);
    app.finish().await;
}

#[tokio::test]
async fn lists_paginate_and_search_over_http() {
    let app = spawn_app().await;
    let v = app.key(Role::Viewer);
    let first = app.get("/v1/orders?limit=2", v).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = app
        .get(
            &format!("/v1/orders?limit=2&after={}", cursor.replace('#', "%23")),
            v,
        )
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    let r = app.get("/v1/customers?email=SAM@example.com", v).await;
    assert_eq!(r.body["items"][0]["user_id"], "sam_lee_2");
    let r = app.get("/v1/customers?name=mull", v).await;
    assert_eq!(r.body["items"][0]["user_id"], "zoe_muller_1");
    let r = app.get("/v1/orders?status=return%20requested", v).await;
    assert!(r.body["items"].as_array().unwrap().is_empty());
    let r = app.get("/v1/orders?status=shipped", v).await;
    assert_eq!((r.status, r.code()), (400, "invalid_status"));
    let r = app.get("/v1/orders?colour=red", v).await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    app.finish().await;
}

#[tokio::test]
async fn tools_are_listed_as_json_schema_functions() {
    let app = spawn_app().await;
    let r = app.get("/v1/tools", app.key(Role::Viewer)).await;
    let tools = r.body["tools"].as_array().unwrap();
    let names: Vec<&str> = tools
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    for required in [
        "find_user_id_by_email",
        "find_user_id_by_name_zip",
        "get_user_details",
        "get_order_details",
        "get_product_details",
        "get_item_details",
        "list_all_product_types",
        "calculate",
        "transfer_to_human_agents",
        "cancel_pending_order",
        "modify_pending_order_address",
        "modify_pending_order_payment",
        "modify_pending_order_items",
        "exchange_delivered_order_items",
        "return_delivered_order_items",
        "modify_user_address",
    ] {
        assert!(names.contains(&required), "{required} missing");
    }
    let cancel = tools
        .iter()
        .find(|t| t["function"]["name"] == "cancel_pending_order")
        .unwrap();
    assert_eq!(cancel["type"], "function");
    assert_eq!(
        cancel["function"]["parameters"]["required"],
        json!(["order_id", "reason"])
    );
    assert!(
        r.body["write_tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "cancel_pending_order")
    );
    app.finish().await;
}

#[tokio::test]
async fn openapi_docs_and_metrics_are_served_without_a_cdn() {
    let app = spawn_app().await;
    let spec = app
        .send(app.client.get(format!("{}/openapi.json", app.base)))
        .await;
    assert_eq!(spec.status, 200);
    for path in [
        "/v1/tools/{name}",
        "/v1/orders/{order_id}",
        "/v1/products",
        "/v1/keys",
        "/v1/audit",
        "/healthz",
    ] {
        assert!(
            spec.body["paths"].get(path).is_some(),
            "{path} not documented"
        );
    }
    let page = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("swagger-ui"),
        "the reference page is Swagger UI"
    );
    assert!(!html.contains("https://"), "no assets from a CDN");
    let bundle = app
        .client
        .get(format!("{}/docs/swagger-ui-bundle.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200, "assets are compiled in");
    app.get("/v1/orders", app.key(Role::Viewer)).await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("hc_http_requests_total"));
    assert!(
        app.send(app.client.get(format!("{}/readyz", app.base)))
            .await
            .status
            == 200
    );
    app.finish().await;
}
