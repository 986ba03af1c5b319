//! The login throttle: failed password logins counted per (username, client address) together
//! (the `login_throttle` table), slowed before they are refused, refused with 401 `login_locked`, `Retry-After`
//! and the JSON error body. A stranger's failures never block a correct credential from another
//! address, and API tokens and JWTs are never throttled.

use std::net::IpAddr;
use std::time::Instant;

use dhis2gw::auth::Role;
use dhis2gw::auth::login_throttle::delay_after;
use reqwest::Method;
use serde_json::{Value, json};

use super::{assert_unauthorized, get_me};
use crate::support::http::ApiRequest;
use crate::support::users::{TestUser, api_token, create_user, login, sql};
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

/// A client whose connections come from `local` (any 127.0.0.0/8 address reaches the app).
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn me_from(app: &TestApp, client: &reqwest::Client, authorization: &str) -> ApiRequest {
    ApiRequest::new(client, &app.address, Method::GET, "/api/v2/me").auth(authorization)
}

/// Asserts a locked pair's 401 (`login_locked`) with `Retry-After` within the lock (at most `auth.login_window_secs`, the
/// tests' 60 s unless `window` says otherwise) and the JSON error body.
async fn assert_throttled(response: reqwest::Response) -> Value {
    assert_throttled_within(response, 60).await
}

async fn assert_throttled_within(response: reqwest::Response, window: u64) -> Value {
    assert_eq!(response.status(), 401);
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=window).contains(&retry), "{retry}");
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["code"], "login_locked", "{body}");
    assert!(body["error"].is_string(), "{body}");
    // `details` is optional in the schema and only present for per-field problems.
    assert!(body.get("details").is_none_or(Value::is_array), "{body}");
    body
}

async fn throttle_row(app: &TestApp, username: &str, ip: &str) -> Option<(i32, bool)> {
    sql(app)
        .await
        .query_opt(
            "SELECT failures, coalesce(locked_until > now(), false) FROM login_throttle \
             WHERE username = $1 AND ip = $2",
            &[&username, &ip],
        )
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1)))
}

