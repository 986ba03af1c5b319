//! One delivery attempt, as a queue job: read the open log row, POST the stored DHIS2 payload,
//! record DHIS2's answer, and tell the queue whether to forget the job or retry it later. A
//! prompt delivery writes its row once, when it records the result; one that DHIS2 keeps
//! waiting for [`MARK_AFTER`] is marked `processing` meanwhile. Reads, marks and records of
//! concurrent deliveries are group-committed ([`GroupCommit`]): one statement for all that
//! gathered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use deadpool_postgres::Pool;
use serde_json::Value;
use tokio::sync::watch;

use super::error::SubmissionError;
use super::retry::{self, Next, RetryPolicy};
use crate::config::{ApiSettings, Settings};
use crate::db::TxConn;
use crate::db::submissions::{self, AttemptOf, AttemptRecord, Deliverable, Kind, Status};
use crate::dhis2::{Dhis2Client, Dhis2Error, ImportOutcome, TrackerMode};
use crate::group_commit::{GroupCommit, RunBatch};
use crate::queue::{Gate, JobHandler, Outcome};

/// How long DHIS2 may take to answer before the row is marked `processing` (and the attempt
/// counted) while the call goes on. Most imports are answered well within it, and their rows
/// then go from `queued` to their result in one write.
pub const MARK_AFTER: Duration = Duration::from_secs(1);
/// How long a delivery whose result cannot be recorded (PostgreSQL away) keeps trying before it
/// gives the job back, to be delivered again later.
const RECORD_PATIENCE: Duration = Duration::from_secs(60);
/// Back-off when PostgreSQL cannot even be asked for the row.
const DB_DOWN_DELAY: chrono::Duration = chrono::Duration::seconds(5);
/// Largest batch of reads, marks or records in one statement.
const MAX_BATCH: usize = 256;

pub struct Deliverer {
    db: Pool,
    settings: watch::Receiver<Arc<Settings>>,
    /// Rebuilt when `api.*` changes (SIGHUP).
    client: Mutex<Option<(ApiSettings, Dhis2Client)>>,
    reads: GroupCommit<i64, Option<Deliverable>, SubmissionError>,
    marks: GroupCommit<AttemptOf, bool, SubmissionError>,
    records: GroupCommit<(AttemptOf, AttemptRecord), bool, SubmissionError>,
}

/// Set in the transactions of marks and records. Both find their rows by primary key, but
/// PostgreSQL keeps a generic plan for a prepared statement made from the table sizes of its
/// first runs: on a new installation that was a sequential scan of the nearly empty log, kept
/// (and scanning the whole log for every batch, 50 ms at 200 000 rows) until an ANALYZE
/// happened to replace it. A plan made for each batch costs little next to the batch.
const PLAN_EACH_BATCH: &str = "SET LOCAL plan_cache_mode = force_custom_plan";

/// Reads a batch of rows ([`submissions::deliverable`]).
struct ReadRows(Pool);

impl RunBatch<i64, Option<Deliverable>, SubmissionError> for ReadRows {
    async fn run(&self, ids: Vec<i64>) -> Result<Vec<Option<Deliverable>>, SubmissionError> {
        let db = self.0.get().await?;
        Ok(submissions::deliverable(&db, &ids).await?)
    }
}

/// Marks a batch of long-running attempts ([`submissions::mark_processing`]).
struct MarkRows(Pool);

impl RunBatch<AttemptOf, bool, SubmissionError> for MarkRows {
    async fn run(&self, attempts: Vec<AttemptOf>) -> Result<Vec<bool>, SubmissionError> {
        mark(&mut TxConn::new(self.0.get().await?), &attempts).await
    }
}

async fn mark(db: &mut TxConn, attempts: &[AttemptOf]) -> Result<Vec<bool>, SubmissionError> {
    let tx = db.transaction().await?;
    // A mark lost in a crash only leaves the attempt uncounted, like an attempt cut short
    // before its mark; it need not wait for its WAL flush.
    tx.batch_execute(&format!(
        "SET LOCAL synchronous_commit = off; {PLAN_EACH_BATCH}"
    ))
    .await?;
    let marked = submissions::mark_processing(&tx, attempts).await?;
    tx.commit().await?;
    db.transaction_ended();
    Ok(marked)
}

