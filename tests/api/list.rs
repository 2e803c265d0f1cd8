//! `GET /api/v1/users`: filters, sorting, paging, query validation and company isolation.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::*;

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn enc(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Creates a user whose username and email may differ.
async fn add(
    app: &TestApp,
    owner: &Session,
    name: &str,
    username: &str,
    email: &str,
    role: &str,
) -> Value {
    app.post(
        "/api/v1/users",
        &owner.token,
        json!({
            "name": name,
            "username": username,
            "email": email,
            "password": temp_password(),
            "role": role,
        }),
    )
    .await
    .ok(201)
    .clone()
}

/// `GET /api/v1/users?{query}`, asserting 200.
async fn list(app: &TestApp, owner: &Session, query: &str) -> Value {
    app.get(&format!("/api/v1/users?{query}"), &owner.token)
        .await
        .ok(200)
        .clone()
}

/// `GET /api/v1/users?{query}`, the raw response.
async fn list_raw(app: &TestApp, owner: &Session, query: &str) -> Resp {
    app.get(&format!("/api/v1/users?{query}"), &owner.token)
        .await
}

/// One string field of every item, in order.
fn col(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items is an array")
        .iter()
        .map(|u| u[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn names(page: &Value) -> Vec<String> {
    col(page, "name")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Asserts a 422 `validation_failed` naming `field`.
#[track_caller]
fn assert_invalid(resp: &Resp, field: &str) {
    resp.problem(422, "validation_failed");
    assert!(
        resp.error_fields().iter().any(|f| f == field),
        "422 should name `{field}`; body: {}",
        resp.text
    );
}

// ---------------------------------------------------------------------------------------
// Page shape and defaults
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_returns_items_total_limit_and_offset_with_defaults() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let page = list(&app, &owner, "").await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["limit"], 50);
    assert_eq!(page["offset"], 0);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["username"], OWNER_EMAIL);
    assert!(
        items[0].get("password_hash").is_none() && items[0].get("password").is_none(),
        "a listed user never carries a password: {}",
        items[0]
    );
}

#[tokio::test]
async fn default_limit_is_50_and_total_counts_every_match() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for i in 0..52 {
        let email = format!("bulk{i:02}@acme.test");
        app.create_user(&owner, &format!("Bulk {i:02}"), &email, "viewer")
            .await;
    }
    let page = list(&app, &owner, "").await;
    assert_eq!(page["total"], 53);
    assert_eq!(page["limit"], 50);
    assert_eq!(page["items"].as_array().unwrap().len(), 50);

    let rest = list(&app, &owner, "offset=50").await;
    assert_eq!(rest["total"], 53);
    assert_eq!(rest["offset"], 50);
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn limit_and_offset_accept_their_bounds_and_offset_past_the_end_is_empty() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(&owner, "Amy Adams", "amy@acme.test", "viewer")
        .await;
    app.create_user(&owner, "Ben Brown", "ben@acme.test", "viewer")
        .await;

    let one = list(&app, &owner, "limit=1").await;
    assert_eq!(one["limit"], 1);
    assert_eq!(one["total"], 3);
    assert_eq!(names(&one), ["Amy Adams"]);

    let max = list(&app, &owner, "limit=200&offset=0").await;
    assert_eq!(max["limit"], 200);
    assert_eq!(max["offset"], 0);
    assert_eq!(max["items"].as_array().unwrap().len(), 3);

    let second = list(&app, &owner, "limit=1&offset=1").await;
    assert_eq!(names(&second), ["Ben Brown"]);
    assert_eq!(second["offset"], 1);

    let past = list(&app, &owner, "offset=1000").await;
    assert_eq!(past["total"], 3, "total counts matches even past the end");
    assert_eq!(past["offset"], 1000);
    assert!(past["items"].as_array().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn name_filter_is_a_case_insensitive_substring_of_the_name_only() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(
        &app,
        &owner,
        "Alice Smith",
        "asmith",
        "asmith@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Bob Jones",
        "bjones",
        "bjones@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Malicia Keys",
        "mkeys",
        "mkeys@acme.test",
        "viewer",
    )
    .await;
    // "alice" appears only in this user's username and email, not the name.
    add(
        &app,
        &owner,
        "Zed Zulu",
        "alice.z",
        "alice.z@acme.test",
        "viewer",
    )
    .await;

    for needle in ["ALI", "ali", "aLi"] {
        let page = list(&app, &owner, &format!("name={needle}")).await;
        assert_eq!(
            sorted(names(&page)),
            ["Alice Smith", "Malicia Keys"],
            "name={needle}"
        );
        assert_eq!(page["total"], 2);
    }
    let page = list(&app, &owner, &format!("name={}", enc("e sm"))).await;
    assert_eq!(
        names(&page),
        ["Alice Smith"],
        "a substring spanning a space"
    );
    let page = list(&app, &owner, "name=nobody").await;
    assert_eq!(page["total"], 0);
    assert!(page["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn name_filter_matches_non_ascii_letters_in_any_case() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(
        &app,
        &owner,
        "Élodie Durand",
        "edurand",
        "edurand@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Elodie Martin",
        "emartin",
        "emartin@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Jürgen Öztürk",
        "jozturk",
        "jozturk@acme.test",
        "viewer",
    )
    .await;

    for needle in ["ÉLODIE", "élodie", "Élodie", "éLoDiE"] {
        let page = list(&app, &owner, &format!("name={}", enc(needle))).await;
        assert_eq!(names(&page), ["Élodie Durand"], "name={needle}");
    }
    for needle in ["ÖZTÜRK", "öztürk", "JÜRGEN"] {
        let page = list(&app, &owner, &format!("name={}", enc(needle))).await;
        assert_eq!(names(&page), ["Jürgen Öztürk"], "name={needle}");
    }
    let page = list(&app, &owner, &format!("q={}", enc("ÉLODIE"))).await;
    assert_eq!(
        names(&page),
        ["Élodie Durand"],
        "q folds non-ASCII case too"
    );
}

/// Searching for a name exactly as it was stored must find it, even when the stored text is
/// not in NFC (decomposed accents as macOS produces them, fullwidth letters from an IME).
#[tokio::test]
async fn name_filter_finds_a_name_typed_exactly_as_it_was_stored() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let decomposed = "E\u{301}lodie Petit"; // "Élodie" with a combining acute accent
    let fullwidth = "Ｊｏｈｎ Ｗｉｄｅ";
    add(
        &app,
        &owner,
        decomposed,
        "epetit",
        "epetit@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        fullwidth,
        "jwide",
        "jwide@acme.test",
        "viewer",
    )
    .await;

    let mut misses = Vec::new();
    for (needle, expected) in [
        (decomposed, decomposed),
        ("E\u{301}LODIE", decomposed),
        ("Élodie", decomposed), // the precomposed (NFC) spelling
        (fullwidth, fullwidth),
        ("ｊｏｈｎ", fullwidth),
    ] {
        let page = list(&app, &owner, &format!("name={}", enc(needle))).await;
        if names(&page) != [expected] {
            misses.push(format!("name={needle:?} → {:?}", names(&page)));
        }
    }
    assert!(misses.is_empty(), "names not found: {misses:#?}");
}

#[tokio::test]
async fn username_filter_is_a_case_insensitive_substring_of_the_username_only() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(
        &app,
        &owner,
        "Kilo",
        "kilo.user",
        "lima@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Mike",
        "mike.user",
        "kilo.mail@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Kilo Name",
        "november",
        "november@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Élodie",
        "élodie.d",
        "elodie.d@acme.test",
        "viewer",
    )
    .await;

    let page = list(&app, &owner, "username=KILO").await;
    assert_eq!(col(&page, "username"), ["kilo.user"]);
    let page = list(&app, &owner, "username=.USER").await;
    assert_eq!(sorted(col(&page, "username")), ["kilo.user", "mike.user"]);
    let page = list(&app, &owner, &format!("username={}", enc("ÉLODIE"))).await;
    assert_eq!(col(&page, "username"), ["élodie.d"]);
}

#[tokio::test]
async fn email_filter_is_a_case_insensitive_substring_of_the_email_only() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(&app, &owner, "Oscar", "oscar", "papa@example.org", "viewer").await;
    add(
        &app,
        &owner,
        "Papa",
        "papa.user",
        "quebec@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Romeo",
        "romeo",
        "Romeo@Example.ORG",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Élodie",
        "emoreau",
        // A non-ASCII (internationalised) domain.
        "moreau@élodie.test",
        "viewer",
    )
    .await;

    let page = list(&app, &owner, "email=EXAMPLE.org").await;
    assert_eq!(
        sorted(col(&page, "email")),
        ["papa@example.org", "romeo@example.org"]
    );
    let page = list(&app, &owner, "email=PAPA").await;
    assert_eq!(
        col(&page, "email"),
        ["papa@example.org"],
        "not the username `papa.user`"
    );
    let page = list(&app, &owner, &format!("email={}", enc("@ÉLODIE.T"))).await;
    assert_eq!(col(&page, "email"), ["moreau@élodie.test"]);
}

