//! The rules without an R counterpart, on small series worked out by hand: the original
//! program's rules with its bugs fixed (year ends, emergence, zero-case alerts), the IDSR rules,
//! the `consecutive` modifier, same-week history across week 53, and parameter errors.

use dhis2gw_detect::{Assessment, DetectError, IsoWeek, Method, MissingPolicy, WeeklySeries};
use serde_json::{Value, json};

fn week(text: &str) -> IsoWeek {
    text.parse().unwrap()
}

fn method(name: &str, params: Value) -> Method {
    let Value::Object(map) = params else {
        unreachable!()
    };
    Method::parse(name, &map).unwrap()
}

fn series(start: &str, counts: &[Option<f64>]) -> WeeklySeries {
    WeeklySeries::new(week(start), counts.to_vec())
}

fn last(m: &Method, s: &WeeklySeries, missing: MissingPolicy) -> Assessment {
    let end = s.end().unwrap();
    m.assess(s, end..=end, missing).unwrap().pop().unwrap()
}

#[test]
fn doubling_compares_week_1_with_the_last_week_of_the_year_before() {
    let m = method("doubling", json!({}));
    let doubled = series("2025W51", &[Some(9.0), Some(3.0), Some(6.0)]);
    let a = last(&m, &doubled, MissingPolicy::Skip);
    assert_eq!(
        (a.week, a.expected, a.alarm),
        (week("2026W1"), Some(3.0), true)
    );
    assert_eq!(
        a.reason,
        "6 cases, at least double the 3 cases of the week before"
    );
    let not = series("2025W51", &[Some(1.0), Some(4.0), Some(6.0)]);
    assert!(!last(&m, &not, MissingPolicy::Skip).alarm);
}

#[test]
fn doubling_flags_emergence_by_policy_and_never_zero_cases() {
    let m = method("doubling", json!({}));
    let emergence = series("2026W10", &[None, Some(2.0)]);
    assert!(!last(&m, &emergence, MissingPolicy::Skip).alarm);
    assert!(last(&m, &emergence, MissingPolicy::Zero).alarm);
    let nothing = series("2026W10", &[Some(0.0), Some(0.0)]);
    assert!(!last(&m, &nothing, MissingPolicy::Zero).alarm);
}

#[test]
fn ratio_to_mean_uses_the_three_weeks_before_across_the_year_end() {
    let m = method("ratio_to_mean", json!({}));
    let reached = series("2025W51", &[Some(2.0), Some(4.0), Some(6.0), Some(6.0)]);
    let a = last(&m, &reached, MissingPolicy::Skip);
    assert_eq!(
        (a.week, a.expected, a.upper_bound, a.alarm),
        (week("2026W2"), Some(4.0), Some(6.0), true)
    );
    let below = series("2025W51", &[Some(2.0), Some(4.0), Some(6.0), Some(5.0)]);
    assert!(!last(&m, &below, MissingPolicy::Skip).alarm);
    // Skip: the mean of the reported weeks only; zero: the missing week counts as 0.
    let gap = series("2026W1", &[Some(4.0), None, Some(4.0), Some(5.0)]);
    assert!(!last(&m, &gap, MissingPolicy::Skip).alarm);
    assert!(last(&m, &gap, MissingPolicy::Zero).alarm);
}

#[test]
fn a_missing_week_under_skip_is_never_alerted_on() {
    let m = method("one_case", json!({}));
    let s = series("2026W1", &[Some(3.0), None]);
    let a = last(&m, &s, MissingPolicy::Skip);
    assert_eq!((a.count, a.alarm), (None, false));
    assert!(a.reason.contains("No report for 2026W2"), "{}", a.reason);
}

#[test]
fn consecutive_needs_that_many_alarming_weeks_in_a_row() {
    let m = method("one_case", json!({"consecutive": 2}));
    let s = series(
        "2026W1",
        &[Some(0.0), Some(1.0), Some(2.0), Some(0.0), Some(1.0)],
    );
    let alarms: Vec<bool> = m
        .assess(&s, week("2026W1")..=week("2026W5"), MissingPolicy::Skip)
        .unwrap()
        .iter()
        .map(|a| a.alarm)
        .collect();
    assert_eq!(alarms, [false, false, true, false, false]);
}

#[test]
fn incidence_takes_the_population_of_the_week() {
    let m = method("incidence", json!({"threshold": 3, "min_cases": 2}));
    let population = series(
        "2026W1",
        &[Some(290_000.0), Some(290_000.0), Some(40_000.0)],
    );
    let counts = series("2026W1", &[Some(9.0), Some(8.0), Some(1.0)]);
    let out = m
        .assess_with_population(
            &counts,
            Some(&population),
            week("2026W1")..=week("2026W3"),
            MissingPolicy::Skip,
        )
        .unwrap();
    assert!((out[0].upper_bound.unwrap() - 8.7).abs() < 1e-9);
    assert_eq!(
        out.iter().map(|a| a.alarm).collect::<Vec<_>>(),
        [true, false, false]
    );
    // 1 case in 40 000 people is 2.5 per 100 000, and it takes 2 cases anyway.
    assert!((out[2].score.unwrap() - 2.5).abs() < 1e-9);
    let none = m
        .assess(
            &counts,
            week("2026W1")..=week("2026W1"),
            MissingPolicy::Skip,
        )
        .unwrap();
    assert!(!none[0].alarm && none[0].upper_bound.is_none());
}

