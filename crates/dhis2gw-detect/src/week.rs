//! ISO 8601 weeks (`2026W47`): weeks start on Monday, and week 1 is the week that holds 4 January,
//! so a year has 52 or 53 weeks and a week near New Year may belong to the year before or after.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// One ISO week. Ordered in time; `prev`/`next`/`minus` step across year ends and week 53.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    year: i32,
    week: u32,
}

/// Why a text or a (year, week) pair is not an ISO week.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsoWeekError {
    #[error("{0:?} is not an ISO week: expected YYYYWn, e.g. 2026W47")]
    Syntax(String),
    #[error("{year} has {weeks} ISO weeks, so week {week} does not exist")]
    NoSuchWeek { year: i32, week: u32, weeks: u32 },
}

/// Years outside this range are refused: surveillance data never reaches them, and staying
/// inside keeps every date computation far from chrono's limits.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

impl IsoWeek {
    /// Week `week` of ISO year `year`, if that year has it.
    pub fn new(year: i32, week: u32) -> Result<Self, IsoWeekError> {
        if !YEARS.contains(&year) {
            return Err(IsoWeekError::Syntax(format!("{year}W{week}")));
        }
        let weeks = weeks_in_year(year);
        if !(1..=weeks).contains(&week) {
            return Err(IsoWeekError::NoSuchWeek { year, week, weeks });
        }
        Ok(Self { year, week })
    }

