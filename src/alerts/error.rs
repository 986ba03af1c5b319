//! The alerts' one error type, mapped to HTTP statuses in `http/alert_rules.rs`.

/// One problem of one CSV row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The line in the file as a spreadsheet numbers it: the header is line 1, the first rule 2.
    pub row: usize,
    /// The column (or parameter) at fault.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}: {}", self.row, self.field, self.message)
    }
}

/// Why an alert rule could not be read, validated or written.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// A field of a rule is invalid; `field` is its name (`data_element`, `params.k`, …).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no alert rule {0}")]
    NotFound(String),
    /// The write would break a uniqueness rule.
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    /// A CSV file with invalid rows; nothing was written.
    #[error("{} invalid row(s), nothing imported; first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
    Rows(Vec<RowError>),
    #[error("database unavailable: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
}

impl AlertError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
