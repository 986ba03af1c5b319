//! User accounts: create, read, change, list, deactivate, and password changes. Validation of
//! every field lives here so the API and the CLI apply the same rules.

use deadpool_postgres::Pool;

use crate::auth::error::conflict_on_unique;
use crate::auth::{AuthError, Principal, Role, password};
use crate::db::tokens;
use crate::db::users::{self, NewUser, UserChanges, UserFilter, UserRow};

/// A user to create, as given by an admin or the CLI.
#[derive(Clone, Default)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub firstname: String,
    pub lastname: String,
    pub email: Option<String>,
    pub telephone: String,
    pub role: Option<Role>,
    pub is_active: bool,
}

/// Checks a username: 1–150 characters of letters, digits and `. _ @ + -`.
pub fn check_username(username: &str) -> Result<(), AuthError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if username.is_empty() || username.chars().count() > 150 {
        return Err(AuthError::invalid(
            "username",
            "must be 1 to 150 characters",
        ));
    }
    if !username.chars().all(ok_char) {
        return Err(AuthError::invalid(
            "username",
            "may contain only letters, digits and . _ @ + -",
        ));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<(), AuthError> {
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(())
    } else {
        Err(AuthError::invalid("email", "is not an email address"))
    }
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), AuthError> {
    if value.chars().count() > max {
        return Err(AuthError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Collects every problem of a new account, not just the first.
fn check_new(account: &NewAccount) -> Result<(), AuthError> {
    let mut problems = Vec::new();
    let mut note = |r: Result<(), AuthError>| {
        if let Err(AuthError::Invalid(mut p)) = r {
            problems.append(&mut p);
        }
    };
    note(check_username(&account.username));
    note(password::check_strength(&account.password));
    note(check_text("firstname", &account.firstname, 200));
    note(check_text("lastname", &account.lastname, 200));
    note(check_text("telephone", &account.telephone, 50));
    if let Some(email) = &account.email {
        note(check_email(email));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AuthError::Invalid(problems))
    }
}

/// Creates a user; the role defaults to `viewer` (least privilege).
#[tracing::instrument(skip_all, fields(username = %account.username))]
pub async fn create(pool: &Pool, account: NewAccount) -> Result<UserRow, AuthError> {
    check_new(&account)?;
    let hash = password::hash_blocking(account.password.clone()).await?;
    let db = pool.get().await?;
    let user = users::insert(
        &db,
        &NewUser {
            username: account.username,
            password_hash: hash,
            firstname: account.firstname,
            lastname: account.lastname,
            email: account.email.filter(|e| !e.is_empty()),
            telephone: account.telephone,
            role: account.role.unwrap_or(Role::Viewer).as_str().to_owned(),
            is_active: account.is_active,
        },
    )
    .await
    .map_err(|e| conflict_on_unique(e, "a user with that username already exists"))?;
    tracing::info!(user_uid = %user.uid, role = %user.role, "user created");
    Ok(user)
}

pub async fn by_uid(pool: &Pool, uid: &str) -> Result<UserRow, AuthError> {
    let db = pool.get().await?;
    users::by_uid(&db, uid)
        .await?
        .ok_or_else(|| AuthError::NotFound("User not found".into()))
}

pub async fn by_username(pool: &Pool, username: &str) -> Result<UserRow, AuthError> {
    let db = pool.get().await?;
    users::by_username(&db, username)
        .await?
        .ok_or_else(|| AuthError::NotFound(format!("no user named {username}")))
}

/// Changes only the given fields. Deactivating a user also ends its JWT sessions.
#[tracing::instrument(skip_all, fields(user_uid = %uid))]
pub async fn update(pool: &Pool, uid: &str, changes: UserChanges) -> Result<UserRow, AuthError> {
    let mut problems = Vec::new();
    if let Some(u) = &changes.username
        && let Err(AuthError::Invalid(mut p)) = check_username(u)
    {
        problems.append(&mut p);
    }
    if let Some(Some(e)) = &changes.email
        && let Err(AuthError::Invalid(mut p)) = check_email(e)
    {
        problems.append(&mut p);
    }
    for (field, value, max) in [
        ("firstname", &changes.firstname, 200),
        ("lastname", &changes.lastname, 200),
        ("telephone", &changes.telephone, 50),
    ] {
        if let Some(v) = value
            && let Err(AuthError::Invalid(mut p)) = check_text(field, v, max)
        {
            problems.append(&mut p);
        }
    }
    if !problems.is_empty() {
        return Err(AuthError::Invalid(problems));
    }
    let db = pool.get().await?;
    let user = users::by_uid(&db, uid)
        .await?
        .ok_or_else(|| AuthError::NotFound("User not found".into()))?;
    let updated = users::update(&db, user.id, &changes)
        .await
        .map_err(|e| conflict_on_unique(e, "a user with that username already exists"))?
        .ok_or_else(|| AuthError::NotFound("User not found".into()))?;
    if changes.is_active == Some(false) {
        tokens::revoke_user_refresh_tokens(&db, user.id).await?;
    }
    tracing::info!("user updated");
    Ok(updated)
}

/// Deactivates a user (the original's soft delete). Nobody may deactivate themselves, so the
/// last admin cannot lock everyone out by accident.
pub async fn deactivate(pool: &Pool, actor: &Principal, uid: &str) -> Result<UserRow, AuthError> {
    if actor.uid == uid {
        return Err(AuthError::Conflict(
            "you cannot deactivate your own account".into(),
        ));
    }
    update(
        pool,
        uid,
        UserChanges {
            is_active: Some(false),
            ..Default::default()
        },
    )
    .await
}

/// Sets a new password: your own with the old one, or anyone else's as an admin. Ends the
/// user's JWT sessions and lifts a lock-out.
#[tracing::instrument(skip_all, fields(user_uid = %uid, actor = %actor.uid))]
pub async fn change_password(
    pool: &Pool,
    actor: &Principal,
    uid: &str,
    old_password: Option<&str>,
    new_password: &str,
) -> Result<(), AuthError> {
    let own = actor.uid == uid;
    if !own && actor.role != Role::Admin {
        return Err(AuthError::Forbidden(
            "only an admin may change another user's password".into(),
        ));
    }
    password::check_strength(new_password)
        .map_err(|_| AuthError::invalid("new_password", "must be 8 to 1024 characters"))?;
    let db = pool.get().await?;
    let user = users::by_uid(&db, uid)
        .await?
        .ok_or_else(|| AuthError::NotFound("User not found".into()))?;
    // Your own password needs the old one, admins included: a stolen session must not be
    // enough to take the account over. Admins set other users' passwords without it.
    if own {
        let old = old_password.ok_or_else(|| {
            AuthError::invalid("old_password", "is required to change your own password")
        })?;
        let stored = users::password_hash(&db, user.id).await?;
        if password::verify_blocking(old.to_owned(), stored).await == password::Verified::No {
            return Err(AuthError::invalid(
                "old_password",
                "is not your current password",
            ));
        }
    }
    set_password(pool, user.id, new_password).await?;
    tracing::info!("password changed");
    Ok(())
}

/// Stores a new password hash, unlocks the user and ends its JWT and console sessions (CLI and
/// API).
pub async fn set_password(pool: &Pool, user_id: i64, new_password: &str) -> Result<(), AuthError> {
    password::check_strength(new_password)?;
    let hash = password::hash_blocking(new_password.to_owned()).await?;
    let db = pool.get().await?;
    users::set_password_hash(&db, user_id, &hash).await?;
    crate::db::login_throttle::forget_user(&db, user_id).await?;
    tokens::revoke_user_refresh_tokens(&db, user_id).await?;
    crate::db::console_sessions::delete_for_user(&db, user_id).await?;
    Ok(())
}

/// One page of users, newest first; `page` from 1.
pub async fn list(
    pool: &Pool,
    filter: &UserFilter,
    page: u32,
    page_size: u32,
) -> Result<(Vec<UserRow>, i64), AuthError> {
    let db = pool.get().await?;
    let offset = i64::from(page.saturating_sub(1)) * i64::from(page_size);
    Ok(users::page(&db, filter, i64::from(page_size), offset).await?)
}
