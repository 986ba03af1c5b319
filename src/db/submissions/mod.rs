//! The `submission_log` table: batched inserts with idempotency keys, the worker's read, mark and
//! record steps, requeue, and the scans of open rows for the reconciler. Reads for the API
//! (one row, filtered pages, delete, purge) are in [`list`].

pub mod list;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use uuid::Uuid;

pub use list::{LogFilter, SubmissionRow};

/// Where a submission is in its life (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Queued,
    Processing,
    Retrying,
    Completed,
    CompletedWithConflicts,
    Failed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Processing,
        Status::Retrying,
        Status::Completed,
        Status::CompletedWithConflicts,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Processing => "processing",
            Status::Retrying => "retrying",
            Status::Completed => "completed",
            Status::CompletedWithConflicts => "completed_with_conflicts",
            Status::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still owed a delivery: queued, processing or retrying.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Queued | Status::Processing | Status::Retrying)
    }
}

/// `status IN (...)` of the rows still owed a delivery. `submission_open` holds their ids (V6):
/// every statement that makes a row open adds its id there, and the one that settles it removes
/// it, so that `status` is in no index and a status change can be a HOT update.
const OPEN: &str = "status IN ('queued', 'processing', 'retrying')";

/// `aggregate` or `tracker` (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Aggregate,
    Tracker,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Aggregate => "aggregate",
            Kind::Tracker => "tracker",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "aggregate" => Some(Kind::Aggregate),
            "tracker" => Some(Kind::Tracker),
            _ => None,
        }
    }
}

/// A validated, mapped submission ready to be logged.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub task_id: Uuid,
    pub kind: Kind,
    pub user_id: Option<i64>,
    pub source_ip: Option<IpAddr>,
    pub idempotency_key: Option<String>,
    pub body_hash: String,
    pub source_name: String,
    pub instance_name: String,
    pub org_unit: Option<String>,
    pub period: Option<String>,
    pub data_set: Option<String>,
    pub payload: Value,
    /// The exact text that will be POSTed to DHIS2.
    pub dhis2_payload: String,
    pub unmapped: Vec<String>,
}

/// What logging one submission of a batch gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// A new row.
    New { id: i64, task_id: Uuid },
    /// The same user already used this idempotency key: the earlier row, and its body hash.
    Existing {
        id: i64,
        task_id: Uuid,
        body_hash: String,
    },
}

