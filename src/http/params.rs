//! Query parameter types whose OpenAPI schema states what the handlers accept, so that the
//! document is the contract (schemathesis checks both directions: a value the schema allows is
//! not refused, a value it forbids is not accepted).

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};

/// A date (`YYYY-MM-DD`) or an RFC 3339 time, as the list filters and the purge take it. The
/// handler reads the text (a date means that day in `server.timezone`); an empty value is
/// refused here, as the schema says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateOrTime(pub String);

impl Type for DateOrTime {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string(date|date-time)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let format = |f: &'static str| {
            MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", f)))
        };
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            any_of: vec![format("date"), format("date-time")],
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for DateOrTime {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if value.is_empty() {
            return Err(ParseError::custom(
                "a date (YYYY-MM-DD) or an RFC 3339 time is required",
            ));
        }
        Ok(DateOrTime(value.to_owned()))
    }
}

/// The text of an optional [`DateOrTime`] parameter.
pub fn text(value: Option<DateOrTime>) -> Option<String> {
    value.map(|v| v.0)
}

/// What a mapping maps, as the mapping filters take it: `de` (data element) or `ou` (org unit),
/// in any case; empty means any. The handler reads the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingWhat(pub String);

impl Type for MappingWhat {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string(de|ou)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let values = ["", "de", "dE", "De", "DE", "ou", "oU", "Ou", "OU"];
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            enum_items: values.iter().map(|v| serde_json::Value::from(*v)).collect(),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for MappingWhat {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(MappingWhat(value.to_owned()))
    }
}

/// The values a [`Choice`] parameter documents.
pub trait Choices: Send + Sync + 'static {
    /// The schema's name, e.g. `string(open|acknowledged|closed)`.
    const NAME: &'static str;
    const VALUES: &'static [&'static str];
}

/// A string parameter documented as an enum of `C::VALUES`; the handler still reads (and
/// checks) the text, so its 400 names the parameter as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice<C>(pub String, std::marker::PhantomData<fn() -> C>);

impl<C: Choices> Type for Choice<C> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        C::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            enum_items: C::VALUES
                .iter()
                .map(|v| serde_json::Value::from(*v))
                .collect(),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<C: Choices> ParseFromParameter for Choice<C> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Choice(value.to_owned(), std::marker::PhantomData))
    }
}

/// An alert's status as the alerts list filters it (empty: any).
pub struct AlertStatuses;

impl Choices for AlertStatuses {
    const NAME: &'static str = "string(open|acknowledged|closed)";
    const VALUES: &'static [&'static str] = &["", "open", "acknowledged", "closed"];
}
