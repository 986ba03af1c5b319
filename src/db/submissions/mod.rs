//! The `submission_log` table: batched inserts with idempotency keys, requeue, and the scans of
//! open rows for the reconciler. A delivery's read, mark and record steps are in [`delivery`];
//! reads for the API (one row, filtered pages, delete, purge) are in [`list`].

pub mod delivery;
pub mod list;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use uuid::Uuid;

pub use delivery::{
    AttemptOf, AttemptRecord, Deliverable, deliverable, mark_processing, record_attempts,
};
pub use list::LogFilter;

pub use crate::domain::submission::{Kind, Status};

/// `status IN (...)` of the rows still owed a delivery. `submission_open` holds their ids (V6):
/// every statement that makes a row open adds its id there, and the one that settles it removes
/// it, so that `status` is in no index and a status change can be a HOT update.
const OPEN: &str = "status IN ('queued', 'processing', 'retrying')";

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
/// Returns the ids requeued: those that exist and have a DHIS2 payload to send. A row with an
/// empty payload (adopted from the original's database, which never built one for it) is never
/// requeued: there is nothing to send; [`list::without_payload`] names them.
pub async fn requeue(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<i64>, tokio_postgres::Error> {
    let rows = db
        .query(
            "WITH queued AS (UPDATE submission_log SET status = 'queued', retry_count = 0, \
               exhausted = false, requeue_count = requeue_count + 1, next_attempt_at = NULL, \
               completed_at = NULL, updated_at = now() \
             WHERE id = ANY($1) AND dhis2_payload <> '' RETURNING id), \
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
