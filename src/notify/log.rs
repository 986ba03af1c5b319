//! The deliveries log and the recipient directory as the API lists them, and a person's retry
//! of one delivery.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde::Serialize;

use super::NotifyError;
use super::deliver::QUEUE;
use super::notice::Channel;
use crate::queue::{JobQueue, RedisClients};

/// One delivery with its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub alert_id: i64,
    pub channel: String,
    pub address: String,
    pub recipient_id: Option<i64>,
    pub recipient_name: String,
    pub broadcast: bool,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Each attempt: (number, time, outcome, the provider's answer).
    pub history: Vec<(i32, DateTime<Utc>, String, String)>,
}

/// Filters of the deliveries list; every one optional.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub alert_id: Option<i64>,
    pub channel: Option<String>,
    pub status: Option<String>,
    /// Part of the address or of the recipient's name (case-insensitive).
    pub recipient: Option<String>,
    /// Only ids below this (paging, newest first).
    pub before: Option<i64>,
    pub limit: i64,
}

pub async fn list(db: &Pool, f: &DeliveryFilter) -> Result<Vec<DeliveryRow>, NotifyError> {
    if let Some(c) = &f.channel
        && Channel::parse(c).is_none()
    {
        return Err(NotifyError::invalid("channel", "email, sms or telegram"));
    }
    if let Some(s) = &f.status
        && !["queued", "sent", "failed"].contains(&s.as_str())
    {
        return Err(NotifyError::invalid("status", "queued, sent or failed"));
    }
    let pattern = f.recipient.as_ref().map(|r| {
        format!(
            "%{}%",
            r.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let client = db.get().await?;
    let rows = client
        .query(
            "SELECT d.id, d.alert_id, d.channel, d.address, d.recipient_id, d.recipient_name,
                    d.broadcast, d.status, d.attempts, d.last_error, d.next_attempt_at,
                    d.created_at, d.sent_at,
                    coalesce((SELECT array_agg(a.attempt ORDER BY a.attempt) FROM notify_attempts a WHERE a.delivery_id = d.id), '{}'),
                    coalesce((SELECT array_agg(a.at ORDER BY a.attempt) FROM notify_attempts a WHERE a.delivery_id = d.id), '{}'),
                    coalesce((SELECT array_agg(a.outcome ORDER BY a.attempt) FROM notify_attempts a WHERE a.delivery_id = d.id), '{}'),
                    coalesce((SELECT array_agg(a.answer ORDER BY a.attempt) FROM notify_attempts a WHERE a.delivery_id = d.id), '{}')
               FROM notify_deliveries d
              WHERE ($1::bigint IS NULL OR d.alert_id = $1)
                AND ($2::text IS NULL OR d.channel = $2)
                AND ($3::text IS NULL OR d.status = $3)
                AND ($4::text IS NULL OR d.address ILIKE $4 OR d.recipient_name ILIKE $4)
                AND ($5::bigint IS NULL OR d.id < $5)
              ORDER BY d.id DESC LIMIT $6",
            &[&f.alert_id, &f.channel, &f.status, &pattern, &f.before, &f.limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let numbers: Vec<i32> = r.get(13);
            let times: Vec<DateTime<Utc>> = r.get(14);
            let outcomes: Vec<String> = r.get(15);
            let answers: Vec<String> = r.get(16);
            DeliveryRow {
                id: r.get(0),
                alert_id: r.get(1),
                channel: r.get(2),
                address: r.get(3),
                recipient_id: r.get(4),
                recipient_name: r.get(5),
                broadcast: r.get(6),
                status: r.get(7),
                attempts: r.get(8),
                last_error: r.get(9),
                next_attempt_at: r.get(10),
                created_at: r.get(11),
                sent_at: r.get(12),
                history: numbers
                    .into_iter()
                    .zip(times)
                    .zip(outcomes.into_iter().zip(answers))
                    .map(|((n, t), (o, a))| (n, t, o, a))
                    .collect(),
            }
        })
        .collect())
}

/// Queues a delivery again, due now. A delivery that used up its attempts gets one more; a
/// sent one is sent again (a person asked). Redis is told at once; if it is away, the
/// reconciler enqueues the row within seconds.
pub async fn retry(db: &Pool, redis: &RedisClients, id: i64) -> Result<(), NotifyError> {
    let client = db.get().await?;
    let updated = client
        .execute(
            "UPDATE notify_deliveries SET status = 'queued', next_attempt_at = now(),
                    updated_at = now()
              WHERE id = $1",
            &[&id],
        )
        .await?;
    if updated == 0 {
        return Err(NotifyError::NotFound(id));
    }
    if let Err(e) = JobQueue::new(redis, QUEUE).enqueue_now(&[id]).await {
        tracing::warn!(
            delivery = id,
            "retry not enqueued, the reconciler will: {e}"
        );
    }
    Ok(())
}

/// One entry of the directory, with why an address is skipped.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientRow {
    pub id: i64,
    pub source: String,
    pub source_key: String,
    pub username: Option<String>,
    pub name: String,
    pub org_unit_paths: Vec<String>,
    pub diseases: Option<Vec<String>>,
    pub email: Option<String>,
    pub email_skip: Option<String>,
    pub phone: Option<String>,
    pub phone_skip: Option<String>,
    pub telegram: Option<String>,
    pub telegram_skip: Option<String>,
    pub telegram_blocked_at: Option<DateTime<Utc>>,
    pub synced_at: DateTime<Utc>,
}

pub async fn recipients(
    db: &Pool,
    source: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<RecipientRow>, NotifyError> {
    let client = db.get().await?;
    let rows = client
        .query(
            "SELECT id, source, source_key, username, name, org_unit_paths, diseases, email,
                    email_skip, phone, phone_skip, telegram, telegram_skip, telegram_blocked_at,
                    synced_at
               FROM notify_recipients
              WHERE ($1::text IS NULL OR source = $1) AND id > $2
              ORDER BY id LIMIT $3",
            &[&source, &after, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| RecipientRow {
            id: r.get(0),
            source: r.get(1),
            source_key: r.get(2),
            username: r.get(3),
            name: r.get(4),
            org_unit_paths: r.get(5),
            diseases: r.get(6),
            email: r.get(7),
            email_skip: r.get(8),
            phone: r.get(9),
            phone_skip: r.get(10),
            telegram: r.get(11),
            telegram_skip: r.get(12),
            telegram_blocked_at: r.get(13),
            synced_at: r.get(14),
        })
        .collect())
}

/// How many of one alert's deliveries are on one channel in one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryCount {
    pub channel: String,
    pub status: String,
    pub count: i64,
}

/// An alert's deliveries counted per channel and status (channels and statuses it has none in
/// are left out), ordered by channel then status.
pub async fn counts_for_alert(db: &Pool, alert_id: i64) -> Result<Vec<DeliveryCount>, NotifyError> {
    let client = db.get().await?;
    let rows = client
        .query(
            "SELECT channel, status, count(*) FROM notify_deliveries WHERE alert_id = $1
              GROUP BY channel, status ORDER BY channel, status",
            &[&alert_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| DeliveryCount {
            channel: r.get(0),
            status: r.get(1),
            count: r.get(2),
        })
        .collect())
}
