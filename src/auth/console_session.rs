//! Sessions of the browser console at `/admin`: a password login gives an opaque session token
//! (kept by the browser in an HttpOnly cookie) and a CSRF token (kept by the page, sent back in
//! a header on every write). Each request looks the session up again, so a logout, an expiry or
//! a deactivated user takes effect at once.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use crate::auth::authenticate::{login_with_password, principal_of};
use crate::auth::{AuthError, Principal, secret};
use crate::config::AuthSettings;
use crate::db::console_sessions;
use crate::db::users;

/// How long a console session lasts from its login: a working day, after which the operator
/// logs in again.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(12);

/// A new console session; the two tokens are shown to the browser once.
pub struct ConsoleLogin {
    pub principal: Principal,
    /// Goes in the HttpOnly cookie.
    pub session_token: String,
    /// Goes to the page, which returns it in `X-CSRF-Token`.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A session presented by its cookie.
pub struct ConsoleSession {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Username and password → a console session, with the same throttle as every password login.
pub async fn login(
    pool: &Pool,
    settings: &AuthSettings,
    username: &str,
    password: &str,
    client_ip: Option<IpAddr>,
) -> Result<ConsoleLogin, AuthError> {
    let user = login_with_password(pool, settings, username, password, client_ip).await?;
    let principal = principal_of(&user)?;
    let session_token = secret::new_refresh_token();
    let csrf_token = secret::new_refresh_token();
    let expires_at = Utc::now() + SESSION_TTL;
    let db = pool.get().await?;
    console_sessions::insert(
        &db,
        user.id,
        &secret::digest(&session_token),
        &csrf_token,
        expires_at,
    )
    .await?;
    tracing::info!(user_uid = %user.uid, "console session started");
    Ok(ConsoleLogin {
        principal,
        session_token,
        csrf_token,
        expires_at,
    })
}

/// The session behind a cookie's token: unknown or expired → `InvalidToken`, a deactivated
/// user → `Inactive`.
pub async fn resolve(pool: &Pool, session_token: &str) -> Result<ConsoleSession, AuthError> {
    let db = pool.get().await?;
    let session = console_sessions::live_by_digest(&db, &secret::digest(session_token))
        .await?
        .ok_or(AuthError::InvalidToken)?;
    let user = users::by_id(&db, session.user_id)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    if !user.is_active {
        return Err(AuthError::Inactive);
    }
    Ok(ConsoleSession {
        principal: principal_of(&user)?,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    })
}

/// Ends the session; an unknown token is not an error (the cookie is cleared either way).
pub async fn logout(pool: &Pool, session_token: &str) -> Result<(), AuthError> {
    let db = pool.get().await?;
    if console_sessions::delete_by_digest(&db, &secret::digest(session_token)).await? {
        tracing::info!("console session ended");
    }
    Ok(())
}

/// Whether the header's CSRF token is the session's, compared in constant time.
pub fn csrf_matches(expected: &str, presented: Option<&str>) -> bool {
    let Some(presented) = presented else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), presented.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_comparison() {
        assert!(csrf_matches("abc", Some("abc")));
        assert!(!csrf_matches("abc", Some("abd")));
        assert!(!csrf_matches("abc", Some("ab")));
        assert!(!csrf_matches("abc", None));
        assert!(!csrf_matches("abc", Some("")));
    }
}