#[tokio::test]
async fn role_filter_is_exact_and_a_comma_list_means_any_of() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(&owner, "Manny", "manny@acme.test", "manager")
        .await;
    app.create_user(&owner, "Eddie", "eddie@acme.test", "editor")
        .await;
    app.create_user(&owner, "Vera", "vera@acme.test", "viewer")
        .await;
    app.create_user(&owner, "Vince", "vince@acme.test", "viewer")
        .await;

    let page = list(&app, &owner, "role=viewer").await;
    assert_eq!(names(&page), ["Vera", "Vince"]);
    assert_eq!(page["total"], 2);
    let page = list(&app, &owner, "role=owner").await;
    assert_eq!(names(&page), ["Olivia Owner"]);
    let page = list(&app, &owner, &format!("role={}", enc("editor,manager"))).await;
    assert_eq!(names(&page), ["Eddie", "Manny"]);
    let page = list(&app, &owner, &format!("role={}", enc("owner,viewer"))).await;
    assert_eq!(names(&page), ["Olivia Owner", "Vera", "Vince"]);
    let page = list(
        &app,
        &owner,
        &format!("role={}", enc("owner,manager,editor,viewer")),
    )
    .await;
    assert_eq!(page["total"], 5);
    // Exact, not a substring: "view" is not a role.
    assert_invalid(&list_raw(&app, &owner, "role=view").await, "role");
}

