//! Command line: `serve` (the default), `migrate`, `create-company`, `openapi`.

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "license-manager",
    version,
    about = "License Manager: users, authentication and roles API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP API (default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a company and its first owner; prints the new ids as JSON. The owner's password
    /// comes from LM_OWNER_PASSWORD, else it is asked for.
    CreateCompany {
        /// Company name.
        #[arg(long)]
        name: String,
        /// Owner's display name.
        #[arg(long)]
        owner_name: String,
        /// Owner's email, also their username.
        #[arg(long)]
        owner_email: String,
        /// Make the owner choose a new password at first sign-in.
        #[arg(long)]
        temporary_password: bool,
    },
    /// Clear the failed sign-in attempts of a username, lifting its throttling (for example
    /// for a company's only owner, whom no one else can reset).
    Unlock {
        /// The username, as the user signs in with it.
        #[arg(long)]
        username: String,
    },
    /// Print the OpenAPI document.
    Openapi,
}
