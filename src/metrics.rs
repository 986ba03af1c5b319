//! The Prometheus series of `/metrics` (`docs/operations.md` lists them), one named function per
//! thing that happens, so that a call site reads `metrics::submission_accepted(kind)`.
//!
//! Built on the `metrics` crate with its Prometheus recorder, installed once per process
//! ([`install`]) and rendered by [`render`] in our own route (`http/metrics.rs`): the exporter has
//! no listener of its own. Counters and histograms on the request path are handles cached in
//! `OnceLock`s, so counting is an atomic add with no map lookup and no lock; gauges that describe
//! state (queue depth, pools) are sampled when Prometheus scrapes, not kept up to date per event.
//! Several applications in one process (tests) share the one recorder.

use std::sync::OnceLock;
use std::time::Duration;

use ::metrics::{
    Counter, Histogram, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::db::submissions::Kind;
use crate::http::policy::RULES;
use crate::submissions::SubmissionError;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets (seconds) of the HTTP and DHIS2 histograms.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Installs the process-wide recorder (first call) and returns its handle.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if ::metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; /metrics stays empty");
        }
        describe();
        gauge!("dhis2gw_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

/// The exposition text (Prometheus text format 0.0.4).
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

fn describe() {
    describe_gauge!(
        "dhis2gw_build_info",
        "Always 1; the label is the dhis2gw version."
    );
    describe_counter!(
        "dhis2gw_submissions_accepted_total",
        "Submissions logged and queued, by kind (aggregate, tracker)."
    );
    describe_counter!(
        "dhis2gw_submissions_replayed_total",
        "Requests answered with an earlier submission (same Idempotency-Key and body)."
    );
    describe_counter!(
        "dhis2gw_submissions_rejected_total",
        "Submissions refused, by kind and reason (invalid, idempotency_conflict, unavailable, error)."
    );
    describe_counter!(
        "dhis2gw_deliveries_total",
        "Delivery attempts to DHIS2, by kind and outcome (the log status the attempt left: completed, completed_with_conflicts, retrying, failed)."
    );
    describe_histogram!(
        "dhis2gw_dhis2_request_duration_seconds",
        Unit::Seconds,
        "Time DHIS2 took to answer a delivery, by kind (transport errors included)."
    );
    describe_counter!(
        "dhis2gw_http_requests_total",
        "HTTP requests answered, by method, route template and status."
    );
    describe_histogram!(
        "dhis2gw_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template."
    );
    describe_gauge!(
        "dhis2gw_queue_jobs",
        "Delivery jobs in Redis when scraped, by state (waiting, in_flight, scheduled)."
    );
    describe_gauge!(
        "dhis2gw_submissions_open",
        "Open submissions in the PostgreSQL log when scraped, by status (queued, processing, retrying)."
    );
    describe_gauge!(
        "dhis2gw_submissions_failed_last_24h",
        "Submissions of the last 24 hours that failed for good, when scraped."
    );
    describe_counter!(
        "dhis2gw_job_runs_total",
        "Scheduled job runs finished, by job and outcome (ok, skipped, failed)."
    );
    describe_gauge!(
        "dhis2gw_job_last_success_timestamp_seconds",
        "When each scheduled job last finished with outcome ok (Unix time), from job_runs when scraped: the same on every instance."
    );
    describe_counter!(
        "dhis2gw_alerts_total",
        "Outbreak alerts: raised by a run, confirmed in DHIS2, or failed to write there (outcome)."
    );
    describe_counter!(
        "dhis2gw_notification_attempts_total",
        "Notification delivery attempts, by outcome (sent, failed, retry)."
    );
    describe_gauge!(
        "dhis2gw_postgres_pool_connections",
        "The PostgreSQL pool when scraped, by state (open, idle, max, waiting: requests waiting for a connection)."
    );
    describe_counter!(
        "dhis2gw_postgres_errors_total",
        "Failures to get a working PostgreSQL connection (pool timeout, refused, closed)."
    );
    describe_gauge!(
        "dhis2gw_redis_connections",
        "Redis clients when scraped, by state (connected, configured)."
    );
    describe_counter!(
        "dhis2gw_redis_errors_total",
        "Redis commands of the queue that failed."
    );
    describe_gauge!(
        "dhis2gw_scrape_errors",
        "1 when the last scrape could not read a source (postgres, redis), else 0."
    );
}

/// A handle made once, after the recorder is installed (a handle made before would count into
/// nothing forever).
fn cached<T: Clone>(cell: &'static OnceLock<T>, make: impl FnOnce() -> T) -> &'static T {
    cell.get_or_init(|| {
        install();
        make()
    })
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Aggregate => 0,
        Kind::Tracker => 1,
    }
}

pub fn submission_accepted(kind: Kind) {
    static CELLS: [OnceLock<Counter>; 2] = [const { OnceLock::new() }; 2];
    cached(
        &CELLS[kind_index(kind)],
        || counter!("dhis2gw_submissions_accepted_total", "kind" => kind.as_str()),
    )
    .increment(1);
}

pub fn submission_replayed(kind: Kind) {
    static CELLS: [OnceLock<Counter>; 2] = [const { OnceLock::new() }; 2];
    cached(
        &CELLS[kind_index(kind)],
        || counter!("dhis2gw_submissions_replayed_total", "kind" => kind.as_str()),
    )
    .increment(1);
}

const REJECT_REASONS: [&str; 4] = ["invalid", "idempotency_conflict", "unavailable", "error"];

pub fn submission_rejected(kind: Kind, error: &SubmissionError) {
    static CELLS: [OnceLock<Counter>; 8] = [const { OnceLock::new() }; 8];
    let reason = match error {
        SubmissionError::Invalid(_) => 0,
        SubmissionError::IdempotencyMismatch { .. } => 1,
        e if e.is_unavailable() => 2,
        _ => 3,
    };
    cached(&CELLS[kind_index(kind) * 4 + reason], || {
        counter!("dhis2gw_submissions_rejected_total", "kind" => kind.as_str(), "reason" => REJECT_REASONS[reason])
    })
    .increment(1);
}

/// The outcome of accepting one submission, counted by [`submission_accepted`] and friends.
pub fn submission_outcome<T>(
    kind: Kind,
    result: &Result<T, SubmissionError>,
    replayed: impl FnOnce(&T) -> bool,
) {
    match result {
        Ok(accepted) if replayed(accepted) => submission_replayed(kind),
        Ok(_) => submission_accepted(kind),
        Err(e) => submission_rejected(kind, e),
    }
}

const DELIVERY_OUTCOMES: [&str; 4] = [
    "completed",
    "completed_with_conflicts",
    "retrying",
    "failed",
];

/// One delivery attempt recorded with this log status.
pub fn delivery(kind: Kind, status: &'static str) {
    static CELLS: [OnceLock<Counter>; 8] = [const { OnceLock::new() }; 8];
    match DELIVERY_OUTCOMES.iter().position(|s| *s == status) {
        Some(i) => cached(
            &CELLS[kind_index(kind) * 4 + i],
            || counter!("dhis2gw_deliveries_total", "kind" => kind.as_str(), "outcome" => status),
        )
        .increment(1),
        None => counter!("dhis2gw_deliveries_total", "kind" => kind.as_str(), "outcome" => status)
            .increment(1),
    }
}

/// How long DHIS2 took to answer one delivery.
pub fn dhis2_latency(kind: Kind, took: Duration) {
    static CELLS: [OnceLock<Histogram>; 2] = [const { OnceLock::new() }; 2];
    cached(
        &CELLS[kind_index(kind)],
        || histogram!("dhis2gw_dhis2_request_duration_seconds", "kind" => kind.as_str()),
    )
    .record(took.as_secs_f64());
}

/// Routes outside `/api/v2` (their own label; anything else is `other`, so a scan of random
/// paths cannot grow the series without bound).
const OTHER_ROUTES: [&str; 9] = [
    "/health",
    "/ready",
    "/metrics",
    "/openapi.json",
    "/swagger",
    "/admin",
    "/docs",
    "/",
    "other",
];

/// Statuses with a cached counter each; others are counted through the recorder's map.
const STATUSES: [u16; 16] = [
    200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503,
];

struct HttpSeries {
    latency: Vec<OnceLock<Histogram>>,
    /// `routes × STATUSES`.
    requests: Vec<OnceLock<Counter>>,
}

fn http_series() -> &'static HttpSeries {
    static SERIES: OnceLock<HttpSeries> = OnceLock::new();
    SERIES.get_or_init(|| {
        let routes = RULES.len() + OTHER_ROUTES.len();
        HttpSeries {
            latency: (0..routes).map(|_| OnceLock::new()).collect(),
            requests: (0..routes * STATUSES.len())
                .map(|_| OnceLock::new())
                .collect(),
        }
    })
}

