//! `dhis2gw alert-rules …` as a sysadmin moving a deployment of the original over: the original's
//! rule lists from the configuration (or its own environment variables), dry run, idempotence;
//! `import-csv`, `export-csv` and `list`.

use std::process::Output;

use reqwest::Method;
use serde_json::{Value, json};

use super::{ANTHRAX, DISTRICT, MEASLES, find, fixture, spawn};
use crate::support::process::{config_file, run};

fn cli(config: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut full = vec!["--config-file", config.to_str().unwrap()];
    full.extend_from_slice(args);
    run(&full, env)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "succeeded\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The original's `.env` rule lists (tests/fixtures/alerts/original.env) as variables.
fn original_env() -> Vec<(String, String)> {
    String::from_utf8(fixture("original.env"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The same lists as `alerts.original_*` keys in YAML.
fn original_yaml(db: &str) -> String {
    let mut yaml = format!("database:\n  uri: {db}\nalerts:\n");
    for (name, value) in original_env() {
        yaml.push_str(&format!("  original_{name}:\n"));
        for item in value.split(',') {
            yaml.push_str(&format!("    - {item}\n"));
        }
    }
    yaml
}

fn write_fixture(name: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), fixture(name)).unwrap();
    file
}

#[tokio::test]
async fn import_original_turns_the_lists_into_rules_once() {
    let rules = spawn().await;
    let config = config_file(&original_yaml(&rules.app.db_url));
    let conditions = write_fixture("alert_conditions.csv");
    let conditions = conditions.path().to_str().unwrap();

    let out = ok(&cli(
        config.path(),
        &[
            "alert-rules",
            "import-original",
            "--dry-run",
            "--conditions",
            conditions,
        ],
        &[],
    ));
    assert!(
        out.contains("10 rule(s) inserted, 0 updated, 0 unchanged (dry run"),
        "{out}"
    );
    assert!(rules.all().await.is_empty(), "a dry run writes nothing");

    let out = ok(&cli(
        config.path(),
        &["alert-rules", "import-original", "--conditions", conditions],
        &[],
    ));
    assert!(
        out.contains("10 rule(s) inserted, 0 updated, 0 unchanged"),
        "{out}"
    );
    let all = rules.all().await;
    assert_eq!(all.len(), 10);
    for (de, rule_type, params, missing) in [
        (ANTHRAX, "one_case", json!({}), "skip"),
        ("lI3EMAbSqPD", "one_case", json!({}), "skip"),
        ("gpBshPHOB9X", "one_case", json!({}), "skip"),
        ("VVobNuYHkoi", "one_case", json!({}), "skip"),
        ("eDgoVyohFOK", "doubling", json!({}), "zero"),
        ("mH1mYNOZGtT", "doubling", json!({}), "zero"),
        (
            "AW99TH1knkR",
            "ratio_to_mean",
            json!({"k": 1.5, "weeks": 3}),
            "zero",
        ),
        (
            "mTNmGGchPoI",
            "ratio_to_mean",
            json!({"k": 1.5, "weeks": 3}),
            "zero",
        ),
        ("qlNHXdnrMfr", "cluster", json!({"threshold": 2}), "skip"),
        (MEASLES, "cluster", json!({"threshold": 5}), "skip"),
    ] {
        let rule = find(&all, de, rule_type);
        assert_eq!(rule["params"], params, "{rule}");
        assert_eq!(rule["missing_policy"], missing, "{rule}");
        assert_eq!(rule["enabled"], true, "{rule}");
        assert_eq!(rule["level"], 3);
    }
    // Names and codes from the original's CSV (its trailing space dropped).
    let covid = find(&all, "mH1mYNOZGtT", "doubling");
    assert_eq!(
        (&covid["name"], &covid["disease_code"]),
        (&json!("COVID-19 suspected"), &json!("DU071_COVID19"))
    );
    // Anthrax: a doubling rule instead of the single case in each endemic district.
    assert_eq!(
        find(&all, ANTHRAX, "one_case")["overrides"],
        json!({
            DISTRICT: {"rule_type": "doubling"},
            "fdc6uOvgoji": {"rule_type": "doubling"},
            "jUb8gELQApl": {"rule_type": "doubling"},
        })
    );
    let pool = dhis2gw::db::connect(&rules.app.settings.database).unwrap();
    let enabled = dhis2gw::alerts::enabled_rules(&pool).await.unwrap();
    assert_eq!(enabled.len(), 10);
    let anthrax = enabled.iter().find(|r| r.data_element == ANTHRAX).unwrap();
    assert_eq!(anthrax.method_for(DISTRICT).name(), "doubling");
    assert_eq!(anthrax.method_for("O6uvpzGd5pu").name(), "one_case");

    // Twice: nothing changes.
    let out = ok(&cli(
        config.path(),
        &["alert-rules", "import-original", "--conditions", conditions],
        &[],
    ));
    assert!(
        out.contains("0 rule(s) inserted, 0 updated, 10 unchanged"),
        "{out}"
    );
    assert_eq!(rules.all().await, all);
}

#[tokio::test]
async fn the_originals_own_environment_variables_are_read_too() {
    let rules = spawn().await;
    // First the CSV (the catalogue: disabled placeholders), then the lists with no --conditions:
    // names come from the stored rules, and the listed diseases' placeholders are switched on.
    let config = config_file(&format!("database:\n  uri: {}\n", rules.app.db_url));
    let csv = write_fixture("alert_conditions.csv");
    let out = ok(&cli(
        config.path(),
        &["alert-rules", "import-csv", csv.path().to_str().unwrap()],
        &[],
    ));
    assert!(out.contains("10 row(s): 10 rule(s) inserted"), "{out}");

    let env = original_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = ok(&cli(
        config.path(),
        &["alert-rules", "import-original"],
        &env,
    ));
    // Anthrax, VHF, AFP and yellow fever had a one_case placeholder: updated (enabled); the
    // doubling, ratio and cluster rules are new.
    assert!(
        out.contains("6 rule(s) inserted, 4 updated, 0 unchanged"),
        "{out}"
    );
    let all = rules.all().await;
    assert_eq!(all.len(), 16);
    let anthrax = find(&all, ANTHRAX, "one_case");
    assert_eq!(
        (&anthrax["enabled"], &anthrax["name"]),
        (&json!(true), &json!("Anthrax suspected"))
    );
    assert_eq!(anthrax["overrides"].as_object().unwrap().len(), 3);
    assert_eq!(find(&all, MEASLES, "cluster")["name"], "Measles suspected");
    // Diseases in no "one suspected" list keep their placeholder switched off.
    assert_eq!(find(&all, MEASLES, "one_case")["enabled"], false);

    let out = ok(&cli(
        config.path(),
        &["alert-rules", "import-original"],
        &env,
    ));
    assert!(
        out.contains("0 rule(s) inserted, 0 updated, 10 unchanged"),
        "{out}"
    );
    assert_eq!(rules.all().await, all);

    // What an admin changed outside the lists survives a rerun; what the lists say is restored.
    let id = anthrax["id"].as_i64().unwrap();
    let mut body = anthrax.clone();
    for key in ["id", "uid", "created", "updated"] {
        body.as_object_mut().unwrap().remove(key);
    }
    body["severity"] = json!("action");
    body["params"] = json!({"threshold": 3});
    let (status, _) = rules
        .call(
            Method::PUT,
            &format!("/api/v2/alert-rules/{id}"),
            Some(body),
        )
        .await;
    assert_eq!(status, 200);
    let out = ok(&cli(
        config.path(),
        &["alert-rules", "import-original"],
        &env,
    ));
    assert!(
        out.contains("0 rule(s) inserted, 1 updated, 9 unchanged"),
        "{out}"
    );
    let anthrax = find(&rules.all().await, ANTHRAX, "one_case").clone();
    assert_eq!(
        (&anthrax["severity"], &anthrax["params"]),
        (&json!("action"), &json!({}))
    );
}

#[tokio::test]
async fn bad_list_items_name_the_key_and_nothing_is_written() {
    let rules = spawn().await;
    let db = &rules.app.db_url;
    for (yaml, words) in [
        (
            "alerts:\n  original_cluster_of_diseases: [qlNHXdnrMfr_2, DJZWhsgbmYU]\n",
            "alerts.original_cluster_of_diseases[2]",
        ),
        (
            "alerts:\n  original_cluster_of_diseases: [qlNHXdnrMfr_none]\n",
            "alerts.original_cluster_of_diseases[1]",
        ),
        (
            "alerts:\n  original_one_suspected_diseases: [zBFmdwpO2LZ, zBFmdwpO2L]\n",
            "alerts.original_one_suspected_diseases[2]",
        ),
        (
            "alerts:\n  original_doubling_cases_diseases: [eDgoVyohFOK]\n  original_anthrax_endemic: [bad]\n",
            "alerts.original_anthrax_endemic[1]",
        ),
        ("alerts: {}\n", "the original's lists are empty"),
    ] {
        let config = config_file(&format!("database:\n  uri: {db}\n{yaml}"));
        let err = failed(&cli(
            config.path(),
            &["alert-rules", "import-original"],
            &[],
        ));
        assert!(err.contains(words), "{yaml}: {err}");
    }
    let config = config_file(&format!("database:\n  uri: {db}\n"));
    let err = failed(&cli(
        config.path(),
        &["alert-rules", "import-original", "--level", "0"],
        &[("cluster_of_diseases", "qlNHXdnrMfr_2")],
    ));
    assert!(err.contains("--level 0"), "{err}");
    assert!(rules.all().await.is_empty());

    // Anthrax endemic districts without anthrax in the one-case list: a warning, not a rule.
    let out = cli(
        config.path(),
        &["alert-rules", "import-original"],
        &[
            ("cluster_of_diseases", "qlNHXdnrMfr_2"),
            ("anthrax_endemic", DISTRICT),
        ],
    );
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("original_anthrax_endemic is ignored"), "{err}");
    assert!(err.contains("qlNHXdnrMfr has no name"), "{err}");
    let all = rules.all().await;
    assert_eq!(all.len(), 1);
    assert_eq!(find(&all, "qlNHXdnrMfr", "cluster")["name"], "qlNHXdnrMfr");
}

#[tokio::test]
async fn import_csv_export_csv_and_list() {
    let rules = spawn().await;
    let config = config_file(&format!("database:\n  uri: {}\n", rules.app.db_url));
    let path = config.path();
    let extended = write_fixture("rules_extended.csv");
    let extended = extended.path().to_str().unwrap();

    let out = ok(&cli(
        path,
        &["alert-rules", "import-csv", "--dry-run", extended],
        &[],
    ));
    assert!(
        out.contains("5 rule(s) inserted") && out.contains("dry run"),
        "{out}"
    );
    assert!(rules.all().await.is_empty());
    ok(&cli(path, &["alert-rules", "import-csv", extended], &[]));

    let out = ok(&cli(path, &["alert-rules", "list"], &[]));
    assert!(out.contains("5 rule(s)"), "{out}");
    assert!(
        out.contains("farrington") && out.contains("Measles suspected"),
        "{out}"
    );
    assert!(out.contains(r#"{"threshold":5}"#), "{out}");

    // The export to a file imports back unchanged; to stdout it is the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("rules.csv");
    ok(&cli(
        path,
        &["alert-rules", "export-csv", exported.to_str().unwrap()],
        &[],
    ));
    let stdout = cli(path, &["alert-rules", "export-csv"], &[]).stdout;
    assert_eq!(std::fs::read(&exported).unwrap(), stdout);
    assert_eq!(stdout, rules.export().await);
    let out = ok(&cli(
        path,
        &["alert-rules", "import-csv", exported.to_str().unwrap()],
        &[],
    ));
    assert!(
        out.contains("0 rule(s) inserted, 0 updated, 5 unchanged"),
        "{out}"
    );

    // A bad file: each problem on stderr with its row, nothing written, exit 1.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "id,name,rule_type,level\nDJZWhsgbmYU,Measles,cluster,\nzBFmdwpO2LZ,Anthrax,one_case,0\nqlNHXdnrMfr,Food,one_case,\n",
    )
    .unwrap();
    let out = cli(
        path,
        &["alert-rules", "import-csv", bad.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 2: params.threshold: is required"),
        "{err}"
    );
    assert!(err.contains("row 3: level:"), "{err}");
    assert!(
        err.contains("2 of 3 rows are invalid; nothing was imported"),
        "{err}"
    );
    let all: Vec<Value> = rules.all().await;
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|r| r["data_element"] != "qlNHXdnrMfr"));
}