#[test]
fn rolling_sum_adds_the_last_k_weeks() {
    let m = method("rolling_sum", json!({"threshold": 3, "weeks": 4}));
    let s = series(
        "2025W50",
        &[Some(5.0), Some(1.0), Some(0.0), Some(1.0), Some(1.0)],
    );
    let out = m.assess(&s, week("2026W1")..=week("2026W2"), MissingPolicy::Skip);
    let out = out.unwrap();
    assert_eq!(
        out.iter().map(|a| a.score.unwrap()).collect::<Vec<_>>(),
        [7.0, 3.0]
    );
    assert!(out.iter().all(|a| a.alarm));
}

#[test]
fn week_53_is_compared_with_week_52_of_years_without_one() {
    // Count = 100 × (year − 2020) + week number, from 2021W1 to 2026W53.
    let start = week("2021W1");
    let end = week("2026W53");
    let n = end.weeks_since(start) as usize + 1;
    let counts = (0..n)
        .map(|i| {
            let w = start.plus(i as u32);
            Some(f64::from(100 * (w.year() - 2020)) + f64::from(w.week()))
        })
        .collect();
    let s = WeeklySeries::new(start, counts);
    let a = last(&method("historical", json!({})), &s, MissingPolicy::Skip);
    // Weeks 52 of 2021..2025: 152, 252, 352, 452, 552.
    assert_eq!(a.expected, Some(352.0));
    let p = last(&method("p75", json!({})), &s, MissingPolicy::Skip);
    assert_eq!(p.upper_bound, Some(452.0));
}

#[test]
fn bad_methods_and_parameters_are_named() {
    let parse = |name: &str, params: Value| {
        let Value::Object(map) = params else {
            unreachable!()
        };
        Method::parse(name, &map).unwrap_err()
    };
    assert_eq!(
        parse("c4", json!({})),
        DetectError::UnknownMethod("c4".into())
    );
    let named = |e: DetectError| match e {
        DetectError::InvalidParameter { name, .. } => name,
        other => panic!("{other}"),
    };
    assert_eq!(named(parse("c1", json!({"baseline": 2}))), "baseline");
    assert_eq!(named(parse("c1", json!({"alpha": 0.01, "z": 3}))), "z");
    assert_eq!(named(parse("cusum", json!({"trans": "log"}))), "trans");
    assert_eq!(
        named(parse("cusum", json!({"consecutive": 2}))),
        "consecutive"
    );
    assert_eq!(named(parse("cluster", json!({}))), "threshold");
    assert_eq!(named(parse("ratio_to_mean", json!({"n": 3}))), "n");
}

#[test]
fn a_reason_says_what_happened_in_one_sentence() {
    let s = series(
        "2026W1",
        &[
            Some(4.0),
            Some(6.0),
            Some(5.0),
            Some(7.0),
            Some(5.0),
            Some(6.0),
            Some(4.0),
            Some(18.0),
        ],
    );
    let a = last(&method("c1", json!({})), &s, MissingPolicy::Skip);
    assert!(a.alarm);
    assert!(
        a.reason
            .starts_with("18 cases, above the upper bound 8.7 from the 7 weeks before"),
        "{}",
        a.reason
    );
}

#[test]
fn doubling_over_three_weeks_compares_sums() {
    let m = method("doubling", json!({"weeks": 3}));
    let doubled = series(
        "2026W1",
        &[
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(2.0),
            Some(0.0),
            Some(4.0),
        ],
    );
    let a = last(&m, &doubled, MissingPolicy::Skip);
    assert_eq!(
        (a.expected, a.upper_bound, a.alarm),
        (Some(3.0), Some(6.0), true)
    );
    assert_eq!(
        a.reason,
        "6 cases in the 3 weeks, at least double the 3 cases of the 3 weeks before"
    );
    let not = series(
        "2026W1",
        &[
            Some(1.0),
            Some(1.0),
            Some(2.0),
            Some(2.0),
            Some(0.0),
            Some(4.0),
        ],
    );
    assert!(!last(&m, &not, MissingPolicy::Skip).alarm);
    let short = series(
        "2026W1",
        &[Some(1.0), Some(1.0), Some(2.0), Some(2.0), Some(0.0)],
    );
    let err = m
        .assess(&short, week("2026W5")..=week("2026W5"), MissingPolicy::Skip)
        .unwrap_err();
    assert!(
        matches!(
            err,
            DetectError::NotEnoughHistory {
                needed: 5,
                available: 4,
                ..
            }
        ),
        "{err}"
    );
}
