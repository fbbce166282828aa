//! Imports of clients, employees, market intelligence, agent resources and documents, and who
//! gets to see what they hold.

use reqwest::StatusCode;
use roost_tests::{TestServer, on_both_backends};
use serde_json::Value;

on_both_backends!(
    clients_are_assigned_to_their_agents,
    knowledge_imports_json_documents_and_audiences,
    the_demo_company_comes_with_data
);

fn names(v: &Value, key: &str) -> Vec<String> {
    let mut n: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap_or("").to_string())
        .collect();
    n.sort();
    n
}

async fn clients_are_assigned_to_their_agents(s: TestServer) {
    let t = s.register("Client Homes", "clh", "professional").await;
    let (_, sara) = s.add_user(&t, "sara@clh.test", &["agent"]).await;
    let (_, omar) = s.add_user(&t, "omar@clh.test", &["agent"]).await;
    let (_, mgr) = s.add_user(&t, "mgr@clh.test", &["manager"]).await;
    let csv = "Client Ref;Full Name;E-mail;Mobile;Budget (AED);Assigned Agent\n\
               C-1;Layla Haddad;layla@mail.test;+971 50 111 2222;2.5M;sara@clh.test\n\
               C-2;Ivan Petrov;ivan@mail.test;;1.2M - 1.8M;OMAR@clh.test\n\
               C-3;No Contact;;;;sara@clh.test\n";
    let strict = s
        .import(&t.admin.access, "clients.csv", csv.into(), "kind=clients")
        .await;
    assert_eq!(
        (strict.status, strict.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected"),
        "{}",
        strict.body
    );
    assert!(
        strict.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("row 4"),
        "{}",
        strict.body
    );
    let r = s
        .import(
            &t.admin.access,
            "clients.csv",
            csv.into(),
            "kind=clients&validation=lenient",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["stored"]["inserted"], 2);
    assert_eq!(r.body["records_preview"][0]["name"], "Layla Haddad");

    assert_eq!(
        names(&s.get("/api/v1/clients", &sara.access).await.body, "name"),
        ["Layla Haddad"]
    );
    assert_eq!(
        names(&s.get("/api/v1/clients", &omar.access).await.body, "name"),
        ["Ivan Petrov"]
    );
    assert_eq!(
        names(&s.get("/api/v1/clients", &mgr.access).await.body, "name"),
        ["Ivan Petrov", "Layla Haddad"]
    );
    let agents_cannot_import = s
        .import(&sara.access, "c.csv", csv.into(), "kind=clients")
        .await;
    assert_eq!(agents_cannot_import.status, StatusCode::FORBIDDEN);
}

async fn knowledge_imports_json_documents_and_audiences(s: TestServer) {
    let t = s.register("Know Homes", "know", "professional").await;
    let (_, agent) = s.add_user(&t, "agent@know.test", &["agent"]).await;
    let (_, mgr) = s.add_user(&t, "mgr@know.test", &["manager"]).await;

    // Market intelligence: one bad item; strict names its path, lenient stores the rest.
    let mi = r#"{ "currency": "AED", "items": [
        { "area": "Jumeirah Village Circle", "period": "2026-Q3", "property_type": "Apartment",
          "bedrooms": 2, "median_price_per_sqft": 1210.5, "transactions": 312 },
        { "area": "Dubai Marina", "period": "2026-Q3", "gross_yield_pct": "lots" } ] }"#;
    let dry = s
        .import(
            &t.admin.access,
            "mi.json",
            mi.into(),
            "kind=market_intelligence&dry_run=true",
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(
        dry.body["problems"][0]["field"], "$.items[1].gross_yield_pct",
        "{}",
        dry.body
    );
    assert_eq!(dry.body["problems"][0]["row"], 2);
    let strict = s
        .import(
            &t.admin.access,
            "mi.json",
            mi.into(),
            "kind=market_intelligence",
        )
        .await;
    assert_eq!(strict.code(), "import_rejected");
    let ok = s
        .import(
            &t.admin.access,
            "mi.json",
            mi.into(),
            "kind=market_intelligence&validation=lenient",
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // Resources with an audience: a managers-only one stays away from agents.
    let res = r#"{ "resources": [
        { "title": "Off-plan commission split", "body": "Off-plan deals split commission 50/50 between listing and selling agent.", "tags": ["commission"] },
        { "title": "Team targets Q4", "body": "Quarterly targets per agent.", "audience": ["manager", "admin"] } ] }"#;
    let r = s
        .import(
            &t.admin.access,
            "res.json",
            res.into(),
            "kind=agent_resources",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Employees become searchable team profiles.
    let team = "Email,Name,Languages,Areas,Title\nnadia@know.test,Nadia Karim,\"English, Russian\",Palm Jumeirah,Senior Agent\n";
    let r = s
        .import(&t.admin.access, "team.csv", team.into(), "kind=employees")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A document is chunked; uploading it again replaces its chunks.
    let long: String = (1..=40)
        .map(|i| {
            format!(
                "Rule {i}: agents log every viewing in the CRM within one day of the visit.\n\n"
            )
        })
        .collect();
    let doc = format!("# Viewing policy\n\n{long}");
    let r = s
        .import(&t.admin.access, "policy.md", doc.into(), "kind=documents")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let first_chunks = r.body["stored"]["inserted"].as_u64().unwrap();
    assert!(first_chunks >= 2, "{}", r.body);
    let r = s
        .import(
            &t.admin.access,
            "policy.md",
            "# Viewing policy\n\nLog viewings the same day.\n".into(),
            "kind=documents",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["stored"]["deleted"].as_u64().unwrap(),
        first_chunks - 1,
        "{}",
        r.body
    );

    let seen_by = |token: &str| {
        let token = token.to_string();
        let s = &s;
        async move { names(&s.get("/api/v1/knowledge", &token).await.body, "title") }
    };
    let agent_sees = seen_by(&agent.access).await;
    assert!(
        agent_sees.contains(&"Off-plan commission split".to_string()),
        "{agent_sees:?}"
    );
    assert!(
        !agent_sees.contains(&"Team targets Q4".to_string()),
        "{agent_sees:?}"
    );
    assert!(agent_sees.contains(&"Nadia Karim".to_string()));
    assert!(agent_sees.contains(&"Market figures: Jumeirah Village Circle".to_string()));
    assert_eq!(
        agent_sees
            .iter()
            .filter(|t| t.starts_with("policy") || t.contains("Viewing policy"))
            .count(),
        1
    );
    assert!(
        seen_by(&mgr.access)
            .await
            .contains(&"Team targets Q4".to_string())
    );

    let k = s.get("/api/v1/knowledge", &agent.access).await;
    let nadia = k
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Nadia Karim")
        .unwrap();
    assert_eq!(nadia["kind"], "employee");
    assert!(
        nadia["body"].as_str().unwrap().contains("Russian"),
        "{nadia}"
    );

    let bad = s
        .import(
            &t.admin.access,
            "empty.md",
            "   \n".into(),
            "kind=documents",
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_file")
    );
    let unknown = s
        .import(&t.admin.access, "x.csv", "a\n1\n".into(), "kind=villas")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

roost_tests::on_both_backends_raw!(the_shared_knowledge_base_is_the_operators);

async fn the_shared_knowledge_base_is_the_operators(backend: roost_tests::Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.operator_token = Some(roost_server::settings::Secret(
            "operator-secret-token".into(),
        ));
    })
    .await
    else {
        return;
    };
    let a = s.register("Shared A", "sha", "starter").await;
    let b = s.register("Shared B", "shb", "starter").await;
    let law = r#"[{ "title": "RERA escrow law", "body": "Off-plan payments go to an escrow account registered with RERA." }]"#;
    let refused = s
        .import(
            &a.admin.access,
            "law.json",
            law.into(),
            "shared_kind=agent_resources",
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "a company admin is not the operator"
    );
    let wrong_kind = s
        .import(
            "operator-secret-token",
            "l.csv",
            "Ref,Title,Price\nX,y,AED 1\n".into(),
            "shared_kind=properties",
        )
        .await;
    assert_eq!(wrong_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = s
        .import(
            "operator-secret-token",
            "law.json",
            law.into(),
            "shared_kind=agent_resources",
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    for t in [&a, &b] {
        let own = s.get("/api/v1/knowledge", &t.admin.access).await;
        assert_eq!(
            own.body,
            serde_json::json!([]),
            "the company's own knowledge is separate"
        );
        let with = s
            .get("/api/v1/knowledge?include_shared=true", &t.admin.access)
            .await;
        assert_eq!(names(&with.body, "title"), ["RERA escrow law"]);
    }
    // The shared base is no company: nobody signs in to it.
    let r = s
        .try_login("roost-shared", "operator@roost.invalid", "anything-at-all")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn the_demo_company_comes_with_data(s: TestServer) {
    assert!(roost_server::demo::seed(&s.state).await.unwrap(), "created");
    assert!(
        !roost_server::demo::seed(&s.state).await.unwrap(),
        "idempotent"
    );
    let agent = s
        .login("demo", "agent@demo.roost.test", "demo-agent-pass")
        .await;
    let listings = s.all_listings(&agent.access).await;
    assert_eq!(listings.len(), 300);
    let villas_in_ranches = listings
        .iter()
        .filter(|l| l["community"] == "Arabian Ranches" && l["property_type"] == "Villa")
        .count();
    assert!(villas_in_ranches >= 10, "{villas_in_ranches}");
    assert!(listings.iter().all(|l| l["price"]["currency"] == "AED"));
    assert_eq!(
        names(&s.get("/api/v1/clients", &agent.access).await.body, "name"),
        ["Ivan Petrov", "Layla Haddad"]
    );
    let knowledge = names(
        &s.get("/api/v1/knowledge", &agent.access).await.body,
        "title",
    );
    assert!(
        knowledge.contains(&"Off-plan commission split".to_string()),
        "{knowledge:?}"
    );
    assert!(
        !knowledge.contains(&"Quarterly targets".to_string()),
        "managers only"
    );
}

/// The documented JSON shapes (in the OpenAPI document) and the parser agree.
#[test]
fn documented_json_formats_parse() {
    use roost_api::import_formats::*;
    let mi = MarketIntelligenceFile {
        currency: Some("AED".into()),
        source: Some("DLD".into()),
        items: vec![MarketItem {
            area: "Jumeirah Village Circle".into(),
            city: Some("Dubai".into()),
            period: Some(serde_json::json!("2026-Q3")),
            property_type: Some("Apartment".into()),
            bedrooms: Some(serde_json::json!(2)),
            median_price: Some(serde_json::json!("AED 1.15M")),
            median_price_per_sqft: Some(serde_json::json!(1210.5)),
            average_rent: Some(serde_json::json!(95000)),
            currency: None,
            gross_yield_pct: Some(serde_json::json!("7.4%")),
            transactions: Some(312),
            price_change_pct: Some(serde_json::json!(-1.5)),
            days_on_market: Some(41),
            notes: Some("Handovers in Q4".into()),
            source: None,
        }],
    };
    let bytes = serde_json::to_vec(&mi).unwrap();
    let parsed =
        roost_import::parse_market_intelligence(&bytes, "mi.json", &Default::default()).unwrap();
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.records.len(), 1);

    let res = AgentResourcesFile {
        resources: vec![ResourceItem {
            id: Some("split".into()),
            title: "Commission split".into(),
            body: "50/50.".into(),
            tags: vec!["commission".into()],
            audience: Some(vec!["manager".into()]),
            updated_at: Some("2026-10-01".into()),
        }],
    };
    let bytes = serde_json::to_vec(&res).unwrap();
    let parsed =
        roost_import::parse_agent_resources(&bytes, "r.json", &Default::default()).unwrap();
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
}
