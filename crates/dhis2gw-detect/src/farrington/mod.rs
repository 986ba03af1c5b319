//! Farrington (1996) and its improved form by Noufaily et al. (2013), as R `surveillance`'s
//! `farringtonFlexible` computes them. Not implemented yet: both refuse to run.

use serde_json::{Map, Value};

use crate::{Assessment, DetectError, IsoWeek, WeeklySeries};

/// The validated parameters of `farrington` (`noufaily = false`) or `noufaily`.
#[derive(Clone, Debug, PartialEq)]
pub struct FarringtonParams {
    pub noufaily: bool,
}

impl FarringtonParams {
    /// Parameters from a rule's JSON object, named as R's control list in snake_case.
    pub fn from_params(_params: &Map<String, Value>, noufaily: bool) -> Result<Self, DetectError> {
        let name = if noufaily { "noufaily" } else { "farrington" };
        Err(DetectError::UnknownMethod(name.to_owned()))
    }
}

/// Assesses `week` of `series`.
pub fn assess(
    _series: &WeeklySeries,
    week: IsoWeek,
    _params: &FarringtonParams,
) -> Result<Assessment, DetectError> {
    Err(DetectError::WeekOutsideSeries(week))
}
