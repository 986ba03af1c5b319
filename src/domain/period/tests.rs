//! Whole-parser tests: text in, calendar period and canonical text out.

use super::*;
use PeriodKind::*;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn parse_ok(text: &str) -> Period {
    Period::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn error_message(text: &str) -> String {
    match Period::parse(text) {
        Ok(period) => panic!("{text:?} should fail, got {period:?}"),
        Err(e) => e.to_string(),
    }
}

/// (input, type, first day, last day, canonical text)
#[rustfmt::skip]
const VALID: &[(&str, PeriodKind, &str, &str, &str)] = &[
    ("20240315",    Daily,           "2024-03-15", "2024-03-15", "20240315"),
    ("2024-03-15",  Daily,           "2024-03-15", "2024-03-15", "20240315"),
    ("20240229",    Daily,           "2024-02-29", "2024-02-29", "20240229"),
    ("20000229",    Daily,           "2000-02-29", "2000-02-29", "20000229"),
    ("20241231",    Daily,           "2024-12-31", "2024-12-31", "20241231"),
    ("2024W1",      Weekly,          "2024-01-01", "2024-01-07", "2024W1"),
    ("2024W01",     Weekly,          "2024-01-01", "2024-01-07", "2024W1"),
    ("2024W10",     Weekly,          "2024-03-04", "2024-03-10", "2024W10"),
    ("2024W52",     Weekly,          "2024-12-23", "2024-12-29", "2024W52"),
    ("2025W1",      Weekly,          "2024-12-30", "2025-01-05", "2025W1"),
    ("2020W53",     Weekly,          "2020-12-28", "2021-01-03", "2020W53"),
    ("2026W53",     Weekly,          "2026-12-28", "2027-01-03", "2026W53"),
    ("2009W53",     Weekly,          "2009-12-28", "2010-01-03", "2009W53"),
    ("2022WedW1",   WeeklyWednesday, "2021-12-29", "2022-01-04", "2022WedW1"),
    ("2022WedW08",  WeeklyWednesday, "2022-02-16", "2022-02-22", "2022WedW8"),
    ("2022WedW53",  WeeklyWednesday, "2022-12-28", "2023-01-03", "2022WedW53"),
    ("2023WedW1",   WeeklyWednesday, "2023-01-04", "2023-01-10", "2023WedW1"),
    ("2023ThuW1",   WeeklyThursday,  "2022-12-29", "2023-01-04", "2023ThuW1"),
    ("2023ThuW53",  WeeklyThursday,  "2023-12-28", "2024-01-03", "2023ThuW53"),
    ("2024ThuW52",  WeeklyThursday,  "2024-12-26", "2025-01-01", "2024ThuW52"),
    ("2023SatW1",   WeeklySaturday,  "2022-12-31", "2023-01-06", "2023SatW1"),
    ("2024SatW53",  WeeklySaturday,  "2024-12-28", "2025-01-03", "2024SatW53"),
    ("2023SunW1",   WeeklySunday,    "2023-01-01", "2023-01-07", "2023SunW1"),
    ("2024SunW1",   WeeklySunday,    "2023-12-31", "2024-01-06", "2024SunW1"),
    ("2025SunW53",  WeeklySunday,    "2025-12-28", "2026-01-03", "2025SunW53"),
    ("2023BiW1",    BiWeekly,        "2023-01-02", "2023-01-15", "2023BiW1"),
    ("2024BiW02",   BiWeekly,        "2024-01-15", "2024-01-28", "2024BiW2"),
    ("2020BiW27",   BiWeekly,        "2020-12-28", "2021-01-10", "2020BiW27"),
    ("202401",      Monthly,         "2024-01-01", "2024-01-31", "202401"),
    ("2024-02",     Monthly,         "2024-02-01", "2024-02-29", "202402"),
    ("202302",      Monthly,         "2023-02-01", "2023-02-28", "202302"),
    ("202412",      Monthly,         "2024-12-01", "2024-12-31", "202412"),
    ("202401B",     BiMonthly,       "2024-01-01", "2024-02-29", "202401B"),
    ("202306B",     BiMonthly,       "2023-11-01", "2023-12-31", "202306B"),
    ("2024Q1",      Quarterly,       "2024-01-01", "2024-03-31", "2024Q1"),
    ("2024Q3",      Quarterly,       "2024-07-01", "2024-09-30", "2024Q3"),
    ("2024NovQ1",   QuarterlyNov,    "2023-11-01", "2024-01-31", "2024NovQ1"),
    ("2024NovQ4",   QuarterlyNov,    "2024-08-01", "2024-10-31", "2024NovQ4"),
    ("2024S1",      SixMonthly,      "2024-01-01", "2024-06-30", "2024S1"),
    ("2024S2",      SixMonthly,      "2024-07-01", "2024-12-31", "2024S2"),
    ("2024AprilS1", SixMonthlyApril, "2024-04-01", "2024-09-30", "2024AprilS1"),
    ("2024AprilS2", SixMonthlyApril, "2024-10-01", "2025-03-31", "2024AprilS2"),
    ("2024NovS1",   SixMonthlyNov,   "2023-11-01", "2024-04-30", "2024NovS1"),
    ("2024NovS2",   SixMonthlyNov,   "2024-05-01", "2024-10-31", "2024NovS2"),
    ("2024",        Yearly,          "2024-01-01", "2024-12-31", "2024"),
    ("2024April",   FinancialApril,  "2024-04-01", "2025-03-31", "2024April"),
    ("2024July",    FinancialJuly,   "2024-07-01", "2025-06-30", "2024July"),
    ("2024Sep",     FinancialSep,    "2024-09-01", "2025-08-31", "2024Sep"),
    ("2024Oct",     FinancialOct,    "2024-10-01", "2025-09-30", "2024Oct"),
    ("2024Nov",     FinancialNov,    "2023-11-01", "2024-10-31", "2024Nov"),
];

#[test]
fn parses_every_period_type_to_its_dates() {
    for &(text, kind, start, end, canonical) in VALID {
        let period = parse_ok(text);
        assert_eq!(period.kind(), kind, "{text}");
        assert_eq!(period.start_date(), date(start), "{text}");
        assert_eq!(period.end_date(), date(end), "{text}");
        assert_eq!(period.to_string(), canonical, "{text}");
    }
    let covered: std::collections::HashSet<_> = VALID.iter().map(|case| case.1).collect();
    assert_eq!(
        covered.len(),
        PeriodKind::ALL.len(),
        "a period type has no valid case"
    );
}

#[test]
fn rejects_periods_that_do_not_exist_and_says_why() {
    let cases = [
        ("20240230", "February 30 2024 is not a date"),
        ("20230229", "February 29 2023 is not a date"),
        ("19000229", "February 29 1900 is not a date"),
        ("20240431", "April 31 2024 is not a date"),
        ("20240100", "January 0 2024 is not a date"),
        (
            "20241301",
            "month 13 does not exist (months run from 1 to 12)",
        ),
        (
            "2024-13-01",
            "month 13 does not exist (months run from 1 to 12)",
        ),
        (
            "202413",
            "month 13 does not exist (months run from 1 to 12)",
        ),
        ("202400", "month 0 does not exist (months run from 1 to 12)"),
        (
            "202407B",
            "bi-month 7 does not exist (bi-months run from 1 to 6)",
        ),
        (
            "202400B",
            "bi-month 0 does not exist (bi-months run from 1 to 6)",
        ),
        (
            "2024Q5",
            "quarter 5 does not exist (quarters run from 1 to 4)",
        ),
        (
            "2024Q0",
            "quarter 0 does not exist (quarters run from 1 to 4)",
        ),
        (
            "2024NovQ5",
            "quarter 5 does not exist (quarters run from 1 to 4)",
        ),
        (
            "2024S3",
            "six-month period 3 does not exist (six-month periods run from 1 to 2)",
        ),
        (
            "2024AprilS0",
            "six-month period 0 does not exist (six-month periods run from 1 to 2)",
        ),
        (
            "2024NovS3",
            "six-month period 3 does not exist (six-month periods run from 1 to 2)",
        ),
        (
            "2024W54",
            "week 54 does not exist in 2024 (Weekly has 52 weeks in 2024)",
        ),
        (
            "2024W53",
            "week 53 does not exist in 2024 (Weekly has 52 weeks in 2024)",
        ),
        (
            "2021W53",
            "week 53 does not exist in 2021 (Weekly has 52 weeks in 2021)",
        ),
        (
            "2020W54",
            "week 54 does not exist in 2020 (Weekly has 53 weeks in 2020)",
        ),
        (
            "2024W0",
            "week 0 does not exist in 2024 (Weekly has 52 weeks in 2024)",
        ),
        (
            "2024W00",
            "week 0 does not exist in 2024 (Weekly has 52 weeks in 2024)",
        ),
        (
            "2023WedW53",
            "week 53 does not exist in 2023 (WeeklyWednesday has 52 weeks in 2023)",
        ),
        (
            "2024ThuW53",
            "week 53 does not exist in 2024 (WeeklyThursday has 52 weeks in 2024)",
        ),
        (
            "2023SatW53",
            "week 53 does not exist in 2023 (WeeklySaturday has 52 weeks in 2023)",
        ),
        // 2020 has 53 ISO weeks but only 52 Saturday weeks.
        (
            "2020SatW53",
            "week 53 does not exist in 2020 (WeeklySaturday has 52 weeks in 2020)",
        ),
        (
            "2024SunW53",
            "week 53 does not exist in 2024 (WeeklySunday has 52 weeks in 2024)",
        ),
        (
            "2024BiW27",
            "bi-week 27 does not exist in 2024 (BiWeekly has 26 bi-weeks in 2024)",
        ),
        (
            "2024BiW0",
            "bi-week 0 does not exist in 2024 (BiWeekly has 26 bi-weeks in 2024)",
        ),
        (
            "2020BiW28",
            "bi-week 28 does not exist in 2020 (BiWeekly has 27 bi-weeks in 2020)",
        ),
        ("2024X1", "unrecognised period format: \"2024X1\""),
        ("", "unrecognised period format: \"\""),
        ("2024W123", "unrecognised period format: \"2024W123\""),
        ("2024w1", "unrecognised period format: \"2024w1\""),
        (
            "2024NovemberS1",
            "unrecognised period format: \"2024NovemberS1\"",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error_message(text), message, "{text}");
    }
}

#[test]
fn error_quotes_only_an_excerpt_of_long_input() {
    let message = error_message(&"2024W1".repeat(1000));
    assert!(message.len() < 100, "{message}");
}

/// Builds every text a type could be written as in `year` (with numbers beyond the valid range),
/// and checks that exactly the real ones parse, round-trip, and tile the calendar.
#[test]
fn every_valid_period_round_trips_and_periods_follow_each_other() {
    for kind in PeriodKind::ALL {
        for year in [
            1999, 2000, 2004, 2009, 2015, 2020, 2021, 2023, 2024, 2025, 2026,
        ] {
            let candidates: Vec<String> = match kind.notation() {
                Notation::MonthDay => (0..=13)
                    .flat_map(|m| (0..=32).map(move |d| format!("{year}{m:02}{d:02}")))
                    .collect(),
                Notation::TwoDigits { suffix } => {
                    (0..=14).map(|n| format!("{year}{n:02}{suffix}")).collect()
                }
                Notation::Numbered { marker, .. } => {
                    (0..=60).map(|n| format!("{year}{marker}{n}")).collect()
                }
                Notation::Fixed { suffix } => vec![format!("{year}{suffix}")],
            };
            let periods: Vec<Period> = candidates
                .iter()
                .filter_map(|text| Period::parse(text).ok())
                .collect();
            for (period, next) in periods.iter().zip(periods.iter().skip(1)) {
                assert_eq!(
                    next.start_date().pred_opt(),
                    Some(period.end_date()),
                    "{next}"
                );
            }
            for period in &periods {
                assert_eq!(Period::parse(&period.to_string()), Ok(*period));
                assert_eq!(period.kind(), kind);
            }
            let expected = match kind.layout() {
                Layout::Day if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 366,
                Layout::Day => 365,
                Layout::Week(first_day) => weekly::weeks_in_year(year, first_day) as usize,
                Layout::BiWeek => weekly::bi_weeks_in_year(year) as usize,
                Layout::Months(layout) => layout.periods_per_year() as usize,
            };
            assert_eq!(periods.len(), expected, "{kind} {year}");
        }
    }
}

#[test]
fn leading_zero_weeks_mean_the_same_period() {
    for (padded, plain) in [
        ("2024W01", "2024W1"),
        ("2024W09", "2024W9"),
        ("2024WedW05", "2024WedW5"),
        ("2024ThuW01", "2024ThuW1"),
        ("2024SatW02", "2024SatW2"),
        ("2024SunW03", "2024SunW3"),
        ("2024BiW04", "2024BiW4"),
    ] {
        assert_eq!(Period::parse(padded), Period::parse(plain), "{padded}");
        assert_eq!(parse_ok(padded).to_string(), plain);
    }
}

#[test]
fn iso_week_helpers() {
    assert_eq!(Period::iso_week(2024, 10), Ok(parse_ok("2024W10")));
    assert_eq!(Period::iso_week(2020, 53), Ok(parse_ok("2020W53")));
    assert!(matches!(
        Period::iso_week(2021, 53),
        Err(PeriodError::NoSuchWeek { max: 52, .. })
    ));
    assert_eq!(
        Period::iso_week(10000, 1),
        Err(PeriodError::YearOutOfRange(10000))
    );
    assert_eq!(
        Period::iso_week(-1, 1),
        Err(PeriodError::YearOutOfRange(-1))
    );

    // dhis2-core WeeklyPeriodTypeTest.getIsoDate: 2012-12-31 is in 2013W1, 2012-12-30 in 2012W52.
    let week_of = |day: &str| Period::iso_week_containing(date(day)).unwrap().to_string();
    assert_eq!(week_of("2012-12-31"), "2013W1");
    assert_eq!(week_of("2012-12-30"), "2012W52");
    assert_eq!(week_of("2009-12-29"), "2009W53");
    assert_eq!(week_of("2010-01-04"), "2010W1");
    assert_eq!(week_of("2021-01-03"), "2020W53");

    assert_eq!(Period::iso_weeks_in_year(2020), 53);
    assert_eq!(Period::iso_weeks_in_year(2024), 52);
}

#[test]
fn contains_includes_both_ends() {
    let week = parse_ok("2024W10");
    assert!(week.contains(date("2024-03-04")));
    assert!(week.contains(date("2024-03-10")));
    assert!(!week.contains(date("2024-03-03")));
    assert!(!week.contains(date("2024-03-11")));
}

#[test]
fn periods_order_by_start_then_end() {
    let mut periods: Vec<Period> = ["2024W2", "2024", "202401", "2024W1", "20231231", "2023Oct"]
        .into_iter()
        .map(parse_ok)
        .collect();
    periods.sort();
    let texts: Vec<String> = periods.iter().map(Period::to_string).collect();
    assert_eq!(
        texts,
        ["2023Oct", "20231231", "2024W1", "202401", "2024", "2024W2"]
    );
}

#[test]
fn same_dates_different_types_are_different_periods() {
    // Each pair starts on the same day, but the periods differ.
    assert_ne!(parse_ok("202401"), parse_ok("202401B"));
    assert_ne!(parse_ok("2024"), parse_ok("2024S1"));
}

#[test]
fn from_str_matches_parse() {
    assert_eq!("2024W10".parse::<Period>(), Period::parse("2024W10"));
    assert!("2024W99".parse::<Period>().is_err());
}

#[test]
fn serializes_as_the_canonical_string() {
    let period = parse_ok("2024W01");
    assert_eq!(serde_json::to_string(&period).unwrap(), "\"2024W1\"");
    let back: Period = serde_json::from_str("\"2024W1\"").unwrap();
    assert_eq!(back, period);
}

#[test]
fn deserializing_validates() {
    let err = serde_json::from_str::<Period>("\"2024W54\"").unwrap_err();
    assert!(
        err.to_string().contains("week 54 does not exist in 2024"),
        "{err}"
    );
    assert!(serde_json::from_str::<Period>("202401").is_err());
}
