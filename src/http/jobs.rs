//! Scheduled jobs (/api/v2/jobs…): each job's schedule, next firing and last run; a job's runs;
//! and "run now", which goes through the same claim as the scheduler, so it never overlaps a
//! scheduled run.

use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::domain::job_run::JobRun;
use crate::http::auth::ApiAuth;
use crate::http::{ApiError, FieldError, Tag};
use crate::scheduler::status::{self, JobStatus};
use crate::scheduler::{JobName, JobOptions, SchedulerError};
use crate::state::AppState;

pub struct JobsApi {
    pub state: AppState,
}

/// Largest `limit` of a runs page.
const MAX_RUNS_PAGE: i64 = 500;

/// A job: its schedule and its last run.
#[derive(Debug, Object)]
pub struct JobView {
    /// `sync`, `retry`, `threshold` or `directory`.
    pub name: String,
    /// The config key of its cron expression.
    pub config_key: String,
    /// Cron expression (5 fields, or 6 with seconds first); empty when disabled.
    pub expression: String,
    /// IANA zone the expression is read in (`server.timezone`).
    pub time_zone: String,
    pub enabled: bool,
    #[oai(nullable)]
    pub next_firing: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub last_run: Option<JobRun>,
    /// Length of the last run, once it finished.
    #[oai(nullable)]
    pub last_duration_ms: Option<i64>,
}

impl From<JobStatus> for JobView {
    fn from(s: JobStatus) -> Self {
        JobView {
            name: s.job.as_str().to_owned(),
            config_key: s.job.cron_key().to_owned(),
            expression: s.expression,
            time_zone: s.time_zone,
            enabled: s.enabled,
            next_firing: s.next_firing,
            last_duration_ms: s.last_run.as_ref().and_then(JobRun::duration_ms),
            last_run: s.last_run,
        }
    }
}

#[derive(Debug, Object)]
pub struct JobList {
    pub jobs: Vec<JobView>,
}

/// Runs of one job, newest first.
#[derive(Debug, Object)]
pub struct JobRunPage {
    pub items: Vec<JobRun>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[oai(nullable)]
    pub next_before: Option<i64>,
}

/// A manual run that has started.
#[derive(Debug, Object)]
pub struct RunStarted {
    pub run_id: i64,
    pub job: String,
    /// Where its runs (this one first) can be followed.
    pub runs_url: String,
}

#[derive(ApiResponse)]
pub enum RunResponse {
    /// Claimed and started; it runs in the background.
    #[oai(status = 202)]
    Started(Json<RunStarted>),
}

fn job_name(name: &str) -> Result<JobName, ApiError> {
    JobName::parse(name).ok_or_else(|| SchedulerError::UnknownJob(name.to_owned()).into())
}

#[OpenApi(tag = "Tag::Jobs")]
impl JobsApi {
    /// Every scheduled job: its cron expression, time zone, whether it is enabled, its next
    /// firing and its last run (admin, viewer).
    #[oai(path = "/api/v2/jobs", method = "get")]
    async fn list_jobs(&self, _auth: ApiAuth) -> Result<Json<JobList>, ApiError> {
        let settings = self.state.settings();
        let now = self.state.scheduler().clock().now();
        let jobs = status::jobs(self.state.db(), &settings, now).await?;
        Ok(Json(JobList {
            jobs: jobs.into_iter().map(JobView::from).collect(),
        }))
    }

    /// A job's runs, newest first, paged by run id (admin, viewer).
    #[oai(path = "/api/v2/jobs/:name/runs", method = "get")]
    async fn list_runs(
        &self,
        _auth: ApiAuth,
        name: Path<String>,
        /// Only runs with an id below this (the previous page's `next_before`).
        before: Query<Option<i64>>,
        /// 1 to 500; default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<JobRunPage>, ApiError> {
        job_name(&name.0)?;
        let limit = limit.0.unwrap_or(50);
        if !(1..=MAX_RUNS_PAGE).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid query",
                vec![FieldError {
                    field: "limit".into(),
                    message: format!("{limit} is not between 1 and {MAX_RUNS_PAGE}"),
                }],
            ));
        }
        let items = status::runs(self.state.db(), &name.0, before.0, limit).await?;
        let next_before = (items.len() as i64 == limit)
            .then(|| items.last().map(|r| r.id))
            .flatten();
        Ok(Json(JobRunPage { items, next_before }))
    }

    /// Runs a job now (admin). It goes through the scheduler's claim: 409 while the job is
    /// running, on this instance or another; 202 with the run's id once claimed.
    #[oai(path = "/api/v2/jobs/:name/run", method = "post")]
    async fn run_job(&self, _auth: ApiAuth, name: Path<String>) -> Result<RunResponse, ApiError> {
        let job = job_name(&name.0)?;
        let runs = self.state.scheduler().clone();
        let claimed = runs.claim_now(job).await?;
        tokio::spawn(async move { runs.execute(claimed, JobOptions::default()).await });
        Ok(RunResponse::Started(Json(RunStarted {
            run_id: claimed.id,
            job: job.as_str().to_owned(),
            runs_url: format!("/api/v2/jobs/{}/runs", job.as_str()),
        })))
    }
}
