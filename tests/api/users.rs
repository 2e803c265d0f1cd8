use serde_json::{Value, json};

use crate::helpers::*;

fn new_user(email: &str, role: &str) -> Value {
    json!({"name": "Ada Lovelace", "username": email, "email": email, "password": temp_password(), "role": role})
}

#[tokio::test]
async fn create_returns_201_with_location_etag_and_a_temporary_password() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .post(
            "/api/v1/users",
            &owner.token,
            json!({"name": "  Ada Lovelace ", "username": " Ada@Acme.TEST ", "email": "Ada@Acme.test ",
                   "password": temp_password(), "role": "editor"}),
        )
        .await;
    let body = resp.ok(201).clone();
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/users/{id}").as_str())
    );
    assert_eq!(resp.header("etag"), Some("\"1\""));
    assert_eq!(body["name"], "Ada Lovelace");
    assert_eq!(body["username"], "ada@acme.test");
    assert_eq!(body["email"], "ada@acme.test");
    assert_eq!(body["role"], "editor");
    assert_eq!(body["status"], "active");
    assert_eq!(body["must_change_password"], true);
    assert_eq!(body["version"], 1);
    assert!(body["last_login_at"].is_null());
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    assert!(!resp.text.contains(&temp_password()));
    let me = app.get("/api/v1/me", &owner.token).await.ok(200).clone();
    assert_eq!(body["company_id"], me["user"]["company_id"]);

    let fetched = app.get(&format!("/api/v1/users/{id}"), &owner.token).await;
    assert_eq!(fetched.ok(200), &body);
    assert_eq!(fetched.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn create_names_every_invalid_field() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .post(
            "/api/v1/users",
            &owner.token,
            json!({"name": "", "username": "a b", "email": "not-an-email", "password": "short", "role": "admin"}),
        )
        .await;
    resp.problem(422, "validation_failed");
    let mut fields = resp.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "name", "password", "role", "username"]);
    assert!(
        app.events(&owner, "action=user.created").await.len() == 1,
        "only the bootstrap owner"
    );
}

#[tokio::test]
async fn weak_passwords_and_passwords_built_from_the_users_details_are_refused() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut body = new_user("grace.hopper@acme.test", "viewer");
    body["name"] = json!("Grace Hopper");
    body["password"] = json!("gracehopper1906");
    let resp = app.post("/api/v1/users", &owner.token, body.clone()).await;
    resp.problem(422, "validation_failed");
    assert_eq!(resp.body["errors"][0]["field"], "password");
    assert_eq!(resp.body["errors"][0]["code"], "weak_password");
    assert!(
        resp.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("guess")
    );
    body["password"] = json!("aaaaaaaaaaaaaaaa");
    app.post("/api/v1/users", &owner.token, body)
        .await
        .problem(422, "validation_failed");
}

#[tokio::test]
async fn usernames_and_emails_are_unique_in_normalised_form() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.post(
        "/api/v1/users",
        &owner.token,
        new_user("alice@x.com", "viewer"),
    )
    .await
    .ok(201);
    let mut dup = new_user("Alice@X.com ", "viewer");
    dup["email"] = json!("ALICE@x.COM");
    let resp = app.post("/api/v1/users", &owner.token, dup).await;
    resp.problem(409, "conflict");
    let mut fields = resp.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "username"]);

    let mut email_only = new_user("alice2@x.com", "viewer");
    email_only["email"] = json!("alice@x.com");
    let resp = app.post("/api/v1/users", &owner.token, email_only).await;
    resp.problem(409, "conflict");
    assert_eq!(resp.error_fields(), ["email"]);

    // Unique across companies too.
    app.other_company("gary@globex.test").await;
    let resp = app
        .post(
            "/api/v1/users",
            &owner.token,
            new_user("gary@globex.test", "viewer"),
        )
        .await;
    resp.problem(409, "conflict");
}

#[tokio::test]
async fn concurrent_duplicate_creates_yield_one_201_and_409s() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let attempts = (0..8).map(|_| {
        app.post(
            "/api/v1/users",
            &owner.token,
            new_user("race@acme.test", "viewer"),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let conflicts = results.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, 7),
        "statuses: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status == 409) {
        r.problem(409, "conflict");
    }
    let list = app
        .get("/api/v1/users?username=race@acme.test", &owner.token)
        .await;
    assert_eq!(list.ok(200)["total"], 1);
    assert_eq!(app.events(&owner, "action=user.created").await.len(), 2);
}

