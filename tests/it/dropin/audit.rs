//! The request audit log: every /api/v2 request recorded off the request path (route template,
//! user, status, duration, submission id), listed by `GET /api/v2/audit` (admin, filters,
//! keyset pages) and `dhis2gw audit`.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::pipeline::{Env, aggregate_body};
use crate::support::process::{config_file, run};

/// The audit page for `query`, once it holds at least `at_least` items (the writer runs a
/// moment after each request).
async fn audit(env: &Env, query: &str, at_least: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = env.get(&env.admin, &format!("/api/v2/audit{query}")).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        if page["items"].as_array().unwrap().len() >= at_least {
            return page;
        }
        assert!(Instant::now() < deadline, "audit log still short: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_api_request_is_recorded_with_route_user_status_and_submission() {
    let env = Env::start().await;
    let answer = env
        .submit(&aggregate_body("202401", json!({"MAL_SUSP": 5})))
        .await;
    let submission_id = answer["submission_id"].as_i64().unwrap();
    let log = env
        .get(&env.admin, &format!("/api/v2/logs/{submission_id}"))
        .await;
    assert_eq!(log.status(), 200);
    let anonymous = env.app.get("/api/v2/logs").await;
    assert_eq!(anonymous.status(), 401);
    // Not an API request: not recorded.
    assert_eq!(env.app.get("/health").await.status(), 200);

    let submitter = env.submitter.user.username.clone();
    let page = audit(&env, &format!("?username={submitter}"), 1).await;
    let submitted = &page["items"][0];
    assert_eq!(submitted["method"], "POST");
    assert_eq!(submitted["route"], "/api/v2/aggregate");
    assert_eq!(submitted["status"], 200);
    assert_eq!(submitted["submission_id"], submission_id);
    assert!(submitted["duration_ms"].as_f64().unwrap() > 0.0);

    let page = audit(&env, "?route=/api/v2/logs/{id}", 1).await;
    assert_eq!(
        page["items"][0]["username"],
        env.admin.user.username.as_str()
    );
    assert_eq!(page["items"][0]["status"], 200);

    let page = audit(&env, "?status=401", 1).await;
    assert_eq!(page["items"][0]["route"], "/api/v2/logs");
    assert_eq!(page["items"][0]["username"], Value::Null);

    let everything = audit(&env, "", 3).await;
    let routes: Vec<&str> = everything["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["route"].as_str().unwrap())
        .collect();
    assert!(!routes.contains(&"/health"), "{routes:?}");
    assert_eq!(everything["dropped_since_start"], 0);

    // Keyset pages: one at a time, newest first, no repeats.
    let first = audit(&env, "?limit=1&status=200", 1).await;
    let before = first["next_before"].as_i64().expect("more pages");
    let second = audit(&env, &format!("?limit=1&status=200&before={before}"), 1).await;
    assert!(second["items"][0]["id"].as_i64().unwrap() < first["items"][0]["id"].as_i64().unwrap());

    // Admins only.
    assert_eq!(env.get(&env.submitter, "/api/v2/audit").await.status(), 403);
    let (status, _) = env
        .app
        .request(Method::GET, "/api/v2/audit?limit=0")
        .auth(&env.admin.authorization)
        .status_and_json()
        .await;
    assert_eq!(status, 400);

    // The CLI reads the same rows.
    let config = config_file("");
    let output = run(
        &[
            "audit",
            "--user",
            &submitter,
            "--json",
            "--config-file",
            config.path().to_str().unwrap(),
        ],
        &[("DHIS2GW_DB", &env.app.db_url)],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line: Value = serde_json::from_str(stdout.lines().next().expect("a row")).unwrap();
    assert_eq!(line["route"], "/api/v2/aggregate");
    assert_eq!(line["submission_id"], submission_id);
    env.app.stop().await;
}

#[tokio::test]
async fn with_audit_keep_days_zero_nothing_is_recorded() {
    let env = Env::start_with(|s| s.http.audit_keep_days = 0).await;
    env.submit(&aggregate_body("202401", json!({"MAL_SUSP": 5})))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let page = audit(&env, "", 0).await;
    assert_eq!(page["items"], json!([]));
    env.app.stop().await;
}

#[tokio::test]
async fn rows_older_than_audit_keep_days_are_purged() {
    let settings = crate::support::test_settings().await;
    let (client, conn) = tokio_postgres::connect(&settings.database.uri, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    for days in [100, 10] {
        client
            .execute(
                "INSERT INTO request_audit (at, method, route, status, duration_us) \
                 VALUES (now() - make_interval(days => $1), 'GET', '/api/v2/logs', 200, 1000)",
                &[&days],
            )
            .await
            .unwrap();
    }
    // The writer purges when it starts, then every hour (http.audit_keep_days = 90).
    let app = crate::support::TestApp::spawn_with(settings).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ages: Vec<i32> = client
            .query(
                "SELECT extract(day FROM now() - at)::int FROM request_audit ORDER BY at",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        if ages == [10] {
            break;
        }
        assert!(Instant::now() < deadline, "not purged: {ages:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}
