//! The outcome of an import (aggregate ImportSummary or tracker ImportReport) and the pure parser
//! of every `POST /api/dataValueSets` answer of DHIS2 2.36–2.41+: the bare ImportSummary (2.36,
//! 2.37 and `/api/37/...`, always HTTP 200), the WebMessage wrapper of 2.38+ (200 OK, 409 WARNING
//! with conflicts, 409 ERROR), and every failure that carries no summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::body::body_kind;
use super::error::Dhis2Error;
use super::response::{count, error_for_status, is_failure_status, text, upper};
use super::summary_fields::{Answer, Fields};

/// Overall result of one import, whatever the DHIS2 version spelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// ImportSummary `SUCCESS`, WebMessage/tracker `OK`.
    Success,
    /// Some values or objects were rejected (conflicts), the rest imported.
    Warning,
    /// Nothing imported: set-level problem, validation failure, aborted or failed import.
    Error,
}

impl ImportStatus {
    /// `SUCCESS`/`OK` → Success, `WARNING` → Warning, `ERROR` → Error (any case).
    pub fn from_dhis2(status: &str) -> Option<ImportStatus> {
        match status.trim().to_ascii_uppercase().as_str() {
            "SUCCESS" | "OK" => Some(ImportStatus::Success),
            "WARNING" => Some(ImportStatus::Warning),
            "ERROR" => Some(ImportStatus::Error),
            _ => None,
        }
    }
}

/// Counts of an import. Tracker `created` is reported as `imported`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub imported: u64,
    pub updated: u64,
    pub ignored: u64,
    pub deleted: u64,
}

/// One conflict, in DHIS2's own field names (camelCase) so the stored JSON reads like DHIS2's.
/// Tracker error reports land here too: `uid` → `object`, `message` → `value`, `trackerType` →
/// `property`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<BTreeMap<String, String>>,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexes: Option<Vec<usize>>,
}

/// What DHIS2 said about an import it processed. A WARNING or ERROR outcome is still an outcome:
/// record it, do not retry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub http_status: u16,
    /// Exactly what DHIS2 sent.
    pub raw_body: String,
    pub status: ImportStatus,
    pub counts: ImportCounts,
    pub conflicts: Vec<Conflict>,
    /// 0-based indexes of rejected `dataValues` (2.39.2+/2.40.1+; empty before).
    pub rejected_indexes: Vec<usize>,
    /// ImportSummary `description` (`Import process completed successfully`, `Import process was
    /// aborted`, `The import process failed: ...`).
    pub description: Option<String>,
    /// WebMessage `message` (2.38+), or the tracker report's `message` when it was aborted.
    pub message: Option<String>,
}

impl ImportOutcome {
    pub fn has_conflicts(&self) -> bool {
        !self.conflicts.is_empty()
    }

    /// The most telling line for a person when the import was not a clean success: the
    /// exception of a failed import, else the first conflict (DHIS2's WebMessage `message` of
    /// 2.38+ is the same generic sentence for every WARNING/ERROR), else the description or
    /// message. `None` for a success without conflicts.
    pub fn error_text(&self) -> Option<String> {
        if self.status == ImportStatus::Success && self.conflicts.is_empty() {
            return None;
        }
        let failed = self
            .description
            .as_ref()
            .filter(|d| d.starts_with("The import process failed"));
        if let Some(description) = failed {
            return Some(description.clone());
        }
        if let Some(first) = self.conflicts.first() {
            let more = self.conflicts.len() - 1;
            return Some(match more {
                0 => first.value.clone(),
                _ => format!("{} (and {more} more conflicts)", first.value),
            });
        }
        self.description.clone().or_else(|| self.message.clone())
    }

    /// The conflicts as a JSON array, for the submission log.
    pub fn conflicts_json(&self) -> Value {
        serde_json::to_value(&self.conflicts).unwrap_or(Value::Array(Vec::new()))
    }
}

