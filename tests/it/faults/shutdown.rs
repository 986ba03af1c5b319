//! Stopping the daemon while DHIS2 is slow: the calls in flight finish within
//! `server.shutdown_grace_secs`, the jobs leased but not yet at their call are given back
//! instead of starting one, and after a restart each submission reaches DHIS2 exactly once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::pipeline::{Env, aggregate_body, wait_until_delivered};

/// DHIS2's answer time in this test.
const LATENCY: Duration = Duration::from_millis(2000);

#[tokio::test]
async fn a_stop_during_slow_calls_starts_no_new_call_and_delivers_each_submission_once() {
    let env = Env::start_with_workers(|s| {
        s.server.max_concurrent = 2;
        s.server.shutdown_grace_secs = 6;
    })
    .await;
    env.sim.set_latency(LATENCY);
    // Distinct values, so that each reception in the simulator names its submission.
    let sent = 12;
    for n in 0..sent {
        env.submit(&aggregate_body("202401", json!({"MAL_SUSP": 1000 + n})))
            .await;
    }
    // The first calls are in flight (2 at a time), the other leased jobs wait at the gate.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let Env { app, sim, .. } = env;
    let mut settings = (*app.settings).clone();
    let stopping = Instant::now();
    app.stop().await;
    let stopped_after = stopping.elapsed();
    // The calls in flight (started before the stop) end within one answer time; no call
    // started after the stop, so nothing waits for the grace period.
    assert!(
        stopped_after < LATENCY + Duration::from_millis(1500),
        "stopping took {stopped_after:?}: calls were started during the drain"
    );
    let before_restart = sim.received_data_value_sets().len();
    assert!(
        before_restart < sent as usize,
        "everything was delivered before the stop; the test shows nothing"
    );

    // The next start (same database and queue) delivers the rest.
    sim.set_latency(Duration::ZERO);
    settings.server.http_port = 0;
    let restarted = TestApp::spawn_with(settings).await;
    wait_until_delivered(&restarted.db_url, Duration::from_secs(60)).await;

    let mut received: HashMap<String, usize> = HashMap::new();
    for body in sim.received_data_value_sets() {
        for value in body["dataValues"].as_array().into_iter().flatten() {
            *received.entry(value_text(&value["value"])).or_default() += 1;
        }
    }
    for n in 0..sent {
        let value = (1000 + n).to_string();
        assert_eq!(
            received.get(&value).copied().unwrap_or(0),
            1,
            "submission with value {value} received {:?} times ({received:?})",
            received.get(&value)
        );
    }
    restarted.stop().await;
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
