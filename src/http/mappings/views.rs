//! The JSON shapes of the mappings API: a mapping (the original's camelCase keys), the body that
//! creates or replaces one, a page, and the import report.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};

use crate::db::mappings::MappingRow;
use crate::http::text::Text;
use crate::http::{ApiError, FieldError};
use crate::mappings::columns::Column;
use crate::mappings::{ImportMode, ImportReport, Problem, RowProblem, RowValues};

/// A mapping. Absent optional values are omitted.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct MappingView {
    pub id: i64,
    pub uid: String,
    /// The key submitters send (de), or a label (ou).
    pub code: String,
    /// `de` (data element) or `ou` (org unit).
    pub what: String,
    pub name: String,
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub data_set: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub data_element: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub category_option_combo: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub category_option: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub category_combo: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub attribute_option_combo: Option<String>,
    pub instance_name: String,
    pub source_name: String,
    #[oai(skip_serializing_if_is_none)]
    pub source_org_unit: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub destination_org_unit: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub dimension_type: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl From<MappingRow> for MappingView {
    fn from(m: MappingRow) -> Self {
        MappingView {
            id: m.id,
            uid: m.uid,
            code: m.code,
            what: m.what,
            name: m.name,
            description: m.description,
            data_set: m.dataset,
            data_element: m.dataelement,
            category_option_combo: m.category_option_combo,
            category_option: m.category_option,
            category_combo: m.category_combo,
            attribute_option_combo: m.attribute_option_combo,
            instance_name: m.instance_name,
            source_name: m.source_name,
            source_org_unit: m.source_orgunit,
            destination_org_unit: m.dest_orgunit,
            dimension_type: m.dimension_type,
            created: m.created,
            updated: m.updated,
        }
    }
}

/// A mapping to create or to replace one with. A `de` mapping needs `code` and `dataElement`;
/// an `ou` mapping `sourceOrgUnit` and `destinationOrgUnit`. DHIS2 references are UIDs.
/// Namespaces default to `default`, `what` to `de`, `name` to `code`.
#[derive(Debug, Default, Object)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingBody {
    /// Only on create: the mapping's own UID (drawn when absent).
    #[oai(nullable)]
    pub uid: Option<Text>,
    #[oai(nullable)]
    pub code: Option<Text>,
    #[oai(nullable)]
    pub what: Option<Text>,
    #[oai(nullable)]
    pub name: Option<Text>,
    #[oai(nullable)]
    pub description: Option<Text>,
    #[oai(nullable)]
    pub data_set: Option<Text>,
    #[oai(nullable)]
    pub data_element: Option<Text>,
    #[oai(nullable)]
    pub category_option_combo: Option<Text>,
    #[oai(nullable)]
    pub category_option: Option<Text>,
    #[oai(nullable)]
    pub category_combo: Option<Text>,
    #[oai(nullable)]
    pub attribute_option_combo: Option<Text>,
    #[oai(nullable)]
    pub instance_name: Option<Text>,
    #[oai(nullable)]
    pub source_name: Option<Text>,
    #[oai(nullable)]
    pub source_org_unit: Option<Text>,
    #[oai(nullable)]
    pub destination_org_unit: Option<Text>,
    #[oai(nullable)]
    pub dimension_type: Option<Text>,
}

