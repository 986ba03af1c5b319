//! `dhis2gw detect`: reproduces R `surveillance` on a series that the engine's own tests never
//! read (`cli-series.csv`, R's answers in `cli-out.csv`), and refuses bad input with one line
//! and exit status 2. Needs no configuration file, database or network.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::process;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/dhis2gw-detect/tests/fixtures/r")
        .join(name)
}

/// Runs `dhis2gw --config-file /nonexistent detect ARGS` (detect must not need a config).
fn detect(args: &[&str]) -> std::process::Output {
    let mut all = vec!["--config-file", "/nonexistent/dhis2gw.yml", "detect"];
    all.extend_from_slice(args);
    process::run(&all, &[])
}

fn stdout_rows(output: &std::process::Output) -> Vec<Vec<String>> {
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("week,count,expected,upper_bound,score,alarm")
    );
    lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn detect_cli_reproduces_r_on_a_series_it_has_never_seen() {
    let expected = std::fs::read_to_string(fixture("cli-out.csv")).unwrap();
    let mut cases: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
    for line in expected.lines().skip(1) {
        let row: Vec<String> = line.split(',').map(str::to_owned).collect();
        cases
            .entry((row[0].clone(), row[1].clone()))
            .or_default()
            .push(row);
    }
    assert_eq!(cases.len(), 3, "c1, c2 and cusum");
    let input = fixture("cli-series.csv");
    for ((method, params), rows) in &cases {
        let mut args = vec!["--method".to_owned(), method.clone()];
        for p in params.split(';') {
            args.extend(["--param".to_owned(), p.to_owned()]);
        }
        let (from, to) = (&rows[0][2], &rows[rows.len() - 1][2]);
        args.extend(["--from".into(), from.clone(), "--to".into(), to.clone()]);
        args.push(input.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = detect(&args);
        let case = format!("{method} {params}");
        assert!(
            output.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let ours = stdout_rows(&output);
        assert_eq!(ours.len(), rows.len(), "{case}");
        for (o, r) in ours.iter().zip(rows) {
            assert_eq!((&o[0], &o[1]), (&r[2], &r[3]), "{case}: week and count");
            let (ub, r_ub): (f64, f64) = (o[3].parse().unwrap(), r[4].parse().unwrap());
            assert!(
                (ub - r_ub).abs() <= 1e-6 * r_ub.abs(),
                "{case} {}: bound {ub}, R {r_ub}",
                o[0]
            );
            assert_eq!(o[5], r[5], "{case} {}: alarm", o[0]);
        }
    }
}

#[test]
fn detect_cli_assesses_the_last_week_by_default() {
    let input = fixture("cli-series.csv");
    let text = std::fs::read_to_string(&input).unwrap();
    let last_line = text.lines().last().unwrap();
    let output = detect(&["--method", "c2", input.to_str().unwrap()]);
    assert!(output.status.success());
    let rows = stdout_rows(&output);
    assert_eq!(rows.len(), 1);
    assert_eq!(format!("{},{}", rows[0][0], rows[0][1]), last_line);
}

#[test]
fn detect_cli_missing_week_is_skipped_or_zero_by_policy() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("gap.csv");
    std::fs::write(&input, "week,count\n2025W51,0\n2025-W52,\n2026W1,3\n").unwrap();
    let path = input.to_str().unwrap();
    let skip = stdout_rows(&detect(&["--method", "doubling", path]));
    assert_eq!(skip[0][..2], ["2026W1".to_owned(), "3".to_owned()]);
    assert_eq!(
        skip[0][5], "0",
        "the week before has no report: nothing to double"
    );
    let zero = stdout_rows(&detect(&[
        "--method",
        "doubling",
        "--missing",
        "zero",
        path,
    ]));
    assert_eq!(zero[0][5], "1", "0 then 3 cases is an emergence");
    let missing = stdout_rows(&detect(&["--method", "one_case", "--to", "2025W52", path]));
    assert_eq!(missing[0][..2], ["2025W52".to_owned(), String::new()]);
}

#[test]
fn detect_cli_refuses_bad_input_with_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let good = write("good.csv", "week,count\n2026W1,1\n2026W2,2\n2026W3,4\n");
    let negative = write("negative.csv", "week,count\n2026W1,1\n2026W2,-2\n");
    let bad_week = write("bad-week.csv", "week,count\n2026W1,1\n2026W60,2\n");
    let header = write("header.csv", "period,value\n2026W1,1\n");
    let cases: [(&[&str], &str); 8] = [
        (&["--method", "c7", &good], "unknown method"),
        (&["--method", "c1", &good], "needs 7 weeks of history"),
        (&["--method", "one_case", &negative], "-2"),
        (&["--method", "one_case", &bad_week], "week 60"),
        (&["--method", "one_case", &header], "header"),
        (&["--method", "c1", "--param", "alpah=0.01", &good], "alpah"),
        (&["--method", "one_case", "--to", "2026W9", &good], "2026W9"),
        (
            &[
                "--method",
                "one_case",
                &dir.path().join("absent.csv").display().to_string(),
            ],
            "cannot read",
        ),
    ];
    for (args, says) in cases {
        let output = detect(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("dhis2gw detect: ") && stderr.contains(says),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
