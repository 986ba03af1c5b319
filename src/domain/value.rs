//! Data values: a client's JSON value turned into the exact text DHIS2 should store.
//!
//! DHIS2 receives every value as a string (`"value": "5"` in a data value set), so the text is
//! what matters. The crate enables serde_json's `arbitrary_precision`, so a JSON number arrives
//! with the client's digits and is never rounded through `f64` (serde_json only respells an
//! exponent as `e+`/`e-`):
//!
//! - numbers are kept as written: `1000000` stays `1000000`, `12.0` stays `12.0`, `3.14` stays
//!   `3.14` (only `-0` becomes `0`, because DHIS2's integer pattern refuses `-0`);
//! - numbers written with an exponent (`1e6`, `2.5E-3`) are rewritten without one, exactly, by
//!   moving the decimal point in the digit string: `1000000`, `0.0025`. DHIS2's number pattern has
//!   no exponent, so sending them as written would be refused. The result is the shortest plain
//!   form (no leading or trailing zeros: `1.50e1` becomes `15`). A number that would need 250
//!   characters or more is refused, the length DHIS2 refuses too;
//! - strings are kept as given, untrimmed, because DHIS2 has text data elements; an empty or blank
//!   string is refused. Whether the text suits a numeric data element is
//!   [`DataValue::is_numeric`] / [`DataValue::is_integer`]'s question, answered by whoever knows
//!   the data element;
//! - booleans become `true` / `false`; null, arrays and objects are refused.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::excerpt;

/// DHIS2 refuses numbers of this many characters or more (`MathUtils.NUMBER_MAX_LENGTH`).
const DHIS2_NUMBER_MAX_LENGTH: usize = 250;

/// A value ready for DHIS2's `value` field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataValue(String);

/// Why a JSON value cannot be sent to DHIS2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("a JSON {0} cannot be a data value; send a number, a string or a boolean")]
    UnsupportedType(&'static str),
    #[error("a data value cannot be an empty or blank string")]
    Empty,
    #[error(
        "the number {0} is too long to write without an exponent (DHIS2 takes fewer than 250 characters)"
    )]
    NumberTooLong(String),
}