#[tokio::test]
async fn failures_slow_then_lock_the_pair_and_a_success_resets_the_count() {
    let app = app_with_limit(3).await;
    let user = create_user(&app, Role::Submitter).await;
    let wrong = with_password(&user, "wrong-password");

    assert_unauthorized(get_me(&app, Some(&wrong.basic())).await).await;
    assert_eq!(
        throttle_row(&app, &user.username, "127.0.0.1").await,
        Some((1, false))
    );
    // A success before the limit forgets the pair's failures (and waited for the first one).
    let started = Instant::now();
    assert_eq!(get_me(&app, Some(&user.basic())).await.status(), 200);
    assert!(
        started.elapsed() >= delay_after(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(throttle_row(&app, &user.username, "127.0.0.1").await, None);

    let other = create_user(&app, Role::Viewer).await;
    let guess = with_password(&other, "nope-nope");
    for n in 0..3 {
        let started = Instant::now();
        assert_unauthorized(get_me(&app, Some(&guess.basic())).await).await;
        // Slowed before refused: each attempt after a failure waits longer.
        assert!(
            started.elapsed() >= delay_after(n),
            "attempt {n}: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        throttle_row(&app, &other.username, "127.0.0.1").await,
        Some((3, true))
    );

    // Locked: even the right password is refused from this address, on Basic and on
    // /auth/login; no more failures are counted.
    assert_throttled(get_me(&app, Some(&other.basic())).await).await;
    assert_throttled(
        app.request(Method::POST, "/api/v2/auth/login")
            .json(&json!({"username": other.username, "password": other.password}))
            .send()
            .await,
    )
    .await;
    assert_throttled(get_me(&app, Some(&guess.basic())).await).await;
    assert_eq!(
        throttle_row(&app, &other.username, "127.0.0.1").await,
        Some((3, true))
    );

    // An API token of a locked user still works: the lock guards password guessing only.
    let token = api_token(&app, &other).await;
    assert_eq!(
        get_me(&app, Some(&format!("Token {token}"))).await.status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn each_name_tried_from_an_address_is_counted_and_the_window_ends_a_lock() {
    let app = app_with_limit(2).await;
    let victim = create_user(&app, Role::Viewer).await;
    // Guessing across many usernames (none of which exist) from 127.0.0.1: each name counts
    // for itself, so unknown names behave like real ones (no hint which exist).
    for i in 0..4 {
        let mut guess = with_password(&victim, "guess");
        guess.username = format!("ghost{i}");
        assert_unauthorized(get_me(&app, Some(&guess.basic())).await).await;
        assert_unauthorized(get_me(&app, Some(&guess.basic())).await).await;
        assert_throttled(get_me(&app, Some(&guess.basic())).await).await;
        assert_eq!(
            throttle_row(&app, &guess.username, "127.0.0.1").await,
            Some((2, true))
        );
    }
    // Others' locks on the same address do not touch the victim's own name.
    assert_eq!(get_me(&app, Some(&victim.basic())).await.status(), 200);

    // The victim's own name, locked from here...
    let wrong = with_password(&victim, "wrong");
    for _ in 0..2 {
        assert_unauthorized(get_me(&app, Some(&wrong.basic())).await).await;
    }
    assert_throttled(get_me(&app, Some(&victim.basic())).await).await;
    // ...until the window passes: then the pair may try again.
    sql(&app)
        .await
        .execute(
            "UPDATE login_throttle SET locked_until = now() - interval '1 second', \
             last_failed_at = now() - interval '1 hour'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(get_me(&app, Some(&victim.basic())).await.status(), 200);
    assert_eq!(
        throttle_row(&app, &victim.username, "127.0.0.1").await,
        None
    );
    app.stop().await;
}

#[tokio::test]
async fn a_strangers_failures_from_one_address_never_block_the_admin_from_another() {
    // The shipped limits (5 failures, 900 s).
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let stranger = client_from("127.0.0.2");
    let own = client_from("127.0.0.3");
    let guess = with_password(&admin, "not-the-password");
    let max = app.settings.auth.login_max_failures as usize;

    let mut statuses = Vec::new();
    for _ in 0..50 {
        let response = me_from(&app, &stranger, &guess.basic()).send().await;
        statuses.push(response.status().as_u16());
    }
    let expected: Vec<u16> = std::iter::repeat_n(401, max)
        .chain(std::iter::repeat_n(401, 50 - max))
        .collect();
    assert_eq!(statuses, expected);
    assert_eq!(
        throttle_row(&app, &admin.username, "127.0.0.2").await,
        Some((max as i32, true))
    );
    // The right password from the stranger's address is refused too: that pair is locked.
    let window = app.settings.auth.login_window_secs;
    assert_throttled_within(
        me_from(&app, &stranger, &admin.basic()).send().await,
        window,
    )
    .await;

    // The admin from its own address: answered, by Basic and by a JWT login.
    let response = me_from(&app, &own, &admin.basic()).send().await;
    assert_eq!(response.status(), 200);
    let (status, session) = ApiRequest::new(&own, &app.address, Method::POST, "/api/v2/auth/login")
        .json(&json!({"username": admin.username, "password": admin.password}))
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(throttle_row(&app, &admin.username, "127.0.0.3").await, None);
    app.stop().await;
}

#[tokio::test]
async fn valid_api_tokens_and_jwts_are_never_throttled() {
    let app = app_with_limit(2).await;
    let user = create_user(&app, Role::Submitter).await;
    let token = format!("Token {}", api_token(&app, &user).await);
    let session = login(&app, &user).await;
    let bearer = format!("Bearer {}", session["access_token"].as_str().unwrap());

    // Lock the user's password from this very address.
    let wrong = with_password(&user, "wrong");
    for _ in 0..2 {
        assert_unauthorized(get_me(&app, Some(&wrong.basic())).await).await;
    }
    assert_throttled(get_me(&app, Some(&user.basic())).await).await;
    // Bad tokens and bad JWTs are 401 however many, and count nothing.
    for _ in 0..30 {
        let bad_token = format!("Token {}", "0".repeat(40));
        assert_unauthorized(get_me(&app, Some(&bad_token)).await).await;
        assert_unauthorized(get_me(&app, Some("Bearer not.a.jwt")).await).await;
    }
    // The valid token and JWT of the locked user are answered.
    for header in [&token, &bearer] {
        for _ in 0..5 {
            assert_eq!(get_me(&app, Some(header)).await.status(), 200);
        }
    }
    let rows: i64 = sql(&app)
        .await
        .query_one("SELECT count(*) FROM login_throttle", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "only the password pair is counted");
    app.stop().await;
}
