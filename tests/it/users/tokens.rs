//! API tokens over HTTP: `getToken` (201, 40 hex, 365 days, replaces the others) and
//! `refreshToken` (new token stored before the old one is revoked; 404 without a live token).

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::Value;

use crate::support::users::create_user;
use crate::support::{TestApp, test_settings};

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.request(Method::GET, "/api/v2/me")
        .auth(format!("Token {token}"))
        .send()
        .await
        .status()
        .as_u16()
}

fn days_until(body: &Value) -> i64 {
    let expires: chrono::DateTime<chrono::Utc> = body["expires"].as_str().unwrap().parse().unwrap();
    (expires - chrono::Utc::now()).num_hours().div_euclid(24) + 1
}

#[tokio::test]
async fn get_token_issues_a_40_hex_token_for_365_days_and_replaces_the_old_one() {
    let app = TestApp::spawn().await;
    let user = create_user(&app, Role::Viewer).await;
    let response = app
        .request(Method::POST, "/api/v2/users/getToken")
        .auth(user.basic())
        .send()
        .await;
    assert_eq!(response.status(), 201);
    let first: Value = response.json().await.unwrap();
    assert_eq!(first["message"], "Token created successfully");
    let token = first["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 40);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(days_until(&first), 365);
    assert_eq!(me_status(&app, &token).await, 200);

    // Asked for again with the token itself: a new one, and the first stops working.
    let response = app
        .request(Method::POST, "/api/v2/users/getToken")
        .auth(format!("Token {token}"))
        .send()
        .await;
    assert_eq!(response.status(), 201);
    let second: Value = response.json().await.unwrap();
    let second = second["token"].as_str().unwrap().to_owned();
    assert_ne!(second, token);
    assert_eq!(me_status(&app, &second).await, 200);
    assert_eq!(me_status(&app, &token).await, 401);
    app.stop().await;
}

#[tokio::test]
async fn refresh_token_rotates_and_is_404_without_a_live_token() {
    let mut settings = test_settings().await;
    settings.auth.api_token_ttl_days = 30;
    let app = TestApp::spawn_with(settings).await;
    let user = create_user(&app, Role::Submitter).await;

    let response = app
        .request(Method::POST, "/api/v2/users/refreshToken")
        .auth(user.basic())
        .send()
        .await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "No active token found to refresh");

    let got: Value = app
        .request(Method::POST, "/api/v2/users/getToken")
        .auth(user.basic())
        .send()
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(days_until(&got), 30, "auth.api_token_ttl_days");
    let old = got["token"].as_str().unwrap().to_owned();
    let response = app
        .request(Method::POST, "/api/v2/users/refreshToken")
        .auth(format!("Token {old}"))
        .send()
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Token refreshed successfully");
    let new = body["token"].as_str().unwrap().to_owned();
    assert_eq!(new.len(), 40);
    assert_eq!(me_status(&app, &new).await, 200);
    assert_eq!(me_status(&app, &old).await, 401);

    // An expired token is not a live one.
    let db = crate::support::users::sql(&app).await;
    db.execute(
        "UPDATE user_apitoken SET expires_at = now() - interval '1 minute'",
        &[],
    )
    .await
    .unwrap();
    let response = app
        .request(Method::POST, "/api/v2/users/refreshToken")
        .auth(user.basic())
        .send()
        .await;
    assert_eq!(response.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn an_admin_lists_and_revokes_another_users_api_tokens() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;
    let owner = create_user(&app, Role::Submitter).await;
    let first = crate::support::users::api_token(&app, &owner).await;
    let second = crate::support::users::api_token(&app, &owner).await;
    assert_eq!(me_status(&app, &first).await, 200);

    let list_path = format!("/api/v2/users/{}/tokens", owner.uid);
    let (status, list) = app
        .request(Method::GET, &list_path)
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["username"], owner.username.as_str());
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert!(items.iter().all(|t| t["is_active"] == true));
    assert!(
        !list.to_string().contains(&first) && !list.to_string().contains(&second),
        "the tokens themselves are never shown"
    );
    // Newest first: the second token issued is the first listed.
    let (newest, oldest) = (
        items[0]["id"].as_i64().unwrap(),
        items[1]["id"].as_i64().unwrap(),
    );
    assert!(newest > oldest);

    // Revoke the older one: it stops working at once, the other keeps working.
    let revoke = format!("/api/v2/users/{}/tokens/{oldest}", owner.uid);
    let (status, body) = app
        .request(Method::DELETE, &revoke)
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    assert_eq!(me_status(&app, &first).await, 401);
    assert_eq!(me_status(&app, &second).await, 200);
    let (_, list) = app
        .request(Method::GET, &list_path)
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(list["items"][1]["is_active"], false, "{list}");
    assert_eq!(list["items"][0]["is_active"], true, "{list}");
    // Again: the same answer, nothing else changes.
    let (status, body) = app
        .request(Method::DELETE, &revoke)
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("already"),
        "{body}"
    );

    // Another user's token id under this user, an unknown user: 404.
    let admins_token = crate::support::users::api_token(&app, &admin).await;
    assert_eq!(me_status(&app, &admins_token).await, 200);
    let (_, admin_list) = app
        .request(Method::GET, &format!("/api/v2/users/{}/tokens", admin.uid))
        .auth(admin.basic())
        .status_and_json()
        .await;
    let admins_id = admin_list["items"][0]["id"].as_i64().unwrap();
    let (status, _) = app
        .request(
            Method::DELETE,
            &format!("/api/v2/users/{}/tokens/{admins_id}", owner.uid),
        )
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 404, "a token is revoked only under its own user");
    assert_eq!(me_status(&app, &admins_token).await, 200);
    let (status, _) = app
        .request(Method::GET, "/api/v2/users/nosuchuser1/tokens")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 404);

    // Roles: anonymous 401; viewer and the owner itself (a submitter) 403, nothing revoked.
    let newest_path = format!("/api/v2/users/{}/tokens/{newest}", owner.uid);
    for (auth, expected) in [
        (None, 401),
        (Some(viewer.basic()), 403),
        (Some(owner.basic()), 403),
    ] {
        for (method, path) in [(Method::GET, &list_path), (Method::DELETE, &newest_path)] {
            let status = app
                .request(method.clone(), path)
                .auth_if(auth.as_deref())
                .send()
                .await
                .status();
            assert_eq!(status, expected, "{method} {path} as {auth:?}");
        }
    }
    assert_eq!(me_status(&app, &second).await, 200);
    app.stop().await;
}
