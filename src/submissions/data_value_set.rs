//! `POST /api/v2/dataValueSets`: a DHIS2 dataValueSet sent as it is (no mappings), checked
//! field by field, then logged and queued like every aggregate submission (the same log row,
//! queue and delivery to DHIS2 `POST /api/dataValueSets`). Described in `docs/migrating.md`.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::Submissions;
use super::accept::{Accepted, Submitter, body_hash, check_key};
use super::aggregate::{
    DEFAULT_NAMESPACE, MAX_TEXT, json_type, read_data_value, read_date, read_period, too_long,
};
use super::error::{Problem, SubmissionError};
use crate::db::submissions::{Kind, NewSubmission};
use crate::domain::uid::Uid;

/// Most values in one set (DHIS2 takes more, but one request this large belongs in a file import).
pub const MAX_VALUES: usize = 100_000;

/// What the log records of a valid set: its first org unit, period and data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetSummary {
    pub org_unit: Option<String>,
    pub period: Option<String>,
    pub data_set: Option<String>,
}

struct Check<'a> {
    problems: Vec<Problem>,
    /// Identifiers are DHIS2 UIDs unless the payload names another id scheme.
    uids: bool,
    set: &'a Map<String, Value>,
}

impl Check<'_> {
    fn text(&mut self, object: &Map<String, Value>, field: &str, path: &str) -> Option<String> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) if t.is_empty() => {
                self.problems.push(Problem::new(path, "must not be empty"));
                None
            }
            Some(Value::String(t)) if t.trim().is_empty() => {
                self.problems.push(Problem::rule(path, "must not be blank"));
                None
            }
            Some(Value::String(t)) if too_long(t) => {
                self.problems.push(Problem::new(
                    path,
                    format!("is longer than {MAX_TEXT} characters"),
                ));
                None
            }
            Some(Value::String(t)) => Some(t.clone()),
            Some(other) => {
                self.problems.push(Problem::new(
                    path,
                    format!("must be a string, not {}", json_type(other)),
                ));
                None
            }
        }
    }

    /// A UID unless the set names another id scheme: a rule, since it hangs on another field.
    fn id(&mut self, object: &Map<String, Value>, field: &str, path: &str) -> Option<String> {
        let text = self.text(object, field, path)?;
        if self.uids
            && let Err(e) = Uid::parse(&text)
        {
            self.problems.push(Problem::rule(path, e.to_string()));
            return None;
        }
        Some(text)
    }

    fn period(&mut self, object: &Map<String, Value>, path: &str) -> Option<String> {
        let text = self.text(object, "period", path)?;
        read_period(&text, path, &mut self.problems).map(|_| text)
    }

    /// A field the set passes on to DHIS2 unread: only its JSON type is the schema's.
    fn typed(&mut self, object: &Map<String, Value>, field: &str, path: &str, boolean: bool) {
        let (wanted, fits): (&str, fn(&Value) -> bool) = if boolean {
            ("a boolean", Value::is_boolean)
        } else {
            ("a string", Value::is_string)
        };
        if let Some(other) = object.get(field).filter(|v| !v.is_null() && !fits(v)) {
            self.problems.push(Problem::new(
                path,
                format!("must be {wanted}, not {}", json_type(other)),
            ));
        }
    }

    fn value(&mut self, item: &Map<String, Value>, at: &str) {
        let i = |f: &str| format!("{at}.{f}");
        let set_period = self.set.get("period").is_some_and(|v| !v.is_null());
        let set_org_unit = self.set.get("orgUnit").is_some_and(|v| !v.is_null());
        match self.id(item, "dataElement", &i("dataElement")) {
            Some(_) => {}
            None if item.get("dataElement").is_none_or(Value::is_null) => {
                self.problems
                    .push(Problem::new(i("dataElement"), "is required"));
            }
            None => {}
        }
        if item.get("period").is_some_and(|v| !v.is_null()) {
            self.period(item, &i("period"));
        } else if !set_period {
            self.problems.push(Problem::rule(
                i("period"),
                "is required when the set has no period",
            ));
        }
        if item.get("orgUnit").is_some_and(|v| !v.is_null()) {
            self.id(item, "orgUnit", &i("orgUnit"));
        } else if !set_org_unit {
            self.problems.push(Problem::rule(
                i("orgUnit"),
                "is required when the set has no orgUnit",
            ));
        }
        self.id(item, "categoryOptionCombo", &i("categoryOptionCombo"));
        self.id(item, "attributeOptionCombo", &i("attributeOptionCombo"));
        self.text(item, "comment", &i("comment"));
        self.typed(item, "followup", &i("followup"), true);
        self.typed(item, "deleted", &i("deleted"), true);
        let deleted = item.get("deleted").and_then(Value::as_bool) == Some(true);
        match item.get("value") {
            None | Some(Value::Null) if deleted => {}
            None | Some(Value::Null) => {
                self.problems.push(Problem::rule(
                    i("value"),
                    "is required (or send \"deleted\": true)",
                ));
            }
            Some(v) => {
                read_data_value(v, &i("value"), &mut self.problems);
            }
        }
    }
}

