//! First start: the admin from `auth.initial_admin_password`, or a random password printed
//! once to the log; never a second admin, never a changed password on later starts.

use std::time::Duration;

use base64::Engine;
use dhis2gw::auth::Role;
use reqwest::Method;

use super::get_me;
use crate::support::process::{Daemon, config_file};
use crate::support::services::{migrated_database, services};
use crate::support::users::{TestUser, sql};
use crate::support::{TestApp, test_settings};

fn admin(password: &str) -> TestUser {
    TestUser {
        user_id: 0,
        uid: String::new(),
        username: "admin".into(),
        password: password.into(),
        role: Role::Admin,
    }
}

#[tokio::test]
async fn the_configured_initial_password_makes_one_admin_once() {
    let mut settings = test_settings().await;
    settings.auth.initial_admin_password = "first-start-secret".into();
    let app = TestApp::spawn_with(settings.clone()).await;
    let response = get_me(&app, Some(&admin("first-start-secret").basic())).await;
    assert_eq!(response.status(), 200);
    let me: serde_json::Value = response.json().await.unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["uid"].as_str().unwrap().len(), 11);
    app.stop().await;

    // A second start with another configured password changes nothing.
    settings.auth.initial_admin_password = "another-secret".into();
    let app = TestApp::spawn_with(settings).await;
    let db = sql(&app).await;
    let users: i64 = db
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 1);
    assert_eq!(
        get_me(&app, Some(&admin("first-start-secret").basic()))
            .await
            .status(),
        200
    );
    assert_eq!(
        get_me(&app, Some(&admin("another-secret").basic()))
            .await
            .status(),
        401
    );
    app.stop().await;
}

fn daemon_yaml(db: &str) -> String {
    format!(
        "database:\n  uri: {db}\nserver:\n  http_port: 0\n  redis_address: {}\n  queue_prefix: t{}\n  shutdown_grace_secs: 5\n",
        services().redis,
        uuid::Uuid::new_v4().simple()
    )
}

#[tokio::test]
async fn without_a_configured_password_a_random_one_is_logged_once() {
    let db = migrated_database().await;
    let config = config_file(&daemon_yaml(&db));
    let mut daemon = Daemon::start(config.path(), &[]);
    let line = daemon
        .wait_for_log("INITIAL ADMIN PASSWORD", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no password line; log:\n{}", daemon.log_text()));
    let password = line
        .split("password '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("password in quotes")
        .to_owned();
    assert_eq!(password.len(), 20);
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"))
    );
    let me = daemon
        .request(Method::GET, "/api/v2/me")
        .auth(&header)
        .send()
        .await;
    assert_eq!(me.status(), 200);
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0));

    let mut again = Daemon::start(config.path(), &[]);
    assert!(
        again
            .wait_for_log("INITIAL ADMIN PASSWORD", Duration::from_millis(500))
            .is_none(),
        "printed twice"
    );
    let me = again
        .request(Method::GET, "/api/v2/me")
        .auth(&header)
        .send()
        .await;
    assert_eq!(me.status(), 200);
}
