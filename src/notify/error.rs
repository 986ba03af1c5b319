//! The notifications' one error type, mapped to HTTP statuses in `src/http/error.rs`.

/// Why a notification could not be planned, sent, listed or configured.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A configuration value (template, SMTP, SMS gateway, Telegram) is unusable.
    #[error("notifications configuration: {0}")]
    Config(String),
    /// A request value (filter, address) is invalid.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no delivery {0}")]
    NotFound(i64),
    /// The channel has no provider configured.
    #[error("the {0} channel is not configured")]
    NotConfigured(&'static str),
    /// The DHIS2 user directory could not be read.
    #[error("DHIS2 user directory: {0}")]
    Directory(String),
    #[error("queue: {0}")]
    Queue(#[from] crate::queue::QueueError),
    #[error("database unavailable: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
}

impl NotifyError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
