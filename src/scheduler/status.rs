//! What the jobs API and `dhis2gw jobs` show: each job's schedule, next firing and last run, and
//! a job's runs page by page.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::db::Pool;
use crate::db::job_runs;
use crate::domain::job_run::JobRun;

use super::error::SchedulerError;
use super::firings;
use super::jobs::JobName;

/// One job as configured, with its last run.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub job: JobName,
    pub expression: String,
    pub time_zone: String,
    pub enabled: bool,
    pub next_firing: Option<DateTime<Utc>>,
    pub last_run: Option<JobRun>,
}

/// Every job, in registry order.
pub async fn jobs(
    db: &Pool,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<JobStatus>, SchedulerError> {
    let client = db.get().await?;
    let latest = job_runs::latest_per_job(&client).await?;
    let zone = settings.server.timezone;
    Ok(JobName::ALL
        .into_iter()
        .map(|job| {
            let schedule = job.schedule(settings);
            JobStatus {
                job,
                expression: schedule.as_str().to_owned(),
                time_zone: zone.name().to_owned(),
                enabled: schedule.cron().is_some(),
                next_firing: schedule
                    .cron()
                    .and_then(|cron| firings::next_after(cron, zone, now)),
                last_run: latest.iter().find(|r| r.job == job.as_str()).cloned(),
            }
        })
        .collect())
}

/// Runs of `job`, newest first: `limit` of them older than run `before`.
pub async fn runs(
    db: &Pool,
    job: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<JobRun>, SchedulerError> {
    let job = JobName::parse(job).ok_or_else(|| SchedulerError::UnknownJob(job.to_owned()))?;
    let client = db.get().await?;
    Ok(job_runs::list(&client, job.as_str(), before, limit).await?)
}

/// One run.
pub async fn run(db: &Pool, id: i64) -> Result<Option<JobRun>, SchedulerError> {
    let client = db.get().await?;
    Ok(job_runs::get(&client, id).await?)
}
