//! The one sentence that explains a Farrington or Noufaily assessment to a district officer.

use super::FarringtonParams;

/// What the sentence is about.
pub(super) enum Outcome {
    /// No model could be fitted to the previous years.
    NoModel,
    /// The bound exists but the case minimum is not met (`recent` cases in the last weeks).
    TooFewCases { recent: f64 },
    /// A week among the last few is missing, so the minimum cannot be checked.
    RecentWeekMissing,
    /// Compared with the bound.
    Compared { alarm: bool },
}

/// A count as people say it: whole numbers without decimals, others with one.
pub(super) fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn cases(x: f64) -> String {
    if x == 1.0 {
        "1 case".to_owned()
    } else {
        format!("{} cases", number(x))
    }
}

/// Where the expected count comes from, e.g. "the same weeks (± 3) of the previous 5 years".
fn source(params: &FarringtonParams, trend: bool) -> String {
    let years = if params.b == 1 {
        "the previous year".to_owned()
    } else {
        format!("the previous {} years", params.b)
    };
    let weeks = if params.no_periods == 1 {
        format!("the same weeks (± {}) of {years}", params.w)
    } else {
        format!("{years}, season by season")
    };
    if trend && params.no_periods > 1 {
        format!("{weeks}, and their trend")
    } else if trend {
        format!("{weeks} and their trend")
    } else {
        weeks
    }
}

/// The sentence for `outcome`; `expected` and `upper` are the model's, when it has them.
pub(super) fn sentence(
    params: &FarringtonParams,
    outcome: Outcome,
    y: Option<f64>,
    expected: Option<f64>,
    upper: Option<f64>,
    trend: bool,
) -> String {
    let from = source(params, trend);
    let bound = match (expected, upper) {
        (Some(e), Some(u)) => format!(
            "expected {}, upper bound {} from {from}",
            number(e),
            number(u)
        ),
        _ => format!("no upper bound could be drawn from {from}"),
    };
    let minimum = number(params.limit54_cases);
    let period = params.limit54_period;
    match (outcome, y) {
        (_, None) => "No count was reported for this week.".to_owned(),
        (Outcome::NoModel, Some(_)) => {
            format!("No baseline could be fitted to the counts of {from}, so no alert.")
        }
        (Outcome::TooFewCases { recent }, Some(_)) => format!(
            "{} in the last {period} weeks, fewer than the {minimum} needed for an alert ({bound}).",
            cases(recent)
        ),
        (Outcome::RecentWeekMissing, Some(_)) => format!(
            "A week among the last {period} has no count, so the minimum of {minimum} cases \
             cannot be checked and no alert is raised."
        ),
        (Outcome::Compared { alarm: true }, Some(y)) => match upper {
            Some(u) => format!(
                "{}, above the upper bound {} expected from {from} (expected {}).",
                cases(y),
                number(u),
                number(expected.unwrap_or(f64::NAN))
            ),
            None => format!("{}; {bound}.", cases(y)),
        },
        (Outcome::Compared { alarm: false }, Some(y)) => match upper {
            Some(u) => format!(
                "{}, within the upper bound {} expected from {from} (expected {}).",
                cases(y),
                number(u),
                number(expected.unwrap_or(f64::NAN))
            ),
            None => format!("{}; {bound}, so no alert.", cases(y)),
        },
    }
}
