//! The delivery task: queued deliveries travel on a Redis queue (`<prefix>:queue:notifications:*`,
//! the submission queue's scripts) while PostgreSQL's `notify_deliveries` stays the system of
//! record. New rows are picked up by polling past the highest id seen; a reconciler pass
//! re-enqueues every open row at start, every 10 s and whenever Redis lost the queue's marker,
//! so a delivery planned just before a crash, or lost with Redis, is still sent. A row is
//! recorded before its job is acknowledged, so a job found again skips a settled row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tokio::sync::{Semaphore, watch};

use super::NotifyError;
use super::attempt::{Channels, Next, attempt};
use super::directory::sync_configured;
use super::send::Clock;
use crate::config::Settings;
use crate::queue::{JobQueue, Lease, RedisClients};

/// The queue's name under the configured prefix.
pub const QUEUE: &str = "notifications";
const LEASE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(200);
const FULL_PASS_EVERY: Duration = Duration::from_secs(10);

/// Sends the queued deliveries until stopped.
#[derive(Clone)]
pub struct Deliverer {
    db: Pool,
    queue: JobQueue,
    settings: watch::Receiver<Arc<Settings>>,
    clock: Option<Arc<dyn Clock>>,
    concurrency: usize,
    backoff_base: Option<Duration>,
}

impl Deliverer {
    pub fn new(
        db: Pool,
        redis: &RedisClients,
        settings: watch::Receiver<Arc<Settings>>,
    ) -> Deliverer {
        Deliverer {
            db,
            queue: JobQueue::new(redis, QUEUE),
            settings,
            clock: None,
            concurrency: 32,
            backoff_base: None,
        }
    }

