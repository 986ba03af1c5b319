//! Alert rules (/api/v2/alert-rules…): which disease is checked with which detection method.
//! Admins write, viewers and admins read (`http/policy.rs`). Every write is validated by the
//! engine's own parameter check; a 4xx names the field (`data_element`, `params.k`, …), and a
//! CSV import names the row and column. See docs/alerts.md, "Rules".

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi};
use serde_json::{Map, Value};

use crate::alerts::rules::{self, RuleInput};
use crate::alerts::rules_csv::{self, ImportReport};
use crate::alerts::{AlertError, RowError};
use crate::db::alert_rules::AlertRuleRow;
use crate::http::text::{Text, string};
use crate::http::{ApiError, ErrorBody, FieldError, Tag};
use crate::mappings::ImportLimits;
use crate::state::AppState;

pub struct AlertRulesApi {
    pub state: AppState,
}

/// An alert rule as stored.
#[derive(Debug, Object)]
pub struct AlertRuleView {
    pub id: i64,
    pub uid: String,
    pub name: String,
    /// The data element UID: the disease.
    pub data_element: String,
    /// The disease code written to alerts (the original's `nmc_diagnosis`).
    #[oai(skip_serializing_if_is_none)]
    pub disease_code: Option<String>,
    /// The detection method (`one_case`, `doubling`, `ratio_to_mean`, `cluster`, `c1`, …).
    pub rule_type: String,
    /// The method's parameters.
    pub params: BTreeMap<String, Value>,
    /// The org-unit level the rule is assessed at (1 is the root).
    pub level: i16,
    /// District org unit UID → parameters used there instead (merged over `params`; with a
    /// `rule_type` key, another method).
    pub overrides: BTreeMap<String, Value>,
    /// `skip` or `zero`: what a week with no value means.
    pub missing_policy: String,
    /// `alert` or `action`.
    pub severity: String,
    pub enabled: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

fn object(value: Value) -> BTreeMap<String, Value> {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

impl From<AlertRuleRow> for AlertRuleView {
    fn from(r: AlertRuleRow) -> Self {
        AlertRuleView {
            id: r.id,
            uid: r.uid,
            name: r.name,
            data_element: r.data_element,
            disease_code: r.disease_code,
            rule_type: r.rule_type,
            params: object(r.params),
            level: r.level,
            overrides: object(r.overrides),
            missing_policy: r.missing_policy,
            severity: r.severity,
            enabled: r.enabled,
            created: r.created,
            updated: r.updated,
        }
    }
}

/// A rule to create, or to replace one with (absent optional fields take their defaults).
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AlertRuleBody {
    /// Required (optional in the schema only so that its absence is answered naming it).
    #[oai(nullable)]
    pub name: Option<Text>,
    /// Required: the data element UID (11 characters, a letter first).
    #[oai(nullable)]
    pub data_element: Option<Text>,
    #[oai(nullable)]
    pub disease_code: Option<Text>,
    /// Required: the detection method; see docs/alerts.md for each one's parameters.
    #[oai(nullable)]
    pub rule_type: Option<Text>,
    /// The method's parameters, a JSON object (default `{}`: the method's defaults).
    #[oai(nullable)]
    pub params: Option<Value>,
    /// 1 to 10 (default 3, the district in most hierarchies).
    #[oai(nullable)]
    pub level: Option<i64>,
    /// District org unit UID → parameters, a JSON object (default `{}`).
    #[oai(nullable)]
    pub overrides: Option<Value>,
    /// `skip` (default) or `zero`.
    #[oai(nullable)]
    pub missing_policy: Option<Text>,
    /// `alert` (default) or `action`.
    #[oai(nullable)]
    pub severity: Option<Text>,
    /// Default true.
    #[oai(nullable)]
    pub enabled: Option<bool>,
}

impl TryFrom<AlertRuleBody> for RuleInput {
    type Error = AlertError;

    fn try_from(b: AlertRuleBody) -> Result<Self, AlertError> {
        let map = |field: &str, v: Option<Value>| match v {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(other) => Err(AlertError::invalid(
                field,
                format!("{other} is not a JSON object"),
            )),
        };
        Ok(RuleInput {
            name: b.name.unwrap_or_default().into(),
            data_element: b.data_element.unwrap_or_default().into(),
            disease_code: string(b.disease_code),
            rule_type: b.rule_type.unwrap_or_default().into(),
            params: map("params", b.params)?,
            level: b.level,
            overrides: map("overrides", b.overrides)?,
            missing_policy: string(b.missing_policy),
            severity: string(b.severity),
            enabled: b.enabled,
        })
    }
}

#[derive(Debug, Object)]
pub struct AlertRuleList {
    pub items: Vec<AlertRuleView>,
    pub total: usize,
}

/// A CSV file of rules.
#[derive(Debug, Multipart)]
#[oai(deny_unknown_fields)]
pub struct RulesUpload {
    /// The CSV: the original's `alert_conditions.csv` (`id,name,nmc_diagnosis`) or an export.
    pub file: Upload,
}

/// A row's problem: its row number as a spreadsheet shows it (the header is row 1), the column
/// (or `params.<name>`), and why.
#[derive(Debug, Object)]
pub struct RowErrorView {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl From<RowError> for RowErrorView {
    fn from(e: RowError) -> Self {
        RowErrorView {
            row: e.row,
            column: e.field,
            reason: e.message,
        }
    }
}

/// What an import did (or would do, with `dry_run`).
#[derive(Debug, Object)]
pub struct RulesImportView {
    pub dry_run: bool,
    /// True when the changes were committed.
    pub applied: bool,
    /// Data rows read (blank rows not counted).
    pub total: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows with at least one error.
    pub invalid: usize,
    pub errors: Vec<RowErrorView>,
    /// Unknown columns (ignored).
    pub warnings: Vec<RowErrorView>,
}

impl From<ImportReport> for RulesImportView {
    fn from(r: ImportReport) -> Self {
        RulesImportView {
            dry_run: r.dry_run,
            applied: r.applied,
            total: r.total,
            inserted: r.inserted,
            updated: r.updated,
            unchanged: r.unchanged,
            invalid: r.invalid,
            errors: r.errors.into_iter().map(Into::into).collect(),
            warnings: r.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

/// An import refused because rows are invalid: the usual error body plus the report.
#[derive(Debug, Object)]
pub struct RulesImportRejected {
    pub error: String,
    /// `invalid_rows`
    pub code: String,
    /// One entry per problem: `field` is `row <n>: <column>`.
    pub details: Vec<FieldError>,
    pub report: RulesImportView,
}

impl From<ImportReport> for RulesImportRejected {
    fn from(r: ImportReport) -> Self {
        RulesImportRejected {
            error: format!(
                "{} of {} rows are invalid; nothing was imported",
                r.invalid, r.total
            ),
            code: "invalid_rows".into(),
            details: r
                .errors
                .iter()
                .map(|e| FieldError {
                    field: format!("row {}: {}", e.row, e.field),
                    message: e.message.clone(),
                })
                .collect(),
            report: r.into(),
        }
    }
}

#[derive(ApiResponse)]
pub enum CreatedResponse {
    #[oai(status = 201)]
    Created(Json<AlertRuleView>),
}

#[derive(ApiResponse)]
pub enum ImportResponse {
    /// Imported (or checked, with `dry_run`).
    #[oai(status = 200)]
    Done(Json<RulesImportView>),
    /// Some rows are invalid; nothing was changed. Each row, column and reason is listed.
    #[oai(status = 422)]
    InvalidRows(Json<RulesImportRejected>),
}

#[derive(ApiResponse)]
pub enum CsvFile {
    /// UTF-8 CSV with a BOM, every column the importer reads.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// How many rules a delete removed.
#[derive(Debug, Object)]
pub struct RulesDeleted {
    pub deleted: u64,
}

impl From<AlertError> for ApiError {
    fn from(err: AlertError) -> Self {
        match err {
            // The schema states the shapes; a rule's params, weeks and names are judged here.
            AlertError::Invalid { field, message } => ApiError::unprocessable(
                format!("the alert rule is invalid: {field}: {message}"),
                vec![FieldError { field, message }],
            ),
            AlertError::Conflict { field, message } => {
                let mut body = ErrorBody::new("conflict", format!("{field}: {message}"));
                body.details = vec![FieldError { field, message }];
                ApiError::Conflict(Json(body))
            }
            AlertError::NotFound(_) | AlertError::NoAlert(_) => {
                ApiError::not_found(err.to_string())
            }
            AlertError::BadFile(message) => ApiError::unprocessable(
                message.clone(),
                vec![FieldError {
                    field: "file".into(),
                    message,
                }],
            ),
            AlertError::TooLarge(message) => {
                ApiError::PayloadTooLarge(Json(ErrorBody::new("payload_too_large", message)))
            }
            AlertError::InvalidRows(_) => ApiError::unprocessable(err.to_string(), vec![]),
            _ if err.is_unavailable() => ApiError::unavailable("PostgreSQL", &err),
            _ => ApiError::internal(&err),
        }
    }
}

#[OpenApi(tag = "Tag::AlertRules")]
impl AlertRulesApi {
    /// Every alert rule, by data element and method.
    #[oai(path = "/api/v2/alert-rules", method = "get")]
    async fn list_alert_rules(
        &self,
        _auth: crate::http::auth::ApiAuth,
    ) -> Result<Json<AlertRuleList>, ApiError> {
        let rows = rules::list(self.state.db()).await?;
        Ok(Json(AlertRuleList {
            total: rows.len(),
            items: rows.into_iter().map(Into::into).collect(),
        }))
    }

    /// Create an alert rule (admin). 400 names the invalid field; 409 when the data element
    /// already has a rule of this method.
    #[oai(path = "/api/v2/alert-rules", method = "post")]
    async fn create_alert_rule(
        &self,
        _auth: crate::http::auth::ApiAuth,
        body: Json<AlertRuleBody>,
    ) -> Result<CreatedResponse, ApiError> {
        let row = rules::create(self.state.db(), &body.0.try_into()?).await?;
        Ok(CreatedResponse::Created(Json(row.into())))
    }

    /// One alert rule by id.
    #[oai(path = "/api/v2/alert-rules/:id", method = "get")]
    async fn get_alert_rule(
        &self,
        _auth: crate::http::auth::ApiAuth,
        id: Path<i64>,
    ) -> Result<Json<AlertRuleView>, ApiError> {
        Ok(Json(rules::get(self.state.db(), id.0).await?.into()))
    }

    /// Replace an alert rule (admin): every field from the body; absent optional ones take
    /// their defaults.
    #[oai(path = "/api/v2/alert-rules/:id", method = "put")]
    async fn replace_alert_rule(
        &self,
        _auth: crate::http::auth::ApiAuth,
        id: Path<i64>,
        body: Json<AlertRuleBody>,
    ) -> Result<Json<AlertRuleView>, ApiError> {
        let row = rules::update(self.state.db(), id.0, &body.0.try_into()?).await?;
        Ok(Json(row.into()))
    }

    /// Delete an alert rule (admin).
    #[oai(path = "/api/v2/alert-rules/:id", method = "delete")]
    async fn delete_alert_rule(
        &self,
        _auth: crate::http::auth::ApiAuth,
        id: Path<i64>,
    ) -> Result<Json<RulesDeleted>, ApiError> {
        rules::delete(self.state.db(), id.0).await?;
        Ok(Json(RulesDeleted { deleted: 1 }))
    }

    /// Import alert rules from CSV (admin): multipart field `file`. Takes the original's
    /// `alert_conditions.csv` (`id,name,nmc_diagnosis`) as is, and the optional columns
    /// `rule_type`, `params`, `level`, `missing_policy`, `severity`, `enabled`, `overrides`.
    /// Any invalid row: 422 with every row's problems, nothing written. `dry_run=true` checks
    /// and counts only.
    #[oai(path = "/api/v2/alert-rules/import/csv", method = "post")]
    async fn import_alert_rules_csv(
        &self,
        _auth: crate::http::auth::ApiAuth,
        upload: RulesUpload,
        dry_run: Query<Option<bool>>,
    ) -> Result<ImportResponse, ApiError> {
        let bytes = upload.file.into_vec().await.map_err(|e| {
            ApiError::bad_request(
                format!("the upload cannot be read: {e}"),
                vec![FieldError {
                    field: "file".into(),
                    message: e.to_string(),
                }],
            )
        })?;
        let limits = ImportLimits::from_settings(&self.state.settings());
        match rules_csv::import(self.state.db(), &bytes, dry_run.0.unwrap_or(false), &limits).await
        {
            Ok(report) => Ok(ImportResponse::Done(Json(report.into()))),
            Err(AlertError::InvalidRows(report)) => {
                Ok(ImportResponse::InvalidRows(Json((*report).into())))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every alert rule as `alert_rules.csv`; importing it back changes nothing.
    #[oai(path = "/api/v2/alert-rules/export/csv", method = "get")]
    async fn export_alert_rules_csv(
        &self,
        _auth: crate::http::auth::ApiAuth,
    ) -> Result<CsvFile, ApiError> {
        let bytes = rules_csv::export(self.state.db()).await?;
        Ok(CsvFile::Ok(
            Binary(bytes),
            "attachment; filename=\"alert_rules.csv\"".into(),
        ))
    }
}
