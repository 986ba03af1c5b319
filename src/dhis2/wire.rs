//! One HTTP exchange with DHIS2: the credentials header, sending, reading the whole body, and the
//! answers decided by headers rather than body (a redirect's `Location`, a 429's `Retry-After`).

use reqwest::header::{self, HeaderValue};

use super::error::Dhis2Error;
use super::response::{error_for_status, parse_retry_after};
use crate::config::{ApiSettings, Dhis2AuthMethod};

/// `Authorization` for `api.dhis2_auth_method`: `Basic base64(user:password)` or
/// `ApiToken <pat>`. Marked sensitive so it never shows in `Debug` output.
pub(crate) fn authorization(api: &ApiSettings) -> Result<HeaderValue, Dhis2Error> {
    use base64::Engine as _;
    let value = match api.dhis2_auth_method {
        Dhis2AuthMethod::Basic => {
            if api.dhis2_user.trim().is_empty() {
                return Err(Dhis2Error::InvalidConfig(
                    "api.dhis2_user is empty (api.dhis2_auth_method is basic)".into(),
                ));
            }
            let pair = format!("{}:{}", api.dhis2_user, api.dhis2_password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
        Dhis2AuthMethod::Pat => {
            let token = api.dhis2_pat.trim();
            if token.is_empty() {
                return Err(Dhis2Error::InvalidConfig(
                    "api.dhis2_pat is empty (api.dhis2_auth_method is pat)".into(),
                ));
            }
            format!("ApiToken {token}")
        }
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        // Never echo the value: it is a secret.
        Dhis2Error::InvalidConfig(
            "the DHIS2 credentials contain characters not allowed in an HTTP header".into(),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Sends a request and reads the whole body (lossy UTF-8: DHIS2 always sends UTF-8, a proxy may
/// not). Statuses that mean failure whatever the body (redirects, 429 with its `Retry-After`)
/// become errors here, where the headers are; every other status goes to the body parsers.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> Result<(u16, String), Dhis2Error> {
    let started = std::time::Instant::now();
    let response = request.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    let header_text = |name: header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after =
        header_text(header::RETRY_AFTER).and_then(|v| parse_retry_after(&v, chrono::Utc::now()));
    let location = header_text(header::LOCATION);
    let bytes = response.bytes().await.map_err(transport_error)?;
    let size = bytes.len();
    let body = body_text(Vec::from(bytes));
    tracing::debug!(
        status,
        bytes = size,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "DHIS2 answered"
    );
    match status {
        429 => Err(error_for_status(status, &body, retry_after, "")),
        300..=399 => Err(redirect_error(status, location.as_deref(), body)),
        _ => Ok((status, body)),
    }
}

/// The body as text: kept as is when it is UTF-8 (DHIS2 always sends UTF-8), invalid bytes
/// replaced by U+FFFD otherwise (a proxy's error page in Latin-1, say), so it can still be logged.
fn body_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(not_utf8) => String::from_utf8_lossy(not_utf8.as_bytes()).into_owned(),
    }
}

/// A redirect to DHIS2's login page (2.38–2.40 `/dhis-web-commons/security/login.action`, 2.41
/// `/dhis-web-login`) means the credentials were not accepted; any other redirect is a base URL
/// that needs fixing (`http://` → `https://`, another host or context path). Redirects are never
/// followed: a redirected POST would turn into a GET and lose its payload.
pub(crate) fn redirect_error(status: u16, location: Option<&str>, body: String) -> Dhis2Error {
    let location = location.unwrap_or("");
    if location.contains("login") {
        Dhis2Error::Unauthorized {
            status,
            message: format!("redirected to the login page ({location})"),
            body,
        }
    } else {
        tracing::warn!(
            status,
            location,
            "DHIS2 redirects: set api.dhis2_base_url to the final URL"
        );
        Dhis2Error::Client { status, body }
    }
}

fn transport_error(e: reqwest::Error) -> Dhis2Error {
    if e.is_timeout() {
        return Dhis2Error::Timeout;
    }
    // The whole cause chain: reqwest's own text is only "error sending request".
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    Dhis2Error::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn api(method: Dhis2AuthMethod, user: &str, password: &str, pat: &str) -> ApiSettings {
        let mut api = Settings::defaults().api;
        api.dhis2_auth_method = method;
        api.dhis2_user = user.into();
        api.dhis2_password = password.into();
        api.dhis2_pat = pat.into();
        api
    }

    #[test]
    fn basic_and_pat_headers() {
        let basic = authorization(&api(Dhis2AuthMethod::Basic, "admin", "district", "")).unwrap();
        assert_eq!(basic.to_str().unwrap(), "Basic YWRtaW46ZGlzdHJpY3Q=");
        assert!(basic.is_sensitive());
        assert!(!format!("{basic:?}").contains("YWRt"));
        let pat = authorization(&api(Dhis2AuthMethod::Pat, "", "", " d2p_abc== ")).unwrap();
        assert_eq!(pat.to_str().unwrap(), "ApiToken d2p_abc==");
        // A password with non-ASCII characters is fine: it is base64-encoded.
        assert!(authorization(&api(Dhis2AuthMethod::Basic, "amina", "ñandú€", "")).is_ok());
    }

    #[test]
    fn missing_or_unsendable_credentials_are_config_errors() {
        let cases = [
            api(Dhis2AuthMethod::Basic, " ", "x", "d2pat_x"),
            api(Dhis2AuthMethod::Pat, "admin", "district", ""),
            api(Dhis2AuthMethod::Pat, "admin", "district", "d2pat_se\ncret"),
        ];
        for settings in cases {
            let error = authorization(&settings).unwrap_err();
            assert!(matches!(error, Dhis2Error::InvalidConfig(_)));
            assert!(!error.to_string().contains("se\ncret"));
            assert!(!error.to_string().contains("district"));
        }
    }

    #[test]
    fn a_body_that_is_not_utf8_is_kept_readable() {
        let json = r#"{"status":"OK","description":"Import réussi"}"#;
        assert_eq!(body_text(json.as_bytes().to_vec()), json);
        // A proxy's error page in Latin-1: "é" is the single byte 0xE9.
        assert_eq!(
            body_text(b"<h1>Erreur \xe9tendue</h1>".to_vec()),
            "<h1>Erreur \u{fffd}tendue</h1>"
        );
        assert_eq!(body_text(Vec::new()), "");
    }

    #[test]
    fn login_redirects_are_unauthorized_others_are_client_errors() {
        for location in [
            "http://h/dhis-web-commons/security/login.action",
            "/dhis-web-login/",
        ] {
            let error = redirect_error(302, Some(location), String::new());
            assert!(
                matches!(&error, Dhis2Error::Unauthorized { status: 302, message, .. } if message.contains(location))
            );
            assert!(!error.is_retryable());
        }
        let error = redirect_error(301, Some("https://h/api/dataValueSets"), "moved".into());
        assert_eq!(
            error,
            Dhis2Error::Client {
                status: 301,
                body: "moved".into()
            }
        );
        assert!(!error.is_retryable());
        assert!(matches!(
            redirect_error(307, None, String::new()),
            Dhis2Error::Client { status: 307, .. }
        ));
    }
}
