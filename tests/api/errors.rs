//! Request-shape errors through HTTP, request ids, authentication failures, and the
//! role × endpoint matrix of the `users` section.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const SECRET: &str = "s3cret-value-xyz";

/// A body sent as raw bytes with an optional content type.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Resp {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    app.send(req).await
}

fn new_user_body(email: &str) -> Value {
    json!({
        "name": "New Person",
        "username": email,
        "email": email,
        "password": temp_password(),
        "role": "viewer",
    })
}

async fn user_count(app: &TestApp, owner: &Session) -> u64 {
    app.get("/api/v1/users", &owner.token).await.ok(200)["total"]
        .as_u64()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_json_body_is_400_malformed_request() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let target = app
        .create_user(&owner, "Tess", "tess@acme.test", "viewer")
        .await;
    let user_path = format!("/api/v1/users/{}", target["id"].as_str().unwrap());
    for body in [
        r#"{"name": "x","#,
        "not json at all",
        r#"{"name": "x"} trailing"#,
        "",
    ] {
        let resp = raw(
            &app,
            Method::POST,
            "/api/v1/users",
            &owner.token,
            Some("application/json"),
            body,
        )
        .await;
        resp.problem(400, "malformed_request");
        let resp = raw(
            &app,
            Method::PATCH,
            &user_path,
            &owner.token,
            Some("application/json"),
            body,
        )
        .await;
        resp.problem(400, "malformed_request");
    }
    let resp = raw(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        "",
        Some("application/json"),
        "{",
    )
    .await;
    resp.problem(400, "malformed_request");
    assert_eq!(user_count(&app, &owner).await, 2, "nothing was created");
}

#[tokio::test]
async fn wrong_json_type_is_400_and_does_not_echo_the_value() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let target = app
        .create_user(&owner, "Tess", "tess@acme.test", "viewer")
        .await;
    let id = target["id"].as_str().unwrap().to_owned();

    let mut create = new_user_body("new@acme.test");
    create["password"] = json!([SECRET]);
    let cases = [
        (Method::POST, "/api/v1/users".to_string(), create),
        (
            Method::PUT,
            format!("/api/v1/users/{id}/password"),
            json!({"password": "Brisk-Lantern-Harbor-88", "must_change_password": SECRET}),
        ),
        (
            Method::PUT,
            format!("/api/v1/users/{id}/password"),
            json!({"password": {"value": SECRET}}),
        ),
        (
            Method::PUT,
            "/api/v1/me/password".to_string(),
            json!({"current_password": 4242424242_u64, "new_password": SECRET}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{id}"),
            json!({"name": ["Tess", SECRET]}),
        ),
    ];
    for (method, path, body) in cases {
        let resp = app
            .request(
                method.clone(),
                &path,
                Some(&owner.token),
                Some(body.clone()),
            )
            .await;
        resp.problem(400, "malformed_request");
        assert!(
            !resp.text.contains(SECRET),
            "{method} {path} echoed the value: {}",
            resp.text
        );
        assert!(
            !resp.text.contains("4242424242"),
            "{method} {path} echoed the value: {}",
            resp.text
        );
    }
    // Same at sign-in, which has no bearer token.
    let resp = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": OWNER_EMAIL, "password": [SECRET]})),
        )
        .await;
    resp.problem(400, "malformed_request");
    assert!(
        !resp.text.contains(SECRET),
        "login echoed the value: {}",
        resp.text
    );
    let resp = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": OWNER_EMAIL, "password": 9876543210987_u64})),
        )
        .await;
    resp.problem(400, "malformed_request");
    assert!(
        !resp.text.contains("9876543210987"),
        "login echoed the value: {}",
        resp.text
    );
}

