//! Seeded random sequences of tool calls, valid and invalid, replayed through
//! `POST /v1/tools/{name}` and checked call by call and by final exported
//! state against the independent SPEC §5 oracle.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::{MINI_DB, TestApp, config, normalise, spawn_app_with};
use crate::oracle::Oracle;

const WRITE_TOOLS: [&str; 7] = [
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "exchange_delivered_order_items",
    "return_delivered_order_items",
    "modify_user_address",
];

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn address(rng: &mut StdRng) -> Value {
    let n: u32 = rng.gen_range(1..9999);
    json!({"address1": format!("{n} Replay Road"), "address2": if n.is_multiple_of(2) { "" } else { "Apt 4" },
           "city": "Springfield", "state": "IL", "country": "USA", "zip": format!("{:05}", n * 7 % 100000)})
}

/// Picks a tool and plausible arguments from the current state, sometimes wrong on purpose.
fn next_call(db: &Value, rng: &mut StdRng) -> (&'static str, Value) {
    let tool = *WRITE_TOOLS.choose(rng).unwrap();
    let orders = keys(&db["orders"]);
    let oid = if rng.gen_bool(0.04) {
        "#W0000000".to_string()
    } else {
        orders.choose(rng).unwrap().clone()
    };
    let order = db["orders"].get(&oid).cloned().unwrap_or(Value::Null);
    let user = order["user_id"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| keys(&db["users"])[0].clone());
    let users = keys(&db["users"]);
    let method = if rng.gen_bool(0.1) {
        // Another customer's method, or one that does not exist.
        let other = users.choose(rng).unwrap();
        keys(&db["users"][other]["payment_methods"])
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| "gift_card_0".into())
    } else {
        keys(&db["users"][&user]["payment_methods"])
            .choose(rng)
            .cloned()
            .unwrap_or_default()
    };
    let item_ids: Vec<String> = order["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["item_id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut picked: Vec<String> = if item_ids.is_empty() || rng.gen_bool(0.03) {
        vec![]
    } else {
        let k = rng.gen_range(1..=item_ids.len());
        item_ids.choose_multiple(rng, k).cloned().collect()
    };
    if rng.gen_bool(0.05) {
        picked.push("0000000000".into());
    }
    let mut new_ids: Vec<String> = picked
        .iter()
        .map(|old| {
            let product = order["items"]
                .as_array()
                .and_then(|a| a.iter().find(|i| i["item_id"] == old.as_str()));
            product
                .and_then(|p| {
                    keys(&db["products"][p["product_id"].as_str().unwrap()]["variants"])
                        .choose(rng)
                        .cloned()
                })
                .unwrap_or_else(|| "1111111111".into())
        })
        .collect();
    if rng.gen_bool(0.04) {
        new_ids.pop();
    }
    let args = match tool {
        "cancel_pending_order" => {
            let reason = *["no longer needed", "ordered by mistake", "changed my mind"]
                .choose(rng)
                .unwrap();
            json!({"order_id": oid, "reason": reason})
        }
        "modify_pending_order_address" => {
            let mut a = address(rng);
            a["order_id"] = json!(oid);
            a
        }
        "modify_user_address" => {
            let mut a = address(rng);
            a["user_id"] = json!(user);
            a
        }
        "modify_pending_order_payment" => json!({"order_id": oid, "payment_method_id": method}),
        "return_delivered_order_items" => {
            json!({"order_id": oid, "item_ids": picked, "payment_method_id": method})
        }
        _ => {
            json!({"order_id": oid, "item_ids": picked, "new_item_ids": new_ids, "payment_method_id": method})
        }
    };
    (tool, args)
}

/// Replays `calls` random calls; returns how many succeeded.
async fn replay(app: &TestApp, data: &str, seed: u64, calls: usize) -> usize {
    let mut oracle = Oracle::new(serde_json::from_str(data).unwrap());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ok = 0;
    for n in 0..calls {
        let (tool, args) = next_call(&oracle.db, &mut rng);
        let expected = oracle.call(tool, &args);
        let reply = app.tool(tool, &args).await;
        match expected {
            Ok(()) => {
                assert_eq!(reply.status, 200, "call {n} {tool} {args}: {}", reply.body);
                ok += 1;
            }
            Err(code) => assert_eq!(
                reply.code(),
                code,
                "call {n} {tool} {args}: status {} {}",
                reply.status,
                reply.body
            ),
        }
        if let Some(oid) = args["order_id"].as_str().filter(|_| n % 10 == 0)
            && let Some(want) = oracle.db["orders"].get(oid)
        {
            let got = app
                .tool("get_order_details", &json!({"order_id": oid}))
                .await;
            assert_eq!(
                normalise(got.body["output"].clone()),
                normalise(want.clone()),
                "read after call {n}"
            );
        }
    }
    assert_eq!(
        app.export().await,
        normalise(oracle.db),
        "final state differs from the SPEC oracle"
    );
    ok
}

