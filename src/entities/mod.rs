//! SeaORM entities: the rows as the database stores them. Never serialised to clients.

pub mod company;
pub mod event;
pub mod refresh_token;
pub mod session;
pub mod setting;
pub mod user;
