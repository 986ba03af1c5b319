//! `GET /metrics`: who may read it, and that the series move when a submission is accepted,
//! refused and delivered.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::support::pipeline::{Env, aggregate_body, caller};

const TOKEN: &str = "prometheus-scrape-secret";

/// The value of the sample of `name` whose labels include every `k="v"` of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .find(|(series, _)| {
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse().expect("a number"))
}

async fn scrape(env: &Env, authorization: &str) -> String {
    let response = env
        .app
        .request(Method::GET, "/metrics")
        .auth(authorization)
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_series_move_when_a_submission_is_refused_accepted_and_delivered() {
    let env = Env::start_with(|s| s.http.metrics_token = TOKEN.into()).await;
    let bearer = format!("Bearer {TOKEN}");
    crate::support::users::sql(&env.app)
        .await
        .execute(
            "INSERT INTO job_runs (job, scheduled_for, trigger, instance, started_at, finished_at, outcome) \
             VALUES ('sync', '2026-01-01T00:00:00Z', 'manual', 'test', '2026-01-01T00:00:00Z', '2026-01-01T00:00:10Z', 'ok')",
            &[],
        )
        .await
        .unwrap();
    let before = scrape(&env, &bearer).await;
    assert_eq!(
        sample(
            &before,
            "dhis2gw_job_last_success_timestamp_seconds",
            &[("job", "sync")]
        ),
        Some(1767225610.0),
        "{before}"
    );
    let of =
        |text: &str, name: &str, labels: &[(&str, &str)]| sample(text, name, labels).unwrap_or(0.0);
    let accepted = [("kind", "aggregate")];
    let invalid = [("kind", "aggregate"), ("reason", "invalid")];
    let completed = [("kind", "aggregate"), ("outcome", "completed")];
    let posts = [
        ("method", "POST"),
        ("route", "/api/v2/aggregate"),
        ("status", "200"),
    ];
    let refusals = [
        ("method", "POST"),
        ("route", "/api/v2/aggregate"),
        ("status", "400"),
    ];

    let bad = env
        .post(
            &env.submitter,
            "/api/v2/aggregate",
            &json!({"period": "nope"}),
            None,
        )
        .await;
    assert_eq!(bad.status(), 400);
    env.submit(&aggregate_body("202401", json!({"MAL_SUSP": 4})))
        .await;
    let between = scrape(&env, &bearer).await;
    assert_eq!(
        sample(&between, "dhis2gw_queue_jobs", &[("state", "waiting")]),
        Some(1.0),
        "the job waits in Redis until delivered:\n{between}"
    );
    assert_eq!(
        sample(
            &between,
            "dhis2gw_submissions_open",
            &[("status", "queued")]
        ),
        Some(1.0)
    );
    env.run_pending_deliveries().await;
    let after = scrape(&env, &bearer).await;

    let moved =
        |name: &str, labels: &[(&str, &str)]| of(&after, name, labels) - of(&before, name, labels);
    assert_eq!(
        moved("dhis2gw_submissions_accepted_total", &accepted),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved("dhis2gw_submissions_rejected_total", &invalid),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved("dhis2gw_deliveries_total", &completed),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved("dhis2gw_dhis2_request_duration_seconds_count", &accepted),
        1.0
    );
    assert!(
        of(
            &after,
            "dhis2gw_dhis2_request_duration_seconds_sum",
            &accepted
        ) > 0.0
    );
    assert_eq!(moved("dhis2gw_http_requests_total", &posts), 1.0);
    assert_eq!(moved("dhis2gw_http_requests_total", &refusals), 1.0);
    // The scrapes themselves are counted (the one being answered is not yet).
    assert_eq!(
        moved(
            "dhis2gw_http_requests_total",
            &[("route", "/metrics"), ("status", "200")]
        ),
        2.0
    );
    assert_eq!(
        sample(&after, "dhis2gw_queue_jobs", &[("state", "waiting")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&after, "dhis2gw_queue_jobs", &[("state", "in_flight")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&after, "dhis2gw_submissions_open", &[("status", "queued")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&after, "dhis2gw_scrape_errors", &[("source", "postgres")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&after, "dhis2gw_scrape_errors", &[("source", "redis")]),
        Some(0.0)
    );
    let pool_max = env.app.state.settings().database.pool_size as f64;
    assert_eq!(
        sample(
            &after,
            "dhis2gw_postgres_pool_connections",
            &[("state", "max")]
        ),
        Some(pool_max)
    );
    assert!(
        sample(
            &after,
            "dhis2gw_redis_connections",
            &[("state", "connected")]
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(
        sample(
            &after,
            "dhis2gw_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    assert!(after.contains("# TYPE dhis2gw_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn metrics_are_for_admins_and_the_configured_token() {
    let env = Env::start_with(|s| s.http.metrics_token = TOKEN.into()).await;
    let viewer = caller(&env.app, Role::Viewer).await;
    let status = |authorization: Option<String>| {
        let request = env
            .app
            .request(Method::GET, "/metrics")
            .auth_if(authorization.as_deref());
        async move { request.send().await.status().as_u16() }
    };
    assert_eq!(status(None).await, 401);
    assert_eq!(status(Some("Bearer not-the-token".into())).await, 401);
    assert_eq!(status(Some(env.submitter.authorization.clone())).await, 403);
    assert_eq!(status(Some(viewer.authorization.clone())).await, 403);
    assert_eq!(status(Some(env.admin.authorization.clone())).await, 200);
    assert_eq!(status(Some(format!("Bearer {TOKEN}"))).await, 200);

    // Without a token only admins read it: an empty bearer is not a match.
    let env = Env::start_with(|_| {}).await;
    let status = env
        .app
        .request(Method::GET, "/metrics")
        .auth("Bearer ")
        .send()
        .await
        .status();
    assert_eq!(status, 401);
}
