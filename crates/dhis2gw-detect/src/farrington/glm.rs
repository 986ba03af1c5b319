//! The quasi-Poisson log-linear model of Farrington's method, fitted as R's `glm.fit` fits it.
//!
//! The model is `log μ_i = a_{g(i)} + β·t_i`: one level per seasonal group (R's intercept plus
//! treatment contrasts span the same space, so fitted values, hat values, dispersion, the trend's
//! test and the prediction are the same) and an optional trend `β`. Because each week belongs to
//! one group, the weighted least-squares step of IRLS has a closed form: the trend is the
//! within-group regression of the working response on time, each level the group's weighted
//! mean less the trend. No matrix is ever formed, which keeps an assessment in microseconds.
//!
//! To agree with R to the last digits the iteration is R's, step for step: start from
//! `μ = y + 0.1`, weights and working response from the previous step's `μ`, `μ = max(e^η, ε)`,
//! stop when `|D − D_old| / (|D| + 0.1) < 1e-8` (deviance `D`) or after 25 steps. As in R, the
//! weights kept with the fit (used for hat values and standard errors) are those of the last
//! step, computed before its update.

use super::reference::BaselineWeek;

/// R's `glm.control()`: `epsilon` and `maxit`.
const EPSILON: f64 = 1e-8;
const MAX_ITERATIONS: usize = 25;

/// A fitted model, with what R keeps in a `glm` object that Farrington's method reads.
#[derive(Debug)]
pub(super) struct Fit {
    /// Level of each group (`None` for a group without weeks of positive weight, which R drops
    /// as aliased).
    pub levels: Vec<Option<f64>>,
    /// The trend per week, when fitted.
    pub beta: Option<f64>,
    pub converged: bool,
    /// Fitted means.
    pub mu: Vec<f64>,
    /// Working residuals `(y − μ)/μ`.
    pub residuals: Vec<f64>,
    /// Working weights of the last step (R's `weights(fit, "working")`).
    pub working_weights: Vec<f64>,
    /// Residual degrees of freedom: weeks of positive weight less the parameters.
    pub df_residual: f64,
    /// Per group: total working weight and weighted mean time.
    group_weight: Vec<f64>,
    group_time: Vec<f64>,
    /// Within-group sum of squares of time, the trend's information.
    time_ss: f64,
}

/// R's `make.link("log")`: `linkinv` and `mu.eta` are both `max(e^η, ε)`.
fn inverse_link(eta: f64) -> f64 {
    eta.exp().max(f64::EPSILON)
}

/// R's `quasipoisson()$dev.resids`, summed.
fn deviance(weeks: &[BaselineWeek], mu: &[f64], prior: &[f64]) -> f64 {
    weeks
        .iter()
        .zip(mu)
        .zip(prior)
        .map(|((week, &mu), &wt)| {
            let y = week.y;
            let r = if y > 0.0 {
                wt * (y * (y / mu).ln() - (y - mu))
            } else {
                mu * wt
            };
            2.0 * r
        })
        .sum()
}

/// One weighted least-squares step: the levels and trend minimising
/// `Σ w_i (z_i − a_{g(i)} − β t_i)²`, with the group statistics that the fit keeps.
struct Step {
    levels: Vec<Option<f64>>,
    beta: Option<f64>,
    group_weight: Vec<f64>,
    group_time: Vec<f64>,
    time_ss: f64,
}

