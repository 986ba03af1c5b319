//! Another user's API tokens on the users page in Chromium: listed (never shown), one revoked
//! by an admin after a confirmation, and it stops working at once.

use dhis2gw::auth::Role;
use reqwest::Method;

use super::driver::Browser;
use super::{NOT_LOGGED_IN, log_in};
use crate::support::TestApp;
use crate::support::users::{api_token, create_user};

async fn me(app: &TestApp, token: &str) -> u16 {
    app.request(Method::GET, "/api/v2/me")
        .auth(format!("Token {token}"))
        .send()
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn console_admin_revokes_another_users_api_token() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let owner = create_user(&app, Role::Submitter).await;
    let token = api_token(&app, &owner).await;
    assert_eq!(me(&app, &token).await, 200);
    let (_, list) = app
        .request(Method::GET, &format!("/api/v2/users/{}/tokens", owner.uid))
        .auth(admin.basic())
        .status_and_json()
        .await;
    let id = list["items"][0]["id"].as_i64().unwrap();

    let browser = Browser::start("user_tokens", 1280).await;
    log_in(&browser, &app.address, "/admin/users", &admin).await;
    browser
        .click_css(&format!("button[data-tokens='{}']", owner.username))
        .await;
    browser
        .wait_text(&format!("[data-token-state='{id}']"), "live")
        .await;
    let shown = browser
        .eval("return document.querySelector('[data-testid=user-tokens]').textContent;")
        .await;
    assert!(
        !shown.as_str().unwrap().contains(&token),
        "the token itself is never shown"
    );
    browser
        .click_css(&format!("button[data-revoke='{id}']"))
        .await;
    browser
        .wait_text(
            "dialog[data-testid=confirm]",
            &format!("Revoke API token {id}"),
        )
        .await;
    browser.click_css("[data-testid=confirm-yes]").await;
    browser
        .wait_text(&format!("[data-token-state='{id}']"), "revoked")
        .await;
    browser.screenshot("revoked").await;
    assert_eq!(
        me(&app, &token).await,
        401,
        "the revoked token stops working"
    );
    assert_eq!(
        browser
            .all(&format!("button[data-revoke='{id}']"))
            .await
            .len(),
        0
    );
    browser.assert_clean(&[NOT_LOGGED_IN]).await;
    browser.close().await;
    app.stop().await;
}