/// Inserts a batch of submissions in ONE statement (one commit for all of them: the group
/// commit that lets many concurrent requests share a WAL flush). A submission whose user already
/// used its idempotency key is not inserted; the earlier row is returned instead. The answer has
/// one entry per input, in input order.
pub async fn insert_batch(
    db: &impl GenericClient,
    batch: &[NewSubmission],
) -> Result<Vec<Inserted>, tokio_postgres::Error> {
    let col = |f: fn(&NewSubmission) -> Option<String>| -> Vec<Option<String>> {
        batch.iter().map(f).collect()
    };
    let task_ids: Vec<Uuid> = batch.iter().map(|s| s.task_id).collect();
    let kinds = col(|s| Some(s.kind.as_str().to_owned()));
    let users: Vec<Option<i64>> = batch.iter().map(|s| s.user_id).collect();
    let ips: Vec<Option<IpAddr>> = batch.iter().map(|s| s.source_ip).collect();
    let keys = col(|s| s.idempotency_key.clone());
    let hashes = col(|s| Some(s.body_hash.clone()));
    let sources = col(|s| Some(s.source_name.clone()));
    let instances = col(|s| Some(s.instance_name.clone()));
    let org_units = col(|s| s.org_unit.clone());
    let periods = col(|s| s.period.clone());
    let data_sets = col(|s| s.data_set.clone());
    let payloads: Vec<Value> = batch.iter().map(|s| s.payload.clone()).collect();
    let dhis2 = col(|s| Some(s.dhis2_payload.clone()));
    let unmapped: Vec<Value> = batch
        .iter()
        .map(|s| Value::from(s.unmapped.clone()))
        .collect();
    let statement = db
        .prepare_cached(
            "WITH new AS (INSERT INTO submission_log (task_id, kind, user_id, source_ip, idempotency_key, \
               body_hash, source_name, instance_name, org_unit, period, data_set, payload, \
               dhis2_payload, unmapped) \
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::int8[], $4::inet[], $5::text[], \
               $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
               $12::jsonb[], $13::text[], $14::jsonb[]) \
             ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
             DO NOTHING \
             RETURNING id, task_id), \
             open AS (INSERT INTO submission_open (id) SELECT id FROM new) \
             SELECT id, task_id FROM new",
        )
        .await?;
    let rows = db
        .query(
            &statement,
            &[
                &task_ids, &kinds, &users, &ips, &keys, &hashes, &sources, &instances, &org_units,
                &periods, &data_sets, &payloads, &dhis2, &unmapped,
            ],
        )
        .await?;
    let mut new_ids = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        new_ids.insert(row.get::<_, Uuid>(1), row.get::<_, i64>(0));
    }
    let mut out = Vec::with_capacity(batch.len());
    for submission in batch {
        if let Some(id) = new_ids.get(&submission.task_id) {
            out.push(Inserted::New {
                id: *id,
                task_id: submission.task_id,
            });
            continue;
        }
        // Not inserted: its (user, key) exists, from an earlier request or earlier in this batch.
        let key = submission.idempotency_key.as_deref().unwrap_or_default();
        let row = db
            .query_one(
                "SELECT id, task_id, body_hash FROM submission_log \
                 WHERE user_id IS NOT DISTINCT FROM $1 AND idempotency_key = $2",
                &[&submission.user_id, &key],
            )
            .await?;
        out.push(Inserted::Existing {
            id: row.get(0),
            task_id: row.get(1),
            body_hash: row.get(2),
        });
    }
    Ok(out)
}

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
/// Sent unprepared, so PostgreSQL plans it for the ids of each batch: a cached generic plan
/// made while the log was nearly empty would scan the whole table for every batch.
pub async fn deliverable(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<Option<Deliverable>>, tokio_postgres::Error> {
    let rows = db
        .query(
            &format!(
                "SELECT id, kind, dhis2_payload, retry_count, attempts, requeue_count \
                 FROM submission_log WHERE id = ANY($1) AND {OPEN}"
            ),
            &[&ids],
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

/// Whether the row is still owed a delivery (exists and is open).
pub async fn is_open(db: &impl GenericClient, id: i64) -> Result<bool, tokio_postgres::Error> {
    let row = db
        .query_opt(
            &format!("SELECT 1 FROM submission_log WHERE id = $1 AND {OPEN}"),
            &[&id],
        )
        .await?;
    Ok(row.is_some())
}

/// Puts rows back to `queued` for a fresh round of attempts (retries reset, requeue counted).
/// Returns the ids that exist.
pub async fn requeue(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<i64>, tokio_postgres::Error> {
    let rows = db
        .query(
            "WITH queued AS (UPDATE submission_log SET status = 'queued', retry_count = 0, \
               exhausted = false, requeue_count = requeue_count + 1, next_attempt_at = NULL, \
               completed_at = NULL, updated_at = now() \
             WHERE id = ANY($1) RETURNING id), \
             open AS (INSERT INTO submission_open (id) SELECT id FROM queued \
               ON CONFLICT (id) DO NOTHING) \
             SELECT id FROM queued",
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// An open row, as the reconciler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenRow {
    pub id: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// One page of [`open_rows`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenPage {
    pub rows: Vec<OpenRow>,
    /// Where the next page starts (`after`), or `None` when this was the last one.
    pub next: Option<i64>,
}

/// The open rows with id > `after`, by id, from `submission_open` (`limit` of its ids per page).
/// Ids there whose row is gone or settled (a row changed by hand, a race with a delete) are
/// skipped and removed.
pub async fn open_rows(
    db: &impl GenericClient,
    after: i64,
    limit: i64,
) -> Result<OpenPage, tokio_postgres::Error> {
    let rows = db
        .query(
            &format!(
                // The page of ids first, then one primary-key lookup each: a plain join let the
                // planner merge-join from the log's first row on every page.
                "SELECT o.id, s.next_attempt_at, coalesce(s.{OPEN}, false) \
                 FROM (SELECT id FROM submission_open WHERE id > $1 ORDER BY id LIMIT $2) o \
                 LEFT JOIN submission_log s ON s.id = o.id ORDER BY o.id"
            ),
            &[&after, &limit],
        )
        .await?;
    let mut page = OpenPage {
        next: (rows.len() as i64 == limit)
            .then(|| rows.last().map(|r| r.get(0)))
            .flatten(),
        ..OpenPage::default()
    };
    let mut stale = Vec::new();
    for row in &rows {
        let id: i64 = row.get(0);
        if row.get::<_, bool>(2) {
            page.rows.push(OpenRow {
                id,
                next_attempt_at: row.get(1),
            });
        } else {
            stale.push(id);
        }
    }
    if !stale.is_empty() {
        db.execute(
            &format!(
                "DELETE FROM submission_open o WHERE o.id = ANY($1) AND NOT EXISTS \
                   (SELECT 1 FROM submission_log s WHERE s.id = o.id AND s.{OPEN})"
            ),
            &[&stale],
        )
        .await?;
    }
    Ok(page)
}

/// Of `ids`, those still open now.
pub async fn still_open(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<OpenRow>, tokio_postgres::Error> {
    let rows = db
        .query(
            &format!(
                "SELECT id, next_attempt_at FROM submission_log \
                 WHERE id = ANY($1) AND {OPEN} ORDER BY id"
            ),
            &[&ids],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| OpenRow {
            id: r.get(0),
            next_attempt_at: r.get(1),
        })
        .collect())
}

/// Failed rows the `retry` job may send again: transient errors outlasted their retries
/// (`exhausted`), submitted since `since`, requeued fewer than `max_requeues` times.
pub async fn retry_candidates(
    db: &impl GenericClient,
    since: DateTime<Utc>,
    max_requeues: i32,
    limit: i64,
) -> Result<Vec<i64>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT id FROM submission_log \
             WHERE status = 'failed' AND exhausted AND submitted_at >= $1 \
               AND requeue_count < $2 \
             ORDER BY id LIMIT $3",
            &[&since, &max_requeues, &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
