//! Supervision of the background tasks: a task that dies turns `/ready` 503 naming it and stops
//! the daemon with a failure (`serve` maps it to exit status 70). The fault is injected through
//! `Application::supervise`, the same registration and supervision path as the delivery
//! workers, the notification listener and the HTTP server.

use std::time::{Duration, Instant};

use dhis2gw::app::Application;
use dhis2gw::supervise::{DEAD_TASK_LINGER, Death, TaskDied};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::support::test_settings;

/// `GET /ready` until it answers `status`, for at most `limit`; returns the body.
async fn ready_when(client: &reqwest::Client, url: &str, status: u16, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let response = client.get(url).send().await.expect("GET /ready");
        let code = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        if code == status {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/ready still {code} after {limit:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The injected fault: a task that panics when the test says so.
async fn panic_when_fired(fired: oneshot::Receiver<()>) {
    let _ = fired.await;
    panic!("injected by the supervision test");
}

#[tokio::test]
async fn a_panicking_task_turns_ready_503_naming_it_and_the_daemon_stops_with_a_failure() {
    let mut app = Application::build(test_settings().await)
        .await
        .expect("application builds");
    let (fire, fired) = oneshot::channel::<()>();
    app.supervise("injected fault", move |_stop| panic_when_fired(fired));
    let ready = format!("http://127.0.0.1:{}/ready", app.port());
    let health = format!("http://127.0.0.1:{}/health", app.port());
    // No shutdown is ever asked for: only the dead task may end the run.
    let run = tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();

    let body = ready_when(&client, &ready, 200, Duration::from_secs(10)).await;
    assert_eq!(body["checks"]["tasks"], "ok");

    fire.send(()).unwrap();
    let body = ready_when(&client, &ready, 503, DEAD_TASK_LINGER).await;
    assert_eq!(body["status"], "unavailable");
    let tasks = body["checks"]["tasks"].as_str().unwrap();
    assert!(tasks.contains("`injected fault` panicked"), "{body}");
    assert_eq!(body["checks"]["postgres"], "ok", "{body}");

    let outcome = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the run ends by itself after a task died")
        .expect("the run does not panic");
    let error = outcome.expect_err("a dead task fails the run");
    let died = error
        .downcast_ref::<TaskDied>()
        .unwrap_or_else(|| panic!("not a TaskDied: {error:#}"));
    assert_eq!(died.task, "injected fault");
    assert_eq!(died.death, Death::Panicked);
    assert_eq!(died.cause, "injected by the supervision test");
    // The HTTP server drained and stopped with the others.
    assert!(client.get(&health).send().await.is_err());
}

#[tokio::test]
async fn the_tasks_of_a_healthy_daemon_stop_cleanly_on_shutdown() {
    let mut app = Application::build(test_settings().await)
        .await
        .expect("application builds");
    app.supervise("steady extra task", |mut stop| async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    stop.send(()).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the run drains within the grace")
        .expect("the run does not panic");
    assert!(outcome.is_ok(), "{outcome:?}");
}
