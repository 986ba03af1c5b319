//! The `job_runs` table (V8): claiming a firing, renewing and closing a run, failing runs whose
//! instance died, and reading runs back. Every time comes from the caller (the scheduler's
//! clock), never from `now()`, so tests can run a simulated day in milliseconds.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::Row;

use crate::domain::job_run::{JobRun, Outcome, Trigger};

const COLUMNS: &str = "id, job, scheduled_for, trigger, instance, started_at, finished_at, \
    outcome, counts, error";

/// What claiming a firing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This instance runs it: the run's id.
    Started(i64),
    /// Another instance already claimed this firing.
    Taken,
    /// The previous run of the job (`running`, on `instance`) is still going.
    Overlaps { running: i64, instance: String },
}

/// A firing to claim.
#[derive(Debug, Clone)]
pub struct Firing<'a> {
    pub job: &'a str,
    pub scheduled_for: DateTime<Utc>,
    pub trigger: Trigger,
    pub instance: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

/// Claims `firing` for this instance. The insert either wins the (job, scheduled_for) key and
/// the one-running-per-job index, or does nothing; what it ran into is then read back.
pub async fn claim(
    db: &impl GenericClient,
    firing: &Firing<'_>,
) -> Result<Claim, tokio_postgres::Error> {
    // The run that blocked the insert may finish between the insert and the read: try again.
    for _ in 0..3 {
        let inserted = db
            .query_opt(
                "INSERT INTO job_runs (job, scheduled_for, trigger, instance, started_at, lease_until) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
                &[
                    &firing.job,
                    &firing.scheduled_for,
                    &firing.trigger.as_str(),
                    &firing.instance,
                    &firing.now,
                    &firing.lease_until,
                ],
            )
            .await?;
        if let Some(row) = inserted {
            return Ok(Claim::Started(row.get(0)));
        }
        let taken = db
            .query_opt(
                "SELECT 1 FROM job_runs WHERE job = $1 AND scheduled_for = $2",
                &[&firing.job, &firing.scheduled_for],
            )
            .await?;
        if taken.is_some() {
            return Ok(Claim::Taken);
        }
        if let Some(row) = running(db, firing.job).await? {
            return Ok(Claim::Overlaps {
                running: row.0,
                instance: row.1,
            });
        }
    }
    Ok(Claim::Taken)
}

/// The run of `job` in progress, if any: (id, instance).
async fn running(
    db: &impl GenericClient,
    job: &str,
) -> Result<Option<(i64, String)>, tokio_postgres::Error> {
    Ok(db
        .query_opt(
            "SELECT id, instance FROM job_runs WHERE job = $1 AND outcome IS NULL",
            &[&job],
        )
        .await?
        .map(|r| (r.get(0), r.get(1))))
}

/// Records a firing that was not run, unless another instance recorded it first. Returns the
/// row's id when this call wrote it.
pub async fn record_skipped(
    db: &impl GenericClient,
    firing: &Firing<'_>,
    reason: &str,
) -> Result<Option<i64>, tokio_postgres::Error> {
    Ok(db
        .query_opt(
            "INSERT INTO job_runs (job, scheduled_for, trigger, instance, started_at, finished_at, \
               outcome, error) VALUES ($1, $2, $3, $4, $5, $5, 'skipped', $6) \
             ON CONFLICT (job, scheduled_for) DO NOTHING RETURNING id",
            &[
                &firing.job,
                &firing.scheduled_for,
                &firing.trigger.as_str(),
                &firing.instance,
                &firing.now,
                &reason,
            ],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Extends a run's lease. False when the run is no longer open (another instance failed it
/// after its lease lapsed).
pub async fn renew(
    db: &impl GenericClient,
    id: i64,
    lease_until: DateTime<Utc>,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "UPDATE job_runs SET lease_until = $2 WHERE id = $1 AND outcome IS NULL",
            &[&id, &lease_until],
        )
        .await?;
    Ok(n == 1)
}

/// Closes a run. False when it was already closed (failed for a lapsed lease).
pub async fn finish(
    db: &impl GenericClient,
    id: i64,
    now: DateTime<Utc>,
    outcome: Outcome,
    counts: &Value,
    error: Option<&str>,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "UPDATE job_runs SET finished_at = $2, outcome = $3, counts = $4, error = $5, \
               lease_until = NULL WHERE id = $1 AND outcome IS NULL",
            &[&id, &now, &outcome.as_str(), counts, &error],
        )
        .await?;
    Ok(n == 1)
}

/// Fails the open runs of `job` whose lease lapsed before `now`: their instance stopped (killed,
/// or cut off from the database). Returns (id, instance) of each.
pub async fn fail_lapsed(
    db: &impl GenericClient,
    job: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, String)>, tokio_postgres::Error> {
    Ok(db
        .query(
            "UPDATE job_runs SET outcome = 'failed', finished_at = $2, lease_until = NULL, \
               error = 'instance ' || instance || ' stopped renewing the run''s lease' \
             WHERE job = $1 AND outcome IS NULL AND lease_until < $2 RETURNING id, instance",
            &[&job, &now],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

fn job_run(row: &Row) -> JobRun {
    JobRun {
        id: row.get(0),
        job: row.get(1),
        scheduled_for: row.get(2),
        trigger: Trigger::parse(row.get(3)).unwrap_or(Trigger::Schedule),
        instance: row.get(4),
        started_at: row.get(5),
        finished_at: row.get(6),
        outcome: row.get::<_, Option<&str>>(7).and_then(Outcome::parse),
        counts: row.get(8),
        error: row.get(9),
    }
}

/// One run.
pub async fn get(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<JobRun>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM job_runs WHERE id = $1");
    Ok(db.query_opt(&sql, &[&id]).await?.as_ref().map(job_run))
}

/// The latest run of each job (by start).
pub async fn latest_per_job(db: &impl GenericClient) -> Result<Vec<JobRun>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT DISTINCT ON (job) {COLUMNS} FROM job_runs ORDER BY job, started_at DESC, id DESC"
    );
    Ok(db.query(&sql, &[]).await?.iter().map(job_run).collect())
}

/// Runs of `job`, newest first, `limit` of them with an id below `before` (keyset paging).
pub async fn list(
    db: &impl GenericClient,
    job: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<JobRun>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM job_runs WHERE job = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    );
    let before = before.unwrap_or(i64::MAX);
    Ok(db
        .query(&sql, &[&job, &before, &limit])
        .await?
        .iter()
        .map(job_run)
        .collect())
}

/// Whether a run (of any outcome) is recorded for this firing.
pub async fn exists(
    db: &impl GenericClient,
    job: &str,
    scheduled_for: DateTime<Utc>,
) -> Result<bool, tokio_postgres::Error> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM job_runs WHERE job = $1 AND scheduled_for = $2",
            &[&job, &scheduled_for],
        )
        .await?
        .is_some())
}

/// Deletes finished runs that started before `before`; returns how many.
pub async fn purge(
    db: &impl GenericClient,
    before: DateTime<Utc>,
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "DELETE FROM job_runs WHERE started_at < $1 AND outcome IS NOT NULL",
        &[&before],
    )
    .await
}
