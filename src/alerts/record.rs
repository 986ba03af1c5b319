//! Alerts out: the facility drill-down of a claimed alert, its tracker payload (tracked entity,
//! enrollment and event, all with UIDs chosen at the claim), the import, and the confirmation,
//! which hands the alert to the notifications in the same transaction. A failed import leaves
//! the alert `pending_dhis2` with its next attempt backed off; the next run tries again.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::config::AlertsSettings;
use crate::db::Pool;
use crate::db::alerts::{self, Alert};
use crate::dhis2::analytics::AnalyticsQuery;
use crate::dhis2::{Dhis2Client, ImportStatus, TrackerMode};
use crate::notify::{AlertKind, AlertNotice, plan_deliveries};

/// Longest wait between two attempts of one alert.
const MAX_BACKOFF_SECS: i64 = 6 * 3600;

/// `{base}/dhis-web-capture/index.html#/enrollment?enrollmentId=…`.
pub fn capture_url(base: &str, enrollment: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/api").unwrap_or(base);
    format!("{base}/dhis-web-capture/index.html#/enrollment?enrollmentId={enrollment}")
}

/// The facilities of the alert's org unit with at least `floor` cases that week, largest first.
pub async fn drill_down(
    client: &Dhis2Client,
    data_element: &str,
    org_unit: &str,
    week: &str,
    level: u8,
    floor: f64,
) -> Result<Value, String> {
    let week = week.parse().map_err(|e| format!("{e}"))?;
    let query = AnalyticsQuery {
        data_elements: vec![data_element.to_owned()],
        weeks: vec![week],
        org_units: vec![org_unit.to_owned(), format!("LEVEL-{level}")],
    };
    let grid = client.analytics(&query).await.map_err(|e| e.to_string())?;
    let mut rows: Vec<(String, String, f64)> = grid
        .rows
        .iter()
        .filter(|r| r.value > 0.0 && r.value >= floor)
        .map(|r| {
            let name = grid.name_of(&r.ou).unwrap_or(&r.ou).to_owned();
            (r.ou.clone(), name, r.value)
        })
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    Ok(Value::Array(
        rows.into_iter()
            .map(|(uid, name, count)| json!({ "uid": uid, "name": name, "count": count }))
            .collect(),
    ))
}

/// `Clinic A (3), Clinic B (1)`.
pub fn facility_list(facilities: &Value) -> Vec<String> {
    facilities
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} ({})",
                f["name"].as_str().unwrap_or(""),
                number(f["count"].as_f64())
            )
        })
        .collect()
}

fn number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => String::new(),
    }
}

/// The tracker payload of an alert (nested: the enrollment in the tracked entity, the event in
/// the enrollment).
pub fn payload(a: &Alert, s: &AlertsSettings, alert_number: &str, date: NaiveDate) -> Value {
    let date = date.format("%Y-%m-%d").to_string();
    let mut attributes = Vec::new();
    let mut attribute = |uid: &str, value: &str| {
        if !uid.is_empty() && !value.is_empty() {
            attributes.push(json!({ "attribute": uid, "value": value }));
        }
    };
    attribute(&s.dhis2_attribute_date, &date);
    attribute(&s.dhis2_attribute_source, &s.dhis2_source_value);
    attribute(&s.dhis2_attribute_verification, &s.dhis2_verification_value);
    attribute(
        &s.dhis2_attribute_disease,
        a.disease_code.as_deref().unwrap_or(""),
    );
    attribute(&s.dhis2_attribute_alert_number, alert_number);
    let mut enrollment = json!({
        "enrollment": a.enrollment,
        "program": s.dhis2_program,
        "orgUnit": a.org_unit,
        "trackedEntity": a.tracked_entity,
        "status": "ACTIVE",
        "enrolledAt": date,
        "occurredAt": date,
    });
    if !s.dhis2_program_stage.is_empty() {
        let mut values = Vec::new();
        let mut value = |uid: &str, v: String| {
            if !uid.is_empty() && !v.is_empty() {
                values.push(json!({ "dataElement": uid, "value": v }));
            }
        };
        value(&s.dhis2_data_element_week, a.week.clone());
        value(
            &s.dhis2_data_element_rule,
            format!("{} ({})", a.rule_name, a.method),
        );
        value(&s.dhis2_data_element_count, number(a.count));
        value(&s.dhis2_data_element_expected, number(a.expected));
        value(&s.dhis2_data_element_upper_bound, number(a.upper_bound));
        value(
            &s.dhis2_data_element_facilities,
            facility_list(&a.facilities).join(", "),
        );
        enrollment["events"] = json!([{
            "event": a.event,
            "program": s.dhis2_program,
            "programStage": s.dhis2_program_stage,
            "orgUnit": a.org_unit,
            "enrollment": a.enrollment,
            "status": "COMPLETED",
            "occurredAt": a.week_start.format("%Y-%m-%d").to_string(),
            "dataValues": values,
        }]);
    }
    json!({ "trackedEntities": [{
        "trackedEntity": a.tracked_entity,
        "trackedEntityType": s.dhis2_tracked_entity_type,
        "orgUnit": a.org_unit,
        "attributes": attributes,
        "enrollments": [enrollment],
    }]})
}

/// What writing one alert gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Confirmed {
        deliveries: u64,
    },
    /// Left pending; the reason is in the alert's `dhis2_last_error`.
    Failed(String),
}

