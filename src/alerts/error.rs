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
    #[error("no alert {0}")]
    NoAlert(i64),
    /// The write would break a uniqueness rule.
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    /// A CSV file with invalid rows; nothing was written. The report lists every problem.
    #[error(
        "{} of {} rows are invalid; nothing was imported; first: {}",
        .0.invalid,
        .0.total,
        .0.errors.first().map(|e| e.to_string()).unwrap_or_default()
    )]
    InvalidRows(Box<crate::alerts::rules_csv::ImportReport>),
    /// The file cannot be read as CSV at all (encoding, quoting, header).
    #[error("{0}")]
    BadFile(String),
    /// The file has more rows than an import takes.
    #[error("{0}")]
    TooLarge(String),
    #[error("database unavailable: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
}

impl AlertError {
    /// A field's problem.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<crate::mappings::MappingError> for AlertError {
    /// The CSV reader is the mappings import's; its file-level errors keep their wording.
    fn from(e: crate::mappings::MappingError) -> Self {
        use crate::mappings::MappingError as E;
        match e {
            E::TooLarge(message) => Self::TooLarge(message),
            E::EmptyFile => Self::BadFile("the file is empty: it needs a header line".into()),
            other => Self::BadFile(other.to_string()),
        }
    }
}

impl AlertError {
    /// PostgreSQL is down or unreachable (503 rather than 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Pool(_) => true,
            Self::Db(e) => crate::submissions::error::is_connection_error(e),
            _ => false,
        }
    }
}
