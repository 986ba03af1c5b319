//! The alert run (the `threshold` job): the enabled rules' data in ([`super::fetch`]), each
//! rule judged by the engine ([`super::evaluate`]), every alarm claimed in PostgreSQL once per
//! (data element, org unit, week), facility drill-downs, and every alert DHIS2 has not confirmed
//! yet written to its tracker ([`super::record`]). A bad rule, a failed analytics call or a
//! failed write is counted and reported; it never stops the rest.

use std::collections::BTreeMap;

use anyhow::Context as _;
use dhis2gw_detect::{IsoWeek, Method};
use futures::StreamExt as _;
use serde_json::{Map, Value, json};

use super::evaluate::{Alarm, evaluate_rule, rule_weeks_needed};
use super::fetch::{PullSettings, ScopeNeed, fetch};
use super::record::{Written, capture_url, drill_down, write_alert};
use super::rules::{AlertRule, enabled_rules};
use crate::config::Settings;
use crate::db::Pool;
use crate::db::alerts::{self, NewAlert, series_json};
use crate::dhis2::{Dhis2Client, TrackerMode};
use crate::domain::uid::Uid;

/// How the run is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Evaluate and report what would fire; write nothing anywhere.
    pub dry_run: bool,
    /// The week to assess; default the last complete ISO week in `server.timezone`.
    pub week: Option<IsoWeek>,
}

/// What a run did, for its job record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    /// Why nothing was done, when the run is not configured.
    pub skipped: Option<String>,
    pub counts: Map<String, Value>,
}

/// Why the run cannot start: the settings it needs are missing.
pub fn not_configured(settings: &Settings) -> Option<String> {
    let a = &settings.alerts;
    if a.org_unit_roots.is_empty() {
        return Some("not configured: alerts.org_unit_roots is empty".into());
    }
    if a.dhis2_program.trim().is_empty() || a.dhis2_tracked_entity_type.trim().is_empty() {
        return Some(
            "not configured: alerts.dhis2_program and alerts.dhis2_tracked_entity_type are needed"
                .into(),
        );
    }
    None
}

/// The last complete ISO week, in the server's time zone.
pub fn last_complete_week(settings: &Settings) -> IsoWeek {
    let today = chrono::Utc::now()
        .with_timezone(&settings.server.timezone)
        .date_naive();
    IsoWeek::containing(today).prev()
}

