//! Integration tests: the real application over HTTP, a fresh database per test.
//! SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set.

mod auth;
mod cli;
mod errors;
mod helpers;
mod history;
mod list;
mod ops;
mod outage;
mod processes;
mod robustness;
mod users;
