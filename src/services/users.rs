//! User management (section `users`). Every function takes a [`Permit`] for that section.

use base64::Engine as _;
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use super::unique_violation;
use crate::audit::{self, Action, Changes, Entry, Party, RequestMeta};
use crate::domain::{Checks, Email, NewPassword, PersonName, Role, Status, Username};
use crate::dto::{
    AuditParams, CreateUser, EventPage, HistoryParams, ListUsersParams, SetPassword, UpdateUser,
};
use crate::entities::user::Model as UserRow;
use crate::error::{ApiError, FieldError};
use crate::policy::{Access, Permit, Section};
use crate::repo::{self, events::EventQuery, users::ListQuery, users::SortKey};
use crate::state::AppState;

/// A permit proves a policy check; it must be for this section and grant what is needed.
fn permit_for_users(permit: &Permit<'_>, needed: Access) -> Result<(), ApiError> {
    if permit.section() == Section::Users && permit.access() >= needed {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn actor(permit: &Permit<'_>) -> Party {
    Party::from(permit.caller())
}

fn is_active_owner(user: &UserRow) -> bool {
    user.role == Role::Owner.as_str() && user.status == Status::Active.as_str()
}

/// Opens a transaction holding the company's lock, in which the caller is still who the
/// permit says.
async fn begin_locked(
    state: &AppState,
    permit: &Permit<'_>,
) -> Result<DatabaseTransaction, ApiError> {
    let txn = state.db.begin().await?;
    repo::lock_company(&txn, permit.company_id()).await?;
    permit.caller().recheck(&txn).await?;
    Ok(txn)
}

/// Opens a transaction holding the company's lock, and loads the user in it.
async fn begin_with_user(
    state: &AppState,
    permit: &Permit<'_>,
    id: Uuid,
) -> Result<(DatabaseTransaction, UserRow), ApiError> {
    let company_id = permit.company_id();
    let txn = begin_locked(state, permit).await?;
    let user = repo::users::find(&txn, company_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((txn, user))
}

/// Fails with 409 `last_owner` when `user` is the company's only active owner.
async fn ensure_not_last_owner(
    conn: &impl ConnectionTrait,
    user: &UserRow,
) -> Result<(), ApiError> {
    if is_active_owner(user) && repo::users::count_active_owners(conn, user.company_id).await? <= 1
    {
        return Err(ApiError::LastOwner);
    }
    Ok(())
}

/// Fails with 409 `conflict` naming each of `username` / `email` already used by someone else.
async fn ensure_unique(
    conn: &impl ConnectionTrait,
    username: Option<&str>,
    email: Option<&str>,
    except: Option<Uuid>,
) -> Result<(), ApiError> {
    use crate::entities::user::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let mut errors = Vec::new();
    for (field, value, column) in [
        ("username", username, Column::Username),
        ("email", email, Column::Email),
    ] {
        let Some(value) = value else { continue };
        let mut query = Entity::find().filter(column.eq(value));
        if let Some(id) = except {
            query = query.filter(Column::Id.ne(id));
        }
        if query.count(conn).await? > 0 {
            errors.push(FieldError::new(
                field,
                "taken",
                format!("this {field} is already in use"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Conflict(errors))
    }
}

pub async fn create(
    state: &AppState,
    permit: &Permit<'_>,
    meta: &RequestMeta,
    input: CreateUser,
) -> Result<UserRow, ApiError> {
    permit_for_users(permit, Access::Write)?;
    let mut checks = Checks::new();
    let name = checks.check(PersonName::parse(&input.name));
    let username = checks.check(Username::parse(&input.username));
    let email = checks.check(Email::parse(&input.email));
    let role = checks.check(Role::parse(&input.role, "role"));
    let password = checks.check(NewPassword::parse(
        &input.password,
        "password",
        &[&input.name, &input.username, &input.email],
    ));
    checks.finish()?;
    let (Some(name), Some(username), Some(email), Some(role), Some(password)) =
        (name, username, email, role, password)
    else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let hash = state.hasher.hash(password.expose()).await?;
    let company_id = permit.company_id();
    let now = crate::now();
    let row = UserRow {
        id: Uuid::now_v7(),
        company_id,
        name: name.as_str().into(),
        name_key: name.search_key(),
        username: username.as_str().into(),
        email: email.as_str().into(),
        role: role.as_str().into(),
        status: Status::Active.as_str().into(),
        must_change_password: true,
        password_hash: hash,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        version: 1,
    };

    let txn = begin_locked(state, permit).await?;
    ensure_unique(&txn, Some(&row.username), Some(&row.email), None).await?;
    let user = repo::users::insert(&txn, row)
        .await
        .map_err(unique_violation)?;
    audit::record(
        &txn,
        Entry {
            company_id,
            action: Action::UserCreated,
            actor: Some(actor(permit)),
            subject: Some(Party::from(&user)),
            changes: Some(audit::created_changes(&user)),
            meta,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

pub async fn get(state: &AppState, permit: &Permit<'_>, id: Uuid) -> Result<UserRow, ApiError> {
    permit_for_users(permit, Access::Read)?;
    repo::users::find(&state.db, permit.company_id(), id)
        .await?
        .ok_or(ApiError::NotFound)
}

fn parse_list(
    value: &Option<String>,
    field: &str,
    checks: &mut Checks,
    parse: impl Fn(&str, &str) -> Result<Vec<&'static str>, FieldError>,
) -> Vec<&'static str> {
    match value.as_deref() {
        None | Some("") => Vec::new(),
        Some(text) => {
            let mut out = Vec::new();
            for item in text.split(',') {
                match parse(item, field) {
                    Ok(mut values) => out.append(&mut values),
                    Err(err) => {
                        checks.push(err);
                        break;
                    }
                }
            }
            out
        }
    }
}

fn check_limit(limit: Option<i64>, checks: &mut Checks) -> u64 {
    match limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n as u64,
        Some(_) => {
            checks.push(FieldError::new(
                "limit",
                "out_of_range",
                "must be between 1 and 200",
            ));
            50
        }
    }
}

fn text_filter(value: &Option<String>, field: &str, checks: &mut Checks) -> Option<String> {
    let text = value.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if text.chars().count() > 254 {
        checks.push(FieldError::new(
            field,
            "too_long",
            "must be at most 254 characters",
        ));
        return None;
    }
    if text.chars().any(crate::domain::is_hidden_or_control) {
        checks.push(FieldError::new(
            field,
            "invalid_characters",
            "must not contain control or invisible characters",
        ));
        return None;
    }
    Some(crate::domain::fold(text))
}

pub async fn list(
    state: &AppState,
    permit: &Permit<'_>,
    params: ListUsersParams,
) -> Result<(Vec<UserRow>, u64, u64, u64), ApiError> {
    permit_for_users(permit, Access::Read)?;
    let mut checks = Checks::new();
    let roles: Vec<Role> = parse_list(&params.role, "role", &mut checks, |v, f| {
        Role::parse(v, f).map(|r| vec![r.as_str()])
    })
    .into_iter()
    .filter_map(Role::from_db)
    .collect();
    let statuses: Vec<Status> = parse_list(&params.status, "status", &mut checks, |v, f| {
        Status::parse(v, f).map(|s| vec![s.as_str()])
    })
    .into_iter()
    .filter_map(Status::from_db)
    .collect();
    let (descending, key) = match params.sort.as_deref() {
        None | Some("") => (false, "name"),
        Some(s) => match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        },
    };
    let sort = SortKey::ALL.iter().find(|(name, _)| *name == key).map(|(_, k)| *k).unwrap_or_else(|| {
        checks.push(FieldError::new(
            "sort",
            "invalid_value",
            "must be one of name, username, email, role, status, created_at, last_login_at, optionally prefixed by -",
        ));
        SortKey::Name
    });
    let limit = check_limit(params.limit, &mut checks);
    let offset = match params.offset {
        None => 0,
        Some(n) if n >= 0 => n as u64,
        Some(_) => {
            checks.push(FieldError::new(
                "offset",
                "out_of_range",
                "must be 0 or more",
            ));
            0
        }
    };
    let query = ListQuery {
        name: text_filter(&params.name, "name", &mut checks),
        username: text_filter(&params.username, "username", &mut checks),
        email: text_filter(&params.email, "email", &mut checks),
        q: text_filter(&params.q, "q", &mut checks),
        roles,
        statuses,
        sort,
        descending,
        limit,
        offset,
    };
    checks.finish()?;
    let (items, total) = repo::users::list(&state.db, permit.company_id(), &query).await?;
    Ok((items, total, limit, offset))
}

/// Compares `If-Match` with the user's version: `*` or a matching strong tag passes.
pub fn if_match_allows(if_match: Option<&str>, version: i64) -> bool {
    let Some(header) = if_match else { return true };
    let current = crate::dto::etag(version);
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current)
}

pub async fn update(
    state: &AppState,
    permit: &Permit<'_>,
    meta: &RequestMeta,
    id: Uuid,
    if_match: Option<&str>,
    input: UpdateUser,
) -> Result<UserRow, ApiError> {
    permit_for_users(permit, Access::Write)?;
    let mut checks = Checks::new();
    let required = |field: &str| FieldError::new(field, "required", "must not be null");
    let name = match &input.name {
        Some(Some(v)) => checks.check(PersonName::parse(v)),
        Some(None) => checks.check(Err(required("name"))),
        None => None,
    };
    let username = match &input.username {
        Some(Some(v)) => checks.check(Username::parse(v)),
        Some(None) => checks.check(Err(required("username"))),
        None => None,
    };
    let email = match &input.email {
        Some(Some(v)) => checks.check(Email::parse(v)),
        Some(None) => checks.check(Err(required("email"))),
        None => None,
    };
    let role = match &input.role {
        Some(Some(v)) => checks.check(Role::parse(v, "role")),
        Some(None) => checks.check(Err(required("role"))),
        None => None,
    };
    checks.finish()?;

    let company_id = permit.company_id();
    let (txn, old) = begin_with_user(state, permit, id).await?;
    if !if_match_allows(if_match, old.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let mut new = old.clone();
    if let Some(name) = &name {
        new.name = name.as_str().into();
        new.name_key = name.search_key();
    }
    if let Some(username) = &username {
        new.username = username.as_str().into();
    }
    if let Some(email) = &email {
        new.email = email.as_str().into();
    }
    if let Some(role) = role {
        new.role = role.as_str().into();
    }
    let mut changes = Changes::new();
    changes
        .diff("name", &old.name, &new.name)
        .diff("username", &old.username, &new.username)
        .diff("email", &old.email, &new.email)
        .diff("role", &old.role, &new.role);
    if changes.is_empty() {
        // A no-op patch changes nothing and records nothing.
        txn.rollback().await?;
        return Ok(old);
    }
    let role_changed = old.role != new.role;
    if role_changed && new.role != Role::Owner.as_str() {
        ensure_not_last_owner(&txn, &old).await?;
    }
    ensure_unique(
        &txn,
        (old.username != new.username).then_some(new.username.as_str()),
        (old.email != new.email).then_some(new.email.as_str()),
        Some(id),
    )
    .await?;
    new.version += 1;
    new.updated_at = crate::now();
    let user = repo::users::save(&txn, company_id, new)
        .await
        .map_err(unique_violation)?;
    if role_changed {
        repo::sessions::revoke_all_for_user(&txn, id, None, crate::now()).await?;
    }
    audit::record(
        &txn,
        Entry {
            company_id,
            action: Action::UserUpdated,
            actor: Some(actor(permit)),
            subject: Some(Party::from(&user)),
            changes: changes.into_value(),
            meta,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

pub async fn delete(
    state: &AppState,
    permit: &Permit<'_>,
    meta: &RequestMeta,
    id: Uuid,
) -> Result<(), ApiError> {
    permit_for_users(permit, Access::Write)?;
    let company_id = permit.company_id();
    let (txn, user) = begin_with_user(state, permit, id).await?;
    if user.id == permit.caller().user_id {
        return Err(ApiError::SelfActionForbidden);
    }
    ensure_not_last_owner(&txn, &user).await?;
    audit::record(
        &txn,
        Entry {
            company_id,
            action: Action::UserDeleted,
            actor: Some(actor(permit)),
            subject: Some(Party::from(&user)),
            changes: None,
            meta,
        },
    )
    .await?;
    // Sessions and their refresh tokens go first, in the order a refresh locks them, so a
    // concurrent refresh waits instead of deadlocking with the cascade.
    repo::sessions::delete_all_for_user(&txn, id).await?;
    repo::users::delete(&txn, company_id, id).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn reset_password(
    state: &AppState,
    permit: &Permit<'_>,
    meta: &RequestMeta,
    id: Uuid,
    input: SetPassword,
) -> Result<(), ApiError> {
    permit_for_users(permit, Access::Write)?;
    let company_id = permit.company_id();
    if id == permit.caller().user_id {
        // Exists and is the caller: changing one's own password goes through PUT /me/password.
        return Err(ApiError::SelfActionForbidden);
    }
    let target = repo::users::find(&state.db, company_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let password = NewPassword::parse(
        &input.password,
        "password",
        &[&target.name, &target.username, &target.email],
    )
    .map_err(|e| ApiError::Validation(vec![e]))?;
    let hash = state.hasher.hash(password.expose()).await?;

    let (txn, old) = begin_with_user(state, permit, id).await?;
    let mut new = old.clone();
    new.password_hash = hash;
    new.must_change_password = input.must_change_password;
    new.version += 1;
    new.updated_at = crate::now();
    let user = repo::users::save(&txn, company_id, new).await?;
    repo::sessions::revoke_all_for_user(&txn, id, None, crate::now()).await?;
    // An owner setting a new password also lifts any sign-in throttle on the account.
    repo::throttle::reset(&txn, &state.tokens.pseudonym(&user.username)).await?;
    let mut changes = Changes::new();
    changes.secret_changed("password").diff(
        "must_change_password",
        &old.must_change_password,
        &user.must_change_password,
    );
    audit::record(
        &txn,
        Entry {
            company_id,
            action: Action::UserPasswordReset,
            actor: Some(actor(permit)),
            subject: Some(Party::from(&user)),
            changes: changes.into_value(),
            meta,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Disables or re-enables a user. Setting the status a user already has changes nothing.
pub async fn set_status(
    state: &AppState,
    permit: &Permit<'_>,
    meta: &RequestMeta,
    id: Uuid,
    status: Status,
) -> Result<UserRow, ApiError> {
    permit_for_users(permit, Access::Write)?;
    let company_id = permit.company_id();
    let (txn, old) = begin_with_user(state, permit, id).await?;
    if status == Status::Disabled && old.id == permit.caller().user_id {
        return Err(ApiError::SelfActionForbidden);
    }
    if old.status == status.as_str() {
        txn.rollback().await?;
        return Ok(old);
    }
    if status == Status::Disabled {
        ensure_not_last_owner(&txn, &old).await?;
    }
    let mut new = old.clone();
    new.status = status.as_str().into();
    new.version += 1;
    new.updated_at = crate::now();
    let user = repo::users::save(&txn, company_id, new).await?;
    if status == Status::Disabled {
        repo::sessions::revoke_all_for_user(&txn, id, None, crate::now()).await?;
    }
    let mut changes = Changes::new();
    changes.diff("status", &old.status, &user.status);
    audit::record(
        &txn,
        Entry {
            company_id,
            action: if status == Status::Disabled {
                Action::UserDisabled
            } else {
                Action::UserEnabled
            },
            actor: Some(actor(permit)),
            subject: Some(Party::from(&user)),
            changes: changes.into_value(),
            meta,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("s:{seq}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("s:")?
        .parse::<i64>()
        .ok()
        .filter(|s| *s > 0)
}

struct PageParams<'a> {
    action: &'a Option<String>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    limit: Option<i64>,
    cursor: &'a Option<String>,
}

fn event_query(params: PageParams<'_>) -> Result<EventQuery, ApiError> {
    let mut checks = Checks::new();
    let actions = parse_list(params.action, "action", &mut checks, |v, f| {
        Action::parse(v).map(|a| vec![a.as_str()]).ok_or_else(|| {
            FieldError::new(
                f,
                "invalid_value",
                "must be one of the event actions (e.g. user.updated)",
            )
        })
    });
    let limit = check_limit(params.limit, &mut checks);
    let before_seq = match params.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => {
            let seq = decode_cursor(c);
            if seq.is_none() {
                checks.push(FieldError::new(
                    "cursor",
                    "invalid_value",
                    "is not a cursor returned by this API",
                ));
            }
            seq
        }
    };
    // Years outside 1–9999 are valid RFC 3339 for the parser but not for the databases.
    for (field, value) in [("from", params.from), ("to", params.to)] {
        if let Some(at) = value
            && !(1..=9999).contains(&chrono::Datelike::year(&at))
        {
            checks.push(FieldError::new(
                field,
                "out_of_range",
                "must be between years 1 and 9999",
            ));
        }
    }
    if let (Some(from), Some(to)) = (params.from, params.to)
        && from > to
    {
        checks.push(FieldError::new(
            "to",
            "out_of_range",
            "must not be before `from`",
        ));
    }
    checks.finish()?;
    Ok(EventQuery {
        actions,
        from: params.from,
        to: params.to,
        before_seq,
        limit,
        ..Default::default()
    })
}

async fn event_page(
    state: &AppState,
    company_id: Uuid,
    query: EventQuery,
) -> Result<EventPage, ApiError> {
    let mut rows = repo::events::list(&state.db, company_id, &query).await?;
    let more = rows.len() as u64 > query.limit;
    rows.truncate(query.limit as usize);
    let next_cursor = if more {
        rows.last().map(|e| encode_cursor(e.seq))
    } else {
        None
    };
    Ok(EventPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    })
}

pub async fn history(
    state: &AppState,
    permit: &Permit<'_>,
    id: Uuid,
    params: HistoryParams,
) -> Result<EventPage, ApiError> {
    permit_for_users(permit, Access::Read)?;
    let company_id = permit.company_id();
    repo::users::find(&state.db, company_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut query = event_query(PageParams {
        action: &params.action,
        from: params.from,
        to: params.to,
        limit: params.limit,
        cursor: &params.cursor,
    })?;
    query.involving = Some(id);
    event_page(state, company_id, query).await
}

pub async fn audit_log(
    state: &AppState,
    permit: &Permit<'_>,
    params: AuditParams,
) -> Result<EventPage, ApiError> {
    permit_for_users(permit, Access::Read)?;
    let mut query = event_query(PageParams {
        action: &params.action,
        from: params.from,
        to: params.to,
        limit: params.limit,
        cursor: &params.cursor,
    })?;
    query.actor_id = params.actor_id;
    query.subject_id = params.subject_id;
    event_page(state, permit.company_id(), query).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("garbage!"), None);
        assert_eq!(decode_cursor(""), None);
    }

    #[test]
    fn if_match_compares_strong_tags() {
        assert!(if_match_allows(None, 3));
        assert!(if_match_allows(Some("\"3\""), 3));
        assert!(if_match_allows(Some("*"), 3));
        assert!(if_match_allows(Some("\"1\", \"3\""), 3));
        assert!(!if_match_allows(Some("\"2\""), 3));
        assert!(!if_match_allows(Some("W/\"3\""), 3));
    }
}
