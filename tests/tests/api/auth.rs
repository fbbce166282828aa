use reqwest::{Method, StatusCode};
use roost_tests::{Backend, TestServer, on_both_backends, on_both_backends_raw};
use serde_json::json;

on_both_backends!(
    login_refresh_rotation_reuse_and_logout,
    login_errors_are_clear,
    deactivation_and_device_revocation_take_effect_at_once,
    concurrent_refreshes_with_one_token_rotate_once,
);
on_both_backends_raw!(sign_in_attempts_are_rate_limited);

async fn login_refresh_rotation_reuse_and_logout(s: TestServer) {
    let t = s.register("Palm Homes", "palm", "professional").await;
    let me = s.get("/api/v1/me", &t.admin.access).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["tenant"]["slug"], "palm");
    assert_eq!(me.body["roles"], json!(["admin"]));
    assert_eq!(me.body["device_id"], t.admin.device_id);

    // Rotation: the new pair works, the old refresh token is spent.
    let r1 = s
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": t.admin.refresh }),
        )
        .await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.body);
    let rotated = roost_tests::Session::from_tokens(&r1.body, "admin");
    assert_ne!(rotated.refresh, t.admin.refresh);
    assert_eq!(rotated.device_id, t.admin.device_id, "same device");
    assert_eq!(
        s.get("/api/v1/me", &rotated.access).await.status,
        StatusCode::OK
    );

    // Reuse of the spent token: refused, and the whole device is signed out.
    let reuse = s
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": t.admin.refresh }),
        )
        .await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reuse.code(), "token_reused");
    let after = s
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": rotated.refresh }),
        )
        .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "the rotated token died with the device"
    );
    assert_eq!(after.code(), "unauthorized");
    assert_eq!(
        s.get("/api/v1/me", &rotated.access).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A fresh sign-in, then logout kills both of its tokens.
    let fresh = s.login("palm", "admin@palm.test", "palm-admin-pass").await;
    assert_ne!(fresh.device_id, t.admin.device_id);
    let out = s
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&fresh.access),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
    assert_eq!(
        s.get("/api/v1/me", &fresh.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = s
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": fresh.refresh }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Garbage and forged tokens.
    for bad in [
        "",
        "x",
        "abc.def",
        &format!("{}.{}", uuid::Uuid::new_v4().simple(), "A".repeat(43)),
    ] {
        let r = s
            .post(
                "/api/v1/auth/refresh",
                None,
                json!({ "refresh_token": bad }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let mut forged = fresh.access.clone();
    forged.pop();
    forged.push('A');
    assert_eq!(
        s.get("/api/v1/me", &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
    let none = s.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
}

async fn login_errors_are_clear(s: TestServer) {
    s.register("Marina Realty", "marina", "starter").await;
    let unknown_company = s
        .try_login("nowhere", "admin@marina.test", "marina-admin-pass")
        .await;
    assert_eq!(unknown_company.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_company.field(), Some("tenant"));

    let wrong_pw = s
        .try_login("marina", "admin@marina.test", "not-the-password")
        .await;
    let unknown_email = s
        .try_login("marina", "ghost@marina.test", "marina-admin-pass")
        .await;
    assert_eq!(wrong_pw.status, StatusCode::UNAUTHORIZED);
    // The two must be indistinguishable, so emails cannot be probed.
    assert_eq!(wrong_pw.body, unknown_email.body);

    // Email is matched case-insensitively, slug too.
    let ok = s
        .try_login("MARINA", "Admin@Marina.Test", "marina-admin-pass")
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    let no_device = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "tenant": "marina", "email": "admin@marina.test", "password": "marina-admin-pass", "device_name": " " }),
        )
        .await;
    assert_eq!(no_device.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_device.field(), Some("device_name"));
}

async fn deactivation_and_device_revocation_take_effect_at_once(s: TestServer) {
    let t = s.register("JVC Homes", "jvc", "professional").await;
    let (agent_id, agent) = s.add_user(&t, "agent@jvc.test", &["agent"]).await;
    let laptop = s
        .login("jvc", "agent@jvc.test", "agent@jvc.test-pass")
        .await;

    // The agent sees both devices and signs the laptop out from the phone.
    let devices = s.get("/api/v1/me/devices", &agent.access).await;
    assert_eq!(
        devices.body.as_array().unwrap().len(),
        2,
        "{}",
        devices.body
    );
    let current: Vec<_> = devices
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["current"] == true)
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], agent.device_id);
    let del = s
        .call(
            Method::DELETE,
            &format!("/api/v1/me/devices/{}", laptop.device_id),
            Some(&agent.access),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.body);
    assert_eq!(
        s.get("/api/v1/me", &laptop.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.get("/api/v1/me", &agent.access).await.status,
        StatusCode::OK
    );

    // Role changes apply to the next request, not the next sign-in.
    let promote = s
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{agent_id}"),
            Some(&t.admin.access),
            Some(json!({ "roles": ["agent", "manager"] })),
        )
        .await;
    assert_eq!(promote.status, StatusCode::OK, "{}", promote.body);
    assert_eq!(promote.body["roles"], json!(["manager", "agent"]));
    assert_eq!(
        s.get("/api/v1/users", &agent.access).await.status,
        StatusCode::OK
    );

    // Deactivation: tokens die now, sign-in is refused.
    let off = s
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{agent_id}"),
            Some(&t.admin.access),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(
        s.get("/api/v1/me", &agent.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = s
        .try_login("jvc", "agent@jvc.test", "agent@jvc.test-pass")
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deactivated")
    );

    // The last admin cannot demote or deactivate themselves.
    let me = s.get("/api/v1/me", &t.admin.access).await;
    let admin_id = me.body["user"]["id"].as_str().unwrap();
    for patch in [json!({ "active": false }), json!({ "roles": ["agent"] })] {
        let r = s
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{admin_id}"),
                Some(&t.admin.access),
                Some(patch),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    }
}

async fn concurrent_refreshes_with_one_token_rotate_once(s: TestServer) {
    let t = s.register("Race Realty", "race", "starter").await;
    let body = json!({ "refresh_token": t.admin.refresh });
    let (a, b) = tokio::join!(
        s.post("/api/v1/auth/refresh", None, body.clone()),
        s.post("/api/v1/auth/refresh", None, body.clone())
    );
    let ok = [&a, &b]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert!(ok <= 1, "one token rotated twice: {} / {}", a.body, b.body);
    assert!(
        [&a, &b]
            .iter()
            .any(|r| r.status == StatusCode::UNAUTHORIZED)
    );
}

async fn sign_in_attempts_are_rate_limited(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| c.login_per_account_per_minute = 3).await
    else {
        return;
    };
    s.register("Limit Homes", "limit", "starter").await; // one attempt used by the admin login
    for _ in 0..2 {
        let r = s
            .try_login("limit", "admin@limit.test", "wrong-password")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = s
        .try_login("limit", "admin@limit.test", "limit-admin-pass")
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.code(), "rate_limited");
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    // Another account is unaffected.
    let other = s
        .try_login("limit", "someone@limit.test", "whatever-pass")
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}
