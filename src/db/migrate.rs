//! Schema migrations from `db/migrations/`, embedded in the binary at build time.

use std::ops::DerefMut;

use deadpool_postgres::Pool;

mod embedded {
    refinery::embed_migrations!("db/migrations");
}

/// Arbitrary constant key of the advisory lock that serialises migrations across instances.
pub(crate) const MIGRATION_LOCK: i64 = 0x6468_6973_3267_7701;

/// Applies pending migrations and returns the names of the ones applied. Two instances starting
/// at once take turns on a session-level advisory lock, so the history is written once.
pub async fn run(pool: &Pool) -> anyhow::Result<Vec<String>> {
    let mut conn = pool.get().await?;
    if crate::db::adopt::detect::is_unadopted_original(&conn).await? {
        anyhow::bail!(crate::db::adopt::NOT_ADOPTED);
    }
    conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let client: &mut tokio_postgres::Client = conn.deref_mut().deref_mut();
    let result = embedded::migrations::runner().run_async(client).await;
    // Unlock even when a migration failed; the connection goes back to the pool.
    conn.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    let report = result?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}

/// Every migration built into this binary (adoption applies them inside its own transaction).
pub(crate) fn embedded_migrations() -> Vec<refinery::Migration> {
    embedded::migrations::runner().get_migrations().clone()
}

/// The newest migration version built into this binary.
pub fn latest_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// True when the database has every migration this binary knows.
pub async fn is_current(pool: &Pool) -> anyhow::Result<bool> {
    let conn = pool.get().await?;
    let row = conn
        .query_opt(
            "SELECT max(version)::int8 FROM refinery_schema_history",
            &[],
        )
        .await;
    let applied: Option<i64> = match row {
        Ok(Some(row)) => row.get(0),
        Ok(None) => None,
        // No history table yet: nothing applied.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(applied.unwrap_or(0) >= latest_version())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions run 1, 2, 3… with no new gap. A migration numbered into a gap below the newest
    /// one would never be applied on a database that already has the newer one: refinery
    /// refuses to migrate it at all (an unapplied version below the current one is "missing").
    /// 13 and 14 were skipped by a released build (which shipped 15), so they stay unused.
    #[test]
    fn versions_leave_no_gap_but_the_released_one() {
        let mut versions: Vec<i64> = embedded_migrations()
            .iter()
            .map(|m| i64::from(m.version()))
            .collect();
        versions.sort_unstable();
        let newest = *versions.last().unwrap();
        let expected: Vec<i64> = (1..=newest).filter(|v| !(13..=14).contains(v)).collect();
        assert_eq!(versions, expected);
    }
}
