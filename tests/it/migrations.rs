//! Migrations: fresh, re-run, and two instances migrating the same database at once.

use dhis2gw::config::DatabaseSettings;
use dhis2gw::db;

use crate::support::services::empty_database;

fn settings(uri: &str) -> DatabaseSettings {
    DatabaseSettings {
        uri: uri.to_owned(),
        pool_size: 4,
        connect_timeout_secs: 5,
    }
}

async fn history(uri: &str) -> Vec<(i32, String)> {
    let (client, conn) = tokio_postgres::connect(uri, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .query(
            "SELECT version, name FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn a_fresh_database_gets_every_migration_and_a_rerun_applies_none() {
    let uri = empty_database().await;
    let pool = db::connect(&settings(&uri)).unwrap();
    assert!(!db::migrate::is_current(&pool).await.unwrap());

    let applied = db::migrate::run(&pool).await.unwrap();
    assert!(!applied.is_empty());
    assert!(db::migrate::is_current(&pool).await.unwrap());
    let first = history(&uri).await;
    assert_eq!(
        first.last().map(|(v, _)| i64::from(*v)),
        Some(db::migrate::latest_version())
    );

    let again = db::migrate::run(&pool).await.unwrap();
    assert!(again.is_empty(), "re-run applied {again:?}");
    assert_eq!(history(&uri).await, first);
}

#[tokio::test]
async fn two_instances_migrating_at_once_write_the_history_once() {
    let uri = empty_database().await;
    let a = db::connect(&settings(&uri)).unwrap();
    let b = db::connect(&settings(&uri)).unwrap();
    let (ra, rb) = tokio::join!(db::migrate::run(&a), db::migrate::run(&b));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    // One instance applied everything, the other found nothing left to do.
    assert!(ra.is_empty() != rb.is_empty(), "a: {ra:?}, b: {rb:?}");
    let versions: Vec<i32> = history(&uri).await.iter().map(|(v, _)| *v).collect();
    let mut unique = versions.clone();
    unique.dedup();
    assert_eq!(versions, unique);
    assert!(db::migrate::is_current(&a).await.unwrap());
}

#[tokio::test]
async fn the_migrate_subcommand_applies_and_is_idempotent() {
    let uri = empty_database().await;
    let config = crate::support::process::config_file("");
    let path = config.path().to_str().unwrap();
    let first =
        crate::support::process::run(&["migrate", "--config", path], &[("DHIS2GW_DB", &uri)]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(!String::from_utf8_lossy(&first.stdout).starts_with("0 migration"));
    let second =
        crate::support::process::run(&["migrate", "--config", path], &[("DHIS2GW_DB", &uri)]);
    assert_eq!(second.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("0 migration(s) applied"));
}
