//! A rule's method, validated once ([`Method::parse`]), and assessing weeks of a series with it
//! ([`Method::assess`]) under a missing-value policy ([`MissingPolicy`]).

use std::borrow::Cow;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::cusum::Cusum;
use crate::ears::Ears;
use crate::farrington::{self, FarringtonParams};
use crate::historical::{Historical, Percentile};
use crate::idsr::{Incidence, RollingSum};
use crate::params::Params;
use crate::simple::{Doubling, RatioToMean, Threshold};
use crate::{Assessment, DetectError, IsoWeek, WeeklySeries, consecutive};

/// What a missing week (no value in DHIS2) means to a rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingPolicy {
    /// A missing week is left out: it is never alerted on, and a baseline uses the weeks that
    /// were reported.
    #[default]
    Skip,
    /// A missing week counts as zero cases (for data elements whose zeros DHIS2 does not store).
    Zero,
}

impl FromStr for MissingPolicy {
    type Err = DetectError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "skip" => Ok(Self::Skip),
            "zero" => Ok(Self::Zero),
            other => Err(DetectError::param(
                "missing_policy",
                format!("{other:?} is not skip or zero"),
            )),
        }
    }
}

impl fmt::Display for MissingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Skip => "skip",
            Self::Zero => "zero",
        })
    }
}

/// A detection method with validated parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// `one_case`: the week's count reaches `threshold` (default 1).
    OneCase(Threshold),
    /// `cluster`: the district's count reaches `threshold` (no default).
    Cluster(Threshold),
    Doubling(Doubling),
    RatioToMean(RatioToMean),
    Incidence(Incidence),
    RollingSum(RollingSum),
    /// `c1`, `c2`, `c3`.
    Ears(Ears),
    Cusum(Cusum),
    Historical(Historical),
    /// `p75`.
    Percentile(Percentile),
    /// `farrington` and `noufaily`.
    Farrington(FarringtonParams),
    /// Any other method with `consecutive = weeks` (2 or more): alarms only on the `weeks`-th
    /// week in a row that the method alarms on.
    Consecutive {
        method: Box<Method>,
        weeks: usize,
    },
}

/// Every method name [`Method::parse`] knows.
pub const METHOD_NAMES: &[&str] = &[
    "one_case",
    "cluster",
    "doubling",
    "ratio_to_mean",
    "incidence",
    "rolling_sum",
    "c1",
    "c2",
    "c3",
    "cusum",
    "historical",
    "p75",
    "farrington",
    "noufaily",
];

impl Method {
    /// The method called `name` with `params`; an unknown name, an unknown parameter or a bad
    /// value is an error naming it.
    pub fn parse(name: &str, params: &Map<String, Value>) -> Result<Self, DetectError> {
        if !METHOD_NAMES.contains(&name) {
            return Err(DetectError::UnknownMethod(name.to_owned()));
        }
        let mut p = Params::new(params);
        let weeks = p.whole("consecutive", 1, 1)?;
        let method = match name {
            "farrington" | "noufaily" => {
                // The Farrington module reads and checks its own parameters; `consecutive` is
                // this module's.
                let mut own = params.clone();
                own.remove("consecutive");
                Self::Farrington(FarringtonParams::from_params(&own, name == "noufaily")?)
            }
            _ => {
                let method = Self::parse_own(name, &mut p)?;
                p.finish(name)?;
                method
            }
        };
        if weeks > 1 && matches!(method, Self::Cusum(_)) {
            return Err(DetectError::param(
                "consecutive",
                "cusum already adds up the weeks in a row; raise h instead",
            ));
        }
        Ok(if weeks > 1 {
            Self::Consecutive {
                method: Box::new(method),
                weeks,
            }
        } else {
            method
        })
    }

    fn parse_own(name: &str, p: &mut Params) -> Result<Self, DetectError> {
        Ok(match name {
            "one_case" => Self::OneCase(Threshold::from_params(p, Some(1.0))?),
            "cluster" => Self::Cluster(Threshold::from_params(p, None)?),
            "doubling" => Self::Doubling(Doubling::from_params(p)?),
            "ratio_to_mean" => Self::RatioToMean(RatioToMean::from_params(p)?),
            "incidence" => Self::Incidence(Incidence::from_params(p)?),
            "rolling_sum" => Self::RollingSum(RollingSum::from_params(p)?),
            "c1" | "c2" | "c3" => Self::Ears(Ears::from_params(name, p)?),
            "cusum" => Self::Cusum(Cusum::from_params(p)?),
            "historical" => Self::Historical(Historical::from_params(p)?),
            "p75" => Self::Percentile(Percentile::from_params(p)?),
            other => return Err(DetectError::UnknownMethod(other.to_owned())),
        })
    }

    /// Assesses each week of `weeks` (oldest first). Weeks outside the series, negative counts,
    /// or too little history before `weeks` for the method are errors.
    pub fn assess(
        &self,
        series: &WeeklySeries,
        weeks: RangeInclusive<IsoWeek>,
        missing: MissingPolicy,
    ) -> Result<Vec<Assessment>, DetectError> {
        self.assess_with_population(series, None, weeks, missing)
    }

