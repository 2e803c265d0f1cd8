//! Sign-in, token refresh, sign-out and the signed-in user's own password.

use chrono::{DateTime, Duration, Utc};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use crate::audit::{self, Action, Changes, Entry, Party, RequestMeta};
use crate::auth::{Caller, tokens};
use crate::domain::{Checks, NewPassword, Role, Status, Username};
use crate::dto::{ChangePassword, Login, Tokens};
use crate::entities::{refresh_token, session, user::Model as UserRow};
use crate::error::{ApiError, FieldError};
use crate::repo;
use crate::state::AppState;

fn chrono_duration(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

/// Counts one attempt against `username`; 429 once the limit is reached.
async fn reserve_attempt(state: &AppState, username: &str) -> Result<(), ApiError> {
    let config = &state.config;
    let retry_after = repo::throttle::reserve_attempt(
        &state.db,
        &state.tokens.pseudonym(username),
        Utc::now().timestamp_millis(),
        config.login_window.as_millis() as i64,
        config.login_max_failures,
    )
    .await?;
    match retry_after {
        Some(retry_after_secs) => Err(ApiError::TooManyAttempts { retry_after_secs }),
        None => Ok(()),
    }
}

fn role_of(user: &UserRow) -> Result<Role, ApiError> {
    Role::from_db(&user.role)
        .ok_or_else(|| ApiError::Internal(format!("unknown role stored for user {}", user.id)))
}

/// Issues an access token and a fresh refresh token for `session_id`.
fn token_pair(
    state: &AppState,
    user: &UserRow,
    session_id: Uuid,
) -> Result<(String, u64, String), ApiError> {
    let (access, ttl) = state
        .tokens
        .issue(user.id, user.company_id, role_of(user)?, session_id)
        .map_err(|e| ApiError::Internal(format!("cannot sign a token: {e}")))?;
    Ok((access, ttl, tokens::new_refresh_token()))
}

/// The response to a sign-in or a refresh.
fn tokens(access_token: String, expires_in: u64, refresh_token: String, user: UserRow) -> Tokens {
    Tokens {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
        must_change_password: user.must_change_password,
        refresh_token,
        user: user.into(),
    }
}

fn refresh_row(
    state: &AppState,
    token: &str,
    session: &session::Model,
    now: DateTime<Utc>,
) -> refresh_token::Model {
    let expires_at =
        (now + chrono_duration(state.config.refresh_token_ttl)).min(session.expires_at);
    refresh_token::Model {
        token_hash: tokens::hash_refresh_token(token),
        session_id: session.id,
        created_at: now,
        expires_at,
        used_at: None,
    }
}

/// Records `auth.login_failed` for a known user (never for unknown usernames).
async fn record_failure(
    state: &AppState,
    meta: &RequestMeta,
    user: &UserRow,
) -> Result<(), ApiError> {
    let entry = Entry {
        company_id: user.company_id,
        action: Action::LoginFailed,
        actor: None,
        subject: Some(Party::from(user)),
        changes: None,
        meta,
    };
    audit::record(&state.db, entry).await?;
    Ok(())
}

pub async fn login(state: &AppState, meta: &RequestMeta, input: Login) -> Result<Tokens, ApiError> {
    let username = Username::normalize(&input.username);
    reserve_attempt(state, &username).await?;
    // A name no user can have (far too long, control characters) is not looked up, but its
    // attempt costs the same verification as any other.
    let plausible =
        input.username.chars().count() <= 1024 && !username.chars().any(char::is_control);
    let user = if plausible {
        repo::users::find_by_username(&state.db, &username).await?
    } else {
        None
    };
    let matched = state
        .hasher
        .verify(
            &input.password,
            user.as_ref().map(|u| u.password_hash.as_str()),
        )
        .await?;
    let user = match user {
        Some(user) if matched => user,
        known => {
            if let Some(user) = known {
                record_failure(state, meta, &user).await?;
            }
            return Err(ApiError::InvalidCredentials);
        }
    };
    repo::throttle::reset(&state.db, &state.tokens.pseudonym(&username)).await?;
    if user.status != Status::Active.as_str() {
        return Err(ApiError::AccountDisabled);
    }

    let now = crate::now();
    let session = session::Model {
        id: Uuid::now_v7(),
        user_id: user.id,
        company_id: user.company_id,
        created_at: now,
        expires_at: now + chrono_duration(state.config.session_max_ttl),
        revoked_at: None,
    };
    let txn = state.db.begin().await?;
    // The sign-in counts only if the account is still as verified: a password reset or change,
    // a disable or a delete that committed meanwhile wins. Updating the user row first also
    // takes its lock before the session row references it, and returns the row as it is now
    // (a role changed meanwhile is the one in the token).
    let Some(user) = repo::users::record_login(&txn, user.id, &user.password_hash, now).await?
    else {
        txn.rollback().await?;
        let current = repo::users::find(&state.db, user.company_id, user.id).await?;
        return Err(match current {
            Some(u)
                if u.password_hash == user.password_hash && u.status != Status::Active.as_str() =>
            {
                ApiError::AccountDisabled
            }
            Some(u) => {
                record_failure(state, meta, &u).await?;
                ApiError::InvalidCredentials
            }
            None => ApiError::InvalidCredentials,
        });
    };
    let (access_token, expires_in, refresh_token) = token_pair(state, &user, session.id)?;
    repo::sessions::insert(&txn, session.clone()).await?;
    repo::sessions::insert_refresh_token(&txn, refresh_row(state, &refresh_token, &session, now))
        .await?;
    audit::record(
        &txn,
        Entry {
            company_id: user.company_id,
            action: Action::LoginSucceeded,
            actor: Some(Party::from(&user)),
            subject: Some(Party::from(&user)),
            changes: None,
            meta,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(tokens(access_token, expires_in, refresh_token, user))
}

/// Revokes the session of a refresh token presented a second time, and records it.
async fn reuse_detected(
    state: &AppState,
    meta: &RequestMeta,
    session: &session::Model,
) -> Result<ApiError, ApiError> {
    let txn = state.db.begin().await?;
    if !repo::sessions::revoke(&txn, session.id, crate::now()).await? {
        // Another request already detected it and revoked the session.
        txn.rollback().await?;
        return Ok(ApiError::TokenRevoked);
    }
    let user = repo::users::find(&txn, session.company_id, session.user_id).await?;
    audit::record(
        &txn,
        Entry {
            company_id: session.company_id,
            action: Action::RefreshReuseDetected,
            actor: None,
            subject: user.as_ref().map(Party::from),
            changes: None,
            meta,
        },
    )
    .await?;
    txn.commit().await?;
    tracing::warn!(session_id = %session.id, "refresh token reuse detected; session revoked");
    Ok(ApiError::TokenRevoked)
}

pub async fn refresh(
    state: &AppState,
    meta: &RequestMeta,
    presented: &str,
) -> Result<Tokens, ApiError> {
    let hash = tokens::hash_refresh_token(presented.trim());
    let token = repo::sessions::find_refresh_token(&state.db, &hash)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let session = repo::sessions::find(&state.db, token.session_id)
        .await?
        .ok_or(ApiError::TokenRevoked)?;
    if session.revoked_at.is_some() {
        return Err(ApiError::TokenRevoked);
    }
    if token.used_at.is_some() {
        return Err(reuse_detected(state, meta, &session).await?);
    }
    let now = crate::now();
    if token.expires_at <= now || session.expires_at <= now {
        return Err(ApiError::Unauthenticated);
    }
    let user = repo::users::find(&state.db, session.company_id, session.user_id)
        .await?
        .ok_or(ApiError::TokenRevoked)?;
    if user.status != Status::Active.as_str() {
        return Err(ApiError::TokenRevoked);
    }
    let (access_token, expires_in, refresh_token) = token_pair(state, &user, session.id)?;
    let txn = state.db.begin().await?;
    if !repo::sessions::consume_refresh_token(&txn, &hash, now).await? {
        // Another request used this token in the meantime.
        txn.rollback().await?;
        return Err(reuse_detected(state, meta, &session).await?);
    }
    repo::sessions::insert_refresh_token(&txn, refresh_row(state, &refresh_token, &session, now))
        .await?;
    txn.commit().await?;
    Ok(tokens(access_token, expires_in, refresh_token, user))
}

pub async fn logout(state: &AppState, meta: &RequestMeta, caller: &Caller) -> Result<(), ApiError> {
    let txn = state.db.begin().await?;
    if repo::sessions::revoke(&txn, caller.session_id, crate::now()).await? {
        let me = Party::from(caller);
        audit::record(
            &txn,
            Entry {
                company_id: caller.company_id,
                action: Action::Logout,
                actor: Some(me.clone()),
                subject: Some(me),
                changes: None,
                meta,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn me(state: &AppState, caller: &Caller) -> Result<UserRow, ApiError> {
    repo::users::find(&state.db, caller.company_id, caller.user_id)
        .await?
        .ok_or(ApiError::TokenRevoked)
}

pub async fn change_password(
    state: &AppState,
    meta: &RequestMeta,
    caller: &Caller,
    input: ChangePassword,
) -> Result<(), ApiError> {
    reserve_attempt(state, &caller.username).await?;
    let user = me(state, caller).await?;
    let mut checks = Checks::new();
    if !state
        .hasher
        .verify(&input.current_password, Some(&user.password_hash))
        .await?
    {
        // Counts as a failed attempt: the reservation above stays.
        checks.push(FieldError::new(
            "current_password",
            "incorrect",
            "is not your current password",
        ));
    } else {
        // The right password is a success, whatever happens to the new one.
        repo::throttle::reset(&state.db, &state.tokens.pseudonym(&caller.username)).await?;
    }
    if checks.is_empty() && input.new_password == input.current_password {
        checks.push(FieldError::new(
            "new_password",
            "unchanged",
            "must differ from the current password",
        ));
    }
    let password = checks.check(NewPassword::parse(
        &input.new_password,
        "new_password",
        &[&user.name, &user.username, &user.email],
    ));
    checks.finish()?;
    let Some(password) = password else {
        return Err(ApiError::Internal("validated password missing".into()));
    };
    let hash = state.hasher.hash(password.expose()).await?;

    let txn = state.db.begin().await?;
    repo::lock_company(&txn, caller.company_id).await?;
    caller.recheck(&txn).await?;
    let old = repo::users::find(&txn, caller.company_id, caller.user_id)
        .await?
        .ok_or(ApiError::TokenRevoked)?;
    if old.password_hash != user.password_hash {
        // Reset by an owner meanwhile, which also ended this session.
        return Err(ApiError::TokenRevoked);
    }
    let mut new = old.clone();
    new.password_hash = hash;
    new.must_change_password = false;
    new.version += 1;
    new.updated_at = crate::now();
    let user = repo::users::save(&txn, caller.company_id, new).await?;
    repo::sessions::revoke_all_for_user(
        &txn,
        caller.user_id,
        Some(caller.session_id),
        crate::now(),
    )
    .await?;
    let mut changes = Changes::new();
    changes.secret_changed("password").diff(
        "must_change_password",
        &old.must_change_password,
        &user.must_change_password,
    );
    let me = Party::from(&user);
    audit::record(
        &txn,
        Entry {
            company_id: caller.company_id,
            action: Action::UserPasswordChanged,
            actor: Some(me.clone()),
            subject: Some(me),
            changes: changes.into_value(),
            meta,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
