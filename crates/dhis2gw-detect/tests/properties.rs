//! Properties every method keeps on any series (proptest): bounds scale with the counts, a flat
//! series never alarms, more cases in the assessed week never lower its score, and nothing
//! panics, whatever the series (empty, all missing, all zero, huge counts).

use dhis2gw_detect::{IsoWeek, Method, MissingPolicy, WeeklySeries};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn start() -> IsoWeek {
    "2019W40".parse().unwrap()
}

fn method(name: &str, params: Value) -> Method {
    let Value::Object(map) = params else {
        unreachable!()
    };
    Method::parse(name, &map).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every method (with the thresholds some require), as a rule would hold it.
fn all_methods() -> Vec<(&'static str, Map<String, Value>)> {
    let with = |v: Value| match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    vec![
        ("one_case", Map::new()),
        ("cluster", with(json!({"threshold": 5}))),
        ("doubling", Map::new()),
        ("doubling", with(json!({"weeks": 3}))),
        ("ratio_to_mean", Map::new()),
        (
            "incidence",
            with(json!({"threshold": 3, "population": 250000})),
        ),
        ("rolling_sum", with(json!({"threshold": 3}))),
        ("c1", Map::new()),
        ("c2", with(json!({"consecutive": 2}))),
        ("c3", Map::new()),
        ("c3", with(json!({"mode": "earsc", "min_sigma": 0.5}))),
        ("cusum", Map::new()),
        ("cusum", with(json!({"trans": "rossi"}))),
        ("cusum", with(json!({"trans": "anscombe"}))),
        ("historical", with(json!({"years": 1, "window": 2}))),
        ("p75", with(json!({"years": 1}))),
        ("farrington", Map::new()),
        ("noufaily", Map::new()),
    ]
}

/// The statistical methods, whose score measures how unusual the week is.
const STATISTICAL: &[&str] = &[
    "c1",
    "c2",
    "c3",
    "cusum",
    "historical",
    "p75",
    "ratio_to_mean",
    "doubling",
];

fn count() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        4 => (0u32..60).prop_map(|n| Some(f64::from(n))),
        1 => Just(None),
        1 => Just(Some(0.0)),
        1 => (0.0f64..1e15).prop_map(Some),
    ]
}

fn assess_last(
    method: &Method,
    series: &WeeklySeries,
    missing: MissingPolicy,
) -> Option<dhis2gw_detect::Assessment> {
    let last = series.end()?;
    method.assess(series, last..=last, missing).ok()?.pop()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scaling_a_series_scales_c1_and_c2_bounds(
        counts in prop::collection::vec(0u32..500, 12..40),
        factor in 0.01f64..100.0,
    ) {
        let plain = WeeklySeries::new(start(), counts.iter().map(|&c| Some(f64::from(c))).collect());
        let scaled = WeeklySeries::new(start(), counts.iter().map(|&c| Some(f64::from(c) * factor)).collect());
        for name in ["c1", "c2"] {
            let m = method(name, json!({}));
            let a = assess_last(&m, &plain, MissingPolicy::Skip).unwrap();
            let b = assess_last(&m, &scaled, MissingPolicy::Skip).unwrap();
            let (ua, ub) = (a.upper_bound.unwrap(), b.upper_bound.unwrap());
            prop_assert!((ub - ua * factor).abs() <= 1e-9 * (ua * factor).abs().max(1e-9), "{name}: {ua} × {factor} ≠ {ub}");
            let (ea, eb) = (a.expected.unwrap(), b.expected.unwrap());
            prop_assert!((eb - ea * factor).abs() <= 1e-9 * (ea * factor).abs().max(1e-9));
        }
    }

    #[test]
    fn a_constant_series_never_alarms(
        value in prop_oneof![Just(0.0), 1.0f64..1e9, (0u32..100).prop_map(f64::from)],
        len in 1usize..130,
        zero in any::<bool>(),
    ) {
        let series = WeeklySeries::new(start(), vec![Some(value); len]);
        let missing = if zero { MissingPolicy::Zero } else { MissingPolicy::Skip };
        for name in STATISTICAL {
            let m = method(name, if matches!(*name, "historical" | "p75") { json!({"years": 1, "window": 2}) } else { json!({}) });
            let end = series.end().unwrap();
            for from in [start(), end] {
                if let Ok(weeks) = m.assess(&series, from..=end, missing) {
                    for a in weeks {
                        prop_assert!(!a.alarm, "{name} alarmed on a flat series at {}: {}", a.week, a.reason);
                    }
                }
            }
        }
    }

    #[test]
    fn adding_an_outbreak_never_lowers_a_score(
        counts in prop::collection::vec(0u32..40, 60..120),
        extra in 1u32..200,
    ) {
        let plain: Vec<Option<f64>> = counts.iter().map(|&c| Some(f64::from(c))).collect();
        let mut outbreak = plain.clone();
        let last = outbreak.len() - 1;
        outbreak[last] = outbreak[last].map(|c| c + f64::from(extra));
        let (plain, outbreak) = (WeeklySeries::new(start(), plain), WeeklySeries::new(start(), outbreak));
        for name in STATISTICAL.iter().chain(&["rolling_sum", "incidence"]) {
            let params = match *name {
                "historical" | "p75" => json!({"years": 1, "window": 2}),
                "rolling_sum" => json!({"threshold": 10}),
                "incidence" => json!({"threshold": 3, "population": 100000}),
                _ => json!({}),
            };
            let m = method(name, params);
            let before = assess_last(&m, &plain, MissingPolicy::Skip).unwrap();
            let after = assess_last(&m, &outbreak, MissingPolicy::Skip).unwrap();
            if let (Some(s0), Some(s1)) = (before.score, after.score) {
                prop_assert!(s1 >= s0, "{name}: score {s0} fell to {s1}");
            }
            prop_assert!(!before.alarm || after.alarm, "{name}: more cases lost the alarm");
        }
    }

    #[test]
    fn no_method_panics_on_any_series(
        counts in prop_oneof![
            1 => Just(Vec::new()),
            1 => (0usize..120).prop_map(|n| vec![None; n]),
            1 => (0usize..120).prop_map(|n| vec![Some(0.0); n]),
            1 => (0usize..120).prop_map(|n| vec![Some(1e300); n]),
            4 => prop::collection::vec(count(), 0..160),
        ],
        from_offset in 0u32..170,
        span in 0u32..60,
        zero in any::<bool>(),
    ) {
        let series = WeeklySeries::new(start(), counts);
        let population = WeeklySeries::new(start(), vec![Some(1e5); 200]);
        let missing = if zero { MissingPolicy::Zero } else { MissingPolicy::Skip };
        let from = start().plus(from_offset);
        for (name, params) in all_methods() {
            let Ok(m) = Method::parse(name, &params) else { continue };
            for to in [from, from.plus(span)] {
                let _ = m.assess_with_population(&series, Some(&population), from..=to, missing);
            }
        }
    }
}
