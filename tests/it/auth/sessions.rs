//! JWT sessions: login, Bearer access, expiry, tampering, wrong secret, `alg: none`, refresh
//! rotation, reuse detection (revokes the family) and logout.

use dhis2gw::auth::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde_json::{Value, json};

use super::{assert_unauthorized, get_me};
use crate::support::users::{create_user, login};
use crate::support::{TestApp, test_settings};

const SECRET: &str = "a-test-secret-that-is-long-enough";

async fn app_with_secret() -> TestApp {
    let mut settings = test_settings().await;
    settings.auth.jwt_secret = SECRET.into();
    TestApp::spawn_with(settings).await
}

async fn refresh(app: &TestApp, token: &Value) -> reqwest::Response {
    app.request(Method::POST, "/api/v2/auth/refresh")
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
}

fn bearer(session: &Value) -> String {
    format!("Bearer {}", session["access_token"].as_str().unwrap())
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn login_answers_a_bearer_session_and_bad_logins_are_401() {
    let app = app_with_secret().await;
    let user = create_user(&app, Role::Viewer).await;
    let session = login(&app, &user).await;
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["user"]["uid"], user.uid);
    let expires_in = session["expires_in"].as_i64().unwrap();
    assert!((850..=900).contains(&expires_in), "{expires_in}");
    assert_eq!(session["refresh_token"].as_str().unwrap().len(), 64);
    assert_eq!(get_me(&app, Some(&bearer(&session))).await.status(), 200);

    let wrong = app
        .request(Method::POST, "/api/v2/auth/login")
        .json(&json!({"username": user.username, "password": "wrong-password"}))
        .send()
        .await;
    assert_unauthorized(wrong).await;
    for body in [json!({}), json!({"username": "x"}), json!("text")] {
        let response = app
            .request(Method::POST, "/api/v2/auth/login")
            .json(&body)
            .send()
            .await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].is_string());
    }
    app.stop().await;
}

#[tokio::test]
async fn expired_tampered_wrongly_signed_and_unsigned_jwts_are_401() {
    let app = app_with_secret().await;
    let user = create_user(&app, Role::Admin).await;
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| {
        json!({"sub": user.uid, "username": user.username, "role": "admin", "iss": "dhis2gw",
               "iat": now - 100, "exp": exp, "jti": "x"})
    };
    // Correctly signed and current: accepted, so the failures below are for their own reason.
    let good = sign(&claims(now + 60), SECRET);
    assert_eq!(
        get_me(&app, Some(&format!("Bearer {good}"))).await.status(),
        200
    );

    let expired = sign(&claims(now - 1), SECRET);
    let body = assert_unauthorized(get_me(&app, Some(&format!("Bearer {expired}"))).await).await;
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    let wrong_secret = sign(&claims(now + 60), "some-other-secret");
    assert_unauthorized(get_me(&app, Some(&format!("Bearer {wrong_secret}"))).await).await;

    // Payload swapped for another user's role, signature kept.
    let session = login(&app, &user).await;
    let token = session["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["exp"] = json!(now + 100_000);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    assert_unauthorized(get_me(&app, Some(&format!("Bearer {tampered}"))).await).await;

    let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!(
        "{none_header}.{}.",
        b64.encode(claims(now + 60).to_string())
    );
    assert_unauthorized(get_me(&app, Some(&format!("Bearer {unsigned}"))).await).await;

    // A token of a user that no longer exists.
    let mut ghost = claims(now + 60);
    ghost["sub"] = json!("Aaaaaaaaaaa");
    let ghost = sign(&ghost, SECRET);
    assert_unauthorized(get_me(&app, Some(&format!("Bearer {ghost}"))).await).await;
    app.stop().await;
}

#[tokio::test]
async fn without_a_configured_secret_tokens_do_not_survive_a_restart() {
    let settings = test_settings().await;
    assert!(settings.auth.jwt_secret.is_empty());
    let app = TestApp::spawn_with(settings.clone()).await;
    let user = create_user(&app, Role::Viewer).await;
    let session = login(&app, &user).await;
    assert_eq!(get_me(&app, Some(&bearer(&session))).await.status(), 200);
    // A token signed with any fixed secret (what an attacker could guess) is refused.
    let now = chrono::Utc::now().timestamp();
    let forged = sign(
        &json!({"sub": user.uid, "username": user.username, "role": "viewer", "iss": "dhis2gw",
                "iat": now, "exp": now + 60, "jti": "x"}),
        "",
    );
    assert_unauthorized(get_me(&app, Some(&format!("Bearer {forged}"))).await).await;
    app.stop().await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = app_with_secret().await;
    let user = create_user(&app, Role::Submitter).await;
    let first = login(&app, &user).await;
    let other_session = login(&app, &user).await;

    let response = refresh(&app, &first["refresh_token"]).await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(get_me(&app, Some(&bearer(&second))).await.status(), 200);

    // The first refresh token again: a replay. It fails and takes the family down with it.
    let replay = refresh(&app, &first["refresh_token"]).await;
    let body = assert_unauthorized(replay).await;
    assert!(
        body["error"].as_str().unwrap().contains("already used"),
        "{body}"
    );
    assert_unauthorized(refresh(&app, &second["refresh_token"]).await).await;

    // Another login of the same user is another family and still works.
    let response = refresh(&app, &other_session["refresh_token"]).await;
    assert_eq!(response.status(), 200);
    let third: Value = response.json().await.unwrap();

    // Logout ends that session.
    let out = app
        .request(Method::POST, "/api/v2/auth/logout")
        .json(&json!({"refresh_token": third["refresh_token"]}))
        .send()
        .await;
    assert_eq!(out.status(), 204);
    assert_unauthorized(refresh(&app, &third["refresh_token"]).await).await;
    let again = app
        .request(Method::POST, "/api/v2/auth/logout")
        .json(&json!({"refresh_token": "0".repeat(64)}))
        .send()
        .await;
    assert_unauthorized(again).await;
    assert_unauthorized(refresh(&app, &json!("not-a-token")).await).await;
    app.stop().await;
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = app_with_secret().await;
    let user = create_user(&app, Role::Viewer).await;
    let session = login(&app, &user).await;
    let db = crate::support::users::sql(&app).await;
    db.execute(
        "UPDATE refresh_tokens SET expires_at = now() - interval '1 second'",
        &[],
    )
    .await
    .unwrap();
    let body = assert_unauthorized(refresh(&app, &session["refresh_token"]).await).await;
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    app.stop().await;
}
