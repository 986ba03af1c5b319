//! CUSUM (Rossi et al. 1999) as R `surveillance::cusum` computes it with `m = NULL`: the
//! in-control mean m is the mean of every week before the first assessed week; each assessed
//! week's count is transformed (`trans`), S_t = max(0, S_{t−1} + z_t − k) starting from S = 0
//! before the first assessed week, and a week alarms when S_t ≥ h (no reset after an alarm).
//! The upper bound is the count that would bring S_t to h, back-transformed as R does.

use std::ops::RangeInclusive;

use crate::method::Input;
use crate::params::Params;
use crate::wording::{Cases, Fig, not_reported};
use crate::{Assessment, DetectError};

/// How a count is put on a standard scale before it is added up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// (y − m)/√m
    Standard,
    /// (y − 3m + 2√(y·m))/(2√m)
    Rossi,
    /// 3/2·(y^{2/3} − m^{2/3})/m^{1/6}
    Anscombe,
}

/// `cusum` with validated parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Cusum {
    /// Reference value subtracted each week (default 1.04).
    pub k: f64,
    /// Decision boundary (default 2.26).
    pub h: f64,
    pub trans: Transform,
}

impl Cusum {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, DetectError> {
        Ok(Self {
            k: p.at_least("k", 1.04, 0.0)?,
            h: p.positive("h", 2.26)?,
            trans: match p.choice("trans", &["standard", "rossi", "anscombe"])? {
                "standard" => Transform::Standard,
                "rossi" => Transform::Rossi,
                _ => Transform::Anscombe,
            },
        })
    }

    fn transform(&self, y: f64, m: f64) -> f64 {
        match self.trans {
            Transform::Standard => (y - m) / m.sqrt(),
            Transform::Rossi => (y - 3.0 * m + 2.0 * (y * m).sqrt()) / (2.0 * m.sqrt()),
            Transform::Anscombe => {
                1.5 * (y.powf(2.0 / 3.0) - m.powf(2.0 / 3.0)) / m.powf(1.0 / 6.0)
            }
        }
    }

    /// The count that brings S from `previous` to h: R's back-transformation, negative or
    /// undefined results becoming 0 as in R.
    fn upper_bound(&self, m: f64, previous: f64) -> f64 {
        let (h, k, c) = (self.h, self.k, previous);
        let bound = match self.trans {
            Transform::Standard => (m.sqrt() * (h + k - c) + m).ceil(),
            Transform::Rossi => {
                let root = m.sqrt();
                let m32 = m.powf(1.5);
                2.0 * h * root + 2.0 * k * root - 2.0 * c * root + 5.0 * m
                    - 2.0 * (4.0 * m * m + 2.0 * m32 * h + 2.0 * m32 * k - 2.0 * m32 * c).sqrt()
            }
            Transform::Anscombe => {
                let inner = 2.0 / 3.0 * m.powf(1.0 / 6.0) * (h + k - c) + m.powf(2.0 / 3.0);
                if inner < 0.0 { 0.0 } else { inner.powf(1.5) }
            }
        };
        if bound.is_nan() || bound < 0.0 {
            0.0
        } else {
            bound
        }
    }

    /// Assesses the weeks `indices` in order: the sum runs over them.
    pub(crate) fn assess_range(
        &self,
        input: &Input,
        indices: RangeInclusive<usize>,
    ) -> Result<Vec<Assessment>, DetectError> {
        let first = *indices.start();
        if first == 0 {
            return Err(input.too_short("cusum", first, 1));
        }
        let (weeks, total) = input.counts()[..first]
            .iter()
            .flatten()
            .fold((0usize, 0.0), |(n, total), y| (n + 1, total + y));
        let m = total / weeks as f64;
        let since = input.week(0);
        let until = input.week(first - 1);
        // The same for every week of the range: written once.
        let usual = format!("over the usual {} a week ({since} to {until})", Fig(m));
        let level = Fig(self.h).to_string();
        let mut sum = 0.0;
        let mut out = Vec::with_capacity(indices.end() + 1 - first);
        for index in indices {
            let week = input.week(index);
            let count = input.count(index);
            if m.is_nan() || m <= 0.0 {
                out.push(Assessment {
                    week,
                    count,
                    expected: (!m.is_nan()).then_some(m),
                    upper_bound: None,
                    score: None,
                    alarm: false,
                    reason: format!(
                        "No cases were reported from {since} to {until}, so CUSUM has no usual level to compare with"
                    ),
                });
                continue;
            }
            let bound = self.upper_bound(m, sum);
            let Some(y) = count else {
                // A week with no report adds nothing to the sum.
                out.push(Assessment {
                    week,
                    count,
                    expected: Some(m),
                    upper_bound: Some(bound),
                    score: Some(sum),
                    alarm: false,
                    reason: not_reported(week),
                });
                continue;
            };
            sum = (sum + self.transform(y, m) - self.k).max(0.0);
            let alarm = sum >= self.h;
            let relation = if alarm { "reaching" } else { "below" };
            out.push(Assessment {
                week,
                count,
                expected: Some(m),
                upper_bound: Some(bound),
                score: Some(sum),
                alarm,
                reason: format!(
                    "{}; the excess built up {usual} is {}, {relation} the alert level {level} \
                     (upper bound {} this week)",
                    Cases(y),
                    Fig(sum),
                    Fig(bound)
                ),
            });
        }
        Ok(out)
    }
}