#[tokio::test]
async fn random_tool_sequences_on_the_fixture_match_the_spec_oracle_on_every_backend() {
    for db in hc_store::testing::all().await {
        let label = db.label;
        let app = spawn_app_with(db, config(), MINI_DB).await;
        let ok = replay(&app, MINI_DB, 7, 120).await;
        assert!(
            ok >= 5,
            "{label}: too few successful calls ({ok}) to be a meaningful replay"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn random_tool_sequences_on_the_demo_store_match_the_spec_oracle() {
    let data = serde_json::to_string(&hc_commerce::demo::demo_store(7)).unwrap();
    let app = spawn_app_with(hc_store::testing::sqlite().await, config(), &data).await;
    let ok = replay(&app, &data, 11, 400).await;
    assert!(ok >= 60, "only {ok} successful calls");
    app.finish().await;
}

#[tokio::test]
async fn random_tool_sequences_on_the_public_tau_database_match_the_spec_oracle() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/tau-retail/db.json"
    );
    let Ok(data) = std::fs::read_to_string(path) else {
        eprintln!("../shared/data not present: the demo-store and fixture replays cover this");
        return;
    };
    for db in hc_store::testing::all().await {
        let app = spawn_app_with(db, config(), &data).await;
        // Unmodified, the export equals the input.
        assert_eq!(
            app.export().await,
            normalise(serde_json::from_str(&data).unwrap())
        );
        let ok = replay(&app, &data, 2024, 400).await;
        assert!(ok >= 60, "only {ok} successful calls");
        app.finish().await;
    }
}

#[tokio::test]
async fn read_tools_answer_like_the_reference() {
    let app = crate::helpers::spawn_app().await;
    let r = app
        .tool(
            "find_user_id_by_email",
            &json!({"email": "zoe.MULLER@example.com"}),
        )
        .await;
    assert_eq!(r.body["output"], "zoe_muller_1");
    let r = app
        .tool(
            "find_user_id_by_name_zip",
            &json!({"first_name": "zoe", "last_name": "muller", "zip": "78701"}),
        )
        .await;
    assert_eq!(r.body["output"], "zoe_muller_1");
    let r = app
        .tool(
            "find_user_id_by_name_zip",
            &json!({"first_name": "zoe", "last_name": "muller", "zip": "00000"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "user_not_found"));
    let r = app
        .tool("get_product_details", &json!({"product_id": "2000000001"}))
        .await;
    assert_eq!(
        r.code(),
        "product_not_found",
        "an item id is not a product id"
    );
    let r = app
        .tool("get_item_details", &json!({"item_id": "2000000002"}))
        .await;
    assert_eq!(r.body["output"]["price"], 46.85);
    let r = app.tool("list_all_product_types", &json!({})).await;
    assert_eq!(
        r.body["output"],
        json!({"T-Shirt": "1000000001", "Water Bottle": "1000000002"})
    );
    let r = app
        .tool("calculate", &json!({"expression": "(50.88 + 47.76) / 2"}))
        .await;
    assert_eq!(r.body["output"], "49.32");
    let r = app
        .tool("calculate", &json!({"expression": "__import__('os')"}))
        .await;
    assert_eq!(r.code(), "invalid_expression");
    let r = app
        .tool(
            "transfer_to_human_agents",
            &json!({"summary": "wants a refund to a new card"}),
        )
        .await;
    assert_eq!(r.body["output"], "Transfer successful");
    let r = app
        .tool("track_order", &json!({"order_id": "#W0000002"}))
        .await;
    assert_eq!(
        r.body["output"]["shipments"][0]["tracking_ids"][0],
        "123456789012"
    );
    let r = app
        .tool(
            "search_products",
            &json!({"query": "bottle", "max_price": 50}),
        )
        .await;
    let hits = r.body["output"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0]["variants"].as_object().unwrap().len(),
        1,
        "only the 47.76 variant is under 50"
    );
    app.finish().await;
}

#[tokio::test]
async fn place_order_creates_a_pending_order_and_debits_a_gift_card() {
    let app = crate::helpers::spawn_app().await;
    let r = app
        .tool("place_order", &json!({"user_id": "zoe_muller_1", "items": [{"item_id": "2000000011", "quantity": 2}], "payment_method_id": "gift_card_1"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let order = &r.body["output"];
    assert_eq!(order["status"], "pending");
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    assert_eq!(order["payment_history"][0]["amount"], 95.52);
    let oid = order["order_id"].as_str().unwrap();
    assert!(oid.starts_with("#W") && oid.len() == 9);
    let user = app
        .tool("get_user_details", &json!({"user_id": "zoe_muller_1"}))
        .await;
    assert_eq!(
        user.body["output"]["payment_methods"]["gift_card_1"]["balance"],
        4.48
    );
    assert!(
        user.body["output"]["orders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == oid)
    );
    let r = app
        .tool("place_order", &json!({"user_id": "zoe_muller_1", "items": [{"item_id": "2000000011"}], "payment_method_id": "gift_card_1"}))
        .await;
    assert_eq!(r.code(), "insufficient_gift_card_balance");
    let r = app
        .tool("place_order", &json!({"user_id": "zoe_muller_1", "items": [{"item_id": "2000000003"}], "payment_method_id": "credit_card_1"}))
        .await;
    assert_eq!(r.code(), "item_unavailable");
    app.finish().await;
}
