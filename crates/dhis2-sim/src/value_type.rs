//! Data value checks per DHIS2 value type (`ValidationUtils.dataValueIsValid`): each failure is
//! an i18n key (`value_not_numeric`...) that E7619 reports.

/// Checks `value` against `value_type`, returning the DHIS2 error key on failure.
pub fn check(value_type: &str, value: &str) -> Result<(), &'static str> {
    let ok = match value_type {
        "NUMBER" => is_number(value),
        "INTEGER" => is_integer(value),
        "INTEGER_POSITIVE" => is_integer(value) && !value.starts_with('-') && value != "0",
        "INTEGER_NEGATIVE" => is_integer(value) && value.starts_with('-'),
        "INTEGER_ZERO_OR_POSITIVE" => is_integer(value) && !value.starts_with('-'),
        "PERCENTAGE" => number_in(value, 0.0, 100.0),
        "UNIT_INTERVAL" => number_in(value, 0.0, 1.0),
        "BOOLEAN" => matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "1" | "0"
        ),
        "TRUE_ONLY" => matches!(value.to_ascii_lowercase().as_str(), "true" | "1"),
        "TEXT" => value.chars().count() <= 50_000,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(error_key(value_type))
    }
}

fn error_key(value_type: &str) -> &'static str {
    match value_type {
        "NUMBER" => "value_not_numeric",
        "INTEGER" => "value_not_integer",
        "INTEGER_POSITIVE" => "value_not_positive_integer",
        "INTEGER_NEGATIVE" => "value_not_negative_integer",
        "INTEGER_ZERO_OR_POSITIVE" => "value_not_zero_or_positive_integer",
        "PERCENTAGE" => "value_not_percentage",
        "UNIT_INTERVAL" => "value_not_unit_interval",
        "BOOLEAN" => "value_not_bool",
        "TRUE_ONLY" => "value_not_true_only",
        _ => "value_length_greater_than_max_length",
    }
}

/// The English i18n text 2.38 rendered into E7619 instead of the key.
pub fn describe(error_key: &str) -> &'static str {
    match error_key {
        "value_not_numeric" => "Data value is not numeric",
        "value_not_integer" => "Data value is not an integer",
        "value_not_positive_integer" => "Data value is not a positive integer",
        "value_not_negative_integer" => "Data value is not a negative integer",
        "value_not_zero_or_positive_integer" => "Data value is not zero or positive integer",
        "value_not_percentage" => "Data value is not a percentage",
        "value_not_unit_interval" => "Data value is not a unit interval",
        "value_not_bool" => "Data value is not boolean",
        "value_not_true_only" => "Data value is not true (true-only value type)",
        _ => "Data value length is greater than max length",
    }
}

/// `MathUtils.isNumeric`: optional minus, digits without leading zeros, optional fraction and
/// exponent. No `+`, no `NaN`, no thousands separators.
fn is_number(value: &str) -> bool {
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (int_part, fraction) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = all_digits(int_part) && (int_part == "0" || !int_part.starts_with('0'));
    let fraction_ok = fraction.is_none_or(all_digits);
    let exponent_ok = exponent.is_none_or(|e| all_digits(e.strip_prefix('-').unwrap_or(e)));
    int_ok && fraction_ok && exponent_ok
}

fn is_integer(value: &str) -> bool {
    is_number(value) && !value.contains(['.', 'e', 'E']) && value != "-0"
}

fn number_in(value: &str, min: f64, max: f64) -> bool {
    is_number(value) && value.parse::<f64>().is_ok_and(|n| (min..=max).contains(&n))
}

/// "0", "0.0", "-0.00": what `zeroIsSignificant=false` drops.
pub fn is_zero(value: &str) -> bool {
    is_number(value) && value.parse::<f64>().is_ok_and(|n| n == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_integers() {
        for ok in ["0", "12", "-3", "2.5", "0.75", "1E3", "1.5e-2"] {
            assert!(check("NUMBER", ok).is_ok(), "{ok}");
        }
        for bad in ["abc", "", "+1", "01", "1,5", "NaN", "1.", ".5", "1e"] {
            assert_eq!(check("NUMBER", bad), Err("value_not_numeric"), "{bad}");
        }
        assert!(check("INTEGER", "-7").is_ok());
        assert_eq!(check("INTEGER", "7.0"), Err("value_not_integer"));
        assert_eq!(
            check("INTEGER_POSITIVE", "0"),
            Err("value_not_positive_integer")
        );
        assert!(check("INTEGER_ZERO_OR_POSITIVE", "0").is_ok());
        assert!(is_zero("0.00"));
        assert!(!is_zero("0.01"));
    }
}
