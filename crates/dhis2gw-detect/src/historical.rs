//! Thresholds from the same weeks of previous years (WHO malaria epidemic methods, IDSR):
//! `historical` = mean + k·SD of those weeks (Cullen), `p75` = their 75th percentile by R's
//! default rule (type 7, as Excel's PERCENTILE.INC). A `window` of w takes the w weeks either
//! side of each as well (the "C-SUM" variant). "The same week" of an earlier year is the week
//! with the same number, week 53 falling back to week 52 in a year without it.

use crate::method::Input;
use crate::params::Params;
use crate::stats::{quantile_type7, reported, summarize};
use crate::wording::{Cases, Fig, not_reported};
use crate::{Assessment, DetectError, IsoWeek, weeks_in_year};

/// Which weeks of which earlier years make a baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct SameWeeks {
    /// How many previous years (default 5, as WHO recommends).
    pub years: usize,
    /// Weeks taken either side of the same week (default 0).
    pub window: usize,
}

impl SameWeeks {
    fn from_params(p: &mut Params, least: usize) -> Result<Self, DetectError> {
        let years = p.whole("years", 5, 1)?;
        let window = p.whole("window", 0, 0)?;
        if years * (2 * window + 1) < least {
            return Err(DetectError::param(
                "years",
                format!("{years} year(s) with a window of {window} give fewer than {least} weeks"),
            ));
        }
        Ok(Self { years, window })
    }

    /// The counts of the baseline weeks of the week at `index`, and a phrase naming them.
    fn counts(
        &self,
        input: &Input,
        index: usize,
        method: &'static str,
    ) -> Result<(Vec<f64>, String), DetectError> {
        let week = input.week(index);
        let year_back = |j: usize| {
            let year = week.year() - j as i32;
            IsoWeek::new(year, week.week().min(weeks_in_year(year))).ok()
        };
        let earliest = year_back(self.years).map(|w| w.minus(self.window as u32));
        let first_index = earliest.and_then(|w| input.index_of(w));
        if first_index.is_none() {
            let needed = earliest.map_or(usize::MAX, |w| week.weeks_since(w).max(0) as usize);
            return Err(input.too_short(method, index, needed));
        }
        let mut values = Vec::with_capacity(self.years * (2 * self.window + 1));
        for j in 1..=self.years {
            let Some(center) = year_back(j) else { continue };
            let first = center.minus(self.window as u32);
            if let Some(start) = input.index_of(first) {
                let end = (start + 2 * self.window).min(index - 1);
                values.extend(reported(&input.counts()[start..=end]));
            }
        }
        let weeks = if self.window == 0 {
            format!("week {} of the {} previous years", week.week(), self.years)
        } else {
            format!(
                "weeks {} ± {} of the {} previous years",
                week.week(),
                self.window,
                self.years
            )
        };
        Ok((values, weeks))
    }
}

fn blank(input: &Input, index: usize) -> Assessment {
    Assessment {
        week: input.week(index),
        count: input.count(index),
        expected: None,
        upper_bound: None,
        score: None,
        alarm: false,
        reason: String::new(),
    }
}

/// Fills in the count's side of an assessment whose bound is set.
fn judge(mut a: Assessment, bound: f64, describe: &str) -> Assessment {
    a.upper_bound = Some(bound);
    match a.count {
        None => a.reason = not_reported(a.week),
        Some(y) => {
            a.alarm = y > bound;
            let relation = if a.alarm { "above" } else { "not above" };
            a.reason = format!(
                "{}, {relation} the upper bound {} {describe}",
                Cases(y),
                Fig(bound)
            );
        }
    }
    a
}

/// `historical`: alarm when the week is above mean + `k`·SD (default k = 2) of the same weeks of
/// the previous `years`.
#[derive(Clone, Debug, PartialEq)]
pub struct Historical {
    pub weeks: SameWeeks,
    pub k: f64,
}

impl Historical {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, DetectError> {
        Ok(Self {
            weeks: SameWeeks::from_params(p, 2)?,
            k: p.at_least("k", 2.0, 0.0)?,
        })
    }

    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        let (values, weeks) = self.weeks.counts(input, index, "historical")?;
        let mut a = blank(input, index);
        if values.len() < 2 {
            a.reason = format!("Fewer than 2 of {weeks} were reported, so no bound can be set");
            return Ok(a);
        }
        let s = summarize(&values);
        a.expected = Some(s.mean);
        a.score = a.count.filter(|_| s.sd > 0.0).map(|y| (y - s.mean) / s.sd);
        let describe = format!("(mean {} + {} SD of {weeks})", Fig(s.mean), Fig(self.k));
        Ok(judge(a, s.mean + self.k * s.sd, &describe))
    }
}

/// `p75`: alarm when the week is above the `percentile` (default 75) of the same weeks of the
/// previous `years`; the expected value is their median.
#[derive(Clone, Debug, PartialEq)]
pub struct Percentile {
    pub weeks: SameWeeks,
    pub percentile: f64,
}

impl Percentile {
    pub(crate) fn from_params(p: &mut Params) -> Result<Self, DetectError> {
        let weeks = SameWeeks::from_params(p, 1)?;
        let percentile = p.number("percentile")?.unwrap_or(75.0);
        if !(percentile > 0.0 && percentile < 100.0) {
            return Err(DetectError::param(
                "percentile",
                format!("{percentile} is not between 0 and 100"),
            ));
        }
        Ok(Self { weeks, percentile })
    }

    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        let (values, weeks) = self.weeks.counts(input, index, "p75")?;
        let mut a = blank(input, index);
        let (Some(median), Some(bound)) = (
            quantile_type7(&values, 0.5),
            quantile_type7(&values, self.percentile / 100.0),
        ) else {
            a.reason = format!("None of {weeks} was reported, so no bound can be set");
            return Ok(a);
        };
        a.expected = Some(median);
        let describe = format!("(the {}th percentile of {weeks})", Fig(self.percentile));
        Ok(judge(a, bound, &describe))
    }
}
