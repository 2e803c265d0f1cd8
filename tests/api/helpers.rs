//! Test harness: the real application on a random port with a fresh database per test.
//!
//! SQLite by default (a file in a temporary directory). With `TEST_DATABASE_URL` set to a
//! PostgreSQL server URL (e.g. `postgres://postgres@127.0.0.1:5432`), each test creates its
//! own database there and drops it afterwards.

use std::sync::Arc;

use license_manager::config::Config;
use license_manager::startup::Application;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

pub const OWNER_EMAIL: &str = "olivia.owner@acme.test";
pub const OWNER_PASSWORD: &str = "Quartz-Lantern-Meadow-42";
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long!";

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json error with this status and code, and returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "errors are problem+json"
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.ends_with(code))
        );
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        assert_eq!(
            Some(self.body["request_id"].as_str().unwrap_or_default()),
            self.header("x-request-id")
        );
        &self.body
    }

    /// The `field` values of `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        &self.body
    }
}

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub username: String,
    pub password: String,
    pub token: String,
    pub refresh: String,
}

pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop needs its own runtime: the test's runtime is shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                use sea_orm::ConnectionTrait;
                if let Ok(db) = sea_orm::Database::connect(&admin_url).await {
                    let _ = db
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub config: Config,
    _tempdir: Option<tempfile::TempDir>,
    _pg: Option<Arc<PgDatabase>>,
}

/// The PostgreSQL server tests run against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Settings for tests: a fresh database, a random port, cheap password hashing.
pub async fn test_config() -> (Config, Option<tempfile::TempDir>, Option<Arc<PgDatabase>>) {
    let mut config = Config::defaults();
    config.bind = "127.0.0.1:0".into();
    config.jwt_secret = Some(JWT_SECRET.into());
    config.argon2_memory_kib = 1024;
    config.argon2_iterations = 1;
    config.bootstrap_company = "Acme".into();
    config.bootstrap_owner_name = "Olivia Owner".into();
    config.bootstrap_owner_email = OWNER_EMAIL.into();
    config.bootstrap_owner_password = Some(OWNER_PASSWORD.into());
    config.db_max_connections = 5;
    match postgres_server() {
        Some(server) => {
            let server = server.trim_end_matches('/').to_owned();
            let name = format!("lm_test_{}", uuid::Uuid::new_v4().simple());
            let admin_url = format!("{server}/postgres");
            {
                use sea_orm::ConnectionTrait;
                let admin = sea_orm::Database::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
            }
            config.database_url = format!("{server}/{name}");
            (config, None, Some(Arc::new(PgDatabase { admin_url, name })))
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            config.database_url =
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            (config, Some(dir), None)
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (mut config, tempdir, pg) = test_config().await;
    adjust(&mut config);
    let app = Application::build(config.clone())
        .await
        .expect("the application starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        client,
        config,
        _tempdir: tempdir,
        _pg: pg,
    }
}

impl TestApp {
    /// A client for a server started elsewhere (another process) on the database of `config`.
    pub fn external(base: String, config: Config) -> TestApp {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            base,
            client,
            config,
            _tempdir: None,
            _pg: None,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        read(req.send().await.expect("request sent")).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::PUT, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    pub async fn login_raw(&self, username: &str, password: &str) -> Resp {
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Session {
        let resp = self.login_raw(username, password).await;
        let body = resp.ok(200);
        Session {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn owner(&self) -> Session {
        self.login(OWNER_EMAIL, OWNER_PASSWORD).await
    }

    /// Creates a user (as `owner`) and returns the created body.
    pub async fn create_user(&self, owner: &Session, name: &str, email: &str, role: &str) -> Value {
        let resp = self
            .post(
                "/api/v1/users",
                &owner.token,
                json!({"name": name, "username": email, "email": email, "password": temp_password(), "role": role}),
            )
            .await;
        resp.ok(201).clone()
    }

    /// A user with `role` who has signed in and set their own password.
    pub async fn user_with_role(&self, owner: &Session, role: &str) -> Session {
        let email = format!(
            "{role}.{}@acme.test",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        self.create_user(owner, &format!("Test {role}"), &email, role)
            .await;
        let first = self.login(&email, &temp_password()).await;
        let password = "Velvet-Orchard-Compass-77";
        self.put(
            "/api/v1/me/password",
            &first.token,
            json!({"current_password": temp_password(), "new_password": password}),
        )
        .await
        .ok(204);
        Session {
            password: password.into(),
            ..first
        }
    }

    /// Creates another company with its owner, straight through the library.
    pub async fn other_company(&self, email: &str) -> (String, String) {
        let db = license_manager::db::connect(&self.config).await.unwrap();
        let hasher = license_manager::auth::Hasher::new(1024, 1, 1).unwrap();
        let created = license_manager::services::bootstrap::create_company(
            &db,
            &hasher,
            license_manager::services::bootstrap::NewCompany {
                company_name: "Globex",
                owner_name: "Gary Globex",
                owner_email: email,
                owner_password: OWNER_PASSWORD,
                must_change_password: false,
            },
        )
        .await
        .unwrap();
        (created.company_id.to_string(), created.owner_id.to_string())
    }

    /// The company's events of `action`, newest first.
    pub async fn events(&self, owner: &Session, query: &str) -> Vec<Value> {
        let resp = self
            .get(&format!("/api/v1/audit?limit=200&{query}"), &owner.token)
            .await;
        resp.ok(200)["items"].as_array().unwrap().clone()
    }
}

pub fn temp_password() -> String {
    "Granite-Puzzle-Harbor-19".to_string()
}

async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}
