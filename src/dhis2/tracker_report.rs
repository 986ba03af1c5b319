//! Pure parsers of the tracker importer's answers (`/api/tracker`, 2.36–2.41+): the ImportReport
//! of a sync import or of `GET /api/tracker/jobs/{id}/report` (2.38/2.39 with
//! `bundleReport.status/stats`, 2.40 with `bundleReport.empty`, 2.41 without objectReport `index`
//! and with error `args`; a validation failure has no `bundleReport` and comes with HTTP 409), the
//! async job start (`Tracker job added`), and the job's notification list.

use serde_json::Value;

use super::body::{Body, sniff};
use super::error::Dhis2Error;
use super::import_summary::{
    Conflict, ImportCounts, ImportOutcome, ImportStatus, unparsable_or_status,
};
use super::response::{count, error_for_status, is_failure_status, text, upper};

const EXPECTED_REPORT: &str = "a tracker ImportReport";

/// Parses a tracker ImportReport (sync `POST /api/tracker?async=false`: 200 OK/WARNING, 409
/// ERROR; or a job report). `Ok` whatever the report's status; `Err` as for aggregate answers.
pub fn parse_tracker_report(http_status: u16, body: &str) -> Result<ImportOutcome, Dhis2Error> {
    if is_failure_status(http_status) {
        return Err(error_for_status(http_status, body, None, EXPECTED_REPORT));
    }
    let Body::Json(value) = sniff(body) else {
        return Err(unparsable_or_status(
            http_status,
            body,
            EXPECTED_REPORT,
            None,
        ));
    };
    let Some(report) = find_import_report(&value) else {
        let hint = job_id_of(&value)
            .is_some()
            .then_some("an async job start (`Tracker job added`)");
        return Err(unparsable_or_status(
            http_status,
            body,
            EXPECTED_REPORT,
            hint,
        ));
    };
    let Some(status) = upper(report.get("status"))
        .as_deref()
        .and_then(ImportStatus::from_dhis2)
    else {
        return Err(Dhis2Error::Unparsable {
            status: http_status,
            body: body.to_owned(),
            reason: "tracker ImportReport without an OK/WARNING/ERROR status".to_owned(),
        });
    };
    Ok(ImportOutcome {
        http_status,
        raw_body: body.to_owned(),
        status,
        counts: report_counts(report),
        conflicts: report_conflicts(report),
        rejected_indexes: Vec::new(),
        description: None,
        message: text(report.get("message")),
    })
}

/// What `POST /api/tracker` (async) answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerStart {
    /// `Tracker job added`: poll `/api/tracker/jobs/{id}`.
    Job { id: String },
    /// The server answered with the report straight away.
    Report(ImportOutcome),
}

/// Parses the answer to `POST /api/tracker?async=true`: 2.38–2.40 `{"response":{"responseType":
/// "TrackerJob","id","location"}}`, 2.41 the same without `responseType`.
pub fn parse_tracker_job_start(http_status: u16, body: &str) -> Result<TrackerStart, Dhis2Error> {
    const EXPECTED: &str = "a tracker job start";
    if is_failure_status(http_status) {
        return Err(error_for_status(http_status, body, None, EXPECTED));
    }
    if let Body::Json(value) = sniff(body) {
        if let Some(id) = job_id_of(&value) {
            return Ok(TrackerStart::Job { id });
        }
        if find_import_report(&value).is_some() {
            return parse_tracker_report(http_status, body).map(TrackerStart::Report);
        }
    }
    Err(unparsable_or_status(http_status, body, EXPECTED, None))
}

/// Whether the notification list of `GET /api/tracker/jobs/{id}` (newest first) says the job is
/// done: any entry with `completed: true`. An empty list (job not started yet, or unknown) is not
/// done. A body that is not a JSON array is `Unparsable`.
pub fn tracker_job_completed(http_status: u16, body: &str) -> Result<bool, Dhis2Error> {
    const EXPECTED: &str = "a job notification list";
    if is_failure_status(http_status) {
        return Err(error_for_status(http_status, body, None, EXPECTED));
    }
    match sniff(body) {
        Body::Json(Value::Array(items)) => Ok(items
            .iter()
            .any(|item| item.get("completed").and_then(Value::as_bool) == Some(true))),
        _ => Err(unparsable_or_status(http_status, body, EXPECTED, None)),
    }
}

