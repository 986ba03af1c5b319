//! Judging the week with each rule: how many weeks of history a method needs ([`weeks_needed`]),
//! and each org unit's series assessed by the engine ([`evaluate_rule`]). A series the engine
//! cannot judge (too little history, a bad value) is counted and skipped, never fatal.

use std::collections::HashMap;

use dhis2gw_detect::{Assessment, EarsVariant, IsoWeek, Method, WeeklySeries};

use super::rules::AlertRule;

/// Weeks of data, the assessed week included, that `method` looks at.
pub fn weeks_needed(method: &Method) -> u32 {
    let n = match method {
        Method::OneCase(_) | Method::Cluster(_) | Method::Incidence(_) => 1,
        Method::Doubling(d) => 2 * d.weeks,
        Method::RatioToMean(r) => r.weeks + 1,
        Method::RollingSum(r) => r.weeks,
        Method::Ears(e) => {
            let c3 = matches!(e.variant, EarsVariant::C3 | EarsVariant::C3Earsc);
            e.baseline + e.guard + 1 + if c3 { 2 } else { 0 }
        }
        // The usual level is the mean of every week before; two years make a fair one.
        Method::Cusum(_) => 104,
        Method::Historical(h) => (h.weeks.years + 1) * 53 + h.weeks.window,
        Method::Percentile(p) => (p.weeks.years + 1) * 53 + p.weeks.window,
        Method::Farrington(f) => (f.b as usize + 1) * 53 + f.w as usize,
        Method::Consecutive { method, weeks } => {
            weeks_needed(method) as usize + weeks.saturating_sub(1)
        }
    };
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// The most weeks any method of `rule` (its overrides included) needs.
pub fn rule_weeks_needed(rule: &AlertRule) -> u32 {
    rule.overrides
        .values()
        .map(weeks_needed)
        .chain([weeks_needed(&rule.method)])
        .max()
        .unwrap_or(1)
}

/// One org unit's series for one data element, from `first` on.
#[derive(Debug, Clone)]
pub struct PlaceSeries {
    pub org_unit: String,
    pub org_unit_name: Option<String>,
    pub series: WeeklySeries,
}

/// A week a rule alarms on.
#[derive(Debug, Clone)]
pub struct Alarm {
    pub org_unit: String,
    pub org_unit_name: Option<String>,
    pub assessment: Assessment,
    /// The method that judged it (the override's, where the org unit has one).
    pub method: Method,
    /// The weeks it was judged on (those the method needs, oldest first).
    pub first_week: IsoWeek,
    pub counts: Vec<Option<f64>>,
}

/// What one rule gave.
#[derive(Debug, Default)]
pub struct RuleOutcome {
    pub evaluated: usize,
    pub alarms: Vec<Alarm>,
    /// Series the engine refused, with its reason (the first few, for the log).
    pub refused: usize,
    pub first_refusal: Option<String>,
}

/// Assesses `week` in every series of `places` with `rule`.
pub fn evaluate_rule(rule: &AlertRule, places: &[PlaceSeries], week: IsoWeek) -> RuleOutcome {
    let mut out = RuleOutcome::default();
    for place in places {
        let method = rule.method_for(&place.org_unit);
        // A place with no value at all cannot alarm, whatever the policy: skip the work.
        if place.series.counts().iter().all(Option::is_none) {
            continue;
        }
        out.evaluated += 1;
        match method.assess(&place.series, week..=week, rule.missing_policy) {
            Ok(mut assessed) => {
                let Some(a) = assessed.pop() else { continue };
                if a.alarm {
                    let needed = weeks_needed(method);
                    let first_week = week.minus(needed - 1).max(place.series.start());
                    let from = place.series.index_of(first_week).unwrap_or(0);
                    let to = place.series.index_of(week).unwrap_or(from);
                    out.alarms.push(Alarm {
                        org_unit: place.org_unit.clone(),
                        org_unit_name: place.org_unit_name.clone(),
                        assessment: a,
                        method: method.clone(),
                        first_week,
                        counts: place.series.counts()[from..=to].to_vec(),
                    });
                }
            }
            Err(e) => {
                out.refused += 1;
                if out.first_refusal.is_none() {
                    out.first_refusal = Some(format!("{}: {e}", place.org_unit));
                }
            }
        }
    }
    out
}

/// Weekly values (`week → value`) of each org unit as engine series from `first` to `last`.
pub fn to_series(
    values: &HashMap<String, (Option<String>, HashMap<IsoWeek, f64>)>,
    first: IsoWeek,
    last: IsoWeek,
) -> Vec<PlaceSeries> {
    let len = usize::try_from(last.weeks_since(first) + 1).unwrap_or(0);
    values
        .iter()
        .map(|(ou, (name, weeks))| {
            let mut counts = Vec::with_capacity(len);
            let mut w = first;
            for _ in 0..len {
                counts.push(weeks.get(&w).copied());
                w = w.next();
            }
            PlaceSeries {
                org_unit: ou.clone(),
                org_unit_name: name.clone(),
                series: WeeklySeries::new(first, counts),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn method(name: &str, params: serde_json::Value) -> Method {
        let map: Map<String, serde_json::Value> = params.as_object().cloned().unwrap_or_default();
        Method::parse(name, &map).unwrap()
    }

    #[test]
    fn history_each_method_needs() {
        assert_eq!(weeks_needed(&method("one_case", json!({}))), 1);
        assert_eq!(weeks_needed(&method("doubling", json!({}))), 2);
        assert_eq!(weeks_needed(&method("ratio_to_mean", json!({}))), 4);
        assert_eq!(weeks_needed(&method("c1", json!({}))), 8);
        assert_eq!(weeks_needed(&method("c2", json!({}))), 10);
        assert_eq!(weeks_needed(&method("c3", json!({}))), 12);
        assert_eq!(
            weeks_needed(&method("one_case", json!({"consecutive": 2}))),
            2
        );
        assert!(weeks_needed(&method("historical", json!({"years": 3}))) > 3 * 52);
    }
}
