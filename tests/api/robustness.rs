//! Odd input and concurrent requests: never a 500, never a half-applied change.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn odd_login_usernames_are_just_invalid_credentials() {
    let app = spawn_app().await;
    for username in [
        "a".repeat(2000),
        "ab\u{0}c".into(),
        "\u{200B}".into(),
        "".into(),
    ] {
        app.login_raw(&username, "Wrong-Password-123456")
            .await
            .problem(401, "invalid_credentials");
    }
}

#[tokio::test]
async fn control_and_invisible_characters_are_refused_in_filters_and_fields() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for query in ["q=a%00b", "name=%00", "email=x%E2%80%8By", "username=%1B"] {
        let resp = app
            .get(&format!("/api/v1/users?{query}"), &owner.token)
            .await;
        resp.problem(422, "validation_failed");
        assert_eq!(
            resp.body["errors"][0]["code"], "invalid_characters",
            "{query}"
        );
    }
    for (field, value) in [
        ("username", "owner\u{200B}@acme.test"),
        ("username", "\u{202E}moc.emca@x"),
        ("name", "Ada\u{202E}"),
    ] {
        let mut body = json!({"name": "Ada", "username": "ada@acme.test", "email": "ada@acme.test",
                              "password": temp_password(), "role": "viewer"});
        body[field] = json!(value);
        let resp = app.post("/api/v1/users", &owner.token, body).await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.error_fields(), [field]);
    }
}

#[tokio::test]
async fn names_that_grow_under_normalisation_are_stored() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    // U+FDFA is one character that NFKC expands to eighteen.
    let name = "\u{FDFA}".repeat(100);
    let created = app
        .post(
            "/api/v1/users",
            &owner.token,
            json!({"name": name, "username": "long@acme.test", "email": "long@acme.test",
                   "password": temp_password(), "role": "viewer"}),
        )
        .await;
    assert_eq!(created.ok(201)["name"], name.as_str());
    let found = app.get("/api/v1/users?name=%EF%B7%BA", &owner.token).await;
    assert_eq!(found.ok(200)["total"], 1);
}

#[tokio::test]
async fn a_right_current_password_with_a_weak_new_one_does_not_count_as_a_failure() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app.user_with_role(&owner, "editor").await;
    for _ in 0..6 {
        app.put(
            "/api/v1/me/password",
            &user.token,
            json!({"current_password": user.password, "new_password": "short"}),
        )
        .await
        .problem(422, "validation_failed");
    }
    app.login(&user.username, &user.password).await;
}

#[tokio::test]
async fn throttling_is_a_sliding_window() {
    let app = spawn_app_with(|c| c.login_window = Duration::from_secs(6)).await;
    let wrong = || app.login_raw(OWNER_EMAIL, "Wrong-Password-123456");
    wrong().await.problem(401, "invalid_credentials");
    tokio::time::sleep(Duration::from_millis(4000)).await;
    for _ in 0..4 {
        wrong().await.problem(401, "invalid_credentials");
    }
    wrong().await.problem(429, "too_many_attempts");
    // The first attempt has left the window, the other four have not: one more is allowed.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    wrong().await.problem(401, "invalid_credentials");
    let throttled = wrong().await;
    throttled.problem(429, "too_many_attempts");
    let retry: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=4).contains(&retry), "retry-after {retry}");
}

#[tokio::test]
async fn cors_answers_allowed_origins_and_refuses_others_with_a_problem() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["https://app.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/v1/users"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
    };
    let ok = app.send(preflight("https://app.example.com")).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    app.send(preflight("https://evil.example"))
        .await
        .problem(400, "malformed_request");
    // Errors keep their CORS headers, so a browser can read them.
    let missing = app
        .send(
            app.client
                // Served by Swagger UI's file service, whose bare 404 becomes a problem here.
                .get(app.url("/swagger-ui/no-such-file.js"))
                .header("Origin", "https://app.example.com"),
        )
        .await;
    missing.problem(404, "not_found");
    assert_eq!(
        missing.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
}

#[tokio::test]
async fn a_sign_in_racing_a_password_reset_never_outlives_it() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app.user_with_role(&owner, "viewer").await;
    let path = format!("/api/v1/users/{}/password", user.id);
    let mut password = user.password.clone();
    for round in 0..8 {
        let next = format!("Copper-Kettle-Lagoon-{round}{round}");
        let logins = futures_util::future::join_all(
            (0..4).map(|_| app.login_raw(&user.username, &password)),
        );
        let reset = app.put(
            &path,
            &owner.token,
            json!({"password": next, "must_change_password": false}),
        );
        let (logins, reset) = tokio::join!(logins, reset);
        reset.ok(204);
        for login in logins {
            // Sign-ins that lose the race are failures, and enough of them throttle.
            assert!(
                [200, 401, 429].contains(&login.status.as_u16()),
                "round {round}: {}",
                login.text
            );
            if login.status == 200 {
                let token = login.body["access_token"].as_str().unwrap();
                let me = app.get("/api/v1/me", token).await;
                me.problem(401, "token_revoked");
            }
        }
        password = next;
    }
}