/// Writes one pending alert to DHIS2 and records the answer.
pub async fn write_alert(
    pool: &Pool,
    client: &Dhis2Client,
    s: &AlertsSettings,
    mode: TrackerMode,
    a: &Alert,
    reserved: Option<String>,
) -> Result<Written, anyhow::Error> {
    let db = pool.get().await?;
    let number = match (&a.alert_number, reserved) {
        (Some(n), _) => n.clone(),
        (None, Some(n)) => alerts::set_alert_number(&db, a.id, &n).await?,
        (None, None) => {
            let generated = match client
                .generate_attribute_value(&s.dhis2_attribute_alert_number)
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    let backoff = backoff_secs(a.dhis2_attempts);
                    let why = format!("alert number: {e}");
                    alerts::record_failure(
                        &db,
                        a.id,
                        &Value::Null,
                        e.raw_body(),
                        None,
                        &why,
                        backoff,
                    )
                    .await?;
                    return Ok(Written::Failed(why));
                }
            };
            let n = match generated {
                Some(n) => n,
                None => alerts::next_alert_number(&db).await?,
            };
            alerts::set_alert_number(&db, a.id, &n).await?
        }
    };
    let request = payload(a, s, &number, a.created.date_naive());
    let failure = match client.post_alert_tracker(&request, mode).await {
        Ok(outcome) if outcome.status != ImportStatus::Error => {
            drop(db);
            let mut db = crate::db::TxConn::new(pool.get().await?);
            let tx = db.transaction().await?;
            let http = i32::from(outcome.http_status);
            if !alerts::confirm(&tx, a.id, &request, &outcome.raw_body, http).await? {
                return Ok(Written::Confirmed { deliveries: 0 });
            }
            let notice = notice(&tx, a).await?;
            let deliveries = plan_deliveries(&tx, &notice).await?;
            tx.commit().await?;
            db.transaction_ended();
            return Ok(Written::Confirmed { deliveries });
        }
        Ok(outcome) => {
            let why = outcome
                .error_text()
                .unwrap_or_else(|| "DHIS2 rejected the import".into());
            (
                Some(outcome.raw_body),
                Some(i32::from(outcome.http_status)),
                why,
            )
        }
        Err(e) => (
            e.raw_body().map(str::to_owned),
            e.http_status().map(i32::from),
            e.to_string(),
        ),
    };
    let (body, status, why) = failure;
    let backoff = backoff_secs(a.dhis2_attempts);
    alerts::record_failure(&db, a.id, &request, body.as_deref(), status, &why, backoff).await?;
    Ok(Written::Failed(why))
}

/// 1 min, 2, 4 … up to 6 h after the n-th failed attempt.
pub fn backoff_secs(attempts_before: i32) -> i64 {
    let exp = u32::try_from(attempts_before.clamp(0, 20)).unwrap_or(0);
    (60_i64 << exp).min(MAX_BACKOFF_SECS)
}

/// What the notifications are told of a confirmed alert.
async fn notice(
    db: &impl deadpool_postgres::GenericClient,
    a: &Alert,
) -> Result<AlertNotice, anyhow::Error> {
    let path: Option<String> = db
        .query_opt(
            "SELECT path FROM dhis2_org_units WHERE uid = $1",
            &[&a.org_unit],
        )
        .await?
        .and_then(|r| r.get(0));
    let kind = match a.method.as_str() {
        "one_case" => AlertKind::OneCase,
        "cluster" => AlertKind::Cluster,
        "doubling" | "ratio_to_mean" | "rolling_sum" | "incidence" => AlertKind::Rise,
        _ => AlertKind::Statistical,
    };
    Ok(AlertNotice {
        alert_id: a.id,
        kind,
        disease_code: a.disease_code.clone(),
        disease_name: a
            .data_element_name
            .clone()
            .unwrap_or_else(|| a.rule_name.clone()),
        data_element: a.data_element.clone(),
        org_unit: a.org_unit.clone(),
        org_unit_name: a
            .org_unit_name
            .clone()
            .unwrap_or_else(|| a.org_unit.clone()),
        org_unit_path: path.unwrap_or_else(|| format!("/{}", a.org_unit)),
        week: a.week.parse()?,
        count: a.count.unwrap_or(0.0),
        expected: a.expected,
        upper_bound: a.upper_bound,
        reason: a.reason.clone(),
        facilities: facility_list(&a.facilities),
        capture_url: Some(a.capture_url.clone()),
        severity: a.severity.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_links_and_backoff() {
        assert_eq!(
            capture_url("https://d.example/api/", "ABCDEFGHIJK"),
            "https://d.example/dhis-web-capture/index.html#/enrollment?enrollmentId=ABCDEFGHIJK"
        );
        assert_eq!(backoff_secs(0), 60);
        assert_eq!(backoff_secs(3), 480);
        assert_eq!(backoff_secs(40), MAX_BACKOFF_SECS);
    }

    #[test]
    fn facility_lists_read_as_names_and_counts() {
        let f =
            json!([{"uid":"a","name":"Clinic A","count":3.0},{"uid":"b","name":"B","count":1.5}]);
        assert_eq!(facility_list(&f), ["Clinic A (3)", "B (1.5)"]);
    }
}
