//! Alert rules as data: which disease (a DHIS2 data element) is checked with which detection
//! method, at which org-unit level, with which per-district overrides. Every rule is validated
//! here before it is written (the data element's UID syntax, the method and its parameters with
//! the engine's own [`Method::parse`], the level, the overrides), so an error names the field.
//!
//! The alert run reads the rules with [`enabled_rules`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use dhis2gw_detect::{DetectError, METHOD_NAMES, Method, MissingPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::alerts::AlertError;
use crate::db::Pool;
use crate::db::alert_rules::{self as db, AlertRuleRow, RuleFields};
use crate::domain::uid::Uid;

/// The org-unit levels a rule may be assessed at (DHIS2 numbers the root 1).
pub const LEVELS: std::ops::RangeInclusive<u8> = 1..=10;
/// The level a rule gets when none is given: the district in most DHIS2 hierarchies (1 the
/// country, 2 the province or region, 3 the district).
pub const DEFAULT_LEVEL: u8 = 3;
/// The longest name (DHIS2's own limit for a data element name).
pub const MAX_NAME: usize = 230;
/// The longest disease code.
pub const MAX_CODE: usize = 100;

/// How urgent an alert of a rule is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// An unusual count to look into.
    #[default]
    Alert,
    /// A count that calls for action now (an immediately notifiable disease, say).
    Action,
}

impl FromStr for Severity {
    type Err = AlertError;

    fn from_str(text: &str) -> Result<Self, AlertError> {
        match text {
            "alert" => Ok(Self::Alert),
            "action" => Ok(Self::Action),
            other => Err(AlertError::invalid(
                "severity",
                format!("{other:?} is not alert or action"),
            )),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Alert => "alert",
            Self::Action => "action",
        })
    }
}

/// A rule, validated, as the alert run uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRule {
    pub id: i64,
    pub uid: String,
    pub name: String,
    /// The data element UID: the disease.
    pub data_element: String,
    /// The original's `nmc_diagnosis` (e.g. `DA034_ANTHRAX`), written to the alert.
    pub disease_code: Option<String>,
    /// The method's name as stored (one of [`METHOD_NAMES`]).
    pub rule_type: String,
    /// The method, parsed from `rule_type` and `params`.
    pub method: Method,
    /// The parameters as stored.
    pub params: Map<String, Value>,
    /// The org-unit level the rule is assessed at.
    pub level: u8,
    /// District org unit UID → the method used there instead of `method`.
    pub overrides: BTreeMap<String, Method>,
    pub missing_policy: MissingPolicy,
    pub severity: Severity,
    pub enabled: bool,
}

impl AlertRule {
    /// The method for an org unit: its override, or the rule's method.
    pub fn method_for(&self, org_unit: &str) -> &Method {
        self.overrides.get(org_unit).unwrap_or(&self.method)
    }

    /// A stored row, parsed; an error names the rule and the field when the row no longer
    /// validates (a row written by hand, or parameters an older engine took).
    pub fn from_row(row: &AlertRuleRow) -> Result<AlertRule, AlertError> {
        let checked = check(&RuleInput::from_row(row)).map_err(|e| match e {
            AlertError::Invalid { field, message } => AlertError::invalid(
                field,
                format!("{message} (stored alert rule {} {})", row.id, row.uid),
            ),
            other => other,
        })?;
        Ok(AlertRule {
            id: row.id,
            uid: row.uid.clone(),
            name: checked.fields.name,
            data_element: checked.fields.data_element,
            disease_code: checked.fields.disease_code,
            rule_type: checked.fields.rule_type,
            method: checked.method,
            params: checked.params,
            level: checked.level,
            overrides: checked.overrides,
            missing_policy: checked.missing_policy,
            severity: checked.severity,
            enabled: checked.fields.enabled,
        })
    }
}

/// The enabled rules, validated. A stored rule that no longer validates is left out with an
/// error in the log naming it, so one bad row does not stop the other rules.
pub async fn enabled_rules(pool: &Pool) -> Result<Vec<AlertRule>, AlertError> {
    let client = pool.get().await?;
    let rows = db::list(&client, true).await?;
    let mut rules = Vec::with_capacity(rows.len());
    for row in &rows {
        match AlertRule::from_row(row) {
            Ok(rule) => rules.push(rule),
            Err(e) => tracing::error!(rule = row.id, uid = %row.uid, "alert rule skipped: {e}"),
        }
    }
    Ok(rules)
}

