//! JWT access tokens: HS256 with `auth.jwt_secret`, or, when that is empty, with the secret kept
//! in PostgreSQL (`jwt_signing_key`, made once by the first instance to start), so every instance
//! on the database accepts every other's tokens ([`use_stored_secret`], at start). Short-lived;
//! the user is re-read from the database on every request, so deactivation and role changes
//! apply at once.

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

/// Only for settings that never went through [`use_stored_secret`] (unit tests, one-off CLI
/// commands): a random secret for this process.
static PROCESS_SECRET: LazyLock<[u8; 32]> = LazyLock::new(rand::random);

/// Marks an `auth.jwt_secret` that came from the database rather than the config (a NUL cannot
/// be in a config value), followed by the secret in hex.
const STORED_MARKER: &str = "\u{0}stored:";

/// At start, with `auth.jwt_secret` empty: reads the database's secret (making it the first
/// time) into `settings`, so that issuing and checking tokens use it from then on.
pub async fn use_stored_secret(
    pool: &deadpool_postgres::Pool,
    settings: &mut AuthSettings,
) -> anyhow::Result<()> {
    if !settings.jwt_secret.is_empty() {
        return Ok(());
    }
    let candidate: [u8; crate::db::jwt_secret::SECRET_BYTES] = rand::random();
    let client = pool.get().await?;
    let secret = crate::db::jwt_secret::load_or_create(&**client, &candidate).await?;
    settings.jwt_secret = format!("{STORED_MARKER}{}", hex::encode(secret));
    Ok(())
}

/// On reload: a config that still leaves `auth.jwt_secret` empty keeps the stored secret
/// (otherwise every SIGHUP would report the key as changed).
pub fn keep_stored_secret(old: &AuthSettings, new: &mut AuthSettings) {
    if new.jwt_secret.is_empty() && old.jwt_secret.starts_with(STORED_MARKER) {
        new.jwt_secret = old.jwt_secret.clone();
    }
}

fn secret(settings: &AuthSettings) -> std::borrow::Cow<'_, [u8]> {
    if settings.jwt_secret.is_empty() {
        std::borrow::Cow::Borrowed(PROCESS_SECRET.as_slice())
    } else if let Some(stored) = settings.jwt_secret.strip_prefix(STORED_MARKER) {
        std::borrow::Cow::Owned(hex::decode(stored).unwrap_or_default())
    } else {
        std::borrow::Cow::Borrowed(settings.jwt_secret.as_bytes())
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
        &EncodingKey::from_secret(&secret(settings)),
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
        &DecodingKey::from_secret(&secret(settings)),
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
    fn a_stored_secret_is_used_and_kept_across_reloads() {
        let mut stored = Settings::defaults().auth;
        stored.jwt_secret = format!("{STORED_MARKER}{}", hex::encode([7u8; 32]));
        let (token, _) = issue(&stored, "abcdefghijk", "alice", "admin").unwrap();
        let mut plain = Settings::defaults().auth;
        plain.jwt_secret = String::from_utf8(vec![7u8; 32]).unwrap();
        assert!(
            verify(&plain, &token).is_ok(),
            "the bytes are the stored ones"
        );
        let mut reloaded = Settings::defaults().auth;
        keep_stored_secret(&stored, &mut reloaded);
        assert_eq!(reloaded.jwt_secret, stored.jwt_secret);
        let mut configured = Settings::defaults().auth;
        configured.jwt_secret = "from-the-file".into();
        keep_stored_secret(&stored, &mut configured);
        assert_eq!(configured.jwt_secret, "from-the-file");
    }

    #[test]
    fn empty_secret_uses_the_process_secret() {
        let settings = Settings::defaults().auth;
        assert!(settings.jwt_secret.is_empty());
        let (token, _) = issue(&settings, "abcdefghijk", "alice", "admin").unwrap();
        assert!(verify(&settings, &token).is_ok());
    }
}
