//! The registry of scheduled jobs: their names, the config key of each schedule, and what each
//! does. The scheduler, `POST /api/v2/jobs/{name}/run` and `dhis2gw run-job` all go through it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::config::{CronExpr, Settings};
use crate::dhis2::Dhis2Client;
use crate::mappings::sync::{self, SyncOptions};
use crate::submissions::{AUTO_REQUEUE_LIMIT, AUTO_REQUEUE_WITHIN_DAYS, Submissions};

/// Every job dhis2gw runs on a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobName {
    /// Pull the DHIS2 metadata that mappings are checked against.
    Sync,
    /// Requeue failed submissions still eligible, re-enqueue open ones the queue lost.
    Retry,
    /// The outbreak-alert run.
    Threshold,
    /// The notification recipients' directory, from DHIS2 user groups.
    Directory,
}

impl JobName {
    pub const ALL: [JobName; 4] = [
        JobName::Sync,
        JobName::Retry,
        JobName::Threshold,
        JobName::Directory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobName::Sync => "sync",
            JobName::Retry => "retry",
            JobName::Threshold => "threshold",
            JobName::Directory => "directory",
        }
    }

    pub fn parse(text: &str) -> Option<JobName> {
        JobName::ALL.into_iter().find(|j| j.as_str() == text)
    }

    /// The config key that holds the job's cron expression.
    pub fn cron_key(self) -> &'static str {
        match self {
            JobName::Sync => "api.sync_cron_expression",
            JobName::Retry => "api.retry_cron_expression",
            JobName::Threshold => "alerts.cron_expression",
            JobName::Directory => "notifications.directory_cron_expression",
        }
    }

    /// The job's schedule in `settings` (disabled when empty).
    pub fn schedule(self, settings: &Settings) -> &CronExpr {
        match self {
            JobName::Sync => &settings.api.sync_cron_expression,
            JobName::Retry => &settings.api.retry_cron_expression,
            JobName::Threshold => &settings.alerts.cron_expression,
            JobName::Directory => &settings.notifications.directory_cron_expression,
        }
    }
}

/// How a job is asked to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobOptions {
    /// Count what would be done, change nothing (`run-job retry --dry-run`).
    pub dry_run: bool,
    /// `sync` only: fetch everything and remove what DHIS2 no longer has.
    pub full: bool,
    /// `threshold` only: the ISO week to assess instead of the last complete one.
    pub week: Option<dhis2gw_detect::IsoWeek>,
}

/// What a job that ran (or chose not to) reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobReport {
    /// Why the job did nothing, when it did nothing on purpose (recorded as `skipped`).
    pub skipped: Option<String>,
    /// What it did, by name.
    pub counts: Map<String, Value>,
}

pub type JobFuture = Pin<Box<dyn Future<Output = anyhow::Result<JobReport>> + Send>>;

/// Runs a job's work. [`Jobs`] is the real one; tests of the scheduler's timing may give it a
/// job of their own whose length they control.
pub trait JobRunner: Send + Sync + 'static {
    fn run(&self, job: JobName, options: JobOptions) -> JobFuture;
}

/// The jobs dhis2gw has, over the services they call.
#[derive(Clone)]
pub struct Jobs {
    settings: watch::Receiver<Arc<Settings>>,
    submissions: Submissions,
}

impl Jobs {
    pub fn new(settings: watch::Receiver<Arc<Settings>>, submissions: Submissions) -> Self {
        Self {
            settings,
            submissions,
        }
    }
}

impl JobRunner for Jobs {
    fn run(&self, job: JobName, options: JobOptions) -> JobFuture {
        let settings = self.settings.borrow().clone();
        let submissions = self.submissions.clone();
        Box::pin(async move {
            match job {
                JobName::Sync => run_sync(&settings, &submissions, options).await,
                JobName::Retry => run_retry(&submissions, options).await,
                JobName::Threshold => run_threshold(&settings, &submissions, options).await,
                JobName::Directory => {
                    let (skipped, counts) = crate::notify::directory::run_job(
                        submissions.db(),
                        &settings,
                        options.dry_run,
                    )
                    .await?;
                    Ok(JobReport { skipped, counts })
                }
            }
        })
    }
}

/// The outbreak-alert run (`alerts::run`); skipped, saying why, when `alerts.*` lacks what it
/// needs.
async fn run_threshold(
    settings: &Settings,
    submissions: &Submissions,
    options: JobOptions,
) -> anyhow::Result<JobReport> {
    let report = crate::alerts::run::run(
        submissions.db(),
        settings,
        crate::alerts::run::RunOptions {
            dry_run: options.dry_run,
            week: options.week,
        },
    )
    .await?;
    Ok(JobReport {
        skipped: report.skipped,
        counts: report.counts,
    })
}

fn counts(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

async fn run_sync(
    settings: &Settings,
    submissions: &Submissions,
    options: JobOptions,
) -> anyhow::Result<JobReport> {
    use anyhow::Context as _;
    if options.dry_run {
        anyhow::bail!("the sync job has no dry run");
    }
    let client = Dhis2Client::new(&settings.api).context("api.dhis2_*")?;
    let report = sync::sync(
        submissions.db(),
        &client,
        SyncOptions { full: options.full },
    )
    .await?;
    let mut by_collection = Map::new();
    for c in &report {
        by_collection.insert(
            c.collection.to_owned(),
            json!({ "fetched": c.fetched, "removed": c.removed, "full": c.full }),
        );
    }
    Ok(JobReport {
        skipped: None,
        counts: counts(json!({
            "fetched": report.iter().map(|c| c.fetched).sum::<usize>(),
            "removed": report.iter().map(|c| c.removed).sum::<u64>(),
            "collections": by_collection,
        })),
    })
}

async fn run_retry(submissions: &Submissions, options: JobOptions) -> anyhow::Result<JobReport> {
    let within = chrono::Duration::days(AUTO_REQUEUE_WITHIN_DAYS);
    if options.dry_run {
        let candidates = submissions
            .retry_candidates(within, AUTO_REQUEUE_LIMIT)
            .await?;
        return Ok(JobReport {
            skipped: None,
            counts: counts(json!({ "would_requeue": candidates.len(), "ids": candidates })),
        });
    }
    let (requeued, reenqueued) = submissions
        .retry_eligible(within, AUTO_REQUEUE_LIMIT)
        .await?;
    Ok(JobReport {
        skipped: None,
        counts: counts(json!({ "requeued": requeued, "reenqueued": reenqueued })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_job_has_a_documented_key() {
        for job in JobName::ALL {
            assert_eq!(JobName::parse(job.as_str()), Some(job));
            assert!(
                crate::config::keys::find(job.cron_key()).is_some(),
                "{job:?}"
            );
        }
        assert_eq!(JobName::parse("Sync"), None);
    }

    #[test]
    fn defaults_schedule_sync_and_retry_only() {
        let settings = Settings::defaults();
        let enabled: Vec<_> = JobName::ALL
            .into_iter()
            .filter(|j| j.schedule(&settings).cron().is_some())
            .collect();
        assert_eq!(enabled, [JobName::Sync, JobName::Retry]);
    }
}
