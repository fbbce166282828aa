use reqwest::StatusCode;
use roost_server::settings::{Registration, Secret};
use roost_tests::{Backend, TestServer, on_both_backends, on_both_backends_raw};
use serde_json::{Value, json};

on_both_backends!(registration_validates_and_derives_slugs);
on_both_backends_raw!(operator_only_registration_needs_the_token);

fn registration(company: &str) -> Value {
    json!({
        "company_name": company,
        "industry": "real estate",
        "region": "Dubai",
        "employee_count": 40,
        "contact_person": { "name": "Omar Owner", "email": "omar@example.com", "phone": "+971501234567" },
        "tier": "professional",
        "admin_password": "a-long-password",
    })
}

async fn registration_validates_and_derives_slugs(s: TestServer) {
    let r = s
        .post("/api/v1/tenants", None, registration("Emaar Homes LLC"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["slug"], "emaar-homes-llc");
    let r2 = s
        .post("/api/v1/tenants", None, registration("Emaar Homes LLC"))
        .await;
    assert_eq!(r2.status, StatusCode::CREATED, "{}", r2.body);
    assert_eq!(
        r2.body["slug"], "emaar-homes-llc-2",
        "a second company with that name gets a suffix"
    );

    // The contact person is the first admin, with the password they chose.
    let admin = s
        .login("emaar-homes-llc", "omar@example.com", "a-long-password")
        .await;
    let me = s.get("/api/v1/me", &admin.access).await;
    assert_eq!(me.body["tenant"]["tier"], "professional");
    assert_eq!(me.body["user"]["name"], "Omar Owner");

    let mut taken = registration("Someone Else");
    taken["slug"] = "emaar-homes-llc".into();
    let r = s.post("/api/v1/tenants", None, taken).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.field(), Some("slug"));

    let cases: Vec<(&str, Value, &str)> = vec![
        ("company_name", json!(""), "company_name"),
        ("employee_count", json!(0), "employee_count"),
        ("tier", json!("gold"), "tier"),
        ("admin_password", json!("short"), "admin_password"),
        ("slug", json!("Bad Slug!"), "slug"),
        (
            "contact_person",
            json!({ "name": "X", "email": "not-an-email" }),
            "contact_person.email",
        ),
        (
            "contact_person",
            json!({ "name": "X", "email": "x@y.co", "phone": "call me" }),
            "contact_person.phone",
        ),
        (
            "contact_person",
            json!({ "name": "X", "email": "x@y.co", "fax": "1" }),
            "contact_person.fax",
        ),
    ];
    for (key, value, field) in cases {
        let mut body = registration("Bad Input Co");
        body[key] = value;
        let r = s.post("/api/v1/tenants", None, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{key}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{key}: {}", r.body);
    }
    let mut missing = registration("Missing Co");
    missing.as_object_mut().unwrap().remove("region");
    let r = s.post("/api/v1/tenants", None, missing).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field(), Some("region"));

    // None of the rejected registrations left anything behind.
    let r = s
        .try_login("bad-input-co", "omar@example.com", "a-long-password")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn operator_only_registration_needs_the_token(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| {
        c.registration = Registration::Operator;
        c.operator_token = Some(Secret("operator-token-for-tests".into()));
    })
    .await
    else {
        return;
    };
    let anonymous = s
        .post("/api/v1/tenants", None, registration("Self Service Co"))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let wrong = s
        .post(
            "/api/v1/tenants",
            Some("operator-token-for-test"),
            registration("Self Service Co"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = s
        .post(
            "/api/v1/tenants",
            Some("operator-token-for-tests"),
            registration("Operator Co"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
}