/// Records a batch of attempts ([`submissions::record_attempts`]).
struct RecordAttempts(Pool);

impl RunBatch<(AttemptOf, AttemptRecord), bool, SubmissionError> for RecordAttempts {
    async fn run(
        &self,
        records: Vec<(AttemptOf, AttemptRecord)>,
    ) -> Result<Vec<bool>, SubmissionError> {
        record(&mut TxConn::new(self.0.get().await?), &records).await
    }
}

async fn record(
    db: &mut TxConn,
    records: &[(AttemptOf, AttemptRecord)],
) -> Result<Vec<bool>, SubmissionError> {
    let tx = db.transaction().await?;
    tx.batch_execute(PLAN_EACH_BATCH).await?;
    let recorded = submissions::record_attempts(&tx, records).await?;
    tx.commit().await?;
    db.transaction_ended();
    Ok(recorded)
}

impl JobHandler for Deliverer {
    async fn handle(&self, id: i64, gate: &Gate) -> Outcome {
        match self.deliver(id, gate).await {
            Ok(Some(Next::Done)) => Outcome::Done,
            Ok(Some(Next::RetryAt(due))) => Outcome::RetryAt(due),
            Ok(None) => Outcome::Release,
            Err(e) => {
                tracing::warn!(submission_id = id, error = %e, "delivery postponed");
                Outcome::RetryAt(Utc::now() + DB_DOWN_DELAY)
            }
        }
    }
}

impl Deliverer {
    /// Starts the group-commit tasks of reads, marks and records (needs a Tokio runtime).
    pub fn new(db: Pool, settings: watch::Receiver<Arc<Settings>>) -> Deliverer {
        Deliverer {
            reads: GroupCommit::start(MAX_BATCH, ReadRows(db.clone())),
            marks: GroupCommit::start(MAX_BATCH, MarkRows(db.clone())),
            records: GroupCommit::start(MAX_BATCH, RecordAttempts(db.clone())),
            db,
            settings,
            client: Mutex::new(None),
        }
    }

    fn client(&self, api: &ApiSettings) -> Result<Dhis2Client, Dhis2Error> {
        let mut cached = self.client.lock().expect("client lock");
        if let Some((settings, client)) = cached.as_ref()
            && settings == api
        {
            return Ok(client.clone());
        }
        let client = Dhis2Client::new(api)?;
        *cached = Some((api.clone(), client.clone()));
        Ok(client)
    }

    #[tracing::instrument(name = "deliver", skip(self, gate), fields(submission_id = id))]
    async fn deliver(&self, id: i64, gate: &Gate) -> Result<Option<Next>, SubmissionError> {
        let settings = self.settings.borrow().clone();
        let Some(row) = self.reads.call(id).await? else {
            tracing::debug!("already settled or deleted; nothing to deliver");
            return Ok(Some(Next::Done));
        };
        // Only the call itself counts against server.max_concurrent and the rate limit; the
        // read and the record overlap other deliveries' calls.
        let (result, attempt) = {
            let Some(_place) = gate.enter().await else {
                // Stopping: the call has not started, so nothing can be cut in the middle.
                // The job goes back to the queue, to be delivered once by whoever runs next.
                tracing::debug!("stopping before the DHIS2 call; the job is given back");
                return Ok(None);
            };
            self.send_marking_if_slow(&row, &settings).await
        };
        let policy = RetryPolicy {
            max_retries: settings.server.max_retries,
            base: Duration::from_millis(settings.server.retry_backoff_base_ms),
            cap: Duration::from_millis(settings.server.retry_backoff_cap_ms),
            save_response: settings.api.save_response,
        };
        let (record, next) = retry::decide(
            &result,
            row.retry_count,
            &policy,
            Utc::now(),
            &mut rand::rng(),
        );
        log_attempt(row.attempts + 1, &record, &result);
        crate::metrics::delivery(row.kind, record.status.as_str());
        if self.record(attempt, &record).await? {
            return Ok(Some(next));
        }
        // The row changed while DHIS2 was answering: requeued (deliver again), settled by a
        // duplicate delivery, or deleted.
        let db = self.db.get().await?;
        if submissions::is_open(&db, id).await? {
            Ok(Some(Next::RetryAt(Utc::now())))
        } else {
            Ok(Some(Next::Done))
        }
    }

