use std::collections::HashSet;

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_returns_tokens_and_the_user() {
    let app = spawn_app().await;
    let resp = app
        .login_raw("  Olivia.Owner@ACME.test ", OWNER_PASSWORD)
        .await;
    let body = resp.ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 40);
    assert_eq!(body["must_change_password"], false);
    assert_eq!(body["user"]["username"], OWNER_EMAIL);
    assert_eq!(body["user"]["role"], "owner");
    assert!(body["user"]["last_login_at"].is_string());
    assert!(body["user"].get("password_hash").is_none());
    assert_eq!(resp.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn unknown_user_and_wrong_password_look_the_same() {
    let app = spawn_app().await;
    let unknown = app.login_raw("nobody@acme.test", OWNER_PASSWORD).await;
    let wrong = app.login_raw(OWNER_EMAIL, "Wrong-Password-123456").await;
    let a = unknown.problem(401, "invalid_credentials").clone();
    let b = wrong.problem(401, "invalid_credentials").clone();
    for field in ["type", "title", "status", "detail", "code"] {
        assert_eq!(a[field], b[field], "{field} differs");
    }
    assert!(
        unknown
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn failed_logins_are_recorded_for_known_usernames_only() {
    let app = spawn_app().await;
    app.login_raw(OWNER_EMAIL, "Wrong-Password-123456")
        .await
        .problem(401, "invalid_credentials");
    app.login_raw("ghost@acme.test", "Wrong-Password-123456")
        .await
        .problem(401, "invalid_credentials");
    let owner = app.owner().await;
    let failed = app.events(&owner, "action=auth.login_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["subject"]["username"], OWNER_EMAIL);
    assert!(failed[0]["actor"].is_null());
    let ok = app.events(&owner, "action=auth.login_succeeded").await;
    assert_eq!(ok.len(), 1);
}

#[tokio::test]
async fn disabled_accounts_cannot_sign_in() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app.user_with_role(&owner, "editor").await;
    app.post(
        &format!("/api/v1/users/{}/disable", user.id),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    app.login_raw(&user.username, &user.password)
        .await
        .problem(403, "account_disabled");
    // A wrong password still gets the ordinary answer.
    app.login_raw(&user.username, "Wrong-Password-123456")
        .await
        .problem(401, "invalid_credentials");
    app.post(
        &format!("/api/v1/users/{}/enable", user.id),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    app.login(&user.username, &user.password).await;
}

#[tokio::test]
async fn five_failures_throttle_even_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.login_raw(OWNER_EMAIL, "Wrong-Password-123456")
            .await
            .problem(401, "invalid_credentials");
    }
    let resp = app.login_raw(OWNER_EMAIL, OWNER_PASSWORD).await;
    resp.problem(429, "too_many_attempts");
    let retry: u64 = resp.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 800 && retry <= 900, "retry-after {retry}");
    // Other usernames are not affected, and the normalised form shares the counter.
    app.login_raw(" OLIVIA.owner@acme.test", OWNER_PASSWORD)
        .await
        .problem(429, "too_many_attempts");
    app.login_raw("someone@acme.test", "Wrong-Password-123456")
        .await
        .problem(401, "invalid_credentials");
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login_raw(OWNER_EMAIL, "Wrong-Password-123456")
            .await
            .problem(401, "invalid_credentials");
    }
    app.owner().await;
    for _ in 0..4 {
        app.login_raw(OWNER_EMAIL, "Wrong-Password-123456")
            .await
            .problem(401, "invalid_credentials");
    }
    app.owner().await;
}

#[tokio::test]
async fn parallel_wrong_passwords_get_at_most_five_verifications() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let target = app.user_with_role(&owner, "editor").await;
    let attempts = (0..20).map(|_| app.login_raw(&target.username, "Wrong-Password-123456"));
    let results = futures_util::future::join_all(attempts).await;
    let unauthorized = results.iter().filter(|r| r.status == 401).count();
    let throttled = results.iter().filter(|r| r.status == 429).count();
    assert_eq!(unauthorized, 5, "exactly five attempts were verified");
    assert_eq!(throttled, 15);
    let failures = app.events(&owner, "action=auth.login_failed").await;
    assert_eq!(failures.len(), 5);
    app.login_raw(&target.username, &target.password)
        .await
        .problem(429, "too_many_attempts");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let first = app
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": owner.refresh})),
        )
        .await;
    let body = first.ok(200).clone();
    let new_refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let new_access = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, owner.refresh);
    app.get("/api/v1/me", &new_access).await.ok(200);

    // The old refresh token again: the whole session is revoked.
    app.request(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": owner.refresh})),
    )
    .await
    .problem(401, "token_revoked");
    app.get("/api/v1/me", &new_access)
        .await
        .problem(401, "token_revoked");
    app.request(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": new_refresh})),
    )
    .await
    .problem(401, "token_revoked");

    let again = app.owner().await;
    let reuse = app
        .events(&again, "action=auth.refresh_reuse_detected")
        .await;
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0]["subject"]["username"], OWNER_EMAIL);
}

