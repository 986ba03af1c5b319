//! PostgreSQL: the connection pool, the embedded migrations, and one file per table group.

pub mod alert_rules;
pub mod job_runs;
pub mod mappings;
pub mod metadata;
pub mod migrate;
pub mod notify;
pub mod pool;
pub mod redacted;
pub mod submissions;
pub mod tokens;
pub mod users;

pub use deadpool_postgres::{Pool, PoolError};
pub use pool::connect;
