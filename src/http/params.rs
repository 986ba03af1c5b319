//! Query parameter types whose OpenAPI schema states what the handlers accept, so that the
//! document is the contract (schemathesis checks both directions: a value the schema allows is
//! not refused, a value it forbids is not accepted).

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};

/// A date (`YYYY-MM-DD`) or an RFC 3339 time, as the list filters and the purge take it. The
/// handler reads the text (a date means that day in `server.timezone`); anything else,
/// including an empty value, is refused here (400 naming the parameter), as the schema says.
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
        let text = value.trim();
        let fits = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
            || chrono::DateTime::parse_from_rfc3339(text).is_ok();
        if !fits {
            return Err(ParseError::custom(format!(
                "{value:?} is not a date (2024-03-01) or an RFC 3339 time (2024-03-01T10:00:00Z)"
            )));
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

/// A string parameter documented as an enum of `C::VALUES`, and refused (400 naming the
/// parameter) when it is not one of them.
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
        if !C::VALUES.contains(&value) {
            let named: Vec<&str> = C::VALUES
                .iter()
                .copied()
                .filter(|v| !v.is_empty())
                .collect();
            return Err(ParseError::custom(format!(
                "{value:?} is not one of {}",
                named.join(", ")
            )));
        }
        Ok(Choice(value.to_owned(), std::marker::PhantomData))
    }
}

/// An ISO week as the alert filters take it: `2026W47`, `2026W07` or `2026-W47`, years 1900 to
/// 2999 (empty: no bound). The pattern allows weeks 1 to 53; week 53 of a year that has 52 fits
/// it and is refused by the handler (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekText(pub String);

/// The schema's pattern for [`WeekText`], checked by [`week_syntax_ok`] without a regex engine.
const WEEK_PATTERN: &str = "^((19|2[0-9])[0-9]{2}-?W(0?[1-9]|[1-4][0-9]|5[0-3]))?$";

fn week_syntax_ok(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let Some((year, week)) = text.split_once('W') else {
        return false;
    };
    let year = year.strip_suffix('-').unwrap_or(year);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4
        && digits(year)
        && matches!(
            &year[..2],
            "19" | "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29"
        )
        && (1..=2).contains(&week.len())
        && digits(week)
        && week.parse::<u32>().is_ok_and(|w| (1..=53).contains(&w))
}

impl Type for WeekText {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string(iso-week)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(WEEK_PATTERN.to_owned()),
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

impl ParseFromParameter for WeekText {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if !week_syntax_ok(value) {
            return Err(ParseError::custom(format!(
                "{value:?} is not an ISO week: expected YYYYWn, e.g. 2026W47"
            )));
        }
        Ok(WeekText(value.to_owned()))
    }
}

/// An alert's status as the alerts list filters it (empty: any).
pub struct AlertStatuses;

impl Choices for AlertStatuses {
    const NAME: &'static str = "string(open|acknowledged|closed)";
    const VALUES: &'static [&'static str] = &["", "open", "acknowledged", "closed"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_week_check_follows_the_documented_pattern() {
        for ok in [
            "", "2026W47", "2026W7", "2026W07", "2026-W47", "1900W1", "2999W53", "2025W53",
        ] {
            assert!(week_syntax_ok(ok), "{ok:?} refused");
        }
        for bad in [
            " 2026W47",
            "2026W0",
            "2026W54",
            "2026W100",
            "1899W10",
            "3000W10",
            "26W10",
            "2026",
            "2026w10",
            "2026--W10",
            "2026W-1",
            "\u{14}",
        ] {
            assert!(!week_syntax_ok(bad), "{bad:?} accepted");
        }
    }
}