/// A rule as a writer gives it (the API's body, a CSV row, an imported list). Absent optional
/// fields take their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleInput {
    pub name: String,
    pub data_element: String,
    #[serde(default)]
    pub disease_code: Option<String>,
    pub rule_type: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub level: Option<i64>,
    /// District org unit UID → parameters that replace the rule's there (merged over `params`),
    /// or, with a `rule_type` key, another method and its own parameters.
    #[serde(default)]
    pub overrides: Map<String, Value>,
    #[serde(default)]
    pub missing_policy: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl RuleInput {
    /// The input that would write `row` again.
    pub fn from_row(row: &AlertRuleRow) -> RuleInput {
        RuleInput {
            name: row.name.clone(),
            data_element: row.data_element.clone(),
            disease_code: row.disease_code.clone(),
            rule_type: row.rule_type.clone(),
            params: row.params.as_object().cloned().unwrap_or_default(),
            level: Some(i64::from(row.level)),
            overrides: row.overrides.as_object().cloned().unwrap_or_default(),
            missing_policy: Some(row.missing_policy.clone()),
            severity: Some(row.severity.clone()),
            enabled: Some(row.enabled),
        }
    }
}

/// A rule that passed [`check`]: the columns to write and what they parse to.
#[derive(Clone, Debug)]
pub struct Checked {
    pub fields: RuleFields,
    pub method: Method,
    pub params: Map<String, Value>,
    pub level: u8,
    pub overrides: BTreeMap<String, Method>,
    pub missing_policy: MissingPolicy,
    pub severity: Severity,
}

/// The field an engine error is about: `rule_type` for an unknown method, `<prefix>.<name>` for
/// a parameter.
fn detect_error(prefix: &str, e: DetectError) -> AlertError {
    match e {
        DetectError::UnknownMethod(name) => AlertError::invalid(
            if prefix == "params" {
                "rule_type".to_owned()
            } else {
                format!("{prefix}.rule_type")
            },
            format!(
                "unknown method {name:?}; the methods are {}",
                METHOD_NAMES.join(", ")
            ),
        ),
        DetectError::InvalidParameter { name, problem } => {
            AlertError::invalid(format!("{prefix}.{name}"), problem)
        }
        other => AlertError::invalid(prefix, other.to_string()),
    }
}

fn trimmed(text: &str) -> &str {
    text.trim()
}

/// Validates a rule; the error names the field (`data_element`, `params.k`,
/// `overrides.<district>.threshold`, …).
pub fn check(input: &RuleInput) -> Result<Checked, AlertError> {
    let name = trimmed(&input.name).to_owned();
    if name.is_empty() {
        return Err(AlertError::invalid("name", "is required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(AlertError::invalid(
            "name",
            format!("has more than {MAX_NAME} characters"),
        ));
    }
    let data_element_text = trimmed(&input.data_element);
    if data_element_text.is_empty() {
        return Err(AlertError::invalid("data_element", "is required"));
    }
    let data_element = Uid::parse(data_element_text)
        .map_err(|e| AlertError::invalid("data_element", e.to_string()))?
        .to_string();
    let disease_code = match input.disease_code.as_deref().map(trimmed) {
        None | Some("") => None,
        Some(code) if code.chars().count() > MAX_CODE => {
            return Err(AlertError::invalid(
                "disease_code",
                format!("has more than {MAX_CODE} characters"),
            ));
        }
        Some(code) if code.chars().any(char::is_control) => {
            return Err(AlertError::invalid(
                "disease_code",
                "has a control character",
            ));
        }
        Some(code) => Some(code.to_owned()),
    };
    let rule_type = trimmed(&input.rule_type);
    if rule_type.is_empty() {
        return Err(AlertError::invalid(
            "rule_type",
            format!("is required: one of {}", METHOD_NAMES.join(", ")),
        ));
    }
    let method = Method::parse(rule_type, &input.params).map_err(|e| detect_error("params", e))?;
    let level = match input.level {
        None => DEFAULT_LEVEL,
        Some(l) => u8::try_from(l)
            .ok()
            .filter(|l| LEVELS.contains(l))
            .ok_or_else(|| {
                AlertError::invalid(
                    "level",
                    format!(
                        "{l} is not an org-unit level from {} to {}",
                        LEVELS.start(),
                        LEVELS.end()
                    ),
                )
            })?,
    };
    let mut overrides = BTreeMap::new();
    for (district, value) in &input.overrides {
        let field = format!("overrides.{district}");
        Uid::parse(district).map_err(|e| {
            AlertError::invalid(&field, format!("the key is not an org unit UID: {e}"))
        })?;
        let Value::Object(own) = value else {
            return Err(AlertError::invalid(
                &field,
                format!("{value} is not an object of parameters"),
            ));
        };
        overrides.insert(
            district.clone(),
            override_method(&field, rule_type, &input.params, own)?,
        );
    }
    let missing_policy = match input.missing_policy.as_deref().map(trimmed) {
        None | Some("") => MissingPolicy::default(),
        Some(text) => text.parse::<MissingPolicy>().map_err(|_| {
            AlertError::invalid("missing_policy", format!("{text:?} is not skip or zero"))
        })?,
    };
    let severity = match input.severity.as_deref().map(trimmed) {
        None | Some("") => Severity::default(),
        Some(text) => text.parse::<Severity>()?,
    };
    let enabled = input.enabled.unwrap_or(true);
    Ok(Checked {
        fields: RuleFields {
            name,
            data_element,
            disease_code,
            rule_type: rule_type.to_owned(),
            params: Value::Object(input.params.clone()),
            level: i16::from(level),
            overrides: Value::Object(input.overrides.clone()),
            missing_policy: missing_policy.to_string(),
            severity: severity.to_string(),
            enabled,
        },
        method,
        params: input.params.clone(),
        level,
        overrides,
        missing_policy,
        severity,
    })
}

