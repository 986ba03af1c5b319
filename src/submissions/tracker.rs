//! Structural validation of a DHIS2 tracker payload (`POST /api/v2/tracker`), flat or nested
//! (`docs/submissions.md`): the object lists, the UIDs and dates DHIS2 needs, and values that are
//! plain JSON scalars. Semantics (does the program exist, is the org unit assigned) are DHIS2's
//! to judge; its ImportReport is recorded. The payload is sent exactly as received.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

use super::aggregate::json_type;
use super::error::Problem;
use crate::domain::uid::Uid;

const LISTS: [&str; 4] = ["trackedEntities", "enrollments", "events", "relationships"];

/// What the log keeps about a valid tracker payload besides the payload itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerSummary {
    /// The first org unit named anywhere in the payload (for log filters and search).
    pub org_unit: Option<String>,
    pub objects: usize,
}

/// Checks the payload; on failure, one problem per bad field. The OpenAPI schema
/// (`http::aggregate::TrackerPayloadDoc`) states the outer shape: an object of the four lists
/// (each absent, null or an array of objects) and nothing else; breaking it is a 400. What is
/// inside the objects (DHIS2's tracker model: UIDs, required fields, dates), and a payload with
/// no object at all, are rules (422).
pub fn validate(body: &Value) -> Result<TrackerSummary, Vec<Problem>> {
    let Some(object) = body.as_object() else {
        return Err(vec![Problem::new(
            "",
            "the body must be a JSON object with trackedEntities, enrollments, events and/or relationships",
        )]);
    };
    let mut check = Checker::default();
    for key in object.keys().filter(|k| !LISTS.contains(&k.as_str())) {
        check.shape(key, "unknown field; a tracker payload has trackedEntities, enrollments, events, relationships");
    }
    for list in LISTS {
        match object.get(list) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{list}[{i}]");
                    if !item.is_object() {
                        // The schema's items are objects; only nested lists are the model's.
                        check.shape(path, format!("must be an object, not {}", json_type(item)));
                        continue;
                    }
                    match list {
                        "trackedEntities" => check.tracked_entity(item, &path),
                        "enrollments" => check.enrollment(item, &path, false),
                        "events" => check.event(item, &path),
                        _ => check.relationship(item, &path),
                    }
                }
            }
            Some(other) => check.shape(list, format!("must be an array, not {}", json_type(other))),
        }
    }
    if check.problems.is_empty() && check.objects == 0 {
        // A rule: the schema could require one non-empty list only with a long `anyOf`.
        check.problem(
            "",
            "the payload holds no tracked entity, enrollment, event or relationship",
        );
    }
    if check.problems.is_empty() {
        Ok(TrackerSummary {
            org_unit: check.first_org_unit,
            objects: check.objects,
        })
    } else {
        Err(check.problems)
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
    objects: usize,
    first_org_unit: Option<String>,
}

