//! From a baseline to a prediction for the assessed week: the first fit, the reweighted refit,
//! and the trend test that decides whether the trend stays (R `surveillance`'s
//! `algo.farrington.fitGLM.flexible` and `algo.farrington.glm`, version 1.20.3).

use super::glm::{self, Fit};
use super::reference::Baseline;
use super::{FarringtonParams, reweight};

/// The model's prediction for the assessed week.
#[derive(Debug, PartialEq)]
pub(super) struct Prediction {
    /// Linear predictor `η̂₀ = log μ̂₀` and its standard error.
    pub eta0: f64,
    pub se_eta0: f64,
    /// Dispersion `φ`, at least 1.
    pub phi: f64,
    /// Whether the trend was kept.
    pub trend: bool,
}

impl Prediction {
    /// The predicted mean as R's `predict(type = "response")` gives it, with its standard error.
    pub fn mean_and_se(&self) -> (f64, f64) {
        let mu = self.eta0.exp().max(f64::EPSILON);
        (mu, self.se_eta0 * mu)
    }
}

/// A fit with the two dispersions R uses: `phi` (Pearson, at least 1) for the threshold, and
/// `summary_dispersion` for standard errors and the trend's test. R's fitting function replaces
/// the fit's working weights by the Anscombe weights after the refit, so `summary.glm` and
/// `predict.glm` afterwards estimate the dispersion as `Σ ω_i r_i² / df` with the working
/// residuals `r_i = (y_i − μ̂_i)/μ̂_i`; dhis2gw does the same so that its bounds are R's.
struct Model {
    fit: Fit,
    phi: f64,
    summary_dispersion: f64,
}

/// R's `algo.farrington.fitGLM.flexible`: fit (without trend if that fails to converge),
/// then, with `reweight`, refit with Anscombe weights.
fn fit_flexible(base: &Baseline, params: &FarringtonParams, trend: bool) -> Option<Model> {
    let ones = vec![1.0; base.weeks.len()];
    let mut first = glm::fit(&base.weeks, base.groups, &ones, trend);
    let mut trend = trend;
    if trend && !first.as_ref().is_some_and(|f| f.converged) {
        first = glm::fit(&base.weeks, base.groups, &ones, false);
        trend = false;
    }
    let first = first.filter(|f| f.converged)?;
    let phi = first.dispersion().max(1.0);
    if !params.reweight {
        let summary_dispersion = first.dispersion();
        return Some(Model {
            fit: first,
            phi,
            summary_dispersion,
        });
    }
    let residuals = reweight::anscombe_residuals(&first, &base.weeks, phi);
    let omega = reweight::weights(&residuals, params.weights_threshold);
    // As in R, the refit's convergence is not checked.
    let fit = glm::fit(&base.weeks, base.groups, &omega, trend)?;
    let phi = fit.dispersion().max(1.0);
    let summary_dispersion = fit.dispersion_with(&omega);
    Some(Model {
        fit,
        phi,
        summary_dispersion,
    })
}

/// R's `algo.farrington.glm`: keep the trend only if it is significant at
/// `p_threshold_trend`, there are at least three years, and the trend does not predict more
/// than the largest baseline count; otherwise refit without it. `None` when no model can be
/// fitted (R's `NA` week).
pub(super) fn predict(base: &Baseline, params: &FarringtonParams) -> Option<Prediction> {
    let group = base.window_group?;
    if base.weeks.is_empty() {
        return None;
    }
    let mut model = fit_flexible(base, params, params.trend)?;
    let mut trend = model.fit.beta.is_some();
    if trend {
        let eta = model.fit.linear_predictor(group, base.t_now)?;
        let mu = eta.exp().max(f64::EPSILON);
        let p = model.fit.trend_p_value(model.summary_dispersion)?;
        let largest = base.weeks.iter().map(|w| w.y).fold(f64::MIN, f64::max);
        let keep = params.b >= 3 && p < params.p_threshold_trend && mu <= largest;
        if !keep {
            model = fit_flexible(base, params, false)?;
            trend = false;
        }
    }
    let eta0 = model.fit.linear_predictor(group, base.t_now)?;
    let variance = model.summary_dispersion * model.fit.unscaled_variance(group, base.t_now);
    let se_eta0 = variance.sqrt();
    (eta0.is_finite() && se_eta0.is_finite()).then_some(Prediction {
        eta0,
        se_eta0,
        phi: model.phi,
        trend,
    })
}