#[tokio::test]
async fn other_companies_users_are_not_found() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, gary) = app.other_company("gary@globex.test").await;
    let path = format!("/api/v1/users/{gary}");
    app.get(&path, &owner.token).await.problem(404, "not_found");
    app.patch(&path, &owner.token, json!({"name": "Hacked"}))
        .await
        .problem(404, "not_found");
    app.delete(&path, &owner.token)
        .await
        .problem(404, "not_found");
    app.post(&format!("{path}/disable"), &owner.token, json!({}))
        .await
        .problem(404, "not_found");
    app.post(&format!("{path}/enable"), &owner.token, json!({}))
        .await
        .problem(404, "not_found");
    app.put(
        &format!("{path}/password"),
        &owner.token,
        json!({"password": "Copper-Kettle-Lagoon-55"}),
    )
    .await
    .problem(404, "not_found");
    app.get(&format!("{path}/history"), &owner.token)
        .await
        .problem(404, "not_found");
    let audit = app
        .get(&format!("/api/v1/audit?subject_id={gary}"), &owner.token)
        .await;
    assert_eq!(audit.ok(200)["items"], json!([]));
    // Gary is untouched.
    let gary_session = app.login("gary@globex.test", OWNER_PASSWORD).await;
    let me = app
        .get("/api/v1/me", &gary_session.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(me["user"]["name"], "Gary Globex");
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/api/v1/users/{missing}"), &owner.token)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn patch_changes_fields_bumps_the_version_and_records_the_diff() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let resp = app
        .patch(
            &path,
            &owner.token,
            json!({"name": "Ada King", "email": "ADA.KING@acme.test", "role": "editor"}),
        )
        .await;
    let body = resp.ok(200).clone();
    assert_eq!(resp.header("etag"), Some("\"2\""));
    assert_eq!(
        (
            body["name"].as_str(),
            body["email"].as_str(),
            body["role"].as_str()
        ),
        (Some("Ada King"), Some("ada.king@acme.test"), Some("editor"))
    );
    assert_eq!(body["username"], "ada@acme.test");
    assert_eq!(body["version"], 2);
    assert_ne!(body["updated_at"], user["updated_at"]);

    let events = app.events(&owner, "action=user.updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["changes"],
        json!({"name": {"old": "Ada Lovelace", "new": "Ada King"},
               "email": {"old": "ada@acme.test", "new": "ada.king@acme.test"},
               "role": {"old": "viewer", "new": "editor"}})
    );
    assert_eq!(events[0]["subject"]["name"], "Ada King");
    assert_eq!(events[0]["actor"]["username"], OWNER_EMAIL);
}

#[tokio::test]
async fn empty_and_no_op_patches_change_and_record_nothing() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    assert_eq!(
        app.patch(&path, &owner.token, json!({})).await.ok(200),
        &user
    );
    let same = json!({"name": " Ada Lovelace ", "username": "ADA@acme.test", "role": "viewer"});
    assert_eq!(app.patch(&path, &owner.token, same).await.ok(200), &user);
    assert!(app.events(&owner, "action=user.updated").await.is_empty());
}

#[tokio::test]
async fn patch_rejects_nulls_invalid_values_and_taken_names() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    app.create_user(&owner, "Bob", "bob@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let resp = app
        .patch(
            &path,
            &owner.token,
            json!({"name": null, "role": "superuser"}),
        )
        .await;
    resp.problem(422, "validation_failed");
    let mut fields = resp.error_fields();
    fields.sort();
    assert_eq!(fields, ["name", "role"]);
    let resp = app
        .patch(&path, &owner.token, json!({"username": "BOB@acme.test"}))
        .await;
    resp.problem(409, "conflict");
    assert_eq!(resp.error_fields(), ["username"]);
    let unchanged = app.get(&path, &owner.token).await.ok(200).clone();
    assert_eq!(unchanged, user);
    assert!(app.events(&owner, "action=user.updated").await.is_empty());
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let patch = |etag: &'static str, name: &'static str| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(&owner.token)
            .header("If-Match", etag)
            .json(&json!({"name": name}))
    };
    let ok = app.send(patch("\"1\"", "Ada B")).await;
    ok.ok(200);
    assert_eq!(ok.header("etag"), Some("\"2\""));
    app.send(patch("\"1\"", "Ada C"))
        .await
        .problem(412, "precondition_failed");
    app.send(patch("W/\"2\"", "Ada C"))
        .await
        .problem(412, "precondition_failed");
    app.send(patch("*", "Ada D")).await.ok(200);
    let now = app.get(&path, &owner.token).await;
    assert_eq!(now.ok(200)["name"], "Ada D");
    assert_eq!(now.header("etag"), Some("\"3\""));
}

#[tokio::test]
async fn delete_removes_the_user_and_keeps_their_history() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app.user_with_role(&owner, "editor").await;
    let path = format!("/api/v1/users/{}", user.id);
    app.delete(&path, &owner.token).await.ok(204);
    app.get(&path, &owner.token).await.problem(404, "not_found");
    app.delete(&path, &owner.token)
        .await
        .problem(404, "not_found");
    app.login_raw(&user.username, &user.password)
        .await
        .problem(401, "invalid_credentials");
    let history = app.events(&owner, &format!("subject_id={}", user.id)).await;
    let actions: Vec<&str> = history
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "user.deleted");
    assert!(actions.contains(&"user.created") && actions.contains(&"user.password_changed"));
    assert_eq!(history[0]["subject"]["username"], user.username.as_str());
}

