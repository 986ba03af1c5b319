//! The submission log (/api/v2/logs…): the original's routes and filters, fixed (dates as
//! `YYYY-MM-DD` or RFC 3339 with the `to_date` day included, one item shape with plain values).
//! Sending rows again is [`super::requeue`].

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use crate::db::submissions::LogFilter;
use crate::domain::submission::{Kind, Status, Submission};
use crate::http::auth::ApiAuth;
use crate::http::params::{self, DateOrTime};
use crate::http::{ApiError, FieldError, Tag};
use crate::state::AppState;
use crate::submissions::logs::date_bounds;

pub struct LogsApi {
    pub state: AppState,
}

/// Largest `page_size`.
const MAX_PAGE_SIZE: i64 = 500;

#[derive(Debug, Object)]
pub struct LogPageBody {
    pub items: Vec<Submission>,
    /// Rows matching the filters (absent with `with_total=false`).
    #[oai(skip_serializing_if_is_none)]
    pub total: Option<i64>,
    pub page: i64,
    #[oai(skip_serializing_if_is_none)]
    pub total_pages: Option<i64>,
    pub page_size: i64,
    /// Pass as `cursor` for the next (older) page; absent when this page is not full.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct MessageBody {
    pub message: String,
}

#[derive(Debug, Object)]
pub struct PurgeBody {
    pub message: String,
    pub deleted: u64,
    /// Rows older than the date still owed a delivery, kept.
    pub kept_open: u64,
}

