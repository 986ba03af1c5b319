//! Recorded outbreak alerts (/api/v2/alerts…): the list with filters, one alert with the
//! evaluation behind it (method, parameters, the series, expected, upper bound, score, reason)
//! and its DHIS2 exchange, and acknowledging one. Viewers read, admins act.

use chrono::{DateTime, NaiveDate, Utc};
use dhis2gw_detect::IsoWeek;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use crate::alerts::listing;
use crate::db::alerts::{AlertFilter, AlertRow};
use crate::http::auth::ApiAuth;
use crate::http::{ApiError, FieldError, Tag};
use crate::state::AppState;

pub struct AlertsApi {
    pub state: AppState,
}

/// Largest `limit` of a page.
const MAX_PAGE: i64 = 500;
const STATUSES: [&str; 3] = ["open", "acknowledged", "closed"];

/// An alert as listed.
#[derive(Debug, Object)]
pub struct AlertSummary {
    pub id: i64,
    /// ISO week, e.g. `2026W47`.
    pub week: String,
    /// The disease: its DHIS2 data element and name.
    pub data_element: String,
    pub data_element_name: Option<String>,
    pub disease_code: Option<String>,
    pub org_unit: String,
    pub org_unit_name: Option<String>,
    pub rule_name: String,
    /// `alert` or `action`.
    pub severity: String,
    pub method: String,
    pub count: Option<f64>,
    pub expected: Option<f64>,
    pub upper_bound: Option<f64>,
    /// One sentence saying why the alert fired.
    pub reason: String,
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
    /// `pending_dhis2` until DHIS2 confirmed the tracker write, then `in_dhis2`.
    pub dhis2_state: String,
    pub alert_number: Option<String>,
    /// The alert's enrollment in DHIS2's Capture app.
    pub capture_url: String,
    pub created: DateTime<Utc>,
}

