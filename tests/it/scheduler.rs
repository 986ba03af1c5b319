//! The scheduler: each firing runs exactly once across instances, never overlapping the job's
//! previous run, with catch-up after downtime and correct DST days. Most tests move a
//! [`ManualClock`] through a simulated day against the real PostgreSQL (the arbiter), so no test
//! waits real minutes; the job they run is theirs, to control its length. The API, the CLI, the
//! real retry job and two real `dhis2gw serve` processes are tested too.

mod api;
mod instances;
mod processes;
mod retry_job;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use dhis2gw::config::{CronExpr, Settings};
use dhis2gw::db::Pool;
use dhis2gw::scheduler::jobs::JobFuture;
use dhis2gw::scheduler::{
    Clock, JobName, JobOptions, JobReport, JobRunner, ManualClock, Runs, Scheduler,
};
use tokio::sync::{Semaphore, watch};

use crate::support::app::test_settings;

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A job whose runs the test counts and, with a gate, holds until it lets them go.
#[derive(Default)]
pub struct TestJob {
    pub runs: AtomicUsize,
    /// When set, each run waits for a permit.
    pub gate: Option<Arc<Semaphore>>,
    /// When set, each run never ends (its instance is "killed" by dropping its scheduler).
    pub hang: bool,
}

impl TestJob {
    pub fn gated() -> (Arc<TestJob>, Arc<Semaphore>) {
        let gate = Arc::new(Semaphore::new(0));
        let job = Arc::new(TestJob {
            gate: Some(gate.clone()),
            ..TestJob::default()
        });
        (job, gate)
    }

    pub fn count(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

pub struct SharedJob(pub Arc<TestJob>);

impl JobRunner for SharedJob {
    fn run(&self, _job: JobName, _options: JobOptions) -> JobFuture {
        let job = self.0.clone();
        Box::pin(async move {
            job.runs.fetch_add(1, Ordering::SeqCst);
            if job.hang {
                std::future::pending::<()>().await;
            }
            if let Some(gate) = &job.gate {
                gate.acquire().await.expect("gate open").forget();
            }
            let mut report = JobReport::default();
            report.counts.insert("done".into(), 1.into());
            Ok(report)
        })
    }
}

/// Settings with only the retry job scheduled, on `expression` in `zone`.
pub async fn settings_with(expression: &str, zone: chrono_tz::Tz) -> Settings {
    let mut settings = test_settings().await;
    settings.api.sync_cron_expression = CronExpr::disabled();
    settings.api.retry_cron_expression = CronExpr::parse(expression).unwrap();
    settings.server.timezone = zone;
    settings
}

/// One instance: its own id, the shared clock, database and job.
pub fn instance(
    settings: &Settings,
    pool: &Pool,
    clock: &ManualClock,
    job: &Arc<TestJob>,
    name: &str,
) -> Scheduler {
    let runs = Arc::new(Runs::new(
        pool.clone(),
        Arc::new(clock.clone()),
        Arc::new(SharedJob(job.clone())),
        name.to_owned(),
        settings.scheduler.lease_secs,
    ));
    let (tx, rx) = watch::channel(Arc::new(settings.clone()));
    // The receiver keeps the last value; no reload in these tests.
    std::mem::forget(tx);
    Scheduler::new(runs, rx)
}

/// (scheduled_for, outcome, instance, trigger, error) of every run of `job`, oldest first.
pub async fn runs_of(
    pool: &Pool,
    job: &str,
) -> Vec<(
    DateTime<Utc>,
    Option<String>,
    String,
    String,
    Option<String>,
)> {
    pool.get()
        .await
        .unwrap()
        .query(
            "SELECT scheduled_for, outcome, instance, trigger, error FROM job_runs \
             WHERE job = $1 ORDER BY scheduled_for, id",
            &[&job],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

pub fn pool(settings: &Settings) -> Pool {
    dhis2gw::db::connect(&settings.database).unwrap()
}
