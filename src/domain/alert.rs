//! A recorded outbreak alert: the evaluation behind it (rule, method, parameters, the series,
//! expected, upper bound, score, reason), its status for people, and its write to DHIS2's
//! tracker. Defined once here: `db/` reads it, the alert run writes it to DHIS2, the API shows it.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;

/// One alert as stored, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct Alert {
    pub id: i64,
    /// The disease: its DHIS2 data element and name.
    pub data_element: String,
    #[oai(nullable)]
    pub data_element_name: Option<String>,
    pub org_unit: String,
    #[oai(nullable)]
    pub org_unit_name: Option<String>,
    /// ISO week, e.g. `2026W47`.
    pub week: String,
    /// The Monday the week starts on.
    pub week_start: NaiveDate,
    #[oai(nullable)]
    pub rule_id: Option<i64>,
    pub rule_uid: String,
    pub rule_name: String,
    /// The disease code (the original's `nmc_diagnosis`).
    #[oai(nullable)]
    pub disease_code: Option<String>,
    /// `alert` or `action`.
    pub severity: String,
    pub method: String,
    /// The method's parameters as evaluated.
    pub params: Value,
    /// `skip` or `zero`: what a week DHIS2 had no value for counted as.
    pub missing_policy: String,
    /// The weekly series the method judged (first week and counts; `null` = missing).
    pub series: Value,
    #[oai(nullable)]
    pub count: Option<f64>,
    #[oai(nullable)]
    pub expected: Option<f64>,
    #[oai(nullable)]
    pub upper_bound: Option<f64>,
    #[oai(nullable)]
    pub score: Option<f64>,
    /// One sentence saying why the alert fired.
    pub reason: String,
    /// Facilities with cases (one-case and cluster alerts).
    pub facilities: Value,
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
    #[oai(nullable)]
    pub acknowledged_by: Option<String>,
    #[oai(nullable)]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// `pending_dhis2` until DHIS2 confirmed the tracker write, then `in_dhis2`.
    pub dhis2_state: String,
    pub tracked_entity: String,
    pub enrollment: String,
    pub event: String,
    #[oai(nullable)]
    pub alert_number: Option<String>,
    /// The alert's enrollment in DHIS2's Capture app.
    pub capture_url: String,
    /// What was sent to DHIS2's tracker and what it answered.
    #[oai(nullable)]
    pub dhis2_request: Option<Value>,
    #[oai(nullable)]
    pub dhis2_response: Option<String>,
    #[oai(nullable)]
    pub dhis2_http_status: Option<i32>,
    pub dhis2_attempts: i32,
    #[oai(nullable)]
    pub dhis2_last_error: Option<String>,
    pub dhis2_next_attempt: DateTime<Utc>,
    #[oai(nullable)]
    pub dhis2_confirmed_at: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}
