//! One run of a job, start to end: claim the firing in PostgreSQL (exactly one instance wins it,
//! and never while the job's previous run is going), run the job while renewing the claim's
//! lease, and record how it ended. The scheduler, the API and `run-job` all run jobs here.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::Pool;
use crate::db::job_runs::{self, Claim, Firing};
use crate::domain::job_run::{Outcome, Trigger};

use super::clock::Clock;
use super::error::SchedulerError;
use super::jobs::{JobName, JobOptions, JobReport, JobRunner};

/// A claimed run, ready to execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub job: JobName,
    pub scheduled_for: DateTime<Utc>,
    pub trigger: Trigger,
}

/// How a run ended, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub id: i64,
    pub outcome: Outcome,
    pub counts: Value,
    pub error: Option<String>,
}

/// Claims and runs jobs for one instance.
pub struct Runs {
    db: Pool,
    clock: Arc<dyn Clock>,
    jobs: Arc<dyn JobRunner>,
    instance: String,
    lease: chrono::Duration,
}

impl Runs {
    pub fn new(
        db: Pool,
        clock: Arc<dyn Clock>,
        jobs: Arc<dyn JobRunner>,
        instance: String,
        lease_secs: u64,
    ) -> Self {
        let lease = chrono::Duration::seconds(i64::try_from(lease_secs).unwrap_or(i64::MAX / 1000));
        Self {
            db,
            clock,
            jobs,
            instance,
            lease,
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn db(&self) -> &Pool {
        &self.db
    }

    /// Claims `job`'s firing at `scheduled_for`. `None` when another instance has it, or when the
    /// previous run is still going (a scheduled or catch-up firing is then recorded `skipped`,
    /// by whichever instance gets there first; a manual one is refused with
    /// [`SchedulerError::AlreadyRunning`]).
    pub async fn claim(
        &self,
        job: JobName,
        scheduled_for: DateTime<Utc>,
        trigger: Trigger,
    ) -> Result<Option<Claimed>, SchedulerError> {
        let db = self.db.get().await?;
        let now = self.clock.now();
        for (id, instance) in job_runs::fail_lapsed(&db, job.as_str(), now).await? {
            tracing::warn!(
                job = job.as_str(),
                run = id,
                instance = %instance,
                "a run's lease lapsed (its instance stopped): recorded as failed"
            );
        }
        let firing = Firing {
            job: job.as_str(),
            scheduled_for,
            trigger,
            instance: &self.instance,
            now,
            lease_until: now + self.lease,
        };
        match job_runs::claim(&db, &firing).await? {
            Claim::Started(id) => Ok(Some(Claimed {
                id,
                job,
                scheduled_for,
                trigger,
            })),
            Claim::Taken => Ok(None),
            Claim::Overlaps { running, instance } if trigger == Trigger::Manual => {
                Err(SchedulerError::AlreadyRunning {
                    job: job.as_str(),
                    run: running,
                    instance,
                })
            }
            Claim::Overlaps { running, instance } => {
                let reason =
                    format!("the previous run (#{running} on {instance}) was still running");
                if let Some(id) = job_runs::record_skipped(&db, &firing, &reason).await? {
                    tracing::info!(
                        job = job.as_str(),
                        run = id,
                        scheduled_for = %scheduled_for,
                        instance = %self.instance,
                        outcome = "skipped",
                        reason = %reason,
                        "job run skipped"
                    );
                }
                Ok(None)
            }
        }
    }

    /// Runs a claimed job to its end, renewing the lease every third of it, and records the
    /// outcome. A job's own failure is recorded, not returned.
    pub async fn execute(&self, claimed: Claimed, options: JobOptions) -> Finished {
        let Claimed {
            id,
            job,
            scheduled_for,
            trigger,
        } = claimed;
        let started = self.clock.now();
        tracing::info!(
            job = job.as_str(),
            run = id,
            scheduled_for = %scheduled_for,
            instance = %self.instance,
            trigger = trigger.as_str(),
            "job run started"
        );
        let result = self.with_lease(id, job, self.jobs.run(job, options)).await;
        let (outcome, counts, error) = match result {
            Ok(JobReport {
                skipped: None,
                counts,
            }) => (Outcome::Ok, Value::Object(counts), None),
            Ok(JobReport {
                skipped: Some(why),
                counts,
            }) => (Outcome::Skipped, Value::Object(counts), Some(why)),
            Err(e) => (
                Outcome::Failed,
                Value::Object(Default::default()),
                Some(format!("{e:#}")),
            ),
        };
        crate::metrics::job_run(job.as_str(), outcome.as_str());
        let finished_at = self.clock.now();
        let duration_ms = (finished_at - started).num_milliseconds();
        match self
            .record_end(id, finished_at, outcome, &counts, error.as_deref())
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                job = job.as_str(),
                run = id,
                "the run had already been closed as failed (its lease lapsed); its outcome is not recorded"
            ),
            Err(e) => {
                tracing::error!(job = job.as_str(), run = id, error = %e, "could not record the run's end")
            }
        }
        let counts_text = counts.to_string();
        if outcome == Outcome::Failed {
            tracing::warn!(
                job = job.as_str(),
                run = id,
                scheduled_for = %scheduled_for,
                instance = %self.instance,
                outcome = outcome.as_str(),
                duration_ms,
                error = error.as_deref().unwrap_or(""),
                "job run finished"
            );
        } else {
            tracing::info!(
                job = job.as_str(),
                run = id,
                scheduled_for = %scheduled_for,
                instance = %self.instance,
                outcome = outcome.as_str(),
                duration_ms,
                counts = %counts_text,
                "job run finished"
            );
        }
        Finished {
            id,
            outcome,
            counts,
            error,
        }
    }

