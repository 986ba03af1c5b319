//! The DHIS2 period types: their names, how each is written and how each lies on the calendar.

use std::fmt;

use chrono::Weekday;

/// A DHIS2 period type, named as DHIS2 names it (a data set's `periodType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    Daily,
    Weekly,
    WeeklyWednesday,
    WeeklyThursday,
    WeeklySaturday,
    WeeklySunday,
    BiWeekly,
    Monthly,
    BiMonthly,
    Quarterly,
    QuarterlyNov,
    SixMonthly,
    SixMonthlyApril,
    SixMonthlyNov,
    Yearly,
    FinancialApril,
    FinancialJuly,
    FinancialSep,
    FinancialOct,
    FinancialNov,
}

/// How the part after the four-digit year is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notation {
    /// `MMdd`.
    MonthDay,
    /// Exactly two digits, then `suffix`.
    TwoDigits { suffix: &'static str },
    /// `marker`, then the period's number in one to `max_digits` digits (`2024W1`, `2024W01`).
    Numbered {
        marker: &'static str,
        max_digits: usize,
    },
    /// Only `suffix` (empty for Yearly): one period per year.
    Fixed { suffix: &'static str },
}

/// How the periods of a type lie on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    Day,
    /// Seven days starting on the given weekday, numbered like ISO 8601 weeks.
    Week(Weekday),
    /// Two ISO weeks (Monday start): bi-week n is ISO weeks 2n-1 and 2n.
    BiWeek,
    /// Whole calendar months.
    Months(MonthLayout),
}

/// Periods made of whole months: period 1 starts on the first of `first_month` of the written
/// year (or of the year before, when `starts_year_before`); each lasts `length` months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MonthLayout {
    pub first_month: u32,
    pub starts_year_before: bool,
    pub length: u32,
}

impl MonthLayout {
    const fn starting_in(first_month: u32, length: u32) -> Layout {
        Layout::Months(MonthLayout {
            first_month,
            starts_year_before: false,
            length,
        })
    }

    /// For the November types, whose year is the one they end in (see `super` for sources).
    const fn starting_november_before(length: u32) -> Layout {
        Layout::Months(MonthLayout {
            first_month: 11,
            starts_year_before: true,
            length,
        })
    }

    pub fn periods_per_year(self) -> u32 {
        12 / self.length
    }
}

/// Everything that distinguishes one period type from another.
struct Spec {
    name: &'static str,
    notation: Notation,
    layout: Layout,
    /// What one period is called in error messages ("week 54 does not exist in 2024").
    noun: &'static str,
}

const fn numbered(marker: &'static str, max_digits: usize) -> Notation {
    Notation::Numbered { marker, max_digits }
}

