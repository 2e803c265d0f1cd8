//! License Manager: the backend of the Users section, plus the authentication and the role
//! policy every section relies on.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod dto;
pub mod entities;
pub mod error;
pub mod openapi;
pub mod policy;
pub mod repo;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;

/// The current time, truncated to microseconds: the precision both databases keep, so a value
/// returned right after a write equals the value read back later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
