//! PostgreSQL: the connection pool, the embedded migrations, and one file per table group.

pub mod adopt;
pub mod alert_rules;
pub mod alerts;
pub mod analytics_cache;
pub mod audit;
pub mod console_sessions;
pub mod job_runs;
pub mod jwt_secret;
pub mod login_throttle;
pub mod mappings;
pub mod metadata;
pub mod migrate;
pub mod notify;
pub mod pool;
pub mod queue_stats;
pub mod redacted;
pub mod submissions;
pub mod tokens;
pub mod tx_conn;
pub mod users;

pub use deadpool_postgres::{Pool, PoolError};
pub use pool::connect;
pub use tx_conn::TxConn;
