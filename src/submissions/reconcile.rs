//! The reconciler: PostgreSQL is the record, Redis only a work list. It pages through the log
//! rows still owed a delivery and enqueues those the queue does not hold — after a Redis restart
//! without persistence, a FLUSHALL, or an accept whose enqueue failed.
//!
//! A full pass runs at start, whenever the queue's marker key is missing (checked every
//! [`CHECK_EVERY`]: a Redis that lost its data lost the marker too), after an enqueue failed, and
//! every [`FULL_EVERY`] as a safety net. The marker is set *before* the scan, so data lost
//! during a pass removes it again and triggers another pass.
//!
//! Race-free order: read open rows from PostgreSQL, ask Redis which it holds, then read the
//! missing ones from PostgreSQL *again*. A worker records its result in PostgreSQL before it
//! acks in Redis, so a job that finished between the first two steps shows as settled in the
//! third and is not sent twice. Ids running on this instance are skipped too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio::sync::{Notify, watch};

use super::error::SubmissionError;
use crate::db::submissions;
use crate::queue::{InFlight, JobQueue};

/// How often the queue's marker is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
/// A full pass at least this often, even when Redis looks intact.
pub const FULL_EVERY: Duration = Duration::from_secs(300);
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
        self.queue
            .set_marker()
            .await
            .map_err(|e| SubmissionError::Internal(e.to_string()))?;
        let mut after = 0;
        let mut enqueued = 0;
        loop {
            let page = {
                let db = self.db.get().await?;
                submissions::open_rows(&db, after, PAGE).await?
            };
            let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
            let held = if ids.is_empty() {
                Vec::new()
            } else {
                self.queue
                    .holds(&ids)
                    .await
                    .map_err(|e| SubmissionError::Internal(e.to_string()))?
            };
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
            match page.next {
                Some(next) => after = next,
                None => break,
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

    /// Runs until shutdown (see the module docs for when a pass runs). Failures (Redis or
    /// PostgreSQL down) are logged once and the pass is retried on the next round.
    pub async fn run(self, now: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let mut failing = false;
        let mut due = true;
        let mut last_pass = Instant::now();
        loop {
            if !due {
                due = last_pass.elapsed() >= FULL_EVERY
                    || !self.queue.marker_present().await.unwrap_or(false);
            }
            if due {
                match self.run_once().await {
                    Ok(_) => {
                        due = false;
                        last_pass = Instant::now();
                        if std::mem::take(&mut failing) {
                            tracing::info!("reconciler: PostgreSQL and Redis reachable again");
                        }
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "reconciler cannot run; retrying");
                        }
                        failing = true;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = now.notified() => {
                    due = true;
                    // Let a burst of failed enqueues settle into one pass.
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
