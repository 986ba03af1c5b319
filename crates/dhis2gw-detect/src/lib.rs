//! dhis2gw's outbreak-detection engine: pure functions over weekly case counts.
//!
//! This crate does no I/O and depends on no runtime, database or HTTP library, so the daemon,
//! its benchmarks and property tests can all call it alone. It owns the ISO week ([`IsoWeek`]),
//! which the daemon uses as well, the weekly series ([`WeeklySeries`]), the result of assessing
//! one week ([`Assessment`]) and the methods ([`Method`]): one module per family of methods.

mod consecutive;
mod cusum;
mod ears;
mod error;
pub mod farrington;
mod historical;
mod idsr;
mod method;
mod params;
mod series;
mod simple;
mod stats;
mod week;
mod wording;

pub use cusum::{Cusum, Transform};
pub use ears::{Ears, EarsVariant};
pub use error::DetectError;
pub use historical::{Historical, Percentile, SameWeeks};
pub use idsr::{Incidence, RollingSum};
pub use method::{METHOD_NAMES, Method, MissingPolicy};
pub use series::{Assessment, WeeklySeries};
pub use simple::{Doubling, RatioToMean, Threshold};
pub use week::{IsoWeek, IsoWeekError, weeks_in_year};
