//! The aggregate request of `POST /api/v2/aggregate` (the original's body plus optional fields),
//! parsed into typed values with every bad field reported at once, then mapped into the DHIS2
//! dataValueSet that will be sent. Request format: `docs/submissions.md`.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::error::Problem;
use super::mapping::MappingIndex;
use crate::domain::period::Period;
use crate::domain::uid::Uid;
use crate::domain::value::DataValue;

/// The mapping namespace used when the request names none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Longest free-text field we take (org unit code, names, comments, namespace).
const MAX_TEXT: usize = 50_000;

/// One entry of `dataValues`: the submitter's key, the value as DHIS2 text, an optional comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestValue {
    pub key: String,
    pub value: DataValue,
    pub comment: Option<String>,
}

/// A syntactically valid aggregate request (the org unit is resolved by [`map`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateRequest {
    /// A DHIS2 UID or a source code with an org-unit mapping.
    pub org_unit: String,
    pub org_unit_name: Option<String>,
    pub period: Period,
    pub data_set: Uid,
    pub attribute_option_combo: Option<Uid>,
    pub complete_date: Option<NaiveDate>,
    pub values: Vec<RequestValue>,
    pub source: String,
    pub instance: String,
}

/// Reads the request; on failure, one problem per bad field.
pub fn parse(body: &Value) -> Result<AggregateRequest, Vec<Problem>> {
    let Some(object) = body.as_object() else {
        return Err(vec![Problem::new(
            "",
            "the body must be a JSON object with orgUnit, period, dataSet and dataValues",
        )]);
    };
    let mut problems = Vec::new();
    let org_unit = required_text(object, "orgUnit", &mut problems);
    let org_unit_name = optional_text(object, "orgUnitName", &mut problems);
    let period = required_text(object, "period", &mut problems).and_then(|text| {
        Period::parse(&text)
            .map_err(|e| problems.push(Problem::new("period", e.to_string())))
            .ok()
    });
    let data_set = required_uid(object, "dataSet", &mut problems);
    let attribute_option_combo = optional_text(object, "attributeOptionCombo", &mut problems)
        .and_then(|text| {
            Uid::parse(&text)
                .map_err(|e| problems.push(Problem::new("attributeOptionCombo", e.to_string())))
                .ok()
        });
    let complete_date = optional_text(object, "completeDate", &mut problems).and_then(|text| {
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map_err(|_| {
                problems.push(Problem::new(
                    "completeDate",
                    format!("{text:?} is not a date written YYYY-MM-DD"),
                ))
            })
            .ok()
    });
    let values = data_values(object.get("dataValues"), &mut problems);
    let source = optional_text(object, "source", &mut problems)
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    let instance = optional_text(object, "instance", &mut problems)
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    match (org_unit, period, data_set, problems.is_empty()) {
        (Some(org_unit), Some(period), Some(data_set), true) => Ok(AggregateRequest {
            org_unit,
            org_unit_name,
            period,
            data_set,
            attribute_option_combo,
            complete_date,
            values,
            source,
            instance,
        }),
        _ => Err(problems),
    }
}

/// A non-blank string field that must be present.
fn required_text(
    object: &Map<String, Value>,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => {
            problems.push(Problem::new(field, "is required"));
            None
        }
        Some(_) => optional_text(object, field, problems),
    }
}

/// A non-blank string field, or absent/null.
fn optional_text(
    object: &Map<String, Value>,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => {
            problems.push(Problem::new(field, "must not be empty"));
            None
        }
        Some(Value::String(text)) if text.len() > MAX_TEXT => {
            problems.push(Problem::new(
                field,
                format!("is longer than {MAX_TEXT} bytes"),
            ));
            None
        }
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            problems.push(Problem::new(
                field,
                format!("must be a string, not {}", json_type(other)),
            ));
            None
        }
    }
}

