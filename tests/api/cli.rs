//! The `license-manager` binary: subcommands and first start.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::*;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_license-manager"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LM_ARGON2_MEMORY_KIB", "1024")
        .env("LM_ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "warn");
    cmd
}

#[test]
fn openapi_prints_the_committed_document() {
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        return; // ops::the_served_openapi_document_is_the_committed_one is rewriting it.
    }
    let out = binary().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "`license-manager openapi` differs from openapi/openapi.json"
    );
}

#[tokio::test]
async fn create_company_prints_ids_and_its_owner_can_sign_in() {
    let (config, _dir, _pg) = test_config().await;
    let out = binary()
        .args([
            "create-company",
            "--name",
            "Initech",
            "--owner-name",
            "Peter Gibbons",
            "--owner-email",
            "Peter@Initech.test",
        ])
        .env("DATABASE_URL", &config.database_url)
        .env("LM_OWNER_PASSWORD", "Stapler-Basement-Fire-99")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let owner_id = created["owner_id"].as_str().unwrap().to_owned();
    assert!(created["company_id"].is_string());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Stapler-Basement"));

    let app = spawn_app_with(|c| c.database_url = config.database_url.clone()).await;
    let login = app
        .login_raw("peter@initech.test", "Stapler-Basement-Fire-99")
        .await;
    let body = login.ok(200);
    assert_eq!(body["user"]["id"], owner_id.as_str());
    assert_eq!(body["user"]["role"], "owner");
    assert_eq!(body["must_change_password"], false);
}

#[tokio::test]
async fn create_company_refuses_a_weak_password() {
    let (config, _dir, _pg) = test_config().await;
    let out = binary()
        .args([
            "create-company",
            "--name",
            "Initech",
            "--owner-name",
            "Peter Gibbons",
            "--owner-email",
            "peter@initech.test",
        ])
        .env("DATABASE_URL", &config.database_url)
        .env("LM_OWNER_PASSWORD", "password")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("password: must be at least 12 characters")
    );
}

#[tokio::test]
async fn migrate_applies_the_schema_once() {
    let (config, _dir, _pg) = test_config().await;
    for _ in 0..2 {
        let out = binary()
            .arg("migrate")
            .env("DATABASE_URL", &config.database_url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn first_start_creates_an_owner_with_a_password_shown_once() {
    let (config, _dir, _pg) = test_config().await;
    let mut child = binary()
        .env("DATABASE_URL", &config.database_url)
        .env("LM_BIND", "127.0.0.1:0")
        // Empty, as a compose file passes an unset variable: a password is generated.
        .env("LM_BOOTSTRAP_OWNER_PASSWORD", "")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut password = None;
    let mut base = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(p) =
            line.strip_prefix("Temporary password (shown only once; change it after signing in): ")
        {
            password = Some(p.to_owned());
        }
        if let Some(b) = line.strip_prefix("License Manager listening on ") {
            base = Some(b.to_owned());
            break;
        }
    }
    let (password, base) = (
        password.expect("password printed"),
        base.expect("address printed"),
    );
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "owner@example.com", "password": password}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    child.kill().ok();
    child.wait().ok();
    assert_eq!(status, 200);
    assert_eq!(body["must_change_password"], true);
    assert_eq!(body["user"]["role"], "owner");
}

#[tokio::test]
async fn create_company_reads_the_password_from_a_pipe() {
    use std::io::Write;
    let (config, _dir, _pg) = test_config().await;
    let mut child = binary()
        .args([
            "create-company",
            "--name",
            "Initech",
            "--owner-name",
            "Peter Gibbons",
            "--owner-email",
            "peter@initech.test",
        ])
        .env("DATABASE_URL", &config.database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Stapler-Basement-Fire-99\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = spawn_app_with(|c| c.database_url = config.database_url.clone()).await;
    app.login("peter@initech.test", "Stapler-Basement-Fire-99")
        .await;
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_and_no_secrets() {
    let (config, _dir, _pg) = test_config().await;
    let mut child = binary()
        .env("DATABASE_URL", &config.database_url)
        .env("LM_BIND", "127.0.0.1:0")
        .env("LM_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("LM_BOOTSTRAP_OWNER_EMAIL", OWNER_EMAIL)
        .env("LM_BOOTSTRAP_OWNER_PASSWORD", OWNER_PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("License Manager listening on ")
                .map(str::to_owned)
        })
        .expect("address printed");
    let app = TestApp::external(base, config.clone());
    let owner = app.owner().await;
    app.get("/api/v1/users", &owner.token).await.ok(200);
    app.login_raw(OWNER_EMAIL, "Wrong-Password-123456")
        .await
        .problem(401, "invalid_credentials");
    child.kill().ok();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    let requests: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|_| panic!("not JSON: {l}"))
        })
        .filter(|v| v["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 3, "{logs}");
    for line in &requests {
        for field in ["method", "route", "status", "latency_ms", "request_id"] {
            assert!(!line[field].is_null(), "{field} missing in {line}");
        }
    }
    assert_eq!(requests[1]["route"], "/api/v1/users");
    for secret in [
        OWNER_PASSWORD,
        "Wrong-Password-123456",
        &owner.token,
        &owner.refresh,
        "$argon2",
    ] {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
}

#[tokio::test]
async fn unlock_lifts_the_throttle_of_a_username() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.login_raw(OWNER_EMAIL, "Wrong-Password-123456")
            .await
            .problem(401, "invalid_credentials");
    }
    app.login_raw(OWNER_EMAIL, OWNER_PASSWORD)
        .await
        .problem(429, "too_many_attempts");
    let out = binary()
        .args(["unlock", "--username", " Olivia.Owner@ACME.test"])
        .env("DATABASE_URL", &app.config.database_url)
        .env("LM_JWT_SECRET", JWT_SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.owner().await;
}
