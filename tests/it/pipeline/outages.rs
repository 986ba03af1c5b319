//! Redis away: submissions are still accepted (the row is committed) and requeues still land in
//! PostgreSQL; once Redis is back the reconciler enqueues them and they are delivered. The
//! workers and the reconciler run in the background at their real pace (noticing Redis come
//! back is part of what is tested), so the test waits for the log to settle.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::pipeline::{Env, aggregate_body};
use crate::support::services::PrivateServices;

#[tokio::test]
async fn redis_down_accepts_and_requeues_then_delivers_when_it_returns() {
    let redis = PrivateServices::start("redis");
    let redis_url = redis.url("DHIS2GW_REDIS");
    let env = Env::start_with_workers(|s| s.server.redis_address = redis_url.clone()).await;
    let delivered = env
        .submit(&aggregate_body("202401", json!({"MAL_SUSP": 1})))
        .await;
    env.wait_until_delivered().await;

    redis.stop();
    let accepted = env
        .submit(&aggregate_body("202402", json!({"MAL_SUSP": 2})))
        .await;
    assert_eq!(
        accepted["status"], "queued",
        "committed even though Redis is down"
    );
    let id = delivered["submission_id"].as_i64().unwrap();
    let restart = env
        .post(
            &env.admin,
            &format!("/api/v2/logs/{id}/restart"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(
        restart.status(),
        200,
        "a requeue works from the log whatever Redis holds"
    );
    // Nothing may be delivered while Redis is away; half a second gives the workers time to
    // do it wrongly.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(env.sim.received_data_value_sets().len(), 1);

    redis.restart();
    env.wait_until_delivered().await;
    let periods: Vec<Value> = env
        .sim
        .received_data_value_sets()
        .iter()
        .map(|s| s["period"].clone())
        .collect();
    assert_eq!(periods.len(), 3, "{periods:?}");
    assert!(periods.contains(&json!("202402")));
    assert_eq!(env.log(id).await["requeue_count"], 1);
}
