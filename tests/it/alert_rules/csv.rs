//! `POST /api/v2/alert-rules/import/csv` and `GET …/export/csv`: the original's file as is, the
//! optional columns, row-numbered errors that reject the whole file, and an export that imports
//! back unchanged.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ANTHRAX, DISTRICT, MEASLES, find, fixture, spawn};

fn counts(report: &Value) -> [u64; 5] {
    ["total", "inserted", "updated", "unchanged", "invalid"].map(|k| report[k].as_u64().unwrap())
}

#[tokio::test]
async fn the_originals_alert_conditions_csv_imports_as_is() {
    let rules = spawn().await;
    let original = fixture("alert_conditions.csv");

    let (status, report) = rules.upload("?dry_run=true", &original).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [10, 10, 0, 0, 0]);
    assert_eq!(
        (&report["dry_run"], &report["applied"]),
        (&json!(true), &json!(false))
    );
    assert!(rules.all().await.is_empty(), "a dry run writes nothing");

    let (status, report) = rules.upload("", &original).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [10, 10, 0, 0, 0]);
    assert_eq!(report["applied"], true);
    assert_eq!(report["warnings"], json!([]));
    let all = rules.all().await;
    assert_eq!(all.len(), 10);
    // Each disease of the catalogue: a disabled one_case rule, named and coded.
    for rule in &all {
        assert_eq!(rule["rule_type"], "one_case", "{rule}");
        assert_eq!(rule["enabled"], false, "{rule}");
        assert_eq!(rule["level"], 3);
    }
    let covid = find(&all, "mH1mYNOZGtT", "one_case");
    assert_eq!(
        covid["name"], "COVID-19 suspected",
        "the trailing space is dropped"
    );
    assert_eq!(covid["disease_code"], "DU071_COVID19");
    assert_eq!(
        find(&all, "lI3EMAbSqPD", "one_case")["name"],
        "VHF (Ebola, Marburg, Lassa Fever, RVF, Crimean-Congo) suspected"
    );
    let pool = dhis2gw::db::connect(&rules.app.settings.database).unwrap();
    assert!(
        dhis2gw::alerts::enabled_rules(&pool)
            .await
            .unwrap()
            .is_empty()
    );

    // Again: nothing changes.
    let before = rules.all().await;
    let (status, report) = rules.upload("", &original).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [10, 0, 0, 10, 0]);
    assert_eq!(rules.all().await, before);
}

#[tokio::test]
async fn a_catalogue_row_renames_the_rules_a_disease_already_has() {
    let rules = spawn().await;
    let (status, _) = rules
        .call(
            Method::POST,
            "/api/v2/alert-rules",
            Some(
                json!({"name": "x", "data_element": MEASLES, "rule_type": "cluster",
                        "params": {"threshold": 5}}),
            ),
        )
        .await;
    assert_eq!(status, 201);
    let (status, report) = rules.upload("", &fixture("alert_conditions.csv")).await;
    assert_eq!(status, 200, "{report}");
    // Measles had a rule: it is renamed, no placeholder is added; the other nine get one.
    assert_eq!(counts(&report), [10, 9, 1, 0, 0]);
    let all = rules.all().await;
    assert_eq!(all.len(), 10);
    let measles = find(&all, MEASLES, "cluster");
    assert_eq!(
        (
            &measles["name"],
            &measles["disease_code"],
            &measles["params"],
            &measles["enabled"]
        ),
        (
            &json!("Measles suspected"),
            &json!("DB050_MEASLES"),
            &json!({"threshold": 5}),
            &json!(true)
        )
    );
}

