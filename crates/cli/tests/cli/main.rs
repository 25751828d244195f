//! The `hypercommerce` binary as a user runs it: admin commands, import and
//! export, and durability of acknowledged writes across `kill -9`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_hypercommerce");
const MINI_DB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../store/tests/contract/mini_db.json"
);

fn run(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("HC_DATABASE_URL")
        .output()
        .expect("run hypercommerce");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn normalise(v: Value) -> Value {
    match v {
        Value::Number(n) => json!((n.as_f64().unwrap() * 100.0).round() / 100.0),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        other => other,
    }
}

#[test]
fn admin_commands_create_tenants_and_print_only_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, _) = run(dir.path(), &["admin", "create-tenant", "acme"]);
    assert!(ok);
    assert_eq!(out.trim(), "acme");
    let (ok, _, err) = run(dir.path(), &["admin", "create-tenant", "acme"]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, out, _) = run(
        dir.path(),
        &["admin", "create-key", "--tenant", "acme", "--role", "agent"],
    );
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "only the key: {out:?}");
    assert!(lines[0].starts_with("hc_") && lines[0].len() >= 35);
    let (ok, _, err) = run(
        dir.path(),
        &["admin", "create-key", "--tenant", "acme", "--role", "root"],
    );
    assert!(!ok && err.contains("role"), "{err}");
    let (ok, _, err) = run(
        dir.path(),
        &[
            "admin",
            "create-key",
            "--tenant",
            "nobody",
            "--role",
            "agent",
        ],
    );
    assert!(!ok && err.contains("does not exist"), "{err}");
    let (ok, _, err) = run(dir.path(), &["admin", "create-tenant", "Bad Name"]);
    assert!(!ok && err.contains("invalid tenant"), "{err}");
}

