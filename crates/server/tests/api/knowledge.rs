//! The knowledge base over HTTP: article CRUD (JSON and Markdown), search,
//! bad input, roles, tenant isolation, and the agent answering a policy
//! question from an article through the `search_knowledge_base` tool.

use hc_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app};

const ARTICLES: &str = "/v1/knowledge/articles";

/// Uploads the demo shop's articles into tenant `shop` through the API.
async fn seed_demo(app: &TestApp) {
    for d in hc_knowledge::demo::demo_articles() {
        let slug = d.slug.clone().unwrap();
        let r = app
            .put(
                &format!("{ARTICLES}/{slug}"),
                app.key(Role::Manager),
                &json!({"title": d.title, "body": d.body_markdown, "tags": d.tags}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

/// Percent-encodes every byte but ASCII letters and digits.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn search(app: &TestApp, key: &str, q: &str) -> Reply {
    app.get(&format!("/v1/knowledge/search?q={}", encode(q)), key)
        .await
}

fn hit_slugs(r: &Reply) -> Vec<String> {
    r.body["hits"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|h| h["slug"].as_str().unwrap().to_string())
        .collect()
}

async fn markdown(app: &TestApp, path: &str, key: &str, text: &str) -> Reply {
    app.send(
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(key)
            .header("content-type", "text/markdown; charset=utf-8")
            .body(text.to_string()),
    )
    .await
}

#[tokio::test]
async fn a_manager_creates_reads_lists_replaces_and_deletes_articles() {
    let app = spawn_app().await;
    let m = app.key(Role::Manager).to_string();
    let r = app
        .post(
            ARTICLES,
            &m,
            &json!({"title": "Returns & refunds", "body": "## Window\n\nReturn within **30 days**.", "tags": ["Returns", "returns", "refunds"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["slug"], "returns-refunds",
        "slug derived from the title"
    );
    assert_eq!(
        r.body["tags"],
        json!(["returns", "refunds"]),
        "tags folded and deduplicated"
    );
    let id = r.body["id"].as_str().unwrap().to_string();

    let again = app
        .post(
            ARTICLES,
            &m,
            &json!({"title": "Returns & refunds", "body": "x"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "already_exists"));

    let r = app.get(&format!("{ARTICLES}/returns-refunds"), &m).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["body"], "## Window\n\nReturn within **30 days**.");

    let r = app
        .put(
            &format!("{ARTICLES}/returns-refunds"),
            &m,
            &json!({"title": "Returns", "body": "Return within 60 days."}),
        )
        .await;
    assert_eq!(r.status, 200, "replaced: {}", r.body);
    assert_eq!(r.body["id"], id.as_str(), "the id survives a replace");
    let r = app
        .put(
            &format!("{ARTICLES}/shipping"),
            &m,
            &json!({"title": "Shipping", "body": "We ship."}),
        )
        .await;
    assert_eq!(r.status, 201);

    let list = app.get(&format!("{ARTICLES}?limit=1"), &m).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"][0]["slug"], "returns-refunds");
    assert!(
        list.body["items"][0].get("body").is_none(),
        "listings omit bodies"
    );
    let cursor = list.body["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!("{ARTICLES}?limit=1&after={cursor}"), &m)
        .await;
    assert_eq!(next.body["items"][0]["slug"], "shipping");
    assert!(next.body["next_cursor"].is_null());

    assert_eq!(
        hit_slugs(&search(&app, &m, "60 days").await),
        ["returns-refunds"]
    );
    let r = app.delete(&format!("{ARTICLES}/returns-refunds"), &m).await;
    assert_eq!(r.status, 204);
    let r = app.get(&format!("{ARTICLES}/returns-refunds"), &m).await;
    assert_eq!((r.status, r.code()), (404, "article_not_found"));
    assert!(
        hit_slugs(&search(&app, &m, "60 days").await).is_empty(),
        "deleted from search"
    );
    let r = app.delete(&format!("{ARTICLES}/returns-refunds"), &m).await;
    assert_eq!((r.status, r.code()), (404, "article_not_found"));

    let audit = app.get("/v1/audit?limit=200", app.key(Role::Owner)).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("article."))
        .collect();
    assert_eq!(actions.len(), 4, "create, upsert ×2, delete: {actions:?}");
    app.finish().await;
}

#[tokio::test]
async fn a_markdown_upload_takes_its_title_from_the_first_heading() {
    let app = spawn_app().await;
    let m = app.key(Role::Manager).to_string();
    let r = markdown(
        &app,
        &format!("{ARTICLES}?tags=gifts,wrapping"),
        &m,
        "# Gift wrapping\n\nWe wrap any order for **$4**, with a handwritten card.\n",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["title"], "Gift wrapping");
    assert_eq!(r.body["slug"], "gift-wrapping");
    assert_eq!(r.body["tags"], json!(["gifts", "wrapping"]));
    assert_eq!(
        r.body["body"],
        "We wrap any order for **$4**, with a handwritten card."
    );
    let hits = search(&app, &m, "handwritten cards").await;
    assert_eq!(hit_slugs(&hits), ["gift-wrapping"]);
    assert!(
        hits.body["hits"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("handwritten card"),
        "{}",
        hits.body
    );

    let r = markdown(&app, ARTICLES, &m, "No heading here, just text.").await;
    assert_eq!((r.status, r.code()), (400, "invalid_article"));
    app.finish().await;
}

#[tokio::test]
async fn search_stems_ranks_by_title_and_quotes_the_matching_passage() {
    let app = spawn_app().await;
    seed_demo(&app).await;
    let v = app.key(Role::Viewer).to_string();
    let r = search(&app, &v, "how long do refunds take?").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(hit_slugs(&r)[0], "returns-and-refunds");
    let hit = &r.body["hits"][0];
    assert_eq!(hit["title"], "Returns & refunds");
    assert!(
        hit["snippet"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("refund"),
        "{hit}"
    );
    assert!(hit["score"].as_f64().unwrap() > 0.0);
    let r = search(&app, &v, "Do you ship to Canada?").await;
    assert_eq!(hit_slugs(&r)[0], "shipping");
    assert!(
        r.body["hits"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("Canada")
    );
    app.finish().await;
}

#[tokio::test]
async fn odd_search_text_is_answered_and_a_missing_query_is_a_structured_error() {
    let app = spawn_app().await;
    seed_demo(&app).await;
    let v = app.key(Role::Viewer).to_string();
    for q in [
        "title:\"refund",
        "((( AND",
        "*",
        "a:b:c",
        "'; drop table knowledge_articles; --",
        "\\\"\u{0}",
    ] {
        let r = search(&app, &v, q).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert!(r.body["hits"].is_array());
    }
    let r = app.get("/v1/knowledge/search", &v).await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    let r = search(&app, &v, "   ").await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    let r = search(&app, &v, &"refund ".repeat(100)).await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    let r = app.get("/v1/knowledge/search?q=refund&limit=x", &v).await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    let r = app.get("/v1/knowledge/articles", &v).await;
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        6,
        "the articles are intact"
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_articles_are_refused_with_structured_errors_and_change_nothing() {
    let app = spawn_app().await;
    let m = app.key(Role::Manager).to_string();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"title": "", "body": "b"}), "invalid_article"),
        (
            json!({"title": "t".repeat(201), "body": "b"}),
            "invalid_article",
        ),
        (
            json!({"title": "T", "body": "x".repeat(100 * 1024 + 1)}),
            "invalid_article",
        ),
        (json!({"title": "T", "body": "   "}), "invalid_article"),
        (
            json!({"title": "T", "body": "b", "slug": "Not OK"}),
            "invalid_article",
        ),
        (json!({"title": "¿¿¿", "body": "b"}), "invalid_article"),
        (
            json!({"title": "T", "body": "b", "tags": ["x".repeat(51)]}),
            "invalid_article",
        ),
        (
            json!({"title": "T", "body": "b", "extra": 1}),
            "invalid_arguments",
        ),
        (json!({"title": 5, "body": "b"}), "invalid_arguments"),
        (json!({"body": "b"}), "invalid_arguments"),
    ];
    for (body, code) in cases {
        let r = app.post(ARTICLES, &m, &body).await;
        assert_eq!((r.status, r.code()), (400, code), "{body}: {}", r.body);
    }
    let r = app
        .send(
            app.client
                .post(format!("{}{ARTICLES}", app.base))
                .bearer_auth(&m)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let r = app
        .put(
            &format!("{ARTICLES}/Bad%20Slug"),
            &m,
            &json!({"title": "T", "body": "b"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_id"));
    let r = app
        .put(
            &format!("{ARTICLES}/a"),
            &m,
            &json!({"title": "T", "body": "b", "slug": "b"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "id_mismatch"));
    let r = app.get(&format!("{ARTICLES}/{}", "x".repeat(81)), &m).await;
    assert_eq!((r.status, r.code()), (400, "invalid_id"));
    let r = app.get(ARTICLES, &m).await;
    assert_eq!(r.body["items"], json!([]), "nothing was stored");
    app.finish().await;
}

#[tokio::test]
async fn viewers_read_and_search_only_managers_write() {
    let app = spawn_app().await;
    seed_demo(&app).await;
    let body = json!({"title": "T", "body": "b"});
    for role in [Role::Viewer, Role::Agent] {
        let k = app.key(role).to_string();
        assert_eq!(app.post(ARTICLES, &k, &body).await.code(), "forbidden");
        assert_eq!(
            app.put(&format!("{ARTICLES}/t"), &k, &body).await.code(),
            "forbidden"
        );
        let r = app.delete(&format!("{ARTICLES}/shipping"), &k).await;
        assert_eq!((r.status, r.code()), (403, "forbidden"));
        assert_eq!(app.get(ARTICLES, &k).await.status, 200);
        assert_eq!(
            app.get(&format!("{ARTICLES}/shipping"), &k).await.status,
            200
        );
        assert_eq!(search(&app, &k, "shipping").await.status, 200);
    }
    let r = app.get(ARTICLES, "hc_not_a_key").await;
    assert_eq!(r.status, 401);
    let r = app
        .get(&format!("{ARTICLES}/shipping"), app.key(Role::Viewer))
        .await;
    assert_eq!(r.status, 200, "still there");
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_never_sees_or_changes_another_tenants_articles() {
    let app = spawn_app().await;
    seed_demo(&app).await;
    let other = app.other_key.clone();
    assert_eq!(app.get(ARTICLES, &other).await.body["items"], json!([]));
    let r = app.get(&format!("{ARTICLES}/shipping"), &other).await;
    assert_eq!((r.status, r.code()), (404, "article_not_found"));
    assert!(hit_slugs(&search(&app, &other, "refunds shipping Canada").await).is_empty());
    let r = app.delete(&format!("{ARTICLES}/shipping"), &other).await;
    assert_eq!(r.status, 404);
    let r = app
        .put(
            &format!("{ARTICLES}/shipping"),
            &other,
            &json!({"title": "Pickup only", "body": "We do not ship."}),
        )
        .await;
    assert_eq!(r.status, 201, "the slug is free in the other tenant");
    let shop = app
        .get(&format!("{ARTICLES}/shipping"), app.key(Role::Viewer))
        .await;
    assert_eq!(
        shop.body["title"], "Shipping & delivery",
        "shop's article untouched"
    );
    let r = search(&app, app.key(Role::Viewer), "pickup").await;
    assert!(hit_slugs(&r).is_empty(), "{}", r.body);
    app.finish().await;
}

async fn chat(app: &TestApp, key: &str, text: &str) -> (String, Value) {
    let r = app
        .post("/v1/conversations", key, &json!({"channel": "chat"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/conversations/{id}/messages"),
            key,
            &json!({"text": text}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    (id, r.body)
}

fn knowledge_call(turn: &Value) -> &Value {
    turn["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "search_knowledge_base")
        .unwrap_or_else(|| panic!("no search_knowledge_base call: {turn}"))
}

#[tokio::test]
async fn the_agent_answers_a_policy_question_from_the_article_and_cites_it() {
    let app = spawn_app().await;
    seed_demo(&app).await;
    let key = app.key(Role::Agent).to_string();
    let (id, turn) = chat(&app, &key, "how long do refunds take?").await;
    let reply = turn["reply"]["text"].as_str().unwrap();
    assert!(
        reply.starts_with("From our \"Returns & refunds\" article:"),
        "{reply}"
    );
    assert!(
        reply.contains("business days"),
        "quotes the passage: {reply}"
    );
    let call = knowledge_call(&turn);
    assert_eq!(call["arguments"]["query"], "how long do refunds take?");
    assert_eq!(call["output"][0]["slug"], "returns-and-refunds");
    assert_eq!(turn["status"], "open");
    let transcript = app.get(&format!("/v1/conversations/{id}"), &key).await;
    let stored = transcript.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["tool_calls"].as_array().cloned().unwrap_or_default())
        .any(|c| c["name"] == "search_knowledge_base");
    assert!(stored, "the call is in the transcript: {}", transcript.body);

    let (_, turn) = chat(&app, &key, "do you ship to Canada?").await;
    let reply = turn["reply"]["text"].as_str().unwrap();
    assert!(reply.contains("\"Shipping & delivery\""), "{reply}");
    assert!(reply.contains("Canada"), "{reply}");
    app.finish().await;
}

#[tokio::test]
async fn without_a_matching_article_the_agent_says_so_and_offers_a_human() {
    let app = spawn_app().await;
    // Tenant `other` has no articles.
    let (_, turn) = chat(&app, &app.other_key.clone(), "how long do refunds take?").await;
    let reply = turn["reply"]["text"].as_str().unwrap();
    assert!(reply.contains("couldn't find"), "{reply}");
    assert!(reply.contains("human"), "{reply}");
    assert_eq!(knowledge_call(&turn)["output"], json!([]));
    assert_eq!(turn["status"], "open", "not escalated on the first miss");

    // A word in common ("store") is not an answer.
    seed_demo(&app).await;
    let (_, turn) = chat(&app, app.key(Role::Agent), "what are your store hours?").await;
    let reply = turn["reply"]["text"].as_str().unwrap();
    assert!(reply.contains("couldn't find"), "{reply}");
    assert_eq!(knowledge_call(&turn)["output"], json!([]));
    app.finish().await;
}

#[tokio::test]
async fn a_policy_question_in_the_middle_of_a_task_is_answered_and_the_task_goes_on() {
    let app = spawn_app().await;
    seed_demo(&app).await;
    let key = app.key(Role::Agent).to_string();
    let (id, turn) = chat(&app, &key, "Hi, I'd like to cancel my order please").await;
    assert!(turn["reply"]["text"].as_str().unwrap().contains("email"));
    let say = |text: &'static str| {
        let app = &app;
        let key = key.clone();
        let id = id.clone();
        async move {
            app.post(
                &format!("/v1/conversations/{id}/messages"),
                &key,
                &json!({"text": text}),
            )
            .await
            .body
        }
    };
    let turn = say("how long do refunds take?").await;
    let reply = turn["reply"]["text"].as_str().unwrap();
    assert!(
        reply.starts_with("From our \"Returns & refunds\" article"),
        "{reply}"
    );
    let turn = say("sure, it's Zoe.Muller@example.com").await;
    let reply = turn["reply"]["text"].as_str().unwrap().to_lowercase();
    assert!(
        reply.contains("#w0000001") && (reply.contains("why") || reply.contains("reason")),
        "the cancellation continues: {reply}"
    );
    app.finish().await;
}

struct Articles(std::sync::Arc<hc_knowledge::KnowledgeBase>);

#[async_trait::async_trait]
impl hc_agent::KnowledgeSearch for Articles {
    async fn search(
        &self,
        tenant: &hc_domain::TenantId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<hc_domain::KnowledgeHit>, hc_domain::ToolError> {
        self.0
            .answer(tenant, query, limit)
            .await
            .map_err(|e| hc_domain::ToolError {
                code: e.code().into(),
                message: e.to_string(),
            })
    }
}

#[tokio::test]
async fn the_gate_runs_the_knowledge_tool_checks_its_arguments_and_records_every_call() {
    use hc_agent::gate::Gate;
    use hc_agent::state::DialogueState;
    let app = spawn_app().await;
    seed_demo(&app).await;
    let tools = app.tools();
    let shop = hc_domain::TenantId::parse("shop").unwrap();
    let kb = hc_knowledge::KnowledgeBase::new(
        std::sync::Arc::new(app.db.store.clone()),
        hc_knowledge::KnowledgeConfig::default(),
    );
    let articles = Articles(std::sync::Arc::new(kb));
    let mut state = DialogueState::default();
    let actor = hc_commerce::Actor::new(shop.clone(), "agent:test");
    let mut gate = Gate::new(&tools, actor.clone(), &mut state).with_knowledge(Some(&articles));
    let ok = gate
        .call(
            "search_knowledge_base",
            json!({"query": "do you accept paypal", "limit": 1}),
            0.9,
        )
        .await
        .unwrap();
    assert_eq!(ok[0]["slug"], "payment-methods", "no sign-in needed: {ok}");
    for (args, code) in [
        (json!({"q": "paypal"}), "invalid_arguments"),
        (json!({"query": 5}), "invalid_arguments"),
        (
            json!({"query": "paypal", "extra": true}),
            "invalid_arguments",
        ),
        (json!({"query": "  "}), "invalid_query"),
    ] {
        let e = gate
            .call("search_knowledge_base", args.clone(), 0.9)
            .await
            .unwrap_err();
        assert_eq!(e.code, code, "{args}");
    }
    let calls = gate.into_calls();
    assert_eq!(calls.len(), 5, "every call is recorded");
    assert!(calls[1].error.is_some() && calls[0].output.is_some());

    let mut state = DialogueState::default();
    let mut bare = Gate::new(&tools, actor, &mut state);
    let e = bare
        .call("search_knowledge_base", json!({"query": "paypal"}), 0.9)
        .await
        .unwrap_err();
    assert_eq!(e.code, "unknown_tool", "no knowledge base, no tool");

    let spec = hc_agent::knowledge_tool_spec();
    assert_eq!(spec.name, hc_agent::KNOWLEDGE_TOOL);
    assert_eq!(spec.parameters["required"], json!(["query"]));
    app.finish().await;
}

#[tokio::test]
async fn a_product_question_and_a_policy_question_in_one_message_are_both_answered() {
    let app = spawn_app().await;
    seed_demo(&app).await;
    let key = app.key(Role::Agent).to_string();
    let (_, turn) = chat(
        &app,
        &key,
        "do you sell water bottles? And also, how long do refunds take?",
    )
    .await;
    let reply = turn["reply"]["text"].as_str().unwrap();
    assert!(reply.contains("Water Bottle"), "the product: {reply}");
    assert!(
        reply.contains("\"Returns & refunds\""),
        "and the policy: {reply}"
    );
    let names: Vec<&str> = turn["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"search_products"), "{names:?}");
    assert!(names.contains(&"search_knowledge_base"), "{names:?}");
    app.finish().await;
}

#[tokio::test]
async fn an_article_written_through_another_process_is_found_within_a_second_or_so() {
    for db in hc_store::testing::all().await {
        let label = db.label;
        let second = db.second_handle().await;
        let here =
            crate::helpers::spawn_app_with(db, crate::helpers::config(), crate::helpers::MINI_DB)
                .await;
        let there = crate::helpers::spawn_app_on(second, crate::helpers::config()).await;
        let viewer = here.key(Role::Viewer).to_string();
        let r = search(&here, &viewer, "how long do refunds take").await;
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert!(
            hit_slugs(&r).is_empty(),
            "{label}: nothing yet (index built)"
        );

        let r = there
            .post(
                ARTICLES,
                there.key(Role::Manager),
                &json!({"title": "Refunds", "body": "Refunds take five business days.", "tags": []}),
            )
            .await;
        assert_eq!(r.status, 201, "{label}: {}", r.body);
        // The other process notices the revision moved (checked at most once a second).
        let found = poll(|| async {
            hit_slugs(&search(&here, &viewer, "how long do refunds take").await) == ["refunds"]
        })
        .await;
        assert!(
            found,
            "{label}: the write through the other process is searchable"
        );

        let r = there
            .delete(&format!("{ARTICLES}/refunds"), there.key(Role::Manager))
            .await;
        assert_eq!(r.status, 204, "{label}: {}", r.body);
        let gone = poll(|| async {
            hit_slugs(&search(&here, &viewer, "how long do refunds take").await).is_empty()
        })
        .await;
        assert!(gone, "{label}: the deletion too");
        there.finish().await;
        here.finish().await;
    }
}

/// True as soon as `check` is, within three seconds.
async fn poll<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
