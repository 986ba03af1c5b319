//! The one place where failures become HTTP: the JSON error body every 4xx/5xx carries, the
//! [`ApiError`] responses handlers return, and the catch-all that turns poem's own errors
//! (unknown route, bad JSON, oversize body) into the same JSON.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// Error body of every failed request.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
    /// Stable machine-readable code (`validation_failed`, `unauthorized`, `not_found`, …).
    pub code: String,
    /// Per-field problems, when the request itself was at fault; absent otherwise (so not
    /// required by the schema).
    #[oai(default, skip_serializing_if_is_empty)]
    pub details: Vec<FieldError>,
}

/// One bad field of a request.
#[derive(Debug, Clone, PartialEq, Object)]
pub struct FieldError {
    /// JSON path or parameter name, e.g. `dataValues.MAL_CONF` or `period`.
    pub field: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, error: impl Into<String>) -> Self {
        ErrorBody {
            error: error.into(),
            code: code.to_owned(),
            details: Vec::new(),
        }
    }
}

/// Failures a handler can answer with. Each domain's error converts into this.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed or fails validation; `details` names each bad field.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid credentials. A (username, client address) pair locked by too many failed
    /// password logins gets this too, with `Retry-After` (seconds until the lock ends) and the
    /// code `login_locked`, whether the password is right or wrong.
    #[oai(status = 401)]
    Unauthorized(
        Json<ErrorBody>,
        #[oai(header = "WWW-Authenticate")] String,
        #[oai(header = "Retry-After")] Option<u64>,
    ),
    /// Authenticated, but the role does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such object.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request matches the documented schema but breaks a rule the schema cannot state (a
    /// code with no mapping, a period DHIS2 does not have, a combination of fields, a file that
    /// is not the CSV or spreadsheet it claims to be); `details` names each field at fault.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// The request conflicts with the current state (e.g. an idempotency key reused with another body).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is larger than `http.body_limit_bytes`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body's `Content-Type` is not one the operation accepts.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// The request's headers together exceed [`MAX_HEADER_BYTES`].
    #[oai(status = 431)]
    HeadersTooLarge(Json<ErrorBody>),
    /// Unexpected failure; the cause is in the log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A dependency (PostgreSQL, Redis) is down; retry after the given number of seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

/// The most header bytes (names and values together) a request may carry; more is a 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The schemes named in `WWW-Authenticate` on every 401.
pub const WWW_AUTHENTICATE: &str = r#"Basic realm="dhis2gw", Bearer, Token"#;

impl ApiError {
    pub fn bad_request(error: impl Into<String>, details: Vec<FieldError>) -> Self {
        let mut body = ErrorBody::new("validation_failed", error);
        body.details = details;
        ApiError::BadRequest(Json(body))
    }
    /// A schema-valid request refused by a rule of the handler or service (422), with the same
    /// code and `details` as a 400, so a client that reads `code` needs no change.
    pub fn unprocessable(error: impl Into<String>, details: Vec<FieldError>) -> Self {
        let mut body = ErrorBody::new("validation_failed", error);
        body.details = details;
        ApiError::Unprocessable(Json(body))
    }
    pub fn unauthorized(error: impl Into<String>) -> Self {
        ApiError::Unauthorized(
            Json(ErrorBody::new("unauthorized", error)),
            WWW_AUTHENTICATE.to_owned(),
            None,
        )
    }
    pub fn forbidden(error: impl Into<String>) -> Self {
        ApiError::Forbidden(Json(ErrorBody::new("forbidden", error)))
    }
    pub fn not_found(error: impl Into<String>) -> Self {
        ApiError::NotFound(Json(ErrorBody::new("not_found", error)))
    }
    pub fn conflict(error: impl Into<String>) -> Self {
        ApiError::Conflict(Json(ErrorBody::new("conflict", error)))
    }
    /// Logs the cause with its chain and answers a short, safe message.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %error_chain(cause), "request failed");
        ApiError::Internal(Json(ErrorBody::new(
            "internal_error",
            "internal error; the cause is in the dhis2gw log",
        )))
    }
    pub fn unavailable(what: &str, cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::warn!(dependency = what, error = %error_chain(cause), "dependency unavailable");
        ApiError::Unavailable(
            Json(ErrorBody::new(
                "unavailable",
                format!("{what} is unavailable; retry later"),
            )),
            5,
        )
    }
}

