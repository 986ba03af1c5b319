//! The `login_throttle` table: failed password logins counted per (username, client address)
//! together. The only SQL of the login throttle; the policy (delays, lock) is in
//! [`crate::auth::login_throttle`].

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

/// What the table says of one (username, address) before an attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Failures in the current window (0 when the last one is older than the window).
    pub failures: i32,
    /// The end of a lock still in force.
    pub locked_until: Option<DateTime<Utc>>,
    /// Whether a row exists (a success deletes it).
    pub recorded: bool,
}

/// A failure just counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub failures: i32,
    /// Set when this failure reached the limit.
    pub locked_until: Option<DateTime<Utc>>,
    /// Whether this was the first failure recorded for the pair (a new row).
    pub new_row: bool,
}

/// The standing of `(username, ip)`. Prepared once per connection: it runs on every password
/// login, and Basic credentials log in on every request.
pub async fn standing(
    db: &impl GenericClient,
    username: &str,
    ip: &str,
    window_secs: f64,
) -> Result<Standing, tokio_postgres::Error> {
    let statement = db
        .prepare_cached(
            "SELECT CASE WHEN last_failed_at < now() - make_interval(secs => $3) THEN 0 \
                    ELSE failures END, \
                    CASE WHEN locked_until > now() THEN locked_until END \
             FROM login_throttle WHERE username = $1 AND ip = $2",
        )
        .await?;
    Ok(db
        .query_opt(&statement, &[&username, &ip, &window_secs])
        .await?
        .map(|row| Standing {
            failures: row.get(0),
            locked_until: row.get(1),
            recorded: true,
        })
        .unwrap_or_default())
}

/// Counts one failure of `(username, ip)`, restarting the count when the last failure is older
/// than the window, and locks the pair for `window_secs` when the count reaches
/// `max_failures`. One statement, so concurrent failures are all counted.
pub async fn record_failure(
    db: &impl GenericClient,
    username: &str,
    ip: &str,
    max_failures: i32,
    window_secs: f64,
) -> Result<Counted, tokio_postgres::Error> {
    let row = db
        .query_one(
            "INSERT INTO login_throttle AS t (username, ip, failures, last_failed_at, locked_until) \
             VALUES ($1, $2, 1, now(), \
                     CASE WHEN 1 >= $3 THEN now() + make_interval(secs => $4) END) \
             ON CONFLICT (username, ip) DO UPDATE SET \
               failures = CASE WHEN t.last_failed_at < now() - make_interval(secs => $4) \
                          THEN 1 ELSE t.failures + 1 END, \
               last_failed_at = now(), \
               locked_until = CASE \
                 WHEN (CASE WHEN t.last_failed_at < now() - make_interval(secs => $4) \
                       THEN 1 ELSE t.failures + 1 END) >= $3 \
                 THEN now() + make_interval(secs => $4) END \
             RETURNING failures, locked_until, xmax = 0",
            &[&username, &ip, &max_failures, &window_secs],
        )
        .await?;
    Ok(Counted {
        failures: row.get(0),
        locked_until: row.get(1),
        new_row: row.get(2),
    })
}

/// A successful login of `(username, ip)`: its failures are forgotten.
pub async fn forget(
    db: &impl GenericClient,
    username: &str,
    ip: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "DELETE FROM login_throttle WHERE username = $1 AND ip = $2",
        &[&username, &ip],
    )
    .await?;
    Ok(())
}

/// Forgets the failures and lifts the locks of a user from every address (`dhis2gw user
/// unlock`, a password change).
pub async fn forget_user(
    db: &impl GenericClient,
    user_id: i64,
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "DELETE FROM login_throttle WHERE username = (SELECT username FROM users WHERE id = $1)",
        &[&user_id],
    )
    .await
}

/// The usernames locked from at least one address now.
pub async fn locked_usernames(
    db: &impl GenericClient,
) -> Result<Vec<String>, tokio_postgres::Error> {
    Ok(db
        .query(
            "SELECT DISTINCT username FROM login_throttle WHERE locked_until > now()",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Deletes the rows whose failures are older than the window and whose lock has ended: they
/// would count for nothing.
pub async fn purge_stale(
    db: &impl GenericClient,
    window_secs: f64,
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "DELETE FROM login_throttle WHERE last_failed_at < now() - make_interval(secs => $1) \
         AND (locked_until IS NULL OR locked_until < now())",
        &[&window_secs],
    )
    .await
}
