//! Liveness and readiness: is each dependency answering, is the schema current, and are the
//! background tasks alive.

use std::time::Duration;

use crate::db::migrate;
use crate::state::AppState;

/// How long one dependency check may take; `/ready` answers within about this bound.
const CHECK_DEADLINE: Duration = Duration::from_millis(1500);

/// The outcome of one check: `None` when healthy, else what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    pub postgres: Option<String>,
    pub redis: Option<String>,
    pub migrations: Option<String>,
    /// A supervised background task died (`supervise`): the daemon is about to stop.
    pub tasks: Option<String>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.postgres.is_none()
            && self.redis.is_none()
            && self.migrations.is_none()
            && self.tasks.is_none()
    }
}

pub async fn readiness(state: &AppState) -> Readiness {
    let postgres = async {
        match tokio::time::timeout(CHECK_DEADLINE, migrate::is_current(state.db())).await {
            Err(_) => (Some("timed out".to_owned()), None),
            Ok(Err(e)) => (Some(e.to_string()), None),
            Ok(Ok(true)) => (None, None),
            Ok(Ok(false)) => (
                None,
                Some(format!(
                    "schema is behind this binary (needs version {}); run dhis2gw migrate",
                    migrate::latest_version()
                )),
            ),
        }
    };
    let redis = async {
        match state.redis().ping(CHECK_DEADLINE).await {
            Ok(()) => None,
            Err(e) => Some(e.details().to_owned()),
        }
    };
    let ((postgres, migrations), redis) = tokio::join!(postgres, redis);
    // Migrations cannot be checked while Postgres is down.
    let migrations = match &postgres {
        Some(_) => Some("unknown: PostgreSQL is down".to_owned()),
        None => migrations,
    };
    Readiness {
        postgres,
        redis,
        migrations,
        tasks: state.tasks().problem(),
    }
}
