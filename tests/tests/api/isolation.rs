//! Tenant isolation and role limits across every endpoint. The coverage check at the end
//! fails when a route is added to the API without being added here.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use roost_tests::{Session, Tenant, TestServer, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(isolation_matrix_and_role_limits);

struct Company {
    t: Tenant,
    admin_id: String,
    manager: Session,
    manager_id: String,
    agent: Session,
    agent_id: String,
}

async fn company(s: &TestServer, name: &str, slug: &str) -> Company {
    let t = s.register(name, slug, "professional").await;
    let admin_id = s.get("/api/v1/me", &t.admin.access).await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (manager_id, manager) = s
        .add_user(&t, &format!("manager@{slug}.test"), &["manager"])
        .await;
    let (agent_id, agent) = s
        .add_user(&t, &format!("agent@{slug}.test"), &["agent"])
        .await;
    Company {
        t,
        admin_id,
        manager,
        manager_id,
        agent,
        agent_id,
    }
}

/// Every string in `v`, recursively.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

fn assert_no_trace_of(body: &Value, a: &Company, what: &str) {
    let mut all = Vec::new();
    strings(body, &mut all);
    let secrets = [
        a.t.id.as_str(),
        a.t.slug.as_str(),
        a.admin_id.as_str(),
        a.manager_id.as_str(),
        a.agent_id.as_str(),
        a.t.admin.device_id.as_str(),
        "Alpha Realty",
        "agent@alpha.test",
        "#A1A1A1",
        "ALPHA-SECRET-1",
        "Alpha penthouse",
    ];
    for s in &all {
        for secret in secrets {
            assert!(
                !s.contains(secret),
                "{what} leaked '{secret}' of the other tenant: {body}"
            );
        }
    }
}

