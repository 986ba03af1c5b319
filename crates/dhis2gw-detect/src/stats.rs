//! The few summary statistics the methods share, computed as R computes them so that the
//! engine agrees with R `surveillance` to the last digits: mean, sample standard deviation
//! (divisor n − 1, R's `sd()`), and quantiles by R's default rule (type 7).

/// Mean and sample standard deviation of some reported counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Summary {
    pub n: usize,
    pub mean: f64,
    /// `NaN` when fewer than two values.
    pub sd: f64,
}

/// Two passes (mean first, then squared deviations), as R's `mean` and `sd` do: a one-pass
/// formula loses digits when counts are large and nearly equal.
pub(crate) fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    if n == 0 {
        return Summary {
            n,
            mean: f64::NAN,
            sd: f64::NAN,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n < 2 {
        f64::NAN
    } else {
        let squares: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
        (squares / (n - 1) as f64).sqrt()
    };
    Summary { n, mean, sd }
}

/// The `p` quantile by R's default `quantile(x, p)` (type 7, also Excel's PERCENTILE.INC):
/// sort, then interpolate linearly at position h = (n − 1)·p. `None` for no values.
pub(crate) fn quantile_type7(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let h = (sorted.len() - 1) as f64 * p;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    Some(sorted[below] + (h - below as f64) * (sorted[above] - sorted[below]))
}

/// [`summarize`] over the reported values (the `Some`s) of a stretch of counts, without
/// collecting them: this runs for every baseline of every assessed week.
pub(crate) fn summarize_reported(counts: &[Option<f64>]) -> Summary {
    let (n, total) = counts
        .iter()
        .flatten()
        .fold((0usize, 0.0), |(n, total), x| (n + 1, total + x));
    if n == 0 {
        return summarize(&[]);
    }
    let mean = total / n as f64;
    let sd = if n < 2 {
        f64::NAN
    } else {
        let squares: f64 = counts
            .iter()
            .flatten()
            .map(|x| (x - mean) * (x - mean))
            .sum();
        (squares / (n - 1) as f64).sqrt()
    };
    Summary { n, mean, sd }
}

/// The reported values (the `Some`s) of a stretch of counts.
pub(crate) fn reported(counts: &[Option<f64>]) -> Vec<f64> {
    counts.iter().flatten().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_sd_divides_by_n_minus_one() {
        let s = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean, 5.0);
        assert!((s.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!(summarize(&[3.0]).sd.is_nan());
        let gappy = summarize_reported(&[
            Some(2.0),
            None,
            Some(4.0),
            Some(4.0),
            Some(4.0),
            Some(5.0),
            Some(5.0),
            None,
            Some(7.0),
            Some(9.0),
        ]);
        assert_eq!(gappy, s);
    }

    #[test]
    fn type7_interpolates_between_order_statistics() {
        // R: quantile(c(1, 2, 3, 4), 0.75) = 3.25; quantile(c(7, 1, 3), 0.75) = 5.
        assert_eq!(quantile_type7(&[1.0, 2.0, 3.0, 4.0], 0.75), Some(3.25));
        assert_eq!(quantile_type7(&[7.0, 1.0, 3.0], 0.75), Some(5.0));
        assert_eq!(quantile_type7(&[4.0], 0.75), Some(4.0));
        assert_eq!(quantile_type7(&[], 0.75), None);
    }
}