pub(super) fn bad(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A keyset cursor: `<submitted_at in microseconds since 1970>_<id>` of a page's last row.
fn cursor_of(at: chrono::DateTime<chrono::Utc>, id: i64) -> String {
    format!("{}_{id}", at.timestamp_micros())
}

fn parse_cursor(text: &str) -> Option<(chrono::DateTime<chrono::Utc>, i64)> {
    let (micros, id) = text.trim().split_once('_')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

/// Whether any filter is given.
pub(super) fn has_filter(q: &LogQuery) -> bool {
    let texts = [
        &q.status,
        &q.task_id,
        &q.submitted_at,
        &q.from_date,
        &q.to_date,
        &q.user,
        &q.text,
        &q.kind,
        &q.source,
        &q.data_set,
        &q.org_unit,
    ];
    q.job_id.is_some()
        || texts
            .iter()
            .any(|t| t.as_deref().is_some_and(|t| !t.trim().is_empty()))
}

const DATE_HELP: &str = "is not a date (YYYY-MM-DD) or an RFC 3339 time (2024-03-01T10:00:00Z)";

/// The filters of the log, as `GET /api/v2/logs` and `POST /api/v2/logs/requeue` take them.
#[derive(Debug, Default)]
pub(super) struct LogQuery {
    pub(super) status: Option<String>,
    pub(super) task_id: Option<String>,
    pub(super) job_id: Option<i64>,
    pub(super) submitted_at: Option<String>,
    pub(super) from_date: Option<String>,
    pub(super) to_date: Option<String>,
    pub(super) user: Option<String>,
    pub(super) text: Option<String>,
    pub(super) kind: Option<String>,
    pub(super) source: Option<String>,
    pub(super) data_set: Option<String>,
    pub(super) org_unit: Option<String>,
}

/// A [`LogFilter`] from the query's filters, or every bad field.
pub(super) fn log_filter(q: LogQuery, zone: chrono_tz::Tz) -> (LogFilter, Vec<FieldError>) {
    let mut details = Vec::new();
    // PostgreSQL text cannot hold NUL: such a filter could match nothing; refused as input.
    for (field, value) in [
        ("user", &q.user),
        ("text", &q.text),
        ("source", &q.source),
        ("data_set", &q.data_set),
        ("org_unit", &q.org_unit),
    ] {
        if value.as_deref().is_some_and(|v| v.contains('\0')) {
            details.push(bad(field, "must not contain a NUL character"));
        }
    }
    let mut filter = LogFilter {
        id: q.job_id,
        user: q.user.filter(|u| !u.trim().is_empty()),
        text: q.text.filter(|t| !t.is_empty()),
        skip_total: false,
        source: q
            .source
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        data_set: q
            .data_set
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        org_unit: q
            .org_unit
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        ..LogFilter::default()
    };
    if let Some(s) = q.status.filter(|s| !s.is_empty()) {
        match Status::parse(&s) {
                Some(s) => filter.status = Some(s),
                None => details.push(bad("status", format!(
                    "{s:?} is not a status; use queued, processing, retrying, completed, completed_with_conflicts or failed"
                ))),
            }
    }
    if let Some(k) = q.kind.filter(|k| !k.is_empty()) {
        match Kind::parse(&k) {
            Some(k) => filter.kind = Some(k),
            None => details.push(bad("kind", format!("{k:?} is not aggregate or tracker"))),
        }
    }
    if let Some(t) = q.task_id.filter(|t| !t.is_empty()) {
        match Uuid::parse_str(t.trim()) {
            Ok(t) => filter.task_id = Some(t),
            Err(_) => details.push(bad("task_id", format!("{t:?} is not a task id (a UUID)"))),
        }
    }
    for (name, value) in [
        ("submitted_at", &q.submitted_at),
        ("from_date", &q.from_date),
        ("to_date", &q.to_date),
    ] {
        let Some(text) = value.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        let Some((start, end, is_day)) = date_bounds(text, zone) else {
            details.push(bad(name, format!("{text:?} {DATE_HELP}")));
            continue;
        };
        match name {
            "submitted_at" if is_day => {
                filter.from = Some(filter.from.map_or(start, |f| f.max(start)));
                filter.until = Some(filter.until.map_or(end, |u| u.min(end)));
            }
            // An instant: that second.
            "submitted_at" => {
                filter.from = Some(start);
                filter.until = Some(start + chrono::Duration::seconds(1));
            }
            "from_date" => filter.from = Some(filter.from.map_or(start, |f| f.max(start))),
            _ => {
                // A day includes itself; an instant includes that instant.
                let until = if is_day {
                    end
                } else {
                    end + chrono::Duration::microseconds(1)
                };
                filter.until = Some(filter.until.map_or(until, |u| u.min(until)));
            }
        }
    }
    (filter, details)
}

#[OpenApi(tag = "Tag::Logs")]
impl LogsApi {
    /// The submission log, newest first. Dates are `YYYY-MM-DD` (a day in `server.timezone`)
    /// or RFC 3339; `to_date` includes its day; `submitted_at` is one day. A submitter sees only
    /// its own submissions.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/api/v2/logs", method = "get")]
    async fn list_logs(
        &self,
        auth: ApiAuth,
        status: Query<Option<Status>>,
        /// A task id (UUID).
        #[oai(validator(
            pattern = r"^\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*$"
        ))]
        task_id: Query<Option<String>>,
        /// The submission id.
        job_id: Query<Option<i64>>,
        submitted_at: Query<Option<DateOrTime>>,
        from_date: Query<Option<DateOrTime>>,
        to_date: Query<Option<DateOrTime>>,
        /// Username or user id.
        user: Query<Option<String>>,
        /// Case-insensitive text in the request, DHIS2 payload, DHIS2 response or errors.
        text: Query<Option<String>>,
        kind: Query<Option<Kind>>,
        /// The source (mapping namespace), exactly.
        source: Query<Option<String>>,
        /// DHIS2 data set UID, exactly.
        data_set: Query<Option<String>>,
        /// DHIS2 org unit UID, exactly.
        org_unit: Query<Option<String>>,
        /// 1-based; default 1.
        #[oai(validator(minimum(value = "1")))]
        page: Query<Option<i64>>,
        /// 1 to 500; default 10.
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        page_size: Query<Option<i64>>,
        /// Keyset paging, fast at any depth: the previous page's `next_cursor`. `page` is then
        /// ignored.
        cursor: Query<Option<String>>,
        /// Default true; false skips counting the matching rows (`total` and `total_pages` are
        /// then absent), which keeps pages fast on millions of rows.
        with_total: Query<Option<bool>>,
    ) -> Result<Json<LogPageBody>, ApiError> {
        let zone = self.state.settings().server.timezone;
        let (mut filter, mut details) = log_filter(
            LogQuery {
                status: status.0.map(|s| s.as_str().to_owned()),
                task_id: task_id.0,
                job_id: job_id.0,
                submitted_at: params::text(submitted_at.0),
                from_date: params::text(from_date.0),
                to_date: params::text(to_date.0),
                user: user.0,
                text: text.0,
                kind: kind.0.map(|k| k.as_str().to_owned()),
                source: source.0,
                data_set: data_set.0,
                org_unit: org_unit.0,
            },
            zone,
        );
        filter.skip_total = with_total.0 == Some(false);
        if let Some(text) = cursor.0.as_deref().filter(|c| !c.is_empty()) {
            match parse_cursor(text) {
                Some(position) => filter.after = Some(position),
                None => details.push(bad(
                    "cursor",
                    format!("{text:?} is not a cursor from next_cursor"),
                )),
            }
        }
        let page = if filter.after.is_some() {
            1
        } else {
            page.0.unwrap_or(1)
        };
        let page_size = page_size.0.unwrap_or(10);
        if page < 1 {
            details.push(bad("page", "must be 1 or more"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            details.push(bad(
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        if !details.is_empty() {
            return Err(ApiError::unprocessable("invalid log filters", details));
        }
        let result = self
            .state
            .submissions()
            .list_logs(Some(&auth.0), filter, page, page_size)
            .await?;
        let counted_nothing = with_total.0 == Some(false);
        let next_cursor = (result.items.len() as i64 == result.page_size)
            .then(|| result.items.last().map(|s| cursor_of(s.submitted_at, s.id)))
            .flatten();
        Ok(Json(LogPageBody {
            next_cursor,
            items: result.items,
            total: (!counted_nothing).then_some(result.total),
            page: result.page,
            total_pages: (!counted_nothing).then_some(result.total_pages),
            page_size: result.page_size,
        }))
    }

    /// One submission. A submitter may read only its own.
    #[oai(path = "/api/v2/logs/:id", method = "get")]
    async fn get_log(&self, auth: ApiAuth, id: Path<i64>) -> Result<Json<Submission>, ApiError> {
        let row = self
            .state
            .submissions()
            .get_log(Some(&auth.0), id.0)
            .await?;
        Ok(Json(row))
    }

    /// Delete one submission from the log (admin).
    #[oai(path = "/api/v2/logs/:id", method = "delete")]
    async fn delete_log(
        &self,
        _auth: ApiAuth,
        id: Path<i64>,
    ) -> Result<Json<MessageBody>, ApiError> {
        self.state.submissions().delete_log(id.0).await?;
        Ok(Json(MessageBody {
            message: "Deleted 1 log(s)".into(),
        }))
    }

    /// Delete settled submissions submitted before `date` (RFC 3339, or `YYYY-MM-DD` = that
    /// day's start in `server.timezone`) (admin). Submissions still owed a delivery are kept.
    #[oai(path = "/api/v2/logs/purge", method = "delete")]
    async fn purge_logs(
        &self,
        _auth: ApiAuth,
        /// Required: RFC 3339, or `YYYY-MM-DD`.
        date: Query<DateOrTime>,
    ) -> Result<Json<PurgeBody>, ApiError> {
        let Some(text) = Some(date.0.0).filter(|d| !d.trim().is_empty()) else {
            return Err(ApiError::bad_request(
                "missing 'date' query parameter",
                vec![bad("date", "is required")],
            ));
        };
        let zone = self.state.settings().server.timezone;
        let Some((before, _, _)) = date_bounds(&text, zone) else {
            return Err(ApiError::bad_request(
                "invalid 'date' format, use RFC3339",
                vec![bad("date", format!("{text:?} {DATE_HELP}"))],
            ));
        };
        let (deleted, kept_open) = self.state.submissions().purge_logs(before).await?;
        Ok(Json(PurgeBody {
            message: format!("Deleted {deleted} logs older than {}", before.to_rfc3339()),
            deleted,
            kept_open,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let at: chrono::DateTime<chrono::Utc> = "2026-03-01T10:00:00.123456Z".parse().unwrap();
        assert_eq!(parse_cursor(&cursor_of(at, 42)), Some((at, 42)));
        assert_eq!(parse_cursor("abc"), None);
        assert_eq!(parse_cursor("12_x"), None);
        assert_eq!(parse_cursor("_4"), None);
    }
}