    /// As [`assess`](Self::assess), with the population of the same place per week, which
    /// `incidence` needs unless its `population` parameter is given.
    pub fn assess_with_population(
        &self,
        series: &WeeklySeries,
        population: Option<&WeeklySeries>,
        weeks: RangeInclusive<IsoWeek>,
        missing: MissingPolicy,
    ) -> Result<Vec<Assessment>, DetectError> {
        let (from, to) = (*weeks.start(), *weeks.end());
        if from > to {
            return Ok(Vec::new());
        }
        let first = series
            .index_of(from)
            .ok_or(DetectError::WeekOutsideSeries(from))?;
        let last = series
            .index_of(to)
            .ok_or(DetectError::WeekOutsideSeries(to))?;
        let input = Input::new(series, population, missing)?;
        self.assess_indices(&input, first..=last)
    }

    fn assess_indices(
        &self,
        input: &Input,
        indices: RangeInclusive<usize>,
    ) -> Result<Vec<Assessment>, DetectError> {
        match self {
            Self::Cusum(c) => c.assess_range(input, indices),
            Self::Consecutive { method, weeks } => {
                consecutive::assess(method, *weeks, input, indices)
            }
            _ => {
                // Sized up front: collecting `Result`s gives no size hint, and an assessment is
                // large enough that regrowing shows in the benchmark.
                let mut out = Vec::with_capacity(indices.clone().count());
                for index in indices {
                    out.push(self.assess_at(input, index)?);
                }
                Ok(out)
            }
        }
    }

    /// One week, for the methods that judge each week on its own.
    pub(crate) fn assess_at(&self, input: &Input, index: usize) -> Result<Assessment, DetectError> {
        match self {
            Self::OneCase(t) => t.assess_at(input, index, "alert threshold"),
            Self::Cluster(t) => t.assess_at(input, index, "cluster threshold"),
            Self::Doubling(d) => d.assess_at(input, index),
            Self::RatioToMean(r) => r.assess_at(input, index),
            Self::Incidence(r) => r.assess_at(input, index),
            Self::RollingSum(r) => r.assess_at(input, index),
            Self::Ears(e) => e.assess_at(input, index),
            Self::Historical(h) => h.assess_at(input, index),
            Self::Percentile(h) => h.assess_at(input, index),
            Self::Farrington(f) => farrington::assess(input.as_series(), input.week(index), f),
            Self::Cusum(c) => Ok(c
                .assess_range(input, index..=index)?
                .pop()
                .expect("one week in, one out")),
            Self::Consecutive { method, weeks } => {
                Ok(consecutive::assess(method, *weeks, input, index..=index)?
                    .pop()
                    .expect("one week in, one out"))
            }
        }
    }

    /// The method's name as [`parse`](Self::parse) takes it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OneCase(_) => "one_case",
            Self::Cluster(_) => "cluster",
            Self::Doubling(_) => "doubling",
            Self::RatioToMean(_) => "ratio_to_mean",
            Self::Incidence(_) => "incidence",
            Self::RollingSum(_) => "rolling_sum",
            Self::Ears(e) => e.name(),
            Self::Cusum(_) => "cusum",
            Self::Historical(_) => "historical",
            Self::Percentile(_) => "p75",
            Self::Farrington(f) if f.noufaily => "noufaily",
            Self::Farrington(_) => "farrington",
            Self::Consecutive { method, .. } => method.name(),
        }
    }
}

/// A series as a method sees it: counts after the missing-value policy, plus the population.
pub(crate) struct Input<'a> {
    /// The series itself under `skip`; a copy with zeros for missing weeks under `zero`.
    series: Cow<'a, WeeklySeries>,
    population: Option<&'a WeeklySeries>,
}

impl<'a> Input<'a> {
    fn new(
        series: &'a WeeklySeries,
        population: Option<&'a WeeklySeries>,
        missing: MissingPolicy,
    ) -> Result<Self, DetectError> {
        for (i, count) in series.counts().iter().enumerate() {
            if let Some(count) = *count
                && !(count >= 0.0 && count.is_finite())
            {
                return Err(DetectError::BadCount {
                    week: series.week_at(i),
                    count,
                });
            }
        }
        let series = match missing {
            MissingPolicy::Skip => Cow::Borrowed(series),
            MissingPolicy::Zero => Cow::Owned(WeeklySeries::new(
                series.start(),
                series
                    .counts()
                    .iter()
                    .map(|c| Some(c.unwrap_or(0.0)))
                    .collect(),
            )),
        };
        Ok(Self { series, population })
    }

    pub(crate) fn counts(&self) -> &[Option<f64>] {
        self.series.counts()
    }

    pub(crate) fn count(&self, index: usize) -> Option<f64> {
        self.series.counts()[index]
    }

    pub(crate) fn week(&self, index: usize) -> IsoWeek {
        self.series.week_at(index)
    }

    pub(crate) fn index_of(&self, week: IsoWeek) -> Option<usize> {
        self.series.index_of(week)
    }

    pub(crate) fn population(&self) -> Option<&WeeklySeries> {
        self.population
    }

    /// The counts after the policy as a series, for the modules that take one.
    fn as_series(&self) -> &WeeklySeries {
        &self.series
    }

    /// The error for a week that needs `needed` weeks of history when it has `index`.
    pub(crate) fn too_short(
        &self,
        method: &'static str,
        index: usize,
        needed: usize,
    ) -> DetectError {
        DetectError::NotEnoughHistory {
            method,
            week: self.week(index),
            needed,
            available: index,
        }
    }
}
