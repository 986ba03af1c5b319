//! Outbreak alerts: the rules that say which disease is checked how ([`rules`]), their CSV
//! import and export ([`rules_csv`]), and the one error type ([`error`]).

pub mod error;
pub mod evaluate;
pub mod fetch;
pub mod record;
pub mod rules;
pub mod rules_csv;
pub mod run;

pub use error::{AlertError, RowError};
pub use rules::{AlertRule, Severity, enabled_rules};
