//! First start: when there is no user at all, create `admin` so someone can log in. No default
//! password ships: it comes from `auth.initial_admin_password(_file)` or is generated and
//! printed once to the log.

use deadpool_postgres::Pool;

use crate::auth::{AuthError, Role, password, secret};
use crate::config::AuthSettings;
use crate::db::users::{self, NewUser};

/// Key of the transaction advisory lock that makes two instances starting together create the
/// admin once.
const BOOTSTRAP_LOCK: i64 = 0x6468_6973_3267_7702;

pub const ADMIN_USERNAME: &str = "admin";

/// Creates the first admin when the users table is empty; returns whether it did.
pub async fn ensure_admin(pool: &Pool, settings: &AuthSettings) -> Result<bool, AuthError> {
    let mut db = crate::db::TxConn::new(pool.get().await?);
    let tx = db.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&BOOTSTRAP_LOCK])
        .await?;
    if users::count(&tx).await? > 0 {
        return Ok(false);
    }
    let configured = !settings.initial_admin_password.is_empty();
    let pw = if configured {
        settings.initial_admin_password.clone()
    } else {
        secret::new_password(20)
    };
    let hash = password::hash_blocking(pw.clone()).await?;
    let user = users::insert(
        &tx,
        &NewUser {
            username: ADMIN_USERNAME.to_owned(),
            password_hash: hash,
            firstname: "Administrator".to_owned(),
            lastname: String::new(),
            email: None,
            telephone: String::new(),
            role: Role::Admin.as_str().to_owned(),
            is_active: true,
        },
    )
    .await?;
    tx.commit().await?;
    db.transaction_ended();
    if configured {
        tracing::warn!(
            user_uid = %user.uid,
            "created the first admin user 'admin' with the password from auth.initial_admin_password"
        );
    } else {
        // The one log line that carries a secret, by design: there is no other way to hand
        // the first password to the operator without shipping a default.
        tracing::warn!(
            user_uid = %user.uid,
            "INITIAL ADMIN PASSWORD (shown only this once): user 'admin' password '{pw}' — \
             change it with `dhis2gw user passwd admin` or POST /api/v2/users/{}/password",
            user.uid
        );
    }
    Ok(true)
}
