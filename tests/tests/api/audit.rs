use reqwest::{Method, StatusCode};
use roost_tests::{TestServer, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(every_write_is_audited_with_actor_and_device);

async fn every_write_is_audited_with_actor_and_device(s: TestServer) {
    let t = s.register("Audit Homes", "audit", "professional").await;
    let admin_id = s.get("/api/v1/me", &t.admin.access).await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (agent_id, agent) = s.add_user(&t, "agent@audit.test", &["agent"]).await;
    let bad = s
        .try_login("audit", "agent@audit.test", "wrong-password")
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let r = s
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{agent_id}"),
            Some(&t.admin.access),
            Some(json!({ "name": "Aisha" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let cfg = s.get("/api/v1/config", &t.admin.access).await;
    let r = s
        .req(Method::PUT, "/api/v1/config", Some(&t.admin.access))
        .header("if-match", "\"1\"")
        .json(&cfg.body["config"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let phone = s
        .login("audit", "agent@audit.test", "agent@audit.test-pass")
        .await;
    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/me/devices/{}", phone.device_id),
            Some(&agent.access),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&agent.access),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // A failed write leaves no trace in the log.
    let dup = s
        .post(
            "/api/v1/users",
            Some(&t.admin.access),
            json!({ "email": "AGENT@audit.test", "name": "Dup", "roles": ["agent"], "password": "dup-password" }),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);

    let page = s.get("/api/v1/audit?limit=500", &t.admin.access).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let events = page.body["events"].as_array().unwrap().clone();
    let actions: Vec<&str> = events
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "tenant.register",
            "auth.login",  // admin
            "user.create", // agent
            "auth.login",  // agent
            "auth.login_failed",
            "user.update",
            "config.update",
            "auth.login", // agent's phone
            "device.revoke",
            "auth.logout",
        ]
    );
    let find =
        |action: &str| -> Vec<&Value> { events.iter().filter(|e| e["action"] == action).collect() };
    let create = find("user.create")[0];
    assert_eq!(create["actor_user_id"], admin_id);
    assert_eq!(create["actor_device_id"], t.admin.device_id);
    assert_eq!(create["target_id"], agent_id);
    assert_eq!(create["ip"], "127.0.0.1");
    assert_eq!(create["details"]["roles"], json!(["agent"]));
    let update = find("user.update")[0];
    assert_eq!(update["details"]["before"]["name"], "User agent@audit.test");
    assert_eq!(update["details"]["after"]["name"], "Aisha");
    let revoke = find("device.revoke")[0];
    assert_eq!(revoke["actor_user_id"], agent_id);
    assert_eq!(revoke["target_id"], phone.device_id);
    let failed = find("auth.login_failed")[0];
    assert_eq!(failed["actor_user_id"], Value::Null);
    assert_eq!(failed["details"]["email"], "agent@audit.test");
    for e in &events {
        let text = e.to_string();
        assert!(!text.contains("pass"), "no secret in the audit log: {text}");
    }
    // Sequence numbers strictly increase; pages chain without gaps or repeats.
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    let mut paged = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/api/v1/audit?limit=3&before={b}"),
            None => "/api/v1/audit?limit=3".to_string(),
        };
        let p = s.get(&path, &t.admin.access).await;
        paged.extend(
            p.body["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap()),
        );
        match p.body["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(paged, seqs);
    for bad in ["limit=abc", "before=x", "colour=red"] {
        let r = s
            .get(&format!("/api/v1/audit?{bad}"), &t.admin.access)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "validation_failed"),
            "{bad}: {}",
            r.body
        );
    }
}
