//! A delivery's steps on its `submission_log` row: read the open row, mark it `processing` when
//! DHIS2 is slow to answer, record the answer. Each works on a batch in one statement (the
//! delivery workers group-commit them, `submissions::deliver`).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use super::{Kind, OPEN, Status};

/// What a worker reads of an open row to deliver it. Reading writes nothing: a delivery that
/// DHIS2 answers promptly changes the row once, when its result is recorded
/// ([`record_attempts`]); one that runs long is marked `processing` meanwhile
/// ([`mark_processing`]).
#[derive(Debug, Clone)]
pub struct Deliverable {
    pub id: i64,
    pub kind: Kind,
    pub dhis2_payload: String,
    /// Retries already used in this round (0 on the first attempt).
    pub retry_count: i32,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The row's requeue count when read. A requeue (or a restart) bumps it, which tells a
    /// record or mark that the row was put back meanwhile and the attempt no longer applies.
    pub requeue_count: i32,
}

/// Reads the open rows among `ids` for delivery, in one statement. One answer per id, in order:
/// `None` when the row is gone or already settled (a stray duplicate job: nothing to do).
///
/// Sent as a one-off statement ([`Client::query_typed`]: parsed, bound and run in one round
/// trip, with no statement to prepare first and close after), so PostgreSQL plans it for the ids
/// of each batch: a cached generic plan made while the log was nearly empty would scan the whole
/// table for every batch.
pub async fn deliverable(
    db: &Client,
    ids: &[i64],
) -> Result<Vec<Option<Deliverable>>, tokio_postgres::Error> {
    let rows = db
        .query_typed(
            &format!(
                "SELECT id, kind, dhis2_payload, retry_count, attempts, requeue_count \
                 FROM submission_log WHERE id = ANY($1) AND {OPEN}"
            ),
            &[(&ids, Type::INT8_ARRAY)],
        )
        .await?;
    let mut found: std::collections::HashMap<i64, Deliverable> = rows
        .iter()
        .map(|row| {
            let id = row.get(0);
            let deliverable = Deliverable {
                id,
                kind: Kind::parse(row.get(1)).unwrap_or(Kind::Aggregate),
                dhis2_payload: row.get(2),
                retry_count: row.get(3),
                attempts: row.get(4),
                requeue_count: row.get(5),
            };
            (id, deliverable)
        })
        .collect();
    Ok(ids.iter().map(|id| found.remove(id)).collect())
}

/// Which attempt a mark or a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptOf {
    pub id: i64,
    /// [`Deliverable::requeue_count`] as read before the attempt.
    pub requeue_count: i32,
    /// When the call to DHIS2 started (`last_attempt_at`).
    pub started_at: DateTime<Utc>,
    /// Whether [`mark_processing`] already counted this attempt.
    pub marked: bool,
}

/// Marks rows whose delivery is taking long as `processing` and counts the attempt (so an
/// attempt that never finishes, the process killed mid-call, is still counted). One answer
/// per attempt, in order: false when the row was settled, requeued or deleted meanwhile.
pub async fn mark_processing(
    db: &impl GenericClient,
    attempts: &[AttemptOf],
) -> Result<Vec<bool>, tokio_postgres::Error> {
    let statement = db
        .prepare_cached(&format!(
            "UPDATE submission_log s SET status = 'processing', attempts = s.attempts + 1, \
               last_attempt_at = v.started_at, updated_at = now(), next_attempt_at = NULL \
             FROM unnest($1::int8[], $2::int4[], $3::timestamptz[]) \
               AS v(id, requeue_count, started_at) \
             WHERE s.id = v.id AND s.requeue_count = v.requeue_count AND s.{OPEN} \
             RETURNING s.id"
        ))
        .await?;
    let ids: Vec<i64> = attempts.iter().map(|a| a.id).collect();
    let requeues: Vec<i32> = attempts.iter().map(|a| a.requeue_count).collect();
    let started: Vec<DateTime<Utc>> = attempts.iter().map(|a| a.started_at).collect();
    let marked: std::collections::HashSet<i64> = db
        .query(&statement, &[&ids, &requeues, &started])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    Ok(ids.iter().map(|id| marked.contains(id)).collect())
}