#[tokio::test]
async fn unknown_refresh_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    app.request(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": "made-up"})),
    )
    .await
    .problem(401, "unauthenticated");
}

#[tokio::test]
async fn logout_revokes_the_session_on_the_next_request() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let other = app.owner().await;
    app.request(
        Method::POST,
        "/api/v1/auth/logout",
        Some(&owner.token),
        None,
    )
    .await
    .ok(204);
    app.get("/api/v1/me", &owner.token)
        .await
        .problem(401, "token_revoked");
    app.request(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": owner.refresh})),
    )
    .await
    .problem(401, "token_revoked");
    // Only that session ended.
    app.get("/api/v1/me", &other.token).await.ok(200);
    assert_eq!(app.events(&other, "action=auth.logout").await.len(), 1);
}

#[tokio::test]
async fn me_returns_the_user_and_permissions() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let body = app.get("/api/v1/me", &owner.token).await.ok(200).clone();
    assert_eq!(body["user"]["id"], owner.id);
    assert_eq!(
        body["permissions"],
        json!({"licenses": "write", "shopping_cart": "write", "users": "write"})
    );
}

#[tokio::test]
async fn roles_lists_the_policy_table() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let body = app.get("/api/v1/roles", &owner.token).await.ok(200).clone();
    let roles = body["roles"].as_array().unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(names, ["owner", "manager", "editor", "viewer"]);
    assert_eq!(
        roles[3]["access"],
        json!({"licenses": "read", "shopping_cart": "none", "users": "none"})
    );
    assert!(
        roles
            .iter()
            .all(|r| r["description"].as_str().is_some_and(|d| !d.is_empty()))
    );
}

#[tokio::test]
async fn new_users_must_change_their_password_first() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let created = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "manager")
        .await;
    assert_eq!(created["must_change_password"], true);
    let login = app.login_raw("ada@acme.test", &temp_password()).await;
    assert_eq!(login.ok(200)["must_change_password"], true);
    let ada = app.login("ada@acme.test", &temp_password()).await;

    // Only /me, /me/password, refresh and logout work.
    app.get("/api/v1/roles", &ada.token)
        .await
        .problem(403, "password_change_required");
    app.get("/api/v1/users", &ada.token)
        .await
        .problem(403, "password_change_required");
    app.get("/api/v1/me", &ada.token).await.ok(200);
    let refreshed = app
        .request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": ada.refresh})),
        )
        .await;
    assert_eq!(refreshed.ok(200)["must_change_password"], true);
    let token = refreshed.body["access_token"].as_str().unwrap().to_owned();

    app.put(
        "/api/v1/me/password",
        &token,
        json!({"current_password": temp_password(), "new_password": "Zebra-Crossing-Autumn-88"}),
    )
    .await
    .ok(204);
    // The calling session stays valid and the gate is lifted.
    app.get("/api/v1/roles", &token).await.ok(200);
    let me = app.get("/api/v1/me", &token).await.ok(200).clone();
    assert_eq!(me["user"]["must_change_password"], false);
    assert_eq!(me["user"]["version"], 2);
}

#[tokio::test]
async fn changing_the_password_revokes_other_sessions_only() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app.user_with_role(&owner, "editor").await;
    let second = app.login(&user.username, &user.password).await;
    app.put(
        "/api/v1/me/password",
        &user.token,
        json!({"current_password": user.password, "new_password": "Harbour-Lights-Winter-31"}),
    )
    .await
    .ok(204);
    app.get("/api/v1/me", &user.token).await.ok(200);
    app.get("/api/v1/me", &second.token)
        .await
        .problem(401, "token_revoked");
    app.login_raw(&user.username, &user.password)
        .await
        .problem(401, "invalid_credentials");
    app.login(&user.username, "Harbour-Lights-Winter-31").await;
    let changed = app.events(&owner, "action=user.password_changed").await;
    let mine: Vec<_> = changed
        .iter()
        .filter(|e| e["subject"]["id"] == user.id.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "once at first sign-in, once now");
    assert_eq!(mine[0]["changes"]["password"], json!({"changed": true}));
}

