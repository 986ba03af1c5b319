//! The engine's one error type: a bad parameter, or a series the method cannot assess.

/// Why a method could not be set up or could not assess a week. Messages name the parameter or
/// the week, so they can be shown to whoever wrote the rule.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DetectError {
    #[error("unknown method {0:?}")]
    UnknownMethod(String),
    #[error("parameter {name}: {problem}")]
    InvalidParameter { name: String, problem: String },
    #[error("{method} needs {needed} weeks of history before {week}, the series has {available}")]
    NotEnoughHistory {
        method: &'static str,
        week: crate::IsoWeek,
        needed: usize,
        available: usize,
    },
    #[error("week {week} has the count {count}: counts must be zero or more")]
    BadCount { week: crate::IsoWeek, count: f64 },
    #[error("week {0} is not in the series")]
    WeekOutsideSeries(crate::IsoWeek),
}

impl DetectError {
    /// A parameter error naming `name`.
    pub fn param(name: &str, problem: impl Into<String>) -> Self {
        Self::InvalidParameter {
            name: name.to_owned(),
            problem: problem.into(),
        }
    }
}
