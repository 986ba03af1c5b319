//! Deliveries run at the caller's request instead of by the background workers: the test suite's
//! counterpart of a worker pool. [`Submissions::run_pending`] delivers every submission whose job
//! is due, through the same delivery code, limits and queue as the workers
//! (`queue::WorkerPool::run_pending`); [`Submissions::deliver_only_on_request`] keeps the
//! workers from starting, so that nothing is delivered until a test asks.

use std::sync::atomic::Ordering;

use super::Submissions;
use crate::queue::{PendingRun, QueueError};

impl Submissions {
    /// Delivers every submission whose job is due now (retries included as they fall due
    /// during the run) and returns what ran and when the next retry falls due. Deliveries go
    /// through `server.max_concurrent` and the rate limit as the workers' do. Each call starts
    /// afresh: its own group-commit tasks and rate bucket.
    pub async fn run_pending(&self) -> Result<PendingRun, QueueError> {
        let settings = self.settings();
        self.worker_pool(&settings).run_pending().await
    }

    /// Makes [`Submissions::run_background`] start no delivery workers (the reconciler still
    /// runs): accepted submissions wait in the queue until [`Submissions::run_pending`] delivers
    /// them. For tests, which call it before the application runs; an instance that never
    /// calls `run_pending` delivers nothing.
    pub fn deliver_only_on_request(&self) {
        self.0.on_request_only.store(true, Ordering::Relaxed);
    }
}
