//! PostgreSQL notifications: one `LISTEN` connection per instance ([`Listener`]) and the
//! in-memory caches it keeps honest ([`NotifiedCache`]).
//!
//! Triggers send `NOTIFY` when a cached table changes (mappings, users and API tokens; see the
//! migrations); the listener tells each [`Subscriber`] of its channels. A cache keeps entries
//! only while the listener holds a live `LISTEN`: at start, and while PostgreSQL is away,
//! nothing is cached and every read goes to the table, so a change can never be missed.

use std::collections::HashMap;
use std::hash::Hash;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio_postgres::AsyncMessage;

/// Something that wants to hear of notifications on some channels.
pub trait Subscriber: Send + Sync {
    /// Channels to `LISTEN` on (fixed names, safe to put in SQL).
    fn channels(&self) -> &'static [&'static str];
    /// A notification arrived on one of [`Subscriber::channels`].
    fn notified(&self, channel: &str);
    /// The `LISTEN` connection came up (true) or went away (false). Anything may have changed
    /// while it was away.
    fn connected(&self, up: bool);
}

/// Keeps one `LISTEN` connection to PostgreSQL until shutdown, reconnecting with backoff.
pub struct Listener {
    uri: String,
    subscribers: Vec<Arc<dyn Subscriber>>,
}

impl Listener {
    pub fn new(uri: impl Into<String>) -> Listener {
        Listener {
            uri: uri.into(),
            subscribers: Vec::new(),
        }
    }

    pub fn subscribe(mut self, subscriber: Arc<dyn Subscriber>) -> Listener {
        self.subscribers.push(subscriber);
        self
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let Ok(config) = tokio_postgres::Config::from_str(&self.uri) else {
            return;
        };
        let mut wait = Duration::from_millis(200);
        loop {
            let connected = tokio::select! {
                r = self.listen_once(&config) => r,
                _ = shutdown.changed() => Ok(()),
            };
            self.tell_connected(false);
            if *shutdown.borrow() || shutdown.has_changed().is_err() {
                return;
            }
            if let Err(e) = connected {
                tracing::debug!(error = %e, "notification listener disconnected; caches are off meanwhile");
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    fn tell_connected(&self, up: bool) {
        for subscriber in &self.subscribers {
            subscriber.connected(up);
        }
    }

    /// One connection's life: LISTEN on every channel, then pass each notification on.
    async fn listen_once(
        &self,
        config: &tokio_postgres::Config,
    ) -> Result<(), tokio_postgres::Error> {
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        let statement: String = self
            .subscribers
            .iter()
            .flat_map(|s| s.channels().iter())
            .map(|channel| format!("LISTEN {channel};"))
            .collect();
        let listen = client.batch_execute(&statement);
        tokio::pin!(listen);
        // The connection must be polled for the LISTEN to complete.
        loop {
            tokio::select! {
                r = &mut listen => { r?; break; }
                m = messages.next() => match m {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                },
            }
        }
        self.tell_connected(true);
        while let Some(message) = messages.next().await {
            if let AsyncMessage::Notification(n) = message? {
                for subscriber in &self.subscribers {
                    if subscriber.channels().contains(&n.channel()) {
                        subscriber.notified(n.channel());
                    }
                }
            }
        }
        Ok(())
    }
}

/// A map of values read from PostgreSQL, trusted only while a [`Listener`] is connected and
/// emptied on every notification of a change.
pub struct NotifiedCache<K, V> {
    entries: Mutex<HashMap<K, V>>,
    /// Bumped by every invalidation; a read that raced one is not cached.
    generation: AtomicU64,
    /// True while the listener holds a live `LISTEN`.
    listening: AtomicBool,
}

impl<K, V> Default for NotifiedCache<K, V> {
    fn default() -> Self {
        NotifiedCache {
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
        }
    }
}

impl<K: Hash + Eq, V: Clone> NotifiedCache<K, V> {
    /// The value of `key`: from memory when the cache is trustworthy, otherwise from `load`
    /// (kept for next time unless a change was notified meanwhile). `None` from `load` is
    /// passed on and not kept.
    pub async fn get_or_load<E, F>(&self, key: K, load: F) -> Result<Option<V>, E>
    where
        F: Future<Output = Result<Option<V>, E>>,
    {
        let listening = self.listening.load(Ordering::Acquire);
        if listening && let Some(value) = self.entries.lock().expect("cache lock").get(&key) {
            return Ok(Some(value.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let value = load.await?;
        if listening && let Some(value) = &value {
            let mut entries = self.entries.lock().expect("cache lock");
            if self.generation.load(Ordering::Acquire) == generation
                && self.listening.load(Ordering::Acquire)
            {
                entries.insert(key, value.clone());
            }
        }
        Ok(value)
    }

    /// Forgets everything (a notification of a change).
    pub fn invalidate(&self) {
        let mut entries = self.entries.lock().expect("cache lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Whether the listener is connected (the cache is on) or not (every read goes to the table).
    pub fn set_listening(&self, on: bool) {
        self.invalidate();
        self.listening.store(on, Ordering::Release);
        self.invalidate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn load(cache: &NotifiedCache<&'static str, u32>, value: u32) -> Option<u32> {
        cache
            .get_or_load("k", async { Ok::<_, ()>(Some(value)) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_values_only_while_listening_and_until_invalidated() {
        let cache = NotifiedCache::default();
        assert_eq!(load(&cache, 1).await, Some(1));
        assert_eq!(load(&cache, 2).await, Some(2), "cached while not listening");
        cache.set_listening(true);
        assert_eq!(load(&cache, 3).await, Some(3));
        assert_eq!(load(&cache, 4).await, Some(3), "served from memory");
        cache.invalidate();
        assert_eq!(load(&cache, 5).await, Some(5));
        cache.set_listening(false);
        assert_eq!(
            load(&cache, 6).await,
            Some(6),
            "a lost listener turns the cache off"
        );
    }

    #[tokio::test]
    async fn a_read_that_raced_an_invalidation_is_not_kept() {
        let cache = NotifiedCache::default();
        cache.set_listening(true);
        let value = cache
            .get_or_load("k", async {
                cache.invalidate();
                Ok::<_, ()>(Some(1))
            })
            .await
            .unwrap();
        assert_eq!(value, Some(1));
        assert_eq!(load(&cache, 2).await, Some(2));
    }
}
