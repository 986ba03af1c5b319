//! PostgreSQL: the connection pool, the embedded migrations, and one file per table group.

pub mod mappings;
pub mod migrate;
pub mod pool;

pub use deadpool_postgres::{Pool, PoolError};
pub use pool::connect;