    /// Paces Telegram by `clock` instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Deliverer {
        self.clock = Some(clock);
        self
    }

    /// How many deliveries may be in progress at once (default 32).
    pub fn with_concurrency(mut self, n: usize) -> Deliverer {
        self.concurrency = n.max(1);
        self
    }

    /// The first retry's delay (default 5 s), doubling with each further retry.
    pub fn with_backoff_base(mut self, base: Duration) -> Deliverer {
        self.backoff_base = Some(base);
        self
    }

    pub fn queue(&self) -> &JobQueue {
        &self.queue
    }

    /// One reconciler pass: every open delivery is enqueued (at its due time) unless the queue
    /// holds it already. Returns the highest id seen and how many were added.
    pub async fn reconcile(&self) -> Result<(i64, usize), NotifyError> {
        let client = self.db.get().await?;
        let (mut after, mut added) = (0i64, 0usize);
        let mut highest = client
            .query_one("SELECT coalesce(max(id), 0) FROM notify_deliveries", &[])
            .await?
            .get::<_, i64>(0);
        self.queue.set_marker().await?;
        loop {
            let rows = client
                .query(
                    "SELECT id, next_attempt_at FROM notify_deliveries
                      WHERE status = 'queued' AND id > $1 ORDER BY id LIMIT 1000",
                    &[&after],
                )
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.get(0);
            highest = highest.max(after);
            added += self.enqueue(&rows).await?;
        }
        Ok((highest, added))
    }

    async fn enqueue(&self, rows: &[tokio_postgres::Row]) -> Result<usize, NotifyError> {
        let now = Utc::now();
        let jobs: Vec<(i64, Option<DateTime<Utc>>)> = rows
            .iter()
            .map(|r| {
                let due: DateTime<Utc> = r.get(1);
                (r.get(0), (due > now).then_some(due))
            })
            .collect();
        Ok(self.queue.enqueue(&jobs).await?)
    }

    /// Enqueues rows committed since `after`; returns the new high-water id.
    async fn pick_up_new(&self, after: i64) -> Result<i64, NotifyError> {
        let client = self.db.get().await?;
        let rows = client
            .query(
                "SELECT id, next_attempt_at FROM notify_deliveries
                  WHERE id > $1 AND status = 'queued' ORDER BY id LIMIT 1000",
                &[&after],
            )
            .await?;
        drop(client);
        let Some(last) = rows.last() else {
            return Ok(after);
        };
        let highest = last.get(0);
        self.enqueue(&rows).await?;
        Ok(highest)
    }

    /// The settings' channels, or the reason they cannot be built (logged once per change).
    fn channels(&self, settings: &Settings) -> Option<Channels> {
        match Channels::from_settings(settings, self.clock.clone()) {
            Ok(mut channels) => {
                if let Some(base) = self.backoff_base {
                    channels.backoff_base = base;
                }
                Some(channels)
            }
            Err(e) => {
                tracing::error!("notifications are not sent: {e}");
                None
            }
        }
    }

    /// The loop; returns when `stop` turns true, after the deliveries in progress finish.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let current = self.settings.borrow_and_update().clone();
        let mut channels = self.channels(&current);
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let running: Arc<Mutex<HashMap<i64, Lease>>> = Arc::default();
        let (mut high_water, mut last_full, mut last_renew) =
            (0i64, None::<Instant>, Instant::now());
        let mut outage = false;
        // The configured recipients are written at start and after each reload, retried until
        // PostgreSQL takes them.
        let mut configured = Some(current);
        while !*stop.borrow() {
            if self.settings.has_changed().unwrap_or(false) {
                let current = self.settings.borrow_and_update().clone();
                channels = self.channels(&current);
                configured = Some(current);
            }
            if let Some(settings) = &configured {
                match sync_configured(&self.db, &settings.notifications).await {
                    Ok(()) => configured = None,
                    Err(e) => tracing::debug!("configured recipients not written yet: {e}"),
                }
            }
            let round = self
                .round(
                    &mut high_water,
                    &mut last_full,
                    &slots,
                    &running,
                    channels.as_ref(),
                )
                .await;
            match (round, outage) {
                (Err(e), false) => {
                    tracing::warn!("notification deliveries paused: {e}");
                    outage = true;
                }
                (Ok(()), true) => {
                    tracing::info!("notification deliveries resumed");
                    outage = false;
                }
                _ => {}
            }
            if last_renew.elapsed() > LEASE / 3 {
                let leases: Vec<Lease> =
                    running.lock().expect("running").values().cloned().collect();
                let _ = self.queue.renew(&leases, LEASE).await;
                last_renew = Instant::now();
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
        }
        // Let the deliveries in progress record their outcome.
        let _ = slots.acquire_many(self.concurrency as u32).await;
    }

    async fn round(
        &self,
        high_water: &mut i64,
        last_full: &mut Option<Instant>,
        slots: &Arc<Semaphore>,
        running: &Arc<Mutex<HashMap<i64, Lease>>>,
        channels: Option<&Channels>,
    ) -> Result<(), NotifyError> {
        let full_due = last_full.is_none_or(|t| t.elapsed() > FULL_PASS_EVERY)
            || !self.queue.marker_present().await?;
        if full_due {
            let (highest, added) = self.reconcile().await?;
            if added > 0 && last_full.is_some() {
                tracing::info!(added, "notification queue rebuilt from PostgreSQL");
            }
            *high_water = (*high_water).max(highest);
            *last_full = Some(Instant::now());
        } else {
            *high_water = self.pick_up_new(*high_water).await?;
        }
        self.queue.maintain(1000).await?;
        let Some(channels) = channels else {
            return Ok(());
        };
        let free = slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        for lease in self.queue.lease(free, LEASE).await? {
            let permit = slots.clone().acquire_owned().await.expect("never closed");
            running
                .lock()
                .expect("running")
                .insert(lease.id, lease.clone());
            let (this, channels, running) = (self.clone(), channels.clone(), running.clone());
            tokio::spawn(async move {
                let settle = match attempt(&this.db, &channels, lease.id).await {
                    Ok(Next::Done) => this.queue.ack(&lease).await,
                    Ok(Next::RetryAt(at)) => this.queue.retry_at(&lease, at).await,
                    Err(e) => {
                        tracing::warn!(delivery = lease.id, "delivery attempt not recorded: {e}");
                        let at = Utc::now() + chrono::Duration::seconds(5);
                        this.queue.retry_at(&lease, at).await
                    }
                };
                if let Err(e) = settle {
                    // The lease runs out and the job comes back; the row tells it what is left.
                    tracing::warn!(delivery = lease.id, "delivery not settled in Redis: {e}");
                }
                running.lock().expect("running").remove(&lease.id);
                drop(permit);
            });
        }
        Ok(())
    }
}
