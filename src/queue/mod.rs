//! Redis (fred): the clients, and the job queue built on them.

pub mod redis;

pub use redis::{RedisClients, connect};
