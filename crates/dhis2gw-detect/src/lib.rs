//! dhis2gw's outbreak-detection engine: pure functions over weekly case counts.
//!
//! This crate does no I/O and depends on no runtime, database or HTTP library, so the daemon,
//! its benchmarks and property tests can all call it alone. It owns the ISO week ([`IsoWeek`]),
//! which the daemon uses as well, the weekly series ([`WeeklySeries`]) and the result of
//! assessing one week ([`Assessment`]).

mod error;
pub mod farrington;
mod series;
mod week;

pub use error::DetectError;
pub use series::{Assessment, WeeklySeries};
pub use week::{IsoWeek, IsoWeekError, weeks_in_year};