/// The result of one delivery attempt, as the log keeps it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub status: Status,
    pub response: Option<String>,
    pub response_status: Option<i32>,
    /// imported, updated, ignored, deleted.
    pub counts: Option<[i32; 4]>,
    pub conflicts: Value,
    pub errors: Option<String>,
    pub retry_count: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Failed after transient errors outlasted the retries.
    pub exhausted: bool,
}

/// Records attempts on rows still open and not requeued since the attempt began, in one
/// statement, counting each attempt not already counted by its mark. One answer per record, in
/// order: false when the row changed meanwhile (settled by another delivery, requeued or
/// deleted), and the caller must not treat the job as settled.
pub async fn record_attempts(
    db: &impl GenericClient,
    records: &[(AttemptOf, AttemptRecord)],
) -> Result<Vec<bool>, tokio_postgres::Error> {
    let statement = db
        .prepare_cached(&format!(
            "WITH settled AS (UPDATE submission_log s SET status = v.status, response = v.response, \
               response_status = v.response_status, imported = v.imported, \
               updated = v.updated, ignored = v.ignored, deleted = v.deleted, \
               conflicts = v.conflicts, errors = v.errors, retry_count = v.retry_count, \
               next_attempt_at = v.next_attempt_at, exhausted = v.exhausted, \
               attempts = s.attempts + CASE WHEN v.marked THEN 0 ELSE 1 END, \
               last_attempt_at = v.started_at, updated_at = now(), \
               completed_at = CASE WHEN v.status IN ('completed', 'completed_with_conflicts', \
                                                     'failed') THEN now() END \
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::int4[], \
                         $6::int4[], $7::int4[], $8::int4[], $9::jsonb[], $10::text[], \
                         $11::int4[], $12::timestamptz[], $13::bool[], $14::int4[], \
                         $15::timestamptz[], $16::bool[]) \
               AS v(id, status, response, response_status, imported, updated, ignored, \
                    deleted, conflicts, errors, retry_count, next_attempt_at, exhausted, \
                    requeue_count, started_at, marked) \
             WHERE s.id = v.id AND s.requeue_count = v.requeue_count AND s.{OPEN} \
             RETURNING s.id, s.status), \
             closed AS (DELETE FROM submission_open WHERE id IN \
               (SELECT id FROM settled WHERE status NOT IN ('queued', 'processing', 'retrying'))) \
             SELECT id FROM settled"
        ))
        .await?;
    let ids: Vec<i64> = records.iter().map(|(of, _)| of.id).collect();
    let statuses: Vec<&str> = records.iter().map(|(_, r)| r.status.as_str()).collect();
    let responses: Vec<Option<&str>> = records.iter().map(|(_, r)| r.response.as_deref()).collect();
    let http: Vec<Option<i32>> = records.iter().map(|(_, r)| r.response_status).collect();
    let count = |i: usize| -> Vec<Option<i32>> {
        records
            .iter()
            .map(|(_, r)| r.counts.map(|c| c[i]))
            .collect()
    };
    let conflicts: Vec<&Value> = records.iter().map(|(_, r)| &r.conflicts).collect();
    let errors: Vec<Option<&str>> = records.iter().map(|(_, r)| r.errors.as_deref()).collect();
    let retries: Vec<i32> = records.iter().map(|(_, r)| r.retry_count).collect();
    let next: Vec<Option<DateTime<Utc>>> = records.iter().map(|(_, r)| r.next_attempt_at).collect();
    let exhausted: Vec<bool> = records.iter().map(|(_, r)| r.exhausted).collect();
    let requeues: Vec<i32> = records.iter().map(|(of, _)| of.requeue_count).collect();
    let started: Vec<DateTime<Utc>> = records.iter().map(|(of, _)| of.started_at).collect();
    let marked: Vec<bool> = records.iter().map(|(of, _)| of.marked).collect();
    let changed: std::collections::HashSet<i64> = db
        .query(
            &statement,
            &[
                &ids,
                &statuses,
                &responses,
                &http,
                &count(0),
                &count(1),
                &count(2),
                &count(3),
                &conflicts,
                &errors,
                &retries,
                &next,
                &exhausted,
                &requeues,
                &started,
                &marked,
            ],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    Ok(ids.iter().map(|id| changed.contains(id)).collect())
}
