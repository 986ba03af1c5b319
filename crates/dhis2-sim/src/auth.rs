//! Authentication as DHIS2's Spring Security chain answers it: Basic, `ApiToken` (personal
//! access tokens), the login redirect for anonymous calls, and the per-version failure bodies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use poem::Response;
use poem::http::StatusCode;

use super::request::ApiRequest;
use super::seed::User;
use super::state::SimState;
use super::version::Dhis2Version;
use super::webmessage::WebMessage;

/// The response sent instead of serving the request (boxed: responses are large).
pub type Rejection = Box<Response>;

const V1_PREFIX: &str = "d2pat_";
const V1_RANDOM_LEN: usize = 32;
const V1_CHECKSUM_LEN: usize = 10;

/// Resolves the caller, or the response DHIS2 would send instead.
pub fn authenticate(
    state: &SimState,
    req: &ApiRequest,
    version: &Dhis2Version,
) -> Result<User, Rejection> {
    let Some(header) = req.header("authorization") else {
        return Err(Box::new(anonymous(state, req, version)));
    };
    let (scheme, credentials) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        basic(state, credentials.trim())
    } else if scheme.eq_ignore_ascii_case("apitoken") {
        api_token(state, req, version, credentials)
    } else {
        // No other scheme (Bearer, Digest...) is configured on a stock DHIS2.
        Err(Box::new(anonymous(state, req, version)))
    }
}

/// DHIS2 serves a browser login page: API clients get a 302 unless they say they are XHR.
fn anonymous(state: &SimState, req: &ApiRequest, version: &Dhis2Version) -> Response {
    let is_xhr = req
        .header("x-requested-with")
        .is_some_and(|v| v.eq_ignore_ascii_case("XMLHttpRequest"));
    if is_xhr {
        return WebMessage::error(401, "Unauthorized").into_response();
    }
    Response::builder()
        .status(StatusCode::FOUND)
        .header(
            "location",
            format!("{}{}", state.base_url, version.login_path()),
        )
        .body(())
}

fn basic(state: &SimState, credentials: &str) -> Result<User, Rejection> {
    let unauthorized = |message: &str| Box::new(WebMessage::error(401, message).into_response());
    let decoded = STANDARD
        .decode(credentials)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| unauthorized("Unauthorized"))?;
    let (username, password) = decoded
        .split_once(':')
        .ok_or_else(|| unauthorized("Unauthorized"))?;
    let user = state
        .catalog
        .user_by_username(username)
        .ok_or_else(|| unauthorized("Unauthorized"))?;
    // Spring runs the account-status checks before comparing the password.
    if user.disabled {
        return Err(unauthorized("Account disabled"));
    }
    if user.password != password {
        return Err(unauthorized("Unauthorized"));
    }
    Ok(user.clone())
}

fn api_token(
    state: &SimState,
    req: &ApiRequest,
    version: &Dhis2Version,
    token: &str,
) -> Result<User, Rejection> {
    // A PAT failure carries `WWW-Authenticate: ApiToken` (DhisApiTokenAuthenticationEntryPoint).
    let reject = |code: u16, message: &str| {
        let message = WebMessage::error(code, message).header("www-authenticate", "ApiToken");
        Box::new(message.into_response())
    };
    let bad_request_from_41 = if version.validates_pat_checksum() {
        400
    } else {
        401
    };
    if !is_well_formed_token(token) {
        return Err(reject(bad_request_from_41, "Api token is malformed"));
    }
    if version.validates_pat_checksum() && !has_valid_checksum(token) {
        return Err(reject(400, "Checksum validation failed"));
    }
    let Some(seeded) = state
        .catalog
        .seed
        .api_tokens
        .iter()
        .find(|t| t.key == token)
    else {
        return Err(reject(401, version.unknown_pat_message()));
    };
    if seeded
        .expire
        .is_some_and(|expire| expire < Utc::now().naive_utc())
    {
        return Err(reject(
            401,
            "Failed to authenticate API token, token has expired.",
        ));
    }
    let method = req.method.as_str();
    if !seeded.allowed_methods.is_empty()
        && !seeded
            .allowed_methods
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
    {
        return Err(reject(
            401,
            "Failed to authenticate API token, request http method is not allowed.",
        ));
    }
    let user = state
        .catalog
        .user_by_username(&seeded.username)
        .ok_or_else(|| reject(401, version.unknown_pat_message()))?;
    if user.disabled {
        return Err(reject(
            401,
            "The API token is disabled, locked or 2FA is enabled.",
        ));
    }
    Ok(user.clone())
}

/// `ApiTokenResolver`'s pattern: `[a-zA-Z0-9-._~+/]+=*`.
fn is_well_formed_token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
}

/// 2.41 checks V1 keys (`d2pat_` + 32 chars + CRC32 of those 32 as 10 decimal digits) before
/// any lookup. V2 keys (`d2p_`, base62 checksum) are accepted unchecked by the simulator.
pub fn has_valid_checksum(token: &str) -> bool {
    if token.starts_with("d2p_") {
        return true;
    }
    let Some(rest) = token.strip_prefix(V1_PREFIX) else {
        return false;
    };
    if rest.len() != V1_RANDOM_LEN + V1_CHECKSUM_LEN || !rest.is_ascii() {
        return false;
    }
    let (random, checksum) = rest.split_at(V1_RANDOM_LEN);
    checksum == format!("{:010}", crc32(random.as_bytes()))
}

/// CRC-32 (IEEE 802.3, reflected, as `java.util.zip.CRC32`), bit by bit: tokens are short.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// The page behind the login redirect, so clients that follow redirects see what they would
/// see on a real server: a 200 HTML page instead of JSON.
pub fn login_page() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/html;charset=UTF-8")
        .body(
            "<!DOCTYPE html><html><head><title>DHIS 2</title></head><body>\
             <form method=\"post\" action=\"login\"><input name=\"j_username\">\
             <input name=\"j_password\" type=\"password\"></form></body></html>",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_documented_token() {
        // docs@2.40 overview.md example key.
        assert!(has_valid_checksum(
            "d2pat_5xVA12xyUbWNedQxy4ohH77WlxRGVvZZ1151814092"
        ));
        assert!(!has_valid_checksum(
            "d2pat_5xVA12xyUbWNedQxy4ohH77WlxRGVvZZ1151814093"
        ));
        assert!(!has_valid_checksum("d2pat_short"));
        assert!(!has_valid_checksum("not-a-token"));
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn token_pattern() {
        assert!(is_well_formed_token("d2pat_abc=="));
        assert!(!is_well_formed_token(""));
        assert!(!is_well_formed_token(" d2pat_abc"));
    }
}
