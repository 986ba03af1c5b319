//! CSV imports: the original's files, what spreadsheet programs write, every mode, dry runs,
//! each invalid-row reason, and the files that are refused whole.

use reqwest::Method;
use serde_json::{Value, json};

use super::common::{Admin, COC_F_LT5, FACILITY, MAL_CONF, MAL_SUSP, counts, spawn};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/mappings/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn upload_fixture(admin: &Admin, query: &str, name: &str) -> (u16, Value) {
    admin.upload("csv", query, name, fixture(name)).await
}

fn by_code<'a>(mappings: &'a [Value], code: &str) -> &'a Value {
    mappings
        .iter()
        .find(|m| m["code"] == code)
        .unwrap_or_else(|| panic!("no mapping {code} in {mappings:?}"))
}

#[tokio::test]
async fn the_originals_csv_imports_into_the_default_namespace() {
    let admin = spawn().await;
    let (status, report) = upload_fixture(&admin, "", "original_11_columns.csv").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [2, 0, 0, 0, 0, 0]);
    assert_eq!(
        (report["applied"].as_bool(), report["mode"].as_str()),
        (Some(true), Some("upsert"))
    );
    let all = admin.all().await;
    let confirmed = by_code(&all, "MAL_CONF_F");
    assert_eq!(confirmed["categoryOptionCombo"], COC_F_LT5);
    assert_eq!(confirmed["instanceName"], "default");
    assert_eq!(confirmed["sourceName"], "default");
    assert!(
        by_code(&all, "MAL_SUSP")
            .get("categoryOptionCombo")
            .is_none(),
        "empty cell is absent"
    );
}

#[tokio::test]
async fn a_bom_crlf_and_loosely_written_headers_are_read() {
    let admin = spawn().await;
    let (status, report) = upload_fixture(&admin, "", "excel_utf8_bom.csv").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [2, 0, 0, 0, 0, 0]);
    assert_eq!(report["warnings"], json!([]), "{report}");
    let all = admin.all().await;
    assert_eq!(
        by_code(&all, "MAL_CONF_F")["name"],
        "Paludisme confirmé F<5"
    );
    let unit = by_code(&all, "FAC-001");
    assert_eq!(
        (&unit["what"], &unit["destinationOrgUnit"]),
        (&json!("ou"), &json!(FACILITY))
    );
}

#[tokio::test]
async fn semicolons_and_windows_1252_are_read() {
    let admin = spawn().await;
    let (status, report) = upload_fixture(&admin, "", "excel_semicolon_1252.csv").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        by_code(&admin.all().await, "MAL_SUSP")["name"],
        "Paludisme suspecté – total"
    );
}

#[tokio::test]
async fn each_invalid_row_is_reported_and_nothing_is_imported() {
    let admin = spawn().await;
    let (status, body) = upload_fixture(&admin, "", "invalid_rows.csv").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "invalid_rows");
    let report = &body["report"];
    assert_eq!(
        (report["total"].as_u64(), report["invalid"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(report["applied"], false);
    let errors: Vec<(u64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["reason"].as_str().unwrap(),
            )
        })
        .collect();
    let expect = [
        (3, "category_option_combo", "bad UID"),
        (4, "what", "unknown what"),
        (5, "dataelement", "missing data element"),
        (6, "code", "duplicate of row 2"),
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:?}");
    for ((row, column, reason), (want_row, want_column, want_reason)) in errors.iter().zip(expect) {
        assert_eq!((*row, *column), (want_row, want_column), "{errors:?}");
        assert!(reason.starts_with(want_reason), "row {row}: {reason}");
    }
    assert_eq!(body["details"][0]["field"], "row 3: category_option_combo");
    assert!(
        admin.all().await.is_empty(),
        "the valid row 2 was not imported either"
    );
}

const START: &str =
    "code,dataelement,description\nA,rPRf4cXHEIx,first\nB,rPRf4cXHEIx,first\nC,rPRf4cXHEIx,first\n";
/// A unchanged, B changed, D new; C absent.
const NEXT: &str =
    "code,dataelement,description\nA,rPRf4cXHEIx,first\nB,gLEO1XbX0ii,second\nD,gLEO1XbX0ii,new\n";

async fn start(admin: &Admin) {
    let (status, report) = admin.csv("", START).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [3, 0, 0, 0, 0, 0]),
        "{report}"
    );
    // Another namespace, which no mode of a default-namespace file may touch.
    let body = json!({"code": "C", "dataElement": MAL_CONF, "sourceName": "pbs"});
    assert_eq!(
        admin
            .json(Method::POST, "/api/v2/mappings", Some(body))
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn skip_mode_adds_new_rows_and_leaves_stored_ones() {
    let admin = spawn().await;
    start(&admin).await;
    let (status, report) = admin.csv("?mode=skip", NEXT).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [1, 0, 1, 1, 0, 0]),
        "{report}"
    );
    let all = admin.all().await;
    assert_eq!(all.len(), 5);
    let b = all
        .iter()
        .find(|m| m["code"] == "B" && m["sourceName"] == "default")
        .unwrap();
    assert_eq!(
        (&b["dataElement"], &b["description"]),
        (&json!(MAL_CONF), &json!("first"))
    );
}

