use reqwest::{Method, StatusCode};
use roost_tests::{Backend, TestServer, on_both_backends, on_both_backends_raw};
use serde_json::json;

on_both_backends!(
    bad_requests_get_one_error_shape,
    openapi_documents_every_route
);
on_both_backends_raw!(oversized_bodies_are_refused);

async fn bad_requests_get_one_error_shape(s: TestServer) {
    let t = s.register("Err Co", "errco", "starter").await;
    let raw = |method: Method, path: &str, ctype: &str, body: &'static str| {
        let rb = s
            .req(method, path, Some(&t.admin.access))
            .header("content-type", ctype)
            .body(body);
        async move { roost_tests::Resp::from(rb.send().await.unwrap()).await }
    };
    let r = raw(
        Method::POST,
        "/api/v1/users",
        "application/json",
        "{\"email\": ",
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "malformed_body"),
        "{}",
        r.body
    );
    let r = raw(Method::POST, "/api/v1/users", "text/plain", "{}").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let r = raw(Method::POST, "/api/v1/users", "application/json", "{\"email\":\"a@b.co\",\"name\":\"A\",\"roles\":[\"agent\"],\"password\":\"long-enough-pw\",\"is_root\":true}").await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("is_root")
        )
    );
    let r = raw(Method::POST, "/api/v1/users", "application/json", "{\"email\":\"a@b.co\",\"name\":\"A\",\"roles\":[\"owner\"],\"password\":\"long-enough-pw\"}").await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("roles[0]")),
        "{}",
        r.body
    );
    let r = raw(
        Method::POST,
        "/api/v1/users",
        "application/json",
        "{\"email\":\"a@b.co\",\"name\":\"A\",\"roles\":[],\"password\":\"long-enough-pw\"}",
    )
    .await;
    assert_eq!(
        (r.status, r.field()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("roles"))
    );
    let r = raw(
        Method::PATCH,
        "/api/v1/users/not-a-uuid",
        "application/json",
        "{\"name\":\"x\"}",
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "validation_failed"),
        "{}",
        r.body
    );

    let r = s
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "route_not_found")
    );
    let r = s
        .call(
            Method::DELETE,
            "/api/v1/config",
            Some(&t.admin.access),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let r = s
        .call(Method::GET, "/api/v1/me", Some("Bearer nonsense"), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let r = s
        .call(Method::GET, "/api/v1/users", Some(&t.admin.access), None)
        .await;
    assert_eq!(
        r.body["users"].as_array().unwrap().len(),
        1,
        "no bad request created anything"
    );
}

async fn openapi_documents_every_route(s: TestServer) {
    let r = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/tenants",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/devices",
        "/api/v1/me/devices/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/config",
        "/api/v1/audit",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    for schema in [
        "ErrorBody",
        "RegisterTenantRequest",
        "TenantConfig",
        "AuditPage",
        "TokenResponse",
        "MarketIntelligenceFile",
        "AgentResourcesFile",
        "ChangePage",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

async fn oversized_bodies_are_refused(backend: Backend) {
    let Some(s) = TestServer::start_with(backend, |c| c.max_body_bytes = 4096).await else {
        return;
    };
    let big = "x".repeat(10_000);
    let r = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "tenant": big, "email": "a@b.co", "password": "p", "device_name": "d" }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        r.body
    );
}
