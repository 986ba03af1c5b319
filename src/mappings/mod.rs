//! Mappings from submitters' keys to DHIS2 data elements, option combos and org units: CRUD,
//! CSV/Excel import and export, DHIS2 metadata sync.
//!
//! - [`columns`], [`validate`]: the sheet's columns and one row made into a mapping.
//! - [`sheet`], [`csv_file`], [`excel_read`] (+ [`excel_guard`], [`ods_scan`]): files read into
//!   rows within [`sheet::ImportLimits`].
//! - [`plan`], [`import`]: what an import would do (modes, duplicates) and doing it in one
//!   transaction.
//! - [`references`]: mappings checked against the DHIS2 metadata [`sync`] stored.
//! - [`service`]: single-mapping CRUD and the filtered list; [`export`]: CSV/xlsx out.

pub mod columns;
pub mod csv_file;
pub mod excel_guard;
pub mod excel_read;
pub mod export;
pub mod import;
pub mod import_mode;
pub mod ods_scan;
pub mod plan;
pub mod references;
pub mod row_problem;
pub mod service;
pub mod sheet;
pub mod sync;
pub mod validate;

pub use import::{FileKind, ImportOptions, ImportReport};
pub use import_mode::ImportMode;
pub use row_problem::RowProblem;
pub use sheet::ImportLimits;
pub use validate::{Problem, RowValues};

/// Everything that can go wrong with mappings; `http::error` turns each into a status.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// A mapping given to the API is invalid; each problem names its field.
    #[error("the mapping is invalid")]
    Invalid(Vec<Problem>),
    /// An import has invalid rows; nothing was changed. The report says which and why.
    #[error("{} of {} rows are invalid; nothing was imported", .0.invalid, .0.total)]
    InvalidRows(Box<ImportReport>),
    /// The upload is not a readable file of the expected kind, or its header is wrong.
    #[error("{0}")]
    BadFile(String),
    #[error("the file is empty: it has no header row or no mapping rows")]
    EmptyFile,
    /// Reading the upload would take more rows or memory than the limits allow.
    #[error("{0}")]
    TooLarge(String),
    #[error("no mapping with uid {0}")]
    NotFound(String),
    /// Another mapping already has this key (or uid).
    #[error("{0}")]
    Conflict(String),
    /// A request that would delete every mapping without saying so.
    #[error("{0}")]
    Refused(String),
    /// Strict validation asked for, but DHIS2 metadata was never synced.
    #[error(
        "strict validation needs DHIS2 metadata: run `dhis2gw run-job sync` (or wait for api.sync_cron_expression) first"
    )]
    MetadataNotSynced,
    #[error("could not write the export: {0}")]
    Export(String),
    #[error("the DHIS2 metadata sync failed: {0}")]
    Sync(String),
    #[error("database unavailable")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error")]
    Db(#[from] tokio_postgres::Error),
    #[error("a background task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl MappingError {
    /// PostgreSQL is away (pool exhausted or closed connection), not a wrong statement.
    pub fn is_unavailable(&self) -> bool {
        match self {
            MappingError::Pool(_) => true,
            MappingError::Db(e) => {
                e.is_closed() || (e.as_db_error().is_none() && e.code().is_none())
            }
            _ => false,
        }
    }

    /// A unique-index violation on insert/update becomes a conflict naming the key.
    pub(crate) fn from_write(err: tokio_postgres::Error, what: impl FnOnce() -> String) -> Self {
        if err.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
            MappingError::Conflict(what())
        } else {
            MappingError::Db(err)
        }
    }
}
