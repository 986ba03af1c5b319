//! Nothing accepted is lost: the daemon killed with SIGKILL mid-delivery, Redis flushed
//! mid-run, PostgreSQL restarted. Every accepted submission reaches DHIS2; duplicates are
//! bounded by the deliveries in flight.
//!
//! These tests watch the background workers, the reconciler and lease expiry at their real pace
//! while things break under them, so they run the workers (or the daemon) and wait for the log
//! to settle instead of running the deliveries themselves.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dhis2_sim::{self as sim, SimConfig, SimHandle};
use dhis2gw::auth::Role;
use dhis2gw::auth::accounts::{self, NewAccount};
use dhis2gw::auth::api_tokens;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::http::ApiRequest;
use crate::support::pipeline::{
    Env, MAL_SUSP, aggregate_body, seed_mappings_in, wait_until_delivered,
};
use crate::support::process::{Daemon, config_file};
use crate::support::services::{PrivateServices, migrated_database, services};

/// Submits `count` submissions whose MAL_SUSP value is their index, `concurrency` at a time,
/// each a `POST /api/v2/aggregate` made by `post`; returns the indexes answered 200.
async fn submit_indexed(
    post: impl Fn() -> ApiRequest,
    range: std::ops::Range<u64>,
    concurrency: usize,
) -> Vec<u64> {
    futures::stream::iter(range)
        .map(|i| {
            let post = post();
            async move {
                let body = aggregate_body("202401", json!({"MAL_SUSP": i}));
                let response = post.json(&body).try_send().await;
                matches!(response, Ok(r) if r.status() == 200).then_some(i)
            }
        })
        .buffer_unordered(concurrency)
        .filter_map(|i| async move { i })
        .collect()
        .await
}

/// How many times the simulator received each MAL_SUSP value.
fn deliveries(sim: &SimHandle) -> HashMap<u64, usize> {
    let mut seen = HashMap::new();
    for set in sim.received_data_value_sets() {
        for value in set["dataValues"].as_array().unwrap() {
            if value["dataElement"] == MAL_SUSP {
                let n: u64 = value["value"].as_str().unwrap().parse().unwrap();
                *seen.entry(n).or_insert(0) += 1;
            }
        }
    }
    seen
}

