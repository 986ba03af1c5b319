//! The parameters of `farrington` and `noufaily`: R `surveillance::farringtonFlexible`'s control
//! list in snake_case, with each method's defaults, validated once when a rule is read.

use serde_json::{Map, Value};

use crate::DetectError;

/// How the upper bound is drawn from the fitted model (R's `thresholdMethod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Farrington (1996): a normal prediction interval on a power-transformed scale.
    Delta,
    /// Noufaily et al. (2013): the (1 − alpha) quantile of a negative binomial with the
    /// predicted mean and the model's dispersion.
    NbPlugin,
    /// As `NbPlugin`, with the mean raised to its own (1 − alpha) quantile on the log scale.
    Muan,
}

/// The power transformation of the `Delta` threshold (R's `powertrans`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerTransform {
    /// `2/3`, Farrington's choice: makes Poisson-like counts nearly symmetric.
    TwoThirds,
    /// `1/2`, the square root.
    Half,
    /// `none`: the interval is drawn on the counts themselves.
    Identity,
}

impl PowerTransform {
    pub(super) fn exponent(self) -> f64 {
        match self {
            Self::TwoThirds => 2.0 / 3.0,
            Self::Half => 0.5,
            Self::Identity => 1.0,
        }
    }
}

/// The validated parameters of `farrington` (`noufaily = false`) or `noufaily`.
#[derive(Clone, Debug, PartialEq)]
pub struct FarringtonParams {
    /// Which method the defaults came from; only used to name the method in messages.
    pub noufaily: bool,
    /// Years to look back (`b`).
    pub b: u32,
    /// Half-width in weeks of the window around each reference week (`w`).
    pub w: u32,
    /// Down-weight past outbreaks with Anscombe residuals (`reweight`).
    pub reweight: bool,
    /// Residuals above this are down-weighted (`weightsThreshold`).
    pub weights_threshold: f64,
    /// One-sided: the upper bound is the (1 − alpha) limit (`alpha`).
    pub alpha: f64,
    /// Try a time trend at all (`trend`).
    pub trend: bool,
    /// The trend is kept only if its p-value is below this (`pThresholdTrend`).
    pub p_threshold_trend: f64,
    /// An alarm needs at least `limit54_cases` cases in the last `limit54_period` weeks,
    /// the assessed week included (`limit54`).
    pub limit54_cases: f64,
    pub limit54_period: u32,
    /// The `delta` threshold's power transformation (`powertrans`).
    pub powertrans: PowerTransform,
    /// Seasonal periods of the model: the windows, plus `no_periods − 1` blocks between them
    /// (`noPeriods`).
    pub no_periods: u32,
    /// The latest weeks left out of the baseline (`pastWeeksNotIncluded`): the assessed week and
    /// this many before it.
    pub past_weeks_not_included: u32,
    pub threshold: Threshold,
}

const NAMES: [&str; 12] = [
    "b",
    "w",
    "reweight",
    "weights_threshold",
    "alpha",
    "trend",
    "p_threshold_trend",
    "limit54",
    "powertrans",
    "no_periods",
    "past_weeks_not_included",
    "threshold",
];

impl FarringtonParams {
    /// R's defaults. `farrington` uses the control values that make `farringtonFlexible`
    /// reproduce `algo.farrington` (one period, threshold 1, trend at p < 0.05, delta);
    /// `noufaily` those of Noufaily et al. (2013) as in R's `monitoringCounts` vignette (ten
    /// periods, threshold 2.58, the last 26 weeks left out, trend always tried, nbPlugin).
    /// Both use R's function defaults `b = 5`, `w = 3`, `alpha = 0.05`, `limit54 = c(5, 4)`.
    pub fn defaults(noufaily: bool) -> Self {
        Self {
            noufaily,
            b: 5,
            w: 3,
            reweight: true,
            weights_threshold: if noufaily { 2.58 } else { 1.0 },
            alpha: 0.05,
            trend: true,
            p_threshold_trend: if noufaily { 1.0 } else { 0.05 },
            limit54_cases: 5.0,
            limit54_period: 4,
            powertrans: PowerTransform::TwoThirds,
            no_periods: if noufaily { 10 } else { 1 },
            past_weeks_not_included: if noufaily { 26 } else { 3 },
            threshold: if noufaily {
                Threshold::NbPlugin
            } else {
                Threshold::Delta
            },
        }
    }