#[tokio::test]
async fn upsert_mode_updates_changed_rows_in_place() {
    let admin = spawn().await;
    start(&admin).await;
    let before = admin.all().await;
    let (status, report) = admin.csv("?mode=upsert", NEXT).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [1, 1, 1, 0, 0, 0]),
        "{report}"
    );
    let after = admin.all().await;
    assert_eq!(after.len(), 5);
    let find = |list: &[Value], code: &str| {
        list.iter()
            .find(|m| m["code"] == code && m["sourceName"] == "default")
            .unwrap()
            .clone()
    };
    let (b0, b1) = (find(&before, "B"), find(&after, "B"));
    assert_eq!(b0["uid"], b1["uid"], "updated in place");
    assert_eq!(
        (&b1["dataElement"], &b1["description"]),
        (&json!(MAL_SUSP), &json!("second"))
    );
    assert!(b1["updated"].as_str() > b0["updated"].as_str());
    assert_eq!(
        find(&before, "A")["updated"],
        find(&after, "A")["updated"],
        "unchanged row untouched"
    );
}

#[tokio::test]
async fn replace_mode_also_removes_what_the_file_does_not_have() {
    let admin = spawn().await;
    start(&admin).await;
    let (status, report) = admin.csv("?mode=replace", NEXT).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [1, 1, 1, 0, 1, 0]),
        "{report}"
    );
    let all = admin.all().await;
    let mut keys: Vec<String> = all
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["sourceName"].as_str().unwrap(),
                m["code"].as_str().unwrap()
            )
        })
        .collect();
    keys.sort();
    assert_eq!(keys, ["default/A", "default/B", "default/D", "pbs/C"]);
}

#[tokio::test]
async fn a_dry_run_counts_everything_and_changes_nothing() {
    let admin = spawn().await;
    start(&admin).await;
    let before = admin.all().await;
    let (status, report) = admin.csv("?mode=replace&dry_run=true", NEXT).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [1, 1, 1, 0, 1, 0]),
        "{report}"
    );
    assert_eq!(
        (report["dry_run"].as_bool(), report["applied"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(admin.all().await, before);
    let (status, body) = upload_fixture(&admin, "?dry_run=true", "invalid_rows.csv").await;
    assert_eq!(status, 422, "a dry run of an invalid file says so: {body}");
}

#[tokio::test]
async fn columns_absent_from_the_file_keep_their_stored_values() {
    let admin = spawn().await;
    start(&admin).await;
    let (status, report) = admin
        .csv("", "CODE,DataElement\nA,rPRf4cXHEIx\nB,gLEO1XbX0ii\n")
        .await;
    assert_eq!(
        (status, counts(&report)),
        (200, [0, 1, 1, 0, 0, 0]),
        "{report}"
    );
    let all = admin.all().await;
    let b = all
        .iter()
        .find(|m| m["code"] == "B" && m["sourceName"] == "default")
        .unwrap();
    assert_eq!(
        (&b["dataElement"], &b["description"]),
        (&json!(MAL_SUSP), &json!("first"))
    );
}

#[tokio::test]
async fn a_uid_column_renames_a_mapping_in_place() {
    let admin = spawn().await;
    start(&admin).await;
    let (_, page) = admin.get("/api/v2/mappings?code=A&source=default").await;
    let uid = page["items"][0]["uid"].as_str().unwrap().to_owned();
    let (status, report) = admin
        .csv("", &format!("uid,code,dataelement\n{uid},A2,{MAL_CONF}\n"))
        .await;
    assert_eq!(
        (status, counts(&report)),
        (200, [0, 1, 0, 0, 0, 0]),
        "{report}"
    );
    let (_, renamed) = admin.get(&format!("/api/v2/mappings/{uid}")).await;
    assert_eq!(
        (&renamed["code"], &renamed["description"]),
        (&json!("A2"), &json!("first"))
    );

    // The uid of another mapping on a taken key is refused.
    let (_, page) = admin.get("/api/v2/mappings?code=B&source=default").await;
    let b = page["items"][0]["uid"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .csv("", &format!("uid,code,dataelement\n{b},C,{MAL_CONF}\n"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["report"]["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("already mapping")
    );
}

#[tokio::test]
async fn unreadable_files_are_refused_whole_with_a_reason() {
    let admin = spawn().await;
    for (text, expect) in [
        ("", "empty"),
        ("\u{feff}\r\n\r\n", "empty"),
        ("code,dataelement\n", "empty"),
        ("foo,bar\n1,2\n", "header"),
        ("code,Code\nA,B\n", "twice"),
    ] {
        // A file the schema can only call binary: its content is judged here (422).
        let (status, body) = admin.csv("", text).await;
        assert_eq!(status, 422, "{text:?}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(expect),
            "{text:?}: {body}"
        );
    }
    let mut not_utf8 = b"\xEF\xBB\xBFcode,dataelement\n".to_vec();
    not_utf8.extend(b"\xFF\xFE,rPRf4cXHEIx\n");
    let (status, body) = admin.upload("csv", "", "m.csv", not_utf8).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("UTF-8"), "{body}");
    let (status, body) = admin.csv("?mode=merge", START).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = admin
        .upload("excel", "", "m.csv", START.as_bytes().to_vec())
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("import/csv"),
        "{body}"
    );
    let (content_type, other_field) = super::common::multipart("other", "x.csv", b"x");
    let response = admin
        .request(Method::POST, "/api/v2/mappings/import/csv")
        .header("Content-Type", content_type)
        .body(other_field)
        .send()
        .await;
    assert_eq!(response.status(), 400, "no file field");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string());
    assert!(admin.all().await.is_empty());
}

#[tokio::test]
async fn unknown_columns_are_warned_about_not_imported() {
    let admin = spawn().await;
    let (status, report) = admin
        .csv("", "code,dataelement,notes\nA,rPRf4cXHEIx,hello\n")
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["warnings"][0],
        json!({"row": 1, "column": "notes", "reason": "unknown column, ignored"})
    );
    let (status, body) = admin
        .csv("", "code,dataelement\nA,rPRf4cXHEIx,extra cell\n")
        .await;
    assert_eq!(
        status, 422,
        "a cell past the header is not dropped silently: {body}"
    );
}