    /// Sends the row to DHIS2; if the answer takes longer than [`MARK_AFTER`], marks the row
    /// `processing` while waiting for it. Returns the result and which attempt it was.
    async fn send_marking_if_slow(
        &self,
        row: &Deliverable,
        settings: &Settings,
    ) -> (Result<ImportOutcome, Dhis2Error>, AttemptOf) {
        let mut attempt = AttemptOf {
            id: row.id,
            requeue_count: row.requeue_count,
            started_at: Utc::now(),
            marked: false,
        };
        let started = std::time::Instant::now();
        let send = self.send(row, settings);
        tokio::pin!(send);
        let result = tokio::select! {
            result = &mut send => result,
            _ = tokio::time::sleep(MARK_AFTER) => {
                let (marked, result) = tokio::join!(self.marks.call(attempt), send);
                attempt.marked = marked.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "cannot mark the delivery as processing");
                    false
                });
                result
            }
        };
        crate::metrics::dhis2_latency(row.kind, started.elapsed());
        (result, attempt)
    }

    async fn send(
        &self,
        row: &Deliverable,
        settings: &Settings,
    ) -> Result<ImportOutcome, Dhis2Error> {
        let client = self.client(&settings.api)?;
        match row.kind {
            // Sent as stored: the log keeps exactly the bytes DHIS2 received.
            Kind::Aggregate => {
                client
                    .post_data_value_set_json(row.dhis2_payload.clone())
                    .await
            }
            Kind::Tracker => {
                let payload: Value = serde_json::from_str(&row.dhis2_payload).map_err(|e| {
                    Dhis2Error::InvalidConfig(format!("the stored DHIS2 payload is not JSON: {e}"))
                })?;
                client
                    .post_tracker(&payload, TrackerMode::from_settings(&settings.api))
                    .await
            }
        }
    }

    /// Records the attempt, waiting out a PostgreSQL outage for a while: DHIS2 has the data
    /// now, and delivering it again (the alternative) makes a duplicate.
    async fn record(
        &self,
        attempt: AttemptOf,
        record: &AttemptRecord,
    ) -> Result<bool, SubmissionError> {
        let deadline = tokio::time::Instant::now() + RECORD_PATIENCE;
        let mut wait = Duration::from_millis(200);
        loop {
            match self.records.call((attempt, record.clone())).await {
                Err(e) if e.is_unavailable() && tokio::time::Instant::now() < deadline => {
                    tracing::warn!(error = %e, "cannot record the delivery yet; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }
}

fn log_attempt(attempt: i32, record: &AttemptRecord, result: &Result<ImportOutcome, Dhis2Error>) {
    match (record.status, result) {
        (Status::Completed, _) => {
            tracing::info!(attempt, status = record.status.as_str(), counts = ?record.counts, "delivered")
        }
        (Status::CompletedWithConflicts, _) => tracing::warn!(
            attempt,
            status = record.status.as_str(),
            counts = ?record.counts,
            conflicts = record.conflicts.as_array().map_or(0, Vec::len),
            "delivered with conflicts"
        ),
        (Status::Retrying, Err(e)) => tracing::warn!(
            attempt,
            retry = record.retry_count,
            next_attempt_at = ?record.next_attempt_at,
            error = %e,
            "delivery failed; will retry"
        ),
        (_, Err(e)) => {
            tracing::warn!(attempt, exhausted = record.exhausted, error = %e, "delivery failed")
        }
        (_, Ok(_)) => tracing::warn!(attempt, errors = ?record.errors, "DHIS2 rejected the import"),
    }
}
