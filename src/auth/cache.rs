//! The users and API tokens behind `Bearer` and `Token` credentials, kept in memory so that an
//! authenticated request does not read PostgreSQL every time (measured in `bench/README.md`).
//! A trigger (V6) sends `NOTIFY dhis2gw_auth` whenever `users` changes or a token is created,
//! revoked or changed; the instance's listener then empties the cache, so a deactivated user or
//! a revoked token is refused from the next request on. While the listener is not connected
//! nothing is cached ([`NotifiedCache`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::notify::{NotifiedCache, Subscriber};
use crate::db::tokens::ApiTokenMatch;
use crate::db::users::UserRow;

/// The channel the V6 triggers notify.
pub const CHANNEL: &str = "dhis2gw_auth";

/// How often a token's `last_used_at` is written, at most (the statement checks it too).
const TOUCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct AuthCache {
    /// Users by uid (the `sub` of an access token).
    pub(crate) users: NotifiedCache<String, UserRow>,
    /// API tokens by SHA-256 digest, with their user.
    pub(crate) tokens: NotifiedCache<String, (ApiTokenMatch, UserRow)>,
    /// When this instance last wrote each token's `last_used_at`.
    touched: Mutex<HashMap<i64, Instant>>,
}

impl AuthCache {
    /// Forgets every cached user and token. The routes that change users or tokens call it
    /// right after their commit, so this instance's next request sees the change without
    /// waiting for the notification.
    pub fn invalidate(&self) {
        self.users.invalidate();
        self.tokens.invalidate();
    }

    /// Whether the token's `last_used_at` is due to be written (and, if so, notes that it was).
    pub(crate) fn touch_due(&self, token_id: i64) -> bool {
        let now = Instant::now();
        let mut touched = self.touched.lock().expect("touch lock");
        match touched.get(&token_id) {
            Some(at) if now.duration_since(*at) < TOUCH_EVERY => false,
            _ => {
                touched.insert(token_id, now);
                true
            }
        }
    }
}

impl Subscriber for AuthCache {
    fn channels(&self) -> &'static [&'static str] {
        &[CHANNEL]
    }

    fn notified(&self, _channel: &str) {
        self.invalidate();
    }

    fn connected(&self, up: bool) {
        self.users.set_listening(up);
        self.tokens.set_listening(up);
    }
}
