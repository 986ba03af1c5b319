//! The deadpool-postgres pool built from `database.*`.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, QueueMode, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::config::DatabaseSettings;

/// Builds the pool. No connection is opened until first use, so a database that is down at
/// start shows up in `/ready` and in the first request, not as a crash.
pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    let mut pg = tokio_postgres::Config::from_str(&settings.uri)?;
    let timeout = Duration::from_secs(settings.connect_timeout_secs);
    pg.connect_timeout(timeout);
    if pg.get_application_name().is_none() {
        pg.application_name("dhis2gw");
    }
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(settings.pool_size)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(Runtime::Tokio1)
        // The most recently used connection first: the busy few stay hot (their backends'
        // caches warm), the rest idle, instead of every batch waking a cold backend in turn.
        .queue_mode(QueueMode::Lifo)
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both spellings of a primary with a standby: tokio-postgres tries the hosts in order and,
    /// with `target_session_attrs=read-write`, keeps only a server that accepts writes (a
    /// standby still in recovery is skipped, the promoted one is taken).
    #[test]
    fn several_hosts_in_either_form() {
        for uri in [
            "host=10.0.0.1,10.0.0.2 port=5432,5433 dbname=dhis2gw user=dhis2gw target_session_attrs=read-write",
            "postgres://dhis2gw@10.0.0.1:5432,10.0.0.2:5433/dhis2gw?target_session_attrs=read-write",
        ] {
            let config = tokio_postgres::Config::from_str(uri).unwrap();
            assert_eq!(config.get_hosts().len(), 2, "{uri}");
            assert_eq!(config.get_ports(), [5432, 5433], "{uri}");
            assert_eq!(
                config.get_target_session_attrs(),
                tokio_postgres::config::TargetSessionAttrs::ReadWrite
            );
            let settings = DatabaseSettings {
                uri: uri.into(),
                pool_size: 2,
                connect_timeout_secs: 1,
            };
            assert!(connect(&settings).is_ok(), "{uri}");
        }
    }
}
