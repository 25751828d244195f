//! Roles, tenant isolation, key revocation, rate limits.

use hc_domain::Role;
use serde_json::json;

use crate::helpers::{MINI_DB, config, spawn_app, spawn_app_with};

#[tokio::test]
async fn requests_without_a_valid_key_are_unauthorized() {
    let app = spawn_app().await;
    let r = app
        .send(app.client.get(format!("{}/v1/orders", app.base)))
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    for bad in [
        "hc_",
        "hc_notarealkeybutlongenoughtolooklikeone_xx",
        "Basic abc",
        "' or 1=1 --",
    ] {
        let r = app.get("/v1/orders", bad).await;
        assert_eq!(r.status, 401, "{bad}");
    }
    app.finish().await;
}

#[tokio::test]
async fn each_role_gets_exactly_its_rights() {
    let app = spawn_app().await;
    let cancel = json!({"order_id": "#W0000001", "reason": "no longer needed"});
    // Viewer: reads (including read tools), no writes.
    let viewer = app.key(Role::Viewer);
    assert_eq!(app.get("/v1/orders", viewer).await.status, 200);
    assert_eq!(
        app.post(
            "/v1/tools/get_order_details",
            viewer,
            &json!({"order_id": "#W0000001"})
        )
        .await
        .status,
        200
    );
    let r = app
        .post("/v1/tools/cancel_pending_order", viewer, &cancel)
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // Agent: runs write tools, cannot manage the catalog.
    let product = json!({"name": "Mug", "product_id": "3000000001", "variants": {"3000000002": {"item_id": "3000000002", "options": {"color": "white"}, "available": true, "price": 9.5}}});
    assert_eq!(
        app.post("/v1/products", app.key(Role::Agent), &product)
            .await
            .status,
        403
    );
    assert_eq!(
        app.post(
            "/v1/tools/cancel_pending_order",
            app.key(Role::Agent),
            &cancel
        )
        .await
        .status,
        200
    );
    // Manager: catalog, but not keys or audit.
    assert_eq!(
        app.post("/v1/products", app.key(Role::Manager), &product)
            .await
            .status,
        201
    );
    assert_eq!(
        app.post(
            "/v1/keys",
            app.key(Role::Manager),
            &json!({"role": "viewer"})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.get("/v1/audit", app.key(Role::Manager)).await.status,
        403
    );
    // Admin: keys up to admin, never owner.
    assert_eq!(
        app.post("/v1/keys", app.key(Role::Admin), &json!({"role": "viewer"}))
            .await
            .status,
        201
    );
    assert_eq!(
        app.post("/v1/keys", app.key(Role::Admin), &json!({"role": "owner"}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("/v1/keys", app.key(Role::Owner), &json!({"role": "owner"}))
            .await
            .status,
        201
    );
    app.finish().await;
}

#[tokio::test]
async fn a_key_of_another_tenant_sees_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    let other = app.other_key.clone();
    let before = app.export().await;
    assert_eq!(app.get("/v1/orders/%23W0000001", &other).await.status, 404);
    assert_eq!(
        app.get("/v1/customers/zoe_muller_1", &other).await.status,
        404
    );
    assert_eq!(app.get("/v1/products/1000000001", &other).await.status, 404);
    assert!(
        app.get("/v1/orders", &other).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = app
        .post(
            "/v1/tools/find_user_id_by_email",
            &other,
            &json!({"email": "sam@example.com"}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .post(
            "/v1/tools/cancel_pending_order",
            &other,
            &json!({"order_id": "#W0000001", "reason": "no longer needed"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "order_not_found"));
    let r = app.post("/v1/tools/modify_user_address", &other, &json!({"user_id": "zoe_muller_1", "address1": "x", "address2": "", "city": "x", "state": "x", "country": "x", "zip": "1"})).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.export().await, before);
    // The other tenant's audit log shows none of shop's history.
    let audit = app.get("/v1/audit", &other).await;
    assert!(audit.body["items"].as_array().unwrap().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = spawn_app().await;
    let owner = app.key(Role::Owner).to_string();
    let created = app
        .post(
            "/v1/keys",
            &owner,
            &json!({"role": "agent", "label": "temp"}),
        )
        .await;
    assert_eq!(created.status, 201);
    let secret = created.body["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("hc_") && secret.len() >= 35);
    let id = created.body["record"]["id"].as_str().unwrap().to_string();
    assert_eq!(app.get("/v1/orders", &secret).await.status, 200);
    let listed = app.get("/v1/keys", &owner).await;
    assert!(
        !listed.body.to_string().contains(&secret),
        "secrets are never listed"
    );
    let r = app
        .send(
            app.client
                .delete(format!("{}/v1/keys/{id}", app.base))
                .bearer_auth(&owner),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app.get("/v1/orders", &secret).await;
    assert_eq!(r.status, 401);
    // Another tenant cannot revoke shop's keys.
    let r = app
        .send(
            app.client
                .delete(format!("{}/v1/keys/{id}", app.base))
                .bearer_auth(&app.other_key),
        )
        .await;
    assert_eq!(r.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn over_the_limit_a_key_gets_429_with_retry_after() {
    let mut cfg = config();
    cfg.rate_limit_per_sec = 2;
    cfg.rate_limit_burst = 3;
    let app = spawn_app_with(hc_store::testing::sqlite().await, cfg, MINI_DB).await;
    let key = app.key(Role::Viewer).to_string();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = app.get("/healthz", &key).await; // health is not limited
        assert_eq!(r.status, 200);
        statuses.push(app.get("/v1/orders", &key).await);
    }
    let limited: Vec<_> = statuses.iter().filter(|r| r.status == 429).collect();
    assert!(!limited.is_empty(), "some requests must be limited");
    assert!(
        statuses.iter().take(3).all(|r| r.status == 200),
        "the burst is allowed"
    );
    let first = limited[0];
    assert_eq!(first.code(), "rate_limited");
    let retry: u64 = first.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry));
    // Limits are per key: another key is unaffected.
    assert_eq!(
        app.get("/v1/orders", app.key(Role::Agent)).await.status,
        200
    );
    app.finish().await;
}
