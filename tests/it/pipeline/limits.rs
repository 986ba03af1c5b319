//! Concurrency and rate limits, graceful drain on shutdown, and the `retry` job.

use std::time::{Duration, Instant};

use dhis2_sim::Fault;
use fred::interfaces::ClientLike;
use serde_json::{Value, json};

use crate::support::pipeline::{Env, aggregate_body};
use crate::support::users;

async fn submit_many(env: &Env, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..count {
        let answer = env
            .submit(&aggregate_body("202401", json!({"MAL_SUSP": i})))
            .await;
        ids.push(answer["submission_id"].as_i64().unwrap());
    }
    ids
}

#[tokio::test]
async fn at_most_max_concurrent_deliveries_run_at_once() {
    let env = Env::start_with(|s| s.server.max_concurrent = 3).await;
    env.sim.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    submit_many(&env, 9).await;
    env.run_pending_deliveries().await;
    let took = started.elapsed();
    // 9 deliveries of 300 ms, 3 at a time: at least 900 ms; all 9 at once would take ~300 ms.
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(
        took < Duration::from_millis(2500),
        "concurrency used: {took:?}"
    );
    assert_eq!(env.sim.received_data_value_sets().len(), 9);
}

#[tokio::test]
async fn the_rate_limit_spaces_deliveries() {
    let env = Env::start_with(|s| {
        s.server.rate_limit_per_second = 4;
        s.server.max_concurrent = 10;
    })
    .await;
    submit_many(&env, 9).await;
    let started = Instant::now();
    env.run_pending_deliveries().await;
    // A burst of at most 4 (one second's worth), then 4 per second: 9 deliveries need at
    // least 1.25 s; unlimited, they take a few milliseconds.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1150), "{took:?}");
}

#[tokio::test]
async fn shutdown_lets_running_deliveries_finish() {
    // The workers' own drain at shutdown is under test, so they run in the background and the
    // test polls the log for the moment both deliveries are under way.
    let env = Env::start_with_workers(|_| {}).await;
    env.sim.set_latency(Duration::from_millis(1500));
    let ids = submit_many(&env, 2).await;
    // Wait until both are being delivered.
    let sql = users::sql(&env.app).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: i64 = sql
            .query_one(
                "SELECT count(*) FROM submission_log WHERE status = 'processing'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if n == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Env { app, sim, .. } = env;
    let settings = app.settings.clone();
    app.stop().await;
    let statuses: Vec<String> = sql
        .query(
            "SELECT status FROM submission_log WHERE id = ANY($1)",
            &[&ids],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(statuses, ["completed", "completed"]);
    assert_eq!(sim.received_data_value_sets().len(), 2);
    // Their jobs were settled (acked) on the way out, not left leased in Redis.
    let redis = dhis2gw::queue::connect(&settings.server, 1).await.unwrap();
    redis.pool.wait_for_connect().await.unwrap();
    let queue = dhis2gw::queue::JobQueue::new(&redis, dhis2gw::submissions::QUEUE_NAME);
    assert_eq!(queue.stats().await.unwrap(), Default::default());
    assert_eq!(queue.holds(&ids).await.unwrap(), [false, false]);
}

#[tokio::test]
async fn the_retry_job_requeues_exhausted_failures_only() {
    let env = Env::start_with(|s| s.server.max_retries = 1).await;
    env.sim.set_fault_always(Some(Fault::Status(502)));
    let exhausted = env
        .submit(&aggregate_body("202401", json!({"MAL_SUSP": 1})))
        .await["submission_id"]
        .as_i64()
        .unwrap();
    env.run_pending_deliveries().await;
    env.sim.set_fault_always(Some(Fault::Status(400)));
    let refused = env
        .submit(&aggregate_body("202402", json!({"MAL_SUSP": 2})))
        .await["submission_id"]
        .as_i64()
        .unwrap();
    env.run_pending_deliveries().await;
    env.sim.set_fault_always(None);
    let redis = dhis2gw::queue::connect(&env.app.settings.server, 1)
        .await
        .unwrap();
    assert!(redis.wait_connected(Duration::from_secs(5)).await);
    let submissions = dhis2gw::submissions::Submissions::new(
        tokio::sync::watch::channel(env.app.settings.clone()).1,
        users::pool(&env.app),
        &redis,
    );
    let (requeued, _) = submissions
        .retry_eligible(chrono::Duration::days(7), 12)
        .await
        .unwrap();
    assert_eq!(requeued, 1);
    env.run_pending_deliveries().await;
    let status = |log: Value| log["status"].as_str().unwrap().to_owned();
    assert_eq!(status(env.log(exhausted).await), "completed");
    assert_eq!(
        status(env.log(refused).await),
        "failed",
        "a 4xx needs a person, not a retry"
    );
}
