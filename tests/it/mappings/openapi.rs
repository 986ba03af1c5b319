//! The mappings routes as the OpenAPI document describes them: every status, the upload, the
//! file types of the exports.

use serde_json::Value;

use super::common::spawn;

#[tokio::test]
async fn every_route_status_and_file_type_is_in_the_openapi_document() {
    let admin = spawn().await;
    let doc: Value = admin.app.get("/openapi.json").await.json().await.unwrap();
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut s: Vec<String> = op(path, method)["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is not documented"))
            .keys()
            .cloned()
            .collect();
        s.sort();
        s
    };
    for (path, method, must) in [
        ("/api/v2/mappings", "get", &["200", "400", "401"][..]),
        ("/api/v2/mappings", "post", &["201", "400", "409"][..]),
        ("/api/v2/mappings", "delete", &["200", "400"][..]),
        ("/api/v2/mappings/{uid}", "get", &["200", "404"][..]),
        (
            "/api/v2/mappings/{uid}",
            "put",
            &["200", "400", "404", "409"][..],
        ),
        ("/api/v2/mappings/{uid}", "delete", &["200", "404"][..]),
        (
            "/api/v2/mappings/import/csv",
            "post",
            &["200", "400", "413", "422"][..],
        ),
        (
            "/api/v2/mappings/import/excel",
            "post",
            &["200", "400", "413", "422"][..],
        ),
        ("/api/v2/mappings/export/excel", "get", &["200"][..]),
        ("/api/v2/mappings/export/csv", "get", &["200"][..]),
        (
            "/api/v2/mappings/export/excel-template",
            "get",
            &["200"][..],
        ),
    ] {
        let got = statuses(path, method);
        for status in must {
            assert!(
                got.contains(&status.to_string()),
                "{method} {path}: {got:?}"
            );
        }
    }
    let upload = &op("/api/v2/mappings/import/csv", "post")["requestBody"]["content"];
    assert!(upload.get("multipart/form-data").is_some(), "{upload}");
    let xlsx = &op("/api/v2/mappings/export/excel", "get")["responses"]["200"]["content"];
    assert!(
        xlsx.get("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .is_some(),
        "{xlsx}"
    );
    let csv = &op("/api/v2/mappings/export/csv", "get")["responses"]["200"]["content"];
    assert!(csv.get("text/csv; charset=utf-8").is_some(), "{csv}");
}