/// Runs the alert run once.
pub async fn run(
    pool: &Pool,
    settings: &Settings,
    options: RunOptions,
) -> anyhow::Result<RunReport> {
    if let Some(why) = not_configured(settings) {
        return Ok(RunReport {
            skipped: Some(why),
            counts: Map::new(),
        });
    }
    let started = std::time::Instant::now();
    let s = &settings.alerts;
    let client = Dhis2Client::new(&settings.api).context("api.dhis2_*")?;
    let rules = enabled_rules(pool).await?;
    let week = options.week.unwrap_or_else(|| last_complete_week(settings));
    let concurrency = usize::try_from(s.concurrency).unwrap_or(8).max(1);

    // Data in.
    let mut by_level: BTreeMap<u8, BTreeMap<String, u32>> = BTreeMap::new();
    for rule in &rules {
        let need = by_level
            .entry(rule.level)
            .or_default()
            .entry(rule.data_element.clone())
            .or_insert(1);
        *need = (*need).max(rule_weeks_needed(rule));
    }
    let needs: Vec<ScopeNeed> = by_level
        .into_iter()
        .map(|(level, data_elements)| ScopeNeed {
            level,
            data_elements,
        })
        .collect();
    let pull = PullSettings {
        roots: s.org_unit_roots.clone(),
        refetch_weeks: s.refetch_weeks.max(1),
        max_cells: usize::try_from(s.analytics_max_cells).unwrap_or(50_000),
        concurrency,
        read_only: options.dry_run,
    };
    let fetched = fetch(pool, &client, &needs, week, &pull).await?;
    let mut errors: Vec<String> = fetched
        .failures
        .iter()
        .map(|(level, de, e)| format!("analytics for {de} at level {level}: {e}"))
        .collect();
    errors.dedup();

    // Judge.
    let mut series_count = 0;
    let mut evaluated = 0;
    let mut rules_failed = 0;
    let mut alarms: Vec<(&AlertRule, Alarm)> = Vec::new();
    for rule in &rules {
        let Some(places) = fetched.series.get(&(rule.level, rule.data_element.clone())) else {
            rules_failed += 1;
            continue;
        };
        series_count += places.len();
        let outcome = evaluate_rule(rule, places, week);
        evaluated += outcome.evaluated;
        if let Some(first) = &outcome.first_refusal {
            errors.push(format!(
                "rule {} ({}): {} series not judged, first {first}",
                rule.uid, rule.name, outcome.refused
            ));
        }
        alarms.extend(outcome.alarms.into_iter().map(|a| (rule, a)));
    }
    let mut counts = json!({
        "week": week.to_string(),
        "rules": rules.len(),
        "rules_failed": rules_failed,
        "series": series_count,
        "evaluated": evaluated,
        "alarms": alarms.len(),
        "analytics_calls": fetched.analytics_calls,
        "values_fetched": fetched.values_fetched,
    });
    if options.dry_run {
        let would: Vec<Value> = alarms
            .iter()
            .map(|(rule, a)| {
                json!({
                    "disease": fetched.names.get(&rule.data_element).cloned().unwrap_or_else(|| rule.data_element.clone()),
                    "org_unit": a.org_unit_name.clone().unwrap_or_else(|| a.org_unit.clone()),
                    "week": week.to_string(),
                    "method": a.method.name(),
                    "count": a.assessment.count,
                    "upper_bound": a.assessment.upper_bound,
                    "reason": a.assessment.reason,
                })
            })
            .collect();
        counts["would_fire"] = Value::Array(would);
        counts["errors"] = json!(errors);
        return Ok(RunReport {
            skipped: None,
            counts: into_map(counts),
        });
    }

    // Claim each alarm before DHIS2 hears of it.
    let capture_base = if s.capture_base_url.trim().is_empty() {
        settings.api.dhis2_base_url.clone()
    } else {
        s.capture_base_url.clone()
    };
    let mut new_ids = Vec::new();
    let mut known = 0;
    {
        let db = pool.get().await?;
        let mut claims = Vec::with_capacity(alarms.len());
        for (rule, a) in &alarms {
            let enrollment = Uid::generate().to_string();
            let new = NewAlert {
                data_element: rule.data_element.clone(),
                data_element_name: fetched.names.get(&rule.data_element).cloned(),
                org_unit: a.org_unit.clone(),
                org_unit_name: a.org_unit_name.clone(),
                week: week.to_string(),
                week_start: week.monday(),
                rule_id: rule.id,
                rule_uid: rule.uid.clone(),
                rule_name: rule.name.clone(),
                disease_code: rule.disease_code.clone(),
                severity: rule.severity.to_string(),
                method: a.method.name().to_owned(),
                params: Value::Object(rule.params.clone()),
                missing_policy: rule.missing_policy.to_string(),
                series: series_json(&a.first_week.to_string(), &a.counts),
                count: a.assessment.count,
                expected: a.assessment.expected,
                upper_bound: a.assessment.upper_bound,
                score: a.assessment.score,
                reason: a.assessment.reason.clone(),
                tracked_entity: Uid::generate().to_string(),
                capture_url: capture_url(&capture_base, &enrollment),
                enrollment,
                event: Uid::generate().to_string(),
            };
            claims.push(new);
        }
        let claimed = alerts::claim_all(&db, &claims).await?;
        for (((rule, a), new), result) in alarms.iter().zip(&claims).zip(claimed) {
            match result {
                Ok(Some(id)) => new_ids.push((id, *rule, a)),
                Ok(None) => known += 1,
                Err(e) => errors.push(format!("claim {} {}: {e}", new.data_element, new.org_unit)),
            }
        }
    }

    // Facility drill-down for the alerts that list facilities.
    let drill_jobs: Vec<(i64, String, String, u8, f64)> = new_ids
        .iter()
        .filter_map(|(id, rule, a)| {
            let floor = facility_floor(&a.method)?;
            let level = if s.facility_level > 0 {
                s.facility_level
            } else {
                rule.level + 1
            };
            Some((
                *id,
                rule.data_element.clone(),
                a.org_unit.clone(),
                level,
                floor,
            ))
        })
        .collect();
    let drills = futures::stream::iter(drill_jobs)
        .map(|(id, de, ou, level, floor)| {
            let client = client.clone();
            let week = week.to_string();
            async move { (id, drill_down(&client, &de, &ou, &week, level, floor).await) }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let mut drill_failed = 0;
    let mut facilities = Vec::with_capacity(drills.len());
    for (id, f) in drills {
        match f {
            Ok(list) => facilities.push((id, list)),
            Err(e) => {
                drill_failed += 1;
                errors.push(format!("facility drill-down of alert {id}: {e}"));
            }
        }
    }
    alerts::set_facilities_all(&pool.get().await?, &facilities).await?;

    // Write every alert DHIS2 has not confirmed yet (this run's and earlier runs' retries).
    let due = {
        let db = pool.get().await?;
        alerts::due_for_dhis2(&db, 100_000).await?
    };
    let mode = TrackerMode::from_settings(&settings.api);
    let alerts_settings = std::sync::Arc::new(s.clone());
    // Alert numbers for the alerts without one, reserved in one call where DHIS2 allows it
    // (one `generate` call per alert otherwise, in `write_alert`).
    let mut reserved = reserve_numbers(
        &client,
        &s.dhis2_attribute_alert_number,
        due.iter().filter(|a| a.alert_number.is_none()).count(),
    )
    .await
    .into_iter();
    let due: Vec<_> = due
        .into_iter()
        .map(|a| {
            let number = if a.alert_number.is_none() {
                reserved.next()
            } else {
                None
            };
            (a, number)
        })
        .collect();
    let results = futures::stream::iter(due)
        .map(|(a, number)| {
            let (pool, client, s) = (pool.clone(), client.clone(), alerts_settings.clone());
            async move {
                (
                    a.id,
                    write_alert(&pool, &client, &s, mode, &a, number).await,
                )
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let (mut confirmed, mut failed, mut deliveries) = (0, 0, 0);
    for (id, r) in results {
        match r {
            Ok(Written::Confirmed { deliveries: d }) => {
                confirmed += 1;
                deliveries += d;
            }
            Ok(Written::Failed(why)) => {
                failed += 1;
                errors.push(format!("alert {id} not in DHIS2 yet: {why}"));
            }
            Err(e) => {
                failed += 1;
                errors.push(format!("alert {id}: {e:#}"));
            }
        }
    }
    crate::metrics::alerts_run(new_ids.len(), confirmed, failed);
    let pending = alerts::pending_count(&pool.get().await?).await?;
    counts["alerts_new"] = json!(new_ids.len());
    counts["alerts_known"] = json!(known);
    counts["dhis2_confirmed"] = json!(confirmed);
    counts["dhis2_failed"] = json!(failed);
    counts["dhis2_pending"] = json!(pending);
    counts["drill_downs_failed"] = json!(drill_failed);
    counts["deliveries_planned"] = json!(deliveries);
    counts["duration_ms"] = json!(u64::try_from(started.elapsed().as_millis()).unwrap_or(0));
    errors.truncate(50);
    counts["errors"] = json!(errors);
    tracing::info!(
        week = %week,
        rules = rules.len(),
        rules_failed,
        series = series_count,
        evaluated,
        alerts_new = new_ids.len(),
        alerts_known = known,
        dhis2_confirmed = confirmed,
        dhis2_failed = failed,
        errors = errors.len(),
        "alert run"
    );
    for e in &errors {
        tracing::warn!("alert run: {e}");
    }
    Ok(RunReport {
        skipped: None,
        counts: into_map(counts),
    })
}

/// `n` alert numbers from the attribute's `generateAndReserve` (in calls of at most 1 000); none
/// when the attribute is not set, DHIS2 refuses or fails (each alert then asks `generate`).
async fn reserve_numbers(client: &Dhis2Client, attribute: &str, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    if attribute.is_empty() {
        return out;
    }
    while out.len() < n {
        let want = (n - out.len()).min(1000);
        match client.reserve_attribute_values(attribute, want).await {
            Ok(Some(values)) if !values.is_empty() => out.extend(values),
            Ok(_) => break,
            Err(e) => {
                tracing::warn!("alert numbers not reserved, generated one by one: {e}");
                break;
            }
        }
    }
    out.truncate(n);
    out
}

/// The facilities an alert lists, as the fewest cases a facility must have to be listed:
/// `one_case`, every facility with a case; `cluster`, the facilities that reach the rule's
/// threshold on their own (PRODUCT.md §6: "district ≥ N with the facilities that reach N
/// listed"; none may, when only the district's sum reaches it). Other methods list none.
pub fn facility_floor(method: &Method) -> Option<f64> {
    match method {
        Method::OneCase(_) => Some(f64::MIN_POSITIVE),
        Method::Cluster(t) => Some(t.threshold),
        Method::Consecutive { method, .. } => facility_floor(method),
        _ => None,
    }
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
