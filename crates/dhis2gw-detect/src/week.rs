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
        Self::containing(self.monday() + Days::new(7))
    }

    pub fn prev(self) -> Self {
        Self::containing(self.monday() - Days::new(7))
    }

    /// The week `n` weeks before this one.
    pub fn minus(self, n: u32) -> Self {
        Self::containing(self.monday() - Days::new(7 * u64::from(n)))
    }

    /// The week `n` weeks after this one.
    pub fn plus(self, n: u32) -> Self {
        Self::containing(self.monday() + Days::new(7 * u64::from(n)))
    }

    /// Whole weeks from `earlier` to `self` (negative when `earlier` is later).
    pub fn weeks_since(self, earlier: Self) -> i64 {
        (self.monday() - earlier.monday()).num_weeks()
    }
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
    fn order_is_time_order() {
        assert!(week("2025W52") < week("2026W1"));
        assert!(week("2026W9") < week("2026W10"));
    }
}
