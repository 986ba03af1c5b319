//! The `users` table: rows, lookups, the filtered page of the users API and writes. Failed
//! logins are counted in `login_throttle` ([`crate::db::login_throttle`]).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::db::redacted::Redacted;

/// Every column but the password hash, in the order `UserRow::from_row` reads them.
const COLUMNS: &str = "id, uid, username, firstname, lastname, email, telephone, role, \
    is_active, last_login, created, updated";

/// One user, without the password hash (that is read only by [`password_hash`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub uid: String,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub email: Option<String>,
    pub telephone: String,
    /// `admin`, `submitter` or `viewer` (a CHECK constraint keeps it so).
    pub role: String,
    pub is_active: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl UserRow {
    fn from_row(row: &Row) -> UserRow {
        UserRow {
            id: row.get(0),
            uid: row.get(1),
            username: row.get(2),
            firstname: row.get(3),
            lastname: row.get(4),
            email: row.get(5),
            telephone: row.get(6),
            role: row.get(7),
            is_active: row.get(8),
            last_login: row.get(9),
            created: row.get(10),
            updated: row.get(11),
        }
    }
}

/// The fields of a new user; `password_hash` is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub firstname: String,
    pub lastname: String,
    pub email: Option<String>,
    pub telephone: String,
    pub role: String,
    pub is_active: bool,
}

/// Fields to change; `None` leaves the column as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    /// `Some(None)` clears the email.
    pub email: Option<Option<String>>,
    pub telephone: Option<String>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

/// Filters of `GET /api/v2/users`; every `Some` must match.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub uid: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub is_active: Option<bool>,
    pub role: Option<String>,
}

pub async fn insert(
    db: &impl GenericClient,
    user: &NewUser,
) -> Result<UserRow, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO users (username, password, firstname, lastname, email, telephone, role, is_active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    );
    let row = db
        .query_one(
            &sql,
            &[
                &user.username,
                &Redacted(&user.password_hash),
                &user.firstname,
                &user.lastname,
                &user.email,
                &user.telephone,
                &user.role,
                &user.is_active,
            ],
        )
        .await?;
    Ok(UserRow::from_row(&row))
}

/// The user whose `column` equals `value`. Prepared once per connection: this runs on every
/// authenticated request.
async fn one_where(
    db: &impl GenericClient,
    column: &'static str,
    value: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Option<UserRow>, tokio_postgres::Error> {
    let statement = db
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE {column} = $1"))
        .await?;
    Ok(db
        .query_opt(&statement, &[value])
        .await?
        .as_ref()
        .map(UserRow::from_row))
}

pub async fn by_id(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<UserRow>, tokio_postgres::Error> {
    one_where(db, "id", &id).await
}

pub async fn by_uid(
    db: &impl GenericClient,
    uid: &str,
) -> Result<Option<UserRow>, tokio_postgres::Error> {
    one_where(db, "uid", &uid).await
}

pub async fn by_username(
    db: &impl GenericClient,
    username: &str,
) -> Result<Option<UserRow>, tokio_postgres::Error> {
    one_where(db, "username", &username).await
}

/// The stored hash (argon2id PHC string or a legacy bcrypt hash) of a user.
pub async fn password_hash(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<String>, tokio_postgres::Error> {
    Ok(db
        .query_opt("SELECT password FROM users WHERE id = $1", &[&id])
        .await?
        .map(|r| r.get(0)))
}

pub async fn set_password_hash(
    db: &impl GenericClient,
    id: i64,
    hash: &str,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "UPDATE users SET password = $2, updated = now() WHERE id = $1",
            &[&id, &Redacted(hash)],
        )
        .await?;
    Ok(n == 1)
}

pub async fn count(db: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    Ok(db
        .query_one("SELECT count(*) FROM users", &[])
        .await?
        .get(0))
}

/// Applies the given changes; `None` when no user has that id.
pub async fn update(
    db: &impl GenericClient,
    id: i64,
    changes: &UserChanges,
) -> Result<Option<UserRow>, tokio_postgres::Error> {
    let email_given = changes.email.is_some();
    let email = changes.email.clone().flatten();
    let sql = format!(
        "UPDATE users SET \
           username = COALESCE($2, username), firstname = COALESCE($3, firstname), \
           lastname = COALESCE($4, lastname), \
           email = CASE WHEN $5 THEN $6 ELSE email END, \
           telephone = COALESCE($7, telephone), role = COALESCE($8, role), \
           is_active = COALESCE($9, is_active), updated = now() \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let row = db
        .query_opt(
            &sql,
            &[
                &id,
                &changes.username,
                &changes.firstname,
                &changes.lastname,
                &email_given,
                &email,
                &changes.telephone,
                &changes.role,
                &changes.is_active,
            ],
        )
        .await?;
    Ok(row.as_ref().map(UserRow::from_row))
}

/// One page of users matching `filter`, newest first, and the total count of matches.
pub async fn page(
    db: &impl GenericClient,
    filter: &UserFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), tokio_postgres::Error> {
    let mut clauses = Vec::new();
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    if let Some(v) = &filter.uid {
        params.push(v);
        clauses.push(format!("uid = ${}", params.len()));
    }
    if let Some(v) = &filter.username {
        params.push(v);
        clauses.push(format!("username = ${}", params.len()));
    }
    if let Some(v) = &filter.email {
        params.push(v);
        clauses.push(format!("lower(email) = lower(${})", params.len()));
    }
    if let Some(v) = &filter.is_active {
        params.push(v);
        clauses.push(format!("is_active = ${}", params.len()));
    }
    if let Some(v) = &filter.role {
        params.push(v);
        clauses.push(format!("role = ${}", params.len()));
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let total: i64 = db
        .query_one(&format!("SELECT count(*) FROM users {filter_sql}"), &params)
        .await?
        .get(0);
    params.push(&limit);
    let limit_at = params.len();
    params.push(&offset);
    let offset_at = params.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM users {filter_sql} ORDER BY created DESC, id DESC \
         LIMIT ${limit_at} OFFSET ${offset_at}"
    );
    let rows = db.query(&sql, &params).await?;
    Ok((rows.iter().map(UserRow::from_row).collect(), total))
}

/// Every user, oldest first (for `dhis2gw user list`).
pub async fn all(db: &impl GenericClient) -> Result<Vec<UserRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY id");
    Ok(db
        .query(&sql, &[])
        .await?
        .iter()
        .map(UserRow::from_row)
        .collect())
}

/// A successful password login: records the time.
pub async fn record_login(db: &impl GenericClient, id: i64) -> Result<(), tokio_postgres::Error> {
    db.execute("UPDATE users SET last_login = now() WHERE id = $1", &[&id])
        .await?;
    Ok(())
}
