//! The `alert_rules` table: rows as stored, lookups, and writes. Validation is the service's
//! (`alerts::rules`); the table's CHECKs only hold every writer to the same shapes.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::Row;

/// Every column, in the order `AlertRuleRow::from_row` reads them.
const COLUMNS: &str = "id, uid, name, data_element, disease_code, rule_type, params, level, \
    overrides, missing_policy, severity, enabled, created, updated";

/// One rule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRuleRow {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub data_element: String,
    pub disease_code: Option<String>,
    pub rule_type: String,
    /// A JSON object (a CHECK keeps it so).
    pub params: Value,
    pub level: i16,
    /// A JSON object: district org unit UID → parameters.
    pub overrides: Value,
    pub missing_policy: String,
    pub severity: String,
    pub enabled: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl AlertRuleRow {
    fn from_row(row: &Row) -> AlertRuleRow {
        AlertRuleRow {
            id: row.get(0),
            uid: row.get(1),
            name: row.get(2),
            data_element: row.get(3),
            disease_code: row.get(4),
            rule_type: row.get(5),
            params: row.get(6),
            level: row.get(7),
            overrides: row.get(8),
            missing_policy: row.get(9),
            severity: row.get(10),
            enabled: row.get(11),
            created: row.get(12),
            updated: row.get(13),
        }
    }
}

/// The fields a writer sets (all of them: a PUT replaces the rule).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFields {
    pub name: String,
    pub data_element: String,
    pub disease_code: Option<String>,
    pub rule_type: String,
    pub params: Value,
    pub level: i16,
    pub overrides: Value,
    pub missing_policy: String,
    pub severity: String,
    pub enabled: bool,
}

/// Every rule, by id; only the enabled ones when `enabled_only`.
pub async fn list(
    db: &impl GenericClient,
    enabled_only: bool,
) -> Result<Vec<AlertRuleRow>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alert_rules WHERE enabled OR NOT $1 ORDER BY data_element, rule_type, id"
    );
    let rows = db.query(&sql, &[&enabled_only]).await?;
    Ok(rows.iter().map(AlertRuleRow::from_row).collect())
}

/// The rule with this id.
pub async fn get(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<AlertRuleRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM alert_rules WHERE id = $1");
    Ok(db
        .query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(AlertRuleRow::from_row))
}

/// The rule with this uid.
pub async fn get_by_uid(
    db: &impl GenericClient,
    uid: &str,
) -> Result<Option<AlertRuleRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM alert_rules WHERE uid = $1");
    Ok(db
        .query_opt(&sql, &[&uid])
        .await?
        .as_ref()
        .map(AlertRuleRow::from_row))
}

/// The rule of this method for this data element (there is at most one).
pub async fn get_by_key(
    db: &impl GenericClient,
    data_element: &str,
    rule_type: &str,
) -> Result<Option<AlertRuleRow>, tokio_postgres::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM alert_rules WHERE data_element = $1 AND rule_type = $2");
    Ok(db
        .query_opt(&sql, &[&data_element, &rule_type])
        .await?
        .as_ref()
        .map(AlertRuleRow::from_row))
}

/// Every rule of this data element.
pub async fn list_for_data_element(
    db: &impl GenericClient,
    data_element: &str,
) -> Result<Vec<AlertRuleRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM alert_rules WHERE data_element = $1 ORDER BY id");
    let rows = db.query(&sql, &[&data_element]).await?;
    Ok(rows.iter().map(AlertRuleRow::from_row).collect())
}

/// Inserts a rule; `uid` None lets the table generate one.
pub async fn insert(
    db: &impl GenericClient,
    uid: Option<&str>,
    f: &RuleFields,
) -> Result<AlertRuleRow, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO alert_rules (uid, name, data_element, disease_code, rule_type, params, level, \
         overrides, missing_policy, severity, enabled) \
         VALUES (COALESCE($1, generate_uid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         RETURNING {COLUMNS}"
    );
    let row = db
        .query_one(
            &sql,
            &[
                &uid,
                &f.name,
                &f.data_element,
                &f.disease_code,
                &f.rule_type,
                &f.params,
                &f.level,
                &f.overrides,
                &f.missing_policy,
                &f.severity,
                &f.enabled,
            ],
        )
        .await?;
    Ok(AlertRuleRow::from_row(&row))
}

/// Replaces every field of rule `id`; `updated` moves only when something changed. None when
/// there is no such rule.
pub async fn update(
    db: &impl GenericClient,
    id: i64,
    f: &RuleFields,
) -> Result<Option<AlertRuleRow>, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE alert_rules SET name = $2, data_element = $3, disease_code = $4, rule_type = $5, \
         params = $6, level = $7, overrides = $8, missing_policy = $9, severity = $10, \
         enabled = $11, \
         updated = CASE WHEN (name, data_element, disease_code, rule_type, params, level, \
                              overrides, missing_policy, severity, enabled) \
                    IS NOT DISTINCT FROM ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                   THEN updated ELSE now() END \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let row = db
        .query_opt(
            &sql,
            &[
                &id,
                &f.name,
                &f.data_element,
                &f.disease_code,
                &f.rule_type,
                &f.params,
                &f.level,
                &f.overrides,
                &f.missing_policy,
                &f.severity,
                &f.enabled,
            ],
        )
        .await?;
    Ok(row.as_ref().map(AlertRuleRow::from_row))
}

/// Deletes rule `id`; false when there was none.
pub async fn delete(db: &impl GenericClient, id: i64) -> Result<bool, tokio_postgres::Error> {
    Ok(db
        .execute("DELETE FROM alert_rules WHERE id = $1", &[&id])
        .await?
        > 0)
}

impl From<&AlertRuleRow> for RuleFields {
    fn from(r: &AlertRuleRow) -> Self {
        RuleFields {
            name: r.name.clone(),
            data_element: r.data_element.clone(),
            disease_code: r.disease_code.clone(),
            rule_type: r.rule_type.clone(),
            params: r.params.clone(),
            level: r.level,
            overrides: r.overrides.clone(),
            missing_policy: r.missing_policy.clone(),
            severity: r.severity.clone(),
            enabled: r.enabled,
        }
    }
}