impl Checker {
    /// Inside the objects: a rule of DHIS2's tracker model.
    fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::rule(field, message));
    }

    /// The outer shape the schema states.
    fn shape(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(field, message));
    }

    /// The item as an object, counting it; a problem otherwise.
    fn object<'a>(&mut self, item: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
        match item {
            Value::Object(object) => {
                self.objects += 1;
                Some(object)
            }
            other => {
                self.problem(path, format!("must be an object, not {}", json_type(other)));
                None
            }
        }
    }

    fn uid(&mut self, object: &Map<String, Value>, path: &str, field: &str, required: bool) {
        let at = format!("{path}.{field}");
        match object.get(field) {
            None | Some(Value::Null) if required => self.problem(at, "is required"),
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => {
                if let Err(e) = Uid::parse(text) {
                    self.problem(at, e.to_string());
                } else if field == "orgUnit" && self.first_org_unit.is_none() {
                    self.first_org_unit = Some(text.clone());
                }
            }
            Some(other) => self.problem(
                at,
                format!("must be a UID string, not {}", json_type(other)),
            ),
        }
    }

    fn date(&mut self, object: &Map<String, Value>, path: &str, field: &str, required: bool) {
        let at = format!("{path}.{field}");
        match object.get(field) {
            None | Some(Value::Null) if required => self.problem(at, "is required"),
            None | Some(Value::Null) => {}
            Some(Value::String(text)) if is_date_or_time(text) => {}
            Some(Value::String(text)) => self.problem(
                at,
                format!("{text:?} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ss[.SSS][Z|±hh:mm])"),
            ),
            Some(other) => self.problem(at, format!("must be a date string, not {}", json_type(other))),
        }
    }

    /// An optional array of objects, each checked by `each`.
    fn list(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        field: &str,
        mut each: impl FnMut(&mut Checker, &Map<String, Value>, &str),
    ) {
        match object.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}.{field}[{i}]");
                    match item {
                        Value::Object(inner) => each(self, inner, &at),
                        other => {
                            self.problem(at, format!("must be an object, not {}", json_type(other)))
                        }
                    }
                }
            }
            Some(other) => self.problem(
                format!("{path}.{field}"),
                format!("must be an array, not {}", json_type(other)),
            ),
        }
    }

    /// `value` of an attribute or data value: a scalar, or null (DHIS2 clears the value).
    fn scalar_value(&mut self, object: &Map<String, Value>, path: &str) {
        if let Some(value @ (Value::Array(_) | Value::Object(_))) = object.get("value") {
            self.problem(
                format!("{path}.value"),
                format!(
                    "must be a string, number or boolean, not {}",
                    json_type(value)
                ),
            );
        }
    }

    fn attributes(&mut self, object: &Map<String, Value>, path: &str) {
        self.list(object, path, "attributes", |c, attribute, at| {
            c.uid(attribute, at, "attribute", true);
            c.scalar_value(attribute, at);
        });
    }

    fn tracked_entity(&mut self, item: &Value, path: &str) {
        let Some(object) = self.object(item, path) else {
            return;
        };
        self.uid(object, path, "trackedEntity", false);
        self.uid(object, path, "trackedEntityType", true);
        self.uid(object, path, "orgUnit", true);
        self.attributes(object, path);
        if let Some(Value::Array(items)) = object.get("enrollments") {
            for (i, item) in items.iter().enumerate() {
                self.enrollment(item, &format!("{path}.enrollments[{i}]"), true);
            }
        } else {
            self.list(object, path, "enrollments", |_, _, _| {});
        }
    }

    fn enrollment(&mut self, item: &Value, path: &str, nested: bool) {
        let Some(object) = self.object(item, path) else {
            return;
        };
        self.uid(object, path, "enrollment", false);
        self.uid(object, path, "trackedEntity", !nested);
        self.uid(object, path, "program", true);
        self.uid(object, path, "orgUnit", true);
        self.date(object, path, "enrolledAt", true);
        self.date(object, path, "occurredAt", false);
        self.attributes(object, path);
        if let Some(Value::Array(items)) = object.get("events") {
            for (i, item) in items.iter().enumerate() {
                self.event(item, &format!("{path}.events[{i}]"));
            }
        } else {
            self.list(object, path, "events", |_, _, _| {});
        }
    }

    fn event(&mut self, item: &Value, path: &str) {
        let Some(object) = self.object(item, path) else {
            return;
        };
        self.uid(object, path, "event", false);
        self.uid(object, path, "enrollment", false);
        self.uid(object, path, "program", false);
        self.uid(object, path, "programStage", false);
        if !object.contains_key("program") && !object.contains_key("programStage") {
            self.problem(
                format!("{path}.programStage"),
                "an event needs a programStage (or a program)",
            );
        }
        self.uid(object, path, "orgUnit", true);
        self.uid(object, path, "attributeOptionCombo", false);
        self.date(object, path, "occurredAt", false);
        self.date(object, path, "scheduledAt", false);
        self.list(object, path, "dataValues", |c, value, at| {
            c.uid(value, at, "dataElement", true);
            c.scalar_value(value, at);
        });
    }

    fn relationship(&mut self, item: &Value, path: &str) {
        let Some(object) = self.object(item, path) else {
            return;
        };
        self.uid(object, path, "relationship", false);
        self.uid(object, path, "relationshipType", true);
        for end in ["from", "to"] {
            self.relationship_end(object.get(end), &format!("{path}.{end}"));
        }
    }

    /// `{"trackedEntity": {"trackedEntity": uid}}` (or `{"trackedEntity": uid}`), likewise
    /// enrollment and event: exactly one of the three.
    fn relationship_end(&mut self, end: Option<&Value>, path: &str) {
        let Some(Value::Object(end)) = end else {
            self.problem(
                path,
                "is required: an object with a trackedEntity, enrollment or event",
            );
            return;
        };
        let kinds: Vec<&str> = ["trackedEntity", "enrollment", "event"]
            .into_iter()
            .filter(|k| end.contains_key(*k))
            .collect();
        let [kind] = kinds.as_slice() else {
            self.problem(
                path,
                "must name exactly one of trackedEntity, enrollment, event",
            );
            return;
        };
        let at = format!("{path}.{kind}");
        let uid = match &end[*kind] {
            Value::String(uid) => Some(uid.as_str()),
            Value::Object(inner) => inner.get(*kind).and_then(Value::as_str),
            _ => None,
        };
        match uid.map(Uid::parse) {
            Some(Ok(_)) => {}
            Some(Err(e)) => self.problem(at, e.to_string()),
            None => self.problem(at, format!("must be a UID or {{\"{kind}\": <UID>}}")),
        }
    }
}