#[tokio::test]
async fn a_wrong_current_password_is_a_422_and_counts_as_a_failure() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .put(
            "/api/v1/me/password",
            &owner.token,
            json!({"current_password": "Not-My-Password-000", "new_password": "Harbour-Lights-Winter-31"}),
        )
        .await;
    resp.problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["current_password"]);
    // Still signed in.
    app.get("/api/v1/me", &owner.token).await.ok(200);
    for _ in 0..4 {
        app.login_raw(OWNER_EMAIL, "Wrong-Password-123456")
            .await
            .problem(401, "invalid_credentials");
    }
    app.login_raw(OWNER_EMAIL, OWNER_PASSWORD)
        .await
        .problem(429, "too_many_attempts");
}

#[tokio::test]
async fn weak_or_unchanged_new_passwords_are_refused() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let weak = app
        .put(
            "/api/v1/me/password",
            &owner.token,
            json!({"current_password": OWNER_PASSWORD, "new_password": "olivia.owner1"}),
        )
        .await;
    weak.problem(422, "validation_failed");
    assert_eq!(weak.error_fields(), ["new_password"]);
    assert_eq!(weak.body["errors"][0]["code"], "weak_password");
    let same = app
        .put(
            "/api/v1/me/password",
            &owner.token,
            json!({"current_password": OWNER_PASSWORD, "new_password": OWNER_PASSWORD}),
        )
        .await;
    same.problem(422, "validation_failed");
    assert_eq!(same.error_fields(), ["new_password"]);
}

#[tokio::test]
async fn tokens_signed_elsewhere_or_tampered_are_rejected() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut parts: Vec<String> = owner.token.split('.').map(str::to_owned).collect();
    parts[2] = "AAAA".into();
    app.get("/api/v1/me", &parts.join("."))
        .await
        .problem(401, "unauthenticated");
    app.get("/api/v1/me", "garbage")
        .await
        .problem(401, "unauthenticated");
    let resp = app.request(Method::GET, "/api/v1/me", None, None).await;
    resp.problem(401, "unauthenticated");
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn expired_access_tokens_are_rejected() {
    let app = spawn_app_with(|c| c.access_token_ttl = std::time::Duration::from_secs(1)).await;
    let owner = app.owner().await;
    app.get("/api/v1/me", &owner.token).await.ok(200);
    // One second of lifetime plus the five-second clock leeway.
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    app.get("/api/v1/me", &owner.token)
        .await
        .problem(401, "unauthenticated");
}

#[tokio::test]
async fn revocation_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let owner = app.owner().await;

    // Disabling.
    let a = app.user_with_role(&owner, "editor").await;
    app.post(
        &format!("/api/v1/users/{}/disable", a.id),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    app.get("/api/v1/me", &a.token)
        .await
        .problem(401, "token_revoked");
    app.request(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": a.refresh})),
    )
    .await
    .problem(401, "token_revoked");

    // A role change.
    let b = app.user_with_role(&owner, "editor").await;
    app.patch(
        &format!("/api/v1/users/{}", b.id),
        &owner.token,
        json!({"role": "viewer"}),
    )
    .await
    .ok(200);
    app.get("/api/v1/me", &b.token)
        .await
        .problem(401, "token_revoked");
    let again = app.login(&b.username, &b.password).await;
    let me = app.get("/api/v1/me", &again.token).await.ok(200).clone();
    assert_eq!(me["permissions"]["licenses"], "read");

    // An owner's password reset.
    let c = app.user_with_role(&owner, "manager").await;
    app.put(
        &format!("/api/v1/users/{}/password", c.id),
        &owner.token,
        json!({"password": "Copper-Kettle-Lagoon-55"}),
    )
    .await
    .ok(204);
    app.get("/api/v1/me", &c.token)
        .await
        .problem(401, "token_revoked");
    let after = app.login_raw(&c.username, "Copper-Kettle-Lagoon-55").await;
    assert_eq!(after.ok(200)["must_change_password"], true);

    // Deletion.
    let d = app.user_with_role(&owner, "viewer").await;
    app.delete(&format!("/api/v1/users/{}", d.id), &owner.token)
        .await
        .ok(204);
    app.get("/api/v1/me", &d.token)
        .await
        .problem(401, "token_revoked");
}

#[tokio::test]
async fn sessions_have_distinct_refresh_tokens() {
    let app = spawn_app().await;
    let mut seen = HashSet::new();
    for _ in 0..3 {
        let s = app.owner().await;
        assert!(seen.insert(s.refresh));
    }
}
