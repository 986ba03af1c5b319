//! Authentication schemes at the HTTP edge: Basic, Token and Bearer, each success and each
//! failure mode, the bcrypt → argon2id upgrade, token expiry and deactivated users. Sessions
//! (JWT, refresh), the login throttle, bootstrap and log hygiene are in `auth/`.

mod bootstrap;
mod cache;
mod log_hygiene;
mod sessions;
mod throttle;

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::Value;

use crate::support::TestApp;
use crate::support::users::{api_token, create_user, login, sql};

pub async fn get_me(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    app.request(Method::GET, "/api/v2/me")
        .auth_if(authorization)
        .send()
        .await
}

/// Asserts a 401 with the JSON body and the `WWW-Authenticate` header naming the schemes;
/// returns the body.
pub async fn assert_unauthorized(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 401);
    let challenge = response
        .headers()
        .get("www-authenticate")
        .expect("WWW-Authenticate")
        .to_str()
        .unwrap()
        .to_owned();
    for scheme in ["Basic", "Bearer", "Token"] {
        assert!(challenge.contains(scheme), "{challenge}");
    }
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["code"], "unauthorized");
    assert!(body["error"].is_string());
    body
}

#[tokio::test]
async fn basic_and_token_authenticate_and_me_shows_no_hash() {
    let app = TestApp::spawn().await;
    let user = create_user(&app, Role::Submitter).await;

    let response = get_me(&app, Some(&user.basic())).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["uid"], user.uid);
    assert_eq!(body["username"], user.username);
    assert_eq!(body["role"], "submitter");
    assert!(body["last_login"].is_string(), "{body}");
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );

    let token = api_token(&app, &user).await;
    let db = sql(&app).await;
    let (digest, used): (String, Option<chrono::DateTime<chrono::Utc>>) = {
        let row = db
            .query_one(
                "SELECT token_sha256, last_used_at FROM user_apitoken WHERE user_id = $1",
                &[&user.user_id],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_ne!(digest, token, "the token must be stored hashed");
    assert!(used.is_none());
    let response = get_me(&app, Some(&format!("Token {token}"))).await;
    assert_eq!(response.status(), 200);
    let used: Option<chrono::DateTime<chrono::Utc>> = db
        .query_one(
            "SELECT last_used_at FROM user_apitoken WHERE user_id = $1",
            &[&user.user_id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(used.is_some(), "last_used_at is kept");

    let session = login(&app, &user).await;
    let bearer = format!("Bearer {}", session["access_token"].as_str().unwrap());
    assert_eq!(get_me(&app, Some(&bearer)).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn missing_and_malformed_headers_are_401_never_500() {
    let app = TestApp::spawn().await;
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    assert_unauthorized(get_me(&app, None).await).await;
    for header in [
        "".to_owned(),
        "Basic".to_owned(),
        "Basic !!!not-base64!!!".to_owned(),
        format!("Basic {}", b64("no-colon-here")),
        format!("Basic {}", b64(":empty-user")),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, b':'])
        ),
        "Token".to_owned(),
        "Token    ".to_owned(),
        "Bearer".to_owned(),
        "Bearer not.a.jwt".to_owned(),
        "Digest username=x".to_owned(),
        "garbage".to_owned(),
        format!("Token {}", "0".repeat(40)),
    ] {
        let response = get_me(&app, Some(&header)).await;
        assert_unauthorized(response).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_the_same_401() {
    let app = TestApp::spawn().await;
    let user = create_user(&app, Role::Viewer).await;
    let mut wrong = user.clone();
    wrong.password = "not-the-password".into();
    let a = assert_unauthorized(get_me(&app, Some(&wrong.basic())).await).await;
    let mut unknown = user.clone();
    unknown.username = "nobody-here".into();
    let b = assert_unauthorized(get_me(&app, Some(&unknown.basic())).await).await;
    assert_eq!(a, b, "no hint whether the username exists");
    app.stop().await;
}

#[tokio::test]
async fn bcrypt_hashes_from_the_original_verify_and_are_upgraded_to_argon2id() {
    let app = TestApp::spawn().await;
    let db = sql(&app).await;
    for (name, prefix) in [("legacy-2b", "$2b$"), ("legacy-2a", "$2a$")] {
        // Go's bcrypt wrote $2a$ (cost 10), pgcrypto's gen_salt('bf') $2a$ (cost 6).
        let hash = bcrypt::hash("@dm1n-legacy", 6)
            .unwrap()
            .replacen("$2b$", prefix, 1);
        db.execute(
            "INSERT INTO users (username, password, role) VALUES ($1, $2, 'admin')",
            &[&name, &hash],
        )
        .await
        .unwrap();
        let header = |pw: &str| {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{name}:{pw}"))
            )
        };
        assert_unauthorized(get_me(&app, Some(&header("wrong"))).await).await;
        let stored: String = db
            .query_one("SELECT password FROM users WHERE username = $1", &[&name])
            .await
            .unwrap()
            .get(0);
        assert!(stored.starts_with(prefix), "a failed login changes nothing");

        assert_eq!(
            get_me(&app, Some(&header("@dm1n-legacy"))).await.status(),
            200
        );
        let stored: String = db
            .query_one("SELECT password FROM users WHERE username = $1", &[&name])
            .await
            .unwrap()
            .get(0);
        assert!(
            stored.starts_with("$argon2id$"),
            "upgraded: {}",
            &stored[..10]
        );
        assert_eq!(
            get_me(&app, Some(&header("@dm1n-legacy"))).await.status(),
            200
        );
        assert_unauthorized(get_me(&app, Some(&header("wrong"))).await).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn expired_and_revoked_api_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let user = create_user(&app, Role::Submitter).await;
    let db = sql(&app).await;
    let token = api_token(&app, &user).await;
    let header = format!("Token {token}");
    assert_eq!(get_me(&app, Some(&header)).await.status(), 200);

    db.execute(
        "UPDATE user_apitoken SET expires_at = now() - interval '1 second' WHERE user_id = $1",
        &[&user.user_id],
    )
    .await
    .unwrap();
    // The token was cached on first use; the change reaches the cache by NOTIFY, moments after
    // the commit.
    let mut response = get_me(&app, Some(&header)).await;
    for _ in 0..100 {
        if response.status() != 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        response = get_me(&app, Some(&header)).await;
    }
    let body = assert_unauthorized(response).await;
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    let second = api_token(&app, &user).await;
    db.execute(
        "UPDATE user_apitoken SET is_active = false WHERE user_id = $1",
        &[&user.user_id],
    )
    .await
    .unwrap();
    assert_unauthorized(get_me(&app, Some(&format!("Token {second}"))).await).await;
    app.stop().await;
}

#[tokio::test]
async fn a_deactivated_user_is_refused_by_every_scheme() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let user = create_user(&app, Role::Submitter).await;
    let token = format!("Token {}", api_token(&app, &user).await);
    let session = login(&app, &user).await;
    let bearer = format!("Bearer {}", session["access_token"].as_str().unwrap());
    for header in [&user.basic(), &token, &bearer] {
        assert_eq!(get_me(&app, Some(header)).await.status(), 200);
    }

    let path = format!("/api/v2/users/{}", user.uid);
    let response = app
        .request(Method::DELETE, &path)
        .auth(admin.basic())
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["is_active"], false);

    for header in [&user.basic(), &token, &bearer] {
        let body = assert_unauthorized(get_me(&app, Some(header)).await).await;
        assert!(
            body["error"].as_str().unwrap().contains("deactivated"),
            "{body}"
        );
    }
    let refreshed = app
        .request(Method::POST, "/api/v2/auth/refresh")
        .json(&serde_json::json!({"refresh_token": session["refresh_token"]}))
        .send()
        .await;
    assert_unauthorized(refreshed).await;
    app.stop().await;
}

#[tokio::test]
async fn a_role_outside_the_policy_gets_403_json() {
    let app = TestApp::spawn().await;
    let viewer = create_user(&app, Role::Viewer).await;
    let response = app
        .request(Method::GET, "/api/v2/users")
        .auth(viewer.basic())
        .send()
        .await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    // A path nobody gave a role decision is denied even to admins.
    let admin = create_user(&app, Role::Admin).await;
    let response = app
        .request(Method::GET, "/api/v2/no-such-route")
        .auth(admin.basic())
        .send()
        .await;
    assert_eq!(response.status(), 403);
    app.stop().await;
}
