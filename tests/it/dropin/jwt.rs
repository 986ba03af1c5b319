//! With `auth.jwt_secret` empty, the secret is made once and kept in PostgreSQL: two instances
//! on one database accept each other's JWTs (and a restart keeps them valid); an instance on
//! another database does not.

use dhis2gw::auth::Role;
use reqwest::Method;

use crate::support::users::{create_user, login};
use crate::support::{TestApp, test_settings};

async fn me(app: &TestApp, jwt: &str) -> u16 {
    app.request(Method::GET, "/api/v2/me")
        .auth(format!("Bearer {jwt}"))
        .send()
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_jwt_from_one_instance_is_accepted_by_another_on_the_same_database() {
    let settings = test_settings().await;
    assert!(settings.auth.jwt_secret.is_empty());
    let first = TestApp::spawn_with(settings.clone()).await;
    let second = TestApp::spawn_with(settings.clone()).await;
    let user = create_user(&first, Role::Viewer).await;
    let session = login(&first, &user).await;
    let jwt = session["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&first, &jwt).await, 200);
    assert_eq!(
        me(&second, &jwt).await,
        200,
        "the other instance accepts it"
    );
    // And the other way round.
    let session = login(&second, &user).await;
    let other_jwt = session["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&first, &other_jwt).await, 200);

    // A restart keeps the secret.
    first.stop().await;
    second.stop().await;
    let restarted = TestApp::spawn_with(settings.clone()).await;
    assert_eq!(me(&restarted, &jwt).await, 200);

    // Another database has its own secret: the token means nothing there.
    let elsewhere = TestApp::spawn().await;
    assert_eq!(me(&elsewhere, &jwt).await, 401);
    restarted.stop().await;
    elsewhere.stop().await;
}

#[tokio::test]
async fn a_configured_secret_wins_over_the_stored_one() {
    let mut settings = test_settings().await;
    let stored = TestApp::spawn_with(settings.clone()).await;
    settings.auth.jwt_secret = "a-secret-from-the-config-file-0123456789".into();
    let configured = TestApp::spawn_with(settings.clone()).await;
    let user = create_user(&stored, Role::Viewer).await;
    let jwt = login(&configured, &user).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me(&configured, &jwt).await, 200);
    assert_eq!(me(&stored, &jwt).await, 401, "signed with another secret");
    stored.stop().await;
    configured.stop().await;
}