/// Each body field, its column, and its JSON key (for error details).
fn body_fields(b: &MappingBody) -> [(Column, &'static str, &Option<Text>); 16] {
    [
        (Column::Uid, "uid", &b.uid),
        (Column::Code, "code", &b.code),
        (Column::What, "what", &b.what),
        (Column::Name, "name", &b.name),
        (Column::Description, "description", &b.description),
        (Column::Dataset, "dataSet", &b.data_set),
        (Column::Dataelement, "dataElement", &b.data_element),
        (
            Column::CategoryOptionCombo,
            "categoryOptionCombo",
            &b.category_option_combo,
        ),
        (Column::CategoryOption, "categoryOption", &b.category_option),
        (Column::CategoryCombo, "categoryCombo", &b.category_combo),
        (
            Column::AttributeOptionCombo,
            "attributeOptionCombo",
            &b.attribute_option_combo,
        ),
        (Column::InstanceName, "instanceName", &b.instance_name),
        (Column::SourceName, "sourceName", &b.source_name),
        (Column::SourceOrgunit, "sourceOrgUnit", &b.source_org_unit),
        (
            Column::DestinationOrgunit,
            "destinationOrgUnit",
            &b.destination_org_unit,
        ),
        (Column::DimensionType, "dimensionType", &b.dimension_type),
    ]
}

impl MappingBody {
    /// Every column present: a body is a whole mapping (absent fields are empty).
    pub fn values(&self) -> RowValues {
        let mut values = RowValues::default();
        for (column, _, value) in body_fields(self) {
            values.set(column, value.as_deref().unwrap_or(""));
        }
        values
    }
}

/// A sheet column's problem named by the JSON key the API uses for it.
pub fn field_error(problem: Problem) -> FieldError {
    let key = Column::ALL
        .iter()
        .find(|c| c.header() == problem.column)
        .and_then(|c| {
            body_fields(&MappingBody::default())
                .into_iter()
                .find(|(column, _, _)| column == c)
                .map(|(_, key, _)| key)
        })
        .unwrap_or(problem.column);
    FieldError {
        field: key.to_owned(),
        message: problem.reason,
    }
}

/// The problems as the 422 body lists them (a mapping's fields are judged by the service:
/// which are required depends on `what`).
pub fn invalid(problems: Vec<Problem>) -> ApiError {
    ApiError::unprocessable(
        "the mapping is invalid",
        problems.into_iter().map(field_error).collect(),
    )
}

/// One page of mappings.
#[derive(Debug, Object)]
pub struct MappingPage {
    pub items: Vec<MappingView>,
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub total_pages: i64,
    pub page_size: i64,
}

/// How many mappings a delete removed.
#[derive(Debug, Object)]
pub struct Deleted {
    pub deleted: u64,
}

/// What happens to rows whose mapping already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Mode {
    /// Keep the stored mapping (counted `skipped` when the row differs).
    Skip,
    /// Update it to the row (default).
    Upsert,
    /// Update, and delete the mappings of the file's namespaces the file does not have.
    Replace,
}

impl From<Mode> for ImportMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Skip => ImportMode::Skip,
            Mode::Upsert => ImportMode::Upsert,
            Mode::Replace => ImportMode::Replace,
        }
    }
}

impl From<ImportMode> for Mode {
    fn from(m: ImportMode) -> Self {
        match m {
            ImportMode::Skip => Mode::Skip,
            ImportMode::Upsert => Mode::Upsert,
            ImportMode::Replace => Mode::Replace,
        }
    }
}

/// A problem with one row: its spreadsheet row number (header = 1; 0 = the whole file), the
/// column, and why.
#[derive(Debug, Object)]
pub struct RowProblemView {
    pub row: u32,
    pub column: String,
    pub reason: String,
}

impl From<RowProblem> for RowProblemView {
    fn from(p: RowProblem) -> Self {
        RowProblemView {
            row: p.row,
            column: p.column,
            reason: p.reason,
        }
    }
}

/// What an import did (or would do, with `dry_run` or invalid rows).
#[derive(Debug, Object)]
pub struct ImportReportView {
    pub mode: Mode,
    pub dry_run: bool,
    /// True when the changes were committed.
    pub applied: bool,
    /// Data rows read; blank rows are not counted.
    pub total: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Removed by `mode=replace`.
    pub deleted: usize,
    /// Rows with at least one error.
    pub invalid: usize,
    /// False until a DHIS2 metadata sync has run: references were not checked.
    pub references_checked: bool,
    pub errors: Vec<RowProblemView>,
    /// Unknown columns, unused uids, and (without `strict`) references DHIS2 does not have.
    pub warnings: Vec<RowProblemView>,
}

impl From<ImportReport> for ImportReportView {
    fn from(r: ImportReport) -> Self {
        ImportReportView {
            mode: r.mode.into(),
            dry_run: r.dry_run,
            applied: r.applied,
            total: r.total,
            inserted: r.inserted,
            updated: r.updated,
            unchanged: r.unchanged,
            skipped: r.skipped,
            deleted: r.deleted,
            invalid: r.invalid,
            references_checked: r.references_checked,
            errors: r.errors.into_iter().map(Into::into).collect(),
            warnings: r.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

/// An import refused because rows are invalid: the usual error body plus the report.
#[derive(Debug, Object)]
pub struct ImportRejected {
    pub error: String,
    /// `invalid_rows`
    pub code: String,
    /// One entry per problem: `field` is `row <n>: <column>`.
    pub details: Vec<FieldError>,
    pub report: ImportReportView,
}

impl From<ImportReport> for ImportRejected {
    fn from(r: ImportReport) -> Self {
        let details = r
            .errors
            .iter()
            .map(|e| FieldError {
                field: format!("row {}: {}", e.row, e.column),
                message: e.reason.clone(),
            })
            .collect();
        ImportRejected {
            error: format!(
                "{} of {} rows are invalid; nothing was imported",
                r.invalid, r.total
            ),
            code: "invalid_rows".into(),
            details,
            report: r.into(),
        }
    }
}