#[tokio::test]
async fn unknown_fields_in_a_patch_are_400_naming_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let target = app
        .create_user(&owner, "Tess", "tess@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}", target["id"].as_str().unwrap());
    for (field, value) in [
        ("status", json!("disabled")),
        ("company_id", json!(uuid::Uuid::new_v4().to_string())),
        (
            "password_hash",
            json!("$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"),
        ),
        ("id", json!(uuid::Uuid::new_v4().to_string())),
        ("must_change_password", json!(false)),
        ("version", json!(99)),
    ] {
        let mut body = json!({"name": "Tess Renamed"});
        body[field] = value;
        let resp = app.patch(&path, &owner.token, body).await;
        resp.problem(400, "malformed_request");
        assert!(
            resp.error_fields().iter().any(|f| f == field),
            "400 should name `{field}`: {}",
            resp.text
        );
    }
    let after = app.get(&path, &owner.token).await;
    let after = after.ok(200);
    assert_eq!(after["name"], "Tess");
    assert_eq!(after["status"], "active");
    assert_eq!(after["version"], target["version"]);
    assert_eq!(after["company_id"], target["company_id"]);
}

#[tokio::test]
async fn unknown_fields_in_other_bodies_are_400_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let target = app
        .create_user(&owner, "Tess", "tess@acme.test", "viewer")
        .await;
    let id = target["id"].as_str().unwrap();

    let mut create = new_user_body("new@acme.test");
    create["status"] = json!("disabled");
    let resp = app.post("/api/v1/users", &owner.token, create).await;
    resp.problem(400, "malformed_request");
    assert_eq!(resp.error_fields(), ["status"]);
    let mut create = new_user_body("new@acme.test");
    create["company_id"] = json!(uuid::Uuid::new_v4().to_string());
    let resp = app.post("/api/v1/users", &owner.token, create).await;
    resp.problem(400, "malformed_request");
    assert_eq!(resp.error_fields(), ["company_id"]);
    assert_eq!(user_count(&app, &owner).await, 2, "nothing was created");

    let resp = app
        .put(
            &format!("/api/v1/users/{id}/password"),
            &owner.token,
            json!({"password": "Brisk-Lantern-Harbor-88", "role": "owner"}),
        )
        .await;
    resp.problem(400, "malformed_request");
    assert_eq!(resp.error_fields(), ["role"]);

    let resp = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": OWNER_EMAIL, "password": OWNER_PASSWORD, "remember": true})),
        )
        .await;
    resp.problem(400, "malformed_request");
    assert_eq!(resp.error_fields(), ["remember"]);
}

#[tokio::test]
async fn missing_or_non_json_content_type_is_415_unsupported_media_type() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let body = new_user_body("new@acme.test").to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
    ] {
        let resp = raw(
            &app,
            Method::POST,
            "/api/v1/users",
            &owner.token,
            content_type,
            body.clone(),
        )
        .await;
        resp.problem(415, "unsupported_media_type");
    }
    // A JSON media type with parameters is JSON.
    let resp = raw(
        &app,
        Method::POST,
        "/api/v1/users",
        &owner.token,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await;
    resp.ok(201);
    let login = json!({"username": OWNER_EMAIL, "password": OWNER_PASSWORD}).to_string();
    let resp = raw(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        "",
        Some("text/plain"),
        login,
    )
    .await;
    resp.problem(415, "unsupported_media_type");
    assert_eq!(
        user_count(&app, &owner).await,
        2,
        "only the JSON request created a user"
    );
}

#[tokio::test]
async fn body_over_64_kib_is_413_payload_too_large() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut body = new_user_body("big@acme.test");
    body["name"] = json!("a".repeat(70 * 1024));
    let resp = app.post("/api/v1/users", &owner.token, body).await;
    resp.problem(413, "payload_too_large");

    let login = json!({"username": OWNER_EMAIL, "password": "p".repeat(65 * 1024)});
    let resp = app
        .request(Method::POST, "/api/v1/auth/login", None, Some(login))
        .await;
    resp.problem(413, "payload_too_large");

    // Just under the limit the body is read and its values are judged instead.
    let mut body = new_user_body("big@acme.test");
    body["name"] = json!("a".repeat(60 * 1024));
    let resp = app.post("/api/v1/users", &owner.token, body).await;
    resp.problem(422, "validation_failed");
    assert_eq!(user_count(&app, &owner).await, 1, "nothing was created");
}

