//! The engine against R `surveillance` 1.20.3 (and base R for `historical`/`p75`): for every
//! series and method in `fixtures/r/out-*.csv` (made by `fixtures/r/make-fixtures.R`), the
//! engine's upper bounds and scores agree to 1e-6 relative and its alarms are identical.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dhis2gw_detect::{IsoWeek, Method, MissingPolicy, WeeklySeries};
use serde_json::{Map, Value};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/r")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Data rows of a CSV without quoting, as lists of cells, after checking the header.
fn rows(text: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header));
    lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn series(name: &str) -> WeeklySeries {
    let pairs = rows(&fixture(&format!("series-{name}.csv")), "week,count")
        .into_iter()
        .map(|r| {
            (
                r[0].parse::<IsoWeek>().unwrap(),
                Some(r[1].parse::<f64>().unwrap()),
            )
        });
    WeeklySeries::from_pairs(pairs).unwrap()
}

/// `a=1;b=x` as the JSON object a rule would hold (values as text, as `--param` gives them).
fn params(text: &str) -> Map<String, Value> {
    text.split(';')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), Value::String(v.to_owned()))
        })
        .collect()
}

fn number(cell: &str) -> Option<f64> {
    (!cell.is_empty()).then(|| cell.parse().unwrap())
}

fn close(ours: f64, r: f64) -> bool {
    if r == 0.0 {
        ours.abs() < 1e-12
    } else {
        ((ours - r) / r).abs() <= 1e-6
    }
}

/// Checks every (method, params) case of `out-{name}.csv`; returns how many weeks it compared.
fn agree_with_r(name: &str) -> usize {
    let series = series(name);
    let expected = rows(
        &fixture(&format!("out-{name}.csv")),
        "method,params,week,count,upper_bound,alarm,score",
    );
    let mut cases: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
    for row in expected {
        cases
            .entry((row[0].clone(), row[1].clone()))
            .or_default()
            .push(row);
    }
    let mut compared = 0;
    for ((method_name, text), rows) in &cases {
        let case = format!("{name}: {method_name} {text}");
        let method =
            Method::parse(method_name, &params(text)).unwrap_or_else(|e| panic!("{case}: {e}"));
        let from: IsoWeek = rows[0][2].parse().unwrap();
        let to: IsoWeek = rows[rows.len() - 1][2].parse().unwrap();
        let ours = method
            .assess(&series, from..=to, MissingPolicy::Skip)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(ours.len(), rows.len(), "{case}");
        for (a, r) in ours.iter().zip(rows) {
            let at = format!("{case} at {}", r[2]);
            assert_eq!(a.week.to_string(), r[2], "{at}");
            assert_eq!(a.count, number(&r[3]), "{at}");
            let bound = number(&r[4]).expect("R gave a bound");
            let ub = a
                .upper_bound
                .unwrap_or_else(|| panic!("{at}: no bound ({})", a.reason));
            assert!(close(ub, bound), "{at}: upper bound {ub}, R {bound}");
            assert_eq!(a.alarm, r[5] == "1", "{at}: alarm ({})", a.reason);
            if let Some(score) = number(&r[6]) {
                let s = a.score.unwrap_or_else(|| panic!("{at}: no score"));
                assert!(close(s, score), "{at}: score {s}, R {score}");
            }
            compared += 1;
        }
    }
    compared
}

#[test]
fn seasonal_series_agrees_with_r() {
    assert_eq!(agree_with_r("seasonal"), 816);
}

#[test]
fn series_with_an_outbreak_agrees_with_r() {
    assert_eq!(agree_with_r("outbreak"), 368);
}

#[test]
fn sparse_series_with_many_zeros_agrees_with_r() {
    assert_eq!(agree_with_r("sparse"), 1224);
}

#[test]
fn rare_disease_with_flat_baselines_agrees_with_r() {
    assert_eq!(agree_with_r("rare"), 816);
}

#[test]
fn short_history_agrees_with_r() {
    assert_eq!(agree_with_r("short"), 84);
}

#[test]
fn large_counts_agree_with_r() {
    assert_eq!(agree_with_r("large"), 816);
}

/// The worked example of the outbreak series: R's earsC C3 ignores the current week's own C2,
/// so on the first outbreak week (2025W39, 19 cases) the textbook C3 alarms and earsC's does
/// not; both fixtures hold that, and the engine gives each mode its own answer.
#[test]
fn textbook_c3_alarms_a_week_before_earsc_c3_on_the_outbreak() {
    let series = series("outbreak");
    let week: IsoWeek = "2025W39".parse().unwrap();
    let assess = |mode: &str| {
        let p = params(&format!("mode={mode};min_sigma=0.5"));
        Method::parse("c3", &p)
            .unwrap()
            .assess(&series, week..=week, MissingPolicy::Skip)
            .unwrap()
    };
    assert_eq!(series.get(week), Some(Some(19.0)));
    assert!(assess("textbook")[0].alarm);
    assert!(!assess("earsc")[0].alarm);
}
