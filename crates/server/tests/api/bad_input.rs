//! Bad input gets a clear structured error, changes nothing, and the server
//! keeps serving.

use hc_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app};

async fn raw(app: &TestApp, path: &str, body: Vec<u8>) -> Reply {
    app.send(
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(app.key(Role::Owner))
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

#[tokio::test]
async fn malformed_wrong_missing_unknown_oversized_and_hostile_input_is_refused_without_effect() {
    let app = spawn_app().await;
    let before = app.export().await;
    let audit_before = app.audit_count().await;
    let cancel = "/v1/tools/cancel_pending_order";

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "truncated json",
            br##"{"order_id": "#W0000001", "reason": "##.to_vec(),
            400,
            "invalid_json",
        ),
        (
            "not json",
            b"order_id=#W0000001".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "array instead of object",
            b"[1,2]".to_vec(),
            400,
            "invalid_arguments",
        ),
        (
            "wrong type",
            br##"{"order_id": 1, "reason": "no longer needed"}"##.to_vec(),
            400,
            "invalid_arguments",
        ),
        (
            "missing field",
            br##"{"order_id": "#W0000001"}"##.to_vec(),
            400,
            "invalid_arguments",
        ),
        (
            "unknown field",
            br##"{"order_id": "#W0000001", "reason": "no longer needed", "force": true}"##.to_vec(),
            400,
            "invalid_arguments",
        ),
        (
            "sql in id",
            br##"{"order_id": "#W0000001' or '1'='1", "reason": "no longer needed"}"##.to_vec(),
            404,
            "order_not_found",
        ),
        (
            "control chars in id",
            b"{\"order_id\": \"#W000\\u0000001\", \"reason\": \"no longer needed\"}".to_vec(),
            400,
            "invalid_arguments",
        ),
        (
            "very long id",
            format!(
                r#"{{"order_id": "{}", "reason": "no longer needed"}}"#,
                "9".repeat(5000)
            )
            .into_bytes(),
            400,
            "invalid_arguments",
        ),
        (
            "very long reason",
            format!(
                r##"{{"order_id": "#W0000001", "reason": "{}"}}"##,
                "x".repeat(10_000)
            )
            .into_bytes(),
            400,
            "invalid_arguments",
        ),
        (
            "invalid utf-8",
            b"{\"order_id\": \"#W\xff\xfe\", \"reason\": \"no longer needed\"}".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "bad reason",
            br##"{"order_id": "#W0000001", "reason": "'; drop table orders; --"}"##.to_vec(),
            422,
            "invalid_reason",
        ),
    ];
    for (what, body, status, code) in cases {
        let r = raw(&app, cancel, body).await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: message"
        );
    }

    let huge = format!(r#"{{"summary": "{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let r = raw(
        &app,
        "/v1/tools/transfer_to_human_agents",
        huge.into_bytes(),
    )
    .await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));

    let r = raw(&app, "/v1/tools/drop_all_tables", b"{}".to_vec()).await;
    assert_eq!((r.status, r.code()), (404, "unknown_tool"));
    let r = raw(
        &app,
        "/v1/products",
        br#"{"name": "X", "product_id": "5", "variants": {}}"#.to_vec(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_arguments"),
        "{}",
        r.body
    );
    let r = raw(&app, "/v1/products", br#"{"name": "X", "product_id": "5", "variants": {"6": {"item_id": "6", "options": {}, "available": true, "price": 1.005}}}"#.to_vec()).await;
    assert_eq!(r.status, 400, "sub-cent prices are refused: {}", r.body);
    let r = app
        .get(
            "/v1/orders/%23W0000001%27%3B%20drop%20table%20orders",
            app.key(Role::Owner),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app.get("/nowhere", app.key(Role::Owner)).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app
        .send(
            app.client
                .delete(format!("{}/v1/tools", app.base))
                .bearer_auth(app.key(Role::Owner)),
        )
        .await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));

    assert_eq!(app.export().await, before, "nothing changed");
    assert_eq!(app.audit_count().await, audit_before, "nothing was written");
    let health = app
        .send(app.client.get(format!("{}/healthz", app.base)))
        .await;
    assert_eq!(health.body, json!({"status": "ok"}));
    let still = app
        .tool("get_order_details", &json!({"order_id": "#W0000001"}))
        .await;
    assert_eq!(still.body["output"]["status"], Value::from("pending"));
    app.finish().await;
}

#[tokio::test]
async fn hostile_but_valid_text_is_stored_and_returned_verbatim() {
    let app = spawn_app().await;
    let nasty = "Robert'); DROP TABLE customers;-- ☃ \u{202e}evil";
    let args = json!({"user_id": "sam_lee_2", "address1": nasty, "address2": "%_\\", "city": "Zürich", "state": "ZH", "country": "CH", "zip": "8001"});
    let r = app.tool("modify_user_address", &args).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let u = app
        .get("/v1/customers/sam_lee_2", app.key(Role::Viewer))
        .await;
    assert_eq!(u.body["address"]["address1"], nasty);
    assert_eq!(u.body["address"]["address2"], "%_\\");
    assert_eq!(
        app.get("/v1/customers?limit=10", app.key(Role::Viewer))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.finish().await;
}
