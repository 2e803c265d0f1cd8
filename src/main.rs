use std::process::ExitCode;

use clap::Parser;
use license_manager::cli::{Cli, Command};
use license_manager::services::bootstrap::{self, NewCompany};
use license_manager::startup::Application;
use license_manager::{db, openapi, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    cli.config = cli.config.normalized();
    telemetry::init(cli.config.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config.clone())
                .await
                .map_err(|e| e.to_string())?;
            let base = format!("http://{}", display_addr(&config.bind, app.port()));
            if let Some(created) = app.bootstrapped() {
                println!("Created the first owner: username {}", created.username);
                if let Some(password) = &created.generated_password {
                    println!(
                        "Temporary password (shown only once; change it after signing in): {password}"
                    );
                }
            }
            println!("License Manager listening on {base}");
            println!("  API:        {base}/api/v1   (sign in: POST {base}/api/v1/auth/login)");
            println!("  Swagger UI: {base}/swagger-ui/");
            tracing::info!(address = %base, database = %license_manager::config::redact_url(&config.database_url), "listening");
            app.run_until_stopped().await.map_err(|e| e.to_string())
        }
        Command::Migrate => {
            connect_and_migrate(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateCompany {
            name,
            owner_name,
            owner_email,
            temporary_password,
        } => {
            let password = match std::env::var("LM_OWNER_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => read_password()?,
            };
            let conn = connect_and_migrate(&config).await?;
            let hasher = license_manager::auth::Hasher::new(
                config.argon2_memory_kib,
                config.argon2_iterations,
                1,
            )?;
            let created = bootstrap::create_company(
                &conn,
                &hasher,
                NewCompany {
                    company_name: &name,
                    owner_name: &owner_name,
                    owner_email: &owner_email,
                    owner_password: &password,
                    must_change_password: temporary_password,
                },
            )
            .await
            .map_err(|e| bootstrap::describe(&e))?;
            println!(
                "{}",
                serde_json::to_string(&created).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        Command::Unlock { username } => {
            let conn = connect_and_migrate(&config).await?;
            let tokens = db::token_keys(&conn, &config).await?;
            let normalized = license_manager::domain::Username::normalize(&username);
            license_manager::repo::throttle::reset(&conn, &tokens.pseudonym(&normalized))
                .await
                .map_err(|e| format!("cannot clear the attempts: {e}"))?;
            println!("sign-in attempts for {normalized} cleared");
            Ok(())
        }
        Command::Openapi => {
            print!("{}", openapi::document_json());
            Ok(())
        }
    }
}

async fn connect_and_migrate(
    config: &license_manager::config::Config,
) -> Result<sea_orm::DatabaseConnection, String> {
    let conn = db::connect(config)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    db::migrate(&conn)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    Ok(conn)
}

fn display_addr(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
    let host = if host == "0.0.0.0" || host == "[::]" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{port}")
}

/// The owner password for `create-company`: prompted without echo on a terminal, else the
/// first line of standard input.
fn read_password() -> Result<String, String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Owner password: ")
            .map_err(|e| format!("cannot read the password: {e}"))
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
