//! `GET /api/v2/queue/stats`: the console's queue page in one read-only call. The delivery
//! queue in Redis (waiting, leased, scheduled for a retry), the open submissions in PostgreSQL
//! by status, failures of the last day, deliveries per minute over the last hour, and whether
//! DHIS2 answers (with its version). DHIS2 is asked at most every 30 seconds per instance.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::db::queue_stats;
use crate::dhis2::Dhis2Client;
use crate::http::auth::ApiAuth;
use crate::http::{ApiError, Tag};
use crate::state::AppState;

pub struct QueueStatsApi {
    pub state: AppState,
}

/// Deliveries completed in one minute.
#[derive(Debug, Clone, Object)]
pub struct MinuteCount {
    pub minute: DateTime<Utc>,
    pub delivered: i64,
}

/// Whether DHIS2 answered `GET /api/system/info`.
#[derive(Debug, Clone, Object)]
pub struct Dhis2Reach {
    pub reachable: bool,
    /// DHIS2's `version`, when it answered.
    #[oai(nullable)]
    pub version: Option<String>,
    /// Why it did not, when it did not.
    #[oai(nullable)]
    pub error: Option<String>,
    pub checked_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct QueueStatsBody {
    /// Jobs waiting in the Redis queue for a worker.
    pub waiting: u64,
    /// Jobs a worker holds right now.
    pub in_flight: u64,
    /// Jobs scheduled for a later attempt (back-off after a failure).
    pub scheduled: u64,
    /// Open submissions in the log, by status.
    pub queued: i64,
    pub processing: i64,
    pub retrying: i64,
    /// Submissions of the last 24 hours that failed for good.
    pub failed_last_24h: i64,
    /// Deliveries completed in the current minute so far.
    pub delivered_last_minute: i64,
    /// Deliveries completed in the last 60 minutes (the sum of `delivered_per_minute`).
    pub delivered_last_hour: i64,
    /// The last 60 minutes, oldest first, one entry per minute (zeros included).
    pub delivered_per_minute: Vec<MinuteCount>,
    pub dhis2: Dhis2Reach,
}

/// How long one answer about DHIS2 is reused.
const DHIS2_CHECK_EVERY: Duration = Duration::from_secs(30);

/// The last answer, with the DHIS2 address it is about (the address may be reloaded).
static LAST_DHIS2_CHECK: Mutex<Option<(String, Instant, Dhis2Reach)>> = Mutex::new(None);

async fn dhis2_reach(state: &AppState) -> Dhis2Reach {
    let settings = state.settings();
    let base_url = settings.api.dhis2_base_url.to_string();
    if let Some((url, at, reach)) = LAST_DHIS2_CHECK.lock().expect("not poisoned").as_ref()
        && *url == base_url
        && at.elapsed() < DHIS2_CHECK_EVERY
    {
        return reach.clone();
    }
    let answer = match Dhis2Client::new(&settings.api) {
        Ok(client) => client.system_info().await,
        Err(e) => Err(e),
    };
    let reach = match answer {
        Ok(info) => Dhis2Reach {
            reachable: true,
            version: info["version"].as_str().map(str::to_owned),
            error: None,
            checked_at: Utc::now(),
        },
        Err(e) => Dhis2Reach {
            reachable: false,
            version: None,
            error: Some(e.to_string()),
            checked_at: Utc::now(),
        },
    };
    *LAST_DHIS2_CHECK.lock().expect("not poisoned") =
        Some((base_url, Instant::now(), reach.clone()));
    reach
}

/// The last 60 minutes with a count each (0 where the database had none).
fn fill_minutes(counts: &[(DateTime<Utc>, i64)], now: DateTime<Utc>) -> Vec<MinuteCount> {
    let this_minute = now - Duration::from_secs(u64::from(now.timestamp().rem_euclid(60) as u32));
    let this_minute = this_minute.with_nanosecond_zeroed().unwrap_or(this_minute);
    (0..60)
        .rev()
        .map(|back| {
            let minute = this_minute - chrono::Duration::minutes(back);
            let delivered = counts
                .iter()
                .find(|(m, _)| *m == minute)
                .map_or(0, |(_, n)| *n);
            MinuteCount { minute, delivered }
        })
        .collect()
}

trait ZeroNanos: Sized {
    fn with_nanosecond_zeroed(self) -> Option<Self>;
}

impl ZeroNanos for DateTime<Utc> {
    fn with_nanosecond_zeroed(self) -> Option<Self> {
        chrono::Timelike::with_nanosecond(&self, 0)
    }
}

#[OpenApi(tag = "Tag::Logs")]
impl QueueStatsApi {
    /// The delivery queue at a glance (admin, viewer): Redis queue depth, open submissions by
    /// status, failures of the last 24 hours, deliveries per minute over the last hour, DHIS2
    /// reachability and version (checked at most every 30 seconds).
    #[oai(path = "/api/v2/queue/stats", method = "get")]
    async fn queue_stats(&self, _auth: ApiAuth) -> Result<Json<QueueStatsBody>, ApiError> {
        self.stats().await
    }

