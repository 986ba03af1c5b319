//! Recorded outbreak alerts (/api/v2/alerts…): the list with filters, one alert with the
//! evaluation behind it (method, parameters, the series, expected, upper bound, score, reason)
//! and its DHIS2 exchange, and acknowledging one. Viewers read, admins act.

use chrono::NaiveDate;
use dhis2gw_detect::IsoWeek;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::alerts::listing;
use crate::db::alerts::AlertFilter;
use crate::domain::alert::Alert;
use crate::http::auth::ApiAuth;
use crate::http::params::{AlertStatuses, Choice, WeekText};
use crate::http::{ApiError, FieldError, Tag};
use crate::state::AppState;

pub struct AlertsApi {
    pub state: AppState,
}

/// Largest `limit` of a page.
const MAX_PAGE: i64 = 500;
const STATUSES: [&str; 3] = ["open", "acknowledged", "closed"];

/// One alert with its notifications counted.
#[derive(Debug, Object)]
pub struct AlertDetail {
    #[oai(flatten)]
    pub alert: Alert,
    /// The alert's deliveries per channel (`email`, `sms`, `telegram`) and status (`queued`,
    /// `sent`, `failed`); a pair with none is left out, so an alert not yet confirmed by DHIS2
    /// (nothing planned yet) has an empty list.
    pub deliveries: Vec<DeliveryCount>,
}

/// How many of the alert's deliveries are on `channel` in `status`.
#[derive(Debug, Object)]
pub struct DeliveryCount {
    pub channel: String,
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Object)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[oai(nullable)]
    pub next_before: Option<i64>,
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
        status: Query<Option<Choice<AlertStatuses>>>,
        /// The disease's DHIS2 data element UID.
        data_element: Query<Option<String>>,
        /// The disease code (the original's `nmc_diagnosis`).
        disease_code: Query<Option<String>>,
        org_unit: Query<Option<String>>,
        /// The first week, `2026W47` (or `2026-W47`); empty: no bound.
        week_from: Query<Option<WeekText>>,
        /// The last week, included.
        week_to: Query<Option<WeekText>>,
        /// Only alerts with an id below this (the previous page's `next_before`).
        before: Query<Option<i64>>,
        /// 1 to 500; default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<AlertPage>, ApiError> {
        let mut details = Vec::new();
        let status = status.0.map(|s| s.0).filter(|s| !s.is_empty());
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
            .map(|w| w.0)
            .filter(|w| !w.is_empty())
            .and_then(|w| week_start("week_from", &w, &mut details));
        let week_to = week_to
            .0
            .map(|w| w.0)
            .filter(|w| !w.is_empty())
            .and_then(|w| week_start("week_to", &w, &mut details));
        if !details.is_empty() {
            return Err(ApiError::unprocessable("invalid query", details));
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
            items: rows,
            next_before,
        }))
    }

    /// One alert: the evaluation behind it, its exchange with DHIS2 and its notifications
    /// counted per channel and status (admin, viewer).
    #[oai(path = "/api/v2/alerts/:id", method = "get")]
    async fn get_alert(
        &self,
        _auth: ApiAuth,
        id: Path<i64>,
    ) -> Result<Json<AlertDetail>, ApiError> {
        let alert = listing::get(self.state.db(), id.0).await?;
        let deliveries = crate::notify::log::counts_for_alert(self.state.db(), id.0)
            .await?
            .into_iter()
            .map(|c| DeliveryCount {
                channel: c.channel,
                status: c.status,
                count: c.count,
            })
            .collect();
        Ok(Json(AlertDetail { alert, deliveries }))
    }

    /// Acknowledges an open alert (admin); an alert already acknowledged or closed is answered
    /// as it is.
    #[oai(path = "/api/v2/alerts/:id/acknowledge", method = "post")]
    async fn acknowledge(&self, auth: ApiAuth, id: Path<i64>) -> Result<Json<Alert>, ApiError> {
        Ok(Json(
            listing::acknowledge(self.state.db(), id.0, &auth.0.username).await?,
        ))
    }
}
