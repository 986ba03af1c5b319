//! EARS C1, C2 and C3 (CDC's Early Aberration Reporting System; Hutwagner et al. 2003), with
//! R `surveillance::earsC`'s conventions: the threshold is z = qnorm(1 − alpha) (alpha 0.001 for
//! C1/C2, 0.025 for C3), the spread is the sample SD floored at `min_sigma`, and a week alarms
//! when its count is strictly above the bound.
//!
//! - C1: baseline = the `baseline` (7) weeks right before; bound = mean + z·σ.
//! - C2: the same after a `guard` of 2 weeks (weeks t−9 … t−3), so that the start of an outbreak
//!   does not inflate its own baseline.
//! - C3 (`mode = textbook`, the default): score = Σ_{i=t−2..t} max(0, C2_i − 1) with
//!   C2_i = (y_i − mean_i)/σ_i; alarm when the score is above z and the week has cases. The
//!   bound is the count at which that happens: mean + σ·(1 + z − L), L being the two earlier
//!   weeks' part of the score (0 when L alone is above z).
//! - C3 with `mode = earsc`: what R's `earsC(method = "C3")` computes, which ignores the current
//!   week's own C2: bound = max(0, y_t + σ_t·(z − L)), alarm when y_t is above it.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::method::Input;
use crate::params::Params;
use crate::stats::{Summary, summarize_reported};
use crate::wording::{self, Cases, Fig, not_reported};
use crate::{Assessment, DetectError};

/// Which EARS statistic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarsVariant {
    C1,
    C2,
    /// The textbook C3.
    C3,
    /// R `earsC`'s C3.
    C3Earsc,
}

/// `c1`, `c2` or `c3` with validated parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Ears {
    pub variant: EarsVariant,
    /// Weeks in the baseline (at least 3, as in R).
    pub baseline: usize,
    /// Weeks skipped between the baseline and the week assessed.
    pub guard: usize,
    /// The threshold in standard deviations, qnorm(1 − alpha) unless `z` is given.
    pub z: f64,
    pub min_sigma: f64,
}

/// One week's baseline: its summary and where it lies.
struct Baseline {
    summary: Summary,
    sigma: f64,
    first: usize,
    last: usize,
}

impl Ears {
    pub(crate) fn from_params(name: &str, p: &mut Params) -> Result<Self, DetectError> {
        let variant = match name {
            "c1" => EarsVariant::C1,
            "c2" => EarsVariant::C2,
            _ => match p.choice("mode", &["textbook", "earsc"])? {
                "textbook" => EarsVariant::C3,
                _ => EarsVariant::C3Earsc,
            },
        };
        let baseline = p.whole("baseline", 7, 3)?;
        let guard = p.whole("guard", if name == "c1" { 0 } else { 2 }, 0)?;
        let alpha = p.probability("alpha")?;
        let z = match (alpha, p.number("z")?) {
            (Some(_), Some(_)) => {
                return Err(DetectError::param("z", "give alpha or z, not both"));
            }
            (None, Some(z)) => z,
            (alpha, None) => {
                let alpha = alpha.unwrap_or(if name == "c3" { 0.025 } else { 0.001 });
                Normal::standard().inverse_cdf(1.0 - alpha)
            }
        };
        let min_sigma = p.at_least("min_sigma", 0.0, 0.0)?;
        Ok(Self {
            variant,
            baseline,
            guard,
            z,
            min_sigma,
        })
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.variant {
            EarsVariant::C1 => "c1",
            EarsVariant::C2 => "c2",
            EarsVariant::C3 | EarsVariant::C3Earsc => "c3",
        }
    }

    fn is_c3(&self) -> bool {
        matches!(self.variant, EarsVariant::C3 | EarsVariant::C3Earsc)
    }

    /// The baseline of the week at `index`: `baseline` weeks ending `guard` weeks before it.
    /// `None` when fewer than 3 of its weeks were reported (too few for a spread).
    fn baseline_of(&self, input: &Input, index: usize) -> Option<Baseline> {
        let last = index - self.guard - 1;
        let first = last + 1 - self.baseline;
        let summary = summarize_reported(&input.counts()[first..=last]);
        if summary.n < 3 {
            return None;
        }
        Some(Baseline {
            summary,
            sigma: summary.sd.max(self.min_sigma),
            first,
            last,
        })
    }