/// Checks a dataValueSet as DHIS2 reads it (set-level `period`/`orgUnit`/`attributeOptionCombo`
/// completed or overridden per value); on failure, one problem per bad field.
pub fn validate(body: &Value) -> Result<SetSummary, Vec<Problem>> {
    let Some(set) = body.as_object() else {
        return Err(vec![Problem::new(
            "",
            "the body must be a DHIS2 dataValueSet: a JSON object with dataValues",
        )]);
    };
    let uids = set.iter().all(|(k, v)| {
        !(k == "idScheme" || k.ends_with("IdScheme"))
            || v.as_str().is_none_or(|s| s.eq_ignore_ascii_case("uid"))
    });
    let mut check = Check {
        problems: Vec::new(),
        uids,
        set,
    };
    let data_set = check.id(set, "dataSet", "dataSet");
    let period = check.period(set, "period");
    let org_unit = check.id(set, "orgUnit", "orgUnit");
    check.id(set, "attributeOptionCombo", "attributeOptionCombo");
    if let Some(text) = check.text(set, "completeDate", "completeDate")
        && !matches!(text.as_str(), "true" | "false")
    {
        read_date(&text, "completeDate", &mut check.problems);
    }
    for field in [
        "idScheme",
        "dataElementIdScheme",
        "orgUnitIdScheme",
        "strategy",
    ] {
        check.typed(set, field, field, false);
    }
    check.typed(set, "dryRun", "dryRun", true);
    let mut first = (None, None);
    match set.get("dataValues") {
        Some(Value::Array(values)) if values.is_empty() => check
            .problems
            .push(Problem::new("dataValues", "must hold at least one value")),
        Some(Value::Array(values)) if values.len() > MAX_VALUES => check.problems.push(
            Problem::new("dataValues", format!("holds more than {MAX_VALUES} values")),
        ),
        Some(Value::Array(values)) => {
            for (n, item) in values.iter().enumerate() {
                let at = format!("dataValues[{n}]");
                match item.as_object() {
                    Some(item) => {
                        if n == 0 {
                            first = (
                                item.get("orgUnit")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned),
                                item.get("period")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned),
                            );
                        }
                        check.value(item, &at);
                    }
                    None => check.problems.push(Problem::new(
                        at,
                        format!("must be an object, not {}", json_type(item)),
                    )),
                }
                if check.problems.len() >= 100 {
                    break;
                }
            }
        }
        None | Some(Value::Null) => check
            .problems
            .push(Problem::new("dataValues", "is required")),
        Some(other) => check.problems.push(Problem::new(
            "dataValues",
            format!("must be an array, not {}", json_type(other)),
        )),
    }
    if !check.problems.is_empty() {
        return Err(check.problems);
    }
    Ok(SetSummary {
        org_unit: org_unit.or(first.0),
        period: period.or(first.1),
        data_set,
    })
}

impl Submissions {
    /// `POST /api/v2/dataValueSets`: checked, logged and queued; DHIS2 gets the body as sent.
    #[tracing::instrument(name = "accept_data_value_set", skip_all, fields(user_id = who.user_id, submission_id = tracing::field::Empty))]
    pub async fn accept_data_value_set(
        &self,
        who: &Submitter,
        body: &Value,
    ) -> Result<Accepted, SubmissionError> {
        check_key(who)?;
        let summary = validate(body).map_err(SubmissionError::Invalid)?;
        let submission = NewSubmission {
            task_id: Uuid::new_v4(),
            kind: Kind::Aggregate,
            user_id: who.user_id,
            source_ip: who.ip,
            idempotency_key: who.idempotency_key.clone(),
            body_hash: body_hash(Kind::Aggregate, body),
            source_name: DEFAULT_NAMESPACE.to_owned(),
            instance_name: DEFAULT_NAMESPACE.to_owned(),
            org_unit: summary.org_unit,
            period: summary.period,
            data_set: summary.data_set,
            payload: body.clone(),
            dhis2_payload: serde_json::to_string(body)
                .map_err(|e| SubmissionError::Internal(e.to_string()))?,
            unmapped: Vec::new(),
        };
        self.log(who, submission, body.clone(), Vec::new()).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(body: Value) -> Vec<String> {
        validate(&body)
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn a_dhis2_set_passes_and_is_summarised() {
        let summary = validate(&json!({
            "dataSet": "pBOMPrpg1QX", "completeDate": "2014-02-03", "period": "201401",
            "orgUnit": "DiszpKrYNg8",
            "dataValues": [{"dataElement": "f7n9E0hX8qk", "categoryOptionCombo": "HllvX50cXC0",
                            "value": "12", "comment": "c"},
                           {"dataElement": "f7n9E0hX8qk", "value": 3, "period": "201402"}]
        }))
        .unwrap();
        assert_eq!(summary.org_unit.as_deref(), Some("DiszpKrYNg8"));
        assert_eq!(summary.period.as_deref(), Some("201401"));
        assert_eq!(summary.data_set.as_deref(), Some("pBOMPrpg1QX"));
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(
            fields(json!({"dataSet": "nope", "period": "2024-13",
                          "dataValues": [{"value": "1"}, 7, {"dataElement": "f7n9E0hX8qk"}]})),
            [
                "dataSet",
                "period",
                "dataValues[0].dataElement",
                "dataValues[0].orgUnit",
                "dataValues[1]",
                "dataValues[2].orgUnit",
                "dataValues[2].value",
            ]
        );
        assert_eq!(fields(json!({"period": "202401"})), ["dataValues"]);
        assert_eq!(fields(json!([])), [""]);
    }

    #[test]
    fn codes_are_taken_under_another_id_scheme() {
        assert!(
            validate(
                &json!({"idScheme": "CODE", "period": "202401", "orgUnit": "FAC-1",
                             "dataValues": [{"dataElement": "MAL_CONF", "value": "1"}]})
            )
            .is_ok()
        );
    }
}
