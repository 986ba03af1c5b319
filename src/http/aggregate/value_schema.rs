//! The documented schema of a data value in a submission body: a number, a non-empty string or
//! a boolean (`DataValueScalar`), or for `/aggregate` also `{"value": …, "comment": …}`. The
//! bodies are read by the services (`submissions::aggregate`, `submissions::data_value_set`);
//! these types only describe them, so that the OpenAPI schema says what the services take.

use std::borrow::Cow;

use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use crate::http::text::Text;
use crate::submissions::aggregate::MAX_TEXT;

/// A number, a non-empty string or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarDoc(pub Value);

/// `{"value": …, "comment": …}`: a value with a comment DHIS2 stores beside it.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "DataValueWithComment", deny_unknown_fields)]
pub struct ValueWithCommentDoc {
    pub value: ScalarDoc,
    #[oai(nullable, validator(max_length = 50000))]
    pub comment: Option<Text>,
}

/// A value of `/aggregate`'s `dataValues`: a [`ScalarDoc`] or a [`ValueWithCommentDoc`].
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateValueDoc(pub Value);

fn scalar_schemas() -> Vec<MetaSchemaRef> {
    let string = MetaSchema {
        min_length: Some(1),
        ..MetaSchema::new("string")
    };
    [
        MetaSchema::new("number"),
        string,
        MetaSchema::new("boolean"),
    ]
    .into_iter()
    .map(|schema| MetaSchemaRef::Inline(Box::new(schema)))
    .collect()
}

fn is_scalar(value: &Value) -> bool {
    match value {
        Value::Number(_) | Value::Bool(_) => true,
        Value::String(text) => !text.is_empty(),
        _ => false,
    }
}

impl Type for ScalarDoc {
    const IS_REQUIRED: bool = true;
    type RawValueType = Value;
    type RawElementValueType = Value;

    fn name() -> Cow<'static, str> {
        "DataValueScalar".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            one_of: scalar_schemas(),
            ..MetaSchema::ANY
        }))
    }

    fn as_raw_value(&self) -> Option<&Value> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Value> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromJSON for ScalarDoc {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(value) if is_scalar(&value) => Ok(ScalarDoc(value)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for ScalarDoc {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.clone())
    }
}

impl Type for AggregateValueDoc {
    const IS_REQUIRED: bool = true;
    type RawValueType = Value;
    type RawElementValueType = Value;

    fn name() -> Cow<'static, str> {
        "AggregateValue".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut one_of = scalar_schemas();
        one_of.push(ValueWithCommentDoc::schema_ref());
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            one_of,
            ..MetaSchema::ANY
        }))
    }

    fn register(registry: &mut Registry) {
        ValueWithCommentDoc::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Value> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Value> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromJSON for AggregateValueDoc {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(value) if is_scalar(&value) => Ok(AggregateValueDoc(value)),
            Some(Value::Object(entry)) => {
                ValueWithCommentDoc::parse_from_json(Some(Value::Object(entry.clone())))
                    .map_err(ParseError::propagate)?;
                Ok(AggregateValueDoc(Value::Object(entry)))
            }
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for AggregateValueDoc {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.clone())
    }
}

// The `maxLength` of the comment above, and of the bodies' free text, is the services' limit.
const _: () = assert!(MAX_TEXT == 50_000);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::submissions::aggregate;
    use crate::submissions::error::Breaks;

    /// Whether `/aggregate`'s service finds that `value` breaks the schema.
    fn service_refuses_shape(value: &Value) -> bool {
        let body = json!({"orgUnit": "DiszpKrYNg8", "period": "202401", "dataSet": "pBOMPrpg1QX",
                          "dataValues": {"K": value}});
        aggregate::parse(&body)
            .err()
            .unwrap_or_default()
            .iter()
            .any(|p| p.breaks == Breaks::Schema)
    }

    #[test]
    fn the_documented_value_is_what_the_service_reads() {
        for good in [
            json!(1),
            json!(-2.5),
            json!("12"),
            json!(true),
            json!({"value": 3}),
            json!({"value": "x", "comment": "c"}),
            json!({"value": false, "comment": null}),
        ] {
            assert!(
                AggregateValueDoc::parse_from_json(Some(good.clone())).is_ok(),
                "{good}"
            );
            assert!(!service_refuses_shape(&good), "{good}");
        }
        for bad in [
            json!(null),
            json!(""),
            json!([1]),
            json!({}),
            json!({"value": null}),
            json!({"value": ""}),
            json!({"value": [1]}),
            json!({"value": 1, "other": 2}),
            json!({"value": 1, "comment": 7}),
        ] {
            assert!(
                AggregateValueDoc::parse_from_json(Some(bad.clone())).is_err(),
                "{bad}"
            );
            assert!(service_refuses_shape(&bad), "{bad}");
        }
    }
}
