//! Typed DHIS2 Web API client (reqwest) and the parsers of every response shape DHIS2 2.36-2.41+
//! sends. What is sent and how each version's answer is read: `docs/dhis2.md`.

pub mod analytics;
pub mod analytics_grid;
mod body;
pub mod client;
pub mod error;
pub mod import_summary;
pub mod metadata;
mod response;
mod summary_fields;
pub mod tracker_alerts;
pub mod tracker_report;
mod url;
mod wire;

pub use client::{Dhis2Client, TrackerMode};
pub use error::Dhis2Error;
pub use import_summary::{
    Conflict, ImportCounts, ImportOutcome, ImportStatus, parse_data_value_set_response,
};
pub use tracker_report::{
    TrackerStart, parse_tracker_job_start, parse_tracker_report, tracker_job_completed,
};
pub use url::normalize_base_url;