#[tokio::test]
async fn the_optional_columns_make_whole_rules() {
    let rules = spawn().await;
    let (status, report) = rules.upload("", &fixture("rules_extended.csv")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [5, 5, 0, 0, 0]);
    let all = rules.all().await;
    let anthrax = find(&all, ANTHRAX, "one_case");
    assert_eq!(anthrax["severity"], "action");
    assert_eq!(
        anthrax["overrides"],
        json!({DISTRICT: {"rule_type": "doubling"}})
    );
    let measles = find(&all, MEASLES, "cluster");
    assert_eq!(measles["params"], json!({"threshold": 5}));
    assert_eq!(
        measles["overrides"],
        json!({"fdc6uOvgoji": {"threshold": 3}})
    );
    let c2 = find(&all, "eDgoVyohFOK", "c2");
    assert_eq!(
        (&c2["enabled"], &c2["missing_policy"]),
        (&json!(true), &json!("zero"))
    );
    let farrington = find(&all, "mTNmGGchPoI", "farrington");
    assert_eq!(
        (&farrington["enabled"], &farrington["level"]),
        (&json!(false), &json!(2))
    );

    // The parsed rules the alert run gets: the disabled one left out, overrides as methods.
    let pool = dhis2gw::db::connect(&rules.app.settings.database).unwrap();
    let enabled = dhis2gw::alerts::enabled_rules(&pool).await.unwrap();
    assert_eq!(enabled.len(), 4);
    let measles = enabled.iter().find(|r| r.data_element == MEASLES).unwrap();
    let dhis2gw_detect::Method::Cluster(here) = measles.method_for("fdc6uOvgoji") else {
        panic!("{:?}", measles.method_for("fdc6uOvgoji"))
    };
    let dhis2gw_detect::Method::Cluster(elsewhere) = &measles.method else {
        panic!()
    };
    assert_ne!(here, elsewhere, "the override's threshold is its own");

    // A row that changes one cell updates that rule only.
    let text = String::from_utf8(fixture("rules_extended.csv")).unwrap();
    let changed = text.replace("\"{\"\"threshold\"\": 5}\"", "\"{\"\"threshold\"\": 6}\"");
    let (status, report) = rules.upload("", changed.as_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [5, 0, 1, 4, 0]);
    assert_eq!(
        find(&rules.all().await, MEASLES, "cluster")["params"],
        json!({"threshold": 6})
    );
}

/// One bad row anywhere: 422, every problem with its row (as a spreadsheet numbers them) and
/// column, and nothing written, not even the good rows.
#[tokio::test]
async fn a_bad_row_rejects_the_whole_file() {
    let rules = spawn().await;
    let file = "id,name,nmc_diagnosis,rule_type,params,level,missing_policy,severity,enabled,overrides\n\
        zBFmdwpO2LZ,Anthrax suspected,DA034_ANTHRAX,one_case,,3,,,,\n\
        DJZWhsgbmYU,Measles suspected,DB050_MEASLES,cluster,,,,,,\n\
        \n\
        qlNHXdnrMfr,Food Poisoning,,cluster,\"{\"\"threshold\"\": 2, \"\"typo\"\": 1}\",,,,,\n\
        AW99TH1knkR,Diarrhoea with blood,,ratio_to_mean,{k: 1.5},,,,,\n\
        mTNmGGchPoI,Trypanosomiasis,,c1,,12,,,,\n\
        VVobNuYHkoi,Yellow fever,,one_case,,,sometimes,,,\n\
        gpBshPHOB9X,AFP,,one_case,,,,urgent,,\n\
        lI3EMAbSqPD,VHF,,one_case,,,,,perhaps,\n\
        eDgoVyohFOK,Diarrhoea,,doubling,,,,,,\"{\"\"Rp268JB6Ne4\"\": {\"\"weeks\"\": 0}}\"\n\
        mH1mYNOZGtT,COVID-19,,hockey_stick,,,,,,\n\
        BAD,Bad,,one_case,,,,,,\n\
        ,No id,,,,,,,,\n\
        DJZWhsgbmYU,Measles again,,,,3,,,,\n\
        zBFmdwpO2LZ,Anthrax twice,,one_case,,,,,,\n";
    let (status, rejected) = rules.upload("", file.as_bytes()).await;
    assert_eq!(status, 422, "{rejected:#}");
    assert_eq!(rejected["code"], "invalid_rows");
    let errors: Vec<(u64, String)> = rejected["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (3, "params.threshold"),
        (5, "params.typo"),
        (6, "params"),
        (7, "level"),
        (8, "missing_policy"),
        (9, "severity"),
        (10, "enabled"),
        (11, "overrides.Rp268JB6Ne4.weeks"),
        (12, "rule_type"),
        (13, "id"),
        (14, "id"),
        (15, "level"),
        (16, "rule_type"),
    ]
    .into_iter()
    .map(|(r, c)| (r, c.to_owned()))
    .collect();
    assert_eq!(errors, expected, "{rejected:#}");
    assert_eq!(counts(&rejected["report"]), [14, 0, 0, 0, 13]);
    assert_eq!(rejected["report"]["applied"], false);
    // The details name row and column too, and the message says nothing was imported.
    assert_eq!(rejected["details"][0]["field"], "row 3: params.threshold");
    assert!(
        rejected["error"]
            .as_str()
            .unwrap()
            .contains("nothing was imported")
    );
    let messages = rejected["report"]["errors"].to_string();
    for words in [
        "is required",
        "no such parameter",
        "not JSON",
        "from 1 to 10",
        "skip or zero",
        "alert or action",
        "not true or false",
        "unknown method",
        "11 characters",
        "needs a rule_type",
        "row 2 already has the one_case rule",
    ] {
        assert!(
            messages.contains(words),
            "{words:?} missing from {messages}"
        );
    }
    assert!(
        rules.all().await.is_empty(),
        "the good rows were not written either"
    );
}

