//! How figures appear in an alert's reason: counts as "1 case" / "18 cases", other figures
//! with at most one decimal, so the sentence reads like something an officer would write.

use std::fmt;

use crate::IsoWeek;

/// A count as words: "1 case", "18 cases", "2.5 cases". Written straight into the sentence
/// (no intermediate strings): a reason is made for every assessed week.
pub(crate) struct Cases(pub f64);

impl fmt::Display for Cases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 1.0 {
            f.write_str("1 case")
        } else {
            write!(f, "{} cases", Fig(self.0))
        }
    }
}

/// A figure with one decimal, or none when it rounds to a whole number: 11.9, 12, 0.3.
pub(crate) struct Fig(pub f64);

impl fmt::Display for Fig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if !x.is_finite() {
            return f.write_str("unbounded");
        }
        // Integer arithmetic on tenths: far cheaper than formatting the float itself.
        let tenths = (x * 10.0).round();
        if tenths.abs() >= 1e15 {
            return write!(f, "{x:.0}");
        }
        let tenths = tenths as i64;
        let (whole, tenth) = (tenths / 10, (tenths % 10).abs());
        let sign = if tenths < 0 && whole == 0 { "-" } else { "" };
        if tenth == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{tenth}")
        }
    }
}

/// "the 7 weeks before" for a window right before the week (`span` = `None`), else "the 7
/// weeks 2026W36 to 2026W42"; "7 weeks" becomes "5 reported weeks of the 7" when some were
/// missing.
pub(crate) fn window(length: usize, reported: usize, span: Option<(IsoWeek, IsoWeek)>) -> String {
    use fmt::Write as _;
    let mut text = if reported == length {
        format!("the {length} weeks")
    } else {
        format!("the {reported} reported weeks of the {length}")
    };
    let _ = match span {
        None => write!(text, " before"),
        Some((first, last)) => write!(text, " {first} to {last}"),
    };
    text
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
        assert_eq!(Cases(1.0).to_string(), "1 case");
        assert_eq!(Cases(18.0).to_string(), "18 cases");
        assert_eq!(Fig(11.94).to_string(), "11.9");
        assert_eq!(Fig(12.0).to_string(), "12");
        assert_eq!(Fig(-0.01).to_string(), "0");
        assert_eq!(Fig(-0.26).to_string(), "-0.3");
        assert_eq!(Fig(-2.5).to_string(), "-2.5");
        assert_eq!(Fig(9.96).to_string(), "10");
        assert_eq!(Fig(1e20).to_string(), "100000000000000000000");
        assert_eq!(Fig(f64::INFINITY).to_string(), "unbounded");
    }
}
