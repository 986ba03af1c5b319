//! DHIS2 periods (`2024W10`, `202403`, `2024NovS1`...) parsed into real calendar periods.
//!
//! Every DHIS2 period type that has an ISO format is read, and each is checked against the
//! calendar, not only its shape: `20240230`, `202413` and `2021W53` are refused.
//!
//! | type | format | example | dates |
//! |---|---|---|---|
//! | Daily | `yyyyMMdd` (or `yyyy-MM-dd`) | `20240315` | 2024-03-15 |
//! | Weekly | `yyyyWn` | `2024W1` | 2024-01-01..01-07 (ISO week, Monday start) |
//! | WeeklyWednesday, -Thursday, -Saturday, -Sunday | `yyyyWedWn`, `yyyyThuWn`, `yyyySatWn`, `yyyySunWn` | `2022WedW1` | 2021-12-29..2022-01-04 |
//! | BiWeekly | `yyyyBiWn` | `2023BiW1` | ISO weeks 1-2: 2023-01-02..01-15 |
//! | Monthly | `yyyyMM` (or `yyyy-MM`) | `202402` | 2024-02-01..02-29 |
//! | BiMonthly | `yyyyMMB` | `202401B` | 2024-01-01..02-29 |
//! | Quarterly | `yyyyQn` | `2024Q1` | 2024-01-01..03-31 |
//! | QuarterlyNov | `yyyyNovQn` | `2024NovQ1` | 2023-11-01..2024-01-31 |
//! | SixMonthly | `yyyySn` | `2024S2` | 2024-07-01..12-31 |
//! | SixMonthlyApril | `yyyyAprilSn` | `2024AprilS2` | 2024-10-01..2025-03-31 |
//! | SixMonthlyNov | `yyyyNovSn` | `2024NovS1` | 2023-11-01..2024-04-30 |
//! | Yearly | `yyyy` | `2024` | 2024-01-01..12-31 |
//! | FinancialApril, -July, -Sep, -Oct | `yyyyApril`, `yyyyJuly`, `yyyySep`, `yyyyOct` | `2024July` | 2024-07-01..2025-06-30 |
//! | FinancialNov | `yyyyNov` | `2024Nov` | 2023-11-01..2024-10-31 |
//!
//! Week numbers may carry a leading zero (`2024W01`), which DHIS2 also accepts; [`Period`]'s
//! `Display` always writes the canonical DHIS2 form (`2024W1`). How weeks are numbered is explained
//! in `weekly.rs`, the November types in `months.rs`. Not read: `TwoYearly` (no ISO format) and the
//! newest financial types (`FinancialAug`, `FinancialFeb`), which released DHIS2 versions lack.

mod error;
mod kind;
mod months;
mod syntax;
mod weekly;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use error::PeriodError;
pub use kind::PeriodKind;

use kind::{Layout, Notation};
use syntax::Written;

/// A DHIS2 period that exists on the calendar.
///
/// Periods order by start date, then end date, then type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    // The field order is the derived order.
    start: NaiveDate,
    end: NaiveDate,
    kind: PeriodKind,
    /// The year as written, which is not always the year of `start` (`2024NovS1`, `2024W1`).
    year: i32,
    /// Week, month, quarter... as written (the month for Daily, 1 for one-per-year types).
    number: u32,
}

impl Period {
    /// Parses a DHIS2 period; the error names what is wrong (unknown format, week 54, month 13,
    /// February 30...).
    pub fn parse(input: &str) -> Result<Period, PeriodError> {
        Period::from_written(syntax::read(input)?)
    }

    /// The ISO week `week` of `year` (DHIS2 `Weekly`, e.g. `2024W10`).
    pub fn iso_week(year: i32, week: u32) -> Result<Period, PeriodError> {
        Period::from_written(Written {
            kind: PeriodKind::Weekly,
            year,
            number: week,
            day: 0,
        })
    }

    /// The ISO week (DHIS2 `Weekly`) that `date` falls in; fails only for dates whose week-year
    /// does not have four digits.
    pub fn iso_week_containing(date: NaiveDate) -> Result<Period, PeriodError> {
        let iso = date.iso_week();
        Period::iso_week(iso.year(), iso.week())
    }

    /// 52 or 53.
    pub fn iso_weeks_in_year(year: i32) -> u32 {
        weekly::weeks_in_year(year, Weekday::Mon)
    }

    pub fn kind(&self) -> PeriodKind {
        self.kind
    }

    /// First day of the period.
    pub fn start_date(&self) -> NaiveDate {
        self.start
    }

    /// Last day of the period (inclusive).
    pub fn end_date(&self) -> NaiveDate {
        self.end
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    fn from_written(written: Written) -> Result<Period, PeriodError> {
        let Written {
            kind,
            year,
            number,
            day,
        } = written;
        if !(0..=9999).contains(&year) {
            return Err(PeriodError::YearOutOfRange(year));
        }
        let no_such_week = |max| PeriodError::NoSuchWeek {
            kind,
            noun: kind.noun(),
            number,
            year,
            max,
        };
        let (start, end) = match kind.layout() {
            Layout::Day => {
                let date = calendar_date(year, number, day)?;
                (date, date)
            }
            Layout::Week(first_day) => weekly::week_dates(year, number, first_day)
                .ok_or_else(|| no_such_week(weekly::weeks_in_year(year, first_day)))?,
            Layout::BiWeek => weekly::bi_week_dates(year, number)
                .ok_or_else(|| no_such_week(weekly::bi_weeks_in_year(year)))?,
            Layout::Months(layout) => {
                months::month_period_dates(layout, year, number).ok_or(PeriodError::NoSuchPart {
                    noun: kind.noun(),
                    number,
                    max: layout.periods_per_year(),
                })?
            }
        };
        Ok(Period {
            start,
            end,
            kind,
            year,
            number,
        })
    }
}

fn calendar_date(year: i32, month: u32, day: u32) -> Result<NaiveDate, PeriodError> {
    if !(1..=12).contains(&month) {
        return Err(PeriodError::NoSuchPart {
            noun: "month",
            number: month,
            max: 12,
        });
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or(PeriodError::NoSuchDate { year, month, day })
}

/// The canonical DHIS2 form: `2024W1`, `202403`, `2024NovS1`...
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let year = self.year;
        match self.kind.notation() {
            Notation::MonthDay => {
                write!(
                    f,
                    "{year:04}{:02}{:02}",
                    self.start.month(),
                    self.start.day()
                )
            }
            Notation::TwoDigits { suffix } => write!(f, "{year:04}{:02}{suffix}", self.number),
            Notation::Numbered { marker, .. } => write!(f, "{year:04}{marker}{}", self.number),
            Notation::Fixed { suffix } => write!(f, "{year:04}{suffix}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(input: &str) -> Result<Period, PeriodError> {
        Period::parse(input)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Period, D::Error> {
        let text = String::deserialize(deserializer)?;
        Period::parse(&text).map_err(serde::de::Error::custom)
    }
}
