//! [`Text`]: a string field of a JSON request body that must be a JSON string.
//!
//! poem-openapi reads a JSON number or boolean into a `String` field (`"telephone": false`
//! becomes `"false"`), so a body that its own OpenAPI schema forbids would be accepted and
//! stored. Request bodies use `Text` instead: anything but a JSON string is a 400 naming the
//! field, as the schema says. Responses keep `String`.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A JSON string, and nothing else, from a request body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Text(pub String);

impl Text {
    pub fn into_string(self) -> String {
        self.0
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The string of an optional [`Text`], for the services, which take `String`s.
pub fn string(text: Option<Text>) -> Option<String> {
    text.map(String::from)
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.0
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text(text.to_owned())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Type for Text {
    const IS_REQUIRED: bool = true;
    // The raw value is the inner `String`, so the string validators (`max_length`, `pattern` …)
    // apply to a `Text` field as to a `String` one.
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Text(text)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_json_string_is_text() {
        assert_eq!(
            Text::parse_from_json(Some(json!("x"))).unwrap(),
            Text("x".into())
        );
        for not_a_string in [
            json!(false),
            json!(12),
            json!(1.5),
            json!(null),
            json!([]),
            json!({}),
        ] {
            assert!(
                Text::parse_from_json(Some(not_a_string.clone())).is_err(),
                "{not_a_string} was read as text"
            );
        }
        assert!(Text::parse_from_json(None).is_err());
    }

    #[test]
    fn an_optional_text_may_be_absent_or_null_but_not_a_number() {
        assert_eq!(Option::<Text>::parse_from_json(None).unwrap(), None);
        assert_eq!(
            Option::<Text>::parse_from_json(Some(Value::Null)).unwrap(),
            None
        );
        assert!(Option::<Text>::parse_from_json(Some(json!(7))).is_err());
    }
}
