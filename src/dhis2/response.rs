//! Reading any DHIS2 (or proxy) answer beyond its body's kind (`body.rs`): lenient JSON field
//! access, the `Retry-After` header, and the error a status means when the body is not an import
//! result.

use std::time::Duration;

use serde_json::Value;

use super::body::{body_kind, message_of};
use super::error::Dhis2Error;

/// The error a status means when the body carries no import result. 2xx never reaches here with
/// a good body; it means the body was not what the call expects.
pub(crate) fn error_for_status(
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    expected: &str,
) -> Dhis2Error {
    let body_owned = || body.to_owned();
    match status {
        401 | 403 => Dhis2Error::Unauthorized {
            status,
            message: message_of(body).unwrap_or_else(|| reason_phrase(status).to_owned()),
            body: body_owned(),
        },
        404 => Dhis2Error::NotFound { body: body_owned() },
        429 => Dhis2Error::TooManyRequests {
            retry_after,
            body: body_owned(),
        },
        500..=599 => Dhis2Error::Server {
            status,
            body: body_owned(),
        },
        300..=499 => Dhis2Error::Client {
            status,
            body: body_owned(),
        },
        _ => Dhis2Error::Unparsable {
            status,
            body: body_owned(),
            reason: format!("expected {expected}, got {}", body_kind(body)),
        },
    }
}

/// Statuses that are failures whatever the body says: DHIS2 never puts an import result in them.
pub(crate) fn is_failure_status(status: u16) -> bool {
    matches!(status, 300..=399 | 401 | 403 | 404 | 408 | 429 | 500..=599)
        || !(100..=599).contains(&status)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "refused",
    }
}

/// `Retry-After`: delay-seconds, or an HTTP date (RFC 9110 §10.2.3), relative to `now`.
pub(crate) fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// A count field that DHIS2 writes as a number; tolerate strings and missing keys.
pub(crate) fn count(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// A field that should be a string; numbers and booleans are written as their JSON text.
pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other @ (Value::Number(_) | Value::Bool(_)) => Some(other.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A string field compared case-insensitively (`"SUCCESS"`, `"Success"`).
pub(crate) fn upper(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn retry_after_seconds_and_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn counts_are_lenient() {
        let v: Value = serde_json::json!({"a": 3, "b": "4", "c": -1, "d": null, "e": 2.0});
        assert_eq!(count(v.get("a")), 3);
        assert_eq!(count(v.get("b")), 4);
        assert_eq!(count(v.get("c")), 0);
        assert_eq!(count(v.get("d")), 0);
        assert_eq!(count(v.get("e")), 2);
        assert_eq!(count(v.get("missing")), 0);
    }
}
