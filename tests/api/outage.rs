//! Database outage: a throwaway PostgreSQL cluster that the test stops and restarts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::*;

/// A PostgreSQL cluster in a temporary directory, on a free port; stopped when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn postgres_bin() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
        .pop()
        .expect("PostgreSQL server binaries (initdb, pg_ctl) are installed")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root).
fn run_pg(bin: &Path, tool: &str, args: &[&str]) {
    let program = bin.join(tool);
    let status = if is_root() {
        Command::new("runuser")
            .arg("-u")
            .arg("postgres")
            .arg("--")
            .arg(&program)
            .args(args)
            .status()
    } else {
        Command::new(&program).args(args).status()
    }
    .expect("PostgreSQL tool runs");
    assert!(status.success(), "{tool} {args:?} failed");
}

impl Cluster {
    fn create() -> Cluster {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            assert!(
                Command::new("chown")
                    .args(["-R", "postgres:", dir.path().to_str().unwrap()])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let data = dir.path().join("data");
        run_pg(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster { bin, dir, port };
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").to_string_lossy().into_owned();
        run_pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        run_pg(
            &self.bin,
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let args = ["-D", &self.data(), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&pg_ctl)
                .args(args)
                .status()
        } else {
            Command::new(&pg_ctl).args(args).status()
        };
    }
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL cluster; scripts/test runs it in the PostgreSQL pass"]
async fn requests_get_503_while_the_database_is_down_and_recover_without_a_restart() {
    let cluster = Cluster::create();
    let timeout = Duration::from_secs(2);
    let app = spawn_app_with(|c| {
        c.database_url = cluster.url();
        c.db_acquire_timeout = timeout;
    })
    .await;
    let owner = app.owner().await;
    app.get("/api/v1/me", &owner.token).await.ok(200);

    cluster.stop();
    let started = Instant::now();
    let ready = app.request(Method::GET, "/health/ready", None, None).await;
    ready.problem(503, "unavailable");
    assert!(
        started.elapsed() < timeout + Duration::from_secs(3),
        "readiness answered in {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let me = app.get("/api/v1/me", &owner.token).await;
    me.problem(503, "unavailable");
    assert_eq!(me.header("retry-after"), Some("5"));
    assert!(
        started.elapsed() < timeout + Duration::from_secs(3),
        "request answered in {:?}",
        started.elapsed()
    );
    app.login_raw(OWNER_EMAIL, OWNER_PASSWORD)
        .await
        .problem(503, "unavailable");
    // The process itself stays up.
    app.request(Method::GET, "/health/live", None, None)
        .await
        .ok(200);

    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = app.request(Method::GET, "/health/ready", None, None).await;
        if ready.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready again after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.get("/api/v1/me", &owner.token).await.ok(200);
    app.login(OWNER_EMAIL, OWNER_PASSWORD).await;
}
