//! Weeks as DHIS2 numbers them, for any first weekday.
//!
//! DHIS2 numbers every weekly type the ISO 8601 way, only with another first day: dhis2-core's
//! `WeeklyAbstractPeriodType.getIsoDate` and `DateUnitPeriodTypeParser` use
//! `java.time.temporal.WeekFields.of(firstDayOfWeek, 4)`, i.e. a week belongs to the year that
//! holds at least four of its days. So week 1 is the week that contains 4 January, and a year has
//! 53 weeks when its first week starts 53 weeks before the next year's.
//!
//! Checked against DHIS2's own values: `2022WedW1` is 2021-12-29..2022-01-04 (dhis2-core e2e test
//! `AnalyticsQueryDv9AutoTest`, 2.41, in `reference/dhis2-fixtures/core-e2e/`), and `2023WedW1`
//! 2023-01-04, `2023ThuW1` 2022-12-29, `2023SatW1` 2022-12-31, `2023SunW1` 2023-01-01 (start dates
//! in dhis2/multi-calendar-dates `create-fixed-period-from-period-id.gregorian.spec.ts`).
//!
//! One deliberate difference: DHIS2's parser bounds the week number of every weekly type by the
//! ISO (Monday) week count of the year, while its generator numbers each type by its own weeks.
//! We bound each type by its own weeks, so `2025SunW53` (a real Sunday week, 2025-12-28..2026-01-03)
//! is accepted here even though some DHIS2 versions refuse to parse it.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// First day of week 1 of `year` for weeks starting on `first_day`.
pub(super) fn week_one_start(year: i32, first_day: Weekday) -> NaiveDate {
    let january_4 = NaiveDate::from_ymd_opt(year, 1, 4).expect("4 January exists in every year");
    january_4 - Days::new(january_4.weekday().days_since(first_day).into())
}

/// 52 or 53.
pub(super) fn weeks_in_year(year: i32, first_day: Weekday) -> u32 {
    let days = week_one_start(year + 1, first_day) - week_one_start(year, first_day);
    u32::try_from(days.num_weeks()).expect("a year has 52 or 53 weeks")
}

/// First and last day of `week` of `year`, if the year has that week.
pub(super) fn week_dates(
    year: i32,
    week: u32,
    first_day: Weekday,
) -> Option<(NaiveDate, NaiveDate)> {
    if !(1..=weeks_in_year(year, first_day)).contains(&week) {
        return None;
    }
    let start = week_one_start(year, first_day) + Days::new(7 * u64::from(week - 1));
    Some((start, start + Days::new(6)))
}

/// 26, or 27 in years with 53 ISO weeks.
///
/// DHIS2's parser accepts bi-week n while its first week 2n-1 exists (`DateUnitPeriodTypeParser`:
/// `week = n * 2 - 1; week <= weeksInYear`), so a 53-week year has a 27th bi-week made of week 53
/// and the next year's week 1.
pub(super) fn bi_weeks_in_year(year: i32) -> u32 {
    weeks_in_year(year, Weekday::Mon).div_ceil(2)
}

