//! The console's cookie as an API credential. [`guard`](crate::http::auth::guard) calls
//! [`authenticate`] when a request has a session cookie and no `Authorization` header, so the
//! console reaches `/api/v2` through the same role policy as every integrator. Every request
//! other than GET, HEAD and OPTIONS must also carry the session's CSRF token in `X-CSRF-Token`:
//! another site can make the browser send the cookie (SameSite=Strict already stops that in
//! current browsers) but can never read the token.

use poem::http::{HeaderValue, Method, header};
use poem::{IntoResponse, Request, Response};
use poem_openapi::payload::Json;

use crate::auth::Principal;
use crate::auth::console_session;
use crate::http::{ApiError, ErrorBody};
use crate::state::AppState;

/// The cookie holding the console's session token.
pub const COOKIE_NAME: &str = "dhis2gw_session";
/// The header every console write carries.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// `WWW-Authenticate` of a refused cookie: not `Basic`, so the browser shows no password dialog
/// of its own and the console shows its login form instead.
const COOKIE_CHALLENGE: &str = r#"Cookie realm="dhis2gw console""#;

/// The session token in the request's `Cookie` header(s), if any.
pub fn session_token(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether the method changes nothing (no CSRF token needed).
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A 401 for a missing, unknown or expired console session.
pub fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::Unauthorized(
        Json(ErrorBody::new("unauthorized", message)),
        COOKIE_CHALLENGE.to_owned(),
        None,
    )
}

/// The 403 of a write without the session's CSRF token.
pub fn csrf_refused() -> ApiError {
    ApiError::Forbidden(Json(ErrorBody::new(
        "csrf_token_invalid",
        format!("a write with the console's session cookie needs its {CSRF_HEADER} header"),
    )))
}

/// Authenticates the cookie's session, and checks the CSRF header on a write.
pub async fn authenticate(
    state: &AppState,
    req: &Request,
    token: &str,
) -> Result<Principal, ApiError> {
    let session = match console_session::resolve(state.db(), token).await {
        Ok(s) => s,
        Err(e @ crate::auth::AuthError::Inactive)
        | Err(e @ crate::auth::AuthError::InvalidToken) => {
            return Err(unauthorized(format!("console session: {e}; log in again")));
        }
        Err(e) => return Err(e.into()),
    };
    if !is_safe(req.method()) {
        let presented = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !console_session::csrf_matches(&session.csrf_token, presented) {
            tracing::warn!(user_uid = %session.principal.uid, method = %req.method(), path = %req.uri().path(), "console write refused: no valid CSRF token");
            return Err(csrf_refused());
        }
    }
    Ok(session.principal)
}

/// Whether the request came over HTTPS (directly, or through a proxy that says so): the cookie
/// is then marked `Secure`.
fn over_tls(req: &Request) -> bool {
    req.uri().scheme_str() == Some("https")
        || req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new session (`max_age_secs` > 0) or clearing it (0).
pub fn set_cookie(req: &Request, token: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if over_tls(req) { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&value).expect("a cookie of hex characters is a valid header")
}

/// Adds `Set-Cookie` to a response.
pub fn with_cookie(resp: impl IntoResponse, cookie: HeaderValue) -> Response {
    let mut resp = resp.into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let req = Request::builder()
            .header(header::COOKIE, "a=1; dhis2gw_session=abc ; b=2")
            .finish();
        assert_eq!(session_token(&req).as_deref(), Some("abc"));
        let req = Request::builder()
            .header(header::COOKIE, "dhis2gw_session=")
            .finish();
        assert_eq!(session_token(&req), None);
        assert_eq!(session_token(&Request::builder().finish()), None);
    }

    #[test]
    fn cookie_attributes() {
        let plain = Request::builder().finish();
        let v = set_cookie(&plain, "tok", 60);
        let v = v.to_str().unwrap();
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Strict") && !v.contains("Secure"));
        let proxied = Request::builder()
            .header("X-Forwarded-Proto", "https")
            .finish();
        assert!(
            set_cookie(&proxied, "tok", 60)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
