//! The worker pool of one instance: leases jobs from a [`JobQueue`] while it has free job slots,
//! runs a [`JobHandler`] on each, settles the outcomes (those that finished meanwhile, in the
//! same Redis call as the next lease), renews the leases of running jobs (heartbeat), and runs
//! the queue's maintenance step. The handler passes its outbound call through the pool's
//! [`Gate`]: at most `max_concurrent` at once and `rate_limit` per second, so the database work
//! before and after a call overlaps other calls without exceeding the limit. Redis being down is logged and waited out, never fatal. On
//! shutdown it stops leasing, lets running jobs finish within the grace period, and gives back
//! the rest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::jobs::{JobQueue, Lease, QueueError, Settle};
use super::rate::TokenBucket;

/// Largest batch of settles in one script call.
const MAX_SETTLE_BATCH: usize = 256;

/// What the handler decided about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished (whatever the result): forget the job.
    Done,
    /// Not started (the pool is stopping): give it back to the queue as it was.
    Release,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
}

/// Does the work of one job. Must not panic; failures are outcomes. The rate- and
/// concurrency-limited part of the work (the call to DHIS2) runs inside `gate.enter()`.
pub trait JobHandler: Send + Sync + 'static {
    fn handle(&self, id: i64, gate: &Gate) -> impl Future<Output = Outcome> + Send;
}

/// At most `max_concurrent` holders at once, and (when the rate is not 0) at most `rate` new
/// holders per second.
pub struct Gate {
    permits: Arc<Semaphore>,
    bucket: tokio::sync::Mutex<TokenBucket>,
    rate: Box<dyn Fn() -> u32 + Send + Sync>,
}

impl Gate {
    pub fn new(max_concurrent: usize, rate: Box<dyn Fn() -> u32 + Send + Sync>) -> Gate {
        Gate {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            bucket: tokio::sync::Mutex::new(TokenBucket::new()),
            rate,
        }
    }

