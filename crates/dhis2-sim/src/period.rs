//! ISO period identifiers as DHIS2 parses them (`DateUnitType`/`PeriodType`): a period the
//! server cannot parse, or one that does not exist (`2024W53`, `202413`), is conflict E7611.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The period types the simulator recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodType {
    Daily,
    Weekly(Weekday),
    BiWeekly,
    Monthly,
    BiMonthly,
    Quarterly,
    SixMonthly,
    SixMonthlyApril,
    SixMonthlyNov,
    Yearly,
    FinancialApril,
    FinancialJuly,
    FinancialOct,
    FinancialNov,
}

/// Parses a period identifier, returning its type when the period exists.
pub fn parse(iso: &str) -> Option<PeriodType> {
    if iso.len() < 4 || !iso.is_char_boundary(4) {
        return None;
    }
    let (year_part, rest) = iso.split_at(4);
    let year: i32 = digits(year_part)?;
    match rest {
        "" => Some(PeriodType::Yearly),
        "April" => Some(PeriodType::FinancialApril),
        "July" => Some(PeriodType::FinancialJuly),
        "Oct" => Some(PeriodType::FinancialOct),
        "Nov" => Some(PeriodType::FinancialNov),
        "S1" | "S2" => Some(PeriodType::SixMonthly),
        "AprilS1" | "AprilS2" => Some(PeriodType::SixMonthlyApril),
        "NovS1" | "NovS2" => Some(PeriodType::SixMonthlyNov),
        "Q1" | "Q2" | "Q3" | "Q4" => Some(PeriodType::Quarterly),
        _ => parse_with_number(year, rest),
    }
}

fn parse_with_number(year: i32, rest: &str) -> Option<PeriodType> {
    // Longest prefixes first: "WedW12" also starts with "W".
    const WEEK_PREFIXES: [(&str, Weekday); 5] = [
        ("WedW", Weekday::Wed),
        ("ThuW", Weekday::Thu),
        ("SatW", Weekday::Sat),
        ("SunW", Weekday::Sun),
        ("W", Weekday::Mon),
    ];
    for (prefix, start) in WEEK_PREFIXES {
        if let Some(number) = rest.strip_prefix(prefix) {
            let week: u32 = short_number(number)?;
            return (week >= 1 && week <= weeks_in_year(year, start))
                .then_some(PeriodType::Weekly(start));
        }
    }
    if let Some(number) = rest.strip_prefix("BiW") {
        let biweek: u32 = short_number(number)?;
        let count = weeks_in_year(year, Weekday::Mon).div_ceil(2);
        return (biweek >= 1 && biweek <= count).then_some(PeriodType::BiWeekly);
    }
    if let Some(month) = rest.strip_suffix('B') {
        let month: u32 = digits(month).filter(|_| month.len() == 2)?;
        return (1..=6).contains(&month).then_some(PeriodType::BiMonthly);
    }
    let compact = rest.strip_prefix('-').unwrap_or(rest).replace('-', "");
    match compact.len() {
        2 => {
            let month: u32 = digits(&compact)?;
            (1..=12).contains(&month).then_some(PeriodType::Monthly)
        }
        4 => {
            let month: u32 = digits(&compact[..2])?;
            let day: u32 = digits(&compact[2..])?;
            NaiveDate::from_ymd_opt(year, month, day).map(|_| PeriodType::Daily)
        }
        _ => None,
    }
}

fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Week and bi-week numbers take one or two digits (`2024W1`, `2024W01`).
fn short_number(text: &str) -> Option<u32> {
    (1..=2)
        .contains(&text.len())
        .then(|| digits(text))
        .flatten()
}

/// Weeks starting on `start` with at least 4 days in the year (`WeekFields.of(start, 4)`):
/// week 1 is the one containing January 4th.
fn first_week_start(year: i32, start: Weekday) -> Option<NaiveDate> {
    let jan4 = NaiveDate::from_ymd_opt(year, 1, 4)?;
    let offset = (7 + jan4.weekday().num_days_from_monday() - start.num_days_from_monday()) % 7;
    Some(jan4 - Duration::days(i64::from(offset)))
}

fn weeks_in_year(year: i32, start: Weekday) -> u32 {
    match (
        first_week_start(year, start),
        first_week_start(year + 1, start),
    ) {
        (Some(this), Some(next)) => u32::try_from((next - this).num_days() / 7).unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_existing_periods() {
        for ok in [
            "2024",
            "202401",
            "2024-01",
            "2024Q3",
            "2024W1",
            "2024W01",
            "2020W53",
            "2026W53",
            "20240229",
            "2024S2",
            "2024AprilS1",
            "2024BiW1",
            "202406B",
            "2024July",
            "2022WedW12",
        ] {
            assert!(parse(ok).is_some(), "{ok} should parse");
        }
        assert_eq!(parse("2024W10"), Some(PeriodType::Weekly(Weekday::Mon)));
        assert_eq!(parse("202403"), Some(PeriodType::Monthly));
    }

    #[test]
    fn rejects_periods_that_do_not_exist() {
        for bad in [
            "2024W53",
            "2024W99",
            "2024W0",
            "202413",
            "202400",
            "2024Q5",
            "20230229",
            "24W1",
            "2024W100",
            "abcd",
            "",
            "2024X",
            "202407B",
            "2024W1x",
            "２０２４",
        ] {
            assert!(parse(bad).is_none(), "{bad} should be invalid");
        }
    }
}