async fn isolation_matrix_and_role_limits(s: TestServer) {
    let a = company(&s, "Alpha Realty", "alpha").await;
    let b = company(&s, "Beta Homes", "beta").await;

    // Give A some distinctive config so a leak would show.
    let cfg = s.get("/api/v1/config", &a.t.admin.access).await;
    let mut body = cfg.body["config"].clone();
    body["company_info"]["primary_color"] = json!("#A1A1A1");
    let r = s
        .req(Method::PUT, "/api/v1/config", Some(&a.t.admin.access))
        .header("if-match", cfg.header("etag").unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // And listings, through an import whose report B must not reach.
    let csv = "Ref,Title,Price,Community\nALPHA-SECRET-1,Alpha penthouse,AED 9M,Palm Jumeirah\n";
    let imported = s
        .import(&a.t.admin.access, "alpha.csv", csv.into(), "")
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let a_import = imported.body["id"].as_str().unwrap().to_string();
    let a_listing = s.all_listings(&a.t.admin.access).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // And an image, which B must not read.
    let r = s
        .req(Method::POST, "/api/v1/media", Some(&a.t.admin.access))
        .body(b"\x89PNG\r\n\x1a\nALPHA-SECRET-1".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a_media = r.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();

    // And a client and a knowledge item of A's.
    let clients = "Ref,Name,Email,Agent Email\nALPHA-SECRET-1,Alpha penthouse buyer,buyer@alpha.test,agent@alpha.test\n";
    let r = s
        .import(&a.t.admin.access, "c.csv", clients.into(), "kind=clients")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let res = r#"[{ "title": "Alpha penthouse playbook", "body": "How we sell the penthouse." }]"#;
    let r = s
        .import(
            &a.t.admin.access,
            "r.json",
            res.into(),
            "kind=agent_resources",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        s.get("/api/v1/clients", &a.agent.access)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    let mut cover = |m: &str, p: &str| {
        covered.insert((m.to_string(), p.to_string()));
    };

    // Public and operational routes carry no tenant data.
    for p in ["/healthz", "/readyz"] {
        let r = s.call(Method::GET, p, None, None).await;
        assert_eq!(r.status, StatusCode::OK);
        cover("get", p);
    }

    // B's sessions, in every role, against A's ids and B's own views.
    let b_sessions = [
        ("admin", &b.t.admin),
        ("manager", &b.manager),
        ("agent", &b.agent),
    ];
    for (role, sess) in b_sessions {
        let me = s.get("/api/v1/me", &sess.access).await;
        assert_eq!(me.body["tenant"]["slug"], "beta");
        assert_no_trace_of(&me.body, &a, "GET /me");

        for id in [&a.admin_id, &a.manager_id, &a.agent_id] {
            let r = s.get(&format!("/api/v1/users/{id}"), &sess.access).await;
            let want = if role == "agent" {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(r.status, want, "{role} GET A's user: {}", r.body);
            assert_no_trace_of(&r.body, &a, "GET /users/{id}");

            let r = s
                .call(
                    Method::PATCH,
                    &format!("/api/v1/users/{id}"),
                    Some(&sess.access),
                    Some(json!({ "name": "Hijacked" })),
                )
                .await;
            let want = if role == "admin" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role} PATCH A's user: {}", r.body);
        }

        let feed = s
            .get("/api/v1/sync/changes?since=0&limit=2000", &sess.access)
            .await;
        assert_eq!(feed.status, StatusCode::OK);
        assert_no_trace_of(&feed.body, &a, "GET /sync/changes");

        for p in ["/api/v1/knowledge", "/api/v1/clients"] {
            let r = s.get(p, &sess.access).await;
            assert_eq!(r.status, StatusCode::OK, "{p}");
            assert_no_trace_of(&r.body, &a, p);
        }

        let listings = s.get("/api/v1/listings", &sess.access).await;
        assert_eq!(listings.status, StatusCode::OK);
        assert_no_trace_of(&listings.body, &a, "GET /listings");
        let r = s
            .get(&format!("/api/v1/listings/{a_listing}"), &sess.access)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{role} GET A's listing");
        for path in [
            format!("/api/v1/imports/{a_import}"),
            format!("/api/v1/imports/{a_import}/problems.csv"),
        ] {
            let r = s.get(&path, &sess.access).await;
            let want = if role == "agent" {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(r.status, want, "{role} {path}: {}", r.body);
            assert_no_trace_of(&r.body, &a, "GET import report");
        }
        let r = s.get(&a_media, &sess.access).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{role} GET A's image");
        assert_no_trace_of(&r.body, &a, "GET /media/{id}");
        let r = s
            .req(Method::POST, "/api/v1/media", Some(&sess.access))
            .body(format!("\x1b[m{role}").into_bytes())
            .send()
            .await
            .unwrap();
        let want = if role == "agent" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        };
        assert_eq!(r.status(), want, "{role} uploading");
        let r = s
            .call(
                Method::DELETE,
                &format!("/api/v1/me/devices/{}", a.t.admin.device_id),
                Some(&sess.access),
                None,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{role} revoking A's device: {}",
            r.body
        );

        let devices = s.get("/api/v1/me/devices", &sess.access).await;
        assert_eq!(devices.status, StatusCode::OK);
        assert_no_trace_of(&devices.body, &a, "GET /me/devices");

        let cfg = s.get("/api/v1/config", &sess.access).await;
        assert_eq!(cfg.body["config"]["company_info"]["name"], "Beta Homes");
        assert_no_trace_of(&cfg.body, &a, "GET /config");

        let users = s.get("/api/v1/users", &sess.access).await;
        if role == "agent" {
            assert_eq!(users.status, StatusCode::FORBIDDEN);
        } else {
            assert_eq!(users.body["users"].as_array().unwrap().len(), 3);
            assert_no_trace_of(&users.body, &a, "GET /users");
        }

        let audit = s.get("/api/v1/audit?limit=500", &sess.access).await;
        if role == "admin" {
            assert_eq!(audit.status, StatusCode::OK);
            assert!(!audit.body["events"].as_array().unwrap().is_empty());
            assert_no_trace_of(&audit.body, &a, "GET /audit");
        } else {
            assert_eq!(audit.status, StatusCode::FORBIDDEN, "{role} reading audit");
        }
    }
    // A is untouched by all of that.
    let a_agent = s
        .get(&format!("/api/v1/users/{}", a.agent_id), &a.t.admin.access)
        .await;
    assert_eq!(a_agent.body["name"], "User agent@alpha.test");
    assert_eq!(
        s.get("/api/v1/me", &a.t.admin.access).await.status,
        StatusCode::OK,
        "A's device still signed in"
    );
    for p in [
        "/api/v1/me",
        "/api/v1/me/devices",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/config",
    ] {
        cover("get", p);
    }
    cover("get", "/api/v1/users/{id}");
    cover("get", "/api/v1/listings");
    cover("get", "/api/v1/sync/changes");
    cover("get", "/api/v1/knowledge");
    cover("get", "/api/v1/clients");
    cover("get", "/api/v1/listings/{id}");
    cover("get", "/api/v1/imports/{id}");
    cover("get", "/api/v1/imports/{id}/problems.csv");
    cover("get", "/api/v1/media/{id}");
    cover("post", "/api/v1/media");
    // Public photo links are signed per company: a link the server made for B never opens
    // A's image, and A's own link opens only A's.
    let a_media_id: uuid::Uuid = a_media.rsplit('/').next().unwrap().parse().unwrap();
    let tenant_of = |t: &Tenant| roost_db::TenantId::from_verified(t.id.parse().unwrap());
    let b_link =
        roost_server::routes::media::public_link(&s.state, tenant_of(&b.t), a_media_id).unwrap();
    let r = s
        .call(Method::GET, &b_link.replacen(&s.base, "", 1), None, None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "B's link to A's image: {}",
        r.body
    );
    assert_no_trace_of(&r.body, &a, "GET /public/media/{id}");
    let a_link =
        roost_server::routes::media::public_link(&s.state, tenant_of(&a.t), a_media_id).unwrap();
    let r = s
        .req(Method::GET, &a_link.replacen(&s.base, "", 1), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "A's own link");
    cover("get", "/api/v1/public/media/{id}");
    cover("patch", "/api/v1/users/{id}");
    cover("delete", "/api/v1/me/devices/{id}");

    // Credentials and tokens do not cross tenants.
    let r = s
        .try_login("alpha", "admin@beta.test", "beta-admin-pass")
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "B's admin signing in to A"
    );
    let (_, b_secret) = b.t.admin.refresh.split_once('.').unwrap();
    let cross = format!("{}.{}", a.t.id.replace('-', ""), b_secret);
    let r = s
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": cross }),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "B's refresh secret under A's tenant id"
    );
    cover("post", "/api/v1/auth/login");
    cover("post", "/api/v1/auth/refresh");

    // Creating a user with an email that exists in A is fine in B (emails are per tenant)
    // and says nothing about A.
    let r = s
        .post(
            "/api/v1/users",
            Some(&b.t.admin.access),
            json!({ "email": "agent@alpha.test", "name": "Same Email", "roles": ["agent"], "password": "same-email-pass" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    cover("post", "/api/v1/users");

    // B importing the same reference creates B's own listing; A's is untouched.
    let r = s
        .import(
            &b.t.admin.access,
            "beta.csv",
            "Ref,Title,Price\nALPHA-SECRET-1,Beta flat,AED 1M\n".into(),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        s.all_listings(&b.t.admin.access).await[0]["title"],
        "Beta flat"
    );
    assert_eq!(
        s.all_listings(&a.t.admin.access).await[0]["title"],
        "Alpha penthouse"
    );
    cover("post", "/api/v1/imports/{kind}");
    // Only the operator writes the shared knowledge base; a company admin's token is not it.
    let r = s
        .import(
            &b.t.admin.access,
            "x.json",
            "[]".into(),
            "shared_kind=agent_resources",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    cover("post", "/api/v1/shared/imports/{kind}");

    // Role limits inside a tenant.
    let new_user = json!({ "email": "x@beta.test", "name": "X", "roles": ["agent"], "password": "x-password-1" });
    for sess in [&b.manager, &b.agent] {
        let r = s
            .post("/api/v1/users", Some(&sess.access), new_user.clone())
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.email_ctx(sess));
        let cfg = s.get("/api/v1/config", &sess.access).await;
        let r = s
            .req(Method::PUT, "/api/v1/config", Some(&sess.access))
            .header("if-match", cfg.header("etag").unwrap())
            .json(&cfg.body["config"])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{} changing config",
            sess.email
        );
        let r = s
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{}", b.agent_id),
                Some(&sess.access),
                Some(json!({ "roles": ["admin"] })),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{} changing roles",
            sess.email
        );
    }
    // Anyone reads themselves.
    let r = s
        .get(&format!("/api/v1/users/{}", b.agent_id), &b.agent.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    cover("put", "/api/v1/config");

    // The role switcher narrows what a request may do; a role not held is refused.
    let as_agent = s
        .req(Method::POST, "/api/v1/users", Some(&b.t.admin.access))
        .header("x-roost-role", "agent")
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(as_agent.status(), StatusCode::FORBIDDEN);
    let r = s
        .req(Method::GET, "/api/v1/users", Some(&b.agent.access))
        .header("x-roost-role", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Chat: A's agent asks; B in every role asks the same words and reaches none of A's
    // records, conversations or answers; only B's admin may set B's LLM key.
    let question = "Alpha penthouse playbook ALPHA-SECRET-1 in Palm Jumeirah, and my clients";
    let (status, text) = ask(&s, &a.agent.access, json!({ "question": question })).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("Alpha penthouse"),
        "A's own answer cites A: {text}"
    );
    let a_conversation = event_field(&text, "conversation_id");
    let a_message = event_field(&text, "message_id");
    for (role, sess) in b_sessions {
        let (status, text) = ask(&s, &sess.access, json!({ "question": question })).await;
        assert_eq!(status, StatusCode::OK, "{role}: {text}");
        assert_no_trace_of(&Value::String(text), &a, "POST /chat");
        let (status, _) = ask(
            &s,
            &sess.access,
            json!({ "question": "more", "conversation_id": a_conversation }),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{role} continues A's conversation"
        );
        let list = s.get("/api/v1/chat/conversations", &sess.access).await;
        assert_eq!(list.status, StatusCode::OK);
        // B's own conversations only: their titles are B's own question.
        let mut own = list.body.clone();
        for c in own["conversations"].as_array_mut().unwrap() {
            assert_eq!(c["title"], question, "{role}: {c}");
            assert_ne!(c["id"], a_conversation.as_str());
            c["title"] = Value::Null;
        }
        assert_no_trace_of(&own, &a, "GET /chat/conversations");
        let path = format!("/api/v1/chat/conversations/{a_conversation}");
        assert_eq!(
            s.get(&path, &sess.access).await.status,
            StatusCode::NOT_FOUND
        );
        let r = s
            .call(Method::DELETE, &path, Some(&sess.access), None)
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{role} DELETE A's conversation"
        );
        let r = s
            .call(
                Method::PUT,
                &format!("/api/v1/chat/messages/{a_message}/feedback"),
                Some(&sess.access),
                Some(json!({ "rating": "down" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{role} rates A's answer");
        let r = s
            .call(
                Method::PUT,
                "/api/v1/integrations/llm/key",
                Some(&sess.access),
                Some(json!({ "api_key": "sk-beta" })),
            )
            .await;
        let want = if role == "admin" {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status, want, "{role} sets B's LLM key: {}", r.body);
    }
    // A's conversation is untouched by all of that.
    let mine = s
        .get(
            &format!("/api/v1/chat/conversations/{a_conversation}"),
            &a.agent.access,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body["messages"].as_array().unwrap().len(), 2);
    assert!(mine.body["messages"][1]["rating"].is_null());
    cover("post", "/api/v1/chat");
    cover("get", "/api/v1/chat/conversations");
    cover("get", "/api/v1/chat/conversations/{id}");
    cover("delete", "/api/v1/chat/conversations/{id}");
    cover("put", "/api/v1/chat/messages/{id}/feedback");
    cover("put", "/api/v1/integrations/llm/key");

    // Actions: A's agent creates a lead; B in every role can neither read it, nor act for
    // A's client or with A's listing, and the same key in B is B's own action.
    let a_client = s.get("/api/v1/clients", &a.agent.access).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let act = |token: &str, key: &str, body: Value| {
        s.req(Method::POST, "/api/v1/actions", Some(token))
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let r = act(
        &a.agent.access,
        "shared-key-0001",
        json!({ "kind": "create_lead", "lead": { "name": "Alpha penthouse lead", "listings": [a_listing] } }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a_action: Value = r.json().await.unwrap();
    let a_action_id = a_action["id"].as_str().unwrap().to_string();
    for (role, sess) in b_sessions {
        let path = format!("/api/v1/actions/{a_action_id}");
        let r = s.get(&path, &sess.access).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{role} GET A's action");
        assert_no_trace_of(&r.body, &a, "GET /actions/{id}");
        let r = roost_tests::Resp::from(
            act(
                &sess.access,
                "shared-key-0001",
                json!({ "kind": "create_lead", "lead": { "name": format!("Beta lead {role}") } }),
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{role}: {}", r.body);
        assert_ne!(r.body["id"], a_action_id.as_str(), "{role} got A's record");
        assert_no_trace_of(&r.body, &a, "POST /actions");
        let r = roost_tests::Resp::from(
            act(
                &sess.access,
                "beta-key-0002",
                json!({ "kind": "send_showcase", "channel": "whatsapp",
                        "client": { "type": "existing", "id": a_client },
                        "listings": [a_listing], "message": "hi" }),
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{role} showcases A's listing: {}",
            r.body
        );
        assert_eq!(r.field(), Some("listings[0]"));
        let r = roost_tests::Resp::from(
            act(
                &sess.access,
                "beta-key-0003",
                json!({ "kind": "send_showcase", "channel": "whatsapp",
                        "client": { "type": "existing", "id": a_client },
                        "listings": [s.all_listings(&sess.access).await[0]["id"]],
                        "message": "hi" }),
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{role} acts for A's client"
        );
        assert_no_trace_of(&r.body, &a, "POST /actions");
        let list = s.get("/api/v1/actions", &sess.access).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body["actions"].as_array().unwrap().len(), 1, "{role}");
        assert_no_trace_of(&list.body, &a, "GET /actions");
    }
    // Connecting services is for B's admin only (after B's leads above, which need none).
    for (role, sess) in b_sessions {
        for (path, body) in [
            (
                "/api/v1/integrations/whatsapp",
                json!({ "phone_number_id": "1065", "access_token": "EAAG-beta", "app_secret": "beta",
                        "webhook_verify_token": "beta-verify-token" }),
            ),
            (
                "/api/v1/integrations/hubspot",
                json!({ "private_app_token": "pat-beta" }),
            ),
            (
                "/api/v1/integrations/crm-webhook",
                json!({ "url": "https://crm.beta.test/hook", "secret": "beta-secret-0123456789" }),
            ),
            (
                "/api/v1/integrations/email",
                json!({ "host": "127.0.0.1", "port": 2525, "security": "plain",
                        "username": "beta-mailer", "password": "beta-mail-pass",
                        "from_address": "listings@beta.test" }),
            ),
        ] {
            let r = s
                .call(Method::PUT, path, Some(&sess.access), Some(body))
                .await;
            let want = if role == "admin" {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role} PUT {path}: {}", r.body);
        }
    }
    // What is connected: B's admin sees B's settings without a secret; nobody else sees them.
    for (role, sess) in b_sessions {
        let r = s
            .call(
                Method::GET,
                "/api/v1/integrations",
                Some(&sess.access),
                None,
            )
            .await;
        if role != "admin" {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{role} GET /integrations");
            continue;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["whatsapp"]["phone_number_id"], "1065");
        assert_eq!(r.body["hubspot"], true);
        assert_eq!(r.body["crm_webhook"]["url"], "https://crm.beta.test/hook");
        assert_eq!(r.body["email"]["from_address"], "listings@beta.test");
        let text = r.body.to_string();
        assert_eq!(r.body["whatsapp"]["webhook_verify_token_set"], true);
        assert_eq!(r.body["email"]["username"], "beta-mailer");
        for secret in [
            "EAAG-beta",
            "pat-beta",
            "beta-secret-0123456789",
            "\"beta\"",
            "beta-verify-token",
            "beta-mail-pass",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_no_trace_of(&r.body, &a, "GET /integrations");
    }
    let r = s
        .call(
            Method::GET,
            "/api/v1/integrations",
            Some(&a.t.admin.access),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({ "whatsapp": null, "email": null, "hubspot": false, "crm_webhook": null,
                "unreadable": [] }),
        "A's admin sees B's integrations"
    );
    cover("get", "/api/v1/integrations");
    // WhatsApp webhooks are addressed by company and signed with its own app secret: B's
    // signature means nothing at A's address (A has not connected WhatsApp), and B's own
    // events (here naming A's action's id as a message id) touch nothing of A.
    let b_slug = b.t.slug.clone();
    let a_slug = a.t.slug.clone();
    let event = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1", "changes": [{
        "field": "messages", "value": { "messaging_product": "whatsapp",
            "metadata": { "phone_number_id": "1065" },
            "statuses": [{ "id": a_action_id, "status": "read", "timestamp": "1767225600",
                           "recipient_id": "971500000000" }] } }] }] })
    .to_string();
    let sig = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"beta").unwrap();
        mac.update(event.as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    for (slug, want) in [(&a_slug, StatusCode::NOT_FOUND), (&b_slug, StatusCode::OK)] {
        let r = s
            .req(
                Method::POST,
                &format!("/api/v1/webhooks/whatsapp/{slug}"),
                None,
            )
            .header("x-hub-signature-256", &sig)
            .body(event.clone())
            .send()
            .await
            .unwrap();
        let r = roost_tests::Resp::from(r).await;
        assert_eq!(r.status, want, "webhook of {slug}: {}", r.body);
        assert_no_trace_of(&r.body, &a, "POST /webhooks/whatsapp");
        let r = s
            .call(
                Method::GET,
                &format!("/api/v1/webhooks/whatsapp/{slug}?hub.mode=subscribe&hub.verify_token=beta&hub.challenge=7"),
                None,
                None,
            )
            .await;
        assert!(
            r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
            "handshake of {slug}: {}",
            r.status
        );
        assert_no_trace_of(&r.body, &a, "GET /webhooks/whatsapp");
    }
    cover("get", "/api/v1/webhooks/whatsapp/{company}");
    cover("post", "/api/v1/webhooks/whatsapp/{company}");
    let mine = s
        .get(&format!("/api/v1/actions/{a_action_id}"), &a.agent.access)
        .await;
    assert_eq!(mine.body, a_action, "A's action untouched");
    cover("post", "/api/v1/actions");
    cover("get", "/api/v1/actions");
    cover("get", "/api/v1/actions/{id}");
    cover("put", "/api/v1/integrations/whatsapp");
    cover("put", "/api/v1/integrations/hubspot");
    cover("put", "/api/v1/integrations/email");
    cover("put", "/api/v1/integrations/crm-webhook");

    // Registration and logout: a new tenant never sees the others; logout ends only B's device.
    let c = s.register("Gamma Group", "gamma", "starter").await;
    let users = s.get("/api/v1/users", &c.admin.access).await;
    assert_eq!(users.body["users"].as_array().unwrap().len(), 1);
    assert_no_trace_of(&users.body, &a, "GET /users of a new tenant");
    cover("post", "/api/v1/tenants");
    let out = s
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&b.agent.access),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get("/api/v1/me", &a.agent.access).await.status,
        StatusCode::OK
    );
    cover("post", "/api/v1/auth/logout");

    // Every documented route must be in this matrix.
    let doc = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without isolation coverage: {missing:?}"
    );
}

/// Asks a question; the status and the whole event stream as text.
async fn ask(s: &TestServer, token: &str, body: Value) -> (StatusCode, String) {
    let r = s
        .req(Method::POST, "/api/v1/chat", Some(token))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A string field of the first event that has it.
fn event_field(stream: &str, field: &str) -> String {
    stream
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find_map(|v| v[field].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in {stream}"))
}

trait EmailCtx {
    fn email_ctx(&self, s: &Session) -> String;
}

impl EmailCtx for roost_tests::Resp {
    fn email_ctx(&self, s: &Session) -> String {
        format!("{} creating a user: {}", s.email, self.body)
    }
}
