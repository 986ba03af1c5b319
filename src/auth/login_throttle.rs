//! The login throttle's policy, for password logins only (Basic, `POST /api/v2/auth/login`, the
//! console's login): failures count per (username, client address) together, so a stranger's
//! failures never block a correct password from another address. Each failure in the window
//! makes the next attempt of that pair wait longer ([`delay_after`]) before its password is
//! checked; at `auth.login_max_failures` the pair is refused with 429 for
//! `auth.login_window_secs`. API tokens and JWTs are never counted nor refused here.

use std::net::IpAddr;
use std::time::Duration;

/// The wait before the attempt that follows the first failure.
pub const FIRST_DELAY: Duration = Duration::from_millis(200);
/// The longest wait, however many failures.
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// Usernames longer than this share their key with their first this-many characters (an index
/// entry has a size limit; no real username is this long).
const KEY_CHARS: usize = 128;

/// How long an attempt waits when its (username, address) failed `failures` times in the
/// window: nothing after none, then [`FIRST_DELAY`] doubling with each failure up to
/// [`MAX_DELAY`].
pub fn delay_after(failures: i32) -> Duration {
    if failures <= 0 {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(failures - 1).unwrap_or(0).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// The username part of the key: the name as presented, cut to a bounded length.
pub fn username_key(username: &str) -> &str {
    match username.char_indices().nth(KEY_CHARS) {
        Some((at, _)) => &username[..at],
        None => username,
    }
}

/// The address part of the key: the TCP peer, or empty when the listener gives none.
pub fn address_key(client_ip: Option<IpAddr>) -> String {
    client_ip.map(|ip| ip.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_stop_growing() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(-3), Duration::ZERO);
        assert_eq!(delay_after(1), FIRST_DELAY);
        assert_eq!(delay_after(2), FIRST_DELAY * 2);
        assert_eq!(delay_after(3), FIRST_DELAY * 4);
        assert!(delay_after(4) > delay_after(3));
        assert_eq!(delay_after(10), MAX_DELAY);
        assert_eq!(delay_after(i32::MAX), MAX_DELAY);
    }

    #[test]
    fn keys_are_bounded() {
        assert_eq!(username_key("alice"), "alice");
        let long = "é".repeat(1000);
        assert_eq!(username_key(&long).chars().count(), KEY_CHARS);
        assert_eq!(address_key(None), "");
        assert_eq!(address_key(Some("10.0.0.7".parse().unwrap())), "10.0.0.7");
    }
}
