//! CSV injection: a mapping whose text starts like a formula (`=`, `+`, `-`, `@`) is exported
//! with a leading `'`, so a spreadsheet shows it as text instead of running it, and the export
//! imports back unchanged.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::support::app::TestApp;
use crate::support::users::create_user;

/// A multipart body with one file field.
fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "dhis2gw-hostile-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn formula_cells_are_escaped_on_export_and_import_back_unchanged() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let names = [
        "=HYPERLINK(\"http://attacker.example/\",\"Click\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
    ];
    for (i, name) in names.iter().enumerate() {
        let (status, body) = app
            .request(Method::POST, "/api/v2/mappings")
            .auth(admin.basic())
            .json(&json!({"code": format!("INJ_{i}"), "dataElement": "gLEO1XbX0ii", "name": name}))
            .status_and_json()
            .await;
        assert_eq!(status, 201, "{body}");
    }

    let response = app
        .request(Method::GET, "/api/v2/mappings/export/csv")
        .auth(admin.basic())
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let csv = response.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(csv.clone()).unwrap();
    for name in names {
        let quoted = format!("'{name}").replace('"', "\"\"");
        assert!(text.contains(&quoted), "{name} escaped in:\n{text}");
        let bare = format!(",{}", name.replace('"', "\"\""));
        let bare_quoted = format!(",\"{}", name.replace('"', "\"\""));
        assert!(
            !text.contains(&bare) && !text.contains(&bare_quoted),
            "{name} left as a formula in:\n{text}"
        );
    }

    // The export imports back as it was: nothing changes.
    let (content_type, body) = multipart(&csv);
    let (status, report) = app
        .request(Method::POST, "/api/v2/mappings/import/csv?mode=upsert")
        .auth(admin.basic())
        .header("Content-Type", content_type)
        .body(body)
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{report}");
    for (i, name) in names.iter().enumerate() {
        let (status, page) = app
            .request(Method::GET, &format!("/api/v2/mappings?code=INJ_{i}"))
            .auth(admin.basic())
            .status_and_json()
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"][0]["name"], *name, "{page}");
    }
    app.stop().await;
}