#[tokio::test]
async fn status_filter_is_exact_and_a_comma_list_means_any_of() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let dora = app
        .create_user(&owner, "Dora", "dora@acme.test", "viewer")
        .await;
    app.create_user(&owner, "Abe", "abe@acme.test", "viewer")
        .await;
    let path = format!("/api/v1/users/{}/disable", dora["id"].as_str().unwrap());
    app.post(&path, &owner.token, json!({})).await.ok(200);

    let page = list(&app, &owner, "status=disabled").await;
    assert_eq!(names(&page), ["Dora"]);
    assert_eq!(page["total"], 1);
    let page = list(&app, &owner, "status=active").await;
    assert_eq!(names(&page), ["Abe", "Olivia Owner"]);
    let page = list(&app, &owner, &format!("status={}", enc("active,disabled"))).await;
    assert_eq!(names(&page), ["Abe", "Dora", "Olivia Owner"]);
    assert_invalid(&list_raw(&app, &owner, "status=disable").await, "status");
}

#[tokio::test]
async fn q_matches_a_substring_of_name_username_or_email() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(
        &app,
        &owner,
        "Sierra Tango",
        "uniform",
        "victor@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Whiskey",
        "xtango.yankee",
        "zulu@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Alpha",
        "bravo",
        "charlie.tango@example.org",
        "viewer",
    )
    .await;
    add(&app, &owner, "Delta", "echo", "foxtrot@acme.test", "viewer").await;

    let page = list(&app, &owner, "q=TANGO").await;
    assert_eq!(
        names(&page),
        ["Alpha", "Sierra Tango", "Whiskey"],
        "in the email, the name and the username"
    );
    assert_eq!(page["total"], 3);
    let page = list(&app, &owner, "q=uniform").await;
    assert_eq!(names(&page), ["Sierra Tango"]);
    let page = list(&app, &owner, "q=example.ORG").await;
    assert_eq!(names(&page), ["Alpha"]);
    let page = list(&app, &owner, "q=nomatch").await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn filters_combine_so_that_every_one_must_match() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(
        &app,
        &owner,
        "Ann Editor",
        "ann.e",
        "ann.e@acme.test",
        "editor",
    )
    .await;
    add(
        &app,
        &owner,
        "Ann Viewer",
        "ann.v",
        "ann.v@example.org",
        "viewer",
    )
    .await;
    let off = add(
        &app,
        &owner,
        "Ann Off",
        "ann.off",
        "ann.off@example.org",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Bea Viewer",
        "bea.v",
        "bea.v@example.org",
        "viewer",
    )
    .await;
    let path = format!("/api/v1/users/{}/disable", off["id"].as_str().unwrap());
    app.post(&path, &owner.token, json!({})).await.ok(200);

    let page = list(&app, &owner, "name=ann&role=viewer").await;
    assert_eq!(names(&page), ["Ann Off", "Ann Viewer"]);
    let page = list(&app, &owner, "name=ann&role=viewer&status=active").await;
    assert_eq!(names(&page), ["Ann Viewer"]);
    assert_eq!(page["total"], 1);
    let page = list(&app, &owner, "q=example.org&status=active").await;
    assert_eq!(names(&page), ["Ann Viewer", "Bea Viewer"]);
    let page = list(&app, &owner, "username=ann&email=acme").await;
    assert_eq!(names(&page), ["Ann Editor"]);
    let page = list(
        &app,
        &owner,
        &format!("q=ann&role={}&email=.v", enc("editor,viewer")),
    )
    .await;
    assert_eq!(names(&page), ["Ann Viewer"]);
    let page = list(&app, &owner, "name=bea&role=editor").await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn like_wildcards_in_filters_match_literally() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(&app, &owner, "100% Sure", "pct", "pct@acme.test", "viewer").await;
    add(
        &app,
        &owner,
        "100 Sure",
        "nopct",
        "nopct@acme.test",
        "viewer",
    )
    .await;
    add(
        &app,
        &owner,
        "Under Score",
        "a_b",
        "a_b@acme.test",
        "viewer",
    )
    .await;
    add(&app, &owner, "No Score", "axb", "axb@acme.test", "viewer").await;
    add(
        &app,
        &owner,
        "Back\\Slash",
        "bslash",
        "bslash@acme.test",
        "viewer",
    )
    .await;

    let page = list(&app, &owner, &format!("name={}", enc("%"))).await;
    assert_eq!(
        names(&page),
        ["100% Sure"],
        "name=% matches only a literal %"
    );
    let page = list(&app, &owner, &format!("name={}", enc("100%"))).await;
    assert_eq!(names(&page), ["100% Sure"]);
    let page = list(&app, &owner, &format!("q={}", enc("%"))).await;
    assert_eq!(names(&page), ["100% Sure"], "q=% matches only a literal %");

    let page = list(&app, &owner, &format!("username={}", enc("a_b"))).await;
    assert_eq!(
        names(&page),
        ["Under Score"],
        "_ is not a single-character wildcard"
    );
    let page = list(&app, &owner, &format!("email={}", enc("_"))).await;
    assert_eq!(names(&page), ["Under Score"]);
    let page = list(&app, &owner, &format!("q={}", enc("a_b"))).await;
    assert_eq!(names(&page), ["Under Score"]);

    let page = list(&app, &owner, &format!("name={}", enc("\\"))).await;
    assert_eq!(names(&page), ["Back\\Slash"], "a backslash is literal too");
}

