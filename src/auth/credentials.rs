//! Parsing the `Authorization` header into [`Credentials`]. Every malformed form is an
//! [`AuthError`] (a 401 at the edge), never a panic: the original crashed on a Basic header
//! without a colon.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::auth::AuthError;

/// What a caller presented.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Basic base64(username:password)`.
    Basic { username: String, password: String },
    /// `Token <hex>`: an API token.
    Token(String),
    /// `Bearer <JWT>`: an access token from `POST /api/v2/auth/login`.
    Bearer(String),
}

// Hand-written so that a stray `{:?}` can never print a secret.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credentials::Token(_) => f.write_str("Token(***)"),
            Credentials::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl Credentials {
    /// The scheme, for logs.
    pub fn scheme(&self) -> &'static str {
        match self {
            Credentials::Basic { .. } => "basic",
            Credentials::Token(_) => "token",
            Credentials::Bearer(_) => "bearer",
        }
    }

    /// Parses the header value; `None` (no header) is [`AuthError::MissingCredentials`].
    pub fn parse(header: Option<&str>) -> Result<Credentials, AuthError> {
        let header = header.map(str::trim).unwrap_or_default();
        if header.is_empty() {
            return Err(AuthError::MissingCredentials);
        }
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let value = rest.trim();
        // Accept the original's `Token:` spelling from its dead second middleware.
        let scheme = scheme.trim_end_matches(':');
        if scheme.eq_ignore_ascii_case("basic") {
            parse_basic(value)
        } else if scheme.eq_ignore_ascii_case("token") {
            if value.is_empty() {
                return Err(AuthError::MalformedHeader("empty token"));
            }
            Ok(Credentials::Token(value.to_owned()))
        } else if scheme.eq_ignore_ascii_case("bearer") {
            if value.is_empty() {
                return Err(AuthError::MalformedHeader("empty bearer token"));
            }
            Ok(Credentials::Bearer(value.to_owned()))
        } else {
            Err(AuthError::UnknownScheme)
        }
    }
}

fn parse_basic(value: &str) -> Result<Credentials, AuthError> {
    if value.is_empty() {
        return Err(AuthError::MalformedHeader("empty Basic credentials"));
    }
    let bytes = STANDARD
        .decode(value)
        .map_err(|_| AuthError::MalformedHeader("Basic credentials are not valid base64"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| AuthError::MalformedHeader("Basic credentials are not UTF-8"))?;
    let (username, password) = text.split_once(':').ok_or(AuthError::MalformedHeader(
        "Basic credentials have no colon",
    ))?;
    if username.is_empty() {
        return Err(AuthError::MalformedHeader("empty username"));
    }
    Ok(Credentials::Basic {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn good_headers() {
        assert_eq!(
            Credentials::parse(Some(&format!("Basic {}", b64("al:ice:pw")))).unwrap(),
            Credentials::Basic {
                username: "al".into(),
                password: "ice:pw".into()
            }
        );
        assert_eq!(
            Credentials::parse(Some("token abc")).unwrap(),
            Credentials::Token("abc".into())
        );
        assert_eq!(
            Credentials::parse(Some("Token: abc")).unwrap(),
            Credentials::Token("abc".into())
        );
        assert_eq!(
            Credentials::parse(Some("Bearer x.y.z")).unwrap(),
            Credentials::Bearer("x.y.z".into())
        );
    }

    #[test]
    fn bad_headers() {
        let bad = |h: &str| Credentials::parse(Some(h)).unwrap_err();
        assert!(matches!(
            Credentials::parse(None),
            Err(AuthError::MissingCredentials)
        ));
        assert!(matches!(bad(""), AuthError::MissingCredentials));
        assert!(matches!(bad("Basic"), AuthError::MalformedHeader(_)));
        assert!(matches!(bad("Basic !!!"), AuthError::MalformedHeader(_)));
        assert!(matches!(
            bad(&format!("Basic {}", b64("nocolon"))),
            AuthError::MalformedHeader(_)
        ));
        assert!(matches!(
            bad(&format!("Basic {}", b64(":pw"))),
            AuthError::MalformedHeader(_)
        ));
        assert!(matches!(bad("Token "), AuthError::MalformedHeader(_)));
        assert!(matches!(bad("Bearer"), AuthError::MalformedHeader(_)));
        assert!(matches!(bad("Digest abc"), AuthError::UnknownScheme));
        assert!(matches!(bad("abc"), AuthError::UnknownScheme));
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::parse(Some(&format!("Basic {}", b64("al:hunter22")))).unwrap();
        assert!(!format!("{c:?}").contains("hunter22"));
        assert!(!format!("{:?}", Credentials::Token("deadbeef".into())).contains("deadbeef"));
    }
}
