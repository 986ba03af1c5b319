//! Redis (fred): the clients, and the job queue built on them (layout in `docs/queue.md`).

mod drain;
pub mod jobs;
pub mod rate;
pub mod redis;
mod scripts;
pub mod worker;

pub use drain::PendingRun;
pub use jobs::{JobQueue, Lease, QueueError, QueueStats, Settle};
pub use redis::{RedisClients, connect};
pub use worker::{Gate, InFlight, JobHandler, Outcome, WorkerConfig, WorkerPool};