    /// Parameters from a rule's JSON object, named as R's control list in snake_case. Numbers
    /// and booleans may also be given as text (`"5"`, `"true"`), as on the command line;
    /// `limit54` is `[cases, period]` or `"cases,period"`.
    pub fn from_params(params: &Map<String, Value>, noufaily: bool) -> Result<Self, DetectError> {
        if let Some(name) = params.keys().find(|k| !NAMES.contains(&k.as_str())) {
            return Err(DetectError::param(name, "unknown parameter"));
        }
        let mut p = Self::defaults(noufaily);
        let get = |name: &str| params.get(name).filter(|v| !v.is_null());
        if let Some(v) = get("b") {
            p.b = whole(v, "b", 1, 20)?;
        }
        if let Some(v) = get("w") {
            p.w = whole(v, "w", 0, 25)?;
        }
        // R's NULL default: as many weeks as the half-window, so the current window is left out.
        p.past_weeks_not_included = match get("past_weeks_not_included") {
            Some(v) => whole(v, "past_weeks_not_included", 0, 52 * p.b)?,
            None if noufaily => 26,
            None => p.w,
        };
        if let Some(v) = get("reweight") {
            p.reweight = boolean(v, "reweight")?;
        }
        if let Some(v) = get("trend") {
            p.trend = boolean(v, "trend")?;
        }
        if let Some(v) = get("weights_threshold") {
            p.weights_threshold = real(v, "weights_threshold", |x| x > 0.0, "a number above 0")?;
        }
        if let Some(v) = get("alpha") {
            p.alpha = real(v, "alpha", |x| x > 0.0 && x < 0.5, "between 0 and 0.5")?;
        }
        if let Some(v) = get("p_threshold_trend") {
            let in_range = |x: f64| (0.0..=1.0).contains(&x);
            p.p_threshold_trend = real(v, "p_threshold_trend", in_range, "between 0 and 1")?;
        }
        if let Some(v) = get("limit54") {
            (p.limit54_cases, p.limit54_period) = limit54(v)?;
        }
        if let Some(v) = get("powertrans") {
            p.powertrans = match text(v, "powertrans")?.as_str() {
                "2/3" => PowerTransform::TwoThirds,
                "1/2" => PowerTransform::Half,
                "none" => PowerTransform::Identity,
                _ => return Err(DetectError::param("powertrans", "must be 2/3, 1/2 or none")),
            };
        }
        if let Some(v) = get("threshold") {
            p.threshold = match text(v, "threshold")?.to_ascii_lowercase().as_str() {
                "delta" => Threshold::Delta,
                "nbplugin" => Threshold::NbPlugin,
                "muan" => Threshold::Muan,
                _ => {
                    return Err(DetectError::param(
                        "threshold",
                        "must be delta, nbplugin or muan",
                    ));
                }
            };
        }
        // Every block between two windows needs a week: a year holds 52 weeks at least, of
        // which 2w + 1 are the window.
        let most_periods = 52 - 2 * p.w;
        if let Some(v) = get("no_periods") {
            p.no_periods = whole(v, "no_periods", 1, most_periods)?;
        } else if p.no_periods > most_periods {
            return Err(DetectError::param(
                "w",
                format!(
                    "leaves too few weeks between windows for {} periods",
                    p.no_periods
                ),
            ));
        }
        p.check()?;
        Ok(p)
    }

    /// The limits [`from_params`](Self::from_params) enforces, checked again before an
    /// assessment since the fields are public: windows that fit in a year, a block per period.
    pub(super) fn check(&self) -> Result<(), DetectError> {
        let problem = if !(1..=20).contains(&self.b) {
            Some(("b", "must be a whole number from 1 to 20".to_owned()))
        } else if self.w > 25 {
            Some(("w", "must be a whole number from 0 to 25".to_owned()))
        } else if self.no_periods == 0 || self.no_periods > 52 - 2 * self.w {
            Some((
                "no_periods",
                format!("must be from 1 to {}", 52 - 2 * self.w),
            ))
        } else if !(self.alpha > 0.0 && self.alpha < 0.5) {
            Some(("alpha", "must be between 0 and 0.5".to_owned()))
        } else if self.limit54_period == 0 {
            Some(("limit54", "the period must be at least one week".to_owned()))
        } else {
            None
        };
        problem.map_or(Ok(()), |(name, text)| Err(DetectError::param(name, text)))
    }

    /// The method's name, for messages.
    pub fn method(&self) -> &'static str {
        if self.noufaily {
            "noufaily"
        } else {
            "farrington"
        }
    }
}

fn text(value: &Value, name: &str) -> Result<String, DetectError> {
    match value {
        Value::String(s) => Ok(s.trim().to_owned()),
        _ => Err(DetectError::param(name, "must be text")),
    }
}

fn number(value: &Value, name: &str) -> Result<f64, DetectError> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    parsed
        .filter(|x| x.is_finite())
        .ok_or_else(|| DetectError::param(name, "must be a number"))
}

