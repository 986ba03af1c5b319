//! `submission_open`, the list of rows still owed a delivery (V6): every statement that opens or
//! settles a row keeps it in step, and the reconciler's scan skips and drops ids whose row was
//! settled or deleted by other means. Straight against PostgreSQL through `db::submissions`.

use dhis2gw::config::DatabaseSettings;
use dhis2gw::db::submissions::{
    self, AttemptOf, AttemptRecord, Deliverable, Kind, NewSubmission, OpenPage, Status,
};
use dhis2gw::db::{self, Pool};
use serde_json::json;

use crate::support::services::migrated_database;

async fn migrated_pool() -> Pool {
    let uri = migrated_database().await;
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

fn attempt_of(row: &Deliverable) -> AttemptOf {
    AttemptOf {
        id: row.id,
        requeue_count: row.requeue_count,
        started_at: chrono::Utc::now(),
        marked: false,
    }
}

/// Records one attempt with `status`; whether the record applied.
async fn record_one(
    db: &impl deadpool_postgres::GenericClient,
    attempt: AttemptOf,
    status: Status,
) -> bool {
    let applied = submissions::record_attempts(db, &[(attempt, record(status))])
        .await
        .unwrap();
    applied == [true]
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

    // Rows being delivered stay open; a final record takes the row off, a retry keeps it.
    let read = submissions::deliverable(&db, &all[..3]).await.unwrap();
    let of = |row: &Option<Deliverable>| attempt_of(row.as_ref().unwrap());
    let settled = submissions::record_attempts(
        &db,
        &[
            (of(&read[0]), record(Status::Completed)),
            (of(&read[1]), record(Status::Retrying)),
            (of(&read[2]), record(Status::Failed)),
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

#[tokio::test]
async fn an_attempt_is_counted_once_and_its_record_yields_to_a_requeue_or_an_earlier_settle() {
    let pool = migrated_pool().await;
    let db = pool.get().await.unwrap();
    let all = insert_new(&db, 3).await;
    let read = submissions::deliverable(&db, &all).await.unwrap();
    let read: Vec<Deliverable> = read.into_iter().map(Option::unwrap).collect();
    assert_eq!(
        read.iter()
            .map(|r| (r.attempts, r.retry_count))
            .collect::<Vec<_>>(),
        [(0, 0); 3]
    );
    let attempts = |id: i64| {
        let db = &db;
        async move {
            let row = db
                .query_one(
                    "SELECT status, attempts FROM submission_log WHERE id = $1",
                    &[&id],
                )
                .await
                .unwrap();
            (row.get::<_, String>(0), row.get::<_, i32>(1))
        }
    };

    // A slow attempt: marked (processing, counted), then recorded without counting it again.
    let mut slow = attempt_of(&read[0]);
    assert_eq!(
        submissions::mark_processing(&db, &[slow]).await.unwrap(),
        [true]
    );
    assert_eq!(attempts(all[0]).await, ("processing".into(), 1));
    slow.marked = true;
    assert!(record_one(&db, slow, Status::Completed).await);
    assert_eq!(attempts(all[0]).await, ("completed".into(), 1));

    // Requeued while DHIS2 was answering: the attempt's record no longer applies, and the row
    // stays queued for a fresh round.
    let requeued = attempt_of(&read[1]);
    submissions::requeue(&db, &[all[1]]).await.unwrap();
    assert_eq!(
        submissions::mark_processing(&db, &[requeued])
            .await
            .unwrap(),
        [false]
    );
    assert!(!record_one(&db, requeued, Status::Completed).await);
    assert_eq!(attempts(all[1]).await, ("queued".into(), 0));

    // Two deliveries of one row (a stray duplicate job): the first record settles it, the
    // second changes nothing.
    let first = attempt_of(&read[2]);
    let second = attempt_of(&read[2]);
    assert!(record_one(&db, first, Status::Completed).await);
    assert!(!record_one(&db, second, Status::Failed).await);
    assert_eq!(attempts(all[2]).await, ("completed".into(), 1));
    let open: Vec<bool> = submissions::deliverable(&db, &all)
        .await
        .unwrap()
        .iter()
        .map(Option::is_some)
        .collect();
    assert_eq!(
        open,
        [false, true, false],
        "only the requeued row is still owed"
    );
}
