//! The request audit log (`request_audit`): records made by the HTTP edge, queued in a bounded
//! channel and written in batches by one task per instance ([`run_writer`], supervised), so a
//! request never waits on this table. A full channel drops the record and counts it
//! ([`AuditLog::dropped`]) rather than slow the request.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tokio::sync::{mpsc, watch};
use tokio_postgres::GenericClient;

use crate::config::Settings;

/// Records waiting for the writer; beyond this, new ones are dropped and counted.
pub const CHANNEL_CAPACITY: usize = 16_384;
/// Most rows in one INSERT.
const BATCH: usize = 1_000;
/// How long the writer gathers rows after the first one before it writes them. One INSERT of
/// many rows costs PostgreSQL far less per row than many INSERTs of a few (writing each arrival
/// at once cost 35-40 µs of PostgreSQL CPU per accepted submission under load, bench/README.md),
/// and nobody reads the audit log within a quarter of a second.
const LINGER: Duration = Duration::from_millis(250);
/// How often old rows are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub method: &'static str,
    /// The route template (`/api/v2/logs/{id}`), or `(no route)`.
    pub route: &'static str,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub status: i16,
    pub duration_us: i64,
    pub submission_id: Option<i64>,
}

/// A stored record.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub record: AuditRecord,
    pub route: String,
    pub method: String,
}

/// The instance's audit channel: the sending half for the HTTP edge, the receiving half for
/// the writer task.
pub struct AuditLog {
    tx: mpsc::Sender<AuditRecord>,
    rx: Mutex<Option<mpsc::Receiver<AuditRecord>>>,
    dropped: AtomicU64,
}

impl Default for AuditLog {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        AuditLog {
            tx,
            rx: Mutex::new(Some(rx)),
            dropped: AtomicU64::new(0),
        }
    }
}

impl AuditLog {
    /// Queues a record without waiting; a full channel drops it and counts the drop.
    pub fn record(&self, record: AuditRecord) {
        if self.tx.try_send(record).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "request audit records dropped: the writer falls behind"
                );
            }
        }
    }

    /// Records dropped since start because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The receiving half, for the one writer task.
    pub fn take_receiver(&self) -> Option<mpsc::Receiver<AuditRecord>> {
        self.rx.lock().expect("not poisoned").take()
    }
}

/// What the handlers of one request add to its record (a task-local set by the HTTP edge).
#[derive(Default)]
pub struct RequestNotes {
    pub user: Cell<Option<(i64, String)>>,
    pub submission_id: Cell<Option<i64>>,
}

tokio::task_local! {
    pub static NOTES: RequestNotes;
}

/// Notes the submission a request logged (called by the submission service).
pub fn note_submission(id: i64) {
    let _ = NOTES.try_with(|n| n.submission_id.set(Some(id)));
}

/// Writes what arrives, in batches, and purges rows older than `http.audit_keep_days` every
/// hour; ends when `stop` turns true, after writing what is queued.
pub async fn run_writer(
    pool: Pool,
    mut rx: mpsc::Receiver<AuditRecord>,
    settings: watch::Receiver<Arc<Settings>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut purge = tokio::time::interval(PURGE_EVERY);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    return;
                }
                gather(&mut rx, &mut batch).await;
                write(&pool, &mut batch).await;
            }
            _ = purge.tick() => {
                let days = settings.borrow().http.audit_keep_days;
                if days > 0 && let Ok(client) = pool.get().await {
                    match purge_older_than(&**client, days).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(rows = n, days, "request audit log purged"),
                        Err(e) => tracing::warn!(error = %e, "request audit purge failed"),
                    }
                }
            }
            () = async { let _ = stop.wait_for(|s| *s).await; } => {
                rx.close();
                while rx.recv_many(&mut batch, BATCH).await > 0 {
                    write(&pool, &mut batch).await;
                }
                return;
            }
        }
    }
}

/// Adds what arrives within [`LINGER`] to `batch`, up to [`BATCH`] rows.
async fn gather(rx: &mut mpsc::Receiver<AuditRecord>, batch: &mut Vec<AuditRecord>) {
    let deadline = tokio::time::sleep(LINGER);
    tokio::pin!(deadline);
    while batch.len() < BATCH {
        tokio::select! {
            n = rx.recv_many(batch, BATCH - batch.len()) => if n == 0 { return },
            () = &mut deadline => return,
        }
    }
}

/// Writes a batch (emptying it); a failure is logged and the batch lost, never retried
/// forever: the audit log must not grow memory while PostgreSQL is away.
async fn write(pool: &Pool, batch: &mut Vec<AuditRecord>) {
    let result = match pool.get().await {
        Ok(client) => insert(&**client, batch).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, rows = batch.len(), "request audit records not written");
    }
    batch.clear();
}

pub async fn insert(
    db: &impl GenericClient,
    records: &[AuditRecord],
) -> Result<u64, tokio_postgres::Error> {
    let at: Vec<DateTime<Utc>> = records.iter().map(|r| r.at).collect();
    let method: Vec<&str> = records.iter().map(|r| r.method).collect();
    let route: Vec<&str> = records.iter().map(|r| r.route).collect();
    let user_id: Vec<Option<i64>> = records.iter().map(|r| r.user_id).collect();
    let username: Vec<Option<&str>> = records.iter().map(|r| r.username.as_deref()).collect();
    let status: Vec<i16> = records.iter().map(|r| r.status).collect();
    let duration: Vec<i64> = records.iter().map(|r| r.duration_us).collect();
    let submission: Vec<Option<i64>> = records.iter().map(|r| r.submission_id).collect();
    db.execute(
        "INSERT INTO request_audit (at, method, route, user_id, username, status, duration_us, submission_id) \
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::text[], \
                              $6::smallint[], $7::bigint[], $8::bigint[])",
        &[&at, &method, &route, &user_id, &username, &status, &duration, &submission],
    )
    .await
}

pub async fn purge_older_than(
    db: &impl GenericClient,
    days: u32,
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "DELETE FROM request_audit WHERE at < now() - make_interval(days => $1)",
        &[&(days as i32)],
    )
    .await
}

/// Filters of a listing; `before` is the keyset cursor (an id).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub username: Option<String>,
    pub method: Option<String>,
    pub route: Option<String>,
    pub status: Option<i16>,
    pub submission_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Newest first.
pub async fn list(
    db: &impl GenericClient,
    f: &AuditFilter,
) -> Result<Vec<AuditRow>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT id, at, method, route, user_id, username, status, duration_us, submission_id \
             FROM request_audit \
             WHERE ($1::text IS NULL OR username = $1) AND ($2::text IS NULL OR method = $2) \
               AND ($3::text IS NULL OR route = $3) AND ($4::smallint IS NULL OR status = $4) \
               AND ($5::bigint IS NULL OR submission_id = $5) \
               AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7) \
               AND ($8::bigint IS NULL OR id < $8) \
             ORDER BY id DESC LIMIT $9",
            &[
                &f.username,
                &f.method,
                &f.route,
                &f.status,
                &f.submission_id,
                &f.from,
                &f.to,
                &f.before,
                &f.limit,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| AuditRow {
            id: row.get(0),
            method: row.get(2),
            route: row.get(3),
            record: AuditRecord {
                at: row.get(1),
                method: "",
                route: "",
                user_id: row.get(4),
                username: row.get(5),
                status: row.get(6),
                duration_us: row.get(7),
                submission_id: row.get(8),
            },
        })
        .collect())
}
