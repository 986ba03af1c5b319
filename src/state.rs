//! The shared context every handler and worker gets: settings (reloadable), database, Redis.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::auth::AuthCache;
use crate::config::Settings;
use crate::db::Pool;
use crate::queue::RedisClients;
use crate::scheduler::{Jobs, Runs, SystemClock, instance_id};
use crate::submissions::Submissions;
use crate::supervise::TaskHealth;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: watch::Receiver<Arc<Settings>>,
    pub db: Pool,
    pub redis: RedisClients,
    pub started_at: Instant,
    /// The submission pipeline (accept, logs, requeue; its workers run from `app.rs`).
    pub submissions: Submissions,
    /// Users and API tokens of `Bearer`/`Token` credentials (emptied by NOTIFY, see `app.rs`).
    pub auth_cache: Arc<AuthCache>,
    /// Which supervised background task died, if one did (`/ready` shows it).
    pub tasks: TaskHealth,
    /// Claims and runs scheduled jobs for this instance (the scheduler, the jobs API).
    pub scheduler: Arc<Runs>,
    /// The request audit log's channel (http/audit.rs records, db/audit.rs writes).
    pub audit: crate::db::audit::AuditLog,
}

impl AppState {
    pub fn new(settings: watch::Receiver<Arc<Settings>>, db: Pool, redis: RedisClients) -> Self {
        let submissions = Submissions::new(settings.clone(), db.clone(), &redis);
        let lease_secs = settings.borrow().scheduler.lease_secs;
        let jobs = Jobs::new(settings.clone(), submissions.clone());
        let scheduler = Arc::new(Runs::new(
            db.clone(),
            Arc::new(SystemClock),
            Arc::new(jobs),
            instance_id(),
            lease_secs,
        ));
        AppState(Arc::new(Inner {
            settings,
            db,
            redis,
            started_at: Instant::now(),
            submissions,
            auth_cache: Arc::default(),
            tasks: TaskHealth::default(),
            scheduler,
            audit: Default::default(),
        }))
    }

    pub fn audit(&self) -> &crate::db::audit::AuditLog {
        &self.0.audit
    }

    /// The settings in force now (SIGHUP may replace the reloadable ones).
    pub fn settings(&self) -> Arc<Settings> {
        self.0.settings.borrow().clone()
    }

    pub fn submissions(&self) -> &Submissions {
        &self.0.submissions
    }

    pub fn auth_cache(&self) -> &Arc<AuthCache> {
        &self.0.auth_cache
    }

    /// The settings channel, for tasks that react to a reload.
    pub fn settings_receiver(&self) -> watch::Receiver<Arc<Settings>> {
        self.0.settings.clone()
    }

    pub fn scheduler(&self) -> &Arc<Runs> {
        &self.0.scheduler
    }

    pub fn tasks(&self) -> &TaskHealth {
        &self.0.tasks
    }

    pub fn db(&self) -> &Pool {
        &self.0.db
    }

    pub fn redis(&self) -> &RedisClients {
        &self.0.redis
    }

    pub fn uptime_secs(&self) -> u64 {
        self.0.started_at.elapsed().as_secs()
    }
}