    /// Waits for a free place and a rate token; the place is held until the permit drops.
    /// `None` once the gate is [closed](Gate::close): the caller must not start its call.
    pub async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        loop {
            if self.permits.is_closed() {
                return None;
            }
            let rate = (self.rate)();
            let wait = {
                let mut bucket = self.bucket.lock().await;
                match bucket.available(rate, 1) {
                    Ok(_) => {
                        bucket.spend(rate, 1);
                        return Some(permit);
                    }
                    Err(wait) => wait,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Lets nobody in any more (the pool is stopping): waiting and later callers get `None`.
    /// Those inside keep their places until they leave.
    pub fn close(&self) {
        self.permits.close();
    }
}

/// Ids this instance is working on right now, with their lease tokens. The reconciler reads it
/// so that it never re-enqueues a job that is running here.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<i64, String>>>);

impl InFlight {
    pub fn contains(&self, id: i64) -> bool {
        self.0.lock().expect("in-flight lock").contains_key(&id)
    }
    pub fn len(&self) -> usize {
        self.0.lock().expect("in-flight lock").len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub(super) fn insert(&self, lease: &Lease) {
        self.0
            .lock()
            .expect("in-flight lock")
            .insert(lease.id, lease.token.clone());
    }
    pub(super) fn remove(&self, id: i64) {
        self.0.lock().expect("in-flight lock").remove(&id);
    }
    fn leases(&self) -> Vec<Lease> {
        self.0
            .lock()
            .expect("in-flight lock")
            .iter()
            .map(|(id, token)| Lease {
                id: *id,
                token: token.clone(),
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs leased at once (their database work runs outside the gate).
    pub max_jobs: usize,
    /// How long a lease lasts without a heartbeat; a dead worker's jobs come back after this.
    pub lease: Duration,
    /// Longest wait between polls of an empty queue (a local enqueue wakes the pool at once).
    pub idle_poll: Duration,
    /// How often due retries are forwarded and expired leases taken back.
    pub maintain_every: Duration,
    /// On shutdown, how long running jobs get to finish.
    pub grace: Duration,
}

/// Everything the pool runs with.
pub struct WorkerPool<H> {
    pub queue: JobQueue,
    pub handler: Arc<H>,
    pub config: WorkerConfig,
    pub in_flight: InFlight,
    /// Notified by local producers after an enqueue, to skip the idle poll wait.
    pub wake: Arc<Notify>,
    /// What handlers pass their limited work through.
    pub gate: Gate,
}

/// Logs a Redis failure once when it starts and once when it ends, not on every retry.
#[derive(Default)]
struct Outage(bool);

impl Outage {
    fn failed(&mut self, what: &str, err: &QueueError) {
        crate::metrics::redis_error();
        if !self.0 {
            tracing::warn!(error = %err, "{what}: Redis unavailable, retrying");
            self.0 = true;
        }
    }
    fn ok(&mut self, what: &str) {
        if std::mem::take(&mut self.0) {
            tracing::info!("{what}: Redis reachable again");
        }
    }
}

impl<H: JobHandler> WorkerPool<H> {
    /// Runs until `shutdown` turns true, then drains.
    ///
    /// One loop talks to Redis for the jobs: each call settles the jobs that finished since the
    /// last one and leases as many new ones as there are free places (a finished job frees its
    /// place as it hands in its outcome, so the two usually go together). While a call runs, the
    /// next call's settles gather: a busy pool makes few, large calls.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let pool = Arc::new(self);
        // When the stop came: the grace counts from it, not from when this loop sees it (it may
        // be in a Redis call that waits out its timeout first).
        let stop_came = tokio::spawn({
            let mut shutdown = shutdown.clone();
            async move {
                let _ = shutdown.wait_for(|stopping| *stopping).await;
                tokio::time::Instant::now()
            }
        });
        let heartbeat = tokio::spawn(pool.clone().heartbeat(shutdown.clone()));
        let maintain = tokio::spawn(pool.clone().maintain(shutdown.clone()));
        let permits = Arc::new(Semaphore::new(pool.config.max_jobs));
        let (finished_tx, mut finished) = mpsc::unbounded_channel::<(Lease, Settle)>();
        let mut settles: Vec<(Lease, Settle)> = Vec::new();
        let mut tasks = JoinSet::new();
        let mut outage = Outage::default();
        // After a lease that found nothing, leasing waits until `poll_at` (unless woken).
        let mut idle = Duration::from_millis(2);
        let mut poll_at = Instant::now();
        let mut backoff = Duration::from_millis(100);
        // Places taken for the next lease.
        let mut held: Vec<OwnedSemaphorePermit> = Vec::new();
        while !stopping(&shutdown) {
            while tasks.try_join_next().is_some() {}
            while settles.len() < MAX_SETTLE_BATCH {
                match finished.try_recv() {
                    Ok(settle) => settles.push(settle),
                    Err(_) => break,
                }
            }
            if Instant::now() >= poll_at {
                while let Ok(p) = permits.clone().try_acquire_owned() {
                    held.push(p);
                }
            }
            if settles.is_empty() && held.is_empty() {
                let leasing = Instant::now() >= poll_at;
                tokio::select! {
                    Some(settle) = finished.recv() => settles.push(settle),
                    p = permits.clone().acquire_owned(), if leasing => {
                        held.push(p.expect("semaphore never closed"));
                    }
                    _ = tokio::time::sleep_until(poll_at), if !leasing => {}
                    // An enqueue cuts the wait of an idle pool short. A busy pool (no free
                    // place) leases as soon as a place frees anyway: it need not wake up for
                    // every enqueue.
                    _ = pool.wake.notified(), if !leasing => {
                        idle = Duration::from_millis(2);
                        poll_at = Instant::now();
                    }
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            match pool
                .queue
                .settle_and_lease(&settles, held.len(), pool.config.lease)
                .await
            {
                Ok((settled, leases)) => {
                    outage.ok("worker");
                    backoff = Duration::from_millis(100);
                    log_lost_settles(&settles, &settled);
                    settles.clear();
                    if !held.is_empty() {
                        if leases.is_empty() {
                            poll_at = Instant::now() + idle;
                            idle = (idle * 2).min(pool.config.idle_poll);
                        } else {
                            idle = Duration::from_millis(2);
                        }
                    }
                    for (lease, permit) in leases.into_iter().zip(held.drain(..)) {
                        pool.in_flight.insert(&lease);
                        let pool = pool.clone();
                        let finished = finished_tx.clone();
                        tasks.spawn(async move {
                            let outcome = pool.handler.handle(lease.id, &pool.gate).await;
                            // Out of the in-flight set before the settle, so that a heartbeat
                            // that sees it lost afterwards knows the settle may be the cause
                            // (see `heartbeat`). The reconciler still leaves it alone: Redis
                            // holds its lease until the settle.
                            pool.in_flight.remove(lease.id);
                            // The place is free before the loop sees the settle, so the call
                            // that settles this job can lease the next one into it.
                            drop(permit);
                            let _ = finished.send((lease, settle_of(outcome)));
                        });
                    }
                }
                Err(e) => {
                    // The settles stay for the next call. Should Redis stay away past the
                    // lease time, MAINTAIN takes the jobs back and their settles are refused:
                    // they run again, which their PostgreSQL state makes harmless.
                    outage.failed("worker", &e);
                    held.clear();
                    sleep_or_shutdown(backoff, &mut shutdown).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        drop(finished_tx);
        // Jobs leased but not yet at their call give themselves back instead of starting a
        // call that the grace period might cut (and the next start would send again).
        pool.gate.close();
        let stopped_at = if stop_came.is_finished() {
            stop_came
                .await
                .unwrap_or_else(|_| tokio::time::Instant::now())
        } else {
            stop_came.abort();
            tokio::time::Instant::now()
        };
        pool.drain(tasks, finished, settles, stopped_at + pool.config.grace)
            .await;
        heartbeat.abort();
        maintain.abort();
    }

    /// Waits for running jobs until `deadline` (the end of the grace period), settles every
    /// finished job, and gives back those still running; the settles too end by `deadline`.
    async fn drain(
        &self,
        mut tasks: JoinSet<()>,
        mut finished: mpsc::UnboundedReceiver<(Lease, Settle)>,
        mut settles: Vec<(Lease, Settle)>,
        deadline: tokio::time::Instant,
    ) {
        let running = self.in_flight.len();
        if running > 0 {
            tracing::info!(running, "waiting for running deliveries to finish");
        }
        let finished_in_time = tokio::time::timeout_at(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        if !finished_in_time {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        while let Ok(settle) = finished.try_recv() {
            settles.push(settle);
        }
        let unfinished = self.in_flight.leases();
        if !unfinished.is_empty() {
            tracing::warn!(
                count = unfinished.len(),
                "grace period over: giving unfinished jobs back to the queue"
            );
        }
        for lease in unfinished {
            self.in_flight.remove(lease.id);
            settles.push((lease, Settle::Release));
        }
        for batch in settles.chunks(MAX_SETTLE_BATCH) {
            settle_patiently(&self.queue, batch, deadline).await;
        }
    }

    /// Renews the leases of running jobs every third of the lease time.
    async fn heartbeat(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut outage = Outage::default();
        let every = self.config.lease / 3;
        while !stopping(&shutdown) {
            sleep_or_shutdown(every, &mut shutdown).await;
            let leases = self.in_flight.leases();
            match self.queue.renew(&leases, self.config.lease).await {
                Ok(mut lost) => {
                    outage.ok("heartbeat");
                    // A job that finished while the renew ran was settled (acked) by its own
                    // task, not lost: only those still running count.
                    lost.retain(|id| self.in_flight.contains(*id));
                    if !lost.is_empty() {
                        tracing::warn!(jobs = ?lost, "leases lost while the jobs were running");
                    }
                }
                Err(e) => outage.failed("heartbeat", &e),
            }
        }
    }

    /// Forwards due retries and takes back expired leases, for every instance's jobs.
    async fn maintain(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        const BATCH: usize = 1000;
        let mut outage = Outage::default();
        while !stopping(&shutdown) {
            match self.queue.maintain(BATCH).await {
                Ok((forwarded, recovered)) => {
                    outage.ok("queue maintenance");
                    if recovered > 0 {
                        tracing::warn!(
                            recovered,
                            "took back jobs whose worker stopped renewing its lease"
                        );
                    }
                    if forwarded > 0 || recovered > 0 {
                        self.wake.notify_one();
                    }
                    if forwarded as usize == BATCH || recovered as usize == BATCH {
                        continue;
                    }
                }
                Err(e) => outage.failed("queue maintenance", &e),
            }
            sleep_or_shutdown(self.config.maintain_every, &mut shutdown).await;
        }
    }
}

pub(super) fn settle_of(outcome: Outcome) -> Settle {
    match outcome {
        Outcome::Done => Settle::Ack,
        Outcome::Release => Settle::Release,
        Outcome::RetryAt(due) => Settle::RetryAt(due),
    }
}

fn log_lost_settles(settles: &[(Lease, Settle)], settled: &[bool]) {
    for ((lease, _), settled) in settles.iter().zip(settled) {
        if !settled {
            tracing::debug!(job = lease.id, "lease was lost before the job settled");
        }
    }
}

/// Settles jobs at shutdown, retrying until `deadline` (the end of the grace period; one try at
/// least) if Redis is away. If it never succeeds the leases expire and the jobs run again;
/// their PostgreSQL state makes that harmless.
async fn settle_patiently(
    queue: &JobQueue,
    settles: &[(Lease, Settle)],
    deadline: tokio::time::Instant,
) {
    let mut wait = Duration::from_millis(100);
    loop {
        match queue.settle(settles).await {
            Ok(settled) => return log_lost_settles(settles, &settled),
            Err(e) => {
                crate::metrics::redis_error();
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    tracing::warn!(
                        jobs = settles.len(),
                        error = %e,
                        "cannot settle jobs before the grace period ends: their leases expire and \
                         they run again (a delivery already recorded is not sent twice)"
                    );
                    return;
                }
                tracing::warn!(jobs = settles.len(), error = %e, "cannot settle jobs; retrying");
                tokio::time::sleep(wait.min(deadline - now)).await;
                wait = (wait * 2).min(Duration::from_secs(3));
            }
        }
    }
}

/// True once shutdown was asked for (or whoever could ask is gone).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

async fn sleep_or_shutdown(wait: Duration, shutdown: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = shutdown.changed() => {}
    }
}
