//! The MQTT sensor bridge against the real Mosquitto broker on
//! 127.0.0.1:1883: readings become `sensor` events, garbage is quarantined
//! with a reason, redeliveries are duplicates.

use std::time::{Duration, Instant};

use hc_domain::Role;
use rumqttc::{AsyncClient, MqttOptions, QoS};
use serde_json::{Value, json};

use crate::helpers::{MINI_DB, TestApp, config, spawn_app_with};

/// Whether the broker answers; under `CI=true` its absence is an error.
async fn broker_up() -> bool {
    let up = tokio::net::TcpStream::connect("127.0.0.1:1883")
        .await
        .is_ok();
    if !up && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but no MQTT broker answers on 127.0.0.1:1883");
    }
    if !up {
        eprintln!("skipped: no MQTT broker on 127.0.0.1:1883");
    }
    up
}

async fn wait_for(app: &TestApp, path: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app.get(path, app.key(Role::Viewer)).await;
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= n || Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sensor_readings_become_events_and_garbage_is_quarantined() {
    if !broker_up().await {
        return;
    }
    let suffix = format!("{}-{}", std::process::id(), hc_domain::now_ms());
    let mut c = config();
    c.events.mqtt.enabled = true;
    c.events.mqtt.client_id = format!("hc-test-{suffix}");
    c.events.mqtt.flush_ms = 50;
    let app = spawn_app_with(hc_store::testing::sqlite().await, c, MINI_DB).await;
    // Let the bridge connect and subscribe before publishing.
    tokio::time::sleep(Duration::from_millis(700)).await;

    let mut options = MqttOptions::new(format!("hc-test-pub-{suffix}"), "127.0.0.1", 1883);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let store = format!("st{}", std::process::id());
    let topic = |sensor: &str| format!("hc/shop/sensors/{store}/{sensor}");
    let messages = [
        (
            topic("door"),
            json!({"kind": "footfall", "id": "f1", "count": 4}).to_string(),
        ),
        (
            topic("shelf-2"),
            json!({"kind": "pickup", "id": "p1", "item_id": "2000000001"}).to_string(),
        ),
        (
            topic("display"),
            json!({"kind": "dwell", "id": "d1", "zone": "window", "duration_ms": 42000})
                .to_string(),
        ),
        // A redelivery of the first reading.
        (
            topic("door"),
            json!({"kind": "footfall", "id": "f1", "count": 4}).to_string(),
        ),
        (topic("door"), "\u{1}\u{2} not json".to_string()),
        (topic("door"), json!({"kind": "teleport"}).to_string()),
    ];
    for (t, payload) in &messages {
        client
            .publish(
                t.as_str(),
                QoS::AtLeastOnce,
                false,
                payload.clone().into_bytes(),
            )
            .await
            .unwrap();
    }
    // Another tenant's topic is that tenant's; an unknown tenant's is dropped.
    client
        .publish(
            "hc/ghost-tenant/sensors/x/y",
            QoS::AtLeastOnce,
            false,
            b"{}".to_vec(),
        )
        .await
        .unwrap();

    let events = wait_for(&app, "/v1/events", 3).await;
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            format!("mqtt:{store}:door:f1"),
            format!("mqtt:{store}:shelf-2:p1"),
            format!("mqtt:{store}:display:d1")
        ],
        "three readings stored once each"
    );
    assert!(events.iter().all(|e| e["event"]["type"] == "sensor"));
    assert_eq!(events[0]["event"]["properties"]["count"], 4);
    assert_eq!(events[2]["event"]["duration_ms"], 42000);

    let quarantined = wait_for(&app, "/v1/events/quarantine", 2).await;
    let codes: Vec<&str> = quarantined
        .iter()
        .map(|q| q["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["unknown_type", "invalid_json"], "{quarantined:?}");
    assert!(quarantined.iter().all(|q| q["source"] == "mqtt"));
    assert!(
        quarantined[1]["payload"]
            .as_str()
            .unwrap()
            .starts_with("hc/shop/sensors/")
    );

    let session = app
        .get(
            &format!("/v1/sessions/store:{store}:door"),
            app.key(Role::Viewer),
        )
        .await;
    assert_eq!(session.body["session"]["events"], 1, "{:?}", session.body);
    let _ = client.disconnect().await;
    app.finish().await;
}
