//! Authentication schemes at the HTTP edge: Basic, Token and Bearer, each success and each
//! failure mode, the login throttle, and the first-start admin.

use dhis2gw::auth::Role;
use serde_json::Value;

use crate::support::TestApp;
use crate::support::users::{api_token, create_user};

async fn get_me(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url("/api/v2/me"));
    if let Some(value) = authorization {
        req = req.header("Authorization", value);
    }
    req.send().await.expect("GET /api/v2/me")
}

/// Asserts a 401 with the JSON body and the `WWW-Authenticate` header naming the schemes.
async fn assert_unauthorized(response: reqwest::Response) -> Value {
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
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );

    let token = api_token(&app, &user).await;
    let response = get_me(&app, Some(&format!("Token {token}"))).await;
    assert_eq!(response.status(), 200);
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
        "Token".to_owned(),
        "Token    ".to_owned(),
        "Bearer".to_owned(),
        "Bearer not.a.jwt".to_owned(),
        "Digest username=x".to_owned(),
        "garbage".to_owned(),
        format!("Token {}", "0".repeat(40)),
    ] {
        let response = get_me(&app, Some(&header)).await;
        let body = assert_unauthorized(response).await;
        assert!(body["error"].is_string(), "{header:?}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_role_outside_the_policy_gets_403_json() {
    let app = TestApp::spawn().await;
    let viewer = create_user(&app, Role::Viewer).await;
    let response = app
        .client
        .get(app.url("/api/v2/users"))
        .header("Authorization", viewer.basic())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    app.stop().await;
}