// ---------------------------------------------------------------------------------------
// Sorting
// ---------------------------------------------------------------------------------------

/// Four users besides the owner (created in this order):
///
/// | name     | username | email               | role    | status   | last login |
/// |----------|----------|---------------------|---------|----------|------------|
/// | delta    | hotel    | x-ray@acme.test     | viewer  | active   | 3rd        |
/// | Alpha    | juliet   | whiskey@acme.test   | editor  | active   | never      |
/// | Charlie  | golf     | zulu@acme.test      | manager | active   | 2nd        |
/// | bravo    | india    | yankee@acme.test    | viewer  | disabled | never      |
///
/// The owner ("Olivia Owner", olivia.owner@acme.test) signed in 1st.
async fn sort_fixture() -> (TestApp, Session) {
    let app = spawn_app().await;
    let owner = app.owner().await;
    add(&app, &owner, "delta", "hotel", "x-ray@acme.test", "viewer").await;
    add(
        &app,
        &owner,
        "Alpha",
        "juliet",
        "whiskey@acme.test",
        "editor",
    )
    .await;
    add(&app, &owner, "Charlie", "golf", "zulu@acme.test", "manager").await;
    let bravo = add(&app, &owner, "bravo", "india", "yankee@acme.test", "viewer").await;
    let path = format!("/api/v1/users/{}/disable", bravo["id"].as_str().unwrap());
    app.post(&path, &owner.token, json!({})).await.ok(200);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.login("golf", &temp_password()).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.login("hotel", &temp_password()).await;
    (app, owner)
}

