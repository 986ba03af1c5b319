//! The `alerts` table: claiming an alert before DHIS2 is written to, the DHIS2 write's record
//! (pending until confirmed, retried with backoff), and the reads and acknowledgement of the API.

use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use serde_json::{Value, json};
use tokio_postgres::Row;

pub use crate::domain::alert::Alert;

/// An alert as the run claims it.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub data_element: String,
    pub data_element_name: Option<String>,
    pub org_unit: String,
    pub org_unit_name: Option<String>,
    pub week: String,
    pub week_start: NaiveDate,
    pub rule_id: i64,
    pub rule_uid: String,
    pub rule_name: String,
    pub disease_code: Option<String>,
    pub severity: String,
    pub method: String,
    pub params: Value,
    pub missing_policy: String,
    pub series: Value,
    pub count: Option<f64>,
    pub expected: Option<f64>,
    pub upper_bound: Option<f64>,
    pub score: Option<f64>,
    pub reason: String,
    pub tracked_entity: String,
    pub enrollment: String,
    pub event: String,
    pub capture_url: String,
}

const CLAIM: &str = "INSERT INTO alerts (data_element, data_element_name, org_unit, org_unit_name, week, \
   week_start, rule_id, rule_uid, rule_name, disease_code, severity, method, params, \
   missing_policy, series, count, expected, upper_bound, score, reason, \
   tracked_entity, enrollment, event, capture_url) \
 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24) \
 ON CONFLICT (data_element, org_unit, week) DO NOTHING RETURNING id";

/// Inserts the alert unless one exists for its (data element, org unit, week); its id when new.
pub async fn claim(
    db: &impl GenericClient,
    a: &NewAlert,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let statement = db.prepare_cached(CLAIM).await?;
    claim_with(db, &statement, a).await
}

/// [`claim`] for every alert, each its own transaction (one that fails leaves the others
/// claimed), sent together on one connection: the statement is prepared once and the inserts
/// are pipelined instead of waiting for each answer in turn.
pub async fn claim_all(
    db: &impl GenericClient,
    alerts: &[NewAlert],
) -> Result<Vec<Result<Option<i64>, tokio_postgres::Error>>, tokio_postgres::Error> {
    let statement = db.prepare_cached(CLAIM).await?;
    let mut out = Vec::with_capacity(alerts.len());
    // Pipelined in slices, so that a very large run does not queue every insert at once.
    for chunk in alerts.chunks(500) {
        out.extend(
            futures::future::join_all(chunk.iter().map(|a| claim_with(db, &statement, a))).await,
        );
    }
    Ok(out)
}

async fn claim_with(
    db: &impl GenericClient,
    statement: &tokio_postgres::Statement,
    a: &NewAlert,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            statement,
            &[
                &a.data_element,
                &a.data_element_name,
                &a.org_unit,
                &a.org_unit_name,
                &a.week,
                &a.week_start,
                &a.rule_id,
                &a.rule_uid,
                &a.rule_name,
                &a.disease_code,
                &a.severity,
                &a.method,
                &a.params,
                &a.missing_policy,
                &a.series,
                &a.count,
                &a.expected,
                &a.upper_bound,
                &a.score,
                &a.reason,
                &a.tracked_entity,
                &a.enrollment,
                &a.event,
                &a.capture_url,
            ],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The facility drill-down's results, sent together on one connection (pipelined).
pub async fn set_facilities_all(
    db: &impl GenericClient,
    results: &[(i64, Value)],
) -> Result<(), tokio_postgres::Error> {
    let statement = db
        .prepare_cached("UPDATE alerts SET facilities = $2, updated = now() WHERE id = $1")
        .await?;
    let statement = &statement;
    for chunk in results.chunks(500) {
        let updates = chunk
            .iter()
            .map(|(id, facilities)| async move { db.execute(statement, &[id, facilities]).await });
        for r in futures::future::join_all(updates).await {
            r?;
        }
    }
    Ok(())
}

/// The facility drill-down's result.
pub async fn set_facilities(
    db: &impl GenericClient,
    id: i64,
    facilities: &Value,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE alerts SET facilities = $2, updated = now() WHERE id = $1",
        &[&id, facilities],
    )
    .await?;
    Ok(())
}

/// Sets the alert number once (a retry keeps the first).
pub async fn set_alert_number(
    db: &impl GenericClient,
    id: i64,
    number: &str,
) -> Result<String, tokio_postgres::Error> {
    let row = db
        .query_one(
            "UPDATE alerts SET alert_number = coalesce(alert_number, $2), updated = now() \
             WHERE id = $1 RETURNING alert_number",
            &[&id, &number],
        )
        .await?;
    Ok(row.get(0))
}

/// dhis2gw's own alert number, six digits like the original's generated ones.
pub async fn next_alert_number(db: &impl GenericClient) -> Result<String, tokio_postgres::Error> {
    let n: i64 = db
        .query_one("SELECT nextval('alert_numbers')", &[])
        .await?
        .get(0);
    Ok(format!("{n:06}"))
}

/// Every column the run and the API read.
const COLUMNS: &str = "id, data_element, data_element_name, org_unit, org_unit_name, week, \
    week_start, rule_id, rule_uid, rule_name, disease_code, severity, method, params, \
    missing_policy, series, count, expected, upper_bound, score, reason, facilities, status, \
    acknowledged_by, acknowledged_at, dhis2_state, tracked_entity, enrollment, event, \
    alert_number, capture_url, dhis2_request, dhis2_response, dhis2_http_status, \
    dhis2_attempts, dhis2_last_error, dhis2_next_attempt, dhis2_confirmed_at, created, updated";