fn is_date_or_time(text: &str) -> bool {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
        || NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").is_ok()
        || DateTime::parse_from_rfc3339(text).is_ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn accepts_nested_and_flat_shapes() {
        let nested = json!({"trackedEntities": [{"trackedEntityType": "nEenWmSyUEp", "orgUnit": "y77LiPqLMoq",
            "enrollments": [{"program": "IpHINAT79UW", "orgUnit": "y77LiPqLMoq", "enrolledAt": "2019-08-19T00:00:00.000",
                "events": [{"programStage": "A03MvHHogjR", "orgUnit": "y77LiPqLMoq", "occurredAt": "2019-08-01",
                    "dataValues": [{"dataElement": "bx6fsa0t90x", "value": "true"}, {"dataElement": "UXz7xuGCEhU", "value": null}]}]}]}]});
        assert_eq!(
            validate(&nested).unwrap(),
            TrackerSummary {
                org_unit: Some("y77LiPqLMoq".into()),
                objects: 3
            }
        );
        let flat = json!({"events": [{"program": "IpHINAT79UW", "orgUnit": "y77LiPqLMoq", "occurredAt": "2019-08-01T10:00:00Z"}],
            "relationships": [{"relationshipType": "dDrh5UyCyvQ", "from": {"event": "ZwwuwNp6gVd"}, "to": {"trackedEntity": {"trackedEntity": "Gjaiu3ea38E"}}}]});
        assert_eq!(validate(&flat).unwrap().objects, 2);
    }

    #[test]
    fn flat_enrollments_need_their_tracked_entity() {
        let flat = json!({"enrollments": [{"program": "IpHINAT79UW", "orgUnit": "y77LiPqLMoq", "enrolledAt": "2019-08-19"}]});
        let problems = validate(&flat).unwrap_err();
        assert_eq!(problems[0].field, "enrollments[0].trackedEntity");
    }

    #[test]
    fn dates_must_be_dates() {
        for good in [
            "2024-03-01",
            "2024-03-01T10:00:00",
            "2024-03-01T10:00:00.123",
            "2024-03-01T10:00",
            "2024-03-01T10:00:00+03:00",
        ] {
            assert!(is_date_or_time(good), "{good}");
        }
        for bad in ["2024-02-30", "01/03/2024", "today", "2024-03-01 10:00"] {
            assert!(!is_date_or_time(bad), "{bad}");
        }
    }
}
