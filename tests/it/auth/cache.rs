//! The in-memory cache of users and API tokens behind `Bearer` and `Token`: it is used (a change
//! that sends no notification is not seen), and a change made by another process reaches it
//! through `NOTIFY dhis2gw_auth` (V6 triggers).

use std::time::Duration;

use dhis2gw::auth::Role;

use super::{assert_unauthorized, get_me};
use crate::support::TestApp;
use crate::support::users::{api_token, create_user, login, sql};

/// Waits until the app's notification listener holds its `LISTEN` (the cache is on only then).
async fn wait_for_listener(db: &tokio_postgres::Client) {
    for _ in 0..100 {
        let listening: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN %dhis2gw_auth%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if listening > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the notification listener never connected");
}

/// Polls `GET /api/v2/me` with `authorization` until it is refused; panics after 5 s.
async fn refused_within_moments(app: &TestApp, authorization: &str) {
    for _ in 0..100 {
        let response = get_me(app, Some(authorization)).await;
        if response.status() != 200 {
            assert_unauthorized(response).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{authorization:.12}… still accepted 5 s after the change");
}

/// Whether a request with `authorization` is still accepted after the user was deactivated with
/// the trigger disabled (no notification): only a cached user explains that. One attempt can be
/// spoiled by a late notification of an earlier change emptying the cache between the filling
/// request and the check, so it tries a few times; a cache that is never used fails them all.
async fn served_from_cache(
    app: &TestApp,
    db: &tokio_postgres::Client,
    uid: &str,
    authorization: &str,
) -> bool {
    for _ in 0..5 {
        db.execute("UPDATE users SET is_active = true WHERE uid = $1", &[&uid])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(get_me(app, Some(authorization)).await.status(), 200);
        db.batch_execute(&format!(
            "ALTER TABLE users DISABLE TRIGGER users_changed; \
             UPDATE users SET is_active = false WHERE uid = '{uid}'; \
             ALTER TABLE users ENABLE TRIGGER users_changed"
        ))
        .await
        .unwrap();
        if get_me(app, Some(authorization)).await.status() == 200 {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn a_user_changed_by_another_process_is_refused_once_the_notification_arrives() {
    let app = TestApp::spawn().await;
    let db = sql(&app).await;
    wait_for_listener(&db).await;
    let user = create_user(&app, Role::Submitter).await;
    let session = login(&app, &user).await;
    let bearer = format!("Bearer {}", session["access_token"].as_str().unwrap());
    let token = format!("Token {}", api_token(&app, &user).await);

    // Without the trigger no notification is sent: the cached user keeps working, which shows
    // requests do not read the table.
    for header in [&bearer, &token] {
        assert!(
            served_from_cache(&app, &db, &user.uid, header).await,
            "{header:.12}… was never served from the cache"
        );
    }

    // Any change to users notifies; the next requests read the deactivated row.
    db.execute(
        "UPDATE users SET updated = now() WHERE uid = $1",
        &[&user.uid],
    )
    .await
    .unwrap();
    refused_within_moments(&app, &bearer).await;
    refused_within_moments(&app, &token).await;
    app.stop().await;
}

#[tokio::test]
async fn a_token_revoked_by_another_process_is_refused_once_the_notification_arrives() {
    let app = TestApp::spawn().await;
    let db = sql(&app).await;
    wait_for_listener(&db).await;
    let user = create_user(&app, Role::Submitter).await;
    let token = format!("Token {}", api_token(&app, &user).await);
    assert_eq!(get_me(&app, Some(&token)).await.status(), 200);

    db.execute(
        "UPDATE user_apitoken SET is_active = false WHERE user_id = \
           (SELECT id FROM users WHERE uid = $1)",
        &[&user.uid],
    )
    .await
    .unwrap();
    refused_within_moments(&app, &token).await;
    app.stop().await;
}
