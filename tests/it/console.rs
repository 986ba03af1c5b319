//! The browser console at /admin, end to end in a real headless Chromium (driven through
//! chromedriver, see `console/driver.rs`) against the real app on port 0, plus its session,
//! CSRF and asset rules checked over plain HTTP.

mod alerts;
mod driver;
mod http;
mod mappings;
mod requeue;
mod rules;
mod session;
mod submissions;
mod tokens;

use crate::support::users::TestUser;
use driver::Browser;

/// The 401 the page's session check gets before anyone has logged in: expected in the log.
const NOT_LOGGED_IN: &str = "/admin/auth/session";

/// Opens the console at `path` and logs in as `user`; returns once the navigation shows.
async fn log_in(browser: &Browser, base: &str, path: &str, user: &TestUser) {
    browser.goto(&format!("{base}{path}")).await;
    browser
        .type_into(
            "form[data-testid=login] input[name=username]",
            &user.username,
        )
        .await;
    browser
        .type_into(
            "form[data-testid=login] input[name=password]",
            &user.password,
        )
        .await;
    browser
        .click_css("form[data-testid=login] button[type=submit]")
        .await;
    browser
        .wait_text("[data-testid=who]", &format!("({})", user.role.as_str()))
        .await;
}

/// How many write controls (buttons, selects and forms marked `.write`) the page shows.
async fn write_controls(browser: &Browser) -> usize {
    browser.all(".write").await.len()
}
