//! Running the jobs that are due now, to completion, at the caller's request: the queue driven
//! by its caller rather than by the background loop of [`WorkerPool::run`]. The jobs go through
//! the pool's own handler, gate (concurrency and rate limits), in-flight set and queue scripts;
//! only the pacing differs: a batch is leased, run and settled before the next is leased, and no
//! heartbeat renews the leases, so each job must finish within `config.lease`. Integration tests
//! use it (through `Submissions::run_pending`) so that an end-to-end test reads as "submit, run
//! what is pending, check" instead of waiting for background workers.

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::jobs::QueueError;
use super::worker::{JobHandler, WorkerPool, settle_of};

/// Due retries forwarded and expired leases taken back per maintenance call.
const MAINTAIN_BATCH: usize = 1000;

/// What one [`WorkerPool::run_pending`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingRun {
    /// Jobs run (a job retried within the run counts once per run of it).
    pub ran: usize,
    /// When the earliest job left waiting for a later retry falls due; None when none waits.
    pub next_retry_at: Option<DateTime<Utc>>,
}

impl<H: JobHandler> WorkerPool<H> {
    /// Runs every job that is due, including retries that fell due meanwhile, until none is;
    /// returns what ran and when the next retry falls due. A Redis failure ends the run with
    /// the error (jobs already settled stay settled; a leased one comes back after its lease).
    pub async fn run_pending(&self) -> Result<PendingRun, QueueError> {
        let mut ran = 0;
        loop {
            // Due retries onto the pending list first (as the pool's maintenance task does).
            loop {
                let (forwarded, recovered) = self.queue.maintain(MAINTAIN_BATCH).await?;
                if forwarded.max(recovered) < MAINTAIN_BATCH as u64 {
                    break;
                }
            }
            let leases = self
                .queue
                .lease(self.config.max_jobs, self.config.lease)
                .await?;
            if leases.is_empty() {
                break;
            }
            let settles: Vec<_> = join_all(leases.into_iter().map(|lease| async move {
                self.in_flight.insert(&lease);
                let outcome = self.handler.handle(lease.id, &self.gate).await;
                self.in_flight.remove(lease.id);
                (lease, settle_of(outcome))
            }))
            .await;
            ran += settles.len();
            self.queue.settle(&settles).await?;
        }
        Ok(PendingRun {
            ran,
            next_retry_at: self.queue.next_scheduled().await?,
        })
    }
}
