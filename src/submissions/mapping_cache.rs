//! The mappings of each namespace, kept in memory so that a submission does not read the
//! `dhis2_mappings` table every time. A trigger (V4) sends `NOTIFY dhis2gw_mappings` whenever the
//! table changes; a listener on its own connection empties the cache on every notification. While
//! the listener is not connected (start, PostgreSQL restart) nothing is cached, so a change can
//! never be missed; it applies to the next submission once the notification arrives (moments
//! after the change commits).
//!
//! The same connection listens for requests to run the reconciler (see [`RECONCILE_CHANNEL`]).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::Pool;
use futures::StreamExt;
use tokio::sync::{Notify, watch};
use tokio_postgres::AsyncMessage;

use super::error::SubmissionError;
use crate::db::mappings::{self, MappingRow};

/// The channel the V4 trigger notifies.
pub const CHANNEL: &str = "dhis2gw_mappings";
/// The channel on which any process (the CLI, another instance) asks every instance for a
/// reconciler pass: rows were requeued in PostgreSQL but could not be enqueued in Redis.
pub const RECONCILE_CHANNEL: &str = "dhis2gw_reconcile";

type Key = (String, String);

#[derive(Default)]
pub struct MappingCache {
    entries: Mutex<HashMap<Key, Arc<Vec<MappingRow>>>>,
    /// Bumped by every notification; a read that raced one is not cached.
    generation: AtomicU64,
    /// True while the listener holds a live `LISTEN`.
    listening: AtomicBool,
}

impl MappingCache {
    /// The mappings of (source, instance), from memory when the cache is trustworthy.
    pub async fn namespace(
        &self,
        db: &Pool,
        source: &str,
        instance: &str,
    ) -> Result<Arc<Vec<MappingRow>>, SubmissionError> {
        let key = (source.to_owned(), instance.to_owned());
        let listening = self.listening.load(Ordering::Acquire);
        if listening && let Some(rows) = self.entries.lock().expect("cache lock").get(&key) {
            return Ok(rows.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let rows = {
            let client = db.get().await?;
            Arc::new(mappings::for_namespace(&client, source, instance).await?)
        };
        if listening {
            let mut entries = self.entries.lock().expect("cache lock");
            if self.generation.load(Ordering::Acquire) == generation
                && self.listening.load(Ordering::Acquire)
            {
                entries.insert(key, rows.clone());
            }
        }
        Ok(rows)
    }

    pub fn invalidate(&self) {
        let mut entries = self.entries.lock().expect("cache lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn set_listening(&self, on: bool) {
        self.invalidate();
        self.listening.store(on, Ordering::Release);
        self.invalidate();
    }

    /// Keeps a `LISTEN` connection to `uri` until shutdown, reconnecting with backoff. A
    /// notification on [`RECONCILE_CHANNEL`] (and every new connection, which may have missed
    /// some) wakes `reconcile`.
    pub async fn listen(
        self: Arc<Self>,
        uri: String,
        reconcile: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let Ok(config) = tokio_postgres::Config::from_str(&uri) else {
            return;
        };
        let mut wait = Duration::from_millis(200);
        loop {
            let connected = tokio::select! {
                r = self.listen_once(&config, &reconcile) => r,
                _ = shutdown.changed() => Ok(()),
            };
            self.set_listening(false);
            if *shutdown.borrow() || shutdown.has_changed().is_err() {
                return;
            }
            if let Err(e) = connected {
                tracing::debug!(error = %e, "mapping cache listener disconnected; mappings are read from PostgreSQL meanwhile");
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    /// One connection's life: LISTEN, then empty the cache on every notification.
    async fn listen_once(
        &self,
        config: &tokio_postgres::Config,
        reconcile: &Notify,
    ) -> Result<(), tokio_postgres::Error> {
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        let statement = format!("LISTEN {CHANNEL}; LISTEN {RECONCILE_CHANNEL}");
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
        self.set_listening(true);
        reconcile.notify_one();
        while let Some(message) = messages.next().await {
            if let AsyncMessage::Notification(n) = message? {
                if n.channel() == RECONCILE_CHANNEL {
                    reconcile.notify_one();
                } else {
                    self.invalidate();
                }
            }
        }
        Ok(())
    }
}
