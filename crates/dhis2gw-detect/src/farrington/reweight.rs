//! Down-weighting past outbreaks (Farrington et al. 1996, §3.4): weeks whose standardised
//! Anscombe residual exceeds a threshold count less in the refit, so an old epidemic does not
//! raise this year's bound. R `surveillance`'s `anscombe.residuals` and
//! `algo.farrington.assign.weights`.

use super::glm::Fit;
use super::reference::BaselineWeek;

/// Standardised Anscombe residuals of a Poisson-type fit with dispersion `phi`:
/// `s_i = 3/2 (y_i^{2/3} μ_i^{−1/6} − μ_i^{1/2}) / √(φ (1 − h_ii))`.
pub(super) fn anscombe_residuals(fit: &Fit, weeks: &[BaselineWeek], phi: f64) -> Vec<f64> {
    let hat = fit.hat_values(weeks);
    weeks
        .iter()
        .zip(&fit.mu)
        .zip(hat)
        .map(|((week, &mu), h)| {
            let raw = 1.5 * (week.y.powf(2.0 / 3.0) * mu.powf(-1.0 / 6.0) - mu.sqrt());
            raw / (phi * (1.0 - h)).sqrt()
        })
        .collect()
}

/// Weights `γ s_i^{−2}` for residuals above `threshold`, `γ` otherwise, with `γ` making them sum
/// to the number of weeks.
pub(super) fn weights(residuals: &[f64], threshold: f64) -> Vec<f64> {
    let unscaled = |s: f64| if s > threshold { s.powi(-2) } else { 1.0 };
    let total: f64 = residuals.iter().map(|&s| unscaled(s)).sum();
    let gamma = residuals.len() as f64 / total;
    residuals.iter().map(|&s| gamma * unscaled(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_residuals_lose_weight_and_weights_sum_to_n() {
        let w = weights(&[0.5, -2.0, 4.0, 1.0], 1.0);
        assert!((w.iter().sum::<f64>() - 4.0).abs() < 1e-12);
        assert!((w[2] / w[0] - 1.0 / 16.0).abs() < 1e-12);
        assert_eq!(w[0], w[1]);
        // At the threshold itself a week keeps full weight (R's `s > threshold`).
        assert_eq!(w[3], w[0]);
    }
}