fn reversed(v: &[&str]) -> Vec<String> {
    v.iter().rev().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn sort_by_name_is_case_insensitive_ascending_and_descending() {
    let (app, owner) = sort_fixture().await;
    let asc = ["Alpha", "bravo", "Charlie", "delta", "Olivia Owner"];
    assert_eq!(names(&list(&app, &owner, "sort=name").await), asc);
    assert_eq!(
        names(&list(&app, &owner, "sort=-name").await),
        reversed(&asc)
    );
}

#[tokio::test]
async fn default_sort_is_by_name() {
    let (app, owner) = sort_fixture().await;
    assert_eq!(
        names(&list(&app, &owner, "").await),
        ["Alpha", "bravo", "Charlie", "delta", "Olivia Owner"]
    );
}

#[tokio::test]
async fn sort_by_username_ascending_and_descending() {
    let (app, owner) = sort_fixture().await;
    let asc = ["golf", "hotel", "india", "juliet", OWNER_EMAIL];
    assert_eq!(
        col(&list(&app, &owner, "sort=username").await, "username"),
        asc
    );
    assert_eq!(
        col(&list(&app, &owner, "sort=-username").await, "username"),
        reversed(&asc)
    );
}

#[tokio::test]
async fn sort_by_email_ascending_and_descending() {
    let (app, owner) = sort_fixture().await;
    let asc = [
        OWNER_EMAIL,
        "whiskey@acme.test",
        "x-ray@acme.test",
        "yankee@acme.test",
        "zulu@acme.test",
    ];
    assert_eq!(col(&list(&app, &owner, "sort=email").await, "email"), asc);
    assert_eq!(
        col(&list(&app, &owner, "sort=-email").await, "email"),
        reversed(&asc)
    );
}

/// The distinct values of `seq` in order of appearance, asserting equal values are adjacent.
#[track_caller]
fn groups(seq: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in seq {
        if out.last() != Some(v) {
            assert!(
                !out.contains(v),
                "equal sort keys must be adjacent: {seq:?}"
            );
            out.push(v.clone());
        }
    }
    out
}

#[tokio::test]
async fn sort_by_role_groups_roles_and_descending_reverses_the_order() {
    let (app, owner) = sort_fixture().await;
    let asc = col(&list(&app, &owner, "sort=role").await, "role");
    let desc = col(&list(&app, &owner, "sort=-role").await, "role");
    assert_eq!(asc.len(), 5);
    let asc_groups = groups(&asc);
    let mut desc_groups = groups(&desc);
    assert_eq!(asc_groups.len(), 4, "{asc:?}");
    desc_groups.reverse();
    assert_eq!(asc_groups, desc_groups, "asc {asc:?} vs desc {desc:?}");
}

#[tokio::test]
async fn sort_by_status_ascending_and_descending() {
    let (app, owner) = sort_fixture().await;
    let asc = col(&list(&app, &owner, "sort=status").await, "status");
    let desc = col(&list(&app, &owner, "sort=-status").await, "status");
    assert_eq!(asc, ["active", "active", "active", "active", "disabled"]);
    assert_eq!(desc, ["disabled", "active", "active", "active", "active"]);
}

#[tokio::test]
async fn sort_by_created_at_ascending_and_descending() {
    let (app, owner) = sort_fixture().await;
    let asc = ["Olivia Owner", "delta", "Alpha", "Charlie", "bravo"];
    let page = list(&app, &owner, "sort=created_at").await;
    assert_eq!(names(&page), asc);
    let times: Vec<chrono::DateTime<chrono::Utc>> = col(&page, "created_at")
        .iter()
        .map(|t| t.parse().expect("created_at is RFC 3339"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(
        names(&list(&app, &owner, "sort=-created_at").await),
        reversed(&asc)
    );
}

#[tokio::test]
async fn sort_by_last_login_at_puts_never_signed_in_users_last_in_both_directions() {
    let (app, owner) = sort_fixture().await;

    let asc = list(&app, &owner, "sort=last_login_at").await;
    let asc_names = names(&asc);
    assert_eq!(
        asc_names[..3],
        ["Olivia Owner", "Charlie", "delta"],
        "{asc_names:?}"
    );
    assert_eq!(
        sorted(asc_names[3..].to_vec()),
        ["Alpha", "bravo"],
        "nulls last"
    );
    assert!(
        asc["items"][3]["last_login_at"].is_null() && asc["items"][4]["last_login_at"].is_null()
    );

    let desc = list(&app, &owner, "sort=-last_login_at").await;
    let desc_names = names(&desc);
    assert_eq!(
        desc_names[..3],
        ["delta", "Charlie", "Olivia Owner"],
        "{desc_names:?}"
    );
    assert_eq!(
        sorted(desc_names[3..].to_vec()),
        ["Alpha", "bravo"],
        "nulls last"
    );
    assert!(
        desc["items"][3]["last_login_at"].is_null() && desc["items"][4]["last_login_at"].is_null()
    );
}

// ---------------------------------------------------------------------------------------
// Paging with ties
// ---------------------------------------------------------------------------------------

/// Pages through `GET /users?{query}&limit={limit}&offset=…` and returns every id seen, in order.
async fn page_through(app: &TestApp, owner: &Session, query: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let page = list(
            app,
            owner,
            &format!("{query}&limit={limit}&offset={offset}"),
        )
        .await;
        assert_eq!(page["limit"], limit as u64, "{query}");
        assert_eq!(page["offset"], offset as u64, "{query}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        let total = page["total"].as_u64().unwrap() as usize;
        offset += limit;
        if offset >= total {
            assert!(
                items.len() == total - (offset - limit),
                "short last page: {query}"
            );
            break;
        }
        assert_eq!(items.len(), limit, "full page before the end: {query}");
    }
    ids
}

#[track_caller]
fn assert_each_once(ids: &[String], expected: &HashSet<String>, what: &str) {
    let seen: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        seen.len(),
        ids.len(),
        "{what}: a user appeared on two pages: {ids:?}"
    );
    assert_eq!(&seen, expected, "{what}: a user is missing or unexpected");
}

#[tokio::test]
async fn paging_through_users_with_the_same_name_yields_each_exactly_once() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut expected = HashSet::new();
    for i in 0..9 {
        let u = app
            .create_user(&owner, "Same Name", &format!("same{i}@acme.test"), "viewer")
            .await;
        expected.insert(u["id"].as_str().unwrap().to_owned());
    }
    for sort in ["name", "-name"] {
        let ids = page_through(&app, &owner, &format!("name=same&sort={sort}"), 2).await;
        assert_each_once(&ids, &expected, sort);
        // The same query twice gives the same order.
        let again = page_through(&app, &owner, &format!("name=same&sort={sort}"), 2).await;
        assert_eq!(ids, again, "{sort}: the order is stable");
    }
}

#[tokio::test]
async fn paging_with_ties_yields_each_user_exactly_once_for_every_sort_key() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut expected = HashSet::from([owner.id.clone()]);
    // Everyone but the owner shares name, role, status and a null last_login_at.
    for i in 0..8 {
        let u = app
            .create_user(&owner, "Twin", &format!("twin{i}@acme.test"), "viewer")
            .await;
        expected.insert(u["id"].as_str().unwrap().to_owned());
    }
    for key in [
        "name",
        "username",
        "email",
        "role",
        "status",
        "created_at",
        "last_login_at",
    ] {
        for sort in [key.to_string(), format!("-{key}")] {
            let ids = page_through(&app, &owner, &format!("sort={sort}"), 3).await;
            assert_each_once(&ids, &expected, &sort);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Query validation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn out_of_range_limit_is_422_naming_limit() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for limit in ["0", "201", "-1", "100000"] {
        let resp = list_raw(&app, &owner, &format!("limit={limit}")).await;
        assert_invalid(&resp, "limit");
    }
}

#[tokio::test]
async fn negative_offset_is_422_naming_offset() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = list_raw(&app, &owner, "offset=-1").await;
    assert_invalid(&resp, "offset");
}

#[tokio::test]
async fn unknown_sort_key_is_422_naming_sort() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for sort in [
        "bogus",
        "password_hash",
        "company_id",
        "-",
        "--name",
        "+name",
        "Name",
    ] {
        let resp = list_raw(&app, &owner, &format!("sort={}", enc(sort))).await;
        assert_invalid(&resp, "sort");
    }
}

