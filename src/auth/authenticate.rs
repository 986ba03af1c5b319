//! Turning [`Credentials`] into a [`Principal`]: password logins (Basic and `POST /auth/login`)
//! with the per-user and per-IP throttle, API tokens and JWT access tokens (their users and
//! tokens read through the [`AuthCache`]).

use std::net::IpAddr;

use chrono::Utc;
use deadpool_postgres::Pool;

use crate::auth::cache::AuthCache;
use crate::auth::credentials::Credentials;
use crate::auth::password::{self, Verified};
use crate::auth::{AuthError, Principal, Role, jwt, secret};
use crate::config::AuthSettings;
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

/// Checks a username and password, throttled per user and per client address: after
/// `auth.login_max_failures` failures within `auth.login_window_secs` the user (or address) is
/// refused with [`AuthError::Throttled`] for that window. A bcrypt hash is replaced by an
/// argon2id one on success.
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn login_with_password(
    pool: &Pool,
    settings: &AuthSettings,
    username: &str,
    password: &str,
    client_ip: Option<IpAddr>,
) -> Result<UserRow, AuthError> {
    let db = pool.get().await?;
    let ip = client_ip.map(|ip| ip.to_string());
    if let Some(ip) = &ip
        && let Some(until) = tokens::ip_locked_until(&db, ip).await?
    {
        tracing::warn!(client_ip = %ip, "login refused: address throttled");
        return Err(retry_after(until));
    }
    let user = users::by_username(&db, username).await?;
    if let Some(until) = user.as_ref().and_then(|u| u.locked_until)
        && until > Utc::now()
    {
        tracing::warn!("login refused: user locked out");
        return Err(retry_after(until));
    }
    let stored = match &user {
        Some(u) => users::password_hash(&db, u.id).await?,
        None => None,
    };
    let verified = password::verify_blocking(password.to_owned(), stored).await;
    let max = i32::try_from(settings.login_max_failures).unwrap_or(i32::MAX);
    let window = settings.login_window_secs as f64;
    let user = match user {
        Some(user) if verified != Verified::No => user,
        user => {
            if let Some(u) = &user
                && users::record_failure(&db, u.id, max, window)
                    .await?
                    .is_some()
            {
                tracing::warn!(user_uid = %u.uid, "user locked out after repeated failed logins");
            }
            if let Some(ip) = &ip
                && tokens::record_ip_failure(&db, ip, max, window)
                    .await?
                    .is_some()
            {
                tracing::warn!(client_ip = %ip, "address throttled after repeated failed logins");
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