#[tokio::test]
async fn owners_cannot_delete_disable_or_reset_themselves() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(&owner, "Second Owner", "second@acme.test", "owner")
        .await;
    let me = format!("/api/v1/users/{}", owner.id);
    app.delete(&me, &owner.token)
        .await
        .problem(409, "self_action_forbidden");
    app.post(&format!("{me}/disable"), &owner.token, json!({}))
        .await
        .problem(409, "self_action_forbidden");
    app.put(
        &format!("{me}/password"),
        &owner.token,
        json!({"password": "Copper-Kettle-Lagoon-55"}),
    )
    .await
    .problem(409, "self_action_forbidden");
    app.get("/api/v1/me", &owner.token).await.ok(200);
}

#[tokio::test]
async fn the_last_active_owner_cannot_be_demoted_disabled_or_deleted() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let second = app.user_with_role(&owner, "owner").await;
    // Disabled owners do not count.
    app.post(
        &format!("/api/v1/users/{}/disable", second.id),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    let other = app.user_with_role(&owner, "owner").await;
    // `other` demotes and deletes the original owner... until only one active owner is left.
    app.patch(
        &format!("/api/v1/users/{}", owner.id),
        &other.token,
        json!({"role": "manager"}),
    )
    .await
    .ok(200);
    let me = format!("/api/v1/users/{}", other.id);
    let admin = app.login(&other.username, &other.password).await;
    let demote = app
        .patch(&me, &admin.token, json!({"role": "viewer"}))
        .await;
    demote.problem(409, "last_owner");
    let still = app.get(&me, &admin.token).await.ok(200).clone();
    assert_eq!(still["role"], "owner");
    assert!(app.events(&admin, "action=user.updated").await.len() == 1);
}

#[tokio::test]
async fn concurrent_demotion_of_the_last_two_owners_keeps_one() {
    for _ in 0..3 {
        let app = spawn_app().await;
        let owner = app.owner().await;
        let second = app.user_with_role(&owner, "owner").await;
        let (path_a, path_b) = (
            format!("/api/v1/users/{}", second.id),
            format!("/api/v1/users/{}", owner.id),
        );
        let a = app.patch(&path_a, &owner.token, json!({"role": "viewer"}));
        let b = app.patch(&path_b, &second.token, json!({"role": "viewer"}));
        let (a, b) = tokio::join!(a, b);
        let statuses = [a.status.as_u16(), b.status.as_u16()];
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "exactly one demotion succeeds: {statuses:?}"
        );
        let survivor = if a.status == 200 { &owner } else { &second };
        let fresh = app.login(&survivor.username, &survivor.password).await;
        let owners = app
            .get("/api/v1/users?role=owner&status=active", &fresh.token)
            .await;
        assert_eq!(
            owners.ok(200)["total"],
            1,
            "exactly one active owner remains: {statuses:?}"
        );
    }
}

#[tokio::test]
async fn owner_password_reset_sets_a_temporary_password_and_records_no_secret() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app.user_with_role(&owner, "viewer").await;
    let path = format!("/api/v1/users/{}/password", user.id);
    app.put(&path, &owner.token, json!({"password": "weak"}))
        .await
        .problem(422, "validation_failed");
    app.put(
        &path,
        &owner.token,
        json!({"password": "Copper-Kettle-Lagoon-55", "must_change_password": false}),
    )
    .await
    .ok(204);
    let login = app
        .login_raw(&user.username, "Copper-Kettle-Lagoon-55")
        .await;
    assert_eq!(login.ok(200)["must_change_password"], false);
    let events = app.events(&owner, "action=user.password_reset").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["changes"], json!({"password": {"changed": true}}));
    let all = app.get("/api/v1/audit?limit=200", &owner.token).await;
    assert!(!all.text.contains("Copper-Kettle-Lagoon-55") && !all.text.contains("$argon2"));
}

#[tokio::test]
async fn disable_and_enable_are_idempotent() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let id = user["id"].as_str().unwrap();
    let d1 = app
        .post(
            &format!("/api/v1/users/{id}/disable"),
            &owner.token,
            json!({}),
        )
        .await;
    assert_eq!(d1.ok(200)["status"], "disabled");
    assert_eq!(d1.body["version"], 2);
    let d2 = app
        .post(
            &format!("/api/v1/users/{id}/disable"),
            &owner.token,
            json!({}),
        )
        .await;
    assert_eq!(d2.ok(200)["version"], 2);
    let e1 = app
        .post(
            &format!("/api/v1/users/{id}/enable"),
            &owner.token,
            json!({}),
        )
        .await;
    assert_eq!(e1.ok(200)["status"], "active");
    app.post(
        &format!("/api/v1/users/{id}/enable"),
        &owner.token,
        json!({}),
    )
    .await
    .ok(200);
    assert_eq!(app.events(&owner, "action=user.disabled").await.len(), 1);
    assert_eq!(app.events(&owner, "action=user.enabled").await.len(), 1);
    let status = app.get("/api/v1/users?status=disabled", &owner.token).await;
    assert_eq!(status.ok(200)["total"], 0);
}
