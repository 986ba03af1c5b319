//! Farrington and Noufaily against R `surveillance` 1.20.3 `farringtonFlexible`.
//!
//! The fixtures under `tests/fixtures/r/` were made by `farrington-make.R` (inputs and R's
//! answers are committed, so R is not needed here). Every week R assessed is compared:
//! expected counts, upper bounds and scores to 1e-6 relative, alarms exactly, and a value R
//! leaves empty must be empty here too.

use std::path::PathBuf;

use dhis2gw_detect::farrington::{self, FarringtonParams};
use dhis2gw_detect::{DetectError, IsoWeek, WeeklySeries};
use serde_json::{Map, Value};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/r")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `week,count` rows, oldest first; an empty count is missing.
fn series(name: &str) -> WeeklySeries {
    let text = fixture(&format!("farrington-series-{name}.csv"));
    let pairs = text.lines().skip(1).map(|line| {
        let (week, count) = line.split_once(',').unwrap();
        let week: IsoWeek = week.parse().unwrap();
        (
            week,
            (!count.is_empty()).then(|| count.parse::<f64>().unwrap()),
        )
    });
    WeeklySeries::from_pairs(pairs).unwrap()
}

struct Case {
    name: String,
    series: String,
    noufaily: bool,
    params: Map<String, Value>,
}

fn cases() -> Vec<Case> {
    fixture("farrington-cases.csv")
        .lines()
        .skip(1)
        .map(|line| {
            // The parameters are the rest of the line: limit54's value holds a comma.
            let fields: Vec<&str> = line.splitn(4, ',').collect();
            let params = fields[3]
                .split(';')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap();
                    (k.to_owned(), Value::String(v.to_owned()))
                })
                .collect();
            Case {
                name: fields[0].to_owned(),
                series: fields[1].to_owned(),
                noufaily: fields[2] == "noufaily",
                params,
            }
        })
        .collect()
}

struct Expected {
    week: IsoWeek,
    expected: Option<f64>,
    upper_bound: Option<f64>,
    score: Option<f64>,
    alarm: bool,
}

fn r_answers(case: &str) -> Vec<Expected> {
    let number = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
    fixture(&format!("farrington-out-{case}.csv"))
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let phi = number(f[6]);
            Expected {
                week: f[0].parse().unwrap(),
                // Where R fits no model (its dispersion is NA) it leaves `expected` at the 0 it
                // initialised it with, while bound, score and alarm are NA; dhis2gw reports no
                // expected count there.
                expected: phi.and(number(f[2])),
                upper_bound: number(f[3]),
                score: number(f[4]),
                // R's alarm is NA where no model could be fitted: no alarm.
                alarm: f[5] == "1",
            }
        })
        .collect()
}

/// Equal to 1e-6 relative, or `absolute` for a figure that R computes as a difference of
/// nearly equal numbers.
fn close(ours: Option<f64>, r: Option<f64>, absolute: f64) -> bool {
    match (ours, r) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= (1e-6 * b.abs()).max(absolute),
        _ => false,
    }
}

#[test]
fn every_week_matches_r() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for case in cases() {
        let series = series(&case.series);
        let params = FarringtonParams::from_params(&case.params, case.noufaily)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        for r in r_answers(&case.name) {
            let ours = farrington::assess(&series, r.week, &params)
                .unwrap_or_else(|e| panic!("{} {}: {e}", case.name, r.week));
            compared += 1;
            // The score `(y − μ)/(U − μ)` is zero give or take rounding when the count equals
            // its expectation (a constant series): there, 1e-12 absolute.
            let fields = [
                ("expected", ours.expected, r.expected, 0.0),
                ("upper_bound", ours.upper_bound, r.upper_bound, 0.0),
                ("score", ours.score, r.score, 1e-12),
            ];
            for (field, a, b, absolute) in fields {
                if !close(a, b, absolute) {
                    failures.push(format!(
                        "{} {} {field}: {a:?} vs R {b:?}",
                        case.name, r.week
                    ));
                }
            }
            if ours.alarm != r.alarm {
                failures.push(format!(
                    "{} {} alarm: {} vs R {}",
                    case.name, r.week, ours.alarm, r.alarm
                ));
            }
        }
    }
    assert!(compared > 2000, "only {compared} weeks compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} weeks differ from R:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn fixtures_exercise_alarms_and_the_case_minimum() {
    let all: Vec<Expected> = cases().iter().flat_map(|c| r_answers(&c.name)).collect();
    assert!(all.iter().filter(|r| r.alarm).count() >= 20);
    assert!(
        all.iter()
            .any(|r| r.upper_bound.is_none() && r.score.is_some())
    );
    assert!(all.iter().filter(|r| r.upper_bound.is_some()).count() > 1500);
}