fn least_squares(
    weeks: &[BaselineWeek],
    groups: usize,
    z: &[f64],
    w: &[f64],
    trend: bool,
) -> Option<Step> {
    let mut sw = vec![0.0; groups];
    let mut swt = vec![0.0; groups];
    let mut swz = vec![0.0; groups];
    for ((week, &z), &w) in weeks.iter().zip(z).zip(w) {
        sw[week.group] += w;
        swt[week.group] += w * week.t;
        swz[week.group] += w * z;
    }
    let mean = |s: &[f64]| -> Vec<f64> {
        s.iter()
            .zip(&sw)
            .map(|(s, &w)| if w > 0.0 { s / w } else { 0.0 })
            .collect()
    };
    let (t_bar, z_bar) = (mean(&swt), mean(&swz));
    let mut beta = None;
    let mut time_ss = 0.0;
    if trend {
        let (mut stt, mut stz, mut scale) = (0.0, 0.0, 0.0);
        for ((week, &z), &w) in weeks.iter().zip(z).zip(w) {
            let dt = week.t - t_bar[week.group];
            stt += w * dt * dt;
            stz += w * dt * (z - z_bar[week.group]);
            scale += w * week.t * week.t;
        }
        // Time constant within every group: the trend cannot be told from the levels (R's
        // QR would flag a column as aliased, with a tolerance of 1e-11 on column norms).
        if stt <= 1e-22 * scale {
            return None;
        }
        beta = Some(stz / stt);
        time_ss = stt;
    }
    let b = beta.unwrap_or(0.0);
    let levels = (0..groups)
        .map(|g| (sw[g] > 0.0).then(|| z_bar[g] - b * t_bar[g]))
        .collect();
    Some(Step {
        levels,
        beta,
        group_weight: sw,
        group_time: t_bar,
        time_ss,
    })
}

fn linear_predictor(levels: &[Option<f64>], beta: Option<f64>, week: &BaselineWeek) -> f64 {
    // A group without weight has no weeks that count; its level never reaches a fitted value
    // that matters (R drops its column, leaving those weeks at the reference level).
    levels[week.group].unwrap_or(0.0) + beta.unwrap_or(0.0) * week.t
}

/// Fits the model by IRLS with prior weights `prior` (all 1 for Farrington's first fit).
/// `None` when the model cannot be set up (no week of positive weight, or a trend that time
/// cannot identify).
pub(super) fn fit(
    weeks: &[BaselineWeek],
    groups: usize,
    prior: &[f64],
    trend: bool,
) -> Option<Fit> {
    let n = weeks.len();
    let n_ok = prior.iter().filter(|&&w| w != 0.0).count();
    if n_ok == 0 {
        return None;
    }
    // R's quasipoisson()$initialize: mustart = y + 0.1, then eta = log(mustart).
    let mut eta: Vec<f64> = weeks.iter().map(|w| (w.y + 0.1).ln()).collect();
    let mut mu: Vec<f64> = eta.iter().map(|&e| inverse_link(e)).collect();
    let mut dev_old = deviance(weeks, &mu, prior);
    let mut z = vec![0.0; n];
    let mut w = vec![0.0; n];
    let mut converged = false;
    let mut last = None;
    for _ in 0..MAX_ITERATIONS {
        for i in 0..n {
            let mu_eta = inverse_link(eta[i]);
            z[i] = eta[i] + (weeks[i].y - mu[i]) / mu_eta;
            // w² = prior · mu.eta² / variance(mu); weeks of zero prior weight drop out.
            w[i] = prior[i] * mu_eta * mu_eta / mu[i];
        }
        let step = least_squares(weeks, groups, &z, &w, trend)?;
        for (i, week) in weeks.iter().enumerate() {
            eta[i] = linear_predictor(&step.levels, step.beta, week);
            mu[i] = inverse_link(eta[i]);
        }
        let dev = deviance(weeks, &mu, prior);
        if !dev.is_finite() {
            // R would halve the step; a log-linear count model only gets here when e^η
            // overflows, which no weekly count series does.
            return None;
        }
        last = Some(step);
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < EPSILON {
            converged = true;
            break;
        }
        dev_old = dev;
    }
    let step = last?;
    let residuals = weeks
        .iter()
        .zip(&mu)
        .zip(&eta)
        .map(|((week, &mu), &eta)| (week.y - mu) / inverse_link(eta))
        .collect();
    let rank = step.levels.iter().flatten().count() + usize::from(step.beta.is_some());
    Some(Fit {
        levels: step.levels,
        beta: step.beta,
        converged,
        mu,
        residuals,
        working_weights: w,
        df_residual: n_ok as f64 - rank as f64,
        group_weight: step.group_weight,
        group_time: step.group_time,
        time_ss: step.time_ss,
    })
}

