//! Outbreak alerts: the rules that say which disease is checked how ([`rules`]), their CSV
//! import and export ([`rules_csv`]), the original program's rule lists as an import source
//! ([`rules_original`]), the run that evaluates them and records alerts ([`run`]), reading and
//! acknowledging alerts ([`listing`]), and the one error type ([`error`]).

pub mod error;
pub mod evaluate;
pub mod fetch;
pub mod listing;
pub mod record;
pub mod rules;
pub mod rules_csv;
pub mod rules_original;
pub mod run;

pub use error::{AlertError, RowError};
pub use rules::{AlertRule, Severity, enabled_rules};
