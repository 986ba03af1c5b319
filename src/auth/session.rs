//! JWT sessions: login (password → access token + refresh token), refresh (rotation with reuse
//! detection per token family) and logout (revokes the family).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use uuid::Uuid;

use crate::auth::authenticate::{login_with_password, principal_of};
use crate::auth::{AuthError, Principal, jwt, secret};
use crate::config::AuthSettings;
use crate::db::tokens::{self, RefreshClaim};
use crate::db::users::{self, UserRow};

/// What login and refresh hand back.
pub struct Session {
    pub principal: Principal,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

async fn start(
    pool: &Pool,
    settings: &AuthSettings,
    user: &UserRow,
    family: Uuid,
) -> Result<Session, AuthError> {
    let principal = principal_of(user)?;
    let (access_token, access_expires_at) =
        jwt::issue(settings, &user.uid, &user.username, principal.role.as_str())?;
    let refresh_token = secret::new_refresh_token();
    let ttl = i64::try_from(settings.refresh_token_ttl_secs).unwrap_or(1_209_600);
    let refresh_expires_at = Utc::now() + chrono::Duration::seconds(ttl);
    let db = pool.get().await?;
    tokens::insert_refresh_token(
        &db,
        user.id,
        family,
        &secret::digest(&refresh_token),
        refresh_expires_at,
    )
    .await?;
    Ok(Session {
        principal,
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
    })
}

/// Username and password → a new session (a new refresh-token family).
pub async fn login(
    pool: &Pool,
    settings: &AuthSettings,
    username: &str,
    password: &str,
    client_ip: Option<IpAddr>,
) -> Result<Session, AuthError> {
    let user = login_with_password(pool, settings, username, password, client_ip).await?;
    let session = start(pool, settings, &user, Uuid::new_v4()).await?;
    tracing::info!(user_uid = %user.uid, "session started");
    Ok(session)
}

/// Exchanges a refresh token for a new pair. Presenting a token that was already used (a
/// stolen copy, or the legitimate one after the thief used it) revokes its whole family.
pub async fn refresh(
    pool: &Pool,
    settings: &AuthSettings,
    refresh_token: &str,
) -> Result<Session, AuthError> {
    let claim = {
        let db = pool.get().await?;
        tokens::claim_refresh_token(&db, &secret::digest(refresh_token)).await?
    };
    let (user_id, family) = match claim {
        RefreshClaim::Claimed { user_id, family } => (user_id, family),
        RefreshClaim::Replayed { user_id, family } => {
            tracing::warn!(user_id, %family, "refresh token reused: session family revoked");
            return Err(AuthError::RefreshReused);
        }
        RefreshClaim::Expired => return Err(AuthError::TokenExpired),
        RefreshClaim::Unknown => return Err(AuthError::InvalidToken),
    };
    let user = {
        let db = pool.get().await?;
        users::by_id(&db, user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?
    };
    if !user.is_active {
        return Err(AuthError::Inactive);
    }
    start(pool, settings, &user, family).await
}

/// Ends the session the refresh token belongs to. Unknown tokens are an error so a client
/// learns its logout did nothing.
pub async fn logout(pool: &Pool, refresh_token: &str) -> Result<(), AuthError> {
    let db = pool.get().await?;
    if tokens::revoke_refresh_family_of(&db, &secret::digest(refresh_token)).await? {
        tracing::info!("session ended");
        Ok(())
    } else {
        Err(AuthError::InvalidToken)
    }
}