/// First and last day of bi-week `bi_week` of `year`: ISO weeks 2n-1 and 2n.
pub(super) fn bi_week_dates(year: i32, bi_week: u32) -> Option<(NaiveDate, NaiveDate)> {
    if !(1..=bi_weeks_in_year(year)).contains(&bi_week) {
        return None;
    }
    let (start, _) = week_dates(year, 2 * bi_week - 1, Weekday::Mon)?;
    Some((start, start + Days::new(13)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday::{Mon, Sat, Sun, Thu, Wed};

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// (first day, year, weeks in year, start of week 1, start of the last week), computed
    /// independently with the "a week belongs to the year of its fourth day" formulation.
    const YEARS: &[(Weekday, i32, u32, &str, &str)] = &[
        (Mon, 2015, 53, "2014-12-29", "2015-12-28"),
        (Mon, 2020, 53, "2019-12-30", "2020-12-28"),
        (Mon, 2021, 52, "2021-01-04", "2021-12-27"),
        (Mon, 2024, 52, "2024-01-01", "2024-12-23"),
        (Mon, 2025, 52, "2024-12-30", "2025-12-22"),
        (Mon, 2026, 53, "2025-12-29", "2026-12-28"),
        (Wed, 2021, 52, "2020-12-30", "2021-12-22"),
        (Wed, 2022, 53, "2021-12-29", "2022-12-28"),
        (Wed, 2023, 52, "2023-01-04", "2023-12-27"),
        (Wed, 2024, 52, "2024-01-03", "2024-12-25"),
        (Thu, 2022, 52, "2021-12-30", "2022-12-22"),
        (Thu, 2023, 53, "2022-12-29", "2023-12-28"),
        (Thu, 2024, 52, "2024-01-04", "2024-12-26"),
        (Sat, 2023, 52, "2022-12-31", "2023-12-23"),
        (Sat, 2024, 53, "2023-12-30", "2024-12-28"),
        (Sat, 2025, 52, "2025-01-04", "2025-12-27"),
        (Sun, 2020, 53, "2019-12-29", "2020-12-27"),
        (Sun, 2023, 52, "2023-01-01", "2023-12-24"),
        (Sun, 2024, 52, "2023-12-31", "2024-12-22"),
        (Sun, 2025, 53, "2024-12-29", "2025-12-28"),
    ];

    #[test]
    fn year_boundaries_for_every_first_day() {
        for &(first_day, year, weeks, first, last) in YEARS {
            let case = format!("{first_day:?} {year}");
            assert_eq!(weeks_in_year(year, first_day), weeks, "{case}");
            assert_eq!(week_one_start(year, first_day), date(first), "{case}");
            let (start, end) = week_dates(year, weeks, first_day).unwrap();
            assert_eq!(start, date(last), "{case}");
            assert_eq!(end, start + Days::new(6), "{case}");
            assert_eq!(week_dates(year, weeks + 1, first_day), None, "{case}");
            assert_eq!(week_dates(year, 0, first_day), None, "{case}");
        }
    }

    #[test]
    fn weeks_start_on_their_first_day_and_tile_the_years() {
        for first_day in [Mon, Wed, Thu, Sat, Sun] {
            let mut expected_start = week_one_start(1999, first_day);
            for year in 1999..=2031 {
                for week in 1..=weeks_in_year(year, first_day) {
                    let (start, end) = week_dates(year, week, first_day).unwrap();
                    assert_eq!(start, expected_start, "{first_day:?} {year} week {week}");
                    assert_eq!(start.weekday(), first_day);
                    // The fourth day decides the year: that is what "at least four days" means.
                    assert_eq!((start + Days::new(3)).year(), year);
                    expected_start = end + Days::new(1);
                }
            }
        }
    }

    #[test]
    fn monday_weeks_match_chrono_iso_weeks() {
        let mut day = date("1999-12-01");
        while day < date("2031-02-01") {
            let iso = day.iso_week();
            let (start, end) = week_dates(iso.year(), iso.week(), Mon).unwrap();
            assert!(start <= day && day <= end, "{day}");
            assert!(weeks_in_year(iso.year(), Mon) >= iso.week());
            day = day + Days::new(1);
        }
    }

    #[test]
    fn dhis2_weekly_examples() {
        // dhis2-core WeeklyPeriodTypeTest.isoDates
        assert_eq!(week_dates(2009, 1, Mon).unwrap().0, date("2008-12-29"));
        assert_eq!(week_dates(2011, 1, Mon).unwrap().0, date("2011-01-03"));
        assert_eq!(week_dates(2011, 11, Mon).unwrap().0, date("2011-03-14"));
        assert_eq!(weeks_in_year(2009, Mon), 53);
        // fixtures/core-e2e: "2022WedW8" is "Week 8 2022-02-16 - 2022-02-22"
        assert_eq!(
            week_dates(2022, 8, Wed),
            Some((date("2022-02-16"), date("2022-02-22")))
        );
        assert_eq!(
            week_dates(2022, 12, Wed),
            Some((date("2022-03-16"), date("2022-03-22")))
        );
    }

    #[test]
    fn bi_weeks_pair_iso_weeks() {
        // multi-calendar-dates: 2023BiW1 is 2023-01-02..2023-01-15
        assert_eq!(
            bi_week_dates(2023, 1),
            Some((date("2023-01-02"), date("2023-01-15")))
        );
        assert_eq!(
            bi_week_dates(2024, 26),
            Some((date("2024-12-16"), date("2024-12-29")))
        );
        assert_eq!(bi_weeks_in_year(2024), 26);
        assert_eq!(bi_week_dates(2024, 27), None);
        assert_eq!(bi_week_dates(2024, 0), None);
    }

    #[test]
    fn bi_week_27_exists_only_in_53_week_years() {
        assert_eq!(bi_weeks_in_year(2020), 27);
        assert_eq!(
            bi_week_dates(2020, 27),
            Some((date("2020-12-28"), date("2021-01-10")))
        );
        assert_eq!(bi_weeks_in_year(2026), 27);
        assert_eq!(bi_weeks_in_year(2021), 26);
        assert_eq!(bi_week_dates(2021, 27), None);
    }
}
