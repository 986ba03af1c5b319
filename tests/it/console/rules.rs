//! The alert rules page in Chromium: a rule made through the API is listed, filtered by the
//! URL's text, and disabled from the page.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::json;

use super::driver::Browser;
use super::{NOT_LOGGED_IN, log_in};
use crate::support::TestApp;
use crate::support::users::create_user;

#[tokio::test]
async fn console_alert_rules_are_listed_filtered_and_disabled() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let mut ids = Vec::new();
    for (name, element) in [("Cholera", "rPRf4cXHEIx"), ("Measles", "gLEO1XbX0ii")] {
        let (status, rule) = app
            .request(Method::POST, "/api/v2/alert-rules")
            .auth(admin.basic())
            .json(&json!({"name": name, "data_element": element, "rule_type": "one_case"}))
            .status_and_json()
            .await;
        assert_eq!(status, 201, "{rule}");
        ids.push(rule["id"].as_i64().unwrap());
    }
    let browser = Browser::start("alert_rules", 1280).await;
    log_in(&browser, &app.address, "/admin/rules?q=chol", &admin).await;
    browser
        .wait_text("[data-testid=rules-total]", "1 of 2 rules")
        .await;
    browser.wait_text("main table", "Cholera").await;
    browser
        .click_css(&format!("button[data-toggle='{}']", ids[0]))
        .await;
    browser
        .wait_text(&format!("[data-enabled='{}']", ids[0]), "no")
        .await;
    let (_, rule) = app
        .request(Method::GET, &format!("/api/v2/alert-rules/{}", ids[0]))
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(rule["enabled"], false, "{rule}");
    assert_eq!(rule["name"], "Cholera", "the rest of the rule is unchanged");
    browser.screenshot("disabled").await;
    browser.assert_clean(&[NOT_LOGGED_IN]).await;
    browser.close().await;
}