#[test]
fn the_week_before_the_first_r_assessed_lacks_history() {
    for case in cases() {
        let series = series(&case.series);
        let params = FarringtonParams::from_params(&case.params, case.noufaily).unwrap();
        let first = r_answers(&case.name)[0].week;
        match farrington::assess(&series, first.prev(), &params) {
            Err(DetectError::NotEnoughHistory {
                needed, available, ..
            }) => {
                assert!(needed > available, "{}: {needed} ≤ {available}", case.name)
            }
            other => panic!("{}: {other:?}", case.name),
        }
    }
}

#[test]
fn reasons_say_what_happened() {
    let outbreak = series("outbreak");
    let params = FarringtonParams::from_params(&Map::new(), false).unwrap();
    let alarms = r_answers("outbreak-farrington");
    let alarm = alarms.iter().find(|r| r.alarm).unwrap();
    let ours = farrington::assess(&outbreak, alarm.week, &params).unwrap();
    assert!(
        ours.reason.contains("above the upper bound"),
        "{}",
        ours.reason
    );
    assert!(ours.reason.contains("previous 5 years"), "{}", ours.reason);
    let quiet = alarms
        .iter()
        .find(|r| !r.alarm && r.upper_bound.is_some())
        .unwrap();
    let ours = farrington::assess(&outbreak, quiet.week, &params).unwrap();
    assert!(
        ours.reason.contains("within the upper bound"),
        "{}",
        ours.reason
    );

    let sparse = series("sparse");
    let masked = r_answers("sparse-farrington")
        .into_iter()
        .find(|r| r.upper_bound.is_none())
        .unwrap();
    let ours = farrington::assess(&sparse, masked.week, &params).unwrap();
    assert!(
        ours.reason.contains("fewer than the 5 needed"),
        "{}",
        ours.reason
    );
}

#[test]
fn more_cases_this_week_never_lower_the_score() {
    // The assessed week is never in its own baseline, so adding cases to it moves the count
    // and nothing else: the bound stays, the score rises.
    for case in cases()
        .iter()
        .filter(|c| c.series == "outbreak" || c.series == "missing")
    {
        let series = series(&case.series);
        let params = FarringtonParams::from_params(&case.params, case.noufaily).unwrap();
        for r in r_answers(&case.name).iter().step_by(7) {
            let mut counts = series.counts().to_vec();
            let i = series.index_of(r.week).unwrap();
            let before = farrington::assess(&series, r.week, &params).unwrap();
            counts[i] = Some(counts[i].unwrap_or(0.0) + 10.0);
            let bumped = WeeklySeries::new(series.start(), counts);
            let after = farrington::assess(&bumped, r.week, &params).unwrap();
            if let (Some(b), Some(a)) = (before.score, after.score) {
                assert!(a > b, "{} {}: {b} then {a}", case.name, r.week);
            }
            if let Some(bound) = before.upper_bound {
                assert_eq!(after.upper_bound, Some(bound), "{} {}", case.name, r.week);
            }
            assert!(after.alarm || !before.alarm, "{} {}", case.name, r.week);
        }
    }
}

/// A series of `len` weeks from 2018-W01 whose counts come from `count(index)`.
fn made_up(len: usize, count: impl Fn(usize) -> Option<f64>) -> WeeklySeries {
    WeeklySeries::new("2018W01".parse().unwrap(), (0..len).map(count).collect())
}

#[test]
fn degenerate_series_give_answers_not_panics() {
    let len = 330;
    let shapes: [(&str, WeeklySeries); 5] = [
        ("all zero", made_up(len, |_| Some(0.0))),
        ("all missing", made_up(len, |_| None)),
        ("constant", made_up(len, |_| Some(7.0))),
        ("huge", made_up(len, |i| Some(1e9 + (i % 13) as f64 * 1e7))),
        (
            "one spike",
            made_up(len, |i| Some(if i == len - 1 { 40.0 } else { 0.0 })),
        ),
    ];
    for noufaily in [false, true] {
        let params = FarringtonParams::from_params(&Map::new(), noufaily).unwrap();
        for (name, series) in &shapes {
            let week = series.end().unwrap();
            let a =
                farrington::assess(series, week, &params).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!a.reason.is_empty(), "{name}");
            match *name {
                "all zero" | "all missing" | "constant" => assert!(!a.alarm, "{name}: {a:?}"),
                // R's IRLS does not converge on Noufaily's all-zero periods: no answer.
                "one spike" => assert_eq!(a.alarm, !noufaily, "{name}: {a:?}"),
                _ => assert!(a.upper_bound.is_some_and(f64::is_finite), "{name}: {a:?}"),
            }
            if *name == "all missing" {
                assert_eq!((a.expected, a.upper_bound, a.score), (None, None, None));
            }
        }
    }
}

#[test]
fn a_week_outside_the_series_is_refused() {
    let series = series("seasonal");
    let params = FarringtonParams::from_params(&Map::new(), true).unwrap();
    let after = series.end().unwrap().next();
    assert_eq!(
        farrington::assess(&series, after, &params),
        Err(DetectError::WeekOutsideSeries(after))
    );
}
