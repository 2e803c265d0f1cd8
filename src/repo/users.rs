use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, NullOrdering};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::like_contains;
use crate::domain::{Role, Status};
use crate::entities::user::{self, Column, Entity as Users, Model as User};

/// A column the user list can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Username,
    Email,
    Role,
    Status,
    CreatedAt,
    LastLoginAt,
}

impl SortKey {
    pub const ALL: [(&'static str, SortKey); 7] = [
        ("name", SortKey::Name),
        ("username", SortKey::Username),
        ("email", SortKey::Email),
        ("role", SortKey::Role),
        ("status", SortKey::Status),
        ("created_at", SortKey::CreatedAt),
        ("last_login_at", SortKey::LastLoginAt),
    ];

    fn column(self) -> Column {
        match self {
            SortKey::Name => Column::NameKey,
            SortKey::Username => Column::Username,
            SortKey::Email => Column::Email,
            SortKey::Role => Column::Role,
            SortKey::Status => Column::Status,
            SortKey::CreatedAt => Column::CreatedAt,
            SortKey::LastLoginAt => Column::LastLoginAt,
        }
    }
}

/// A validated list query. Text filters are already lower-cased.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub name: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub q: Option<String>,
    pub roles: Vec<Role>,
    pub statuses: Vec<Status>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: u64,
    pub offset: u64,
}

fn contains(col: Column, text: &str) -> Expr {
    Expr::col((user::Entity, col)).like(LikeExpr::new(like_contains(text)).escape('\\'))
}

pub async fn list(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    query: &ListQuery,
) -> Result<(Vec<User>, u64), DbErr> {
    let mut cond = Condition::all().add(Column::CompanyId.eq(company_id));
    if let Some(text) = &query.name {
        cond = cond.add(contains(Column::NameKey, text));
    }
    if let Some(text) = &query.username {
        cond = cond.add(contains(Column::Username, text));
    }
    if let Some(text) = &query.email {
        cond = cond.add(contains(Column::Email, text));
    }
    if let Some(text) = &query.q {
        cond = cond.add(
            Condition::any()
                .add(contains(Column::NameKey, text))
                .add(contains(Column::Username, text))
                .add(contains(Column::Email, text)),
        );
    }
    if !query.roles.is_empty() {
        cond = cond.add(Column::Role.is_in(query.roles.iter().map(|r| r.as_str())));
    }
    if !query.statuses.is_empty() {
        cond = cond.add(Column::Status.is_in(query.statuses.iter().map(|s| s.as_str())));
    }
    let total = Users::find().filter(cond.clone()).count(conn).await?;
    let order = if query.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    // NULLs (never signed in) sort last in both directions, on every engine.
    let items = Users::find()
        .filter(cond)
        .order_by_with_nulls(query.sort.column(), order.clone(), NullOrdering::Last)
        .order_by(Column::Id, order)
        .limit(query.limit)
        .offset(query.offset)
        .all(conn)
        .await?;
    Ok((items, total))
}

pub async fn find(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<Option<User>, DbErr> {
    Users::find_by_id(id)
        .filter(Column::CompanyId.eq(company_id))
        .one(conn)
        .await
}

/// Looks a user up by normalised username across all companies (sign-in only).
pub async fn find_by_username(
    conn: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<User>, DbErr> {
    Users::find()
        .filter(Column::Username.eq(username))
        .one(conn)
        .await
}

pub async fn insert(conn: &impl ConnectionTrait, user: User) -> Result<User, DbErr> {
    user.into_active_model().reset_all().insert(conn).await
}

/// Writes the profile, role, status, password and version columns of `user` in `company_id`.
/// `last_login_at` is left to sign-ins, which do not take the company lock: writing a stale
/// value back would lose one.
pub async fn save(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    user: User,
) -> Result<User, DbErr> {
    let mut model = user.into_active_model().reset_all();
    model.last_login_at = sea_orm::ActiveValue::NotSet;
    model.company_id = sea_orm::ActiveValue::NotSet;
    model.created_at = sea_orm::ActiveValue::NotSet;
    Users::update(model)
        .validate()?
        .filter(Column::CompanyId.eq(company_id))
        .exec(conn)
        .await
}

pub async fn delete(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<bool, DbErr> {
    let res = Users::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::CompanyId.eq(company_id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn count_active_owners(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<u64, DbErr> {
    Users::find()
        .filter(Column::CompanyId.eq(company_id))
        .filter(Column::Role.eq(Role::Owner.as_str()))
        .filter(Column::Status.eq(Status::Active.as_str()))
        .count(conn)
        .await
}

/// Records a sign-in without touching `version` or `updated_at`, provided the user is still
/// active with the password hash that was verified; returns the row as it is now, or `None`
/// when that is no longer so.
pub async fn record_login(
    conn: &impl ConnectionTrait,
    id: Uuid,
    verified_hash: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<User>, DbErr> {
    let rows = Users::update_many()
        .col_expr(Column::LastLoginAt, Expr::value(at))
        .filter(Column::Id.eq(id))
        .filter(Column::PasswordHash.eq(verified_hash))
        .filter(Column::Status.eq(Status::Active.as_str()))
        .exec_with_returning(conn)
        .await?;
    Ok(rows.into_iter().next())
}

pub async fn count_all(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Users::find().count(conn).await
}
