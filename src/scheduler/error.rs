//! The scheduler's one error type, mapped to HTTP statuses in `http/error.rs`.

/// Why a job could not be claimed or its runs read.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("unknown job {0:?}: the jobs are sync, retry, threshold and directory")]
    UnknownJob(String),
    #[error("job {job} is already running (run #{run} on {instance})")]
    AlreadyRunning {
        job: &'static str,
        run: i64,
        instance: String,
    },
    #[error("database unavailable: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
}
