//! Farrington et al. (1996) and its improved form by Noufaily et al. (2013), as R
//! `surveillance`'s `farringtonFlexible` (version 1.20.3) computes them.
//!
//! For an assessed week: take the weeks around the same time of the previous `b` years
//! ([`reference`]), fit a quasi-Poisson log-linear model with an optional trend ([`glm`]),
//! down-weight past outbreaks and refit ([`reweight`]), keep the trend only when it is
//! significant and sensible ([`model`]), and draw the upper bound ([`threshold`]). An alarm
//! needs the count above the bound and, by R's `limit54` rule, at least 5 cases in the last 4
//! weeks. dhis2gw reports what R reports: `expected` and `upper_bound` only when the case
//! minimum is met, R's exceedance `score` always, the alarm only when the count is not zero.

mod glm;
mod model;
mod params;
mod reason;
mod reference;
mod reweight;
mod threshold;

pub use params::{FarringtonParams, PowerTransform, Threshold};

use crate::{Assessment, DetectError, IsoWeek, WeeklySeries};
use reason::Outcome;

/// Assesses `week` of `series`. `NotEnoughHistory` when the oldest reference window starts
/// before the series; a week whose baseline cannot be modelled (no counts in it, say) gets no
/// bound and no alarm, as R's `NA`.
pub fn assess(
    series: &WeeklySeries,
    week: IsoWeek,
    params: &FarringtonParams,
) -> Result<Assessment, DetectError> {
    params.check()?;
    let now = reference::index_of(series, week)?;
    let base = reference::baseline(series, now, params)?;
    let y = series.counts()[now];
    let assessment = |expected, upper_bound, score, alarm, reason| Assessment {
        week,
        count: y,
        expected,
        upper_bound,
        score,
        alarm,
        reason,
    };
    let Some(prediction) = model::predict(&base, params) else {
        let reason = reason::sentence(params, Outcome::NoModel, y, None, None, false);
        return Ok(assessment(None, None, None, false, reason));
    };

    let (bound, expected) = match params.threshold {
        Threshold::Delta => {
            let (mu0, se_mu0) = prediction.mean_and_se();
            let bound = threshold::delta(
                mu0,
                se_mu0,
                prediction.phi,
                params.powertrans,
                params.alpha,
                y,
            );
            (bound, mu0)
        }
        Threshold::NbPlugin | Threshold::Muan => {
            let bound = threshold::negative_binomial(
                prediction.eta0,
                prediction.se_eta0,
                prediction.phi,
                params.alpha,
                params.threshold == Threshold::Muan,
                y,
            );
            (bound, prediction.eta0.exp())
        }
    };
    let expected = bound.upper.map(|_| expected);

    // R's limit54: the cases of the last `period` weeks, this one included; a missing week
    // makes the sum unknown, and an unknown minimum is not met.
    let first = (now + 1).saturating_sub(params.limit54_period as usize);
    let recent: Option<f64> = series.counts()[first..=now].iter().copied().sum();
    let enough = recent.map(|r| r >= params.limit54_cases);

    let (expected_shown, upper_shown) = if enough == Some(true) {
        (expected, bound.upper)
    } else {
        (None, None)
    };
    let alarm =
        enough == Some(true) && bound.score.is_some_and(|s| s > 1.0) && y.is_some_and(|y| y != 0.0);
    let outcome = match (enough, recent) {
        (Some(true), _) => Outcome::Compared { alarm },
        (Some(false), Some(recent)) => Outcome::TooFewCases { recent },
        _ => Outcome::RecentWeekMissing,
    };
    let reason = reason::sentence(params, outcome, y, expected, bound.upper, prediction.trend);
    Ok(assessment(
        expected_shown,
        upper_shown,
        bound.score,
        alarm,
        reason,
    ))
}