fn whole(value: &Value, name: &str, min: u32, max: u32) -> Result<u32, DetectError> {
    let x = number(value, name)?;
    if x.fract() != 0.0 || x < f64::from(min) || x > f64::from(max) {
        return Err(DetectError::param(
            name,
            format!("must be a whole number from {min} to {max}"),
        ));
    }
    // In range and whole, so the conversion is exact.
    Ok(x as u32)
}

fn real(
    value: &Value,
    name: &str,
    valid: impl Fn(f64) -> bool,
    expected: &str,
) -> Result<f64, DetectError> {
    let x = number(value, name)?;
    if valid(x) {
        Ok(x)
    } else {
        Err(DetectError::param(name, format!("must be {expected}")))
    }
}

fn boolean(value: &Value, name: &str) -> Result<bool, DetectError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(DetectError::param(name, "must be true or false")),
        },
        _ => Err(DetectError::param(name, "must be true or false")),
    }
}

fn limit54(value: &Value) -> Result<(f64, u32), DetectError> {
    let parts: Vec<Value> = match value {
        Value::Array(items) => items.clone(),
        Value::String(s) => s.split(',').map(|p| Value::String(p.to_owned())).collect(),
        _ => Vec::new(),
    };
    let [cases, period] = parts.as_slice() else {
        return Err(DetectError::param(
            "limit54",
            "must be two numbers: cases, period (weeks)",
        ));
    };
    let cases = real(cases, "limit54", |x| x >= 0.0, "cases of 0 or more")?;
    let period = whole(period, "limit54", 1, 52)?;
    Ok((cases, period))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value, noufaily: bool) -> Result<FarringtonParams, DetectError> {
        FarringtonParams::from_params(value.as_object().unwrap(), noufaily)
    }

    #[test]
    fn defaults_follow_the_method() {
        let f = parse(json!({}), false).unwrap();
        assert_eq!((f.no_periods, f.past_weeks_not_included), (1, 3));
        assert_eq!(f.threshold, Threshold::Delta);
        let n = parse(json!({}), true).unwrap();
        assert_eq!((n.no_periods, n.past_weeks_not_included), (10, 26));
        assert_eq!((n.weights_threshold, n.p_threshold_trend), (2.58, 1.0));
        assert_eq!(n.threshold, Threshold::NbPlugin);
    }

    #[test]
    fn past_weeks_follow_w_for_farrington_only() {
        assert_eq!(
            parse(json!({"w": 5}), false)
                .unwrap()
                .past_weeks_not_included,
            5
        );
        assert_eq!(
            parse(json!({"w": 5}), true)
                .unwrap()
                .past_weeks_not_included,
            26
        );
    }

    #[test]
    fn text_values_are_read_like_numbers() {
        let p = parse(
            json!({"b": "3", "alpha": "0.01", "reweight": "false", "limit54": "2,3",
                   "threshold": "nbPlugin"}),
            false,
        )
        .unwrap();
        assert_eq!((p.b, p.alpha, p.reweight), (3, 0.01, false));
        assert_eq!((p.limit54_cases, p.limit54_period), (2.0, 3));
        assert_eq!(p.threshold, Threshold::NbPlugin);
        let p = parse(json!({"limit54": [0, 1]}), true).unwrap();
        assert_eq!((p.limit54_cases, p.limit54_period), (0.0, 1));
    }

    #[test]
    fn hand_built_parameters_are_checked_too() {
        let mut p = FarringtonParams::defaults(true);
        assert_eq!(p.check(), Ok(()));
        p.w = 30;
        assert!(
            matches!(p.check(), Err(DetectError::InvalidParameter { name, .. }) if name == "w")
        );
        p.w = 22;
        let e = p.check();
        assert!(
            matches!(e, Err(DetectError::InvalidParameter { name, .. }) if name == "no_periods")
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        for (params, name) in [
            (json!({"bee": 1}), "bee"),
            (json!({"b": 0}), "b"),
            (json!({"b": 2.5}), "b"),
            (json!({"alpha": 0.7}), "alpha"),
            (json!({"threshold": "median"}), "threshold"),
            (json!({"limit54": [5]}), "limit54"),
            (json!({"no_periods": 47}), "no_periods"),
            (json!({"w": 22}), "w"),
            (json!({"reweight": "sometimes"}), "reweight"),
        ] {
            let noufaily = name == "w";
            match parse(params.clone(), noufaily) {
                Err(DetectError::InvalidParameter { name: got, .. }) => {
                    assert_eq!(got, name, "{params}")
                }
                other => panic!("{params}: {other:?}"),
            }
        }
    }
}
