//! Periods made of whole calendar months: monthly up to financial years.
//!
//! The November types are named after the year they end in: `2024NovS1` is November 2023 - April
//! 2024, `2024NovS2` May - October 2024, `2024NovQ1` November 2023 - January 2024 and `2024Nov`
//! November 2023 - October 2024. Source: dhis2-core `DateUnitPeriodTypeParser` (start
//! `year - 1`, month 11 for `NovS1`, `NovQ1` and `Nov`) and `getIsoDate` of
//! `SixMonthlyNovemberPeriodType` / `QuarterlyNovemberPeriodType` / `FinancialNovemberPeriodType`
//! (a period starting in November of Y is written Y+1). The DHIS2 front-end library
//! multi-calendar-dates, and dhis2-core PR #22314 (DHIS2-18609, closed without merging), read
//! `yyyyNov` as starting in November of yyyy instead; we follow the server's parser, since the server
//! is what receives our data. The other financial years start in the written year: `2024April` is
//! April 2024 - March 2025.

use chrono::{Days, Months, NaiveDate};

use super::kind::MonthLayout;

/// First and last day of period `number` (1-based) of `year`, if the type has that period.
pub(super) fn month_period_dates(
    layout: MonthLayout,
    year: i32,
    number: u32,
) -> Option<(NaiveDate, NaiveDate)> {
    if !(1..=layout.periods_per_year()).contains(&number) {
        return None;
    }
    let first_year = if layout.starts_year_before {
        year - 1
    } else {
        year
    };
    let year_start = NaiveDate::from_ymd_opt(first_year, layout.first_month, 1)?;
    let start = year_start.checked_add_months(Months::new((number - 1) * layout.length))?;
    let after_end = start.checked_add_months(Months::new(layout.length))?;
    Some((start, after_end.checked_sub_days(Days::new(1))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::PeriodKind;
    use crate::domain::period::kind::Layout;

    fn layout(kind: PeriodKind) -> MonthLayout {
        match kind.layout() {
            Layout::Months(layout) => layout,
            other => panic!("{kind} is laid out as {other:?}"),
        }
    }

    fn dates(kind: PeriodKind, year: i32, number: u32) -> Option<(String, String)> {
        month_period_dates(layout(kind), year, number)
            .map(|(start, end)| (start.to_string(), end.to_string()))
    }

    fn some(start: &str, end: &str) -> Option<(String, String)> {
        Some((start.to_owned(), end.to_owned()))
    }

    #[test]
    fn every_period_of_every_month_kind() {
        use PeriodKind::*;
        let cases = [
            (Monthly, 2024, 1, "2024-01-01", "2024-01-31"),
            (Monthly, 2024, 2, "2024-02-01", "2024-02-29"),
            (Monthly, 2023, 2, "2023-02-01", "2023-02-28"),
            (Monthly, 2024, 12, "2024-12-01", "2024-12-31"),
            (BiMonthly, 2024, 1, "2024-01-01", "2024-02-29"),
            // multi-calendar-dates: 202302B is March - April 2023
            (BiMonthly, 2023, 2, "2023-03-01", "2023-04-30"),
            (BiMonthly, 2024, 6, "2024-11-01", "2024-12-31"),
            (Quarterly, 2024, 1, "2024-01-01", "2024-03-31"),
            (Quarterly, 2024, 4, "2024-10-01", "2024-12-31"),
            (QuarterlyNov, 2024, 1, "2023-11-01", "2024-01-31"),
            (QuarterlyNov, 2024, 2, "2024-02-01", "2024-04-30"),
            (QuarterlyNov, 2024, 3, "2024-05-01", "2024-07-31"),
            (QuarterlyNov, 2024, 4, "2024-08-01", "2024-10-31"),
            (SixMonthly, 2024, 1, "2024-01-01", "2024-06-30"),
            (SixMonthly, 2024, 2, "2024-07-01", "2024-12-31"),
            // multi-calendar-dates: 2023AprilS2 is October 2023 - March 2024
            (SixMonthlyApril, 2023, 1, "2023-04-01", "2023-09-30"),
            (SixMonthlyApril, 2023, 2, "2023-10-01", "2024-03-31"),
            (SixMonthlyNov, 2024, 1, "2023-11-01", "2024-04-30"),
            (SixMonthlyNov, 2024, 2, "2024-05-01", "2024-10-31"),
            (Yearly, 2024, 1, "2024-01-01", "2024-12-31"),
            // multi-calendar-dates: 2023April, 2023July, 2023Oct
            (FinancialApril, 2023, 1, "2023-04-01", "2024-03-31"),
            (FinancialJuly, 2023, 1, "2023-07-01", "2024-06-30"),
            (FinancialSep, 2023, 1, "2023-09-01", "2024-08-31"),
            (FinancialOct, 2023, 1, "2023-10-01", "2024-09-30"),
            // dhis2-core FinancialNovemberPeriodTypeTest: the period holding 2009-02-15 is
            // 2008-11-01..2009-10-31, written "2009Nov" by getIsoDate (start year + 1).
            (FinancialNov, 2009, 1, "2008-11-01", "2009-10-31"),
            (FinancialNov, 2024, 1, "2023-11-01", "2024-10-31"),
        ];
        for (kind, year, number, start, end) in cases {
            assert_eq!(
                dates(kind, year, number),
                some(start, end),
                "{kind} {year} {number}"
            );
        }
    }

    #[test]
    fn numbers_outside_the_year_do_not_exist() {
        use PeriodKind::*;
        let cases = [
            (Monthly, 0),
            (Monthly, 13),
            (BiMonthly, 7),
            (Quarterly, 0),
            (Quarterly, 5),
            (QuarterlyNov, 5),
            (SixMonthly, 3),
            (SixMonthlyNov, 0),
            (Yearly, 2),
        ];
        for (kind, number) in cases {
            assert_eq!(dates(kind, 2024, number), None, "{kind} {number}");
        }
    }

    #[test]
    fn periods_of_a_year_follow_each_other_without_gaps() {
        for kind in PeriodKind::ALL {
            let Layout::Months(layout) = kind.layout() else {
                continue;
            };
            let mut expected_start = month_period_dates(layout, 1999, 1).unwrap().0;
            for year in 1999..=2030 {
                for number in 1..=layout.periods_per_year() {
                    let (start, end) = month_period_dates(layout, year, number).unwrap();
                    assert_eq!(start, expected_start, "{kind} {year} {number}");
                    assert!(start < end);
                    expected_start = end + Days::new(1);
                }
            }
        }
    }

    #[test]
    fn works_at_the_edges_of_four_digit_years() {
        assert_eq!(
            dates(PeriodKind::FinancialNov, 0, 1),
            some("-0001-11-01", "0000-10-31")
        );
        assert_eq!(
            dates(PeriodKind::FinancialOct, 9999, 1),
            some("9999-10-01", "+10000-09-30")
        );
    }
}
