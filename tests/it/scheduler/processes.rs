//! Two real `dhis2gw serve` processes on one database, a job firing every second: each second
//! runs once, on one of them, and their journals agree with the table.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::support::process::{Daemon, config_file};
use crate::support::services::{migrated_database, services};

fn yaml(db: &str) -> String {
    format!(
        "database:\n  uri: {db}\nserver:\n  http_port: 0\n  redis_address: {}\n  queue_prefix: t{}\n  \
         shutdown_grace_secs: 5\napi:\n  sync_cron_expression: \"\"\n  retry_cron_expression: \"* * * * * *\"\n",
        services().redis,
        uuid::Uuid::new_v4().simple()
    )
}

#[tokio::test]
async fn two_daemons_run_a_once_per_second_job_once_per_second() {
    let db = migrated_database().await;
    let config = config_file(&yaml(&db));
    let mut a = Daemon::start(config.path(), &[]);
    let mut b = Daemon::start(config.path(), &[]);
    tokio::time::sleep(Duration::from_secs(20)).await;
    a.signal("TERM");
    b.signal("TERM");
    assert_eq!(
        a.wait_exit(Duration::from_secs(15)),
        Some(0),
        "{}",
        a.log_text()
    );
    assert_eq!(
        b.wait_exit(Duration::from_secs(15)),
        Some(0),
        "{}",
        b.log_text()
    );

    let (client, connection) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT scheduled_for, instance, outcome FROM job_runs WHERE job = 'retry' \
             AND trigger = 'schedule' ORDER BY scheduled_for",
            &[],
        )
        .await
        .unwrap();
    let firings: Vec<DateTime<Utc>> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        firings.len() >= 15,
        "{} scheduled runs in 20 s",
        firings.len()
    );
    for pair in firings.windows(2) {
        assert_eq!(
            (pair[1] - pair[0]).num_milliseconds(),
            1000,
            "a second without its run, or a second run twice: {pair:?}"
        );
    }
    // On a loaded machine a run may outlast its second: the next firing is then recorded as
    // skipped (once), which still accounts for that second.
    let outcomes: Vec<Option<String>> = rows.iter().map(|r| r.get(2)).collect();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.as_deref(), Some("ok" | "skipped"))),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| o.as_deref() == Some("ok"))
            .count()
            * 2
            > outcomes.len(),
        "most seconds ran: {outcomes:?}"
    );
    // Each run started once, on one daemon: the journals count as many starts as the table
    // has runs that started (any trigger, a catch-up run at start included; skips never start).
    let all_runs: i64 = client
        .query_one(
            "SELECT count(*) FROM job_runs WHERE job = 'retry' \
             AND outcome IS DISTINCT FROM 'skipped'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let started = |d: &Daemon| d.log_text().matches("job run started").count();
    assert_eq!(
        (started(&a) + started(&b)) as i64,
        all_runs,
        "journal starts vs recorded runs"
    );
}
