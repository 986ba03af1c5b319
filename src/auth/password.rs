//! Password hashing: argon2id PHC strings for everything new; bcrypt (`$2a$`/`$2b$`, as
//! pgcrypto and Go wrote them in the original database) still verifies and is upgraded.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2};

use crate::auth::AuthError;

/// How a presented password compares with the stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but the hash is of an old kind and should be replaced by an argon2id one.
    YesRehash,
}

/// Hashes with argon2id and the crate's recommended parameters (19 MiB, 2 passes).
pub fn hash(password: &str) -> Result<String, AuthError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AuthError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Internal(format!("argon2: {e}")))
}

pub fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|p| stored.starts_with(p))
}

/// Compares in constant time (both libraries do). A hash that cannot be parsed never verifies.
pub fn verify(password: &str, stored: &str) -> Verified {
    if is_bcrypt(stored) {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verified::YesRehash,
            _ => Verified::No,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verified::No;
    }
    if parsed.algorithm.as_str() == Algorithm::Argon2id.ident().as_str() {
        Verified::Yes
    } else {
        Verified::YesRehash
    }
}

/// Spends the time a real verification would, so an unknown username answers no faster than a
/// wrong password.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, &DUMMY);
}

/// Runs `verify` on the blocking pool: argon2 takes tens of milliseconds of CPU.
pub async fn verify_blocking(password: String, stored: Option<String>) -> Verified {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => {
            verify_dummy(&password);
            Verified::No
        }
    })
    .await
    .unwrap_or(Verified::No)
}

pub async fn hash_blocking(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| AuthError::Internal(format!("hashing task: {e}")))?
}

/// The rules every new password follows.
pub fn check_strength(password: &str) -> Result<(), AuthError> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err(AuthError::invalid(
            "password",
            "must be at least 8 characters long",
        ));
    }
    if chars > 1024 {
        return Err(AuthError::invalid(
            "password",
            "must be at most 1024 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip_and_wrong_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(verify("correct horse", &h), Verified::Yes);
        assert_eq!(verify("wrong horse", &h), Verified::No);
    }

    #[test]
    fn bcrypt_verifies_and_asks_for_rehash() {
        let h = bcrypt::hash("@dm1n", 4).unwrap();
        assert!(h.starts_with("$2b$"));
        assert_eq!(verify("@dm1n", &h), Verified::YesRehash);
        assert_eq!(verify("admin", &h), Verified::No);
        let a = h.replacen("$2b$", "$2a$", 1);
        assert_eq!(verify("@dm1n", &a), Verified::YesRehash);
    }

    #[test]
    fn garbage_hash_never_verifies() {
        assert_eq!(verify("", ""), Verified::No);
        assert_eq!(verify("x", "plain text"), Verified::No);
        assert_eq!(verify("x", "$2b$nonsense"), Verified::No);
    }
}
