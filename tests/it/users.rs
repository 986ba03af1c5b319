//! The users API: creation (both original routes), the filtered paginated list, partial
//! updates, password changes, deactivation. API tokens, the route × role matrix and the CLI are
//! in `users/`.

mod cli;
mod matrix;
mod tokens;

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::users::{TestUser, create_user, login};

/// A call as `user`; its status and JSON body, which must show no password or hash.
async fn as_user(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.request(method, path).auth(user.basic());
    if let Some(body) = &body {
        request = request.json(body);
    }
    let (status, body) = request.status_and_json().await;
    let text = body.to_string();
    assert!(
        !text.contains("$argon2") && !text.contains("$2b$") && !text.contains("\"password\":"),
        "a response shows a password or hash: {text}"
    );
    (status, body)
}

fn fields(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn admins_create_users_on_both_original_routes() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    // The original's body, camelCase keys and all.
    let (status, body) = as_user(
        &app,
        &admin,
        Method::POST,
        "/api/v2/user",
        Some(json!({"username": "dora", "password": "long-enough-pw", "firstName": "Dora",
                    "lastName": "Nabirye", "email": "dora@example.org", "telephone": "+256700000001",
                    "isActive": true, "isAdminUser": true})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], "User created successfully!");
    let uid = body["uid"].as_str().unwrap().to_owned();
    assert_eq!(uid.len(), 11);
    let (status, user) = as_user(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v2/users/{uid}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(user["firstname"], "Dora");
    assert_eq!(user["lastname"], "Nabirye");
    assert_eq!(user["email"], "dora@example.org");
    assert_eq!(user["telephone"], "+256700000001");
    assert_eq!(user["role"], "admin");
    assert_eq!(user["is_active"], true);
    // The new user can log in with the password given (the original hashed an empty string).
    let dora = TestUser {
        user_id: 0,
        uid,
        username: "dora".into(),
        password: "long-enough-pw".into(),
        role: Role::Admin,
    };
    login(&app, &dora).await;

    let (status, body) = as_user(
        &app,
        &admin,
        Method::POST,
        "/api/v2/users",
        Some(json!({"username": "eric", "password": "long-enough-pw", "role": "submitter"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["role"], "submitter");
    let (status, body) = as_user(
        &app,
        &admin,
        Method::POST,
        "/api/v2/users",
        Some(json!({"username": "fay", "password": "long-enough-pw"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["user"]["role"], "viewer", "least privilege by default");

    let (status, body) = as_user(
        &app,
        &admin,
        Method::POST,
        "/api/v2/users",
        Some(json!({"username": "eric", "password": "long-enough-pw"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict");
    app.stop().await;
}

#[tokio::test]
async fn bad_user_bodies_are_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let (status, body) = as_user(
        &app,
        &admin,
        Method::POST,
        "/api/v2/users",
        Some(json!({"username": "bad name!", "password": "short", "email": "not-an-email"})),
    )
    .await;
    // The body fits the schema; the account rules refuse it (422), every bad field at once.
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "validation_failed");
    let mut got = fields(&body);
    got.sort();
    assert_eq!(got, ["email", "password", "username"]);

    for bad in [
        json!({"username": "x"}),
        json!({"username": "x", "password": "long-enough-pw", "role": "root"}),
        json!([]),
    ] {
        let (status, body) = as_user(
            &app,
            &admin,
            Method::POST,
            "/api/v2/users",
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string());
    }
    app.stop().await;
}

#[tokio::test]
async fn the_list_filters_and_paginates_newest_first_without_hashes() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(create_user(&app, Role::Submitter).await);
    }
    let viewer = create_user(&app, Role::Viewer).await;

    // Bootstrap admin + admin + 3 submitters + viewer.
    let (status, page) = as_user(&app, &admin, Method::GET, "/api/v2/users", None).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 6);
    assert_eq!(page["page"], 1);
    assert_eq!(page["page_size"], 20);
    assert_eq!(page["total_pages"], 1);
    assert_eq!(page["items"][0]["uid"], viewer.uid, "newest first");

    let (_, page) = as_user(
        &app,
        &admin,
        Method::GET,
        "/api/v2/users?role=submitter&page_size=2&page=2",
        None,
    )
    .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["total_pages"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["uid"], made[0].uid);

    let path = format!("/api/v2/users?username={}", made[1].username);
    let (_, page) = as_user(&app, &admin, Method::GET, &path, None).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["uid"], made[1].uid);
    let path = format!("/api/v2/users?uid={}", made[2].uid);
    let (_, page) = as_user(&app, &admin, Method::GET, &path, None).await;
    assert_eq!(page["items"][0]["username"], made[2].username);
    let (_, page) = as_user(
        &app,
        &admin,
        Method::GET,
        "/api/v2/users?is_admin=true",
        None,
    )
    .await;
    assert_eq!(page["total"], 2);
    let (_, page) = as_user(
        &app,
        &admin,
        Method::GET,
        "/api/v2/users?is_active=false",
        None,
    )
    .await;
    assert_eq!(page["total"], 0);

    for bad in [
        "page=0",
        "page_size=0",
        "page_size=101",
        "page=x",
        "role=root",
    ] {
        let (status, body) = as_user(
            &app,
            &admin,
            Method::GET,
            &format!("/api/v2/users?{bad}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn put_changes_only_the_fields_given() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let user = create_user(&app, Role::Viewer).await;
    let path = format!("/api/v2/users/{}", user.uid);
    let (status, body) = as_user(
        &app,
        &admin,
        Method::PUT,
        &path,
        Some(json!({"firstName": "Grace", "email": "grace@example.org"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "User updated successfully");
    let (_, body) = as_user(
        &app,
        &admin,
        Method::PUT,
        &path,
        Some(json!({"telephone": "+2567"})),
    )
    .await;
    let u = &body["user"];
    assert_eq!(u["firstname"], "Grace");
    assert_eq!(u["email"], "grace@example.org");
    assert_eq!(u["telephone"], "+2567");
    assert_eq!(u["username"], user.username);
    assert_eq!(u["role"], "viewer");

    let (_, body) = as_user(
        &app,
        &admin,
        Method::PUT,
        &path,
        Some(json!({"email": null, "role": "submitter"})),
    )
    .await;
    assert_eq!(body["user"]["email"], Value::Null);
    assert_eq!(body["user"]["role"], "submitter");
    // The user's next request carries the new role.
    let (status, me) = as_user(&app, &user, Method::GET, "/api/v2/me", None).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("submitter")));

    let (status, body) = as_user(
        &app,
        &admin,
        Method::PUT,
        &path,
        Some(json!({"username": admin.username})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = as_user(
        &app,
        &admin,
        Method::PUT,
        &path,
        Some(json!({"email": "nope"})),
    )
    .await;
    assert_eq!((status, fields(&body)), (422, vec!["email".to_owned()]));
    let (status, body) = as_user(
        &app,
        &admin,
        Method::PUT,
        "/api/v2/users/Aaaaaaaaaaa",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "User not found");
    let own = format!("/api/v2/users/{}", admin.uid);
    let (status, _) = as_user(
        &app,
        &admin,
        Method::PUT,
        &own,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, 409, "an admin cannot demote itself");
    app.stop().await;
}

#[tokio::test]
async fn passwords_change_with_the_old_one_or_by_an_admin() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let mut user = create_user(&app, Role::Submitter).await;
    let other = create_user(&app, Role::Viewer).await;
    let path = format!("/api/v2/users/{}/password", user.uid);
    let session = login(&app, &user).await;

    for (body, field) in [
        (json!({"new_password": "brand-new-pw"}), "old_password"),
        (
            json!({"old_password": "wrong-old-pw", "new_password": "brand-new-pw"}),
            "old_password",
        ),
        (
            json!({"old_password": user.password, "new_password": "short"}),
            "new_password",
        ),
    ] {
        let (status, err) = as_user(&app, &user, Method::POST, &path, Some(body)).await;
        assert_eq!(
            (status, fields(&err)),
            (422, vec![field.to_owned()]),
            "{err}"
        );
    }
    let (status, body) = as_user(
        &app,
        &user,
        Method::POST,
        &path,
        Some(json!({"old_password": user.password, "new_password": "brand-new-pw"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = as_user(&app, &user, Method::GET, "/api/v2/me", None).await;
    assert_eq!(status, 401, "the old password no longer works");
    user.password = "brand-new-pw".into();
    let (status, _) = as_user(&app, &user, Method::GET, "/api/v2/me", None).await;
    assert_eq!(status, 200);
    // The password change ended the user's JWT sessions.
    let refreshed = app
        .request(Method::POST, "/api/v2/auth/refresh")
        .json(&json!({"refresh_token": session["refresh_token"]}))
        .send()
        .await;
    assert_eq!(refreshed.status(), 401);

    let others = format!("/api/v2/users/{}/password", other.uid);
    let (status, body) = as_user(
        &app,
        &user,
        Method::POST,
        &others,
        Some(json!({"old_password": "whatever-pw", "new_password": "taken-over-pw"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = as_user(
        &app,
        &admin,
        Method::POST,
        &others,
        Some(json!({"new_password": "set-by-admin"})),
    )
    .await;
    assert_eq!(status, 200);
    let mut other = other;
    other.password = "set-by-admin".into();
    let (status, _) = as_user(&app, &other, Method::GET, "/api/v2/me", None).await;
    assert_eq!(status, 200);
    // Admins too need the old password for their own.
    let own = format!("/api/v2/users/{}/password", admin.uid);
    let body = json!({"new_password": "admin-new-pw"});
    let (status, err) = as_user(&app, &admin, Method::POST, &own, Some(body)).await;
    assert_eq!(
        (status, fields(&err)),
        (422, vec!["old_password".to_owned()])
    );
    let (status, _) = as_user(
        &app,
        &admin,
        Method::POST,
        "/api/v2/users/Aaaaaaaaaaa/password",
        Some(json!({"new_password": "set-by-admin"})),
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn delete_deactivates_but_never_yourself() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let user = create_user(&app, Role::Viewer).await;
    let (status, body) = as_user(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v2/users/{}", user.uid),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["is_active"], false);
    let (_, listed) = as_user(
        &app,
        &admin,
        Method::GET,
        "/api/v2/users?is_active=false",
        None,
    )
    .await;
    assert_eq!(listed["items"][0]["uid"], user.uid, "the row stays");
    let (status, _) = as_user(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v2/users/{}", admin.uid),
        None,
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = as_user(
        &app,
        &admin,
        Method::DELETE,
        "/api/v2/users/Aaaaaaaaaaa",
        None,
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}