/// The label of a request: the `/api/v2` route template from the policy table, or one of
/// [`OTHER_ROUTES`]. Returns an index into [`HttpSeries`] and the method and route labels.
pub fn route_of(method: &str, path: &str) -> (usize, &'static str, &'static str) {
    if crate::http::policy::is_guarded(path)
        && let Some(rule) = crate::http::policy::decide(method, path)
        && let Some(i) = RULES.iter().position(|r| r == rule)
    {
        return (i, rule.method, rule.path);
    }
    let other = OTHER_ROUTES[..OTHER_ROUTES.len() - 1]
        .iter()
        .position(|r| {
            path == *r
                || path
                    .strip_prefix(r)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .unwrap_or(OTHER_ROUTES.len() - 1);
    let method = match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    (RULES.len() + other, method, OTHER_ROUTES[other])
}

/// One HTTP request answered.
pub fn http_request(method: &str, path: &str, status: u16, took: Duration) {
    let (route, method, template) = route_of(method, path);
    let series = http_series();
    cached(&series.latency[route], || {
        histogram!("dhis2gw_http_request_duration_seconds", "method" => method, "route" => template)
    })
    .record(took.as_secs_f64());
    match STATUSES.iter().position(|s| *s == status) {
        Some(i) => cached(&series.requests[route * STATUSES.len() + i], || {
            counter!("dhis2gw_http_requests_total", "method" => method, "route" => template, "status" => status.to_string())
        })
        .increment(1),
        None => counter!("dhis2gw_http_requests_total", "method" => method, "route" => template, "status" => status.to_string())
            .increment(1),
    }
}

/// A scheduled job run finished (off the request path: the recorder's map is used directly).
pub fn job_run(job: &'static str, outcome: &'static str) {
    counter!("dhis2gw_job_runs_total", "job" => job, "outcome" => outcome).increment(1);
}

/// What one alert run did: alerts raised, confirmed in DHIS2, failed to write there.
pub fn alerts_run(raised: usize, confirmed: u64, failed: u64) {
    install();
    counter!("dhis2gw_alerts_total", "outcome" => "raised").increment(raised as u64);
    counter!("dhis2gw_alerts_total", "outcome" => "dhis2_confirmed").increment(confirmed);
    counter!("dhis2gw_alerts_total", "outcome" => "dhis2_failed").increment(failed);
}

/// One notification attempt (`sent`, `failed`, `retry`).
pub fn notification_attempt(outcome: &'static str) {
    install();
    counter!("dhis2gw_notification_attempts_total", "outcome" => outcome).increment(1);
}

/// Getting a PostgreSQL connection failed.
pub fn postgres_error() {
    static CELL: OnceLock<Counter> = OnceLock::new();
    cached(&CELL, || counter!("dhis2gw_postgres_errors_total")).increment(1);
}

/// A Redis command of the queue failed.
pub fn redis_error() {
    static CELL: OnceLock<Counter> = OnceLock::new();
    cached(&CELL, || counter!("dhis2gw_redis_errors_total")).increment(1);
}

/// State read when Prometheus scrapes: sets the gauges it has, and `dhis2gw_scrape_errors` for
/// a source that could not be read.
#[derive(Debug, Default)]
pub struct Sample {
    pub queue: Option<crate::queue::QueueStats>,
    /// queued, processing, retrying, failed in the last 24 h.
    pub log: Option<(i64, i64, i64, i64)>,
    pub pg_pool: Option<deadpool_postgres::Status>,
    /// connected, configured.
    pub redis_clients: (usize, usize),
    /// Each scheduled job's last successful run (Unix seconds), from `job_runs`.
    pub last_ok: Vec<(String, f64)>,
}

pub fn record_sample(sample: &Sample) {
    install();
    gauge!("dhis2gw_scrape_errors", "source" => "redis")
        .set(f64::from(u8::from(sample.queue.is_none())));
    gauge!("dhis2gw_scrape_errors", "source" => "postgres")
        .set(f64::from(u8::from(sample.log.is_none())));
    if let Some(q) = &sample.queue {
        gauge!("dhis2gw_queue_jobs", "state" => "waiting").set(q.pending as f64);
        gauge!("dhis2gw_queue_jobs", "state" => "in_flight").set(q.leased as f64);
        gauge!("dhis2gw_queue_jobs", "state" => "scheduled").set(q.scheduled as f64);
    }
    if let Some((queued, processing, retrying, failed)) = sample.log {
        gauge!("dhis2gw_submissions_open", "status" => "queued").set(queued as f64);
        gauge!("dhis2gw_submissions_open", "status" => "processing").set(processing as f64);
        gauge!("dhis2gw_submissions_open", "status" => "retrying").set(retrying as f64);
        gauge!("dhis2gw_submissions_failed_last_24h").set(failed as f64);
    }
    if let Some(s) = &sample.pg_pool {
        gauge!("dhis2gw_postgres_pool_connections", "state" => "open").set(s.size as f64);
        gauge!("dhis2gw_postgres_pool_connections", "state" => "idle").set(s.available as f64);
        gauge!("dhis2gw_postgres_pool_connections", "state" => "max").set(s.max_size as f64);
        gauge!("dhis2gw_postgres_pool_connections", "state" => "waiting").set(s.waiting as f64);
    }
    for (job, at) in &sample.last_ok {
        gauge!("dhis2gw_job_last_success_timestamp_seconds", "job" => job.clone()).set(*at);
    }
    let (connected, configured) = sample.redis_clients;
    gauge!("dhis2gw_redis_connections", "state" => "connected").set(connected as f64);
    gauge!("dhis2gw_redis_connections", "state" => "configured").set(configured as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_labelled_by_template_or_a_fixed_few() {
        let (_, method, route) = route_of("POST", "/api/v2/aggregate");
        assert_eq!((method, route), ("POST", "/api/v2/aggregate"));
        let (_, _, route) = route_of("GET", "/api/v2/users/AbCdEfGhIjK");
        assert_eq!(route, "/api/v2/users/{uid}");
        assert_eq!(route_of("GET", "/admin/app.js").2, "/admin");
        assert_eq!(route_of("GET", "/metrics").2, "/metrics");
        assert_eq!(route_of("GET", "/healthz").2, "other");
        assert_eq!(route_of("BREW", "/x").1, "other");
        assert_eq!(route_of("GET", "/api/v2/nothing/here").2, "other");
    }
}
