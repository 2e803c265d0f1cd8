//! Several server processes sharing one database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::*;

/// A `license-manager serve` child process; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts the binary on `database_url` and waits until it listens.
    pub fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_license-manager"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("LM_BIND", "127.0.0.1:0")
            .env("LM_ARGON2_MEMORY_KIB", "1024")
            .env("LM_ARGON2_ITERATIONS", "1")
            .env("LM_BOOTSTRAP_COMPANY", "Acme")
            .env("LM_BOOTSTRAP_OWNER_NAME", "Olivia Owner")
            .env("LM_BOOTSTRAP_OWNER_EMAIL", OWNER_EMAIL)
            .env("LM_BOOTSTRAP_OWNER_PASSWORD", OWNER_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("server starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix("License Manager listening on ") {
                    let _ = tx.send(base.to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("server listens");
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn two_processes_share_migrations_throttling_sessions_and_the_owner_rule() {
    let (config, _dir, _pg) = test_config().await;
    let url = config.database_url.clone();
    // Both start at the same moment on an empty database: both migrate and bootstrap, and
    // neither sets LM_JWT_SECRET, so they must agree on the generated one.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start(&url, &[]));
        let b = s.spawn(|| Server::start(&url, &[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (via_a, via_b) = (
        TestApp::external(a.base.clone(), config.clone()),
        TestApp::external(b.base.clone(), config.clone()),
    );

    // (a) Every migration was applied exactly once, and one company was bootstrapped.
    let db = license_manager::db::connect(&config).await.unwrap();
    let count = |sql: &'static str| {
        let db = &db;
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM seaql_migrations").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM companies").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM settings").await, 1);

    // (c) A session started through A works through B, and logging out through A ends it on B.
    let owner = via_a.owner().await;
    via_b.get("/api/v1/me", &owner.token).await.ok(200);
    let second = via_a.owner().await;
    via_a
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Some(&second.token),
            None,
        )
        .await
        .ok(204);
    via_b
        .get("/api/v1/me", &second.token)
        .await
        .problem(401, "token_revoked");

    // (b) Failures through both processes add up, also when sent in parallel: exactly five
    // of ten simultaneous attempts, split across the processes, are verified.
    let user = via_a.user_with_role(&owner, "editor").await;
    let attempts = (0..10).map(|i| {
        let app = if i % 2 == 0 { &via_a } else { &via_b };
        app.login_raw(&user.username, "Wrong-Password-123456")
    });
    let results = futures_util::future::join_all(attempts).await;
    let verified = results.iter().filter(|r| r.status == 401).count();
    let throttled = results.iter().filter(|r| r.status == 429).count();
    assert_eq!(
        (verified, throttled),
        (5, 5),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    via_b
        .login_raw(&user.username, &user.password)
        .await
        .problem(429, "too_many_attempts");
    via_a
        .login_raw(&user.username, &user.password)
        .await
        .problem(429, "too_many_attempts");

    // (d) Concurrent demotions of the last two owners, one through each process.
    let mut survivor = owner;
    for round in 0..3 {
        let other = via_a.user_with_role(&survivor, "owner").await;
        let (p1, p2) = (
            format!("/api/v1/users/{}", other.id),
            format!("/api/v1/users/{}", survivor.id),
        );
        let (r1, r2) = tokio::join!(
            via_a.patch(&p1, &survivor.token, json!({"role": "viewer"})),
            via_b.patch(&p2, &other.token, json!({"role": "viewer"})),
        );
        let statuses = [r1.status.as_u16(), r2.status.as_u16()];
        // The loser gets 409 `last_owner`, or 401 when the winner's demotion of its caller
        // already revoked its session.
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| [200, 401, 409].contains(s)),
            "round {round}: {statuses:?}"
        );
        let kept = if r1.status == 200 { &survivor } else { &other };
        survivor = via_b.login(&kept.username, &kept.password).await;
        let owners = via_b
            .get("/api/v1/users?role=owner&status=active", &survivor.token)
            .await;
        assert_eq!(owners.ok(200)["total"], 1, "round {round}");
    }
}