#[tokio::test]
async fn unknown_role_or_status_in_a_filter_is_422_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for role in ["admin", "owner,admin", "superuser,viewer"] {
        let resp = list_raw(&app, &owner, &format!("role={}", enc(role))).await;
        assert_invalid(&resp, "role");
    }
    for status in ["deleted", "active,locked"] {
        let resp = list_raw(&app, &owner, &format!("status={}", enc(status))).await;
        assert_invalid(&resp, "status");
    }
}

#[tokio::test]
async fn every_invalid_query_value_is_named_in_one_422() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = list_raw(
        &app,
        &owner,
        "limit=0&offset=-5&sort=nope&role=boss&status=gone",
    )
    .await;
    resp.problem(422, "validation_failed");
    let fields = resp.error_fields();
    for field in ["limit", "offset", "sort", "role", "status"] {
        assert!(
            fields.iter().any(|f| f == field),
            "missing {field}: {}",
            resp.text
        );
    }
}

#[tokio::test]
async fn unparsable_limit_or_offset_is_400_malformed_request() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for query in [
        "limit=abc",
        "offset=xyz",
        "limit=1.5",
        "offset=1e3",
        "limit=99999999999999999999",
    ] {
        let resp = list_raw(&app, &owner, query).await;
        resp.problem(400, "malformed_request");
    }
}

