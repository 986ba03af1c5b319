//! The figures of the console's queue page, read from the submission log: what is still owed a
//! delivery (through the small `submission_open` table), failures of the last day and
//! deliveries per minute of the last hour. The windows are bounded by `submitted_at` (indexed)
//! so the queries stay cheap on a log of millions of rows.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

/// Counts by status of the submissions still owed a delivery.
#[derive(Debug, Default, Clone)]
pub struct OpenCounts {
    pub queued: i64,
    pub processing: i64,
    pub retrying: i64,
}

pub async fn open_counts(db: &impl GenericClient) -> Result<OpenCounts, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT s.status, count(*) FROM submission_open o \
             JOIN submission_log s ON s.id = o.id GROUP BY s.status",
            &[],
        )
        .await?;
    let mut counts = OpenCounts::default();
    for row in rows {
        let n: i64 = row.get(1);
        match row.get::<_, &str>(0) {
            "queued" => counts.queued = n,
            "processing" => counts.processing = n,
            "retrying" => counts.retrying = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// Submissions of the last 24 hours that failed for good.
pub async fn failed_last_day(db: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    Ok(db
        .query_one(
            "SELECT count(*) FROM submission_log \
             WHERE submitted_at >= now() - interval '24 hours' AND status = 'failed'",
            &[],
        )
        .await?
        .get(0))
}

/// (minute, deliveries completed in it) for the last hour, oldest first; minutes without a
/// delivery are absent. Counts submissions accepted in the last two days.
pub async fn delivered_per_minute(
    db: &impl GenericClient,
) -> Result<Vec<(DateTime<Utc>, i64)>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT date_trunc('minute', completed_at) AS minute, count(*) FROM submission_log \
             WHERE submitted_at >= now() - interval '2 days' \
               AND completed_at >= date_trunc('minute', now()) - interval '59 minutes' \
               AND status IN ('completed', 'completed_with_conflicts') \
             GROUP BY minute ORDER BY minute",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
