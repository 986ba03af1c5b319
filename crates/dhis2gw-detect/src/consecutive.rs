//! The `consecutive` modifier (Malawi EWARS, IDSR practice): a rule alarms only when its method
//! has alarmed on N weeks in a row, this week being the last of them, so that a single high week
//! does not raise an alert.

use std::ops::RangeInclusive;

use crate::method::{Input, Method};
use crate::{Assessment, DetectError};

/// Assesses `indices` with `method`, keeping an alarm only on the `weeks`-th week in a row.
pub(crate) fn assess(
    method: &Method,
    weeks: usize,
    input: &Input,
    indices: RangeInclusive<usize>,
) -> Result<Vec<Assessment>, DetectError> {
    let (first, last) = (*indices.start(), *indices.end());
    let lead_in = first.saturating_sub(weeks - 1);
    // Weeks before the assessed ones only tell whether a run had started; one the method
    // cannot judge (too early in the series) simply did not alarm.
    let earlier: Vec<bool> = (lead_in..first)
        .map(|i| method.assess_at(input, i).is_ok_and(|a| a.alarm))
        .collect();
    let mut alarms = earlier;
    let mut out = Vec::with_capacity(last + 1 - first);
    for index in first..=last {
        let mut assessment = method.assess_at(input, index)?;
        alarms.push(assessment.alarm);
        let run = alarms.iter().rev().take_while(|a| **a).count();
        if assessment.alarm {
            if run >= weeks {
                assessment.reason.push_str(&format!(
                    "; {run} weeks in a row, {weeks} needed for an alert"
                ));
            } else {
                assessment.alarm = false;
                let weeks_text = if run == 1 {
                    "1 week".to_owned()
                } else {
                    format!("{run} weeks in a row")
                };
                assessment.reason.push_str(&format!(
                    "; only {weeks_text} so far, {weeks} in a row needed for an alert"
                ));
            }
        }
        out.push(assessment);
    }
    Ok(out)
}
