//! How figures appear in an alert's reason: counts as "1 case" / "18 cases", other figures
//! with at most one decimal, so the sentence reads like something an officer would write.

use crate::IsoWeek;

/// "1 case", "18 cases", "2.5 cases".
pub(crate) fn cases(count: f64) -> String {
    if count == 1.0 {
        "1 case".to_owned()
    } else {
        format!("{} cases", figure(count))
    }
}

/// A figure with one decimal, or none when it is whole: 11.9, 12, 0.3.
pub(crate) fn figure(x: f64) -> String {
    if !x.is_finite() {
        return "unbounded".to_owned();
    }
    let rounded = format!("{x:.1}");
    match rounded.strip_suffix(".0") {
        Some("-0") => "0".to_owned(),
        Some(whole) => whole.to_owned(),
        None => rounded,
    }
}

/// "the 7 weeks before" when the window ends right before the week, else "the 7 weeks 2026W36
/// to 2026W42"; "7 weeks" becomes "the 5 reported weeks of …" when some were missing.
pub(crate) fn window(
    length: usize,
    reported: usize,
    first: IsoWeek,
    last: IsoWeek,
    adjacent: bool,
) -> String {
    let weeks = if reported == length {
        format!("the {length} weeks")
    } else {
        format!("the {reported} reported weeks of the {length}")
    };
    if adjacent {
        format!("{weeks} before")
    } else {
        format!("{weeks} {first} to {last}")
    }
}

/// The sentence for a week that has no report under the "skip" missing-value policy.
pub(crate) fn not_reported(week: IsoWeek) -> String {
    format!("No report for {week}, so no alert can be raised")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_naturally() {
        assert_eq!(cases(1.0), "1 case");
        assert_eq!(cases(18.0), "18 cases");
        assert_eq!(figure(11.94), "11.9");
        assert_eq!(figure(12.0), "12");
        assert_eq!(figure(-0.01), "0");
        assert_eq!(figure(f64::INFINITY), "unbounded");
    }
}
