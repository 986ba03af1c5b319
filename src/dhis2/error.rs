//! The one error type of the DHIS2 domain: every way a call to DHIS2 can fail before it yields an
//! import outcome, classified so the queue can decide between "retry later" and "record and stop".

use std::time::Duration;

use super::body::detail_of;

/// A DHIS2 call that did not produce an [`ImportOutcome`](super::ImportOutcome) (or JSON, for
/// reads). A 200/409 that carries an ImportSummary or ImportReport is *not* an error, whatever its
/// status: it is an outcome to record.
///
/// `body` fields hold exactly what DHIS2 (or the proxy in front of it) sent, for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dhis2Error {
    /// Connection refused/reset/dropped, DNS or TLS failure: no HTTP answer was read.
    #[error("cannot reach DHIS2: {0}")]
    Transport(String),
    /// Connect or request timeout (`api.dhis2_connect_timeout_secs`, `api.dhis2_timeout_secs`),
    /// or an async tracker job that did not finish within its wait.
    #[error("DHIS2 did not answer in time")]
    Timeout,
    /// HTTP 5xx: DHIS2 itself, or a proxy page (502/503/504) in front of it.
    #[error("DHIS2 answered HTTP {status}{}", detail_of(.body))]
    Server { status: u16, body: String },
    /// HTTP 429; `retry_after` from the `Retry-After` header (seconds or HTTP date).
    #[error("DHIS2 asks to slow down (HTTP 429){}", detail_of(.body))]
    TooManyRequests {
        retry_after: Option<Duration>,
        body: String,
    },
    /// HTTP 401/403 (and a redirect to the login page): wrong or missing credentials, expired
    /// token, or a user without the needed authority. `message` is DHIS2's WebMessage message, or
    /// the title of an HTML page.
    #[error("{} (HTTP {status}): {message}", if *.status == 403 { "DHIS2 denied access" } else { "DHIS2 refused the credentials" })]
    Unauthorized {
        status: u16,
        message: String,
        body: String,
    },
    /// HTTP 404: wrong base URL, or an object/job that does not exist.
    #[error("DHIS2 answered 404 Not Found{}", detail_of(.body))]
    NotFound { body: String },
    /// Any other 3xx/4xx that carries no import summary (400 bad JSON, 409 WebMessage, 413, ...).
    #[error("DHIS2 rejected the request (HTTP {status}){}", detail_of(.body))]
    Client { status: u16, body: String },
    /// A 2xx (or an unexpected status) whose body is not the JSON this call expects: empty, an
    /// HTML page, truncated JSON, another shape.
    #[error("unreadable DHIS2 answer (HTTP {status}): {reason}")]
    Unparsable {
        status: u16,
        body: String,
        reason: String,
    },
    /// The DHIS2 settings cannot make a client (bad URL, missing credentials).
    #[error("invalid DHIS2 settings: {0}")]
    InvalidConfig(String),
}

impl Dhis2Error {
    /// Whether the same request may succeed later: transport failures, timeouts, 5xx, 429, and
    /// 408 (a proxy's request timeout). Everything else needs a person (credentials, payload).
    pub fn is_retryable(&self) -> bool {
        match self {
            Dhis2Error::Transport(_)
            | Dhis2Error::Timeout
            | Dhis2Error::Server { .. }
            | Dhis2Error::TooManyRequests { .. } => true,
            Dhis2Error::Client { status, .. } => *status == 408,
            Dhis2Error::Unauthorized { .. }
            | Dhis2Error::NotFound { .. }
            | Dhis2Error::Unparsable { .. }
            | Dhis2Error::InvalidConfig(_) => false,
        }
    }

    /// The HTTP status DHIS2 answered with, when it answered at all.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Dhis2Error::Server { status, .. }
            | Dhis2Error::Unauthorized { status, .. }
            | Dhis2Error::Client { status, .. }
            | Dhis2Error::Unparsable { status, .. } => Some(*status),
            Dhis2Error::TooManyRequests { .. } => Some(429),
            Dhis2Error::NotFound { .. } => Some(404),
            Dhis2Error::Transport(_) | Dhis2Error::Timeout | Dhis2Error::InvalidConfig(_) => None,
        }
    }

    /// The body DHIS2 answered with, exactly as received, when it answered at all.
    pub fn raw_body(&self) -> Option<&str> {
        match self {
            Dhis2Error::Server { body, .. }
            | Dhis2Error::TooManyRequests { body, .. }
            | Dhis2Error::Unauthorized { body, .. }
            | Dhis2Error::NotFound { body }
            | Dhis2Error::Client { body, .. }
            | Dhis2Error::Unparsable { body, .. } => Some(body),
            Dhis2Error::Transport(_) | Dhis2Error::Timeout | Dhis2Error::InvalidConfig(_) => None,
        }
    }

    /// The wait DHIS2 asked for (429 `Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Dhis2Error::TooManyRequests { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_classes() {
        let body = String::new;
        assert!(Dhis2Error::Transport("reset".into()).is_retryable());
        assert!(Dhis2Error::Timeout.is_retryable());
        assert!(
            Dhis2Error::Server {
                status: 502,
                body: body()
            }
            .is_retryable()
        );
        assert!(
            Dhis2Error::TooManyRequests {
                retry_after: None,
                body: body()
            }
            .is_retryable()
        );
        assert!(
            Dhis2Error::Client {
                status: 408,
                body: body()
            }
            .is_retryable()
        );
        assert!(
            !Dhis2Error::Client {
                status: 400,
                body: body()
            }
            .is_retryable()
        );
        assert!(
            !Dhis2Error::Unauthorized {
                status: 401,
                message: "Unauthorized".into(),
                body: body()
            }
            .is_retryable()
        );
        assert!(!Dhis2Error::NotFound { body: body() }.is_retryable());
        assert!(
            !Dhis2Error::Unparsable {
                status: 200,
                body: body(),
                reason: "x".into()
            }
            .is_retryable()
        );
        assert!(!Dhis2Error::InvalidConfig("x".into()).is_retryable());
    }

    #[test]
    fn status_and_body_accessors() {
        let e = Dhis2Error::NotFound {
            body: "{\"x\":1}".into(),
        };
        assert_eq!(e.http_status(), Some(404));
        assert_eq!(e.raw_body(), Some("{\"x\":1}"));
        assert_eq!(Dhis2Error::Timeout.http_status(), None);
        assert_eq!(Dhis2Error::Timeout.raw_body(), None);
        let e = Dhis2Error::TooManyRequests {
            retry_after: Some(Duration::from_secs(3)),
            body: String::new(),
        };
        assert_eq!(e.http_status(), Some(429));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn display_carries_dhis2_message() {
        let e = Dhis2Error::Client {
            status: 400,
            body: r#"{"httpStatus":"Bad Request","httpStatusCode":400,"status":"ERROR","message":"Checksum validation failed"}"#.into(),
        };
        assert_eq!(
            e.to_string(),
            "DHIS2 rejected the request (HTTP 400): Checksum validation failed"
        );
        let e = Dhis2Error::Server {
            status: 502,
            body: "<html><head><title>502 Bad Gateway</title></head></html>".into(),
        };
        assert_eq!(e.to_string(), "DHIS2 answered HTTP 502: 502 Bad Gateway");
        let e = Dhis2Error::Unauthorized {
            status: 403,
            message: "Access is denied".into(),
            body: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "DHIS2 denied access (HTTP 403): Access is denied"
        );
        let e = Dhis2Error::Unauthorized {
            status: 401,
            message: "Unauthorized".into(),
            body: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "DHIS2 refused the credentials (HTTP 401): Unauthorized"
        );
    }
}
