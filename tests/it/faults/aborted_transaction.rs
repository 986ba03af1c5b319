//! A pooled connection whose session was left inside a failed transaction (the ROLLBACK that
//! should have ended it never ran, as when a statement timeout cancels it) must not serve the
//! next caller: `dhis2gw::db::TxConn` closes it instead of handing it back. The session is put
//! in that state on purpose, with a bare `BEGIN` and a failing statement, since a cancelled
//! ROLLBACK is a race that no test can bring about on demand.

use dhis2gw::config::DatabaseSettings;
use dhis2gw::db::{Pool, TxConn};

use crate::support::services::empty_database;

/// A pool of one connection, so that the next checkout gets the same connection if it was
/// handed back.
async fn pool_of_one() -> Pool {
    dhis2gw::db::connect(&DatabaseSettings {
        uri: empty_database().await,
        pool_size: 1,
        connect_timeout_secs: 5,
    })
    .unwrap()
}

/// Leaves the session inside an aborted transaction, with no ROLLBACK on its way.
async fn abort_without_rollback(db: &tokio_postgres::Client) {
    let failed = db.batch_execute("BEGIN; SELECT 1 / 0").await;
    assert!(failed.is_err(), "the division by zero did not fail");
}

async fn backend_pid(db: &tokio_postgres::Client) -> Result<i32, tokio_postgres::Error> {
    Ok(db.query_one("SELECT pg_backend_pid()", &[]).await?.get(0))
}

#[tokio::test]
async fn a_connection_left_in_a_failed_transaction_is_closed_not_reused() {
    let pool = pool_of_one().await;

    // The hazard: handed back as it is, the connection fails every later statement.
    {
        let db = pool.get().await.unwrap();
        abort_without_rollback(&db).await;
    }
    let reused = pool.get().await.unwrap();
    let error = backend_pid(&reused).await.unwrap_err();
    assert_eq!(
        error.code(),
        Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION),
        "{error}"
    );
    reused.batch_execute("ROLLBACK").await.unwrap();
    drop(reused);

    // Through TxConn, without the transaction's end acknowledged, it is closed instead.
    let before = {
        let db = TxConn::new(pool.get().await.unwrap());
        let pid = backend_pid(&db).await.unwrap();
        abort_without_rollback(&db).await;
        pid
    };
    let fresh = pool.get().await.unwrap();
    let after = backend_pid(&fresh)
        .await
        .expect("the next checkout is a fresh session, not the aborted one");
    assert_ne!(before, after, "the aborted session was handed out again");
}

#[tokio::test]
async fn a_connection_whose_transaction_committed_goes_back_to_the_pool() {
    let pool = pool_of_one().await;
    let before = {
        let mut db = TxConn::new(pool.get().await.unwrap());
        let pid = backend_pid(&db).await.unwrap();
        let tx = db.transaction().await.unwrap();
        tx.batch_execute("CREATE TABLE kept (n int)").await.unwrap();
        tx.commit().await.unwrap();
        db.transaction_ended();
        pid
    };
    let again = pool.get().await.unwrap();
    assert_eq!(
        backend_pid(&again).await.unwrap(),
        before,
        "the connection was closed"
    );
}
