use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn health_endpoints_answer() {
    let app = spawn_app().await;
    let live = app.request(Method::GET, "/health/live", None, None).await;
    assert_eq!(live.ok(200)["status"], "ok");
    let ready = app.request(Method::GET, "/health/ready", None, None).await;
    assert_eq!(ready.ok(200)["status"], "ok");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.get("/api/v1/users", &owner.token).await.ok(200);
    let metrics = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = &metrics.text;
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/api/v1/users",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(
        r#"http_requests_total{method="POST",route="/api/v1/auth/login",status="200"} 1"#
    ));
    assert!(text.contains("http_request_duration_seconds_bucket{"));
    assert!(!text.contains(&owner.token));
}

#[tokio::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = spawn_app().await;
    let served = app
        .request(Method::GET, "/api-docs/openapi.json", None, None)
        .await;
    assert_eq!(served.status, 200);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &served.text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == served.text,
        "openapi/openapi.json differs from the served document; regenerate it with \
         `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
    assert_eq!(
        served.body["openapi"].as_str().map(|v| &v[..3]),
        Some("3.1")
    );
    let ops: Vec<&str> = served.body["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for id in [
        "login",
        "listUsers",
        "createUser",
        "updateUser",
        "getUserHistory",
        "listAuditEvents",
    ] {
        assert!(ops.contains(&id), "missing operation {id}");
    }
    assert_eq!(
        served.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn swagger_ui_is_served_offline() {
    let app = spawn_app().await;
    let redirect = app.request(Method::GET, "/swagger-ui", None, None).await;
    assert_eq!(redirect.status.as_u16(), 308);
    assert_eq!(redirect.header("location"), Some("/swagger-ui/"));
    let page = app.request(Method::GET, "/swagger-ui/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger"));
    let init = app
        .request(
            Method::GET,
            "/swagger-ui/swagger-initializer.js",
            None,
            None,
        )
        .await;
    assert_eq!(init.status, 200);
    assert!(init.text.contains("/api-docs/openapi.json"));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let echoed = app
        .send(
            app.client
                .get(app.url("/health/live"))
                .header("X-Request-Id", "abc-123"),
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("abc-123"));
    let generated = app.send(app.client.get(app.url("/health/live"))).await;
    assert!(
        generated
            .header("x-request-id")
            .is_some_and(|v| v.len() >= 16)
    );
}