/// Without `Content-Length` (chunked transfer), the limit still holds while reading.
#[tokio::test]
async fn chunked_body_over_64_kib_is_413_payload_too_large() {
    use std::io::{Read, Write};
    let app = spawn_app().await;
    let owner = app.owner().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let token = owner.token.clone();
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /api/v1/users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        let mut body = format!(r#"{{"name": "{}""#, "a".repeat(80 * 1024)).into_bytes();
        body.extend_from_slice(br#", "username": "c@acme.test", "email": "c@acme.test", "password": "Granite-Puzzle-Harbor-19", "role": "viewer"}"#);
        let _ = stream.write_all(head.as_bytes());
        for chunk in body.chunks(8 * 1024) {
            // The server may answer and stop reading before the end.
            if stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
                || stream.write_all(chunk).is_err()
                || stream.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    let status_line = response.lines().next().unwrap_or_default();
    assert!(
        status_line.contains(" 413"),
        "status line: {status_line:?}; response: {response}"
    );
    assert!(response.contains("payload_too_large"), "{response}");
    assert_eq!(user_count(&app, &owner).await, 1, "nothing was created");
}

// ---------------------------------------------------------------------------------------
// Paths and methods
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bad_uuid_in_the_path_is_400_malformed_request() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for (method, path, body) in [
        (Method::GET, "/api/v1/users/not-a-uuid", None),
        (
            Method::PATCH,
            "/api/v1/users/123",
            Some(json!({"name": "X"})),
        ),
        (
            Method::DELETE,
            "/api/v1/users/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/users/nope/password",
            Some(json!({"password": "Brisk-Lantern-Harbor-88"})),
        ),
        (Method::POST, "/api/v1/users/nope/disable", None),
        (Method::POST, "/api/v1/users/nope/enable", None),
        (Method::GET, "/api/v1/users/nope/history", None),
    ] {
        let resp = app
            .request(method.clone(), path, Some(&owner.token), body)
            .await;
        resp.problem(400, "malformed_request");
        assert_eq!(resp.error_fields(), ["id"], "{method} {path}");
    }
}

#[tokio::test]
async fn unknown_route_is_404_not_found_problem() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/users",
        "/api/v1/users/00000000-0000-0000-0000-000000000000/nope",
    ] {
        let resp = app.get(path, &owner.token).await;
        resp.problem(404, "not_found");
        let resp = app.request(Method::GET, path, None, None).await;
        resp.problem(404, "not_found");
    }
}

#[tokio::test]
async fn wrong_method_on_an_existing_path_is_405_problem() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for (method, path) in [
        (Method::DELETE, "/health/live"),
        (Method::POST, "/health/ready"),
        (Method::PUT, "/api/v1/users"),
        (Method::DELETE, "/api/v1/users"),
        (Method::GET, "/api/v1/auth/login"),
        (Method::POST, "/api/v1/roles"),
    ] {
        let resp = app
            .request(method.clone(), path, Some(&owner.token), None)
            .await;
        resp.problem(405, "method_not_allowed");
    }
}

/// RFC 9110 §15.5.6: a 405 response MUST carry `Allow` listing the supported methods.
#[tokio::test]
async fn method_not_allowed_lists_the_allowed_methods() {
    let app = spawn_app().await;
    let resp = app
        .request(Method::DELETE, "/health/live", None, None)
        .await;
    resp.problem(405, "method_not_allowed");
    let allow = resp
        .header("allow")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(
        allow.contains("GET"),
        "Allow header: {:?}",
        resp.header("allow")
    );
}

// ---------------------------------------------------------------------------------------
// Request ids
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn request_id_is_echoed_when_the_client_sends_one() {
    let app = spawn_app().await;
    let id = "client-req-42";
    let resp = app
        .send(
            app.client
                .get(app.url("/health/live"))
                .header("x-request-id", id),
        )
        .await;
    resp.ok(200);
    assert_eq!(resp.header("x-request-id"), Some(id));

    let resp = app
        .send(
            app.client
                .get(app.url("/api/v1/users"))
                .header("x-request-id", id),
        )
        .await;
    let body = resp.problem(401, "unauthenticated");
    assert_eq!(resp.header("x-request-id"), Some(id));
    assert_eq!(body["request_id"], id);

    let resp = app
        .send(
            app.client
                .get(app.url("/api/v1/nope"))
                .header("x-request-id", id),
        )
        .await;
    let body = resp.problem(404, "not_found");
    assert_eq!(body["request_id"], id);
}