fn required_uid(
    object: &Map<String, Value>,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<Uid> {
    required_text(object, field, problems).and_then(|text| {
        Uid::parse(&text)
            .map_err(|e| problems.push(Problem::new(field, e.to_string())))
            .ok()
    })
}

pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `dataValues`: a non-empty object of key → value, where a value is a number, a string, a
/// boolean, or `{"value": <one of those>, "comment": "<text>"}`.
fn data_values(field: Option<&Value>, problems: &mut Vec<Problem>) -> Vec<RequestValue> {
    let object = match field {
        None | Some(Value::Null) => {
            problems.push(Problem::new("dataValues", "is required"));
            return Vec::new();
        }
        Some(Value::Object(object)) if object.is_empty() => {
            problems.push(Problem::new("dataValues", "must hold at least one value"));
            return Vec::new();
        }
        Some(Value::Object(object)) => object,
        Some(other) => {
            problems.push(Problem::new(
                "dataValues",
                format!("must be an object of key → value, not {}", json_type(other)),
            ));
            return Vec::new();
        }
    };
    let mut values = Vec::with_capacity(object.len());
    for (key, raw) in object {
        let path = format!("dataValues.{key}");
        if key.trim().is_empty() {
            problems.push(Problem::new(path, "a key must not be empty"));
            continue;
        }
        let (raw_value, comment) = match raw {
            Value::Object(entry) => match value_with_comment(entry, &path, problems) {
                Some(pair) => pair,
                None => continue,
            },
            other => (other, None),
        };
        match DataValue::parse(raw_value) {
            Ok(value) => values.push(RequestValue {
                key: key.clone(),
                value,
                comment,
            }),
            Err(e) => problems.push(Problem::new(path, e.to_string())),
        }
    }
    values
}

/// The `{"value": …, "comment": …}` form of a data value.
fn value_with_comment<'a>(
    entry: &'a Map<String, Value>,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<(&'a Value, Option<String>)> {
    if let Some(extra) = entry
        .keys()
        .find(|k| !matches!(k.as_str(), "value" | "comment"))
    {
        problems.push(Problem::new(
            path,
            format!(
                "an object value may only have \"value\" and \"comment\", not {extra:?}; \
                 send a number, a string or a boolean"
            ),
        ));
        return None;
    }
    let Some(value) = entry.get("value") else {
        problems.push(Problem::new(
            path,
            "an object value needs a \"value\" (and may have a \"comment\")",
        ));
        return None;
    };
    let comment = match entry.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.len() > MAX_TEXT => {
            problems.push(Problem::new(
                format!("{path}.comment"),
                format!("is longer than {MAX_TEXT} bytes"),
            ));
            return None;
        }
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            problems.push(Problem::new(
                format!("{path}.comment"),
                format!("must be a string, not {}", json_type(other)),
            ));
            return None;
        }
    };
    Some((value, comment))
}

/// Why `org_unit` cannot be sent: neither an org-unit mapping of the namespace knows it, nor is
/// it a DHIS2 UID. `None` when it is fine.
pub fn org_unit_problem(
    org_unit: &str,
    source: &str,
    instance: &str,
    index: &MappingIndex,
) -> Option<Problem> {
    if index.org_unit(org_unit).is_some() {
        return None;
    }
    Uid::parse(org_unit).err().map(|e| {
        Problem::new(
            "orgUnit",
            format!("no org-unit mapping for {org_unit:?} in namespace {source}/{instance}, and it is not a DHIS2 UID: {e}"),
        )
    })
}

/// The DHIS2 payload built from a request and the mappings of its namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The dataValueSet to POST, as JSON.
    pub payload: Value,
    /// The DHIS2 org unit the data is for.
    pub org_unit: String,
    /// Keys of `dataValues` that no mapping knew (not sent).
    pub unmapped: Vec<String>,
}

/// Maps keys to data elements and option combos, and the org unit through an org-unit mapping
/// when there is one. Fails when the org unit is neither mapped nor a UID, or when no key maps.
pub fn map(request: &AggregateRequest, index: &MappingIndex) -> Result<Mapped, Vec<Problem>> {
    let mut problems = Vec::new();
    let org_unit =
        match org_unit_problem(&request.org_unit, &request.source, &request.instance, index) {
            Some(problem) => {
                problems.push(problem);
                None
            }
            None => Some(
                index
                    .org_unit(&request.org_unit)
                    .unwrap_or(&request.org_unit)
                    .to_owned(),
            ),
        };
    let mut data_values = Vec::with_capacity(request.values.len());
    let mut unmapped = Vec::new();
    for entry in &request.values {
        let Some(mapping) = index.data_value(&entry.key) else {
            unmapped.push(entry.key.clone());
            continue;
        };
        let mut value = Map::new();
        value.insert(
            "dataElement".into(),
            Value::from(mapping.data_element.clone()),
        );
        if let Some(coc) = &mapping.category_option_combo {
            value.insert("categoryOptionCombo".into(), Value::from(coc.clone()));
        }
        if let Some(aoc) = &mapping.attribute_option_combo {
            value.insert("attributeOptionCombo".into(), Value::from(aoc.clone()));
        }
        value.insert("value".into(), Value::from(entry.value.as_str()));
        if let Some(comment) = &entry.comment {
            value.insert("comment".into(), Value::from(comment.clone()));
        }
        data_values.push(Value::Object(value));
    }
    if data_values.is_empty() && !request.values.is_empty() {
        for key in &unmapped {
            problems.push(Problem::new(
                format!("dataValues.{key}"),
                format!(
                    "no mapping for this key in namespace {}/{} (scheme {}), so nothing would be sent",
                    request.source,
                    request.instance,
                    index.scheme_name()
                ),
            ));
        }
    }
    let Some(org_unit) = org_unit.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let mut payload = Map::new();
    payload.insert("dataSet".into(), Value::from(request.data_set.to_string()));
    payload.insert("period".into(), Value::from(request.period.to_string()));
    payload.insert("orgUnit".into(), Value::from(org_unit.clone()));
    if let Some(aoc) = &request.attribute_option_combo {
        payload.insert("attributeOptionCombo".into(), Value::from(aoc.to_string()));
    }
    if let Some(date) = request.complete_date {
        payload.insert(
            "completeDate".into(),
            Value::from(date.format("%Y-%m-%d").to_string()),
        );
    }
    payload.insert("dataValues".into(), Value::Array(data_values));
    Ok(Mapped {
        payload: Value::Object(payload),
        org_unit,
        unmapped,
    })
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