    /// (y − mean)/σ, with a flat baseline (σ = 0) giving ±∞ for any difference and 0 for none.
    fn standardized(y: f64, b: &Baseline) -> f64 {
        let diff = y - b.summary.mean;
        if b.sigma > 0.0 {
            diff / b.sigma
        } else if diff == 0.0 {
            0.0
        } else {
            diff.signum() * f64::INFINITY
        }
    }

    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        let needed = self.baseline + self.guard + if self.is_c3() { 2 } else { 0 };
        if index < needed {
            return Err(input.too_short(self.name(), index, needed));
        }
        let week = input.week(index);
        let count = input.count(index);
        let mut assessment = Assessment {
            week,
            count,
            expected: None,
            upper_bound: None,
            score: None,
            alarm: false,
            reason: String::new(),
        };
        let Some(base) = self.baseline_of(input, index) else {
            assessment.reason = format!(
                "Fewer than 3 of the {} baseline weeks were reported, so no bound can be set",
                self.baseline
            );
            return Ok(assessment);
        };
        assessment.expected = Some(base.summary.mean);
        let from = self.window_text(input, &base, index);
        if self.is_c3() {
            return Ok(self.c3(input, index, base, assessment, &from));
        }
        let bound = base.summary.mean + self.z * base.sigma;
        assessment.upper_bound = Some(bound);
        let Some(y) = count else {
            assessment.reason = not_reported(week);
            return Ok(assessment);
        };
        assessment.score = Some(Self::standardized(y, &base)).filter(|s| s.is_finite());
        assessment.alarm = y > bound;
        let relation = if assessment.alarm {
            "above"
        } else {
            "not above"
        };
        assessment.reason = format!(
            "{}, {relation} the upper bound {} from {from}",
            Cases(y),
            Fig(bound)
        );
        Ok(assessment)
    }

    fn window_text(&self, input: &Input, base: &Baseline, index: usize) -> String {
        // Weeks are named only for a guarded window: stepping weeks is not free, and this runs
        // for every assessed week.
        let span =
            (base.last + 1 != index).then(|| (input.week(base.first), input.week(base.last)));
        wording::window(self.baseline, base.summary.n, span)
    }

    /// The part of the C3 score that week `index` contributes: max(0, C2 − 1), 0 when the week
    /// or its baseline is unknown.
    fn c3_part(&self, input: &Input, index: usize) -> f64 {
        match (input.count(index), self.baseline_of(input, index)) {
            (Some(y), Some(b)) => (Self::standardized(y, &b) - 1.0).max(0.0),
            _ => 0.0,
        }
    }

    fn c3(
        &self,
        input: &Input,
        index: usize,
        base: Baseline,
        mut a: Assessment,
        from: &str,
    ) -> Assessment {
        let earlier = self.c3_part(input, index - 2) + self.c3_part(input, index - 1);
        let z = self.z;
        let Some(y) = a.count else {
            if self.variant == EarsVariant::C3 {
                a.upper_bound = Some(textbook_c3_bound(base.summary.mean, base.sigma, z, earlier));
            }
            a.reason = not_reported(a.week);
            return a;
        };
        let score = earlier + (Self::standardized(y, &base) - 1.0).max(0.0);
        a.score = Some(score).filter(|s| s.is_finite());
        let bound = match self.variant {
            EarsVariant::C3Earsc if base.sigma > 0.0 => (y + base.sigma * (z - earlier)).max(0.0),
            // R gives NaN here (0 · ∞); no alarm unless the earlier weeks alone exceed z.
            EarsVariant::C3Earsc => {
                if earlier > z {
                    0.0
                } else {
                    y
                }
            }
            _ => textbook_c3_bound(base.summary.mean, base.sigma, z, earlier),
        };
        a.upper_bound = Some(bound);
        a.alarm = y > bound;
        let (relation, verdict) = if a.alarm {
            ("above", "unusually high")
        } else {
            ("not above", "not unusually high")
        };
        a.reason = format!(
            "{}; this week and the two before are together {verdict} (C3 score {}, {relation} {}), \
             judged against {from}",
            Cases(y),
            Fig(a.score.unwrap_or(f64::INFINITY)),
            Fig(z)
        );
        a
    }
}

/// The count above which the textbook C3 score exceeds z, given the two earlier weeks' part
/// `earlier`: solve earlier + (y − mean)/σ − 1 > z for y; 0 when `earlier` alone exceeds z.
fn textbook_c3_bound(mean: f64, sigma: f64, z: f64, earlier: f64) -> f64 {
    if earlier > z {
        0.0
    } else {
        mean + sigma * (1.0 + z - earlier)
    }
}