#[tokio::test]
async fn request_id_is_generated_when_absent_and_matches_the_error_body() {
    let app = spawn_app().await;
    let first = app.request(Method::GET, "/health/live", None, None).await;
    first.ok(200);
    let first_id = first.header("x-request-id").unwrap_or_default().to_owned();
    assert!(!first_id.is_empty(), "a generated X-Request-Id");

    let second = app.request(Method::GET, "/api/v1/users", None, None).await;
    let body = second.problem(401, "unauthenticated");
    let second_id = second.header("x-request-id").unwrap_or_default();
    assert!(!second_id.is_empty());
    assert_eq!(body["request_id"], second_id);
    assert_ne!(first_id, second_id, "each request gets its own id");

    let owner = app.owner().await;
    let resp = app.get("/api/v1/users?limit=0", &owner.token).await;
    let body = resp.problem(422, "validation_failed");
    assert_eq!(
        Some(body["request_id"].as_str().unwrap()),
        resp.header("x-request-id")
    );
    let resp = app.get("/api/v1/users", &owner.token).await;
    resp.ok(200);
    assert!(
        resp.header("x-request-id").is_some_and(|v| !v.is_empty()),
        "success responses carry one too"
    );
}

// ---------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------

#[track_caller]
fn assert_unauthenticated(resp: &Resp) {
    resp.problem(401, "unauthenticated");
    let challenge = resp.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate: {challenge:?}"
    );
}

#[tokio::test]
async fn missing_bearer_token_is_401_unauthenticated_with_a_bearer_challenge() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/v1/users"),
        (Method::GET, "/api/v1/me"),
        (Method::GET, "/api/v1/roles"),
        (Method::GET, "/api/v1/audit"),
        (Method::POST, "/api/v1/auth/logout"),
    ] {
        let resp = app.request(method, path, None, None).await;
        assert_unauthenticated(&resp);
    }
    let resp = app
        .request(
            Method::POST,
            "/api/v1/users",
            None,
            Some(new_user_body("x@acme.test")),
        )
        .await;
    assert_unauthenticated(&resp);
}

#[tokio::test]
async fn garbage_or_tampered_bearer_token_is_401_unauthenticated() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut parts: Vec<String> = owner.token.split('.').map(str::to_owned).collect();
    assert_eq!(parts.len(), 3, "the access token is a JWT");
    // Swap the payload for another one: the signature no longer matches.
    parts[1] = "eyJzdWIiOiJ4In0".into();
    let tampered = parts.join(".");
    let unsigned = format!("{}.{}.", parts[0], parts[1]);
    for token in ["garbage", "a.b.c", tampered.as_str(), unsigned.as_str()] {
        let resp = app.get("/api/v1/users", token).await;
        assert_unauthenticated(&resp);
    }
    for header in ["Basic b2xpdmlhOnB3", "Bearer", "Token abc"] {
        let resp = app
            .send(
                app.client
                    .get(app.url("/api/v1/me"))
                    .header("authorization", header),
            )
            .await;
        assert_unauthenticated(&resp);
    }
}

// ---------------------------------------------------------------------------------------
// Role × endpoint matrix
// ---------------------------------------------------------------------------------------

fn permissions(role: &str) -> Value {
    match role {
        "owner" => json!({"licenses": "write", "shopping_cart": "write", "users": "write"}),
        "manager" => json!({"licenses": "write", "shopping_cart": "write", "users": "none"}),
        "editor" => json!({"licenses": "write", "shopping_cart": "none", "users": "none"}),
        "viewer" => json!({"licenses": "read", "shopping_cart": "none", "users": "none"}),
        other => panic!("unknown role {other}"),
    }
}