    /// The same answer as `GET /api/v2/queue/stats`, at the path the original's issue named:
    /// depth (`waiting`), `in_flight`, `retrying`, failures, deliveries in the last minute and
    /// hour, for the console and for scripts.
    #[oai(path = "/api/v2/queue", method = "get")]
    async fn queue(&self, _auth: ApiAuth) -> Result<Json<QueueStatsBody>, ApiError> {
        self.stats().await
    }
}

impl QueueStatsApi {
    async fn stats(&self) -> Result<Json<QueueStatsBody>, ApiError> {
        let redis = self
            .state
            .submissions()
            .queue()
            .stats()
            .await
            .map_err(|e| ApiError::unavailable("Redis", &e))?;
        let db = self
            .state
            .db()
            .get()
            .await
            .map_err(|e| ApiError::unavailable("PostgreSQL", &e))?;
        let database = |e: tokio_postgres::Error| ApiError::unavailable("PostgreSQL", &e);
        let open = queue_stats::open_counts(&db).await.map_err(database)?;
        let failed = queue_stats::failed_last_day(&db).await.map_err(database)?;
        let per_minute = queue_stats::delivered_per_minute(&db)
            .await
            .map_err(database)?;
        let now: DateTime<Utc> = db
            .query_one("SELECT now()", &[])
            .await
            .map_err(database)?
            .get(0);
        let minutes = fill_minutes(&per_minute, now);
        Ok(Json(QueueStatsBody {
            waiting: redis.pending,
            in_flight: redis.leased,
            scheduled: redis.scheduled,
            queued: open.queued,
            processing: open.processing,
            retrying: open.retrying,
            failed_last_24h: failed,
            delivered_last_minute: minutes.last().map_or(0, |m| m.delivered),
            delivered_last_hour: minutes.iter().map(|m| m.delivered).sum(),
            delivered_per_minute: minutes,
            dhis2: dhis2_reach(&self.state).await,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_minutes_oldest_first_with_zeros() {
        let now: DateTime<Utc> = "2026-01-01T10:30:42.5Z".parse().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let filled = fill_minutes(
            &[
                (at("2026-01-01T10:30:00Z"), 4),
                (at("2026-01-01T09:31:00Z"), 2),
            ],
            now,
        );
        assert_eq!(filled.len(), 60);
        assert_eq!(filled[0].minute, at("2026-01-01T09:31:00Z"));
        assert_eq!(filled[0].delivered, 2);
        assert_eq!(filled[59].minute, at("2026-01-01T10:30:00Z"));
        assert_eq!(filled[59].delivered, 4);
        assert_eq!(filled.iter().map(|m| m.delivered).sum::<i64>(), 6);
    }
}