impl DataValue {
    /// Turns a client's JSON value into DHIS2's text; see the module documentation for the rules.
    pub fn parse(value: &Value) -> Result<DataValue, ValueError> {
        match value {
            Value::Null => Err(ValueError::UnsupportedType("null")),
            Value::Bool(flag) => Ok(DataValue(flag.to_string())),
            Value::Number(number) => plain_number(number.as_str()).map(DataValue),
            Value::String(text) if text.trim().is_empty() => Err(ValueError::Empty),
            Value::String(text) => Ok(DataValue(text.clone())),
            Value::Array(_) => Err(ValueError::UnsupportedType("array")),
            Value::Object(_) => Err(ValueError::UnsupportedType("object")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether DHIS2 accepts the text as a number (value type NUMBER and the like): dhis2-core
    /// `MathUtils.isNumeric`, pattern `^(-?0|-?[1-9]\d*)(\.\d+)?$`, under 250 characters.
    pub fn is_numeric(&self) -> bool {
        let text = self.0.as_str();
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        text.len() < DHIS2_NUMBER_MAX_LENGTH
            && is_whole_number(whole)
            && fraction.is_none_or(|digits| !digits.is_empty() && is_all_digits(digits))
    }

    /// Whether DHIS2 accepts the text as an integer (value type INTEGER and the like): dhis2-core
    /// `MathUtils.isInteger`, pattern `^(0|-?[1-9]\d*)$` and within Java's 32-bit `int`.
    pub fn is_integer(&self) -> bool {
        let text = self.0.as_str();
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        (text == "0" || (unsigned != "0" && is_whole_number(unsigned)))
            && text.parse::<i32>().is_ok()
    }
}

/// `0`, or digits without a leading zero.
fn is_whole_number(text: &str) -> bool {
    text == "0" || (text.starts_with(|c: char| matches!(c, '1'..='9')) && is_all_digits(text))
}

fn is_all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `text` is a JSON number as the client wrote it.
fn plain_number(text: &str) -> Result<String, ValueError> {
    match text.split_once(['e', 'E']) {
        None if text == "-0" => Ok("0".to_owned()),
        None => Ok(text.to_owned()),
        Some((mantissa, exponent)) => without_exponent(mantissa, exponent)
            .ok_or_else(|| ValueError::NumberTooLong(excerpt(text))),
    }
}

/// `mantissa` × 10^`exponent` written out in full, or `None` when that takes too many characters.
fn without_exponent(mantissa: &str, exponent: &str) -> Option<String> {
    let (sign, unsigned) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = format!("{whole}{fraction}");
    let without_leading_zeros = digits.trim_start_matches('0');
    if without_leading_zeros.is_empty() {
        return Some("0".to_owned());
    }
    let significant = without_leading_zeros.trim_end_matches('0');
    let leading_zeros = digits.len() - without_leading_zeros.len();

    // The value is 0.<significant> × 10^point.
    let point = i64::try_from(whole.len())
        .ok()?
        .checked_sub(i64::try_from(leading_zeros).ok()?)?
        .checked_add(exponent.parse::<i64>().ok()?)?;
    let length = i64::try_from(significant.len()).ok()?;
    let body_length = if point <= 0 {
        point.checked_neg()?.checked_add(2 + length)?
    } else if point >= length {
        point
    } else {
        length + 1
    };
    let text_length = body_length.checked_add(i64::try_from(sign.len()).ok()?)?;
    if text_length >= i64::try_from(DHIS2_NUMBER_MAX_LENGTH).ok()? {
        return None;
    }

    let zeros = |count: i64| "0".repeat(usize::try_from(count).unwrap_or(0));
    Some(if point <= 0 {
        format!("{sign}0.{}{significant}", zeros(-point))
    } else if point >= length {
        format!("{sign}{significant}{}", zeros(point - length))
    } else {
        let (before, after) = significant.split_at(usize::try_from(point).ok()?);
        format!("{sign}{before}.{after}")
    })
}

impl fmt::Display for DataValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&Value> for DataValue {
    type Error = ValueError;

    fn try_from(value: &Value) -> Result<DataValue, ValueError> {
        DataValue::parse(value)
    }
}

/// Always a JSON string, as DHIS2 expects.
impl Serialize for DataValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Accepts any JSON value and applies [`DataValue::parse`].
impl<'de> Deserialize<'de> for DataValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DataValue, D::Error> {
        let value = Value::deserialize(deserializer)?;
        DataValue::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `json` the way the HTTP layer does (serde_json, `arbitrary_precision`).
    fn value_of(json: &str) -> Result<DataValue, ValueError> {
        DataValue::parse(&serde_json::from_str::<Value>(json).unwrap())
    }

    fn text_of(json: &str) -> String {
        value_of(json)
            .unwrap_or_else(|e| panic!("{json}: {e}"))
            .into_string()
    }

    #[test]
    fn numbers_keep_the_text_the_client_wrote() {
        let cases = [
            "0",
            "7",
            "-5",
            "1000000",
            "12.0",
            "3.14",
            "-0.5",
            "0.1",
            "0.30000000000000004",
            "100.000",
            "123456789012345678901234567890",
            "0.000000000000000000000000000001",
            "9007199254740993",
        ];
        for json in cases {
            assert_eq!(text_of(json), json);
        }
    }

    #[test]
    fn negative_zero_becomes_zero() {
        assert_eq!(text_of("-0"), "0");
        assert_eq!(text_of("-0.0"), "-0.0");
    }

    #[test]
    fn exponents_are_written_out_exactly() {
        let cases = [
            ("1e6", "1000000"),
            ("1E6", "1000000"),
            ("1e+6", "1000000"),
            ("1.5e3", "1500"),
            ("1.50e1", "15"),
            ("1.25e1", "12.5"),
            ("12e-1", "1.2"),
            ("2.5e-3", "0.0025"),
            ("2.5E-3", "0.0025"),
            ("1e-1", "0.1"),
            ("0.05e1", "0.5"),
            ("0.0e5", "0"),
            ("0e99999999999999999999", "0"),
            ("-1e2", "-100"),
            ("-1.5e-2", "-0.015"),
            ("100e-2", "1"),
            ("1e0", "1"),
            (
                "123456789012345678901234567890e-20",
                "1234567890.1234567890123456789",
            ),
            ("1.7976931348623157e308", ""),
        ];
        for (json, expected) in cases {
            match value_of(json) {
                Ok(value) => assert_eq!(value.as_str(), expected, "{json}"),
                Err(e) => assert!(expected.is_empty(), "{json}: {e}"),
            }
        }
    }

    #[test]
    fn exponents_needing_250_characters_or_more_are_refused() {
        assert_eq!(text_of("1e248").len(), 249);
        assert!(matches!(
            value_of("1e249"),
            Err(ValueError::NumberTooLong(_))
        ));
        assert_eq!(text_of("1e-247").len(), 249);
        assert!(matches!(
            value_of("1e-248"),
            Err(ValueError::NumberTooLong(_))
        ));
        assert!(matches!(
            value_of("-1e248"),
            Err(ValueError::NumberTooLong(_))
        ));
        assert!(matches!(
            value_of("1e99999999999999999999"),
            Err(ValueError::NumberTooLong(_))
        ));
        assert!(matches!(
            value_of("1e-9223372036854775808"),
            Err(ValueError::NumberTooLong(_))
        ));
        assert_eq!(
            value_of("1e400").unwrap_err().to_string(),
            "the number 1e+400 is too long to write without an exponent (DHIS2 takes fewer than 250 characters)"
        );
    }

    #[test]
    fn numbers_built_in_code_are_plain_too() {
        let from_u64 = Value::from(1_000_000_u64);
        assert_eq!(DataValue::parse(&from_u64).unwrap().as_str(), "1000000");
        let from_f64 = Value::from(1e21_f64);
        assert_eq!(
            DataValue::parse(&from_f64).unwrap().as_str(),
            "1000000000000000000000"
        );
        let small = Value::from(0.000_001_5_f64);
        assert_eq!(DataValue::parse(&small).unwrap().as_str(), "0.0000015");
    }

    #[test]
    fn strings_are_kept_as_given() {
        for text in ["abc", "12", " 12 ", "1e6", "Positive", "ünïcødé", "0012"] {
            let json = serde_json::to_string(text).unwrap();
            assert_eq!(text_of(&json), text);
        }
    }

    #[test]
    fn empty_and_blank_strings_are_refused() {
        for json in [r#""""#, r#"" ""#, r#""\t\n""#] {
            assert_eq!(value_of(json), Err(ValueError::Empty), "{json}");
        }
    }

    #[test]
    fn booleans_become_words() {
        assert_eq!(text_of("true"), "true");
        assert_eq!(text_of("false"), "false");
    }

    #[test]
    fn null_arrays_and_objects_are_refused_by_name() {
        let cases = [
            ("null", "null"),
            ("[1]", "array"),
            ("[]", "array"),
            ("{}", "object"),
            (r#"{"value":1}"#, "object"),
        ];
        for (json, json_type) in cases {
            let err = value_of(json).unwrap_err();
            assert_eq!(err, ValueError::UnsupportedType(json_type));
            assert_eq!(
                err.to_string(),
                format!(
                    "a JSON {json_type} cannot be a data value; send a number, a string or a boolean"
                )
            );
        }
    }

    fn of_text(text: &str) -> DataValue {
        DataValue(text.to_owned())
    }

    #[test]
    fn is_numeric_follows_dhis2() {
        let numeric = [
            "0", "-0", "7", "-7", "12.0", "3.14", "-0.5", "0.0", "1000000",
        ];
        for text in numeric {
            assert!(of_text(text).is_numeric(), "{text}");
        }
        let not_numeric = [
            "", "-", "abc", "1e6", " 12", "12 ", "012", "-012", "1.", ".5", "1.2.3", "+1", "1,5",
            "0x10", "NaN", "true",
        ];
        for text in not_numeric {
            assert!(!of_text(text).is_numeric(), "{text}");
        }
        assert!(of_text(&"9".repeat(249)).is_numeric());
        assert!(!of_text(&"9".repeat(250)).is_numeric());
    }

    #[test]
    fn is_integer_follows_dhis2() {
        for text in ["0", "1", "-1", "1000000", "2147483647", "-2147483648"] {
            assert!(of_text(text).is_integer(), "{text}");
        }
        for text in [
            "-0",
            "12.0",
            "012",
            "+1",
            "2147483648",
            "-2147483649",
            "1e6",
            "",
            "-",
        ] {
            assert!(!of_text(text).is_integer(), "{text}");
        }
    }

    #[test]
    fn serializes_as_a_json_string() {
        let value = value_of("1e6").unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), r#""1000000""#);
        assert_eq!(value.to_string(), "1000000");
    }

    #[test]
    fn deserializing_takes_any_json_value_and_parses_it() {
        let values: Vec<DataValue> =
            serde_json::from_str(r#"[1000000, 12.0, "text", true, 2.5e-3]"#).unwrap();
        let texts: Vec<&str> = values.iter().map(DataValue::as_str).collect();
        assert_eq!(texts, ["1000000", "12.0", "text", "true", "0.0025"]);

        let err = serde_json::from_str::<DataValue>("null").unwrap_err();
        assert!(
            err.to_string()
                .contains("a JSON null cannot be a data value"),
            "{err}"
        );
        assert!(serde_json::from_str::<DataValue>(r#""""#).is_err());
    }

    #[test]
    fn try_from_matches_parse() {
        let json = Value::from("x");
        assert_eq!(DataValue::try_from(&json), DataValue::parse(&json));
    }
}
