//! Opaque secrets handed to clients (API tokens, refresh tokens, generated passwords) and the
//! digest under which tokens are stored.

use sha2::{Digest, Sha256};

/// An API token as the original issued them: 20 random bytes, 40 lowercase hex characters.
pub fn new_api_token() -> String {
    hex::encode(rand::random::<[u8; 20]>())
}

/// A refresh token: 32 random bytes, 64 hex characters.
pub fn new_refresh_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The SHA-256 hex digest tokens are stored and looked up under. Tokens carry 160+ bits of
/// randomness, so a fast hash suffices (unlike passwords).
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random password of `len` letters and digits (bootstrap admin).
pub fn new_password(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let t = new_api_token();
        assert_eq!(t.len(), 40);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(t, new_api_token());
        assert_eq!(new_refresh_token().len(), 64);
        assert_eq!(digest("abc").len(), 64);
        assert_eq!(new_password(20).len(), 20);
    }
}
