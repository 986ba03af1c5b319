//! `submission_open`, the list of rows still owed a delivery (V6): every statement that opens or
//! settles a row keeps it in step, and the reconciler's scan skips and drops ids whose row was
//! settled or deleted by other means. Straight against PostgreSQL through `db::submissions`.

use dhis2gw::config::DatabaseSettings;
use dhis2gw::db::submissions::{self, AttemptRecord, Kind, NewSubmission, OpenPage, Status};
use dhis2gw::db::{self, Pool};
use serde_json::json;

use crate::support::services::fresh_database;

async fn migrated_pool() -> Pool {
    let uri = fresh_database().await;
    let pool = db::connect(&DatabaseSettings {
        uri,
        pool_size: 2,
        connect_timeout_secs: 5,
    })
    .unwrap();
    db::migrate::run(&pool).await.unwrap();
    pool
}

fn submission(n: u32) -> NewSubmission {
    NewSubmission {
        task_id: uuid::Uuid::new_v4(),
        kind: Kind::Aggregate,
        user_id: None,
        source_ip: None,
        idempotency_key: None,
        body_hash: format!("hash-{n}"),
        source_name: "default".into(),
        instance_name: "default".into(),
        org_unit: Some("KFZHpp8BEUA".into()),
        period: Some("202401".into()),
        data_set: None,
        payload: json!({"n": n}),
        dhis2_payload: format!("{{\"n\":{n}}}"),
        unmapped: Vec::new(),
    }
}

fn record(status: Status) -> AttemptRecord {
    AttemptRecord {
        status,
        response: Some("{}".into()),
        response_status: Some(200),
        counts: Some([1, 0, 0, 0]),
        conflicts: json!([]),
        errors: None,
        retry_count: 0,
        next_attempt_at: None,
        exhausted: false,
    }
}

async fn listed(db: &impl deadpool_postgres::GenericClient) -> Vec<i64> {
    db.query("SELECT id FROM submission_open ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Inserts `n` submissions in one batch; their ids.
async fn insert_new(db: &impl deadpool_postgres::GenericClient, n: u32) -> Vec<i64> {
    let batch: Vec<NewSubmission> = (0..n).map(submission).collect();
    submissions::insert_batch(db, &batch)
        .await
        .unwrap()
        .iter()
        .map(|i| match i {
            submissions::Inserted::New { id, .. } => *id,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn ids(page: &OpenPage) -> Vec<i64> {
    page.rows.iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn opening_and_settling_statements_keep_the_open_list_in_step() {
    let pool = migrated_pool().await;
    let db = pool.get().await.unwrap();
    let all = insert_new(&db, 4).await;
    assert_eq!(listed(&db).await, all, "insert lists every new row");

    // Claimed rows stay open; a final record takes the row off, a retry keeps it.
    let claimed = submissions::claim(&db, &all[..3]).await.unwrap();
    assert!(claimed.iter().all(Option::is_some));
    let settled = submissions::record_attempts(
        &db,
        &[
            (all[0], record(Status::Completed)),
            (all[1], record(Status::Retrying)),
            (all[2], record(Status::Failed)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(settled, vec![true, true, true]);
    assert_eq!(listed(&db).await, vec![all[1], all[3]]);

    // A requeue puts settled rows back (and leaves an open one listed once).
    let requeued = submissions::requeue(&db, &[all[0], all[1]]).await.unwrap();
    assert_eq!(requeued.len(), 2);
    assert_eq!(listed(&db).await, vec![all[0], all[1], all[3]]);

    // Deleting a row takes it off too.
    assert!(submissions::list::delete(&db, all[3]).await.unwrap());
    assert_eq!(listed(&db).await, vec![all[0], all[1]]);
    let page = submissions::open_rows(&db, 0, 100).await.unwrap();
    assert_eq!(ids(&page), vec![all[0], all[1]]);
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn the_scan_pages_through_and_drops_ids_whose_row_was_settled_by_other_means() {
    let pool = migrated_pool().await;
    let db = pool.get().await.unwrap();
    let all = insert_new(&db, 5).await;
    // Settled by hand (an operator's UPDATE): the open list still names it.
    db.execute(
        "UPDATE submission_log SET status = 'completed' WHERE id = $1",
        &[&all[1]],
    )
    .await
    .unwrap();

    let first = submissions::open_rows(&db, 0, 2).await.unwrap();
    assert_eq!(ids(&first), vec![all[0]], "the settled row is skipped");
    assert_eq!(
        first.next,
        Some(all[1]),
        "a full page of ids continues after its last id"
    );
    let second = submissions::open_rows(&db, all[1], 2).await.unwrap();
    assert_eq!(ids(&second), vec![all[2], all[3]]);
    let third = submissions::open_rows(&db, second.next.unwrap(), 2)
        .await
        .unwrap();
    assert_eq!(ids(&third), vec![all[4]]);
    assert_eq!(third.next, None);
    assert!(
        !listed(&db).await.contains(&all[1]),
        "the scan dropped the settled row's id"
    );
}
