//! The one error type of the submission pipeline, as handlers and the CLI see it.

/// One bad field of a submission: a JSON path (`dataValues.MAL_CONF`, `trackedEntities[0].orgUnit`)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
    pub breaks: Breaks,
}

/// What a [`Problem`] breaks, which decides the answer: the request's documented OpenAPI schema
/// (type, required, length, pattern, …: 400), or a rule the schema cannot state (a code with no
/// mapping, a period the calendar does not have, a field required only when another is absent:
/// 422). A client that sends only what the schema allows never gets a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Breaks {
    Schema,
    Rule,
}

impl Problem {
    /// A problem the request's OpenAPI schema states (a 400).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            message: message.into(),
            breaks: Breaks::Schema,
        }
    }

    /// A problem with a schema-valid request: a rule the schema cannot state (a 422).
    pub fn rule(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            breaks: Breaks::Rule,
            ..Problem::new(field, message)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// The request fails validation; every bad field is listed. A 400 when any problem breaks
    /// the schema, a 422 when all are rules ([`Breaks`]).
    #[error("the submission is invalid")]
    Invalid(Vec<Problem>),
    /// The idempotency key was used before with a different body.
    #[error(
        "Idempotency-Key {key:?} was already used with a different request body (submission {submission_id})"
    )]
    IdempotencyMismatch { key: String, submission_id: i64 },
    #[error("{0}")]
    NotFound(String),
    /// The request is sound but the submission's state refuses it (one asked to be requeued
    /// that has no payload to send).
    #[error("{0}")]
    Conflict(String),
    /// A submitter acting on another user's submission.
    #[error("{0}")]
    Forbidden(String),
    /// PostgreSQL cannot be reached (pool timeout, connection refused, shutdown).
    #[error("PostgreSQL is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl SubmissionError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> SubmissionError {
        SubmissionError::Invalid(vec![Problem::new(field, message)])
    }

    /// Whether the failure is a dependency being down (503) rather than a bug (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            SubmissionError::Unavailable(_) => true,
            SubmissionError::Database(e) => is_connection_error(e),
            _ => false,
        }
    }
}

/// A database error that means "PostgreSQL is away" (closed connection, admin shutdown, cannot
/// connect) rather than "this statement is wrong".
pub fn is_connection_error(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let class = &code.code()[..2];
            // 08 connection exception, 57 operator intervention (admin/crash shutdown, a
            // statement timeout), 53 insufficient resources (too many connections), and 25P02
            // "current transaction is aborted": a statement after one of those in the same
            // transaction (the cause itself is reported where it is seen).
            matches!(class, "08" | "57" | "53") || code.code() == "25P02"
        }
        // No SQLSTATE: an I/O or protocol error on the connection.
        None => true,
    }
}

impl From<deadpool_postgres::PoolError> for SubmissionError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) if !is_connection_error(&e) => {
                SubmissionError::Database(e)
            }
            other => {
                crate::metrics::postgres_error();
                SubmissionError::Unavailable(other.to_string())
            }
        }
    }
}

impl crate::group_commit::BatchError for SubmissionError {
    /// Every caller of a failed batch gets the message; "unavailable" stays recognisable so
    /// that callers wait out an outage instead of treating it as a bug.
    fn for_caller(&self) -> Self {
        match self {
            SubmissionError::Unavailable(message) => SubmissionError::Unavailable(message.clone()),
            other if other.is_unavailable() => SubmissionError::Unavailable(other.to_string()),
            other => SubmissionError::Internal(other.to_string()),
        }
    }
    fn wrong_count(inputs: usize, outputs: usize) -> Self {
        SubmissionError::Internal(format!("a batch of {inputs} gave {outputs} answers"))
    }
    fn stopped() -> Self {
        SubmissionError::Internal("the group-commit task stopped".into())
    }
}