/// `GET /me` and `GET /roles` answer the caller's permissions and the whole table.
async fn assert_me_and_roles(app: &TestApp, session: &Session, role: &str) {
    let resp = app.get("/api/v1/me", &session.token).await;
    let me = resp.ok(200);
    assert_eq!(me["user"]["role"], role);
    assert_eq!(me["user"]["id"], session.id.as_str());
    assert_eq!(me["permissions"], permissions(role), "{role}");

    let resp = app.get("/api/v1/roles", &session.token).await;
    let roles = resp.ok(200)["roles"].as_array().unwrap().clone();
    let listed: Vec<&str> = roles.iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(
        listed,
        ["owner", "manager", "editor", "viewer"],
        "as seen by {role}"
    );
    for entry in &roles {
        let r = entry["role"].as_str().unwrap();
        assert_eq!(entry["access"], permissions(r), "{r} as seen by {role}");
        assert!(
            entry["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{r}"
        );
    }
}

/// Every `/users*` endpoint and `/audit` → 403 `forbidden` for `role`, and nothing changes.
async fn assert_users_section_forbidden(role: &str) {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let target = app
        .create_user(&owner, "Tess Target", "tess@acme.test", "viewer")
        .await;
    let tid = target["id"].as_str().unwrap().to_owned();
    let session = app.user_with_role(&owner, role).await;
    let missing = uuid::Uuid::new_v4();
    let before = user_count(&app, &owner).await;

    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/users".into(), None),
        (Method::GET, "/api/v1/users?role=owner".into(), None),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(new_user_body("sneaky@acme.test")),
        ),
        (Method::GET, format!("/api/v1/users/{tid}"), None),
        (Method::GET, format!("/api/v1/users/{missing}"), None),
        (Method::GET, format!("/api/v1/users/{}", owner.id), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{tid}"),
            Some(json!({"role": "owner"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{}", session.id),
            Some(json!({"role": "owner"})),
        ),
        (Method::DELETE, format!("/api/v1/users/{tid}"), None),
        (
            Method::PUT,
            format!("/api/v1/users/{tid}/password"),
            Some(json!({"password": "Brisk-Lantern-Harbor-88"})),
        ),
        (Method::POST, format!("/api/v1/users/{tid}/disable"), None),
        (
            Method::POST,
            format!("/api/v1/users/{}/disable", owner.id),
            None,
        ),
        (Method::POST, format!("/api/v1/users/{tid}/enable"), None),
        (Method::GET, format!("/api/v1/users/{tid}/history"), None),
        (
            Method::GET,
            format!("/api/v1/users/{}/history", session.id),
            None,
        ),
        (Method::GET, "/api/v1/audit".into(), None),
        (Method::GET, format!("/api/v1/audit?subject_id={tid}"), None),
    ];
    for (method, path, body) in cases {
        let resp = app
            .request(method.clone(), &path, Some(&session.token), body)
            .await;
        assert_eq!(
            resp.status.as_u16(),
            403,
            "{role}: {method} {path} → {}",
            resp.text
        );
        resp.problem(403, "forbidden");
    }

    // Nothing changed.
    assert_eq!(
        user_count(&app, &owner).await,
        before,
        "{role} created or deleted a user"
    );
    let after = app.get(&format!("/api/v1/users/{tid}"), &owner.token).await;
    let after = after.ok(200);
    assert_eq!(
        after["version"], target["version"],
        "{role} changed the target"
    );
    assert_eq!(after["status"], "active");
    let me = app.get("/api/v1/me", &session.token).await;
    assert_eq!(me.ok(200)["user"]["role"], role, "{role} promoted themself");
    assert_eq!(
        app.get(&format!("/api/v1/users/{}", owner.id), &owner.token)
            .await
            .ok(200)["status"],
        "active"
    );

    assert_me_and_roles(&app, &session, role).await;
}

#[tokio::test]
async fn manager_gets_403_on_every_users_endpoint_and_audit_but_can_read_me_and_roles() {
    assert_users_section_forbidden("manager").await;
}

#[tokio::test]
async fn editor_gets_403_on_every_users_endpoint_and_audit_but_can_read_me_and_roles() {
    assert_users_section_forbidden("editor").await;
}

#[tokio::test]
async fn viewer_gets_403_on_every_users_endpoint_and_audit_but_can_read_me_and_roles() {
    assert_users_section_forbidden("viewer").await;
}

#[tokio::test]
async fn owner_has_write_access_everywhere_in_me_and_roles() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    assert_me_and_roles(&app, &owner, "owner").await;
    app.get("/api/v1/users", &owner.token).await.ok(200);
    app.get("/api/v1/audit", &owner.token).await.ok(200);
}
