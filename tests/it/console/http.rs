//! The console's server side over plain HTTP: the cookie's attributes, CSRF on every write
//! made with the cookie, logins from other origins, the Authorization header winning over the
//! cookie, the embedded assets' headers, the logs' keyset cursor and the queue stats.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::http::status_and_json;
use crate::support::pipeline::{DATA_SET, Env, ORG_UNIT, aggregate_body};
use crate::support::users::{TestUser, create_user};

/// Logs in through the console's login route; returns (cookie pair, CSRF token, Set-Cookie).
async fn console_login(app: &TestApp, user: &TestUser) -> (String, String, String) {
    let resp = app
        .request(Method::POST, "/admin/auth/login")
        .json(&json!({"username": user.username, "password": user.password}))
        .send()
        .await;
    let set_cookie = resp
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = status_and_json(resp).await;
    assert_eq!(status, 200, "{body}");
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    (
        pair,
        body["csrf_token"].as_str().unwrap().to_owned(),
        set_cookie,
    )
}

#[tokio::test]
async fn console_cookie_is_http_only_strict_and_secure_behind_https() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let (pair, _, set_cookie) = console_login(&app, &admin).await;
    assert!(
        pair.starts_with("dhis2gw_session=") && pair.len() > 40,
        "{pair}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let resp = app
        .request(Method::POST, "/admin/auth/login")
        .header("X-Forwarded-Proto", "https")
        .json(&json!({"username": admin.username, "password": admin.password}))
        .send()
        .await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[tokio::test]
async fn console_writes_need_the_sessions_csrf_token() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let (cookie, csrf, _) = console_login(&app, &admin).await;

    // Reads need only the cookie.
    let (status, me) = app
        .request(Method::GET, "/api/v2/me")
        .header("Cookie", &cookie)
        .status_and_json()
        .await;
    assert_eq!(
        (status, me["username"].as_str()),
        (200, Some(admin.username.as_str()))
    );

    let write = |token: Option<&str>| {
        let mut req = app
            .request(Method::POST, "/api/v2/users")
            .header("Cookie", &cookie)
            .json(&json!({"username": format!("u{}", uuid::Uuid::new_v4().simple()), "password": "long enough", "role": "viewer"}));
        if let Some(token) = token {
            req = req.header("X-CSRF-Token", token);
        }
        req.status_and_json()
    };
    let (status, body) = write(None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("csrf_token_invalid")),
        "{body}"
    );
    let (status, _) = write(Some("0".repeat(64).as_str())).await;
    assert_eq!(status, 403);
    let (status, body) = write(Some(&csrf)).await;
    assert_eq!(status, 201, "{body}");

    // Another session's token does not open this one.
    let (_, other_csrf, _) = console_login(&app, &admin).await;
    assert_ne!(other_csrf, csrf);
    assert_eq!(write(Some(&other_csrf)).await.0, 403);

    // Logging out needs the token too, and ends the session.
    let resp = app
        .request(Method::POST, "/admin/auth/logout")
        .header("Cookie", &cookie)
        .send()
        .await;
    assert_eq!(resp.status(), 403);
    let resp = app
        .request(Method::POST, "/admin/auth/logout")
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await;
    assert_eq!(resp.status(), 204);
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, body) = app
        .request(Method::GET, "/api/v2/me")
        .header("Cookie", &cookie)
        .status_and_json()
        .await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn console_sessions_end_when_the_password_is_reset_or_the_user_disabled() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;
    let me = |cookie: String| {
        let app = &app;
        async move {
            app.request(Method::GET, "/api/v2/me")
                .header("Cookie", cookie)
                .status_and_json()
                .await
                .0
        }
    };
    let (cookie, _, _) = console_login(&app, &viewer).await;
    assert_eq!(me(cookie.clone()).await, 200);
    let (status, body) = app
        .request(
            Method::POST,
            &format!("/api/v2/users/{}/password", viewer.uid),
        )
        .auth(admin.basic())
        .json(&json!({"new_password": "a brand new password"}))
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        me(cookie).await,
        401,
        "a password reset ends console sessions"
    );

    let viewer = TestUser {
        password: "a brand new password".into(),
        ..viewer
    };
    let (cookie, _, _) = console_login(&app, &viewer).await;
    assert_eq!(me(cookie.clone()).await, 200);
    let (status, _) = app
        .request(Method::DELETE, &format!("/api/v2/users/{}", viewer.uid))
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        me(cookie).await,
        401,
        "a disabled user's session stops at once"
    );
}

