//! `/api/v2/jobs…`: the table, a job's runs, run now (409 while running), roles.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::Value;

use crate::support::app::TestApp;
use crate::support::users::{create_user, sql};

#[tokio::test]
async fn jobs_table_run_now_and_runs_page() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;
    let submitter = create_user(&app, Role::Submitter).await;

    let (status, body) = app
        .request(Method::GET, "/api/v2/jobs")
        .auth(viewer.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sync", "retry", "threshold", "directory"]);
    let threshold = &body["jobs"][2];
    assert_eq!(threshold["enabled"], false);
    assert_eq!(threshold["config_key"], "alerts.cron_expression");
    assert_eq!(threshold["time_zone"], "UTC");
    assert_eq!(threshold["last_run"], Value::Null);

    let (status, _) = app
        .request(Method::GET, "/api/v2/jobs")
        .auth(submitter.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 403, "submitters do not see jobs");
    let (status, _) = app
        .request(Method::POST, "/api/v2/jobs/retry/run")
        .auth(viewer.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 403, "viewers do not run jobs");

    let (status, started) = app
        .request(Method::POST, "/api/v2/jobs/retry/run")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 202, "{started}");
    let run_id = started["run_id"].as_i64().unwrap();
    // The run goes on in the background; follow it until it ends.
    let run = loop {
        let (status, page) = app
            .request(Method::GET, "/api/v2/jobs/retry/runs")
            .auth(admin.basic())
            .status_and_json()
            .await;
        assert_eq!(status, 200, "{page}");
        let run = page["items"][0].clone();
        assert_eq!(run["id"], run_id);
        if !run["outcome"].is_null() {
            break run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(run["outcome"], "ok", "{run}");
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["counts"]["requeued"], 0);

    let (_, body) = app
        .request(Method::GET, "/api/v2/jobs")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(body["jobs"][1]["last_run"]["id"], run_id);
    assert!(body["jobs"][1]["last_duration_ms"].as_i64().unwrap() >= 0);

    // A job that is not built yet is recorded as skipped, saying why.
    let (status, started) = app
        .request(Method::POST, "/api/v2/jobs/threshold/run")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 202, "{started}");

    let (status, body) = app
        .request(Method::POST, "/api/v2/jobs/nightly/run")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("nightly"),
        "{body}"
    );
    let (status, body) = app
        .request(Method::GET, "/api/v2/jobs/retry/runs?limit=0")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["field"], "limit");
}

#[tokio::test]
async fn run_now_is_refused_while_the_job_runs_anywhere() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    // Another instance's run in progress, its lease still good.
    sql(&app)
        .await
        .execute(
            "INSERT INTO job_runs (job, scheduled_for, trigger, instance, started_at, lease_until) \
             VALUES ('retry', now(), 'schedule', 'elsewhere:9', now(), now() + interval '1 hour')",
            &[],
        )
        .await
        .unwrap();
    let (status, body) = app
        .request(Method::POST, "/api/v2/jobs/retry/run")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("elsewhere:9"),
        "{body}"
    );
    // Another job is not blocked by it.
    let (status, _) = app
        .request(Method::POST, "/api/v2/jobs/threshold/run")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 202);
}