/// An alert with everything behind it.
#[derive(Debug, Object)]
pub struct AlertDetail {
    #[oai(flatten)]
    pub summary: AlertSummary,
    pub rule_uid: String,
    pub rule_id: Option<i64>,
    /// The method's parameters as evaluated.
    pub params: Value,
    /// `skip` or `zero`: what a week DHIS2 had no value for counted as.
    pub missing_policy: String,
    /// The weekly series the method judged (first week and counts; `null` = missing).
    pub series: Value,
    pub score: Option<f64>,
    /// Facilities with cases (one-case and cluster alerts).
    pub facilities: Value,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub tracked_entity: String,
    pub enrollment: String,
    pub event: String,
    /// What was sent to DHIS2's tracker and what it answered.
    pub dhis2_request: Option<Value>,
    pub dhis2_response: Option<String>,
    pub dhis2_http_status: Option<i32>,
    pub dhis2_attempts: i32,
    pub dhis2_last_error: Option<String>,
    pub dhis2_next_attempt: DateTime<Utc>,
    pub dhis2_confirmed_at: Option<DateTime<Utc>>,
    pub updated: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct AlertPage {
    pub items: Vec<AlertSummary>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

fn summary(a: &AlertRow) -> AlertSummary {
    AlertSummary {
        id: a.id,
        week: a.week.clone(),
        data_element: a.data_element.clone(),
        data_element_name: a.data_element_name.clone(),
        disease_code: a.disease_code.clone(),
        org_unit: a.org_unit.clone(),
        org_unit_name: a.org_unit_name.clone(),
        rule_name: a.rule_name.clone(),
        severity: a.severity.clone(),
        method: a.method.clone(),
        count: a.count,
        expected: a.expected,
        upper_bound: a.upper_bound,
        reason: a.reason.clone(),
        status: a.status.clone(),
        dhis2_state: a.dhis2_state.clone(),
        alert_number: a.alert_number.clone(),
        capture_url: a.capture_url.clone(),
        created: a.created,
    }
}

fn detail(a: AlertRow) -> AlertDetail {
    AlertDetail {
        summary: summary(&a),
        rule_uid: a.rule_uid,
        rule_id: a.rule_id,
        params: a.params,
        missing_policy: a.missing_policy,
        series: a.series,
        score: a.score,
        facilities: a.facilities,
        acknowledged_by: a.acknowledged_by,
        acknowledged_at: a.acknowledged_at,
        tracked_entity: a.tracked_entity,
        enrollment: a.enrollment,
        event: a.event,
        dhis2_request: a.dhis2_request,
        dhis2_response: a.dhis2_response,
        dhis2_http_status: a.dhis2_http_status,
        dhis2_attempts: a.dhis2_attempts,
        dhis2_last_error: a.dhis2_last_error,
        dhis2_next_attempt: a.dhis2_next_attempt,
        dhis2_confirmed_at: a.dhis2_confirmed_at,
        updated: a.updated,
    }
}

fn bad(field: &str, message: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message,
    }
}

/// The Monday of an ISO week given as `2026W47` or `2026-W47`.
fn week_start(field: &str, text: &str, details: &mut Vec<FieldError>) -> Option<NaiveDate> {
    match text.trim().parse::<IsoWeek>() {
        Ok(week) => Some(week.monday()),
        Err(e) => {
            details.push(bad(field, e.to_string()));
            None
        }
    }
}

#[OpenApi(tag = "Tag::Alerts")]
impl AlertsApi {
    /// Recorded alerts, newest first, paged by id (admin, viewer). Weeks are ISO weeks
    /// (`2026W47`); `week_to` includes its week.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/api/v2/alerts", method = "get")]
    async fn list_alerts(
        &self,
        _auth: ApiAuth,
        /// `open`, `acknowledged` or `closed`.
        status: Query<Option<String>>,
        /// The disease's DHIS2 data element UID.
        data_element: Query<Option<String>>,
        /// The disease code (the original's `nmc_diagnosis`).
        disease_code: Query<Option<String>>,
        org_unit: Query<Option<String>>,
        week_from: Query<Option<String>>,
        week_to: Query<Option<String>>,
        /// Only alerts with an id below this (the previous page's `next_before`).
        before: Query<Option<i64>>,
        /// 1 to 500; default 50.
        limit: Query<Option<i64>>,
    ) -> Result<Json<AlertPage>, ApiError> {
        let mut details = Vec::new();
        let status = status.0.filter(|s| !s.is_empty());
        if let Some(s) = &status
            && !STATUSES.contains(&s.as_str())
        {
            details.push(bad(
                "status",
                format!("{s:?} is not a status; use open, acknowledged or closed"),
            ));
        }
        // PostgreSQL text cannot hold NUL: such a filter matches nothing and is refused as input.
        for (field, value) in [
            ("data_element", &data_element.0),
            ("disease_code", &disease_code.0),
            ("org_unit", &org_unit.0),
        ] {
            if value.as_deref().is_some_and(|v| v.contains('\0')) {
                details.push(bad(field, "must not contain a NUL character".into()));
            }
        }
        let limit = limit.0.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            details.push(bad(
                "limit",
                format!("{limit} is not between 1 and {MAX_PAGE}"),
            ));
        }
        let week_from = week_from
            .0
            .filter(|w| !w.is_empty())
            .and_then(|w| week_start("week_from", &w, &mut details));
        let week_to = week_to
            .0
            .filter(|w| !w.is_empty())
            .and_then(|w| week_start("week_to", &w, &mut details));
        if !details.is_empty() {
            return Err(ApiError::bad_request("invalid query", details));
        }
        let filter = AlertFilter {
            status,
            data_element: data_element.0.filter(|s| !s.is_empty()),
            disease_code: disease_code.0.filter(|s| !s.is_empty()),
            org_unit: org_unit.0.filter(|s| !s.is_empty()),
            week_from,
            week_to,
            before: before.0,
            limit,
        };
        let rows = listing::list(self.state.db(), &filter).await?;
        let next_before = (rows.len() as i64 == limit)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        Ok(Json(AlertPage {
            items: rows.iter().map(summary).collect(),
            next_before,
        }))
    }

    /// One alert: the evaluation behind it and its exchange with DHIS2 (admin, viewer).
    #[oai(path = "/api/v2/alerts/:id", method = "get")]
    async fn get_alert(
        &self,
        _auth: ApiAuth,
        id: Path<i64>,
    ) -> Result<Json<AlertDetail>, ApiError> {
        Ok(Json(detail(listing::get(self.state.db(), id.0).await?)))
    }

    /// Acknowledges an open alert (admin); an alert already acknowledged or closed is answered
    /// as it is.
    #[oai(path = "/api/v2/alerts/:id/acknowledge", method = "post")]
    async fn acknowledge(
        &self,
        auth: ApiAuth,
        id: Path<i64>,
    ) -> Result<Json<AlertDetail>, ApiError> {
        let row = listing::acknowledge(self.state.db(), id.0, &auth.0.username).await?;
        Ok(Json(detail(row)))
    }
}
