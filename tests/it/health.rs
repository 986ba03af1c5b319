//! `/health`, `/ready` (including dependency outages), the OpenAPI document, JSON errors.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::support::services::PrivateServices;
use crate::support::{TestApp, test_settings};

#[tokio::test]
async fn health_and_ready_answer_when_everything_is_up() {
    let app = TestApp::spawn().await;
    let health = app.get("/health").await;
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");
    assert_eq!(body["checks"]["migrations"], "ok");
    app.stop().await;
}

/// Polls `/ready` until it answers `status`; returns how long that took (how fast readiness
/// follows a service going away and coming back is what these tests measure).
async fn wait_ready_status(app: &TestApp, status: u16, limit: Duration) -> (Duration, Value) {
    let start = Instant::now();
    loop {
        let response = app.get("/ready").await;
        let code = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        if code == status {
            return (start.elapsed(), body);
        }
        assert!(
            start.elapsed() < limit,
            "/ready still {code} after {limit:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn ready_follows_redis_going_down_and_coming_back() {
    let redis = PrivateServices::start("redis");
    let mut settings = test_settings().await;
    settings.server.redis_address = redis.url("DHIS2GW_REDIS");
    let app = TestApp::spawn_with(settings).await;
    wait_ready_status(&app, 200, Duration::from_secs(5)).await;

    redis.stop();
    let (took, body) = wait_ready_status(&app, 503, Duration::from_secs(3)).await;
    assert!(took <= Duration::from_secs(2), "503 only after {took:?}");
    assert_eq!(body["status"], "unavailable");
    assert_ne!(body["checks"]["redis"], "ok");
    assert_eq!(body["checks"]["postgres"], "ok");

    redis.restart();
    wait_ready_status(&app, 200, Duration::from_secs(10)).await;
    app.stop().await;
}

#[tokio::test]
async fn ready_follows_postgres_going_down_and_coming_back() {
    let pg = PrivateServices::start("pg");
    let mut settings = test_settings().await;
    settings.database.uri = pg.url("DHIS2GW_DB");
    settings.database.connect_timeout_secs = 1;
    let app = TestApp::spawn_with(settings).await;
    wait_ready_status(&app, 200, Duration::from_secs(5)).await;

    pg.stop();
    let (took, body) = wait_ready_status(&app, 503, Duration::from_secs(3)).await;
    assert!(took <= Duration::from_secs(2), "503 only after {took:?}");
    assert_ne!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");

    pg.restart();
    wait_ready_status(&app, 200, Duration::from_secs(10)).await;
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_and_swagger_ui_are_served() {
    let app = TestApp::spawn().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(spec["info"]["title"], "dhis2gw");
    assert!(spec["paths"]["/ready"]["get"]["responses"]["503"].is_object());
    let ui = app.get("/swagger").await;
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger"));
    app.stop().await;
}

#[tokio::test]
async fn errors_outside_handlers_are_json_too() {
    let app = TestApp::spawn().await;
    let missing = app.get("/no/such/route").await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "not_found");

    let wrong_method = app.request(Method::DELETE, "/health").send().await;
    assert_eq!(wrong_method.status(), 405);
    let body: Value = wrong_method.json().await.unwrap();
    assert_eq!(body["code"], "method_not_allowed");
    app.stop().await;
}

#[tokio::test]
async fn an_oversize_body_is_413_json() {
    let mut settings = test_settings().await;
    settings.http.body_limit_bytes = 1024;
    let app = TestApp::spawn_with(settings).await;
    let response = app
        .request(Method::POST, "/health")
        .body(vec![b'x'; 4096])
        .send()
        .await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
    app.stop().await;
}
