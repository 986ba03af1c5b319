//! JWT access tokens: HS256 with `auth.jwt_secret` (or, when that is empty, a random secret
//! made once per process, so tokens die with it). Short-lived; the user is re-read from the
//! database on every request, so deactivation and role changes apply at once.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::auth::AuthError;
use crate::config::AuthSettings;

const ISSUER: &str = "dhis2gw";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's uid.
    pub sub: String,
    pub username: String,
    pub role: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    /// Unique id of this token.
    pub jti: String,
}

static PROCESS_SECRET: LazyLock<[u8; 32]> = LazyLock::new(rand::random);

fn secret(settings: &AuthSettings) -> &[u8] {
    if settings.jwt_secret.is_empty() {
        PROCESS_SECRET.as_slice()
    } else {
        settings.jwt_secret.as_bytes()
    }
}

/// Signs an access token for the user; returns it and its expiry.
pub fn issue(
    settings: &AuthSettings,
    uid: &str,
    username: &str,
    role: &str,
) -> Result<(String, DateTime<Utc>), AuthError> {
    let now = Utc::now();
    let ttl = i64::try_from(settings.access_token_ttl_secs).unwrap_or(900);
    let exp = now + chrono::Duration::seconds(ttl);
    let claims = Claims {
        sub: uid.to_owned(),
        username: username.to_owned(),
        role: role.to_owned(),
        iss: ISSUER.to_owned(),
        iat: now.timestamp(),
        exp: exp.timestamp(),
        jti: uuid::Uuid::new_v4().simple().to_string(),
    };
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret(settings)),
    )
    .map_err(|e| AuthError::Internal(format!("signing a JWT: {e}")))?;
    Ok((token, exp))
}

/// Checks signature (HS256 only), issuer and expiry (no leeway) and returns the claims.
pub fn verify(settings: &AuthSettings, token: &str) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "sub", "iss"]);
    decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret(settings)),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => AuthError::TokenExpired,
        _ => AuthError::InvalidToken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn round_trip_tamper_and_wrong_secret() {
        let mut settings = Settings::defaults().auth;
        settings.jwt_secret = "s3cret-for-tests".into();
        let (token, _) = issue(&settings, "abcdefghijk", "alice", "viewer").unwrap();
        let claims = verify(&settings, &token).unwrap();
        assert_eq!(claims.sub, "abcdefghijk");
        assert_eq!(claims.role, "viewer");

        let mut other = settings.clone();
        other.jwt_secret = "another".into();
        assert!(matches!(
            verify(&other, &token),
            Err(AuthError::InvalidToken)
        ));

        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].replacen('e', "f", 1);
        assert!(verify(&settings, &parts.join(".")).is_err());
    }

    #[test]
    fn empty_secret_uses_the_process_secret() {
        let settings = Settings::defaults().auth;
        assert!(settings.jwt_secret.is_empty());
        let (token, _) = issue(&settings, "abcdefghijk", "alice", "admin").unwrap();
        assert!(verify(&settings, &token).is_ok());
    }
}