    /// The ISO week that holds `date`.
    pub fn containing(date: NaiveDate) -> Self {
        let iso = date.iso_week();
        Self {
            year: iso.year(),
            week: iso.week(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn week(self) -> u32 {
        self.week
    }

    /// The Monday that starts the week.
    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon)
            .expect("an IsoWeek is always a real week")
    }

    /// The Sunday that ends the week.
    pub fn sunday(self) -> NaiveDate {
        self.monday() + Days::new(6)
    }

    pub fn next(self) -> Self {
        self.plus(1)
    }

    pub fn prev(self) -> Self {
        self.minus(1)
    }

    /// The week `n` weeks before this one.
    pub fn minus(self, n: u32) -> Self {
        Self::from_monday_day(self.monday_day() - 7 * i64::from(n))
    }

    /// The week `n` weeks after this one.
    pub fn plus(self, n: u32) -> Self {
        Self::from_monday_day(self.monday_day() + 7 * i64::from(n))
    }

    /// Whole weeks from `earlier` to `self` (negative when `earlier` is later).
    pub fn weeks_since(self, earlier: Self) -> i64 {
        (self.monday_day() - earlier.monday_day()) / 7
    }

    /// The day number (days since 1970-01-01) of the week's Monday. Plain integer arithmetic
    /// rather than chrono's date types: the engine steps weeks for every assessed week, and
    /// this is several times faster (checked against chrono for every week in `tests`).
    fn monday_day(self) -> i64 {
        // Week 1 is the week holding 4 January.
        let jan4 = days_from_civil(i64::from(self.year), 1, 4);
        let week1_monday = jan4 - weekday_from_monday(jan4);
        week1_monday + 7 * (i64::from(self.week) - 1)
    }

    /// The week whose Monday is day number `monday`: its ISO year is the calendar year of its
    /// Thursday, and since week 1 holds the year's first Thursday, the week number is that
    /// Thursday's day of the year (from 0) divided by 7, plus 1.
    fn from_monday_day(monday: i64) -> Self {
        let (year, day_of_year) = year_and_day_of_year(monday + 3);
        Self {
            year: i32::try_from(year).expect("weeks stay within a few thousand years"),
            week: u32::try_from(day_of_year / 7 + 1).expect("a week number"),
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar year holding day number `days`, and the day's place in it (0 = 1 January)
/// (H. Hinnant's `civil_from_days`, whose years start on 1 March).
fn year_and_day_of_year(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let from_march = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let year = yoe + era * 400;
    // 1 March is day 306 of the March-based year; January and February belong to the next
    // calendar year.
    if from_march >= 306 {
        (year + 1, from_march - 306)
    } else {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        (year, from_march + 59 + i64::from(leap))
    }
}

/// 0 for Monday … 6 for Sunday (1970-01-01 was a Thursday).
fn weekday_from_monday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// 52 or 53: a year has 53 ISO weeks when 28 December, always in its last week, is in week 53.
pub fn weeks_in_year(year: i32) -> u32 {
    NaiveDate::from_ymd_opt(year, 12, 28)
        .expect("28 December exists in every year")
        .iso_week()
        .week()
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}W{}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = IsoWeekError;

    /// `2026W47` (DHIS2's form), `2026W07` or ISO 8601's `2026-W47`; nothing else.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || IsoWeekError::Syntax(text.to_owned());
        let (year, week) = text.split_once('W').ok_or_else(syntax)?;
        let year = year.strip_suffix('-').unwrap_or(year);
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if year.len() != 4 || !digits(year, 4) || !digits(week, 2) {
            return Err(syntax());
        }
        Self::new(
            year.parse().map_err(|_| syntax())?,
            week.parse().map_err(|_| syntax())?,
        )
    }
}

impl serde::Serialize for IsoWeek {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IsoWeek {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(text: &str) -> IsoWeek {
        text.parse().unwrap()
    }

    #[test]
    fn years_with_53_weeks_are_those_whose_28_december_is_in_week_53() {
        let long: Vec<i32> = (2000..=2030).filter(|&y| weeks_in_year(y) == 53).collect();
        assert_eq!(long, [2004, 2009, 2015, 2020, 2026]);
    }

    #[test]
    fn steps_cross_year_ends_and_week_53() {
        assert_eq!(week("2020W53").next(), week("2021W1"));
        assert_eq!(week("2021W1").prev(), week("2020W53"));
        assert_eq!(week("2025W52").next(), week("2026W1"));
        assert_eq!(week("2026W1").prev(), week("2025W52"));
        assert_eq!(week("2027W3").minus(5), week("2026W51"));
        assert_eq!(week("2026W51").plus(5), week("2027W3"));
        assert_eq!(week("2027W3").weeks_since(week("2026W51")), 5);
    }

    #[test]
    fn dates_of_a_week_near_new_year() {
        // ISO week 1 of 2026 starts on Monday 29 December 2025.
        assert_eq!(week("2026W1").monday().to_string(), "2025-12-29");
        assert_eq!(week("2026W1").sunday().to_string(), "2026-01-04");
        assert_eq!(
            IsoWeek::containing("2027-01-01".parse().unwrap()),
            week("2026W53")
        );
    }

    #[test]
    fn parses_and_prints_dhis2_form() {
        assert_eq!(week("2026W07").to_string(), "2026W7");
        assert_eq!(week("2026W47").to_string(), "2026W47");
        assert_eq!(week("2026-W47"), week("2026W47"));
    }

    #[test]
    fn refuses_what_is_not_a_week() {
        for bad in [
            "", "2026", "2026W", "W47", "2026W0", "26W1", "2026w1", "2026W123", "2026W+1",
            "2026W1 ", "2026--W1", "2026-W",
        ] {
            assert!(bad.parse::<IsoWeek>().is_err(), "{bad:?} parsed");
        }
        assert_eq!(
            "2025W53".parse::<IsoWeek>(),
            Err(IsoWeekError::NoSuchWeek {
                year: 2025,
                week: 53,
                weeks: 52
            })
        );
    }

    #[test]
    fn integer_week_steps_agree_with_chrono_for_every_week() {
        let mut w = IsoWeek::new(1900, 1).unwrap();
        let mut monday = w.monday();
        while w.year() < 2999 {
            assert_eq!(IsoWeek::containing(monday), w);
            assert_eq!(w.monday(), monday, "{w}");
            assert_eq!(w.prev().next(), w);
            monday = monday + Days::new(7);
            w = w.next();
        }
        assert_eq!(week("2026W10").weeks_since(week("2016W10")), 521);
        assert_eq!(week("2016W10").plus(521), week("2026W10"));
    }

    #[test]
    fn order_is_time_order() {
        assert!(week("2025W52") < week("2026W1"));
        assert!(week("2026W9") < week("2026W10"));
    }
}
