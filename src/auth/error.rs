//! [`AuthError`]: every way authentication, authorization and account management can fail.
//! The HTTP edge maps it in `http/error.rs`; the CLI prints it.

/// One error for the whole auth domain. Messages are safe to show a client: they never contain
/// a password, hash or token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required")]
    MissingCredentials,
    /// The `Authorization` header is present but cannot be parsed.
    #[error("malformed Authorization header: {0}")]
    MalformedHeader(&'static str),
    #[error("unsupported authorization scheme; use Basic, Bearer or Token")]
    UnknownScheme,
    #[error("invalid username or password")]
    BadCredentials,
    #[error("invalid or revoked token")]
    InvalidToken,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the refresh token was already used; every session of that login has been revoked")]
    RefreshReused,
    #[error("the account is deactivated")]
    Inactive,
    /// Too many failed logins for this username from this client address.
    #[error("too many failed logins; retry in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The request is invalid; one `(field, message)` per problem.
    #[error("invalid request")]
    Invalid(Vec<(String, String)>),
    #[error("database error")]
    Database(#[from] tokio_postgres::Error),
    #[error("database unavailable")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AuthError {
        AuthError::Invalid(vec![(field.to_owned(), message.into())])
    }

    /// Whether the failure is the database being unreachable rather than a bad query.
    pub fn is_unavailable(&self) -> bool {
        match self {
            AuthError::Pool(_) => true,
            // A closed connection, an I/O error, or PostgreSQL going away or short of
            // resources (SQLSTATE class 08 connection exception, 57 operator intervention, a
            // statement timeout included, 53 insufficient resources): 503, as for submissions.
            AuthError::Database(e) => {
                e.is_closed()
                    || match e.code() {
                        Some(code) => matches!(&code.code()[..2], "08" | "57" | "53"),
                        None => e.as_db_error().is_none(),
                    }
            }
            _ => false,
        }
    }
}

/// `Err(Conflict)` for a unique violation (username taken), else the database error.
pub(crate) fn conflict_on_unique(err: tokio_postgres::Error, message: &str) -> AuthError {
    if err.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        AuthError::Conflict(message.to_owned())
    } else {
        AuthError::Database(err)
    }
}