fn job_id_of(value: &Value) -> Option<String> {
    let response = value.get("response")?;
    if let Some(id) = response.get("id").and_then(Value::as_str) {
        return valid_job_id(id);
    }
    let location = response.get("location").and_then(Value::as_str)?;
    valid_job_id(location.trim_end_matches('/').rsplit('/').next()?)
}

/// Job ids go into a URL path: accept only what DHIS2 generates (UID-like, alphanumeric).
fn valid_job_id(id: &str) -> Option<String> {
    let id = id.trim();
    let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| id.to_owned())
}

/// The ImportReport in a body: the body itself, or a WebMessage's `response` (a wrapper some
/// proxies and older versions add).
fn find_import_report(value: &Value) -> Option<&Value> {
    if is_import_report(value) {
        return Some(value);
    }
    value.get("response").filter(|r| is_import_report(r))
}

fn is_import_report(value: &Value) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    object.get("status").is_some_and(Value::is_string)
        && ["validationReport", "stats", "bundleReport"]
            .iter()
            .any(|key| object.get(*key).is_some_and(Value::is_object))
}

/// `stats` of the report; when absent, the sum of the per-type stats of `bundleReport`.
fn report_counts(report: &Value) -> ImportCounts {
    let from = |stats: &Value| ImportCounts {
        imported: count(stats.get("created")),
        updated: count(stats.get("updated")),
        ignored: count(stats.get("ignored")),
        deleted: count(stats.get("deleted")),
    };
    if let Some(stats) = report.get("stats").filter(|s| s.is_object()) {
        return from(stats);
    }
    type_reports(report).fold(ImportCounts::default(), |sum, type_report| {
        let c = type_report.get("stats").map(from).unwrap_or_default();
        ImportCounts {
            imported: sum.imported.saturating_add(c.imported),
            updated: sum.updated.saturating_add(c.updated),
            ignored: sum.ignored.saturating_add(c.ignored),
            deleted: sum.deleted.saturating_add(c.deleted),
        }
    })
}

fn type_reports(report: &Value) -> impl Iterator<Item = &Value> {
    report
        .get("bundleReport")
        .and_then(|b| b.get("typeReportMap"))
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|map| map.values())
}

/// Error reports of `validationReport`, then those only found in `bundleReport` object reports
/// (with `atomicMode=OBJECT` a commit-time error may only appear there), without duplicates.
fn report_conflicts(report: &Value) -> Vec<Conflict> {
    let mut conflicts: Vec<Conflict> = report
        .get("validationReport")
        .and_then(|v| v.get("errorReports"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| error_report_conflict(e, None))
        .collect();
    for type_report in type_reports(report) {
        let objects = type_report.get("objectReports").and_then(Value::as_array);
        for object_report in objects.into_iter().flatten() {
            let index = object_report
                .get("index")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok());
            let errors = object_report.get("errorReports").and_then(Value::as_array);
            for error in errors.into_iter().flatten() {
                let Some(conflict) = error_report_conflict(error, index) else {
                    continue;
                };
                let seen = conflicts.iter().any(|c| {
                    c.error_code == conflict.error_code
                        && c.object == conflict.object
                        && c.value == conflict.value
                });
                if !seen {
                    conflicts.push(conflict);
                }
            }
        }
    }
    conflicts
}

/// `{message, errorCode, trackerType, uid, args?}` → a conflict.
fn error_report_conflict(error: &Value, index: Option<usize>) -> Option<Conflict> {
    let object = error.as_object()?;
    Some(Conflict {
        object: text(object.get("uid")),
        objects: None,
        value: text(object.get("message")).unwrap_or_default(),
        error_code: text(object.get("errorCode")),
        property: text(object.get("trackerType")),
        indexes: index.map(|i| vec![i]),
    })
}

#[cfg(test)]
#[path = "tracker_report_tests.rs"]
mod tests;