#[tokio::test]
async fn files_that_cannot_be_read_are_refused_naming_the_file() {
    let rules = spawn().await;
    for (file, words) in [
        ("", "empty"),
        ("name,nmc_diagnosis\nAnthrax,DA034\n", "no \"id\" column"),
        ("id,id,name\n", "twice"),
    ] {
        let (status, error) = rules.upload("", file.as_bytes()).await;
        // The upload fits the schema ("binary"); its content is refused by the reader (422).
        assert_eq!(status, 422, "{file:?}: {error}");
        let text = error["error"].as_str().unwrap();
        assert!(text.contains(words), "{file:?}: {error}");
        assert_eq!(error["details"][0]["field"], "file", "{error}");
    }
    // An unknown column is a warning, not an error.
    let (status, report) = rules
        .upload(
            "",
            b"id,name,nmc_diagnosis,comment\nzBFmdwpO2LZ,Anthrax,DA034,hello\n",
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["warnings"][0]["column"], "comment");
    assert_eq!(report["warnings"][0]["row"], 1);
}

#[tokio::test]
async fn the_export_imports_back_unchanged() {
    let rules = spawn().await;
    rules.upload("", &fixture("alert_conditions.csv")).await;
    let (status, _) = rules.upload("", &fixture("rules_extended.csv")).await;
    assert_eq!(status, 200);
    let all = rules.all().await;
    let exported = rules.export().await;
    assert!(exported.starts_with(b"\xEF\xBB\xBFid,name,nmc_diagnosis,rule_type,params,level,missing_policy,severity,enabled,overrides\r\n")
        || exported.starts_with(b"\xEF\xBB\xBFid,name,nmc_diagnosis,rule_type,params,level,missing_policy,severity,enabled,overrides\n"),
        "{}", String::from_utf8_lossy(&exported));

    // Into the same database: every rule unchanged.
    let (status, report) = rules.upload("", &exported).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        counts(&report),
        [all.len() as u64, 0, 0, all.len() as u64, 0]
    );
    assert_eq!(rules.all().await, all);

    // Into an empty one: the same rules, and the same file out.
    let other = spawn().await;
    let (status, report) = other.upload("", &exported).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["inserted"], all.len());
    let strip = |rules: Vec<Value>| -> Vec<Value> {
        rules
            .into_iter()
            .map(|mut r| {
                for key in ["id", "uid", "created", "updated"] {
                    r.as_object_mut().unwrap().remove(key);
                }
                r
            })
            .collect()
    };
    assert_eq!(strip(other.all().await), strip(all));
    assert_eq!(other.export().await, exported);
}
