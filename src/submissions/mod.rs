//! The submission pipeline: validate and map, log in PostgreSQL, enqueue, deliver to DHIS2,
//! record, retry, reconcile. Handlers and the CLI use [`Submissions`]; `app.rs` runs its
//! background part ([`Submissions::run_background`]: workers and reconciler); the integration
//! tests deliver with [`Submissions::run_pending`] instead (`drain.rs`).
//!
//! Flow and statuses: `docs/submissions.md`; Redis layout: `docs/queue.md`.

pub mod accept;
pub mod aggregate;
pub mod data_value_set;
pub mod deliver;
mod drain;
pub mod error;
pub mod inserter;
pub mod logs;
pub mod mapping;
pub mod mapping_cache;
pub mod reconcile;
pub mod retry;
pub mod tracker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::{Notify, watch};

pub use accept::{Accepted, Submitter};
pub use error::{Problem, SubmissionError};
pub use logs::{LogPage, RequeueReport};

use crate::config::Settings;
use crate::queue::{Gate, InFlight, JobQueue, RedisClients, WorkerConfig, WorkerPool};
use deliver::Deliverer;
use inserter::Inserter;
use mapping_cache::{MappingCache, PipelineEvents};
use reconcile::Reconciler;

/// The `retry` job requeues a failed submission at most this many times…
pub const AUTO_REQUEUE_LIMIT: i32 = 12;
/// …and only while it is younger than this many days; after that it needs a person.
pub const AUTO_REQUEUE_WITHIN_DAYS: i64 = 7;

/// Name of the submissions queue under the Redis key prefix.
pub const QUEUE_NAME: &str = "submissions";
/// Jobs an instance leases per DHIS2 call it may make (`server.max_concurrent`). The reads and
/// records of the deliveries waiting beside the calls are group-committed: the more jobs in
/// hand, the larger each batch and the cheaper each delivery. At four per call, a drain to a
/// prompt DHIS2 left the CPUs idle a fifth to a third of the time, waiting on the batches.
pub const JOBS_PER_CALL: usize = 8;

/// The pipeline's shared handle (cheap to clone).
#[derive(Clone)]
pub struct Submissions(Arc<Inner>);

struct Inner {
    db: Pool,
    queue: JobQueue,
    settings: watch::Receiver<Arc<Settings>>,
    inserter: Inserter,
    /// Wakes idle local workers after an enqueue.
    wake: Arc<Notify>,
    /// Asks the reconciler for a run now.
    reconcile_now: Arc<Notify>,
    in_flight: InFlight,
    /// Mappings per namespace, emptied on every change (LISTEN/NOTIFY).
    mappings: Arc<MappingCache>,
    /// Set by [`Submissions::deliver_only_on_request`]: no delivery workers.
    on_request_only: AtomicBool,
}

impl Submissions {
    /// Builds the handle; nothing runs until the first submission or [`run_background`].
    ///
    /// [`run_background`]: Submissions::run_background
    pub fn new(
        settings: watch::Receiver<Arc<Settings>>,
        db: Pool,
        redis: &RedisClients,
    ) -> Submissions {
        let queue = JobQueue::new(redis, QUEUE_NAME);
        let wake = Arc::new(Notify::new());
        let reconcile_now = Arc::new(Notify::new());
        let inserter = Inserter::new(
            db.clone(),
            queue.clone(),
            wake.clone(),
            reconcile_now.clone(),
        );
        Submissions(Arc::new(Inner {
            db,
            queue,
            settings,
            inserter,
            wake,
            reconcile_now,
            in_flight: InFlight::default(),
            mappings: Arc::new(MappingCache::default()),
            on_request_only: AtomicBool::new(false),
        }))
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.0.settings.borrow().clone()
    }

    pub fn queue(&self) -> &JobQueue {
        &self.0.queue
    }

    pub(crate) fn db(&self) -> &Pool {
        &self.0.db
    }

    pub(crate) fn mappings(&self) -> &MappingCache {
        &self.0.mappings
    }

    /// Drops this instance's copy of the mappings at once. Every change reaches every instance
    /// through NOTIFY within moments anyway; a writer in this process (the mappings routes) can
    /// call this right after its commit so that its own next submission is certain to see it.
    pub fn mappings_changed(&self) {
        self.0.mappings.invalidate();
    }

    /// What the pipeline needs from the instance's notification listener (mapping changes,
    /// reconcile requests); `app.rs` subscribes it.
    pub fn events(&self) -> Arc<PipelineEvents> {
        Arc::new(PipelineEvents {
            mappings: self.0.mappings.clone(),
            reconcile: self.0.reconcile_now.clone(),
        })
    }

    pub fn reconciler(&self) -> Reconciler {
        Reconciler {
            db: self.0.db.clone(),
            queue: self.0.queue.clone(),
            in_flight: self.0.in_flight.clone(),
            wake: self.0.wake.clone(),
        }
    }

    /// Deliveries running on this instance now.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight.len()
    }

    /// Runs the delivery workers and the reconciler until `shutdown` turns true, then lets
    /// running deliveries finish within `server.shutdown_grace_secs`. Never fails: a Redis or
    /// PostgreSQL outage is logged and waited out.
    pub async fn run_background(&self, shutdown: watch::Receiver<bool>) {
        let reconciler = tokio::spawn(
            self.reconciler()
                .run(self.0.reconcile_now.clone(), shutdown.clone()),
        );
        if self.0.on_request_only.load(Ordering::Relaxed) {
            tracing::info!("no delivery workers: deliveries run when asked (run_pending)");
            let _ = reconciler.await;
            return;
        }
        let settings = self.settings();
        let pool = self.worker_pool(&settings);
        tracing::info!(
            max_concurrent = settings.server.max_concurrent,
            rate_limit_per_second = settings.server.rate_limit_per_second,
            queue = %self.0.queue.keys()[1],
            "delivery workers started"
        );
        pool.run(shutdown).await;
        let _ = reconciler.await;
        tracing::info!("delivery workers stopped");
    }

    /// The delivery workers of this instance, as configured by `settings` (the limits read at
    /// start; the rate limit follows SIGHUP).
    fn worker_pool(&self, settings: &Settings) -> WorkerPool<Deliverer> {
        let rate_settings = self.0.settings.clone();
        WorkerPool {
            queue: self.0.queue.clone(),
            handler: Arc::new(Deliverer::new(self.0.db.clone(), self.0.settings.clone())),
            config: WorkerConfig {
                // Eight times the DHIS2 calls allowed, so deliveries' reads and records
                // (group-committed in PostgreSQL) overlap the others' calls, in batches
                // large enough to keep the CPUs busy (see JOBS_PER_CALL).
                max_jobs: settings.server.max_concurrent * JOBS_PER_CALL,
                // A worker that stops renewing (killed, frozen, cut off from Redis) loses its
                // jobs after this long.
                lease: Duration::from_secs(settings.server.job_lease_secs),
                idle_poll: Duration::from_millis(250),
                maintain_every: Duration::from_millis(500),
                grace: settings.shutdown_grace(),
            },
            in_flight: self.0.in_flight.clone(),
            wake: self.0.wake.clone(),
            gate: Gate::new(
                settings.server.max_concurrent,
                Box::new(move || rate_settings.borrow().server.rate_limit_per_second),
            ),
        }
    }
}
