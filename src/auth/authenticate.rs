//! Turning [`Credentials`] into a [`Principal`]: password logins (Basic and `POST /auth/login`)
//! under the per-(user, address) login throttle, API tokens and JWT access tokens (their users and
//! tokens read through the [`AuthCache`]).

use std::net::IpAddr;

use chrono::Utc;
use deadpool_postgres::Pool;

use crate::auth::cache::AuthCache;
use crate::auth::credentials::Credentials;
use crate::auth::password::{self, Verified};
use crate::auth::{AuthError, Principal, Role, jwt, login_throttle, secret};
use crate::config::AuthSettings;
use crate::db::login_throttle as throttle_db;
use crate::db::tokens;
use crate::db::users::{self, UserRow};

/// Authenticates any scheme. `client_ip` feeds the login throttle of password logins.
#[tracing::instrument(skip_all, fields(scheme = credentials.scheme()))]
pub async fn authenticate(
    pool: &Pool,
    cache: &AuthCache,
    settings: &AuthSettings,
    credentials: &Credentials,
    client_ip: Option<IpAddr>,
) -> Result<Principal, AuthError> {
    let user = match credentials {
        Credentials::Basic { username, password } => {
            login_with_password(pool, settings, username, password, client_ip).await?
        }
        Credentials::Token(token) => user_of_api_token(pool, cache, token).await?,
        Credentials::Bearer(token) => user_of_access_token(pool, cache, settings, token).await?,
    };
    principal_of(&user)
}

pub fn principal_of(user: &UserRow) -> Result<Principal, AuthError> {
    let role = Role::parse(&user.role)
        .ok_or_else(|| AuthError::Internal(format!("user {} has an unknown role", user.uid)))?;
    Ok(Principal {
        user_id: user.id,
        uid: user.uid.clone(),
        username: user.username.clone(),
        role,
    })
}

fn retry_after(until: chrono::DateTime<Utc>) -> AuthError {
    let secs = (until - Utc::now()).num_seconds().max(1);
    AuthError::Throttled {
        retry_after_secs: secs as u64,
    }
}

/// Checks a username and password under the login throttle ([`login_throttle`]): failures
/// count per (username, client address); an attempt after failures waits first, and a pair at
/// `auth.login_max_failures` is refused with [`AuthError::Throttled`] until its lock ends. A
/// bcrypt hash is replaced by an argon2id one on success.
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn login_with_password(
    pool: &Pool,
    settings: &AuthSettings,
    username: &str,
    password: &str,
    client_ip: Option<IpAddr>,
) -> Result<UserRow, AuthError> {
    if username.contains('\0') {
        // PostgreSQL text cannot hold NUL, so no such user exists.
        tracing::info!("login failed: bad username or password");
        return Err(AuthError::BadCredentials);
    }
    let key = login_throttle::username_key(username);
    let ip = login_throttle::address_key(client_ip);
    let window = settings.login_window_secs as f64;
    let (standing, user, stored) = {
        let db = pool.get().await?;
        let standing = throttle_db::standing(&db, key, &ip, window).await?;
        if let Some(until) = standing.locked_until {
            tracing::warn!(client_ip = %ip, "login refused: throttled for this address");
            return Err(retry_after(until));
        }
        let user = users::by_username(&db, username).await?;
        let stored = match &user {
            Some(u) => users::password_hash(&db, u.id).await?,
            None => None,
        };
        (standing, user, stored)
    };
    // Slow down before refusing; no connection is held while waiting.
    let delay = login_throttle::delay_after(standing.failures);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let verified = password::verify_blocking(password.to_owned(), stored).await;
    let db = pool.get().await?;
    let user = match user {
        Some(user) if verified != Verified::No => user,
        user => {
            let max = i32::try_from(settings.login_max_failures).unwrap_or(i32::MAX);
            let counted = throttle_db::record_failure(&db, key, &ip, max, window).await?;
            if counted.new_row {
                throttle_db::purge_stale(&db, window).await?;
            }
            if counted.locked_until.is_some() {
                tracing::warn!(
                    user_uid = user.as_ref().map(|u| u.uid.as_str()).unwrap_or("-"),
                    client_ip = %ip,
                    failures = counted.failures,
                    "login throttled for this address after repeated failures"
                );
            }
            tracing::info!("login failed: bad username or password");
            return Err(AuthError::BadCredentials);
        }
    };
    if !user.is_active {
        tracing::info!(user_uid = %user.uid, "login refused: account deactivated");
        return Err(AuthError::Inactive);
    }
    if verified == Verified::YesRehash {
        let new_hash = password::hash_blocking(password.to_owned()).await?;
        users::set_password_hash(&db, user.id, &new_hash).await?;
        tracing::info!(user_uid = %user.uid, "password hash upgraded to argon2id");
    }
    if standing.recorded {
        throttle_db::forget(&db, key, &ip).await?;
    }
    users::record_login(&db, user.id).await?;
    Ok(user)
}

async fn user_of_api_token(
    pool: &Pool,
    cache: &AuthCache,
    token: &str,
) -> Result<UserRow, AuthError> {
    let digest = secret::digest(token);
    let (found, user) = cache
        .tokens
        .get_or_load(digest.clone(), async {
            let db = pool.get().await?;
            let Some(found) = tokens::api_token_by_digest(&db, &digest).await? else {
                return Ok(None);
            };
            let user = users::by_id(&db, found.user_id).await?;
            Ok::<_, AuthError>(user.map(|user| (found, user)))
        })
        .await?
        .ok_or(AuthError::InvalidToken)?;
    if !found.is_active {
        return Err(AuthError::InvalidToken);
    }
    if found.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(AuthError::TokenExpired);
    }
    if !user.is_active {
        return Err(AuthError::Inactive);
    }
    if cache.touch_due(found.token_id) {
        let db = pool.get().await?;
        tokens::touch_api_token(&db, found.token_id).await?;
    }
    Ok(user)
}

async fn user_of_access_token(
    pool: &Pool,
    cache: &AuthCache,
    settings: &AuthSettings,
    token: &str,
) -> Result<UserRow, AuthError> {
    let claims = jwt::verify(settings, token)?;
    let user = cache
        .users
        .get_or_load(claims.sub.clone(), async {
            let db = pool.get().await?;
            Ok::<_, AuthError>(users::by_uid(&db, &claims.sub).await?)
        })
        .await?
        .ok_or(AuthError::InvalidToken)?;
    if !user.is_active {
        return Err(AuthError::Inactive);
    }
    Ok(user)
}