    async fn with_lease(
        &self,
        id: i64,
        job: JobName,
        work: super::jobs::JobFuture,
    ) -> anyhow::Result<JobReport> {
        tokio::pin!(work);
        loop {
            let renew_at = self.clock.now() + self.lease / 3;
            tokio::select! {
                result = &mut work => return result,
                () = self.clock.sleep_until(renew_at) => {
                    let lease_until = self.clock.now() + self.lease;
                    match self.renew(id, lease_until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = job.as_str(), run = id, "the run's lease was taken away; it runs on unrecorded"),
                        Err(e) => tracing::warn!(job = job.as_str(), run = id, error = %e, "could not renew the run's lease"),
                    }
                }
            }
        }
    }

    async fn renew(&self, id: i64, lease_until: DateTime<Utc>) -> Result<bool, SchedulerError> {
        let db = self.db.get().await?;
        Ok(job_runs::renew(&db, id, lease_until).await?)
    }

    async fn record_end(
        &self,
        id: i64,
        now: DateTime<Utc>,
        outcome: Outcome,
        counts: &Value,
        error: Option<&str>,
    ) -> Result<bool, SchedulerError> {
        let db = self.db.get().await?;
        Ok(job_runs::finish(&db, id, now, outcome, counts, error).await?)
    }

    /// Claims a manual run now and executes it to its end.
    pub async fn run_now(
        &self,
        job: JobName,
        options: JobOptions,
    ) -> Result<Finished, SchedulerError> {
        let claimed = self.claim_now(job).await?;
        Ok(self.execute(claimed, options).await)
    }

    /// Claims a manual run now (refused while the job runs).
    pub async fn claim_now(&self, job: JobName) -> Result<Claimed, SchedulerError> {
        let now = self.clock.now();
        self.claim(job, now, Trigger::Manual)
            .await?
            // Two manual runs asked for in the same microsecond: the second finds the first.
            .ok_or(SchedulerError::AlreadyRunning {
                job: job.as_str(),
                run: 0,
                instance: self.instance.clone(),
            })
    }
}

/// `host:pid`, naming this process in `job_runs` and the journal.
pub fn instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}
