use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::*;

fn actions(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_change_records_exactly_one_event_in_order() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let id = user["id"].as_str().unwrap();
    let path = format!("/api/v1/users/{id}");
    app.patch(&path, &owner.token, json!({"role": "editor"}))
        .await
        .ok(200);
    app.post(&format!("{path}/disable"), &owner.token, json!({}))
        .await
        .ok(200);
    app.post(&format!("{path}/enable"), &owner.token, json!({}))
        .await
        .ok(200);
    app.put(
        &format!("{path}/password"),
        &owner.token,
        json!({"password": "Copper-Kettle-Lagoon-55"}),
    )
    .await
    .ok(204);
    let ada = app.login("ada@acme.test", "Copper-Kettle-Lagoon-55").await;
    app.put(
        "/api/v1/me/password",
        &ada.token,
        json!({"current_password": "Copper-Kettle-Lagoon-55", "new_password": "Saffron-Glacier-Tundra-64"}),
    )
    .await
    .ok(204);

    let resp = app.get(&format!("{path}/history"), &owner.token).await;
    let body = resp.ok(200).clone();
    assert_eq!(
        actions(body["items"].as_array().unwrap()),
        [
            "user.password_changed",
            "auth.login_succeeded",
            "user.password_reset",
            "user.enabled",
            "user.disabled",
            "user.updated",
            "user.created"
        ]
    );
    assert!(body["next_cursor"].is_null());
    let created = &body["items"][6];
    assert_eq!(created["subject"]["id"], id);
    assert_eq!(created["actor"]["id"], owner.id.as_str());
    assert!(
        created["ip"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("127."))
    );
    assert!(created["request_id"].is_string());
    assert!(created["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        body["items"][4]["changes"],
        json!({"status": {"old": "active", "new": "disabled"}})
    );
    assert!(
        !resp.text.contains("Copper-Kettle")
            && !resp.text.contains("Saffron")
            && !resp.text.contains("argon2")
    );
}

#[tokio::test]
async fn failed_changes_record_nothing() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let before = app.events(&owner, "").await.len();
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    app.post("/api/v1/users", &owner.token, json!({"name": "x"}))
        .await
        .problem(400, "malformed_request");
    app.patch(&path, &owner.token, json!({"email": "bad"}))
        .await
        .problem(422, "validation_failed");
    app.patch(
        &format!("/api/v1/users/{}", owner.id),
        &owner.token,
        json!({"role": "viewer"}),
    )
    .await
    .problem(409, "last_owner");
    app.delete(&format!("/api/v1/users/{}", owner.id), &owner.token)
        .await
        .problem(409, "self_action_forbidden");
    app.put(
        &format!("{path}/password"),
        &owner.token,
        json!({"password": "short"}),
    )
    .await
    .problem(422, "validation_failed");
    let after = app.events(&owner, "").await;
    assert_eq!(
        after.len(),
        before + 1,
        "only user.created: {:?}",
        actions(&after)
    );
}

#[tokio::test]
async fn history_pages_with_a_stable_cursor_while_new_events_arrive() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let id = user["id"].as_str().unwrap();
    let path = format!("/api/v1/users/{id}");
    for i in 0..9 {
        app.patch(&path, &owner.token, json!({"name": format!("Ada {i}")}))
            .await
            .ok(200);
    }
    // 10 events about Ada: 1 created + 9 updated.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("{path}/history?limit=3&cursor={c}"),
            None => format!("{path}/history?limit=3"),
        };
        let page = app.get(&q, &owner.token).await.ok(200).clone();
        pages += 1;
        if pages == 2 {
            // A new event arrives mid-way; it must not shift the remaining pages.
            app.patch(&path, &owner.token, json!({"name": "Ada Latest"}))
                .await
                .ok(200);
        }
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 10);
    assert_eq!(pages, 4);
}

#[tokio::test]
async fn history_filters_by_action_and_time() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    app.patch(&path, &owner.token, json!({"role": "editor"}))
        .await
        .ok(200);
    app.post(&format!("{path}/disable"), &owner.token, json!({}))
        .await
        .ok(200);
    let only = app
        .get(
            &format!("{path}/history?action=user.disabled,user.created"),
            &owner.token,
        )
        .await;
    assert_eq!(
        actions(only.ok(200)["items"].as_array().unwrap()),
        ["user.disabled", "user.created"]
    );

    let future = "2999-01-01T00:00:00Z";
    let none = app
        .get(&format!("{path}/history?from={future}"), &owner.token)
        .await;
    assert_eq!(none.ok(200)["items"], json!([]));
    let all = app
        .get(
            &format!("{path}/history?to={future}&from=2000-01-01T00:00:00Z"),
            &owner.token,
        )
        .await;
    assert_eq!(all.ok(200)["items"].as_array().unwrap().len(), 3);
    let created_at = user["created_at"].as_str().unwrap();
    let upto = app
        .get(&format!("{path}/history?to={created_at}"), &owner.token)
        .await;
    assert_eq!(upto.ok(200)["items"], json!([]), "`to` is exclusive");

    let bad = app
        .get(
            &format!("{path}/history?action=user.exploded"),
            &owner.token,
        )
        .await;
    bad.problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["action"]);
    app.get(&format!("{path}/history?limit=0"), &owner.token)
        .await
        .problem(422, "validation_failed");
    app.get(&format!("{path}/history?limit=201"), &owner.token)
        .await
        .problem(422, "validation_failed");
    app.get(&format!("{path}/history?cursor=nonsense"), &owner.token)
        .await
        .problem(422, "validation_failed");
    app.get(&format!("{path}/history?from=yesterday"), &owner.token)
        .await
        .problem(400, "malformed_request");
    app.get(
        &format!("{path}/history?from={future}&to=2000-01-01T00:00:00Z"),
        &owner.token,
    )
    .await
    .problem(422, "validation_failed");
}

#[tokio::test]
async fn history_includes_events_where_the_user_acted() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let mine = app
        .get(
            &format!("/api/v1/users/{}/history?action=user.created", owner.id),
            &owner.token,
        )
        .await;
    let items = mine.ok(200)["items"].as_array().unwrap().clone();
    // The owner's own creation (bootstrap) and Ada's, which the owner performed.
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["subject"]["username"], "ada@acme.test");
}

#[tokio::test]
async fn audit_filters_by_actor_and_subject_and_keeps_snapshots_after_renames() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = app
        .create_user(&owner, "Ada Lovelace", "ada@acme.test", "viewer")
        .await;
    let id = user["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/users/{id}"),
        &owner.token,
        json!({"name": "Ada King"}),
    )
    .await
    .ok(200);
    app.delete(&format!("/api/v1/users/{id}"), &owner.token)
        .await
        .ok(204);
    let about = app.events(&owner, &format!("subject_id={id}")).await;
    assert_eq!(
        actions(&about),
        ["user.deleted", "user.updated", "user.created"]
    );
    assert_eq!(
        about[2]["subject"]["name"], "Ada Lovelace",
        "snapshot taken when written"
    );
    assert_eq!(about[0]["subject"]["name"], "Ada King");
    let by_owner = app
        .events(
            &owner,
            &format!("actor_id={}&action=user.deleted", owner.id),
        )
        .await;
    assert_eq!(by_owner.len(), 1);
    let page = app.get("/api/v1/audit?limit=2", &owner.token).await;
    let body = page.ok(200);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert!(body["next_cursor"].is_string());
    app.get("/api/v1/audit?actor_id=not-a-uuid", &owner.token)
        .await
        .problem(400, "malformed_request");
}
