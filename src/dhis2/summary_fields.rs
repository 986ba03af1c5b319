//! The fields of an aggregate import answer that the parser reads, taken from the JSON text
//! without building the rest. Every ImportSummary of DHIS2 2.38+ carries an `importOptions`
//! object of some thirty settings that nobody reads; turned into a JSON tree, it and its
//! siblings cost each delivery more CPU than any other step of dhis2gw's own. Here they are
//! skipped as the text is read.
//!
//! Each field keeps its JSON value as sent (any type), so the parser stays as lenient as one
//! working on the whole tree: a field that is present but `null` is `Some(Value::Null)`, and a
//! body or `response` that is JSON but not an object reads as one with no fields.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value read for its object fields: `None` when it is not an object.
#[derive(Debug, Default)]
pub(crate) struct Answer(Option<Box<Fields>>);

impl Answer {
    /// Reads a body; `None` when it is not JSON at all.
    pub(crate) fn parse(body: &str) -> Option<Answer> {
        serde_json::from_str(super::body::json_text(body)).ok()
    }

    /// The fields, when the value is an object.
    pub(crate) fn fields(&self) -> Option<&Fields> {
        self.0.as_deref()
    }
}

/// The fields an ImportSummary, the WebMessage around it, or an async job start may carry, and
/// that the parser reads. Absent fields are `None`; a field sent twice keeps its last value.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub response_type: Option<Value>,
    pub status: Option<Value>,
    pub import_count: Option<Value>,
    pub conflicts: Option<Value>,
    pub rejected_indexes: Option<Value>,
    pub description: Option<Value>,
    pub message: Option<Value>,
    /// The WebMessage's payload: the ImportSummary in 2.38+, the job in an async start.
    pub response: Option<Answer>,
    pub job_type: Option<Value>,
    pub relative_notifier_endpoint: Option<Value>,
}

/// The names of [`Fields`], matched without copying the key; `Other` for the rest.
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Key {
    ResponseType,
    Status,
    ImportCount,
    Conflicts,
    RejectedIndexes,
    Description,
    Message,
    Response,
    JobType,
    RelativeNotifierEndpoint,
    /// How serde_json hands a number that is not a plain integer to a visitor when its
    /// `arbitrary_precision` feature is on (dhis2gw keeps numbers as written): a map with
    /// this one key. A `serde_json::Value` reads it the same way.
    #[serde(rename = "$serde_json::private::Number")]
    Number,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Answer, D::Error> {
        d.deserialize_any(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = Answer;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::ResponseType => &mut fields.response_type,
                Key::Status => &mut fields.status,
                Key::ImportCount => &mut fields.import_count,
                Key::Conflicts => &mut fields.conflicts,
                Key::RejectedIndexes => &mut fields.rejected_indexes,
                Key::Description => &mut fields.description,
                Key::Message => &mut fields.message,
                Key::JobType => &mut fields.job_type,
                Key::RelativeNotifierEndpoint => &mut fields.relative_notifier_endpoint,
                Key::Response => {
                    fields.response = Some(map.next_value()?);
                    continue;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Key::Number => {
                    map.next_value::<IgnoredAny>()?;
                    return Ok(Answer(None));
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(Answer(Some(Box::new(fields))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Answer, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Answer(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Answer, E> {
        Ok(Answer(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Answer, E> {
        Ok(Answer(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Answer, E> {
        Ok(Answer(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Answer, E> {
        Ok(Answer(None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Answer, E> {
        Ok(Answer(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Answer, E> {
        Ok(Answer(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_are_kept_as_sent_and_the_rest_skipped() {
        let answer = Answer::parse(
            r#"{"status":"OK","message":null,"importOptions":{"idSchemes":{},"async":false},
                "response":{"responseType":"ImportSummary","importCount":{"imported":"2"},
                "conflicts":[],"description":7}}"#,
        )
        .expect("JSON");
        let top = answer.fields().expect("object");
        assert_eq!(top.status, Some(Value::from("OK")));
        assert_eq!(top.message, Some(Value::Null), "present null is kept");
        assert_eq!(top.description, None);
        let response = top
            .response
            .as_ref()
            .and_then(Answer::fields)
            .expect("object");
        assert_eq!(response.response_type, Some(Value::from("ImportSummary")));
        assert_eq!(
            response.import_count,
            Some(serde_json::json!({"imported": "2"}))
        );
        assert_eq!(response.conflicts, Some(serde_json::json!([])));
        assert_eq!(response.description, Some(Value::from(7)));
    }

    #[test]
    fn a_field_sent_twice_keeps_its_last_value() {
        let answer = Answer::parse(r#"{"status":"ERROR","st\u0061tus":"OK"}"#).expect("JSON");
        assert_eq!(answer.fields().unwrap().status, Some(Value::from("OK")));
    }

    #[test]
    fn json_that_is_not_an_object_has_no_fields() {
        for body in [
            "[1, {\"a\": 2}]",
            "\"text\"",
            "3",
            "-3",
            "2.5",
            "true",
            "null",
        ] {
            let answer = Answer::parse(body).expect(body);
            assert!(answer.fields().is_none(), "{body}");
        }
        let answer =
            Answer::parse(r#"{"response":[{"responseType":"ImportSummary"}]}"#).expect("JSON");
        let response = answer.fields().and_then(|f| f.response.as_ref());
        assert!(response.is_some_and(|r| r.fields().is_none()));
    }

    #[test]
    fn text_that_is_not_json_is_none() {
        for body in ["", "  ", "<html></html>", "{\"status\":", "OK"] {
            assert!(Answer::parse(body).is_none(), "{body}");
        }
        assert!(Answer::parse("\u{feff} {\"status\":\"OK\"} \n").is_some());
    }
}
