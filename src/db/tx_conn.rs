//! A pooled connection that carries a transaction, and goes back to the pool only once that
//! transaction's end was acknowledged.
//!
//! Why: a transaction that fails (an error, a `?`, a dropped future) is ended by the ROLLBACK
//! that tokio-postgres sends when its `Transaction` is dropped, and nobody waits for that
//! ROLLBACK. Under a statement timeout the ROLLBACK (or the COMMIT) can itself be cancelled; the
//! session then stays inside an aborted transaction, and every later statement on the pooled
//! connection fails with 25P02 "current transaction is aborted", long after the timeout that
//! caused it (seen in `packaging/faults.sh pg_statement_timeout`, docs/reliability.md). The pool
//! only checks that a connection it takes back is open, not the state of its session. So a
//! connection whose transaction did not end cleanly is closed instead (the server then rolls the
//! transaction back), and the pool opens a fresh one when it needs one.

use std::ops::{Deref, DerefMut};

use deadpool_postgres::Object;

/// A connection taken from the pool for a transaction: `let mut db = TxConn::new(pool.get().await?)`,
/// then `db.transaction()` as usual, and [`TxConn::transaction_ended`] right after an awaited
/// `commit()` or `rollback()` succeeded. Dropped without that call, it closes the connection.
pub struct TxConn {
    conn: Option<Object>,
    ended: bool,
}

impl TxConn {
    pub fn new(conn: Object) -> Self {
        TxConn {
            conn: Some(conn),
            ended: false,
        }
    }

    /// The server acknowledged the transaction's COMMIT or ROLLBACK: the session is idle and
    /// the connection may go back to the pool.
    pub fn transaction_ended(&mut self) {
        self.ended = true;
    }
}

impl Deref for TxConn {
    type Target = Object;

    fn deref(&self) -> &Object {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl DerefMut for TxConn {
    fn deref_mut(&mut self) -> &mut Object {
        self.conn.as_mut().expect("present until dropped")
    }
}

impl Drop for TxConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.ended
        {
            // Taken out of the pool and dropped: the connection closes.
            drop(Object::take(conn));
        }
    }
}
