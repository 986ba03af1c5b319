//! The mappings of each namespace, kept in memory so that a submission does not read the
//! `dhis2_mappings` table every time. A trigger (V4) sends `NOTIFY dhis2gw_mappings` whenever the
//! table changes and the instance's [`Listener`](crate::db::notify::Listener) empties the cache;
//! while the listener is not connected nothing is cached ([`NotifiedCache`]).
//!
//! [`PipelineEvents`] is the pipeline's subscriber: mapping changes, and requests to run the
//! reconciler (see [`RECONCILE_CHANNEL`]).

use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::sync::Notify;

use super::error::SubmissionError;
use crate::db::mappings::{self, MappingRow};
use crate::db::notify::{NotifiedCache, Subscriber};

/// The channel the V4 trigger notifies.
pub const CHANNEL: &str = "dhis2gw_mappings";
/// The channel on which any process (the CLI, another instance) asks every instance for a
/// reconciler pass: rows were requeued in PostgreSQL but could not be enqueued in Redis.
pub const RECONCILE_CHANNEL: &str = "dhis2gw_reconcile";

#[derive(Default)]
pub struct MappingCache(NotifiedCache<(String, String), Arc<Vec<MappingRow>>>);

impl MappingCache {
    /// The mappings of (source, instance), from memory when the cache is trustworthy.
    pub async fn namespace(
        &self,
        db: &Pool,
        source: &str,
        instance: &str,
    ) -> Result<Arc<Vec<MappingRow>>, SubmissionError> {
        let key = (source.to_owned(), instance.to_owned());
        let rows = self
            .0
            .get_or_load(key, async {
                let client = db.get().await?;
                let rows = mappings::for_namespace(&client, source, instance).await?;
                Ok::<_, SubmissionError>(Some(Arc::new(rows)))
            })
            .await?;
        Ok(rows.unwrap_or_default())
    }

    pub fn invalidate(&self) {
        self.0.invalidate();
    }
}

/// What the pipeline listens for: mapping changes empty the cache; a reconcile request (and
/// every new connection, which may have missed some) wakes the reconciler.
pub struct PipelineEvents {
    pub mappings: Arc<MappingCache>,
    pub reconcile: Arc<Notify>,
}

impl Subscriber for PipelineEvents {
    fn channels(&self) -> &'static [&'static str] {
        &[CHANNEL, RECONCILE_CHANNEL]
    }

    fn notified(&self, channel: &str) {
        if channel == RECONCILE_CHANNEL {
            self.reconcile.notify_one();
        } else {
            self.mappings.invalidate();
        }
    }

    fn connected(&self, up: bool) {
        self.mappings.0.set_listening(up);
        if up {
            self.reconcile.notify_one();
        }
    }
}
