//! Query parameter types whose OpenAPI schema states what the handlers accept, so that the
//! document is the contract (schemathesis checks both directions: a value the schema allows is
//! not refused, a value it forbids is not accepted).

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};

/// What one kind of string parameter documents and checks: the schema `/openapi.json` states,
/// and the check that holds the handler to it.
pub trait StringRule: Send + Sync + 'static {
    /// The schema's name, e.g. `string(iso-week)`.
    const NAME: &'static str;
    fn schema() -> MetaSchema;
    /// Why `value` breaks the schema; `None` when it fits.
    fn refuse(value: &str) -> Option<String>;
}

/// A query parameter's text, refused at the edge (400 naming the parameter) when it breaks the
/// schema `R` documents. The handler reads the text (`.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<R>(pub String, PhantomData<fn() -> R>);

impl<R: StringRule> Type for Checked<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        R::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(R::schema()))
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

impl<R: StringRule> ParseFromParameter for Checked<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        match R::refuse(value) {
            Some(why) => Err(ParseError::custom(why)),
            None => Ok(Checked(value.to_owned(), PhantomData)),
        }
    }
}

/// A string schema listing `values`.
fn enum_schema(values: &[&str]) -> MetaSchema {
    MetaSchema {
        enum_items: values.iter().map(|v| serde_json::Value::from(*v)).collect(),
        ..MetaSchema::new("string")
    }
}

/// A date (`YYYY-MM-DD`) or an RFC 3339 time, as the list filters and the purge take it. The
/// handler reads the text (a date means that day in `server.timezone`); anything else,
/// including an empty value, is refused.
pub type DateOrTime = Checked<DateOrTimeRule>;

pub struct DateOrTimeRule;

impl StringRule for DateOrTimeRule {
    const NAME: &'static str = "string(date|date-time)";

    fn schema() -> MetaSchema {
        let format = |f: &'static str| {
            MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", f)))
        };
        MetaSchema {
            any_of: vec![format("date"), format("date-time")],
            ..MetaSchema::new("string")
        }
    }

    fn refuse(value: &str) -> Option<String> {
        let text = value.trim();
        let fits = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
            || chrono::DateTime::parse_from_rfc3339(text).is_ok();
        (!fits).then(|| {
            format!(
                "{value:?} is not a date (2024-03-01) or an RFC 3339 time (2024-03-01T10:00:00Z)"
            )
        })
    }
}

/// The text of an optional [`DateOrTime`] parameter.
pub fn text(value: Option<DateOrTime>) -> Option<String> {
    value.map(|v| v.0)
}

/// What a mapping maps, as the mapping filters take it: `de` (data element) or `ou` (org unit),
/// in any case; empty means any. The handler reads the text and answers 422 to anything else,
/// so the schema lists the values without the check refusing the rest.
pub type MappingWhat = Checked<MappingWhatRule>;

pub struct MappingWhatRule;

impl StringRule for MappingWhatRule {
    const NAME: &'static str = "string(de|ou)";

    fn schema() -> MetaSchema {
        enum_schema(&["", "de", "dE", "De", "DE", "ou", "oU", "Ou", "OU"])
    }

    fn refuse(_: &str) -> Option<String> {
        None
    }
}

/// The values a [`Choice`] parameter documents.
pub trait Choices: Send + Sync + 'static {
    /// The schema's name, e.g. `string(open|acknowledged|closed)`.
    const NAME: &'static str;
    const VALUES: &'static [&'static str];
}

/// A string parameter documented as an enum of `C::VALUES`, and refused when it is not one of
/// them.
pub type Choice<C> = Checked<OneOf<C>>;

pub struct OneOf<C>(PhantomData<fn() -> C>);

impl<C: Choices> StringRule for OneOf<C> {
    const NAME: &'static str = C::NAME;

    fn schema() -> MetaSchema {
        enum_schema(C::VALUES)
    }

    fn refuse(value: &str) -> Option<String> {
        if C::VALUES.contains(&value) {
            return None;
        }
        let named: Vec<&str> = C::VALUES
            .iter()
            .copied()
            .filter(|v| !v.is_empty())
            .collect();
        Some(format!("{value:?} is not one of {}", named.join(", ")))
    }
}

/// An ISO week as the alert filters take it: `2026W47`, `2026W07` or `2026-W47`, years 1900 to
/// 2999 (empty: no bound). The pattern allows weeks 1 to 53; week 53 of a year that has 52 fits
/// it and is refused by the handler (422).
pub type WeekText = Checked<WeekRule>;

pub struct WeekRule;

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

impl StringRule for WeekRule {
    const NAME: &'static str = "string(iso-week)";

    fn schema() -> MetaSchema {
        MetaSchema {
            pattern: Some(WEEK_PATTERN.to_owned()),
            ..MetaSchema::new("string")
        }
    }

    fn refuse(value: &str) -> Option<String> {
        (!week_syntax_ok(value))
            .then(|| format!("{value:?} is not an ISO week: expected YYYYWn, e.g. 2026W47"))
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
