//! Upper bounds from a prediction: Farrington's power-transformed normal interval (`delta`) and
//! Noufaily's negative binomial quantile (`nbPlugin`, `muan`), as R `surveillance`'s
//! `algo.farrington.threshold.farrington` and `algo.farrington.threshold.noufaily` draw them,
//! with their exceedance scores.

use statrs::distribution::{ContinuousCDF, DiscreteCDF, NegativeBinomial, Normal, Poisson};

use super::params::PowerTransform;

/// An upper bound and the week's exceedance score `(y − f)/(U − f)`.
#[derive(Debug, PartialEq)]
pub(super) struct Bound {
    pub upper: Option<f64>,
    pub score: Option<f64>,
}

/// `z_{1−α}`.
pub(super) fn z(alpha: f64) -> f64 {
    Normal::standard().inverse_cdf(1.0 - alpha)
}

/// Farrington (1996), eq. (3) and §3.3: with `h(x) = x^e`, `τ = φ + Var(μ̂₀)/μ̂₀` and the
/// delta-method standard deviation of `h(y₀) − h(μ̂₀)`, `U = (μ̂₀^e + z_{1−α}·se)^{1/e}`.
/// `mu0` and `se_mu0` are on the count scale; the score is `(y − μ̂₀)/(U − μ̂₀)`.
pub(super) fn delta(
    mu0: f64,
    se_mu0: f64,
    phi: f64,
    transform: PowerTransform,
    alpha: f64,
    y: Option<f64>,
) -> Bound {
    let tau = phi + se_mu0 * se_mu0 / mu0;
    let se = match transform {
        PowerTransform::Identity => (mu0 * tau).sqrt(),
        PowerTransform::Half => (tau / 4.0).sqrt(),
        PowerTransform::TwoThirds => (4.0 / 9.0 * mu0.powf(1.0 / 3.0) * tau).sqrt(),
    };
    let e = transform.exponent();
    let upper = (mu0.powf(e) + z(alpha) * se).powf(1.0 / e);
    let upper = upper.is_finite().then_some(upper);
    Bound {
        upper,
        score: score(y, mu0, upper),
    }
}

/// Noufaily et al. (2013): the `1 − α` quantile of a negative binomial with mean `μ` and
/// variance `φμ` (a Poisson when `φ = 1`), `μ = e^{η̂₀}` (`nbPlugin`) or, with `muan`,
/// `μ = e^{η̂₀ + z_{1−α} se(η̂₀)}`. R scores this bound against the linear predictor `η̂₀`, not
/// the mean: `(y − η̂₀)/(U − η̂₀)`, which exceeds 1 exactly when `y > U`; dhis2gw reports R's
/// score unchanged.
pub(super) fn negative_binomial(
    eta0: f64,
    se_eta0: f64,
    phi: f64,
    alpha: f64,
    muan: bool,
    y: Option<f64>,
) -> Bound {
    let mu = if muan {
        (eta0 + se_eta0 * z(alpha)).exp()
    } else {
        eta0.exp()
    };
    let upper = if mu.is_finite() {
        quantile(mu, phi, 1.0 - alpha)
    } else {
        None
    };
    Bound {
        upper,
        score: score(y, eta0, upper),
    }
}

fn score(y: Option<f64>, centre: f64, upper: Option<f64>) -> Option<f64> {
    let s = (y? - centre) / (upper? - centre);
    (!s.is_nan()).then_some(s)
}

/// The smallest count `k` with `P(Y ≤ k) ≥ p` (R's `qnbinom(p, size = μ/(φ−1), prob = 1/φ)`,
/// or `qpois(p, μ)` when `φ = 1`).
fn quantile(mu: f64, phi: f64, p: f64) -> Option<f64> {
    if mu <= 0.0 {
        return Some(0.0);
    }
    let cdf: Box<dyn Fn(u64) -> f64> = if phi > 1.0 {
        let nb = NegativeBinomial::new(mu / (phi - 1.0), 1.0 / phi).ok()?;
        Box::new(move |k| nb.cdf(k))
    } else {
        let pois = Poisson::new(mu).ok()?;
        Box::new(move |k| pois.cdf(k))
    };
    // Start from the normal approximation, bracket, then bisect.
    let guess = (mu + z(1.0 - p) * (phi * mu).sqrt()).max(0.0).floor();
    let guess = if guess < 1e15 {
        guess as u64
    } else {
        return None;
    };
    let (mut lo, mut hi) = if cdf(guess) >= p {
        // Find a k below with F(k) < p, or stop at 0.
        let mut step = 1;
        let mut hi = guess;
        loop {
            let lo = hi.saturating_sub(step);
            if cdf(lo) < p {
                break (lo, hi);
            }
            if lo == 0 {
                return Some(0.0);
            }
            hi = lo;
            step *= 2;
        }
    } else {
        let mut step = 1;
        let mut lo = guess;
        loop {
            let hi = lo.checked_add(step)?;
            if cdf(hi) >= p {
                break (lo, hi);
            }
            lo = hi;
            step = step.checked_mul(2)?;
        }
    };
    // Invariant: F(lo) < p ≤ F(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if cdf(mid) >= p {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_known_values() {
        // qpois(0.95, 10) = 15, qpois(0.95, 0.01) = 0.
        assert_eq!(quantile(10.0, 1.0, 0.95), Some(15.0));
        assert_eq!(quantile(0.01, 1.0, 0.95), Some(0.0));
        // qnbinom(0.95, size = 5, prob = 0.5) = 11 (mean 5, φ = 2).
        assert_eq!(quantile(5.0, 2.0, 0.95), Some(11.0));
        // qnbinom(0.99, size = 0.5, prob = 0.01) = 330 (mean 49.5, φ = 100).
        assert_eq!(quantile(49.5, 100.0, 0.99), Some(330.0));
    }

    #[test]
    fn the_delta_bound_lies_above_the_mean() {
        let b = delta(10.0, 1.0, 1.0, PowerTransform::TwoThirds, 0.05, Some(10.0));
        // R: (10^(2/3) + qnorm(0.95) * sqrt(4/9 * 10^(1/3) * 1.1))^1.5 = 15.9248.
        let upper = b.upper.unwrap();
        assert!((upper - 15.9248).abs() < 1e-4, "{upper}");
        assert_eq!(b.score, Some(0.0));
    }
}