impl Fit {
    /// `Σ weights·r² / df` over the weeks of positive weight: R's `summary.glm` dispersion for
    /// the given weights (the working weights give the Pearson estimate).
    pub fn dispersion_with(&self, weights: &[f64]) -> f64 {
        let sum: f64 = weights
            .iter()
            .zip(&self.residuals)
            .filter(|(w, _)| **w > 0.0)
            .map(|(w, r)| w * r * r)
            .sum();
        sum / self.df_residual
    }

    /// The Pearson dispersion `Σ w_i (y_i − μ_i)² / μ_i / df`.
    pub fn dispersion(&self) -> f64 {
        self.dispersion_with(&self.working_weights)
    }

    /// Diagonal of the hat matrix `W^½ X (XᵀWX)⁻¹ XᵀW^½`, with R's rounding of values within
    /// 10ε of 1 to 1 (`lm.influence`).
    pub fn hat_values(&self, weeks: &[BaselineWeek]) -> Vec<f64> {
        weeks
            .iter()
            .zip(&self.working_weights)
            .map(|(week, &w)| {
                let h = w * self.unscaled_variance(week.group, week.t);
                if h > 1.0 - 10.0 * f64::EPSILON {
                    1.0
                } else {
                    h
                }
            })
            .collect()
    }

    /// `xᵀ(XᵀWX)⁻¹x` for a week of `group` at time `t`: the variance of its linear predictor
    /// before scaling by the dispersion.
    pub fn unscaled_variance(&self, group: usize, t: f64) -> f64 {
        let mut v = 1.0 / self.group_weight[group];
        if self.beta.is_some() {
            let dt = t - self.group_time[group];
            v += dt * dt / self.time_ss;
        }
        v
    }

    /// The linear predictor of a week of `group` at time `t`; `None` for a group without weeks.
    pub fn linear_predictor(&self, group: usize, t: f64) -> Option<f64> {
        Some(self.levels[group]? + self.beta.unwrap_or(0.0) * t)
    }

    /// The two-sided p-value of the trend, from a t distribution with the residual degrees of
    /// freedom (R's `summary.glm` for a family with estimated dispersion).
    pub fn trend_p_value(&self, dispersion: f64) -> Option<f64> {
        let beta = self.beta?;
        let se = (dispersion / self.time_ss).sqrt();
        let t = (beta / se).abs();
        let dist = statrs::distribution::StudentsT::new(0.0, 1.0, self.df_residual).ok()?;
        let p = 2.0 * statrs::distribution::ContinuousCDF::cdf(&dist, -t);
        p.is_finite().then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weeks(ys: &[f64]) -> Vec<BaselineWeek> {
        ys.iter()
            .enumerate()
            .map(|(i, &y)| BaselineWeek {
                y,
                t: i as f64,
                group: 0,
            })
            .collect()
    }

    #[test]
    fn one_group_without_trend_fits_the_mean() {
        let data = weeks(&[3.0, 5.0, 4.0, 8.0]);
        let fit = fit(&data, 1, &[1.0; 4], false).unwrap();
        assert!(fit.converged);
        assert!((fit.mu[0] - 5.0).abs() < 1e-9, "{:?}", fit.mu);
        // Near the Pearson Σ (y − 5)²/5 / 3 = 14/15 but not equal: the weights are those of the
        // step before the last. R: summary(glm(c(3, 5, 4, 8) ~ 1, quasipoisson))$dispersion.
        let r = 0.933_335_250_975_483_6;
        assert!(
            (fit.dispersion() - r).abs() < 1e-12 * r,
            "{}",
            fit.dispersion()
        );
        let hat = fit.hat_values(&data);
        assert!(hat.iter().all(|h| (h - 0.25).abs() < 1e-9), "{hat:?}");
    }

    #[test]
    fn a_trend_follows_a_log_linear_rise() {
        let data = weeks(&[2.0, 4.0, 8.0, 16.0, 32.0]);
        let fit = fit(&data, 1, &[1.0; 5], true).unwrap();
        assert!(
            (fit.beta.unwrap() - 2f64.ln()).abs() < 1e-6,
            "{:?}",
            fit.beta
        );
        assert!(fit.trend_p_value(fit.dispersion().max(1.0)).unwrap() < 0.01);
    }
}