/// The method of one district's override: the rule's method with `own` merged over its
/// parameters, or, when `own` names another `rule_type`, that method with `own`'s other keys.
fn override_method(
    field: &str,
    rule_type: &str,
    params: &Map<String, Value>,
    own: &Map<String, Value>,
) -> Result<Method, AlertError> {
    let mut own = own.clone();
    let other = match own.remove("rule_type") {
        None => None,
        Some(Value::String(t)) if t.trim() == rule_type => None,
        Some(Value::String(t)) => Some(t.trim().to_owned()),
        Some(v) => {
            return Err(AlertError::invalid(
                format!("{field}.rule_type"),
                format!("{v} is not a method name"),
            ));
        }
    };
    match other {
        Some(name) => Method::parse(&name, &own).map_err(|e| detect_error(field, e)),
        None => {
            let mut merged = params.clone();
            merged.extend(own);
            Method::parse(rule_type, &merged).map_err(|e| detect_error(field, e))
        }
    }
}

/// The error for a write that hit the one-rule-per-method unique key, or passes `e` on.
fn conflict(e: tokio_postgres::Error, fields: &RuleFields) -> AlertError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        AlertError::Conflict {
            field: "rule_type".to_owned(),
            message: format!(
                "data element {} already has a {} rule",
                fields.data_element, fields.rule_type
            ),
        }
    } else {
        AlertError::Db(e)
    }
}

/// Every rule, as stored.
pub async fn list(pool: &Pool) -> Result<Vec<AlertRuleRow>, AlertError> {
    let client = pool.get().await?;
    Ok(db::list(&client, false).await?)
}

/// One rule, as stored.
pub async fn get(pool: &Pool, id: i64) -> Result<AlertRuleRow, AlertError> {
    let client = pool.get().await?;
    db::get(&client, id)
        .await?
        .ok_or_else(|| AlertError::NotFound(id.to_string()))
}

/// Validates and inserts a rule.
pub async fn create(pool: &Pool, input: &RuleInput) -> Result<AlertRuleRow, AlertError> {
    let checked = check(input)?;
    let client = pool.get().await?;
    db::insert(&client, None, &checked.fields)
        .await
        .map_err(|e| conflict(e, &checked.fields))
}

/// Validates `input` and replaces rule `id` with it.
pub async fn update(pool: &Pool, id: i64, input: &RuleInput) -> Result<AlertRuleRow, AlertError> {
    let checked = check(input)?;
    let client = pool.get().await?;
    db::update(&client, id, &checked.fields)
        .await
        .map_err(|e| conflict(e, &checked.fields))?
        .ok_or_else(|| AlertError::NotFound(id.to_string()))
}

/// Deletes rule `id`.
pub async fn delete(pool: &Pool, id: i64) -> Result<(), AlertError> {
    let client = pool.get().await?;
    if db::delete(&client, id).await? {
        Ok(())
    } else {
        Err(AlertError::NotFound(id.to_string()))
    }
}

/// What an import does to one rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A new rule.
    Insert(RuleFields),
    /// An existing rule gets these fields.
    Update { id: i64, fields: RuleFields },
    /// An existing rule already is what the import says.
    Unchanged { id: i64 },
}

impl Change {
    /// The change that makes `existing` (if any) into `fields`.
    pub fn to(existing: Option<&AlertRuleRow>, fields: RuleFields) -> Change {
        match existing {
            None => Change::Insert(fields),
            Some(row) if RuleFields::from(row) == fields => Change::Unchanged { id: row.id },
            Some(row) => Change::Update { id: row.id, fields },
        }
    }
}

/// How many rules each kind of change touches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Counts {
    pub fn of(changes: &[Change]) -> Counts {
        let mut c = Counts::default();
        for change in changes {
            match change {
                Change::Insert(_) => c.inserted += 1,
                Change::Update { .. } => c.updated += 1,
                Change::Unchanged { .. } => c.unchanged += 1,
            }
        }
        c
    }
}

/// Applies an import's changes in one transaction: all of them or none.
pub async fn apply(pool: &Pool, changes: &[Change]) -> Result<(), AlertError> {
    let mut client = crate::db::TxConn::new(pool.get().await?);
    let tx = client.transaction().await?;
    for change in changes {
        match change {
            Change::Insert(fields) => {
                db::insert(&tx, None, fields)
                    .await
                    .map_err(|e| conflict(e, fields))?;
            }
            Change::Update { id, fields } => {
                db::update(&tx, *id, fields)
                    .await
                    .map_err(|e| conflict(e, fields))?
                    .ok_or_else(|| AlertError::NotFound(id.to_string()))?;
            }
            Change::Unchanged { .. } => {}
        }
    }
    tx.commit().await?;
    client.transaction_ended();
    Ok(())
}
