//! The login throttle: per user (recorded on the row: `failed_attempts`, `locked_until`) and per
//! client address, answered with 429 and `Retry-After`.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::json;

use super::{assert_unauthorized, get_me};
use crate::support::users::{TestUser, create_user, sql};
use crate::support::{TestApp, test_settings};

async fn app_with_limit(max: u32) -> TestApp {
    let mut settings = test_settings().await;
    settings.auth.login_max_failures = max;
    settings.auth.login_window_secs = 60;
    TestApp::spawn_with(settings).await
}

fn with_password(user: &TestUser, password: &str) -> TestUser {
    let mut other = user.clone();
    other.password = password.into();
    other
}

fn assert_throttled(response: &reqwest::Response) {
    assert_eq!(response.status(), 429);
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn repeated_failures_lock_the_user_then_a_success_resets_the_count() {
    let app = app_with_limit(3).await;
    let user = create_user(&app, Role::Submitter).await;
    let db = sql(&app).await;
    let wrong = with_password(&user, "wrong-password");

    assert_unauthorized(get_me(&app, Some(&wrong.basic())).await).await;
    let failures: i32 = db
        .query_one(
            "SELECT failed_attempts FROM users WHERE id = $1",
            &[&user.user_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failures, 1);
    // A success before the limit clears the count.
    assert_eq!(get_me(&app, Some(&user.basic())).await.status(), 200);
    let failures: i32 = db
        .query_one(
            "SELECT failed_attempts FROM users WHERE id = $1",
            &[&user.user_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failures, 0);

    // The address counts failures too; forget them so only the user's own lock is tested.
    let forget_address = || db.execute("DELETE FROM login_throttle", &[]);
    forget_address().await.unwrap();
    let other = create_user(&app, Role::Viewer).await;
    for _ in 0..3 {
        let guess = with_password(&other, "nope-nope");
        assert_unauthorized(get_me(&app, Some(&guess.basic())).await).await;
    }
    let row = db
        .query_one(
            "SELECT failed_attempts, locked_until > now() FROM users WHERE id = $1",
            &[&other.user_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 3);
    assert!(row.get::<_, bool>(1), "locked_until recorded");
    forget_address().await.unwrap();

    // Locked: even the right password is refused, on Basic and on /auth/login.
    let response = get_me(&app, Some(&other.basic())).await;
    assert_throttled(&response);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
    let response = app
        .request(Method::POST, "/api/v2/auth/login")
        .json(&json!({"username": other.username, "password": other.password}))
        .send()
        .await;
    assert_throttled(&response);

    // An API token of a locked user still works: the lock guards password guessing only.
    let token = crate::support::users::api_token(&app, &other).await;
    assert_eq!(
        get_me(&app, Some(&format!("Token {token}"))).await.status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_that_address() {
    let app = app_with_limit(4).await;
    let victim = create_user(&app, Role::Viewer).await;
    // Guessing across many usernames (none of which exist) from 127.0.0.1.
    for i in 0..4 {
        let mut guess = with_password(&victim, "guess");
        guess.username = format!("ghost{i}");
        assert_unauthorized(get_me(&app, Some(&guess.basic())).await).await;
    }
    let response = get_me(&app, Some(&victim.basic())).await;
    assert_throttled(&response);
    let db = sql(&app).await;
    let failures: i32 = db
        .query_one(
            "SELECT failures FROM login_throttle WHERE ip = '127.0.0.1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failures, 4);

    // The window passes: the address may try again.
    db.execute(
        "UPDATE login_throttle SET locked_until = now() - interval '1 second', \
         window_started = now() - interval '1 hour'",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(get_me(&app, Some(&victim.basic())).await.status(), 200);
    app.stop().await;
}
