//! Database schema of the License Manager, as an ordered list of migrations.
//!
//! Each migration names its tables and columns with its own `DeriveIden` enums and never the
//! application's entities, so an old migration never changes when the entities do.

pub use sea_orm_migration::prelude::*;

mod m20261203_000001_initial;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261203_000001_initial::Migration)]
    }
}
