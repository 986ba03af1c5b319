//! PostgreSQL cancelling statements (a 1 ms `statement_timeout` on the database) while
//! submissions are accepted and delivered: every answer is a 200 or a 503 (never a 500, such as
//! a 25P02 "current transaction is aborted" left behind by a cancelled statement), and every
//! accepted submission reaches DHIS2 once the timeout is lifted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::pipeline::{Env, aggregate_body};
use crate::support::users::sql;

/// Sets (or resets) the database's statement timeout and ends the app's sessions, so that the
/// pool's next connections start with the new setting.
async fn set_timeout(db: &tokio_postgres::Client, timeout: Option<&str>) {
    let name: String = db
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    let statement = match timeout {
        Some(t) => format!("ALTER DATABASE \"{name}\" SET statement_timeout = '{t}'"),
        None => format!("ALTER DATABASE \"{name}\" RESET statement_timeout"),
    };
    db.batch_execute(&statement).await.unwrap();
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
        &[],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_statement_timeout_gives_503s_never_500s_and_loses_nothing() {
    let env = Env::start_with_workers(|_| {}).await;
    let db = sql(&env.app).await;
    set_timeout(&db, Some("1ms")).await;

    // 6 clients for 3 s, each value unique.
    let until = Instant::now() + Duration::from_secs(3);
    let clients = (0..6).map(|client| {
        let env = &env;
        async move {
            let mut answers: Vec<(i64, u16)> = Vec::new();
            let mut n = 0;
            while Instant::now() < until {
                let value = 100_000 * (client + 1) + n;
                n += 1;
                let response = env
                    .post(
                        &env.submitter,
                        "/api/v2/aggregate",
                        &aggregate_body("202401", json!({"MAL_SUSP": value})),
                        None,
                    )
                    .await;
                answers.push((value, response.status().as_u16()));
            }
            answers
        }
    });
    let answers: Vec<(i64, u16)> = futures::future::join_all(clients)
        .await
        .into_iter()
        .flatten()
        .collect();
    set_timeout(&db, None).await;
    // The ended sessions' connections are seen closed and replaced.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for (_, status) in &answers {
        *statuses.entry(*status).or_default() += 1;
    }
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "answers other than 200 and 503: {statuses:?}"
    );
    assert!(
        statuses.contains_key(&503),
        "the timeout refused nothing; the test shows nothing: {statuses:?}"
    );

    env.wait_until_delivered().await;
    let mut received: HashMap<String, usize> = HashMap::new();
    for body in env.sim.received_data_value_sets() {
        for value in body["dataValues"].as_array().into_iter().flatten() {
            let text = match &value["value"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            *received.entry(text).or_default() += 1;
        }
    }
    let lost: Vec<i64> = answers
        .iter()
        .filter(|(value, status)| *status == 200 && !received.contains_key(&value.to_string()))
        .map(|(value, _)| *value)
        .collect();
    assert!(lost.is_empty(), "accepted and never delivered: {lost:?}");
    // Once the timeout is lifted the pool serves again (no session left in a failed
    // transaction).
    for n in 0..20 {
        let response = env
            .post(
                &env.submitter,
                "/api/v2/aggregate",
                &aggregate_body("202402", json!({"MAL_SUSP": n})),
                None,
            )
            .await;
        assert_eq!(response.status(), 200, "after the timeout was lifted");
    }
}