#[tokio::test]
async fn console_login_from_another_origin_is_refused_and_a_header_beats_the_cookie() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;
    let resp = app
        .request(Method::POST, "/admin/auth/login")
        .header("Origin", "https://evil.example")
        .json(&json!({"username": admin.username, "password": admin.password}))
        .send()
        .await;
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("set-cookie").is_none());
    // A form post (not JSON) is refused before any password is checked.
    let resp = app
        .request(Method::POST, "/admin/auth/login")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={}&password={}",
            admin.username, admin.password
        ))
        .send()
        .await;
    assert_eq!(resp.status(), 400);

    // An admin's cookie beside a viewer's Basic credentials: the header decides.
    let (cookie, csrf, _) = console_login(&app, &admin).await;
    let (status, me) = app
        .request(Method::GET, "/api/v2/me")
        .header("Cookie", &cookie)
        .auth(viewer.basic())
        .status_and_json()
        .await;
    assert_eq!((status, me["role"].as_str()), (200, Some("viewer")));
    let (status, _) = app
        .request(Method::GET, "/api/v2/users")
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .auth(viewer.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 403);
    // A bad header is not rescued by a good cookie.
    let (status, _) = app
        .request(Method::GET, "/api/v2/me")
        .header("Cookie", &cookie)
        .auth("Token 0000")
        .status_and_json()
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn console_assets_are_embedded_with_csp_and_cache_headers() {
    let app = TestApp::spawn().await;
    let page = app.get("/admin/submissions?status=failed").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let html = page.text().await.unwrap();
    let prefix = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split("/js/app.js").next())
        .expect("the script's versioned path")
        .to_owned();
    assert!(prefix.starts_with("/admin/static/") && prefix.len() == "/admin/static/".len() + 16);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external URL: {html}"
    );

    let js = app.get(&format!("{prefix}/js/pages/submissions.js")).await;
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(
        js.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(js.headers().contains_key("content-security-policy"));
    let old = app.get("/admin/static/0000000000000000/js/app.js").await;
    assert_eq!(old.headers()["cache-control"], "no-cache");
    assert_eq!(
        app.get(&format!("{prefix}/js/nothing.js")).await.status(),
        404
    );
    assert_eq!(app.get("/admin/auth/session").await.status(), 401);
    for entry in ["/admin", "/admin/"] {
        let page = app.get(entry).await;
        assert_eq!(page.status(), 200, "{entry}");
        assert!(page.text().await.unwrap().contains("/js/app.js"), "{entry}");
    }
}

#[tokio::test]
async fn logs_keyset_cursor_walks_every_row_once_in_order() {
    let env = Env::start().await;
    for period in ["202401", "202402", "202403", "202404", "202405"] {
        env.submit(&aggregate_body(period, json!({"MAL_SUSP": 1})))
            .await;
    }
    let get = |path: String| {
        let env = &env;
        async move {
            let (status, body) = env
                .app
                .request(Method::GET, &path)
                .auth(&env.admin.authorization)
                .status_and_json()
                .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let all = get("/api/v2/logs?page_size=500".into()).await;
    let expected: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(expected.len(), 5);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..4 {
        let path = match &cursor {
            Some(c) => format!("/api/v2/logs?page_size=2&cursor={c}"),
            None => "/api/v2/logs?page_size=2".into(),
        };
        let page = get(path).await;
        assert_eq!(page["total"], 5, "the total ignores the position");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, expected);
    // The exact filters: source, data set, org unit.
    let source = all["items"][0]["source"].as_str().unwrap().to_owned();
    for (query, total) in [
        (
            format!("source={source}&data_set={DATA_SET}&org_unit={ORG_UNIT}"),
            5,
        ),
        (format!("data_set={DATA_SET}&org_unit=AAAAAAAAAAA"), 0),
        ("source=no-such-source".to_owned(), 0),
    ] {
        let page = get(format!("/api/v2/logs?{query}")).await;
        assert_eq!(page["total"], total, "{query}");
    }
    // Without the count: the same page, no total.
    let uncounted = get("/api/v2/logs?page_size=2&with_total=false".into()).await;
    assert!(uncounted.get("total").is_none() && uncounted.get("total_pages").is_none());
    assert_eq!(uncounted["items"][0]["id"].as_i64(), Some(expected[0]));
    assert!(uncounted["next_cursor"].is_string());
    // The old page parameter still works; a cursor next_cursor did not issue is a 422.
    let page3 = get("/api/v2/logs?page_size=2&page=3".into()).await;
    assert_eq!(page3["items"][0]["id"].as_i64(), Some(expected[4]));
    let (status, body) = env
        .app
        .request(Method::GET, "/api/v2/logs?cursor=nope")
        .auth(&env.admin.authorization)
        .status_and_json()
        .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (422, Some("cursor"))
    );
}

#[tokio::test]
async fn queue_stats_count_deliveries_and_name_the_dhis2_version() {
    let env = Env::start().await;
    for period in ["202401", "202402", "202403"] {
        env.submit(&aggregate_body(period, json!({"MAL_SUSP": 1})))
            .await;
    }
    let stats = |who: String| {
        let env = &env;
        async move {
            env.app
                .request(Method::GET, "/api/v2/queue/stats")
                .auth(who)
                .status_and_json()
                .await
        }
    };
    let (status, before) = stats(env.admin.authorization.clone()).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        before["queued"].as_i64().unwrap() + before["retrying"].as_i64().unwrap(),
        3,
        "{before}"
    );
    env.run_pending_deliveries().await;
    let (_, after) = stats(env.admin.authorization.clone()).await;
    let minutes = after["delivered_per_minute"].as_array().unwrap();
    assert_eq!(minutes.len(), 60);
    let delivered: i64 = minutes
        .iter()
        .map(|m| m["delivered"].as_i64().unwrap())
        .sum();
    assert_eq!(
        (delivered, after["queued"].as_i64()),
        (3, Some(0)),
        "{after}"
    );
    assert_eq!(after["dhis2"]["reachable"], Value::Bool(true), "{after}");
    assert!(
        after["dhis2"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("2.")),
        "{after}"
    );
    // Operators only: a submitter is refused.
    assert_eq!(stats(env.submitter.authorization.clone()).await.0, 403);
}