#[tokio::test]
async fn unknown_query_parameter_is_400_malformed_request() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = list_raw(&app, &owner, "frobnicate=1").await;
    resp.problem(400, "malformed_request");
    assert!(
        resp.error_fields().iter().any(|f| f == "frobnicate"),
        "the unknown parameter is named: {}",
        resp.text
    );
    // A near miss of a real parameter is not silently ignored either.
    let resp = list_raw(&app, &owner, "search=olivia").await;
    resp.problem(400, "malformed_request");
}

// ---------------------------------------------------------------------------------------
// Company isolation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn another_companys_users_never_appear() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(&owner, "Acme Viewer", "viewer1@acme.test", "viewer")
        .await;
    let (_company, other_owner) = app.other_company("x@globex.test").await;
    let globex = app.login("x@globex.test", OWNER_PASSWORD).await;
    app.create_user(&globex, "Globex Viewer", "viewer1@globex.test", "viewer")
        .await;

    let page = list(&app, &owner, "limit=200").await;
    assert_eq!(page["total"], 2);
    let ids = col(&page, "id");
    assert!(!ids.contains(&other_owner));
    assert_eq!(names(&page), ["Acme Viewer", "Olivia Owner"]);

    for query in [
        "q=globex",
        "email=globex",
        "username=x%40globex",
        "name=gary",
        "role=owner&name=globex",
        "sort=-created_at&q=x%40",
    ] {
        let page = list(&app, &owner, query).await;
        assert!(
            col(&page, "email")
                .iter()
                .all(|e| e.ends_with("@acme.test")),
            "{query}: {page}"
        );
    }
    assert_eq!(list(&app, &owner, "q=globex").await["total"], 0);
    assert_eq!(list(&app, &owner, "role=owner").await["total"], 1);

    // And the other way round.
    let page = list(&app, &globex, "limit=200").await;
    assert_eq!(names(&page), ["Gary Globex", "Globex Viewer"]);
    assert_eq!(page["total"], 2);
}
