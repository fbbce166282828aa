use reqwest::{Method, StatusCode};
use roost_tests::{TestServer, on_both_backends};
use serde_json::json;

on_both_backends!(config_etag_round_trip, config_validation_names_the_field);

async fn config_etag_round_trip(s: TestServer) {
    let t = s.register("Creek Estates", "creek", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@creek.test", &["agent"]).await;

    let first = s.get("/api/v1/config", &agent.access).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.header("etag"), Some("\"1\""));
    assert_eq!(first.body["version"], 1);
    assert_eq!(
        first.body["config"]["company_info"]["name"],
        "Creek Estates"
    );

    let cached = s
        .req(Method::GET, "/api/v1/config", Some(&agent.access))
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    let mut cfg = first.body["config"].clone();
    cfg["company_info"]["primary_color"] = json!("#0A7E8C");
    cfg["company_info"]["logo_url"] = json!("https://cdn.creek.test/logo.png");
    cfg["knowledge_base"]["regions"] = json!(["Dubai Creek Harbour", "Downtown"]);

    // Agents cannot write config.
    let put = |token: &str, etag: Option<&str>, body: serde_json::Value| {
        let mut rb = s
            .req(Method::PUT, "/api/v1/config", Some(token))
            .json(&body);
        if let Some(e) = etag {
            rb = rb.header("if-match", e);
        }
        async move { roost_tests::Resp::from(rb.send().await.unwrap()).await }
    };
    let r = put(&agent.access, Some("\"1\""), cfg.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = put(&t.admin.access, None, cfg.clone()).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED, "{}", r.body);

    let r = put(&t.admin.access, Some("\"1\""), cfg.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.body["version"], 2);

    // A second admin editing the old version gets 412, and nothing changes.
    let mut other = cfg.clone();
    other["company_info"]["primary_color"] = json!("#FF0000");
    let r = put(&t.admin.access, Some("\"1\""), other).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
    assert_eq!(r.code(), "precondition_failed");

    let now = s.get("/api/v1/config", &agent.access).await;
    assert_eq!(now.header("etag"), Some("\"2\""));
    assert_eq!(
        now.body["config"]["company_info"]["primary_color"],
        "#0A7E8C"
    );
    // The old ETag no longer short-circuits.
    let stale = s
        .req(Method::GET, "/api/v1/config", Some(&agent.access))
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
}

async fn config_validation_names_the_field(s: TestServer) {
    let t = s.register("Starter Co", "starterco", "starter").await;
    let cfg = s.get("/api/v1/config", &t.admin.access).await.body["config"].clone();
    assert_eq!(
        cfg["features"]["analytics"], false,
        "starter starts without analytics"
    );

    let cases = [
        (
            "/company_info/primary_color",
            json!("blue"),
            "company_info.primary_color",
            "validation_failed",
        ),
        (
            "/company_info/secondary_color",
            json!("#12345"),
            "company_info.secondary_color",
            "validation_failed",
        ),
        (
            "/company_info/logo_url",
            json!("not a url"),
            "company_info.logo_url",
            "validation_failed",
        ),
        (
            "/company_info/primary_colour",
            json!("#000000"),
            "company_info.primary_colour",
            "unknown_field",
        ),
        (
            "/features/analytics",
            json!(true),
            "features.analytics",
            "validation_failed",
        ),
        (
            "/features/chat",
            json!("yes"),
            "features.chat",
            "malformed_body",
        ),
        (
            "/knowledge_base/languages",
            json!(["en", ""]),
            "knowledge_base.languages[1]",
            "validation_failed",
        ),
        ("/extra", json!({}), "extra", "unknown_field"),
    ];
    for (pointer, value, field, code) in cases {
        let mut body = cfg.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = if parent.is_empty() {
            &mut body
        } else {
            body.pointer_mut(parent).unwrap()
        };
        target[key] = value;
        let r = roost_tests::Resp::from(
            s.req(Method::PUT, "/api/v1/config", Some(&t.admin.access))
                .header("if-match", "\"1\"")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{pointer}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{pointer}: {}", r.body);
        assert_eq!(r.code(), code, "{pointer}: {}", r.body);
    }
    let unchanged = s.get("/api/v1/config", &t.admin.access).await;
    assert_eq!(
        unchanged.body["version"], 1,
        "rejected writes change nothing"
    );
}
