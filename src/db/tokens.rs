//! Credentials other than passwords: API tokens (`user_apitoken`) and JWT refresh tokens
//! (`refresh_tokens`). Tokens are looked up by their SHA-256 hex digest; the tokens themselves
//! are never stored.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::db::redacted::Redacted;

/// An API token found by its digest, with what authentication needs of its owner.
#[derive(Debug, Clone)]
pub struct ApiTokenMatch {
    pub token_id: i64,
    pub user_id: i64,
    pub is_active: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API token as `dhis2gw token list` shows it (no digest).
#[derive(Debug, Clone)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub username: String,
    pub is_active: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
}

pub async fn insert_api_token(
    db: &impl GenericClient,
    user_id: i64,
    token_sha256: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<i64, tokio_postgres::Error> {
    let row = db
        .query_one(
            "INSERT INTO user_apitoken (user_id, token_sha256, expires_at) VALUES ($1, $2, $3) \
             RETURNING id",
            &[&user_id, &Redacted(token_sha256), &expires_at],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn api_token_by_digest(
    db: &impl GenericClient,
    token_sha256: &str,
) -> Result<Option<ApiTokenMatch>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT id, user_id, is_active, expires_at FROM user_apitoken WHERE token_sha256 = $1",
            &[&Redacted(token_sha256)],
        )
        .await?;
    Ok(row.map(|r| ApiTokenMatch {
        token_id: r.get(0),
        user_id: r.get(1),
        is_active: r.get(2),
        expires_at: r.get(3),
    }))
}

/// Records use of a token at most once a minute: an UPDATE on every request would queue all
/// requests carrying one token behind that row's lock.
pub async fn touch_api_token(
    db: &impl GenericClient,
    token_id: i64,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE user_apitoken SET last_used_at = now() WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        &[&token_id],
    )
    .await?;
    Ok(())
}

/// Whether the user holds an active token that has not expired.
pub async fn has_live_api_token(
    db: &impl GenericClient,
    user_id: i64,
) -> Result<bool, tokio_postgres::Error> {
    Ok(db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM user_apitoken WHERE user_id = $1 AND is_active \
             AND (expires_at IS NULL OR expires_at > now()))",
            &[&user_id],
        )
        .await?
        .get(0))
}

/// Deactivates every active token of the user except `keep`; returns how many.
pub async fn deactivate_api_tokens(
    db: &impl GenericClient,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "UPDATE user_apitoken SET is_active = false, updated = now() \
         WHERE user_id = $1 AND is_active AND ($2::bigint IS NULL OR id <> $2)",
        &[&user_id, &keep],
    )
    .await
}

pub async fn deactivate_api_token(
    db: &impl GenericClient,
    token_id: i64,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "UPDATE user_apitoken SET is_active = false, updated = now() WHERE id = $1 AND is_active",
            &[&token_id],
        )
        .await?;
    Ok(n == 1)
}

/// Deactivates the token `token_id` of the user `user_id`: `None` when the user has no such
/// token, else whether it was still active.
pub async fn deactivate_user_api_token(
    db: &impl GenericClient,
    user_id: i64,
    token_id: i64,
) -> Result<Option<bool>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "WITH t AS (SELECT id, is_active FROM user_apitoken WHERE id = $1 AND user_id = $2), \
             off AS (UPDATE user_apitoken SET is_active = false, updated = now() \
                     WHERE id IN (SELECT id FROM t WHERE is_active)) \
             SELECT is_active FROM t",
            &[&token_id, &user_id],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Tokens of one user (or of everyone), newest first.
pub async fn list_api_tokens(
    db: &impl GenericClient,
    user_id: Option<i64>,
) -> Result<Vec<ApiTokenInfo>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT t.id, u.username, t.is_active, t.expires_at, t.last_used_at, t.created \
             FROM user_apitoken t JOIN users u ON u.id = t.user_id \
             WHERE $1::bigint IS NULL OR t.user_id = $1 ORDER BY t.id DESC",
            &[&user_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ApiTokenInfo {
            id: r.get(0),
            username: r.get(1),
            is_active: r.get(2),
            expires_at: r.get(3),
            last_used_at: r.get(4),
            created: r.get(5),
        })
        .collect())
}

pub async fn insert_refresh_token(
    db: &impl GenericClient,
    user_id: i64,
    family: Uuid,
    token_sha256: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "INSERT INTO refresh_tokens (user_id, family, token_sha256, expires_at) VALUES ($1, $2, $3, $4)",
        &[&user_id, &family, &Redacted(token_sha256), &expires_at],
    )
    .await?;
    Ok(())
}

/// What became of a refresh token presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshClaim {
    /// Unknown digest.
    Unknown,
    /// Valid, and now marked used: the caller may issue the next token of `family`.
    Claimed {
        user_id: i64,
        family: Uuid,
    },
    /// Already used or revoked: a replay. The family has been revoked.
    Replayed {
        user_id: i64,
        family: Uuid,
    },
    Expired,
}

/// Marks a refresh token used, atomically: of two concurrent refreshes with the same token only
/// one claims it, the other is a replay.
pub async fn claim_refresh_token(
    db: &impl GenericClient,
    token_sha256: &str,
) -> Result<RefreshClaim, tokio_postgres::Error> {
    let claimed = db
        .query_opt(
            "UPDATE refresh_tokens SET used_at = now() \
             WHERE token_sha256 = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now() \
             RETURNING user_id, family",
            &[&Redacted(token_sha256)],
        )
        .await?;
    if let Some(row) = claimed {
        return Ok(RefreshClaim::Claimed {
            user_id: row.get(0),
            family: row.get(1),
        });
    }
    let Some(row) = db
        .query_opt(
            "SELECT user_id, family, used_at IS NOT NULL OR revoked_at IS NOT NULL \
             FROM refresh_tokens WHERE token_sha256 = $1",
            &[&Redacted(token_sha256)],
        )
        .await?
    else {
        return Ok(RefreshClaim::Unknown);
    };
    let (user_id, family, spent): (i64, Uuid, bool) = (row.get(0), row.get(1), row.get(2));
    if spent {
        revoke_refresh_family(db, family).await?;
        Ok(RefreshClaim::Replayed { user_id, family })
    } else {
        Ok(RefreshClaim::Expired)
    }
}

/// Revokes the family of the given token (logout); returns whether the token was known.
pub async fn revoke_refresh_family_of(
    db: &impl GenericClient,
    token_sha256: &str,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE family = \
             (SELECT family FROM refresh_tokens WHERE token_sha256 = $1)",
            &[&Redacted(token_sha256)],
        )
        .await?;
    Ok(n > 0)
}

pub async fn revoke_refresh_family(
    db: &impl GenericClient,
    family: Uuid,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE family = $1",
        &[&family],
    )
    .await?;
    Ok(())
}

/// Ends every JWT session of a user (password change, deactivation).
pub async fn revoke_user_refresh_tokens(
    db: &impl GenericClient,
    user_id: i64,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        &[&user_id],
    )
    .await?;
    Ok(())
}