const fn fixed(suffix: &'static str) -> Notation {
    Notation::Fixed { suffix }
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 20] = [
        PeriodKind::Daily,
        PeriodKind::Weekly,
        PeriodKind::WeeklyWednesday,
        PeriodKind::WeeklyThursday,
        PeriodKind::WeeklySaturday,
        PeriodKind::WeeklySunday,
        PeriodKind::BiWeekly,
        PeriodKind::Monthly,
        PeriodKind::BiMonthly,
        PeriodKind::Quarterly,
        PeriodKind::QuarterlyNov,
        PeriodKind::SixMonthly,
        PeriodKind::SixMonthlyApril,
        PeriodKind::SixMonthlyNov,
        PeriodKind::Yearly,
        PeriodKind::FinancialApril,
        PeriodKind::FinancialJuly,
        PeriodKind::FinancialSep,
        PeriodKind::FinancialOct,
        PeriodKind::FinancialNov,
    ];

    /// The name DHIS2 uses for this period type (`PeriodTypeEnum`), e.g. `"WeeklyWednesday"`.
    pub fn as_dhis2_name(self) -> &'static str {
        self.spec().name
    }

    /// The period type DHIS2 calls `name` (exact, case-sensitive match).
    pub fn from_dhis2_name(name: &str) -> Option<PeriodKind> {
        PeriodKind::ALL
            .into_iter()
            .find(|kind| kind.as_dhis2_name() == name)
    }

    pub(super) fn notation(self) -> Notation {
        self.spec().notation
    }

    pub(super) fn layout(self) -> Layout {
        self.spec().layout
    }

    pub(super) fn noun(self) -> &'static str {
        self.spec().noun
    }

    // The written forms are dhis2-core's ISO formats (`getIsoFormat()` of each period type class,
    // `PeriodTypeEnum.ofIsoPeriod`); week numbers take one or two digits like `DateUnitType`'s
    // `(\d{4})W(\d\d?)`.
    fn spec(self) -> Spec {
        use chrono::Weekday::{Mon, Sat, Sun, Thu, Wed};
        let (name, notation, layout, noun) = match self {
            PeriodKind::Daily => ("Daily", Notation::MonthDay, Layout::Day, "day"),
            PeriodKind::Weekly => ("Weekly", numbered("W", 2), Layout::Week(Mon), "week"),
            PeriodKind::WeeklyWednesday => (
                "WeeklyWednesday",
                numbered("WedW", 2),
                Layout::Week(Wed),
                "week",
            ),
            PeriodKind::WeeklyThursday => (
                "WeeklyThursday",
                numbered("ThuW", 2),
                Layout::Week(Thu),
                "week",
            ),
            PeriodKind::WeeklySaturday => (
                "WeeklySaturday",
                numbered("SatW", 2),
                Layout::Week(Sat),
                "week",
            ),
            PeriodKind::WeeklySunday => (
                "WeeklySunday",
                numbered("SunW", 2),
                Layout::Week(Sun),
                "week",
            ),
            PeriodKind::BiWeekly => ("BiWeekly", numbered("BiW", 2), Layout::BiWeek, "bi-week"),
            PeriodKind::Monthly => (
                "Monthly",
                Notation::TwoDigits { suffix: "" },
                MonthLayout::starting_in(1, 1),
                "month",
            ),
            PeriodKind::BiMonthly => (
                "BiMonthly",
                Notation::TwoDigits { suffix: "B" },
                MonthLayout::starting_in(1, 2),
                "bi-month",
            ),
            PeriodKind::Quarterly => (
                "Quarterly",
                numbered("Q", 1),
                MonthLayout::starting_in(1, 3),
                "quarter",
            ),
            PeriodKind::QuarterlyNov => (
                "QuarterlyNov",
                numbered("NovQ", 1),
                MonthLayout::starting_november_before(3),
                "quarter",
            ),
            PeriodKind::SixMonthly => (
                "SixMonthly",
                numbered("S", 1),
                MonthLayout::starting_in(1, 6),
                "six-month period",
            ),
            PeriodKind::SixMonthlyApril => (
                "SixMonthlyApril",
                numbered("AprilS", 1),
                MonthLayout::starting_in(4, 6),
                "six-month period",
            ),
            PeriodKind::SixMonthlyNov => (
                "SixMonthlyNov",
                numbered("NovS", 1),
                MonthLayout::starting_november_before(6),
                "six-month period",
            ),
            PeriodKind::Yearly => ("Yearly", fixed(""), MonthLayout::starting_in(1, 12), "year"),
            PeriodKind::FinancialApril => (
                "FinancialApril",
                fixed("April"),
                MonthLayout::starting_in(4, 12),
                "year",
            ),
            PeriodKind::FinancialJuly => (
                "FinancialJuly",
                fixed("July"),
                MonthLayout::starting_in(7, 12),
                "year",
            ),
            PeriodKind::FinancialSep => (
                "FinancialSep",
                fixed("Sep"),
                MonthLayout::starting_in(9, 12),
                "year",
            ),
            PeriodKind::FinancialOct => (
                "FinancialOct",
                fixed("Oct"),
                MonthLayout::starting_in(10, 12),
                "year",
            ),
            PeriodKind::FinancialNov => (
                "FinancialNov",
                fixed("Nov"),
                MonthLayout::starting_november_before(12),
                "year",
            ),
        };
        Spec {
            name,
            notation,
            layout,
            noun,
        }
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_dhis2_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhis2_names_round_trip() {
        for kind in PeriodKind::ALL {
            assert_eq!(
                PeriodKind::from_dhis2_name(kind.as_dhis2_name()),
                Some(kind)
            );
            assert_eq!(kind.to_string(), kind.as_dhis2_name());
        }
    }

    #[test]
    fn dhis2_names_are_the_ones_dhis2_uses() {
        let names: Vec<&str> = PeriodKind::ALL.iter().map(|k| k.as_dhis2_name()).collect();
        assert_eq!(
            names,
            [
                "Daily",
                "Weekly",
                "WeeklyWednesday",
                "WeeklyThursday",
                "WeeklySaturday",
                "WeeklySunday",
                "BiWeekly",
                "Monthly",
                "BiMonthly",
                "Quarterly",
                "QuarterlyNov",
                "SixMonthly",
                "SixMonthlyApril",
                "SixMonthlyNov",
                "Yearly",
                "FinancialApril",
                "FinancialJuly",
                "FinancialSep",
                "FinancialOct",
                "FinancialNov",
            ]
        );
    }

    #[test]
    fn unknown_names_are_none() {
        for name in ["", "weekly", "TwoYearly", "FinancialNovember", "Weekly "] {
            assert_eq!(PeriodKind::from_dhis2_name(name), None, "{name}");
        }
    }

    #[test]
    fn month_layouts_divide_the_year() {
        for kind in PeriodKind::ALL {
            if let Layout::Months(layout) = kind.layout() {
                assert_eq!(12 % layout.length, 0, "{kind}");
                assert_eq!(layout.periods_per_year() * layout.length, 12, "{kind}");
            }
        }
    }

    #[test]
    fn no_two_kinds_share_a_notation() {
        for (i, a) in PeriodKind::ALL.iter().enumerate() {
            for b in &PeriodKind::ALL[i + 1..] {
                assert_ne!(a.notation(), b.notation(), "{a} and {b}");
            }
        }
    }
}
