//! Settings, read from the environment (each also accepted as a command-line flag).
//! Secrets are never printed: `Debug` redacts them.

use std::time::Duration;

use clap::{Args, ValueEnum};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://license-manager.db?mode=rwc";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Address the HTTP server listens on.
    #[arg(long, env = "LM_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// HS256 signing secret for access tokens, at least 32 bytes. Without it a secret is
    /// generated once and kept in the database.
    #[arg(long, env = "LM_JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of an access token (`900`, `900s`, `15m`, `1h`).
    #[arg(long, env = "LM_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_duration, global = true)]
    pub access_token_ttl: Duration,

    /// How long a refresh token stays usable after it is issued; each refresh issues a new one.
    #[arg(long, env = "LM_REFRESH_TOKEN_TTL", default_value = "7d", value_parser = parse_duration, global = true)]
    pub refresh_token_ttl: Duration,

    /// Absolute lifetime of a session (a sign-in), however often it is refreshed.
    #[arg(long, env = "LM_SESSION_MAX_TTL", default_value = "30d", value_parser = parse_duration, global = true)]
    pub session_max_ttl: Duration,

    /// Comma-separated browser origins allowed by CORS (e.g. `https://app.example.com`).
    #[arg(long, env = "LM_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Log format.
    #[arg(
        long,
        env = "LM_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Largest number of database connections in the pool.
    #[arg(
        long,
        env = "LM_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,

    /// How long a request waits for a database connection before it gets 503.
    #[arg(long, env = "LM_DB_ACQUIRE_TIMEOUT", default_value = "5s", value_parser = parse_duration, global = true)]
    pub db_acquire_timeout: Duration,

    /// Longest a single SQL statement may run (PostgreSQL `statement_timeout`).
    #[arg(long, env = "LM_DB_STATEMENT_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub db_statement_timeout: Duration,

    /// Argon2id memory cost in KiB (OWASP: 19456).
    #[arg(
        long,
        env = "LM_ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations (OWASP: 2).
    #[arg(long, env = "LM_ARGON2_ITERATIONS", default_value_t = 2, global = true)]
    pub argon2_iterations: u32,

    /// Password hashes computed at once; further requests queue. Default: the number of CPUs.
    #[arg(long, env = "LM_PASSWORD_HASH_CONCURRENCY", global = true)]
    pub password_hash_concurrency: Option<usize>,

    /// Failed sign-ins for one username that trigger throttling.
    #[arg(
        long,
        env = "LM_LOGIN_MAX_FAILURES",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub login_max_failures: u32,

    /// Sliding window in which failed sign-ins are counted.
    #[arg(long, env = "LM_LOGIN_WINDOW", default_value = "15m", value_parser = parse_duration, global = true)]
    pub login_window: Duration,

    /// Company created on first start of an empty database.
    #[arg(
        long,
        env = "LM_BOOTSTRAP_COMPANY",
        default_value = "My Company",
        global = true
    )]
    pub bootstrap_company: String,

    /// Name of the first owner created on an empty database.
    #[arg(
        long,
        env = "LM_BOOTSTRAP_OWNER_NAME",
        default_value = "Owner",
        global = true
    )]
    pub bootstrap_owner_name: String,

    /// Username and email of the first owner created on an empty database.
    #[arg(
        long,
        env = "LM_BOOTSTRAP_OWNER_EMAIL",
        default_value = "owner@example.com",
        global = true
    )]
    pub bootstrap_owner_email: String,

    /// Password of the first owner; without it one is generated and printed once.
    #[arg(
        long,
        env = "LM_BOOTSTRAP_OWNER_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub bootstrap_owner_password: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("cors_origins", &self.cors_origins)
            .field("db_max_connections", &self.db_max_connections)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The settings as they are when nothing is configured (tests start from this).
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        <Only as clap::Parser>::parse_from(["license-manager"])
            .config
            .normalized()
    }

    /// Treats empty values as unset, so `LM_JWT_SECRET=` or a compose file's
    /// `${LM_BOOTSTRAP_OWNER_PASSWORD:-}` means "generate one", not "use the empty string".
    pub fn normalized(mut self) -> Self {
        self.jwt_secret = self.jwt_secret.filter(|s| !s.is_empty());
        self.bootstrap_owner_password = self.bootstrap_owner_password.filter(|s| !s.is_empty());
        self.cors_origins.retain(|o| !o.trim().is_empty());
        self
    }

    pub fn hash_concurrency(&self) -> usize {
        self.password_hash_concurrency
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            })
            .max(1)
    }
}

/// A database URL with its password replaced, safe to log.
pub fn redact_url(url: &str) -> String {
    // Query parameters may carry credentials too (`?password=…`, `?sslpassword=…`).
    let (url, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let query = query.map(|q| {
        q.split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("pass") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    let base = redact_userinfo(url);
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    }
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Parses `900`, `900s`, `15m`, `2h` or `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 900, 900s, 15m, 2h or 7d"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}` has an unknown unit; use s, m, h or d")),
    };
    if value == 0 {
        return Err("a duration must be greater than zero".into());
    }
    value
        .checked_mul(factor)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_units() {
        assert_eq!(parse_duration("900").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_duration("15x").is_err());
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://lm:s3cret@db:5432/lm"),
            "postgres://lm:***@db:5432/lm"
        );
        assert_eq!(redact_url("postgres://lm@db/lm"), "postgres://lm@db/lm");
        assert_eq!(redact_url(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
        assert_eq!(
            redact_url("postgres://lm@db/lm?sslmode=require&password=s3cret"),
            "postgres://lm@db/lm?sslmode=require&password=***"
        );
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = Config::defaults();
        assert_eq!(config.bind, "127.0.0.1:8080");
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.login_max_failures, 5);
        assert_eq!(config.argon2_memory_kib, 19_456);
    }
}