/// `outer: inner: innermost`, for logs.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Turns any error poem raises outside a handler's own answer into the JSON error body.
pub async fn json_error(err: poem::Error) -> Response {
    // A handler's own `Err(ApiError)` arrives here already rendered: keep its body and headers.
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    };
    let message = if status.is_server_error() {
        tracing::error!(error = %err, "request failed");
        "internal error; the cause is in the dhis2gw log".to_owned()
    } else {
        err.to_string()
    };
    let mut body = ErrorBody::new(code, message);
    // A query, path or header parameter that breaks its documented schema (type, enum, range,
    // pattern): a 400 naming the parameter, like the handlers' own validation.
    if let Some(param) = err.downcast_ref::<poem_openapi::error::ParseParamError>() {
        body.code = "validation_failed".to_owned();
        body.details = vec![FieldError {
            field: param.name.to_owned(),
            message: param.reason.clone(),
        }];
    }
    // A JSON body that breaks its documented schema: a 400 naming the field where poem's
    // message does (a failed range, length or pattern: "field `password` verification failed").
    if let Some(payload) = err.downcast_ref::<poem_openapi::error::ParseRequestPayloadError>() {
        body.code = "validation_failed".to_owned();
        body.details = payload_field(&payload.reason).into_iter().collect();
    }
    let mut response = Json(body).with_status(status).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            "WWW-Authenticate",
            poem::http::HeaderValue::from_static(WWW_AUTHENTICATE),
        );
    }
    response
}

/// The field a poem body-parsing message names, if it names one: a failed check ("field
/// `password` verification failed. minLength(8)") or a field the body may not have ("unknown
/// field `colour`.").
fn payload_field(reason: &str) -> Option<FieldError> {
    let named = |marker: &str| {
        let rest = reason.split_once(marker)?.1;
        let (field, rest) = rest.split_once('`')?;
        Some((field.to_owned(), rest))
    };
    if let Some((field, _)) = named("unknown field `") {
        return Some(FieldError {
            field,
            message: "is not a field of this body".to_owned(),
        });
    }
    let (field, rest) = named("field `")?;
    let message = rest
        .trim_start()
        .split(" (occurred while parsing")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    Some(FieldError { field, message })
}

/// A handler panicked: log it and answer the same JSON as any internal error.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "request handler panicked");
    Json(ErrorBody::new(
        "internal_error",
        "internal error; the cause is in the dhis2gw log",
    ))
    .with_status(StatusCode::INTERNAL_SERVER_ERROR)
    .into_response()
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(err: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError as E;
        match err {
            // 401, not 429: to the client these credentials are not accepted now (RFC 9110
            // §15.5.2); the same answer whether the password is right or wrong.
            E::Throttled { retry_after_secs } => ApiError::Unauthorized(
                Json(ErrorBody::new("login_locked", err.to_string())),
                WWW_AUTHENTICATE.to_owned(),
                Some(retry_after_secs),
            ),
            E::Forbidden(message) => ApiError::forbidden(message),
            E::NotFound(message) => ApiError::not_found(message),
            E::Conflict(message) => ApiError::conflict(message),
            // The schema states the shapes (lengths, types); what reaches the service and is
            // refused breaks a rule it cannot state (the username's characters, an email
            // address, your own old password).
            E::Invalid(problems) => ApiError::unprocessable(
                "the request is invalid",
                problems
                    .into_iter()
                    .map(|(field, message)| FieldError { field, message })
                    .collect(),
            ),
            E::Database(_) | E::Pool(_) if err.is_unavailable() => {
                ApiError::unavailable("PostgreSQL", &err)
            }
            // "current transaction is aborted": the consequence of a transient fault (such as
            // a statement timeout) earlier in the same transaction, as for submissions.
            E::Database(ref e) if crate::submissions::error::is_connection_error(e) => {
                ApiError::unavailable("PostgreSQL", &err)
            }
            E::Database(_) | E::Pool(_) | E::Internal(_) => ApiError::internal(&err),
            E::MissingCredentials
            | E::MalformedHeader(_)
            | E::UnknownScheme
            | E::BadCredentials
            | E::InvalidToken
            | E::TokenExpired
            | E::RefreshReused
            | E::Inactive => ApiError::unauthorized(err.to_string()),
        }
    }
}

