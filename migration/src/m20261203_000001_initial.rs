use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    CompanyId,
    Name,
    NameKey,
    Username,
    Email,
    Role,
    Status,
    MustChangePassword,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
    Version,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CompanyId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    SessionId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    Id,
    CompanyId,
    OccurredAt,
    Action,
    ActorId,
    ActorUsername,
    ActorName,
    SubjectId,
    SubjectUsername,
    SubjectName,
    Changes,
    Ip,
    UserAgent,
    RequestId,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    LastAttemptMs,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Id,
    Key,
    AtMs,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

fn index(name: &str, table: impl IntoIden, cols: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Companies::Table)
                    .col(
                        ColumnDef::new(Companies::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Companies::Name).text().not_null())
                    .col(
                        ColumnDef::new(Companies::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Users::Name).text().not_null())
                    .col(ColumnDef::new(Users::NameKey).text().not_null())
                    .col(ColumnDef::new(Users::Username).text().not_null())
                    .col(ColumnDef::new(Users::Email).text().not_null())
                    .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Users::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Users::MustChangePassword)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Users::PasswordHash).text().not_null())
                    .col(
                        ColumnDef::new(Users::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::LastLoginAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Users::Version).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_company")
                            .from(Users::Table, Users::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Usernames and emails are unique across the service, in their normalised form (the
        // application stores only normalised values). The names are matched by the error mapper.
        manager
            .create_index(
                index("uq_users_username", Users::Table, &["username"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("uq_users_email", Users::Table, &["email"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One index per sort key of the list, each scoped to the company and ending in the id
        // tie-breaker.
        for (name, col) in [
            ("ix_users_company_name", "name_key"),
            ("ix_users_company_username", "username"),
            ("ix_users_company_email", "email"),
            ("ix_users_company_role", "role"),
            ("ix_users_company_status", "status"),
            ("ix_users_company_created", "created_at"),
            ("ix_users_company_last_login", "last_login_at"),
        ] {
            manager
                .create_index(index(name, Users::Table, &["company_id", col, "id"]))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::CompanyId).uuid().not_null())
                    .col(
                        ColumnDef::new(Sessions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Sessions::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ix_sessions_user", Sessions::Table, &["user_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(
                        ColumnDef::new(RefreshTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RefreshTokens::SessionId).uuid().not_null())
                    .col(
                        ColumnDef::new(RefreshTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_session")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_refresh_tokens_session",
                RefreshTokens::Table,
                &["session_id"],
            ))
            .await?;

        // Events keep snapshots of actor and subject and no foreign key to users, so they stay
        // readable after a user is renamed or deleted.
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(
                        ColumnDef::new(Events::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Events::Id).uuid().not_null().unique_key())
                    .col(ColumnDef::new(Events::CompanyId).uuid().not_null())
                    .col(
                        ColumnDef::new(Events::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Events::Action).string_len(64).not_null())
                    .col(ColumnDef::new(Events::ActorId).uuid().null())
                    .col(ColumnDef::new(Events::ActorUsername).text().null())
                    .col(ColumnDef::new(Events::ActorName).text().null())
                    .col(ColumnDef::new(Events::SubjectId).uuid().null())
                    .col(ColumnDef::new(Events::SubjectUsername).text().null())
                    .col(ColumnDef::new(Events::SubjectName).text().null())
                    .col(ColumnDef::new(Events::Changes).json_binary().null())
                    .col(ColumnDef::new(Events::Ip).string_len(64).null())
                    .col(ColumnDef::new(Events::UserAgent).text().null())
                    .col(ColumnDef::new(Events::RequestId).string_len(200).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_events_company")
                            .from(Events::Table, Events::CompanyId)
                            .to(Companies::Table, Companies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Keyset paging walks `seq` downwards within a company, optionally narrowed to an
        // actor or a subject.
        manager
            .create_index(index(
                "ix_events_company_seq",
                Events::Table,
                &["company_id", "seq"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_events_subject_seq",
                Events::Table,
                &["subject_id", "seq"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_events_actor_seq",
                Events::Table,
                &["actor_id", "seq"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_events_company_occurred",
                Events::Table,
                &["company_id", "occurred_at"],
            ))
            .await?;

        // Events are append-only: the database itself refuses to change or remove one.
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'events are append-only'; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events \
                     FOR EACH ROW EXECUTE FUNCTION events_append_only()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events \
                     BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events \
                     BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
                )
                .await?;
            }
        }

        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .col(
                        ColumnDef::new(LoginThrottle::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LoginThrottle::LastAttemptMs)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Sign-in attempts per username (a keyed hash of the normalised name), a sliding log:
        // `login_throttle` holds one row per name that serialises its attempts.
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .col(
                        ColumnDef::new(LoginAttempts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LoginAttempts::Key).string_len(64).not_null())
                    .col(ColumnDef::new(LoginAttempts::AtMs).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_login_attempts_key_at",
                LoginAttempts::Table,
                &["key", "at_ms"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_login_attempts_at",
                LoginAttempts::Table,
                &["at_ms"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(
                        ColumnDef::new(Settings::Key)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "settings",
            "login_throttle",
            "events",
            "refresh_tokens",
            "sessions",
            "users",
            "companies",
        ] {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS events_append_only()")
                .await?;
        }
        Ok(())
    }
}
