//! The mappings page in Chromium: an import with bad rows is previewed with each row's error
//! and writes nothing; a good file is previewed, then imported.

use dhis2gw::auth::Role;
use reqwest::Method;

use super::driver::Browser;
use super::{NOT_LOGGED_IN, log_in};
use crate::support::TestApp;
use crate::support::users::{TestUser, create_user};

async fn mapping_total(app: &TestApp, admin: &TestUser) -> i64 {
    let (status, body) = app
        .request(Method::GET, "/api/v2/mappings?page_size=1")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_i64().unwrap()
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/mappings/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn console_mappings_import_preview_shows_row_errors_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    assert_eq!(mapping_total(&app, &admin).await, 0);
    let browser = Browser::start("mappings_import", 1280).await;
    log_in(&browser, &app.address, "/admin/mappings", &admin).await;

    let file = browser.find("[data-testid=import-file]").await;
    browser.send_keys(&file, &fixture("invalid_rows.csv")).await;
    browser
        .click_css("form[data-testid=import] button[type=submit]")
        .await;
    let report = browser
        .wait_text("[data-testid=import-report]", "4 invalid")
        .await;
    for expected in [
        "bad UID",
        "unknown what",
        "missing data element",
        "duplicate of row 2",
    ] {
        assert!(report.contains(expected), "{expected:?} not in {report}");
    }
    browser.screenshot("preview-errors").await;
    let apply = browser.find("[data-testid=import-apply]").await;
    assert_eq!(
        browser
            .eval("return document.querySelector('[data-testid=import-apply]').disabled;")
            .await,
        serde_json::json!(true)
    );
    drop(apply);
    assert_eq!(
        mapping_total(&app, &admin).await,
        0,
        "a preview writes nothing"
    );

    // A good file: previewed, then imported on confirmation.
    let file = browser.find("[data-testid=import-file]").await;
    browser
        .send_keys(&file, &fixture("original_11_columns.csv"))
        .await;
    browser
        .click_css("form[data-testid=import] button[type=submit]")
        .await;
    browser
        .wait_text(
            "[data-testid=import-report]",
            "Preview (nothing written): 2 rows",
        )
        .await;
    assert_eq!(mapping_total(&app, &admin).await, 0);
    browser.click_css("[data-testid=import-apply]").await;
    browser.click_css("[data-testid=confirm-yes]").await;
    browser
        .wait_text("[data-testid=import-report]", "Imported: 2 rows")
        .await;
    assert_eq!(mapping_total(&app, &admin).await, 2);
    browser
        .wait_text("[data-testid=mappings-total]", "2 mappings")
        .await;
    // The import answered 422 for the bad file: that failed request is expected.
    browser
        .assert_clean(&[NOT_LOGGED_IN, "/api/v2/mappings/import/csv"])
        .await;
    browser.close().await;
}

#[tokio::test]
async fn console_mapping_is_edited_and_a_bad_value_is_refused_with_its_reason() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let (status, created) = app
        .request(Method::POST, "/api/v2/mappings")
        .auth(admin.basic())
        .json(&serde_json::json!({"code": "MAL_SUSP", "name": "Malaria suspected", "dataElement": "fbfJHSPpUQD"}))
        .status_and_json()
        .await;
    assert!(status == 200 || status == 201, "{status} {created}");
    let uid = created["uid"].as_str().unwrap().to_owned();
    let browser = Browser::start("mappings_edit", 1280).await;
    log_in(
        &browser,
        &app.address,
        "/admin/mappings?code=MAL_SUSP",
        &admin,
    )
    .await;
    browser
        .click_css(&format!("button[data-edit='{uid}']"))
        .await;
    // A data element that is not a UID: refused, the field and its reason shown, nothing saved.
    browser
        .eval(
            "const f = document.querySelector('form[data-testid=edit-mapping]'); \
               f.querySelector('input[name=dataElement]').value = 'not-a-uid';",
        )
        .await;
    browser.click_css("[data-testid=edit-save]").await;
    browser
        .wait_text("[data-testid=edit-error]", "dataElement")
        .await;
    let (_, unchanged) = app
        .request(Method::GET, &format!("/api/v2/mappings/{uid}"))
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(unchanged["dataElement"], "fbfJHSPpUQD");
    // A good edit is saved and listed.
    browser
        .eval(
            "const f = document.querySelector('form[data-testid=edit-mapping]'); \
               f.querySelector('input[name=dataElement]').value = 'fbfJHSPpUQD'; \
               f.querySelector('input[name=name]').value = 'Malaria, suspected cases';",
        )
        .await;
    browser.screenshot("edit").await;
    browser.click_css("[data-testid=edit-save]").await;
    browser
        .wait_text("main table", "Malaria, suspected cases")
        .await;
    let (_, saved) = app
        .request(Method::GET, &format!("/api/v2/mappings/{uid}"))
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(saved["name"], "Malaria, suspected cases");
    assert_eq!(saved["code"], "MAL_SUSP", "the other fields are kept");
    assert_eq!(saved["dataElement"], "fbfJHSPpUQD");
    // The refused PUT is an expected failed request.
    browser
        .assert_clean(&[NOT_LOGGED_IN, &format!("/api/v2/mappings/{uid}")])
        .await;
    browser.close().await;
}
