//! The original alert program's four rules, with its bugs fixed: `one_case` and `cluster`
//! (the week's count reaches a threshold), `doubling` (the latest weeks hold at least twice the
//! cases of the weeks before) and `ratio_to_mean` (the latest week reaches k times the mean of
//! the weeks before). Each judges one disease in one place; weeks are stepped as ISO weeks, so
//! week 1 is compared with the last week of the year before.

use crate::method::Input;
use crate::params::Params;
use crate::stats::reported;
use crate::wording::{Cases, Fig, not_reported};
use crate::{Assessment, DetectError};

/// A fixed threshold that the week's count must reach (`>=`).
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub threshold: f64,
}

impl Threshold {
    pub(crate) fn from_params(p: &mut Params, default: Option<f64>) -> Result<Self, DetectError> {
        let threshold = match default {
            Some(d) => p.positive("threshold", d)?,
            None => {
                let t = p.required("threshold")?;
                if t <= 0.0 {
                    return Err(DetectError::param(
                        "threshold",
                        format!("{t} must be above 0"),
                    ));
                }
                t
            }
        };
        Ok(Self { threshold })
    }

    pub(crate) fn assess_at(
        &self,
        input: &Input,
        index: usize,
        what: &str,
    ) -> Result<Assessment, DetectError> {
        let week = input.week(index);
        let count = input.count(index);
        let (alarm, reason) = match count {
            None => (false, not_reported(week)),
            Some(y) if y >= self.threshold => (
                true,
                format!(
                    "{}, reaching the {what} of {}",
                    Cases(y),
                    Fig(self.threshold)
                ),
            ),
            Some(y) => (
                false,
                format!("{}, below the {what} of {}", Cases(y), Fig(self.threshold)),
            ),
        };
        Ok(Assessment {
            week,
            count,
            expected: None,
            upper_bound: Some(self.threshold),
            score: None,
            alarm,
            reason,
        })
    }
}

/// `doubling`: the cases of the latest `weeks` weeks (default 1) reach twice those of the
/// `weeks` weeks before, with at least `min_cases` (default 1) cases, so that 0 → 0 never
/// alarms while 0 → 1 (emergence) does.
#[derive(Clone, Debug, PartialEq)]
pub struct Doubling {
    pub weeks: usize,
    pub min_cases: f64,
}

impl Doubling {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, DetectError> {
        Ok(Self {
            weeks: p.whole("weeks", 1, 1)?,
            min_cases: p.positive("min_cases", 1.0)?,
        })
    }

    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        let w = self.weeks;
        let needed = 2 * w - 1;
        if index < needed {
            return Err(input.too_short("doubling", index, needed));
        }
        let week = input.week(index);
        let count = input.count(index);
        let counts = input.counts();
        let latest = &counts[index + 1 - w..=index];
        let before = &counts[index + 1 - 2 * w..=index - w];
        let mut assessment = Assessment {
            week,
            count,
            expected: None,
            upper_bound: None,
            score: None,
            alarm: false,
            reason: String::new(),
        };
        if count.is_none() {
            assessment.reason = not_reported(week);
            return Ok(assessment);
        }
        if before.iter().chain(latest).any(Option::is_none) {
            let first = input.week(index + 1 - 2 * w);
            assessment.reason = format!(
                "A week from {first} to {week} has no report, so a doubling cannot be judged"
            );
            return Ok(assessment);
        }
        let now: f64 = latest.iter().flatten().sum();
        let then: f64 = before.iter().flatten().sum();
        let bound = (2.0 * then).max(self.min_cases);
        assessment.expected = Some(then);
        assessment.upper_bound = Some(bound);
        assessment.score = (then > 0.0).then(|| now / then);
        assessment.alarm = now >= bound;
        // "6 cases" / "12 cases in the 3 weeks"; "of the week before" / "of the 3 weeks before".
        let (scope, earlier) = if w == 1 {
            (String::new(), "the week".to_owned())
        } else {
            (format!(" in the {w} weeks"), format!("the {w} weeks"))
        };
        assessment.reason = if assessment.alarm {
            format!(
                "{}{scope}, at least double the {} of {earlier} before",
                Cases(now),
                Cases(then)
            )
        } else if now >= 2.0 * then {
            format!(
                "{}{scope}, fewer than the {} needed for an alert",
                Cases(now),
                Fig(self.min_cases)
            )
        } else {
            format!(
                "{}{scope}, less than double the {} of {earlier} before",
                Cases(now),
                Cases(then)
            )
        };
        Ok(assessment)
    }
}

/// `ratio_to_mean`: the week reaches `k` (default 1.5) times the mean of the `weeks` (default 3)
/// weeks before, with at least `min_cases` (default 1) cases.
#[derive(Clone, Debug, PartialEq)]
pub struct RatioToMean {
    pub k: f64,
    pub weeks: usize,
    pub min_cases: f64,
}

impl RatioToMean {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, DetectError> {
        Ok(Self {
            k: p.positive("k", 1.5)?,
            weeks: p.whole("weeks", 3, 1)?,
            min_cases: p.positive("min_cases", 1.0)?,
        })
    }

    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        if index < self.weeks {
            return Err(input.too_short("ratio_to_mean", index, self.weeks));
        }
        let week = input.week(index);
        let count = input.count(index);
        let base = reported(&input.counts()[index - self.weeks..index]);
        let mut assessment = Assessment {
            week,
            count,
            expected: None,
            upper_bound: None,
            score: None,
            alarm: false,
            reason: String::new(),
        };
        if base.is_empty() {
            assessment.reason = format!(
                "None of the {} weeks before {week} was reported, so there is no mean to compare with",
                self.weeks
            );
            return Ok(assessment);
        }
        let mean = base.iter().sum::<f64>() / base.len() as f64;
        let bound = (self.k * mean).max(self.min_cases);
        assessment.expected = Some(mean);
        assessment.upper_bound = Some(bound);
        let Some(y) = count else {
            assessment.reason = not_reported(week);
            return Ok(assessment);
        };
        assessment.score = (mean > 0.0).then(|| y / mean);
        assessment.alarm = y >= bound;
        let of = if base.len() == self.weeks {
            format!("the {} weeks before", self.weeks)
        } else {
            format!(
                "the {} reported weeks of the {} before",
                base.len(),
                self.weeks
            )
        };
        let relation = if assessment.alarm {
            "reaching"
        } else {
            "below"
        };
        let bound_text = if self.k * mean >= self.min_cases {
            format!("{} times the mean {} of {of}", Fig(self.k), Fig(mean))
        } else {
            format!(
                "the fewest cases that alert (the mean of {of} is {})",
                Fig(mean)
            )
        };
        assessment.reason = format!("{}, {relation} {} = {bound_text}", Cases(y), Fig(bound));
        Ok(assessment)
    }
}
