//! Why a text is not a DHIS2 period.

use chrono::Month;

use super::PeriodKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Matches none of the DHIS2 period formats. Holds an excerpt of the input.
    #[error("unrecognised period format: {0:?}")]
    Unrecognised(String),

    /// A month, bi-month, quarter or six-month number outside its range.
    #[error("{noun} {number} does not exist ({noun}s run from 1 to {max})")]
    NoSuchPart {
        noun: &'static str,
        number: u32,
        max: u32,
    },

    /// A week or bi-week number beyond the weeks of that year.
    #[error("{noun} {number} does not exist in {year} ({kind} has {max} {noun}s in {year})")]
    NoSuchWeek {
        kind: PeriodKind,
        noun: &'static str,
        number: u32,
        year: i32,
        max: u32,
    },

    #[error("{} {day} {year} is not a date", month_name(*month))]
    NoSuchDate { year: i32, month: u32, day: u32 },

    /// Periods are written with a four-digit year.
    #[error("year {0} is outside 0000-9999, so no DHIS2 period can be written for it")]
    YearOutOfRange(i32),
}

fn month_name(month: u32) -> &'static str {
    u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .map_or("month", |m| m.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let cases = [
            (
                PeriodError::Unrecognised("2024X1".into()),
                "unrecognised period format: \"2024X1\"",
            ),
            (
                PeriodError::NoSuchPart {
                    noun: "month",
                    number: 13,
                    max: 12,
                },
                "month 13 does not exist (months run from 1 to 12)",
            ),
            (
                PeriodError::NoSuchWeek {
                    kind: PeriodKind::Weekly,
                    noun: "week",
                    number: 54,
                    year: 2024,
                    max: 52,
                },
                "week 54 does not exist in 2024 (Weekly has 52 weeks in 2024)",
            ),
            (
                PeriodError::NoSuchDate {
                    year: 2024,
                    month: 2,
                    day: 30,
                },
                "February 30 2024 is not a date",
            ),
            (
                PeriodError::YearOutOfRange(10000),
                "year 10000 is outside 0000-9999, so no DHIS2 period can be written for it",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn month_names_fall_back_for_impossible_months() {
        assert_eq!(month_name(1), "January");
        assert_eq!(month_name(12), "December");
        assert_eq!(month_name(0), "month");
        assert_eq!(month_name(13), "month");
        assert_eq!(month_name(u32::MAX), "month");
    }
}
