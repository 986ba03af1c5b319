//! Sessions of the browser console (`console_sessions`): created at login, looked up by the
//! SHA-256 digest of the cookie's token on every request, deleted at logout. Expired rows are
//! refused on lookup and swept at the next login.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use crate::db::redacted::Redacted;

/// A live session found by its token's digest.
#[derive(Debug, Clone)]
pub struct ConsoleSessionRow {
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(
    db: &impl GenericClient,
    user_id: i64,
    token_sha256: &str,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), tokio_postgres::Error> {
    // Sweep what has expired, so the table stays the size of the live sessions.
    db.execute(
        "DELETE FROM console_sessions WHERE expires_at <= now()",
        &[],
    )
    .await?;
    db.execute(
        "INSERT INTO console_sessions (user_id, token_sha256, csrf_token, expires_at) \
         VALUES ($1, $2, $3, $4)",
        &[
            &user_id,
            &Redacted(token_sha256),
            &Redacted(csrf_token),
            &expires_at,
        ],
    )
    .await?;
    Ok(())
}

/// The unexpired session with this digest.
pub async fn live_by_digest(
    db: &impl GenericClient,
    token_sha256: &str,
) -> Result<Option<ConsoleSessionRow>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT user_id, csrf_token, expires_at FROM console_sessions \
             WHERE token_sha256 = $1 AND expires_at > now()",
            &[&Redacted(token_sha256)],
        )
        .await?;
    Ok(row.map(|r| ConsoleSessionRow {
        user_id: r.get(0),
        csrf_token: r.get(1),
        expires_at: r.get(2),
    }))
}

/// Deletes the session; false when there was none.
pub async fn delete_by_digest(
    db: &impl GenericClient,
    token_sha256: &str,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "DELETE FROM console_sessions WHERE token_sha256 = $1",
            &[&Redacted(token_sha256)],
        )
        .await?;
    Ok(n == 1)
}

/// Ends every console session of a user (its password changed); returns how many.
pub async fn delete_for_user(
    db: &impl GenericClient,
    user_id: i64,
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "DELETE FROM console_sessions WHERE user_id = $1",
        &[&user_id],
    )
    .await
}
