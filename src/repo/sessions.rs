use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use uuid::Uuid;

use crate::entities::refresh_token::{self, Entity as RefreshTokens};
use crate::entities::session::{self, Entity as Sessions};
use crate::entities::user::{self, Entity as Users};

/// The user of session `session_id`, if that session belongs to `user_id` and is not revoked.
pub async fn live_session_user(
    conn: &impl ConnectionTrait,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<Option<user::Model>, DbErr> {
    Users::find_by_id(user_id)
        .filter(
            user::Column::Id.in_subquery(
                Query::select()
                    .column(session::Column::UserId)
                    .from(Sessions)
                    .and_where(session::Column::Id.eq(session_id))
                    .and_where(session::Column::RevokedAt.is_null())
                    .and_where(session::Column::ExpiresAt.gt(crate::now()))
                    .to_owned(),
            ),
        )
        .one(conn)
        .await
}

pub async fn insert(conn: &impl ConnectionTrait, session: session::Model) -> Result<(), DbErr> {
    session.into_active_model().reset_all().insert(conn).await?;
    Ok(())
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<session::Model>, DbErr> {
    Sessions::find_by_id(id).one(conn).await
}

pub async fn insert_refresh_token(
    conn: &impl ConnectionTrait,
    token: refresh_token::Model,
) -> Result<(), DbErr> {
    token.into_active_model().reset_all().insert(conn).await?;
    Ok(())
}

pub async fn find_refresh_token(
    conn: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<refresh_token::Model>, DbErr> {
    RefreshTokens::find_by_id(hash.to_owned()).one(conn).await
}

/// Marks a refresh token used; false when it already was (a concurrent or repeated use).
pub async fn consume_refresh_token(
    conn: &impl ConnectionTrait,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = RefreshTokens::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes one session; true when it was live.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = Sessions::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes every live session of a user, except `keep` when given.
pub async fn revoke_all_for_user(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = Sessions::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    Ok(update.exec(conn).await?.rows_affected)
}

/// Deletes sessions past their absolute lifetime and refresh tokens past their expiry.
pub async fn purge_expired(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
    RefreshTokens::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
    Sessions::delete_many()
        .filter(session::Column::ExpiresAt.lt(now))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes a user's refresh tokens, then their sessions.
pub async fn delete_all_for_user(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    RefreshTokens::delete_many()
        .filter(
            refresh_token::Column::SessionId.in_subquery(
                Query::select()
                    .column(session::Column::Id)
                    .from(Sessions)
                    .and_where(session::Column::UserId.eq(user_id))
                    .to_owned(),
            ),
        )
        .exec(conn)
        .await?;
    Sessions::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}
