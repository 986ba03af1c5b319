//! The aggregate request of `POST /api/v2/aggregate` (the original's body plus optional fields),
//! parsed into typed values with every bad field reported at once, then mapped into the DHIS2
//! dataValueSet that will be sent. Request format: `docs/submissions.md`.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::error::Problem;
use super::mapping::MappingIndex;
use crate::domain::period::{Period, PeriodError};
use crate::domain::uid::Uid;
use crate::domain::value::{DataValue, ValueError};

/// The mapping namespace used when the request names none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Longest free-text field we take (org unit code, names, comments, namespace), in characters
/// as the schema's `maxLength` counts them.
pub const MAX_TEXT: usize = 50_000;

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

/// Reads the request; on failure, one problem per bad field. What the OpenAPI schema of the body
/// (`http::aggregate::AggregateRequestDoc`) states is a [`Problem::new`], the rest a
/// [`Problem::rule`].
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
    let period = required_text(object, "period", &mut problems)
        .and_then(|text| read_period(&text, "period", &mut problems));
    let data_set = required_uid(object, "dataSet", &mut problems);
    let attribute_option_combo = optional_text(object, "attributeOptionCombo", &mut problems)
        .and_then(|text| {
            Uid::parse(&text)
                .map_err(|e| problems.push(Problem::new("attributeOptionCombo", e.to_string())))
                .ok()
        });
    let complete_date = optional_text(object, "completeDate", &mut problems)
        .and_then(|text| read_date(&text, "completeDate", &mut problems));
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
        Some(Value::String(text)) if text.is_empty() => {
            problems.push(Problem::new(field, "must not be empty"));
            None
        }
        Some(Value::String(text)) if text.trim().is_empty() => {
            // `minLength: 1` lets a blank string through; which characters are blank differs
            // between regex dialects, so the schema does not try to say it.
            problems.push(Problem::rule(field, "must not be blank"));
            None
        }
        Some(Value::String(text)) if too_long(text) => {
            problems.push(Problem::new(
                field,
                format!("is longer than {MAX_TEXT} characters"),
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

/// Longer than the schema's `maxLength` for free text.
pub fn too_long(text: &str) -> bool {
    text.len() > MAX_TEXT && text.chars().count() > MAX_TEXT
}

/// The period in `text`: not written in a DHIS2 format breaks the schema's `pattern` (the
/// formats [`Period::parse`] reads); written so but absent from the calendar (`202413`,
/// `2021W53`) breaks a rule.
pub fn read_period(text: &str, field: &str, problems: &mut Vec<Problem>) -> Option<Period> {
    match Period::parse(text) {
        Ok(period) => Some(period),
        Err(e @ PeriodError::Unrecognised(_)) => {
            problems.push(Problem::new(field, e.to_string()));
            None
        }
        Err(e) => {
            problems.push(Problem::rule(field, e.to_string()));
            None
        }
    }
}

/// The date in `text`: not written `YYYY-MM-DD` breaks the schema's pattern; written so but not
/// on the calendar (`2024-02-30`) breaks a rule.
pub fn read_date(text: &str, field: &str, problems: &mut Vec<Problem>) -> Option<NaiveDate> {
    if !is_date_shaped(text) {
        problems.push(Problem::new(
            field,
            format!("{text:?} is not a date written YYYY-MM-DD"),
        ));
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| problems.push(Problem::rule(field, format!("{text:?} is not a date"))))
        .ok()
}

/// Whether `text` matches the schema's date pattern, `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`.
pub fn is_date_shaped(text: &str) -> bool {
    text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// A data value as [`DataValue::parse`] reads it. An array, object or null, or an empty string,
/// break the schema (a number, a non-empty string or a boolean); a blank string and a number
/// too long to write without an exponent break a rule.
pub fn read_data_value(raw: &Value, path: &str, problems: &mut Vec<Problem>) -> Option<DataValue> {
    match DataValue::parse(raw) {
        Ok(value) => Some(value),
        Err(e @ (ValueError::UnsupportedType(_) | ValueError::Empty))
            if raw.as_str().is_none_or(str::is_empty) =>
        {
            problems.push(Problem::new(path, e.to_string()));
            None
        }
        Err(e) => {
            problems.push(Problem::rule(path, e.to_string()));
            None
        }
    }
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
            // OpenAPI 3.0 has no `propertyNames` to say it.
            problems.push(Problem::rule(path, "a key must not be empty or blank"));
            continue;
        }
        let (raw_value, comment) = match raw {
            Value::Object(entry) => match value_with_comment(entry, &path, problems) {
                Some(pair) => pair,
                None => continue,
            },
            other => (other, None),
        };
        if let Some(value) = read_data_value(raw_value, &path, problems) {
            values.push(RequestValue {
                key: key.clone(),
                value,
                comment,
            });
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
        Some(Value::String(text)) if too_long(text) => {
            problems.push(Problem::new(
                format!("{path}.comment"),
                format!("is longer than {MAX_TEXT} characters"),
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
        Problem::rule(
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
            problems.push(Problem::rule(
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
