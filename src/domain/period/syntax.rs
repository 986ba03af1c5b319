//! Reading a period's text into its parts, before any calendar check.

use std::borrow::Cow;

use super::kind::Notation;
use super::{PeriodError, PeriodKind};
use crate::domain::excerpt;

/// A period as written: type, four-digit year and the numbers after it. Not yet known to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Written {
    pub kind: PeriodKind,
    pub year: i32,
    /// Week, month, quarter... as written; the month for Daily; 1 for one-per-year types.
    pub number: u32,
    /// Day of the month for Daily, 0 otherwise.
    pub day: u32,
}

/// Splits `input` into its parts. Formats are matched exactly and case-sensitively, as DHIS2
/// does; each DHIS2 format matches a distinct set of texts, so at most one kind fits.
pub(super) fn read(input: &str) -> Result<Written, PeriodError> {
    let compact = without_date_dashes(input);
    let (year, rest) =
        split_year(&compact).ok_or_else(|| PeriodError::Unrecognised(excerpt(input)))?;
    PeriodKind::ALL
        .into_iter()
        .find_map(|kind| {
            read_after_year(kind.notation(), rest).map(|(number, day)| Written {
                kind,
                year,
                number,
                day,
            })
        })
        .ok_or_else(|| PeriodError::Unrecognised(excerpt(input)))
}

/// DHIS2 also reads `yyyy-MM` as Monthly and `yyyy-MM-dd` as Daily (`PeriodTypeEnum.ofIsoPeriod`);
/// dropping the dashes turns them into the canonical forms.
fn without_date_dashes(input: &str) -> Cow<'_, str> {
    let bytes = input.as_bytes();
    let dashes_only_at = |at: &[usize]| {
        bytes.iter().enumerate().all(|(i, b)| {
            if at.contains(&i) {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
    };
    let dashed = (bytes.len() == 7 && dashes_only_at(&[4]))
        || (bytes.len() == 10 && dashes_only_at(&[4, 7]));
    if dashed {
        Cow::Owned(input.replace('-', ""))
    } else {
        Cow::Borrowed(input)
    }
}

fn split_year(input: &str) -> Option<(i32, &str)> {
    let head = input.get(..4)?;
    let year = digits(head, 4, 4)?;
    Some((i32::try_from(year).ok()?, &input[4..]))
}

/// The numbers in `rest` if it is written in `notation`: (number, day).
fn read_after_year(notation: Notation, rest: &str) -> Option<(u32, u32)> {
    match notation {
        Notation::MonthDay => {
            let month = digits(rest.get(..2)?, 2, 2)?;
            let day = digits(rest.get(2..)?, 2, 2)?;
            Some((month, day))
        }
        Notation::TwoDigits { suffix } => Some((digits(rest.strip_suffix(suffix)?, 2, 2)?, 0)),
        Notation::Numbered { marker, max_digits } => {
            Some((digits(rest.strip_prefix(marker)?, 1, max_digits)?, 0))
        }
        Notation::Fixed { suffix } => (rest == suffix).then_some((1, 0)),
    }
}

/// The value of `text` if it is `min..=max` ASCII digits.
fn digits(text: &str, min: usize, max: usize) -> Option<u32> {
    let well_formed = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    // At most four digits are ever read, so the value always fits.
    well_formed.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(kind: PeriodKind, year: i32, number: u32, day: u32) -> Written {
        Written {
            kind,
            year,
            number,
            day,
        }
    }

    #[test]
    fn reads_every_notation() {
        use PeriodKind::*;
        let cases = [
            ("20240315", written(Daily, 2024, 3, 15)),
            ("2024-03-15", written(Daily, 2024, 3, 15)),
            ("2024W1", written(Weekly, 2024, 1, 0)),
            ("2024W01", written(Weekly, 2024, 1, 0)),
            ("2024W53", written(Weekly, 2024, 53, 0)),
            ("2024WedW7", written(WeeklyWednesday, 2024, 7, 0)),
            ("2024ThuW07", written(WeeklyThursday, 2024, 7, 0)),
            ("2024SatW52", written(WeeklySaturday, 2024, 52, 0)),
            ("2024SunW8", written(WeeklySunday, 2024, 8, 0)),
            ("2024BiW26", written(BiWeekly, 2024, 26, 0)),
            ("202403", written(Monthly, 2024, 3, 0)),
            ("2024-03", written(Monthly, 2024, 3, 0)),
            ("202403B", written(BiMonthly, 2024, 3, 0)),
            ("2024Q4", written(Quarterly, 2024, 4, 0)),
            ("2024NovQ1", written(QuarterlyNov, 2024, 1, 0)),
            ("2024S2", written(SixMonthly, 2024, 2, 0)),
            ("2024AprilS1", written(SixMonthlyApril, 2024, 1, 0)),
            ("2024NovS2", written(SixMonthlyNov, 2024, 2, 0)),
            ("2024", written(Yearly, 2024, 1, 0)),
            ("2024April", written(FinancialApril, 2024, 1, 0)),
            ("2024July", written(FinancialJuly, 2024, 1, 0)),
            ("2024Sep", written(FinancialSep, 2024, 1, 0)),
            ("2024Oct", written(FinancialOct, 2024, 1, 0)),
            ("2024Nov", written(FinancialNov, 2024, 1, 0)),
            ("0000", written(Yearly, 0, 1, 0)),
            ("9999W99", written(Weekly, 9999, 99, 0)),
        ];
        for (text, expected) in cases {
            assert_eq!(read(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn out_of_range_numbers_are_read_so_the_calendar_can_name_them() {
        assert_eq!(read("202413").map(|w| w.number), Ok(13));
        assert_eq!(read("2024Q0").map(|w| w.number), Ok(0));
        assert_eq!(read("2024W00").map(|w| w.number), Ok(0));
        assert_eq!(read("20240230").map(|w| (w.number, w.day)), Ok((2, 30)));
    }

    #[test]
    fn rejects_text_in_no_dhis2_format() {
        let cases = [
            "",
            "202",
            "20245",
            "2024W",
            "2024W123",
            "2024w1",
            "2024Q",
            "2024Q01",
            "2024Q12",
            "2024S01",
            "2024BiW",
            "2024B",
            "20243B",
            "2024NOV",
            "2024nov",
            "2024November",
            "2024NovemberS1",
            "2024AprilS",
            "2024AugS1",
            "2024Feb",
            "2024Aug",
            " 2024",
            "2024 ",
            "2024W1 ",
            "+2024",
            "-2024",
            "2024-W1",
            "2024-3",
            "2024-03-5",
            "2024-0315",
            "202403-15",
            "2024/03",
            "２０２４",
            "2024W１",
            "abcd",
            "20240315T00",
            "201er2345566",
        ];
        for text in cases {
            assert!(
                matches!(read(text), Err(PeriodError::Unrecognised(_))),
                "{text:?}: {:?}",
                read(text)
            );
        }
    }

    #[test]
    fn unrecognised_error_quotes_the_input() {
        assert_eq!(
            read("2024X1"),
            Err(PeriodError::Unrecognised("2024X1".to_owned()))
        );
    }

    #[test]
    fn digits_checks_length_and_content() {
        assert_eq!(digits("07", 1, 2), Some(7));
        assert_eq!(digits("7", 1, 2), Some(7));
        assert_eq!(digits("", 1, 2), None);
        assert_eq!(digits("123", 1, 2), None);
        assert_eq!(digits("1a", 1, 2), None);
        assert_eq!(digits("+1", 1, 2), None);
    }
}