#[tokio::test]
async fn concurrent_requests_on_one_user_never_fail_with_a_server_error() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for round in 0..6 {
        let user = app.user_with_role(&owner, "editor").await;
        let path = format!("/api/v1/users/{}", user.id);
        let login = app.login_raw(&user.username, &user.password);
        let patch = app.patch(
            &path,
            &owner.token,
            json!({"name": format!("Renamed {round}")}),
        );
        let logout = app.request(Method::POST, "/api/v1/auth/logout", Some(&user.token), None);
        let disable_path = format!("{path}/disable");
        let disable = app.post(&disable_path, &owner.token, json!({}));
        let (login, patch, logout, disable) = tokio::join!(login, patch, logout, disable);
        for (what, resp) in [
            ("login", &login),
            ("patch", &patch),
            ("logout", &logout),
            ("disable", &disable),
        ] {
            assert!(
                resp.status.as_u16() < 500,
                "round {round}: {what} → {} {}",
                resp.status,
                resp.text
            );
        }
        patch.ok(200);
        disable.ok(200);
        let after = app.get(&path, &owner.token).await.ok(200).clone();
        assert_eq!(after["name"], format!("Renamed {round}"));
        if login.status == 200 {
            // The sign-in happened before the disable, so its last_login_at survived the patch.
            assert!(after["last_login_at"].is_string(), "round {round}: {after}");
        }
        let login2 = app.login_raw(&user.username, &user.password);
        let delete = app.delete(&path, &owner.token);
        let (login2, delete) = tokio::join!(login2, delete);
        delete.ok(204);
        assert!(
            login2.status.as_u16() < 500,
            "round {round}: {}",
            login2.text
        );
    }
}

#[tokio::test]
async fn a_sign_in_is_not_recorded_once_the_verified_password_has_changed() {
    let app = spawn_app().await;
    let db = license_manager::db::connect(&app.config).await.unwrap();
    let owner = app.owner().await;
    let id: uuid::Uuid = owner.id.parse().unwrap();
    let company = license_manager::repo::users::find_by_username(&db, OWNER_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let now = license_manager::now();
    // The hash the sign-in verified is current: recorded.
    let current = license_manager::repo::users::record_login(&db, id, &company.password_hash, now)
        .await
        .unwrap();
    assert_eq!(current.map(|u| u.id), Some(id));
    // A reset replaced it meanwhile: not recorded, so no session is created.
    let stale = license_manager::repo::users::record_login(&db, id, "$argon2id$stale", now)
        .await
        .unwrap();
    assert!(stale.is_none());
}

#[tokio::test]
async fn a_request_whose_body_arrives_after_the_caller_was_disabled_changes_nothing() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let owner = app.owner().await;
    let second = app.user_with_role(&owner, "owner").await;
    let body =
        json!({"name": "Mallory", "username": "mallory@acme.test", "email": "mallory@acme.test",
                      "password": temp_password(), "role": "owner"})
        .to_string();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        second.token,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The caller is disabled while their request is still being received.
    app.post(
        &format!("/api/v1/users/{}/disable", second.id),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    stream.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response)
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.contains("token_revoked"), "{response}");
    let found = app
        .get("/api/v1/users?username=mallory", &owner.token)
        .await;
    assert_eq!(found.ok(200)["total"], 0);
}

#[tokio::test]
async fn dates_the_databases_cannot_store_are_a_422() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for query in ["from=-4713-01-01T00:00:00Z", "to=0000-01-01T00:00:00Z"] {
        let resp = app
            .get(&format!("/api/v1/audit?{query}"), &owner.token)
            .await;
        resp.problem(422, "validation_failed");
    }
}

#[tokio::test]
async fn invented_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    let method = Method::from_bytes(b"INVENTEDMETHOD").unwrap();
    let resp = app
        .send(app.client.request(method, app.url("/health/live")))
        .await;
    resp.problem(405, "method_not_allowed");
    let metrics = app.request(Method::GET, "/metrics", None, None).await;
    assert!(!metrics.text.contains("INVENTEDMETHOD"));
    assert!(metrics.text.contains(r#"method="OTHER""#));
}
