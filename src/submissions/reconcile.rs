//! The reconciler: PostgreSQL is the record, Redis only a work list. Every few seconds (and when
//! an enqueue failed) it pages through the log rows still owed a delivery and enqueues those the
//! queue does not hold — after a Redis restart without persistence, a FLUSHALL, or an accept
//! whose enqueue failed.
//!
//! Race-free order: read open rows from PostgreSQL, ask Redis which it holds, then read the
//! missing ones from PostgreSQL *again*. A worker records its result in PostgreSQL before it
//! acks in Redis, so a job that finished between the first two steps shows as settled in the
//! third and is not sent twice. Ids running on this instance are skipped too.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::{Notify, watch};

use super::error::SubmissionError;
use crate::db::submissions;
use crate::queue::{InFlight, JobQueue};

/// Pause between two runs when nothing asks for one sooner.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(5);
/// Rows read and checked per round trip.
const PAGE: i64 = 1000;

#[derive(Clone)]
pub struct Reconciler {
    pub db: Pool,
    pub queue: JobQueue,
    pub in_flight: InFlight,
    /// Local workers to wake after re-enqueueing.
    pub wake: Arc<Notify>,
}

impl Reconciler {
    /// One pass over every open row; returns how many were re-enqueued.
    pub async fn run_once(&self) -> Result<usize, SubmissionError> {
        let mut after = 0;
        let mut enqueued = 0;
        loop {
            let rows = {
                let db = self.db.get().await?;
                submissions::open_rows(&db, after, PAGE).await?
            };
            let Some(last) = rows.last() else {
                break;
            };
            after = last.id;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let held = self
                .queue
                .holds(&ids)
                .await
                .map_err(|e| SubmissionError::Internal(e.to_string()))?;
            let missing: Vec<i64> = ids
                .iter()
                .zip(held)
                .filter(|(id, held)| !held && !self.in_flight.contains(**id))
                .map(|(id, _)| *id)
                .collect();
            if !missing.is_empty() {
                let still_open = {
                    let db = self.db.get().await?;
                    submissions::still_open(&db, &missing).await?
                };
                let jobs: Vec<_> = still_open
                    .iter()
                    .map(|r| (r.id, r.next_attempt_at))
                    .collect();
                if !jobs.is_empty() {
                    let added = self
                        .queue
                        .enqueue(&jobs)
                        .await
                        .map_err(|e| SubmissionError::Internal(e.to_string()))?;
                    enqueued += added;
                }
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        if enqueued > 0 {
            tracing::warn!(
                enqueued,
                "re-enqueued submissions the queue had lost (Redis restarted or was flushed?)"
            );
            self.wake.notify_one();
        }
        Ok(enqueued)
    }

    /// Runs until shutdown: right away, then every [`RECONCILE_EVERY`] or when `now` is notified.
    /// Failures (Redis or PostgreSQL down) are logged once and retried on the next round.
    pub async fn run(self, now: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let mut failing = false;
        loop {
            match self.run_once().await {
                Ok(_) if failing => {
                    tracing::info!("reconciler: PostgreSQL and Redis reachable again");
                    failing = false;
                }
                Ok(_) => {}
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "reconciler cannot run; retrying");
                    failing = true;
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(RECONCILE_EVERY) => {}
                _ = now.notified() => {
                    // Let a burst of failed enqueues settle into one run.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() || shutdown.has_changed().is_err() {
                return;
            }
        }
    }
}
