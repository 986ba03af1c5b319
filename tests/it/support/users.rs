//! Users for tests, made straight through the library (no HTTP): `create_user(&app, Role::…)`
//! and the headers to authenticate as them.

use base64::Engine;
use dhis2gw::auth::accounts::{self, NewAccount};
use dhis2gw::auth::{Role, api_tokens};
use dhis2gw::db::Pool;

use super::TestApp;

/// A user that exists in the test app's database, with its plain password.
#[allow(dead_code)] // fields used by some test modules only
#[derive(Debug, Clone)]
pub struct TestUser {
    pub user_id: i64,
    pub uid: String,
    pub username: String,
    pub password: String,
    pub role: Role,
}

impl TestUser {
    /// The full `Authorization` header value: `Basic base64(username:password)`.
    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// A pool on the test app's database.
pub fn pool(app: &TestApp) -> Pool {
    dhis2gw::db::connect(&app.settings.database).expect("pool on the test database")
}

/// Creates an active user with the given role and a random name and password.
pub async fn create_user(app: &TestApp, role: Role) -> TestUser {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let username = format!("{}-{}", role.as_str(), &suffix[..8]);
    let password = format!("pw-{suffix}");
    create_named_user(app, role, &username, &password).await
}

/// Creates an active user with the given name and password.
pub async fn create_named_user(
    app: &TestApp,
    role: Role,
    username: &str,
    password: &str,
) -> TestUser {
    let pool = pool(app);
    let user = accounts::create(
        &pool,
        NewAccount {
            username: username.to_owned(),
            password: password.to_owned(),
            role: Some(role),
            is_active: true,
            ..Default::default()
        },
    )
    .await
    .expect("create test user");
    pool.close();
    TestUser {
        user_id: user.id,
        uid: user.uid,
        username: user.username,
        password: password.to_owned(),
        role,
    }
}

/// A fresh API token of the user (the plain 40-hex token; send it as `Token <token>`).
pub async fn api_token(app: &TestApp, user: &TestUser) -> String {
    let pool = pool(app);
    let issued = api_tokens::issue_additional(&pool, user.user_id, Some(1))
        .await
        .expect("issue API token");
    pool.close();
    issued.token
}

/// A plain connection to the test app's database, for checks and for planting old data.
pub async fn sql(app: &TestApp) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(conn);
    client
}

/// Logs in over HTTP; returns the session JSON (`access_token`, `refresh_token`, …).
pub async fn login(app: &TestApp, user: &TestUser) -> serde_json::Value {
    let response = app
        .request(reqwest::Method::POST, "/api/v2/auth/login")
        .json(&serde_json::json!({"username": user.username, "password": user.password}))
        .send()
        .await;
    assert_eq!(response.status(), 200, "login of {}", user.username);
    response.json().await.expect("session JSON")
}