impl Alert {
    fn from_row(r: &Row) -> Alert {
        Alert {
            id: r.get(0),
            data_element: r.get(1),
            data_element_name: r.get(2),
            org_unit: r.get(3),
            org_unit_name: r.get(4),
            week: r.get(5),
            week_start: r.get(6),
            rule_id: r.get(7),
            rule_uid: r.get(8),
            rule_name: r.get(9),
            disease_code: r.get(10),
            severity: r.get(11),
            method: r.get(12),
            params: r.get(13),
            missing_policy: r.get(14),
            series: r.get(15),
            count: r.get(16),
            expected: r.get(17),
            upper_bound: r.get(18),
            score: r.get(19),
            reason: r.get(20),
            facilities: r.get(21),
            status: r.get(22),
            acknowledged_by: r.get(23),
            acknowledged_at: r.get(24),
            dhis2_state: r.get(25),
            tracked_entity: r.get(26),
            enrollment: r.get(27),
            event: r.get(28),
            alert_number: r.get(29),
            capture_url: r.get(30),
            dhis2_request: r.get(31),
            dhis2_response: r.get(32),
            dhis2_http_status: r.get(33),
            dhis2_attempts: r.get(34),
            dhis2_last_error: r.get(35),
            dhis2_next_attempt: r.get(36),
            dhis2_confirmed_at: r.get(37),
            created: r.get(38),
            updated: r.get(39),
        }
    }
}

/// Alerts DHIS2 has not confirmed yet whose next attempt is due, oldest first.
pub async fn due_for_dhis2(
    db: &impl GenericClient,
    limit: i64,
) -> Result<Vec<Alert>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts WHERE dhis2_state = 'pending_dhis2' \
         AND dhis2_next_attempt <= now() ORDER BY id LIMIT $1"
    );
    Ok(db
        .query(&sql, &[&limit])
        .await?
        .iter()
        .map(Alert::from_row)
        .collect())
}

/// A failed DHIS2 write: what was sent and answered, and when to try again.
pub async fn record_failure(
    db: &impl GenericClient,
    id: i64,
    request: &Value,
    response: Option<&str>,
    http_status: Option<i32>,
    error: &str,
    retry_in_secs: i64,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE alerts SET dhis2_request = $2, dhis2_response = $3, dhis2_http_status = $4, \
           dhis2_last_error = $5, dhis2_attempts = dhis2_attempts + 1, \
           dhis2_next_attempt = now() + make_interval(secs => $6), updated = now() \
         WHERE id = $1 AND dhis2_state = 'pending_dhis2'",
        &[
            &id,
            request,
            &response,
            &http_status,
            &error,
            &(retry_in_secs as f64),
        ],
    )
    .await?;
    Ok(())
}

/// DHIS2 confirmed the write; false when another run had confirmed it already.
pub async fn confirm(
    db: &impl GenericClient,
    id: i64,
    request: &Value,
    response: &str,
    http_status: i32,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "UPDATE alerts SET dhis2_state = 'in_dhis2', dhis2_request = $2, dhis2_response = $3, \
               dhis2_http_status = $4, dhis2_last_error = NULL, \
               dhis2_attempts = dhis2_attempts + 1, dhis2_confirmed_at = now(), updated = now() \
             WHERE id = $1 AND dhis2_state = 'pending_dhis2'",
            &[&id, request, &response, &http_status],
        )
        .await?;
    Ok(n == 1)
}

/// Filters of the alerts list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub data_element: Option<String>,
    pub disease_code: Option<String>,
    pub org_unit: Option<String>,
    pub week_from: Option<NaiveDate>,
    pub week_to: Option<NaiveDate>,
    /// Only ids below this (the next page of a newest-first list).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Alerts matching `f`, newest first.
pub async fn list(
    db: &impl GenericClient,
    f: &AlertFilter,
) -> Result<Vec<Alert>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts WHERE ($1::text IS NULL OR status = $1) \
           AND ($2::text IS NULL OR data_element = $2) AND ($3::text IS NULL OR disease_code = $3) \
           AND ($4::text IS NULL OR org_unit = $4) AND ($5::date IS NULL OR week_start >= $5) \
           AND ($6::date IS NULL OR week_start <= $6) AND ($7::bigint IS NULL OR id < $7) \
         ORDER BY id DESC LIMIT $8"
    );
    Ok(db
        .query(
            &sql,
            &[
                &f.status,
                &f.data_element,
                &f.disease_code,
                &f.org_unit,
                &f.week_from,
                &f.week_to,
                &f.before,
                &f.limit,
            ],
        )
        .await?
        .iter()
        .map(Alert::from_row)
        .collect())
}

pub async fn get(db: &impl GenericClient, id: i64) -> Result<Option<Alert>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM alerts WHERE id = $1");
    Ok(db
        .query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(Alert::from_row))
}

/// Marks an open alert acknowledged by `who`; the row as it is afterwards (unchanged when it was
/// not open), `None` when there is no such alert.
pub async fn acknowledge(
    db: &impl GenericClient,
    id: i64,
    who: &str,
) -> Result<Option<Alert>, tokio_postgres::Error> {
    db.execute(
        "UPDATE alerts SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = now(), \
           updated = now() WHERE id = $1 AND status = 'open'",
        &[&id, &who],
    )
    .await?;
    get(db, id).await
}

/// Counts by DHIS2 state, for a run's record.
pub async fn pending_count(db: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    Ok(db
        .query_one(
            "SELECT count(*) FROM alerts WHERE dhis2_state = 'pending_dhis2'",
            &[],
        )
        .await?
        .get(0))
}

/// The series an alert was judged on, as stored: its first week and counts.
pub fn series_json(first_week: &str, counts: &[Option<f64>]) -> Value {
    json!({ "first_week": first_week, "counts": counts })
}