impl From<crate::submissions::SubmissionError> for ApiError {
    fn from(err: crate::submissions::SubmissionError) -> Self {
        use crate::submissions::SubmissionError as E;
        match err {
            E::Invalid(problems) => invalid_submission(problems),
            E::IdempotencyMismatch { .. } => ApiError::conflict(err.to_string()),
            E::Conflict(message) => ApiError::conflict(message),
            E::NotFound(message) => ApiError::not_found(message),
            E::Forbidden(message) => ApiError::forbidden(message),
            _ if err.is_unavailable() => ApiError::unavailable("PostgreSQL", &err),
            E::Unavailable(_) | E::Database(_) | E::Internal(_) => ApiError::internal(&err),
        }
    }
}

/// A submission that fails validation. Any problem that breaks the documented schema makes it
/// a 400, with the original's wording, kept for integrations that match on it; only a request
/// that fits the schema is a 422. A mixed list is a 400 (what the client must fix first is the
/// shape), naming every field all the same: the schema problems first, then the rules.
fn invalid_submission(mut problems: Vec<crate::submissions::Problem>) -> ApiError {
    use crate::submissions::error::Breaks;
    problems.sort_by_key(|p| p.breaks);
    let breaks_schema = problems.first().is_some_and(|p| p.breaks == Breaks::Schema);
    let details = problems
        .into_iter()
        .map(|p| FieldError {
            field: p.field,
            message: p.message,
        })
        .collect();
    if breaks_schema {
        ApiError::bad_request("Request does not match required schema", details)
    } else {
        ApiError::unprocessable("Request matches the schema but cannot be accepted", details)
    }
}

impl From<crate::mappings::MappingError> for ApiError {
    fn from(err: crate::mappings::MappingError) -> Self {
        use crate::mappings::MappingError as E;
        match err {
            E::Invalid(problems) => crate::http::mappings::invalid(problems),
            // A file the schema can only call "binary", or a row or combination of fields it
            // cannot judge: schema-valid, refused by a rule.
            E::InvalidRows(_) => ApiError::unprocessable(err.to_string(), vec![]),
            E::BadFile(_) | E::EmptyFile | E::Refused(_) => {
                ApiError::unprocessable(err.to_string(), vec![])
            }
            E::MetadataNotSynced => ApiError::conflict(err.to_string()),
            E::TooLarge(message) => {
                ApiError::PayloadTooLarge(Json(ErrorBody::new("payload_too_large", message)))
            }
            E::NotFound(_) => ApiError::not_found(err.to_string()),
            E::Conflict(message) => ApiError::conflict(message),
            _ if err.is_unavailable() => ApiError::unavailable("PostgreSQL", &err),
            E::Sync(_) => ApiError::unavailable("DHIS2", &err),
            E::Export(_) | E::Pool(_) | E::Db(_) | E::Task(_) => ApiError::internal(&err),
        }
    }
}

impl From<crate::scheduler::SchedulerError> for ApiError {
    fn from(err: crate::scheduler::SchedulerError) -> Self {
        use crate::scheduler::SchedulerError as E;
        match err {
            E::UnknownJob(_) => ApiError::not_found(err.to_string()),
            E::AlreadyRunning { .. } => ApiError::conflict(err.to_string()),
            E::Pool(_) | E::Db(_) => ApiError::unavailable("PostgreSQL", &err),
        }
    }
}

impl From<crate::notify::NotifyError> for ApiError {
    fn from(err: crate::notify::NotifyError) -> Self {
        use crate::notify::NotifyError as E;
        match err {
            E::Invalid { field, message } => ApiError::unprocessable(
                format!("invalid query: {field}: {message}"),
                vec![FieldError { field, message }],
            ),
            E::NotFound(_) => ApiError::not_found(err.to_string()),
            E::Pool(_) | E::Db(_) => ApiError::unavailable("PostgreSQL", &err),
            E::Directory(_) => ApiError::unavailable("DHIS2", &err),
            E::Queue(_) => ApiError::unavailable("Redis", &err),
            E::Config(_) | E::NotConfigured(_) => ApiError::internal(&err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_field_check_is_named() {
        let named = payload_field(
            "field `password` verification failed. minLength(8) (occurred while parsing \"CreateUserBody\")",
        )
        .expect("a field");
        assert_eq!(named.field, "password");
        assert_eq!(named.message, "verification failed. minLength(8)");
        let unknown = payload_field(
            "failed to parse \"AlertRuleBody\": unknown field `colour`. (occurred while parsing \"AlertRuleBody\")",
        )
        .expect("a field");
        assert_eq!(
            (unknown.field.as_str(), unknown.message.as_str()),
            ("colour", "is not a field of this body")
        );
        assert_eq!(
            payload_field("Expected input type \"string\", found false"),
            None
        );
    }
}