#[test]
fn import_then_export_through_the_cli_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(
        dir.path(),
        &["import", "tau-retail", MINI_DB, "--tenant", "shop"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"orders\":3"), "{out}");
    let exported = dir.path().join("out.json");
    let (ok, _, err) = run(
        dir.path(),
        &[
            "export",
            "tau-retail",
            exported.to_str().unwrap(),
            "--tenant",
            "shop",
        ],
    );
    assert!(ok, "{err}");
    let got: Value = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    let want: Value = serde_json::from_str(&std::fs::read_to_string(MINI_DB).unwrap()).unwrap();
    assert_eq!(normalise(got), normalise(want));
    // A malformed file is refused with a clear message and imports nothing.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"products": {}, "users": {}, "orders": {"x": {"status": "lost"}}}"#,
    )
    .unwrap();
    let (ok, _, err) = run(
        dir.path(),
        &[
            "import",
            "tau-retail",
            bad.to_str().unwrap(),
            "--tenant",
            "shop",
        ],
    );
    assert!(!ok && err.contains("not a valid"), "{err}");
    let (ok, _, err) = run(
        dir.path(),
        &[
            "export",
            "tau-retail",
            exported.to_str().unwrap(),
            "--tenant",
            "ghost",
        ],
    );
    assert!(!ok && err.contains("does not exist"), "{err}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(dir: &Path, port: u16) -> Child {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env_remove("HC_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server")
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become ready");
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        run(
            dir.path(),
            &["import", "tau-retail", MINI_DB, "--tenant", "shop"]
        )
        .0
    );
    let (_, key, _) = run(
        dir.path(),
        &[
            "admin",
            "create-key",
            "--tenant",
            "shop",
            "--role",
            "agent",
            "--rate-limit",
            "0",
        ],
    );
    let key = key.trim().to_string();
    let port = free_port();
    let mut server = start_server(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    hc_server::install_tls_provider();
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;

    // Eight writers place orders until the server dies under them.
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for _ in 0..10_000 {
                let body = json!({"user_id": "sam_lee_2", "items": [{"item_id": if w % 2 == 0 { "2000000001" } else { "2000000012" }}], "payment_method_id": "paypal_2"});
                match client.post(format!("{base}/v1/tools/place_order")).bearer_auth(&key).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(id) = v["output"]["order_id"].as_str() {
                            acknowledged.push(id.to_string());
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SIGKILL: no shutdown hook runs.
    server.kill().unwrap();
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    assert!(
        acknowledged.len() >= 20,
        "only {} writes were acknowledged before the kill",
        acknowledged.len()
    );

    // Restart and check every acknowledged order is there, consistently with the customer.
    let mut server = start_server(dir.path(), port);
    wait_ready(&client, &base).await;
    let user: Value = client
        .post(format!("{base}/v1/tools/get_user_details"))
        .bearer_auth(&key)
        .json(&json!({"user_id": "sam_lee_2"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let orders: Vec<&str> = user["output"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for id in &acknowledged {
        assert!(
            orders.contains(&id.as_str()),
            "acknowledged order {id} lost"
        );
        let r = client
            .post(format!("{base}/v1/tools/get_order_details"))
            .bearer_auth(&key)
            .json(&json!({"order_id": id}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "acknowledged order {id} lost");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn acknowledged_event_batches_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), &["admin", "create-tenant", "shop"]).0);
    let (_, key, _) = run(
        dir.path(),
        &[
            "admin",
            "create-key",
            "--tenant",
            "shop",
            "--role",
            "agent",
            "--rate-limit",
            "0",
        ],
    );
    let key = key.trim().to_string();
    let port = free_port();
    let mut server = start_server(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    hc_server::install_tls_provider();
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;

    // Four writers post batches of new events until the server dies under them.
    let now = hc_domain::now_ms();
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        writers.push(tokio::spawn(async move {
            let mut acknowledged: Vec<String> = Vec::new();
            for b in 0..100_000 {
                let ids: Vec<String> = (0..200).map(|i| format!("w{w}-b{b}-{i}")).collect();
                let batch: Vec<Value> = ids
                    .iter()
                    .map(|id| {
                        json!({"event_id": id, "type": "page_view", "page_type": "home",
                                     "timestamp_ms": now, "session_id": format!("s{w}-{}", b % 7)})
                    })
                    .collect();
                match client
                    .post(format!("{base}/v1/events"))
                    .bearer_auth(&key)
                    .json(&batch)
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 202 => acknowledged.extend(ids),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    assert!(
        acknowledged.len() >= 2_000,
        "only {} events acknowledged",
        acknowledged.len()
    );

    // Restart and read the whole log back through the replay API.
    let mut server = start_server(dir.path(), port);
    wait_ready(&client, &base).await;
    let mut stored = std::collections::HashSet::new();
    let mut after = 0i64;
    loop {
        let page: Value = client
            .get(format!("{base}/v1/events?limit=1000&after={after}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["items"].as_array().unwrap() {
            stored.insert(e["event"]["event_id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_i64() {
            Some(c) => after = c,
            None => break,
        }
    }
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    server.kill().unwrap();
    server.wait().unwrap();

    // The replay command prints the same log, in order, as NDJSON.
    let (ok, out, err) = run(
        dir.path(),
        &["events", "replay", "--tenant", "shop", "--limit", "1500"],
    );
    assert!(ok, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1500.min(stored.len()));
    assert!(
        lines
            .windows(2)
            .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64())
    );
    let last = lines.last().unwrap()["seq"].as_i64().unwrap().to_string();
    let (_, rest, _) = run(
        dir.path(),
        &["events", "replay", "--tenant", "shop", "--after", &last],
    );
    assert_eq!(
        lines.len() + rest.lines().count(),
        stored.len(),
        "replay after the cursor resumes"
    );
}

#[tokio::test]
async fn sigterm_shuts_the_server_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_server(dir.path(), port);
    hc_server::install_tls_provider();
    let client = reqwest::Client::new();
    wait_ready(&client, &format!("http://127.0.0.1:{port}")).await;
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = server.try_wait().unwrap() {
            assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop within 10 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_err(),
        "no longer listening"
    );
}

#[test]
fn eval_agent_scores_scenarios_by_final_state_and_replies() {
    let dir = tempfile::tempdir().unwrap();
    let here = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli");
    let (ok, out, err) = run(
        dir.path(),
        &[
            "eval",
            "agent",
            "--scenarios",
            &format!("{here}/mini_scenarios.json"),
            "--db",
            MINI_DB,
        ],
    );
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["total"], 5);
    assert_eq!(
        report["pass_rate"],
        1.0,
        "{}",
        serde_json::to_string_pretty(&report["failures"]).unwrap()
    );
    // A wrong expectation fails, with the reason and the transcript.
    let (ok, out, _) = run(
        dir.path(),
        &[
            "eval",
            "agent",
            "--scenarios",
            &format!("{here}/wrong_scenarios.json"),
            "--db",
            MINI_DB,
        ],
    );
    assert!(ok);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["passed"], 0);
    let failure = &report["failures"][0];
    assert!(
        failure["reason"]
            .as_str()
            .unwrap()
            .contains("orders[#W0000001].status"),
        "{failure}"
    );
    assert!(failure["transcript"].as_array().unwrap().len() >= 4);
}

/// The held-out batches (docs/EVALUATION.md, "Held-out scenarios") parse as
/// scenario files, no scenario name appears twice across the development set
/// and the six batches, every order and customer they expect exists in the
/// τ-retail database, and an expected order is the expected customer's.
/// Batches 2 to 6 also share no expected record with the earlier files. The
/// database checks are skipped when `../shared/data` is absent.
#[test]
fn heldout_scenarios_reference_real_tau_records() {
    let eval = concat!(env!("CARGO_MANIFEST_DIR"), "/../agent/eval");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{eval}/{name}")).unwrap()).unwrap()
    };
    let dev = read("tau_scenarios.json");
    let batch1 = read("tau_scenarios_heldout.json");
    let batch2 = read("tau_scenarios_heldout2.json");
    let batch3 = read("tau_scenarios_heldout3.json");
    let batch4 = read("tau_scenarios_heldout4.json");
    let batch5 = read("tau_scenarios_heldout5.json");
    let batch6 = read("tau_scenarios_heldout6.json");
    let list = |file: &Value| file["scenarios"].as_array().unwrap().clone();
    let (dev, batch1, batch2, batch3, batch4, batch5, batch6) = (
        list(&dev),
        list(&batch1),
        list(&batch2),
        list(&batch3),
        list(&batch4),
        list(&batch5),
        list(&batch6),
    );
    assert!(batch1.len() >= 40, "{}", batch1.len());
    assert!(batch2.len() >= 60, "{}", batch2.len());
    assert!(batch3.len() >= 70, "{}", batch3.len());
    assert!(batch4.len() >= 70, "{}", batch4.len());
    assert!(batch5.len() >= 70, "{}", batch5.len());
    assert!(batch6.len() >= 80, "{}", batch6.len());
    let mut names = std::collections::BTreeSet::new();
    for s in dev
        .iter()
        .chain(&batch1)
        .chain(&batch2)
        .chain(&batch3)
        .chain(&batch4)
        .chain(&batch5)
        .chain(&batch6)
    {
        let name = s["name"].as_str().unwrap();
        assert!(names.insert(name), "{name} is used twice");
    }
    for s in batch1
        .iter()
        .chain(&batch2)
        .chain(&batch3)
        .chain(&batch4)
        .chain(&batch5)
        .chain(&batch6)
    {
        assert!(!s["turns"].as_array().unwrap().is_empty(), "{}", s["name"]);
    }
    for (prefix, batch) in [
        ("h2_", &batch2),
        ("h3_", &batch3),
        ("h4_", &batch4),
        ("h5_", &batch5),
        ("h6_", &batch6),
    ] {
        for s in batch {
            assert!(
                s["name"].as_str().unwrap().starts_with(prefix),
                "{}",
                s["name"]
            );
            assert!(
                s["expect"]["changed_only"].is_array(),
                "{}: batches 2 to 6 always check that nothing else changed",
                s["name"]
            );
        }
    }
    // Batch 2 is disjoint from the earlier files: none of the orders or
    // customers it expects appears in their expectations.
    let expected_ids = |s: &Value| -> Vec<String> {
        let e = &s["expect"];
        ["orders", "users"]
            .iter()
            .flat_map(|k| {
                e[*k]
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys().cloned())
            })
            .chain(
                e["changed_only"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| v.as_str().unwrap().to_string()),
            )
            .collect()
    };
    let mut earlier: std::collections::BTreeSet<String> =
        dev.iter().chain(&batch1).flat_map(expected_ids).collect();
    for batch in [&batch2, &batch3, &batch4, &batch5, &batch6] {
        for s in batch {
            for id in expected_ids(s) {
                assert!(
                    !earlier.contains(&id),
                    "{}: {id} is used by an earlier file",
                    s["name"]
                );
            }
        }
        earlier.extend(batch.iter().flat_map(expected_ids));
    }

    let db_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/tau-retail/db.json"
    );
    let Ok(text) = std::fs::read_to_string(db_path) else {
        eprintln!("../shared/data not present: only the files' shape was checked");
        return;
    };
    let db: Value = serde_json::from_str(&text).unwrap();
    for s in batch1
        .iter()
        .chain(&batch2)
        .chain(&batch3)
        .chain(&batch4)
        .chain(&batch5)
        .chain(&batch6)
    {
        let name = &s["name"];
        let expect = &s["expect"];
        // One customer per conversation: every expected record is theirs.
        let mut owners: Vec<&str> = expect["users"]
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for user in &owners {
            assert!(db["users"].get(*user).is_some(), "{name}: {user}");
        }
        for (id, want) in expect["orders"].as_object().into_iter().flatten() {
            let order = &db["orders"][id];
            assert!(order.is_object(), "{name}: {id}");
            owners.push(order["user_id"].as_str().unwrap());
            // A changed item keeps its product.
            if let Some(items) = want["items"].as_array() {
                let before = order["items"].as_array().unwrap();
                assert_eq!(items.len(), before.len(), "{name}: {id}");
                for (a, b) in items.iter().zip(before) {
                    assert_eq!(a["product_id"], b["product_id"], "{name}: {id}");
                }
            }
        }
        for id in expect["changed_only"].as_array().into_iter().flatten() {
            let id = id.as_str().unwrap();
            if let Some(order) = db["orders"].get(id) {
                owners.push(order["user_id"].as_str().unwrap());
            } else {
                assert!(
                    db["users"].get(id).is_some(),
                    "{name}: {id} is neither an order nor a customer"
                );
                owners.push(id);
            }
        }
        owners.sort_unstable();
        owners.dedup();
        assert!(owners.len() <= 1, "{name}: records of {owners:?}");
    }
}

#[test]
fn eval_recs_and_clv_print_their_figures_and_refuse_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    // Two item "worlds" clicked in order; the test asks for the next item.
    let mut train = String::new();
    for i in 0..60 {
        let start = 1 + i % 3;
        train.push_str(
            &(start..=5)
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
        train.push('\n');
        train.push_str(
            &(10 + start..=15)
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
        train.push('\n');
    }
    std::fs::write(p("train.txt"), &train).unwrap();
    std::fs::write(
        p("test.tsv"),
        "prefix\ttarget\n1 2 3\t4\n12 13\t14\n99\t1\n",
    )
    .unwrap();
    let (ok, out, err) = run(
        dir.path(),
        &[
            "eval",
            "recs",
            "--train",
            &p("train.txt"),
            "--test",
            &p("test.tsv"),
        ],
    );
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["n"], 3);
    // Two of three targets ranked first; the unknown prefix gets popular items (1 is among them).
    assert!(report["p_at_20"].as_f64().unwrap() > 66.0, "{report}");
    assert!(report["mrr_at_20"].as_f64().unwrap() > 66.0, "{report}");

    std::fs::write(p("bad.tsv"), "prefix\ttarget\n1 2 x\t4\n").unwrap();
    let (ok, _, err) = run(
        dir.path(),
        &[
            "eval",
            "recs",
            "--train",
            &p("train.txt"),
            "--test",
            &p("bad.tsv"),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("line 2") && err.contains("bad item id"),
        "{err}"
    );

    // The SASRec component: a clear refusal without the cargo feature, the
    // blend's figures with it.
    let save = p("sasrec.json");
    let (ok, out, err) = run(
        dir.path(),
        &[
            "eval",
            "recs",
            "--train",
            &p("train.txt"),
            "--test",
            &p("test.tsv"),
            "--model",
            "blend",
            "--sasrec-epochs",
            "3",
            "--sasrec-dim",
            "16",
            "--sasrec-layers",
            "1",
            "--sasrec-negatives",
            "8",
            "--save-sasrec",
            &save,
        ],
    );
    if cfg!(feature = "sasrec") {
        assert!(ok, "{err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["n"], 3);
        assert_eq!(report["model"], "blend");
        assert!(
            report["figures"]["sasrec"]["p_at_k"].is_number(),
            "{report}"
        );
        assert_eq!(report["sasrec"]["training"]["epochs_run"], 3);
        assert!(std::path::Path::new(&save).exists());
    } else {
        assert!(!ok);
        assert!(err.contains("--features sasrec"), "{err}");
    }

    let mut purchases = String::from("customer_id,date,number_of_cds,dollar_value\n");
    for c in 0..200 {
        purchases.push_str(&format!("{c:05},19970101,1,10.00\n"));
        for k in 0..(c % 4) {
            purchases.push_str(&format!(
                "{c:05},199702{:02},1,{}.50\n",
                1 + k * 7 + c % 5,
                5 + c % 7
            ));
        }
    }
    std::fs::write(p("cal.csv"), &purchases).unwrap();
    let (ok, out, err) = run(dir.path(), &["eval", "clv", "--calibration", &p("cal.csv")]);
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["customers"], 200);
    for k in ["r", "alpha", "a", "b"] {
        assert!(report["bg_nbd"][k].as_f64().unwrap() > 0.0, "{report}");
    }
}

#[test]
fn eval_pricing_prints_shares_of_the_lp_bound_and_refuses_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(
        dir.path(),
        &[
            "eval",
            "pricing",
            "--scenario",
            "ferreira-single-0.25",
            "--horizon",
            "500",
            "--seeds",
            "20",
            "--policies",
            "ts,ts_update",
        ],
    );
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let scenario = &report["scenarios"][0];
    assert_eq!(scenario["yardstick"], "lp_bound");
    assert_eq!(scenario["best"], "ts_update");
    assert_eq!(report["default_policy"], "ts_update");
    let rows = scenario["policies"].as_array().unwrap();
    let share = |name: &str| {
        rows.iter().find(|r| r["policy"] == name).unwrap()["share"]
            .as_f64()
            .unwrap()
    };
    assert!(share("ts_update") > 0.95 && share("ts") < 0.85, "{out}");
    for bad in [["--scenario", "mars"], ["--policies", "astrology"]] {
        let (ok, _, err) = run(dir.path(), &["eval", "pricing", bad[0], bad[1]]);
        assert!(!ok && err.contains("unknown"), "{err}");
    }
}

#[test]
fn ledger_keygen_verify_and_audit_work_offline_and_audit_names_a_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, vkey, err) = run(
        dir.path(),
        &["ledger", "keygen", "--origin", "shop.example/ledger"],
    );
    assert!(ok, "{err}");
    let vkey = vkey.trim().to_string();
    assert!(vkey.starts_with("shop.example/ledger+"), "{vkey}");
    let (ok, _, err) = run(dir.path(), &["ledger", "keygen"]);
    assert!(!ok && err.contains("already holds a key"), "{err}");

    // The server's layout under the data dir, written through the library.
    let cfg = hc_ledger::LedgerConfig {
        origin: "shop.example/ledger".into(),
        ..Default::default()
    };
    let offsets = {
        let (ledger, _, generated) = cfg.open(dir.path()).unwrap();
        assert!(generated.is_none(), "reused the CLI's key");
        let mut offsets = Vec::new();
        let mut pos = 8u64;
        for i in 0..40 {
            let e = format!("earn {i:03}");
            offsets.push(pos);
            pos += 36 + e.len() as u64;
            ledger.append(e.as_bytes()).unwrap();
        }
        ledger.checkpoint().unwrap();
        std::fs::write(
            dir.path().join("bundle.txt"),
            ledger.proof_bundle(7).unwrap(),
        )
        .unwrap();
        offsets
    };
    let bundle = dir.path().join("bundle.txt");
    let bundle = bundle.to_str().unwrap();
    let (ok, out, err) = run(
        dir.path(),
        &["ledger", "verify", "--key", &vkey, "--proof", bundle],
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["index"], 7);
    assert_eq!(v["entry"], "earn 007");
    assert_eq!(v["tree_size"], 40);
    let checkpoint = dir.path().join("ledger/log/checkpoint");
    let (ok, out, err) = run(
        dir.path(),
        &[
            "ledger",
            "verify",
            "--key",
            &vkey,
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"tree_size\":40"), "{out}");

    // Another key with the same name does not verify.
    let other = hc_ledger::NoteSigner::from_seed("shop.example/ledger", [1; 32])
        .unwrap()
        .verifier()
        .to_vkey();
    let (ok, _, err) = run(
        dir.path(),
        &["ledger", "verify", "--key", &other, "--proof", bundle],
    );
    assert!(!ok && err.contains("does NOT verify"), "{err}");

    let (ok, out, err) = run(dir.path(), &["ledger", "audit"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"entries\":40"), "{out}");

    // Flip one byte of entry 23's data: the audit fails and names it.
    let log = dir.path().join("ledger/log/entries.log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[(offsets[23] + 36 + 2) as usize] ^= 1;
    std::fs::write(&log, bytes).unwrap();
    let (ok, _, err) = run(dir.path(), &["ledger", "audit", "--key", &vkey]);
    assert!(!ok, "audit passed a tampered log");
    assert!(
        err.contains("AUDIT FAILED") && err.contains("entry 23"),
        "{err}"
    );
}

#[test]
fn ledger_verify_checks_receipts_and_threshold_proofs_offline_and_rejects_forgeries() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, vkey, err) = run(
        dir.path(),
        &["ledger", "keygen", "--origin", "shop.example/ledger"],
    );
    assert!(ok, "{err}");
    let vkey = vkey.trim().to_string();
    let cfg = hc_ledger::LedgerConfig {
        origin: "shop.example/ledger".into(),
        ..Default::default()
    };
    let (receipt, proof) = {
        let (ledger, _, _) = cfg.open(dir.path()).unwrap();
        let loyalty = hc_ledger::Loyalty::open(std::sync::Arc::new(ledger)).unwrap();
        let alice = hc_ledger::Pseudonymizer::new([3; 32]).account("shop", "alice");
        let earn = loyalty
            .submit("e-1", hc_ledger::LoyaltyOp::earn(alice.clone(), 640))
            .unwrap();
        let receipt = loyalty.receipt(&alice, earn.index).unwrap();
        let proof = loyalty
            .prove_balance_at_least(&hc_ledger::Bulletproofs::default(), &alice, 600)
            .unwrap();
        (receipt, proof)
    };
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let r = write("receipt.json", receipt.to_json());
    let (ok, out, err) = run(
        dir.path(),
        &["ledger", "verify", "--key", &vkey, "--receipt", &r],
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], "receipt");
    assert_eq!(v["fact"]["points"], 640);
    let t = write("threshold.json", proof.to_json());
    let (ok, out, err) = run(
        dir.path(),
        &["ledger", "verify", "--key", &vkey, "--threshold-proof", &t],
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["verified"].as_str(), v["threshold"].as_u64()),
        (Some("balance_at_least"), Some(600))
    );

    // Forgeries: a raised threshold, an inflated fact.
    let mut raised = proof.clone();
    raised.threshold = 641;
    let t = write("raised.json", raised.to_json());
    let (ok, _, err) = run(
        dir.path(),
        &["ledger", "verify", "--key", &vkey, "--threshold-proof", &t],
    );
    assert!(
        !ok && err.contains("threshold proof does NOT verify"),
        "{err}"
    );
    let mut inflated = receipt.clone();
    inflated.fact = inflated.fact.replace("640", "6400");
    let r = write("inflated.json", inflated.to_json());
    let (ok, _, err) = run(
        dir.path(),
        &["ledger", "verify", "--key", &vkey, "--receipt", &r],
    );
    assert!(!ok && err.contains("receipt does NOT verify"), "{err}");
    // Exactly one thing to verify.
    let (ok, _, err) = run(dir.path(), &["ledger", "verify", "--key", &vkey]);
    assert!(!ok && err.contains("required"), "{err}");
}

#[tokio::test]
async fn acknowledged_loyalty_points_survive_kill_9_and_the_log_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), &["admin", "create-tenant", "shop"]).0);
    let (_, key, _) = run(
        dir.path(),
        &[
            "admin",
            "create-key",
            "--tenant",
            "shop",
            "--role",
            "agent",
            "--rate-limit",
            "0",
        ],
    );
    let key = key.trim().to_string();
    let port = free_port();
    let mut server = start_server(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    hc_server::install_tls_provider();
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;

    // Eight customers earn one point per request until the server dies.
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        writers.push(tokio::spawn(async move {
            let mut acknowledged = 0u64;
            for i in 0..100_000 {
                let body = json!({"customer_id": format!("c{w}"), "points": 1, "idempotency_key": format!("{w}-{i}")});
                match client.post(format!("{base}/v1/loyalty/earn")).bearer_auth(&key).json(&body).send().await {
                    Ok(r) if r.status().is_success() => acknowledged += 1,
                    Ok(r) => panic!("earn refused: {}", r.status()),
                    Err(_) => break,
                }
                if i % 50 == 0 {
                    // Checkpoints get signed while the log grows.
                    let _ = client.get(format!("{base}/ledger/checkpoint")).send().await;
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.push(w.await.unwrap());
    }
    assert!(acknowledged.iter().sum::<u64>() >= 20, "{acknowledged:?}");

    let mut server = start_server(dir.path(), port);
    wait_ready(&client, &base).await;
    for (w, acked) in acknowledged.iter().enumerate() {
        let v: Value = client
            .get(format!("{base}/v1/loyalty/balance/c{w}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let balance = v["balance"].as_u64().unwrap();
        // Every acknowledged earn is there; at most the one in flight per
        // writer was written without its acknowledgement reaching the client.
        assert!(
            balance >= *acked && balance <= acked + 1,
            "c{w}: {balance} vs {acked} acknowledged"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let (ok, out, err) = run(dir.path(), &["ledger", "audit"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"audit\":\"ok\""), "{out}");
}
