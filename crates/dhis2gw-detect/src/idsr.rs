//! IDSR threshold rules (WHO-AFRO Integrated Disease Surveillance and Response): `incidence`
//! (cases per 100 000 people in a week, against the population of the same place) and
//! `rolling_sum` (cases over the last k weeks against a threshold). The `consecutive` modifier,
//! which any method takes, is in [`crate::consecutive`].

use crate::method::Input;
use crate::params::Params;
use crate::stats::reported;
use crate::wording::{Cases, Fig, not_reported};
use crate::{Assessment, DetectError};

/// `incidence`: alarm when the week's cases per `per` (default 100 000) people reach `threshold`
/// and the count reaches `min_cases` (default 1; IDSR's meningitis rule uses 2). The population
/// is the population series' value for the week, else the `population` parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Incidence {
    pub threshold: f64,
    pub per: f64,
    pub population: Option<f64>,
    pub min_cases: f64,
}

impl Incidence {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, DetectError> {
        let threshold = p.required("threshold")?;
        if threshold <= 0.0 {
            return Err(DetectError::param(
                "threshold",
                format!("{threshold} must be above 0"),
            ));
        }
        let population = p.number("population")?;
        if let Some(n) = population
            && n <= 0.0
        {
            return Err(DetectError::param(
                "population",
                format!("{n} must be above 0"),
            ));
        }
        Ok(Self {
            threshold,
            per: p.positive("per", 100_000.0)?,
            population,
            min_cases: p.positive("min_cases", 1.0)?,
        })
    }

    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        let week = input.week(index);
        let count = input.count(index);
        let population = input
            .population()
            .and_then(|series| series.get(week).flatten())
            .filter(|n| *n > 0.0)
            .or(self.population);
        let mut assessment = Assessment {
            week,
            count,
            expected: None,
            upper_bound: None,
            score: None,
            alarm: false,
            reason: String::new(),
        };
        let Some(population) = population else {
            assessment.reason =
                format!("No population is known for {week}, so incidence cannot be judged");
            return Ok(assessment);
        };
        // The count at which the incidence reaches the threshold.
        let bound = (self.threshold * population / self.per).max(self.min_cases);
        assessment.upper_bound = Some(bound);
        let Some(y) = count else {
            assessment.reason = not_reported(week);
            return Ok(assessment);
        };
        let rate = y / population * self.per;
        assessment.score = Some(rate);
        assessment.alarm = rate >= self.threshold && y >= self.min_cases;
        let per = Fig(self.per);
        let people = Fig(population);
        assessment.reason = if assessment.alarm {
            format!(
                "{}, {} per {per} people (population {people}), reaching the threshold of {}",
                Cases(y),
                Fig(rate),
                Fig(self.threshold)
            )
        } else if rate >= self.threshold {
            format!(
                "{}, {} per {per} people (population {people}), but fewer than the {} cases needed",
                Cases(y),
                Fig(rate),
                Fig(self.min_cases)
            )
        } else {
            format!(
                "{}, {} per {per} people (population {people}), below the threshold of {}",
                Cases(y),
                Fig(rate),
                Fig(self.threshold)
            )
        };
        Ok(assessment)
    }
}

/// `rolling_sum`: alarm when the cases of the last `weeks` weeks (default 4), this one included,
/// reach `threshold` (e.g. 3 measles cases in 4 weeks). Missing weeks add nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct RollingSum {
    pub weeks: usize,
    pub threshold: f64,
}

impl RollingSum {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, DetectError> {
        let weeks = p.whole("weeks", 4, 1)?;
        let threshold = p.required("threshold")?;
        if threshold <= 0.0 {
            return Err(DetectError::param(
                "threshold",
                format!("{threshold} must be above 0"),
            ));
        }
        Ok(Self { weeks, threshold })
    }

    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        let needed = self.weeks - 1;
        if index < needed {
            return Err(input.too_short("rolling_sum", index, needed));
        }
        let week = input.week(index);
        let count = input.count(index);
        let window = &input.counts()[index - needed..=index];
        let total: f64 = reported(window).iter().sum();
        let unreported = window.iter().filter(|c| c.is_none()).count();
        let alarm = count.is_some() && total >= self.threshold;
        let first = input.week(index - needed);
        let mut reason = match (count, alarm) {
            (None, _) => not_reported(week),
            (Some(_), true) => format!(
                "{} in the {} weeks {first} to {week}, reaching the threshold of {}",
                Cases(total),
                self.weeks,
                Fig(self.threshold)
            ),
            (Some(_), false) => format!(
                "{} in the {} weeks {first} to {week}, below the threshold of {}",
                Cases(total),
                self.weeks,
                Fig(self.threshold)
            ),
        };
        if count.is_some() && unreported > 0 {
            reason.push_str(&format!(" ({unreported} of those weeks had no report)"));
        }
        Ok(Assessment {
            week,
            count,
            expected: None,
            upper_bound: Some(self.threshold),
            score: Some(total),
            alarm,
            reason,
        })
    }
}
