//! API tokens (`Authorization: Token <hex>`): issued by `POST /api/v2/users/getToken`,
//! rotated by `POST /api/v2/users/refreshToken`, made and revoked by `dhis2gw token …`.
//! Only their SHA-256 digest is stored; the token is shown to its owner once.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use crate::auth::{AuthError, secret};
use crate::db::tokens;

/// A token just made: the only time the plain token exists outside the client.
pub struct IssuedToken {
    pub id: i64,
    pub token: String,
    /// `None`: never expires (only the CLI makes such tokens).
    pub expires_at: Option<DateTime<Utc>>,
}

fn expiry(ttl_days: Option<u64>) -> Option<DateTime<Utc>> {
    ttl_days.map(|d| Utc::now() + chrono::Duration::days(i64::try_from(d).unwrap_or(3650)))
}

/// Issues a new token and deactivates the user's other tokens, as the original `getToken` did
/// (one live token per user), in one transaction.
#[tracing::instrument(skip(pool))]
pub async fn issue_replacing_all(
    pool: &Pool,
    user_id: i64,
    ttl_days: Option<u64>,
) -> Result<IssuedToken, AuthError> {
    let mut db = crate::db::TxConn::new(pool.get().await?);
    let tx = db.transaction().await?;
    let token = secret::new_api_token();
    let expires_at = expiry(ttl_days);
    let id = tokens::insert_api_token(&tx, user_id, &secret::digest(&token), expires_at).await?;
    let revoked = tokens::deactivate_api_tokens(&tx, user_id, Some(id)).await?;
    tx.commit().await?;
    db.transaction_ended();
    tracing::info!(token_id = id, revoked, "API token issued");
    Ok(IssuedToken {
        id,
        token,
        expires_at,
    })
}

/// Rotates: when the user holds a live token, issues the new one first and then deactivates
/// the old ones, in one transaction, so the caller is never left without a token.
#[tracing::instrument(skip(pool))]
pub async fn rotate(pool: &Pool, user_id: i64, ttl_days: u64) -> Result<IssuedToken, AuthError> {
    {
        let db = pool.get().await?;
        if !tokens::has_live_api_token(&db, user_id).await? {
            return Err(AuthError::NotFound(
                "No active token found to refresh".into(),
            ));
        }
    }
    issue_replacing_all(pool, user_id, Some(ttl_days)).await
}

/// Issues an extra token without touching the others (`dhis2gw token create`).
#[tracing::instrument(skip(pool))]
pub async fn issue_additional(
    pool: &Pool,
    user_id: i64,
    ttl_days: Option<u64>,
) -> Result<IssuedToken, AuthError> {
    let db = pool.get().await?;
    let token = secret::new_api_token();
    let expires_at = expiry(ttl_days);
    let id = tokens::insert_api_token(&db, user_id, &secret::digest(&token), expires_at).await?;
    tracing::info!(token_id = id, "API token issued");
    Ok(IssuedToken {
        id,
        token,
        expires_at,
    })
}