/// Every accepted index delivered; returns the number of duplicate deliveries.
fn assert_all_delivered(sim: &SimHandle, accepted: &[u64]) -> usize {
    let seen = deliveries(sim);
    let missing: Vec<&u64> = accepted.iter().filter(|i| !seen.contains_key(i)).collect();
    assert!(
        missing.is_empty(),
        "{} accepted submissions never reached DHIS2: {:?}…",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    seen.values().map(|n| n - 1).sum()
}

async fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn kill_9_of_the_daemon_mid_delivery_loses_nothing() {
    const COUNT: u64 = 2000;
    const MAX_CONCURRENT: usize = 8;
    let sim = sim::start(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // 8 calls of 100 ms at a time: 80 deliveries/s, so most of the 2 000 are still queued
    // when the last is accepted and the daemon is killed.
    sim.set_latency(Duration::from_millis(100));
    let db_url = migrated_database().await;
    let config = config_file(&format!(
        "database:\n  uri: {db_url}\nserver:\n  http_port: 0\n  redis_address: {redis}\n  queue_prefix: t{prefix}\n  \
         max_concurrent: {MAX_CONCURRENT}\n  job_lease_secs: 3\n  retry_backoff_base_ms: 50\n  retry_backoff_cap_ms: 200\n  \
         shutdown_grace_secs: 2\napi:\n  dhis2_base_url: {base}\n  dhis2_user: admin\n  dhis2_password: district\n",
        redis = services().redis,
        prefix = uuid::Uuid::new_v4().simple(),
        base = sim.base_url(),
    ));
    let mut daemon = Daemon::start(config.path(), &[]);
    let pool = dhis2gw::db::connect(&dhis2gw::config::DatabaseSettings {
        uri: db_url.clone(),
        pool_size: 2,
        connect_timeout_secs: 5,
    })
    .unwrap();
    let user = accounts::create(
        &pool,
        NewAccount {
            username: "lab".into(),
            password: "lab-password-1".into(),
            role: Some(Role::Submitter),
            is_active: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let token = api_tokens::issue_additional(&pool, user.id, Some(1))
        .await
        .unwrap()
        .token;
    seed_mappings_in(&pool).await;
    let authorization = format!("Token {token}");

    let post = || {
        daemon
            .request(Method::POST, "/api/v2/aggregate")
            .auth(&authorization)
    };
    let accepted = submit_indexed(post, 0..COUNT, 32).await;
    assert_eq!(accepted.len() as u64, COUNT, "every submission accepted");
    let delivered_before = deliveries(&sim).len();
    assert!(
        delivered_before > 0,
        "deliveries were under way when killed"
    );
    daemon.signal("KILL");
    // Killed by a signal: no exit code, so wait on the child itself.
    let status = daemon.child.wait().expect("killed daemon reaped");
    assert!(status.code().is_none(), "died of SIGKILL: {status:?}");
    let open_at_kill = crate::support::pipeline::open_count(&db_url).await.unwrap();
    assert!(
        open_at_kill >= 500,
        "only {open_at_kill} still open when killed"
    );

    let restarted = Daemon::start(config.path(), &[]);
    wait_until_delivered(&db_url, Duration::from_secs(120)).await;
    let duplicates = assert_all_delivered(&sim, &accepted);
    eprintln!("kill -9: {open_at_kill} submissions open at the kill, {duplicates} delivered twice");
    // A duplicate is a call DHIS2 answered whose record had not committed at the kill: at most
    // the calls running (max_concurrent) plus the answered ones waiting for their record batch.
    // Twice max_concurrent bounds that; the jobs leased beside them
    // (submissions::JOBS_PER_CALL per call) had not been sent, and are not duplicates.
    let in_flight = 2 * MAX_CONCURRENT;
    assert!(
        duplicates <= in_flight,
        "{duplicates} duplicates, more than the {in_flight} in flight"
    );
    let statuses: Vec<(String, i64)> = pool
        .get()
        .await
        .unwrap()
        .query(
            "SELECT status, count(*) FROM submission_log GROUP BY status",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(statuses, [("completed".to_owned(), COUNT as i64)]);
    drop(restarted);
    sim.shutdown().await;
}

#[tokio::test]
async fn redis_flushall_mid_run_loses_nothing() {
    const COUNT: u64 = 2000;
    let redis = PrivateServices::start("redis");
    let redis_url = redis.url("DHIS2GW_REDIS");
    let env = Env::start_with_workers(|s| {
        s.server.redis_address = redis_url.clone();
        s.server.max_concurrent = 8;
    })
    .await;
    env.sim.set_latency(Duration::from_millis(15));
    let post = || {
        env.app
            .request(Method::POST, "/api/v2/aggregate")
            .auth(&env.submitter.authorization)
    };
    let (first, ()) = tokio::join!(submit_indexed(post, 0..COUNT, 32), async {
        wait_for("deliveries to start", Duration::from_secs(60), || {
            deliveries(&env.sim).len() >= 200
        })
        .await;
        let port = url::Url::parse(&redis_url).unwrap().port().unwrap();
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &port.to_string(), "FLUSHALL"])
            .output()
            .unwrap();
        assert!(out.status.success());
    });
    assert_eq!(first.len() as u64, COUNT);
    env.wait_until_delivered().await;
    let duplicates = assert_all_delivered(&env.sim, &first);
    eprintln!("FLUSHALL: {duplicates} delivered twice");
    assert!(
        duplicates <= 16,
        "{duplicates} duplicates, more than the 16 jobs in flight"
    );
}

#[tokio::test]
async fn postgres_restart_answers_503_then_recovers_losing_nothing() {
    let pg = PrivateServices::start("pg");
    let db_url = pg.url("DHIS2GW_DB");
    let env = Env::start_with_workers(|s| {
        s.database.uri = db_url.clone();
        s.database.connect_timeout_secs = 1;
    })
    .await;
    env.sim.set_latency(Duration::from_millis(20));
    let post = || {
        env.app
            .request(Method::POST, "/api/v2/aggregate")
            .auth(&env.submitter.authorization)
    };
    let mut accepted = submit_indexed(post, 0..100, 8).await;
    assert_eq!(accepted.len(), 100);

    pg.stop();
    let response = env
        .post(
            &env.submitter,
            "/api/v2/aggregate",
            &aggregate_body("202401", json!({"MAL_SUSP": 100_000})),
            None,
        )
        .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("Retry-After"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");

    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = submit_indexed(post, 100..101, 1).await;
        if !ok.is_empty() {
            accepted.extend(ok);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery after the PostgreSQL restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    accepted.extend(submit_indexed(post, 101..200, 8).await);
    assert_eq!(accepted.len(), 200);
    env.wait_until_delivered().await;
    assert_all_delivered(&env.sim, &accepted);
    assert!(
        !deliveries(&env.sim).contains_key(&100_000),
        "the refused submission was not half-written"
    );
    drop(pg);
}