/// Parses the answer to `POST /api/dataValueSets`. Pure: the status and the body are all it reads.
///
/// `Ok` for any answer carrying an ImportSummary (200 or 409, bare or WebMessage-wrapped), even
/// with status WARNING or ERROR. `Err` for 401/403 (`Unauthorized`), 404, 429, 5xx (`Server`),
/// other 4xx without a summary (`Client`), and 2xx bodies that hold no summary (`Unparsable`).
pub fn parse_data_value_set_response(
    http_status: u16,
    body: &str,
) -> Result<ImportOutcome, Dhis2Error> {
    const EXPECTED: &str = "an ImportSummary";
    if is_failure_status(http_status) {
        return Err(error_for_status(http_status, body, None, EXPECTED));
    }
    let Some(answer) = Answer::parse(body) else {
        return Err(unparsable_or_status(http_status, body, EXPECTED, None));
    };
    let Some((summary, wrapper)) = find_import_summary(&answer) else {
        let hint = async_job_hint(&answer);
        return Err(unparsable_or_status(http_status, body, EXPECTED, hint));
    };
    let status = upper(summary.status.as_ref())
        .as_deref()
        .and_then(ImportStatus::from_dhis2)
        .or_else(|| {
            wrapper
                .and_then(|w| upper(w.status.as_ref()))
                .as_deref()
                .and_then(ImportStatus::from_dhis2)
        });
    let Some(status) = status else {
        return Err(Dhis2Error::Unparsable {
            status: http_status,
            body: body.to_owned(),
            reason: "ImportSummary without a SUCCESS/WARNING/ERROR status".to_owned(),
        });
    };
    Ok(ImportOutcome {
        http_status,
        raw_body: body.to_owned(),
        status,
        counts: import_counts(summary.import_count.as_ref()),
        conflicts: conflicts_of(summary.conflicts.as_ref()),
        rejected_indexes: indexes_of(summary.rejected_indexes.as_ref()),
        description: text(summary.description.as_ref()),
        message: wrapper.and_then(|w| text(w.message.as_ref())),
    })
}

/// For a status that may legitimately carry a summary (2xx, 409, 400...) but did not: a 2xx is an
/// unreadable answer, anything else is the error its status means.
pub(crate) fn unparsable_or_status(
    http_status: u16,
    body: &str,
    expected: &str,
    hint: Option<&str>,
) -> Dhis2Error {
    if (200..300).contains(&http_status) {
        let reason = match hint {
            Some(hint) => format!("expected {expected}, got {hint}"),
            None => format!("expected {expected}, got {}", body_kind(body)),
        };
        Dhis2Error::Unparsable {
            status: http_status,
            body: body.to_owned(),
            reason,
        }
    } else {
        error_for_status(http_status, body, None, expected)
    }
}

/// The ImportSummary in a body, and the WebMessage around it when there is one.
fn find_import_summary(answer: &Answer) -> Option<(&Fields, Option<&Fields>)> {
    let top = answer.fields()?;
    if is_import_summary(top) {
        return Some((top, None));
    }
    let response = top.response.as_ref()?.fields()?;
    is_import_summary(response).then_some((response, Some(top)))
}

fn is_import_summary(fields: &Fields) -> bool {
    match fields.response_type.as_ref().and_then(Value::as_str) {
        Some(kind) => kind == "ImportSummary",
        // Before `responseType` existed, an ImportSummary was recognised by its counts.
        None => fields.import_count.as_ref().is_some_and(Value::is_object),
    }
}

/// Names an async job start (`async=true` answers), which is not a result.
fn async_job_hint(answer: &Answer) -> Option<&'static str> {
    let response = answer.fields()?.response.as_ref()?.fields()?;
    let is_job = response.job_type.is_some()
        || response.response_type.as_ref().and_then(Value::as_str) == Some("TrackerJob")
        || response.relative_notifier_endpoint.is_some();
    is_job.then_some("an async job start (was async=true sent?)")
}

fn import_counts(value: Option<&Value>) -> ImportCounts {
    let field = |name: &str| count(value.and_then(|v| v.get(name)));
    ImportCounts {
        imported: field("imported"),
        updated: field("updated"),
        ignored: field("ignored"),
        deleted: field("deleted"),
    }
}

/// Conflicts in the 2.37+ form (`object, objects, value, errorCode, property, indexes`) or the
/// 2.36 short form (`object, value`). Entries that are not objects are skipped.
fn conflicts_of(value: Option<&Value>) -> Vec<Conflict> {
    let Some(items) = value.and_then(Value::as_array) else {
        return Vec::new();
    };
    items.iter().filter_map(conflict_of).collect()
}

fn conflict_of(item: &Value) -> Option<Conflict> {
    let object = item.as_object()?;
    let objects = object.get("objects").and_then(Value::as_object).map(|map| {
        map.iter()
            .filter_map(|(k, v)| text(Some(v)).map(|v| (k.clone(), v)))
            .collect::<BTreeMap<_, _>>()
    });
    let indexes = object.get("indexes").map(|v| indexes_of(Some(v)));
    let value = text(object.get("value"))
        .or_else(|| text(object.get("message")))
        .unwrap_or_default();
    Some(Conflict {
        object: text(object.get("object")),
        objects,
        value,
        error_code: text(object.get("errorCode")),
        property: text(object.get("property")),
        indexes,
    })
}

fn indexes_of(value: Option<&Value>) -> Vec<usize> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_u64().and_then(|n| usize::try_from(n).ok()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "import_summary_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "garbage_tests.rs"]
mod garbage_tests;
