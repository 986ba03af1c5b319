//! Logging in and out in the browser, and what each role is shown and allowed.

use dhis2gw::auth::Role;
use serde_json::json;

use super::driver::Browser;
use super::{NOT_LOGGED_IN, log_in, write_controls};
use crate::support::TestApp;
use crate::support::users::create_user;

#[tokio::test]
async fn console_login_logout_in_chromium() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let browser = Browser::start("login_logout", 1280).await;

    // A wrong password: the form says so and nothing opens.
    browser.goto(&format!("{}/admin/", app.address)).await;
    browser
        .type_into(
            "form[data-testid=login] input[name=username]",
            &admin.username,
        )
        .await;
    browser
        .type_into(
            "form[data-testid=login] input[name=password]",
            "wrong password",
        )
        .await;
    browser
        .click_css("form[data-testid=login] button[type=submit]")
        .await;
    browser
        .wait_text("[data-testid=login-error]", "invalid username or password")
        .await;
    assert!(browser.all("[data-testid=who]").await.is_empty());

    log_in(&browser, &app.address, "/admin/", &admin).await;
    browser.screenshot("logged-in").await;
    // The session cookie is out of the page's reach (HttpOnly).
    assert_eq!(browser.eval("return document.cookie;").await, json!(""));
    // A reload keeps the session; a deep link lands on its page.
    browser.goto(&format!("{}/admin/users", app.address)).await;
    browser.wait_text("main h1", "Users and tokens").await;

    browser.click_css("[data-testid=logout]").await;
    browser.find("form[data-testid=login]").await;
    let status = browser
        .eval_async("fetch('/api/v2/me').then(r => arguments[0](r.status));")
        .await;
    assert_eq!(status, json!(401), "the session ended on the server");
    browser
        .goto(&format!("{}/admin/submissions", app.address))
        .await;
    browser.find("form[data-testid=login]").await;
    browser
        .assert_clean(&[NOT_LOGGED_IN, "/admin/auth/login", "/api/v2/me"])
        .await;
    browser.close().await;
}

#[tokio::test]
async fn console_viewer_sees_no_write_controls_and_a_forged_write_is_refused() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;

    // The admin, for contrast: the same pages show write controls.
    let browser = Browser::start("admin_pages", 1280).await;
    log_in(&browser, &app.address, "/admin/submissions", &admin).await;
    browser.find("[data-testid=summary]").await;
    assert!(
        write_controls(&browser).await >= 3,
        "requeue, delete, purge"
    );
    browser
        .goto(&format!("{}/admin/mappings", app.address))
        .await;
    browser.find("[data-testid=import]").await;
    assert!(write_controls(&browser).await >= 1);
    browser.close().await;

    // The viewer, on a phone-sized screen.
    let browser = Browser::start("viewer_pages", 360).await;
    log_in(&browser, &app.address, "/admin/submissions", &viewer).await;
    assert_eq!(browser.eval("return window.innerWidth;").await, json!(360));
    for (path, ready) in [
        ("/admin/submissions", "[data-testid=summary]"),
        ("/admin/queue", "[data-card=waiting]"),
        ("/admin/mappings", "[data-testid=mappings-total]"),
        ("/admin/rules", "[data-testid=rules-total]"),
        ("/admin/jobs", "main table"),
        ("/admin/users", "[data-testid=create-token]"),
    ] {
        browser.goto(&format!("{}{path}", app.address)).await;
        browser.find(ready).await;
        assert_eq!(
            write_controls(&browser).await,
            0,
            "write controls on {path}"
        );
        let name = path.trim_start_matches("/admin/");
        browser.screenshot(&format!("viewer-360-{name}")).await;
        // Readable at 360 px: nothing wider than the screen but the scrolling tables.
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - window.innerWidth;")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{path} overflows by {overflow} px"
        );
    }
    assert!(browser.all("[data-testid=import]").await.is_empty());

    // A write forged from the page, with the session's own CSRF token: the role refuses it.
    let answer = browser
        .eval_async(
            "const done = arguments[0];
             fetch('/admin/auth/session').then(r => r.json()).then(s =>
               fetch('/api/v2/logs/purge?date=2030-01-01', {method: 'DELETE',
                 headers: {'X-CSRF-Token': s.csrf_token}}))
             .then(r => r.json().then(b => done([r.status, b.code])));",
        )
        .await;
    assert_eq!(answer, json!([403, "forbidden"]));
    browser
        .assert_clean(&[NOT_LOGGED_IN, "/api/v2/logs/purge"])
        .await;
    browser.close().await;
}
