//! Creating a company with its first owner: on first start and from the command line.

use base64::Engine as _;
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use super::unique_violation;
use crate::audit::{self, Action, Entry, Party, RequestMeta};
use crate::auth::Hasher;
use crate::domain::{Checks, Email, NewPassword, PersonName, Role, Status, Username};
use crate::entities::{company, user};
use crate::error::ApiError;
use crate::repo;

/// The ids of a new company and its owner.
#[derive(Debug, serde::Serialize)]
pub struct Created {
    pub company_id: Uuid,
    pub owner_id: Uuid,
}

pub struct NewCompany<'a> {
    pub company_name: &'a str,
    pub owner_name: &'a str,
    pub owner_email: &'a str,
    pub owner_password: &'a str,
    pub must_change_password: bool,
}

/// Explains a validation failure in one line, for the command line.
pub fn describe(err: &ApiError) -> String {
    match err {
        ApiError::Validation(errors) | ApiError::Conflict(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

pub async fn create_company(
    db: &DatabaseConnection,
    hasher: &Hasher,
    input: NewCompany<'_>,
) -> Result<Created, ApiError> {
    let mut checks = Checks::new();
    let company_name = input.company_name.trim();
    if company_name.is_empty() || company_name.chars().count() > 100 {
        checks.push(crate::error::FieldError::new(
            "company",
            "invalid_length",
            "must be 1–100 characters",
        ));
    }
    let name = checks.check(PersonName::parse(input.owner_name));
    let username = checks.check(Username::parse(input.owner_email));
    let email = checks.check(Email::parse(input.owner_email));
    let password = checks.check(NewPassword::parse(
        input.owner_password,
        "password",
        &[input.owner_name, input.owner_email],
    ));
    checks.finish()?;
    let (Some(name), Some(username), Some(email), Some(password)) =
        (name, username, email, password)
    else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let hash = hasher.hash(password.expose()).await?;
    let now = crate::now();
    let company = company::Model {
        id: Uuid::now_v7(),
        name: company_name.into(),
        created_at: now,
    };
    let owner = user::Model {
        id: Uuid::now_v7(),
        company_id: company.id,
        name: name.as_str().into(),
        name_key: name.search_key(),
        username: username.as_str().into(),
        email: email.as_str().into(),
        role: Role::Owner.as_str().into(),
        status: Status::Active.as_str().into(),
        must_change_password: input.must_change_password,
        password_hash: hash,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        version: 1,
    };
    let txn = db.begin().await?;
    {
        use sea_orm::{ActiveModelTrait, IntoActiveModel};
        company
            .clone()
            .into_active_model()
            .reset_all()
            .insert(&txn)
            .await?;
    }
    let owner = repo::users::insert(&txn, owner)
        .await
        .map_err(unique_violation)?;
    audit::record(
        &txn,
        Entry {
            company_id: company.id,
            action: Action::UserCreated,
            actor: None,
            subject: Some(Party::from(&owner)),
            changes: Some(audit::created_changes(&owner)),
            meta: &RequestMeta::default(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        company_id: company.id,
        owner_id: owner.id,
    })
}

/// A random password that passes the policy (120 random bits).
pub fn generate_password() -> String {
    let bytes: [u8; 15] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// On an empty database, creates the first company and owner. Returns the generated
/// password when none was configured (so it can be shown once).
pub async fn bootstrap(
    db: &DatabaseConnection,
    hasher: &Hasher,
    config: &crate::config::Config,
) -> Result<Option<(String, Option<String>)>, ApiError> {
    if repo::users::count_all(db).await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &config.bootstrap_owner_password {
        Some(p) => (p.clone(), false),
        None => (generate_password(), true),
    };
    let result = create_company(
        db,
        hasher,
        NewCompany {
            company_name: &config.bootstrap_company,
            owner_name: &config.bootstrap_owner_name,
            owner_email: &config.bootstrap_owner_email,
            owner_password: &password,
            must_change_password: generated,
        },
    )
    .await;
    match result {
        Ok(_) => Ok(Some((
            Username::normalize(&config.bootstrap_owner_email),
            generated.then_some(password),
        ))),
        // Another process bootstrapped the same database at the same moment.
        Err(ApiError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
