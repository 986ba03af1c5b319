//! Alert rules in CSV: the import (the original's `alert_conditions.csv` as is, plus optional
//! columns) and the export, which the import reads back without a change.
//!
//! Columns (the first three are the original's; header names are matched without case):
//!
//! | column | meaning |
//! |---|---|
//! | `id` | the data element UID: the disease (also `data_element`) |
//! | `name` | the rule's name (the original: the data element's name) |
//! | `nmc_diagnosis` | the disease code written to the alert (also `disease_code`); optional |
//! | `rule_type` | the method; empty: a catalogue row (below) |
//! | `params` | the method's parameters, a JSON object |
//! | `level` | the org-unit level, 1 to 10 (default 3) |
//! | `missing_policy` | `skip` (default) or `zero` |
//! | `severity` | `alert` (default) or `action` |
//! | `enabled` | `true` (default) or `false` (also yes/no, 1/0) |
//! | `overrides` | district org unit UID → parameters, a JSON object |
//!
//! A row with a `rule_type` is one rule, found by its data element and method: it is inserted,
//! or the stored rule is replaced by the row (absent cells take their defaults). A row without
//! one — every row of the original's file — is a catalogue row: it names the disease and gives
//! its code. It renames every stored rule of that data element that no row of the file gives,
//! and when the data element has no rule at all it adds a disabled `one_case` rule, to be
//! switched on (or given other rules by `dhis2gw alert-rules import-original`).
//!
//! A file with any invalid row writes nothing; the report numbers rows as a spreadsheet does
//! (the header is row 1).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::alerts::rules::{self, Change, Counts, RuleInput};
use crate::alerts::{AlertError, RowError};
use crate::db::Pool;
use crate::db::alert_rules::{AlertRuleRow, RuleFields};
use crate::domain::uid::Uid;
use crate::mappings::ImportLimits;
use crate::mappings::csv_file;

/// One column of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    Id,
    Name,
    NmcDiagnosis,
    RuleType,
    Params,
    Level,
    MissingPolicy,
    Severity,
    Enabled,
    Overrides,
}

impl Column {
    /// Every column, in the export's order.
    pub const ALL: [Column; 10] = [
        Column::Id,
        Column::Name,
        Column::NmcDiagnosis,
        Column::RuleType,
        Column::Params,
        Column::Level,
        Column::MissingPolicy,
        Column::Severity,
        Column::Enabled,
        Column::Overrides,
    ];

    /// The header the export writes.
    pub fn header(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Name => "name",
            Column::NmcDiagnosis => "nmc_diagnosis",
            Column::RuleType => "rule_type",
            Column::Params => "params",
            Column::Level => "level",
            Column::MissingPolicy => "missing_policy",
            Column::Severity => "severity",
            Column::Enabled => "enabled",
            Column::Overrides => "overrides",
        }
    }

    fn from_header(text: &str) -> Option<Column> {
        let text = text.trim().to_ascii_lowercase();
        match text.as_str() {
            "data_element" | "dataelement" => return Some(Column::Id),
            "disease_code" => return Some(Column::NmcDiagnosis),
            _ => {}
        }
        Column::ALL.into_iter().find(|c| c.header() == text)
    }
}

/// The CSV column a validation field belongs to (`data_element` is the file's `id`).
fn column_of_field(field: &str) -> String {
    let (head, rest) = match field.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (field, None),
    };
    let head = match head {
        "data_element" => "id",
        "disease_code" => "nmc_diagnosis",
        other => other,
    };
    match rest {
        Some(rest) => format!("{head}.{rest}"),
        None => head.to_owned(),
    }
}

/// What an import did, or would do (`dry_run`, or invalid rows).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// True when the changes were committed.
    pub applied: bool,
    /// Data rows read; blank rows are not counted.
    pub total: usize,
    /// Rules added.
    pub inserted: usize,
    /// Rules changed.
    pub updated: usize,
    /// Rules the file names that already were as it says.
    pub unchanged: usize,
    /// Rows with at least one error.
    pub invalid: usize,
    pub errors: Vec<RowError>,
    /// Columns the importer does not know (ignored).
    pub warnings: Vec<RowError>,
}

/// One data row, read.
#[derive(Debug)]
enum Row {
    /// A row with a `rule_type`: one rule.
    Rule(RuleFields),
    /// A row without: a disease's name and code.
    Catalogue {
        data_element: String,
        name: String,
        disease_code: Option<String>,
    },
}

/// The header understood: the position of each column.
struct Header {
    positions: BTreeMap<Column, usize>,
    unknown: Vec<String>,
}

impl Header {
    fn parse(cells: &[String]) -> Result<Header, AlertError> {
        let mut positions = BTreeMap::new();
        let mut unknown = Vec::new();
        for (index, cell) in cells.iter().enumerate() {
            let text = cell.trim();
            if text.is_empty() {
                continue;
            }
            match Column::from_header(text) {
                Some(column) => {
                    if positions.insert(column, index).is_some() {
                        return Err(AlertError::BadFile(format!(
                            "the header names the column {:?} twice",
                            column.header()
                        )));
                    }
                }
                None => unknown.push(text.to_owned()),
            }
        }
        for needed in [Column::Id, Column::Name] {
            if !positions.contains_key(&needed) {
                return Err(AlertError::BadFile(format!(
                    "the header has no {:?} column (the original's alert_conditions.csv starts \
                     with id,name,nmc_diagnosis)",
                    needed.header()
                )));
            }
        }
        Ok(Header { positions, unknown })
    }

    /// A row's trimmed cell; empty when the column is absent or the row short.
    fn cell<'a>(&self, cells: &'a [String], column: Column) -> &'a str {
        self.positions
            .get(&column)
            .and_then(|&i| cells.get(i))
            .map_or("", |c| c.trim())
    }
}

/// A JSON object from a cell; empty is `{}`.
fn json_object(cell: &str) -> Result<Map<String, Value>, String> {
    if cell.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(cell) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("{other} is not a JSON object")),
        Err(e) => Err(format!("is not JSON ({e}): {cell}")),
    }
}

fn boolean(cell: &str) -> Result<Option<bool>, String> {
    match cell.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "1" => Ok(Some(true)),
        "false" | "no" | "0" => Ok(Some(false)),
        _ => Err(format!("{cell:?} is not true or false")),
    }
}

/// Reads one data row; the problems name its columns.
fn read_row(header: &Header, cells: &[String]) -> Result<Row, Vec<(String, String)>> {
    let cell = |c| header.cell(cells, c);
    let rule_type = cell(Column::RuleType);
    if rule_type.is_empty() {
        let mut problems = Vec::new();
        for column in [
            Column::Params,
            Column::Level,
            Column::MissingPolicy,
            Column::Severity,
            Column::Enabled,
            Column::Overrides,
        ] {
            if !cell(column).is_empty() {
                problems.push((
                    column.header().to_owned(),
                    "needs a rule_type (a row without one only names a disease)".to_owned(),
                ));
            }
        }
        let data_element = match Uid::parse(cell(Column::Id)) {
            Ok(uid) => uid.to_string(),
            Err(_) if cell(Column::Id).is_empty() => {
                problems.push(("id".into(), "is required".into()));
                String::new()
            }
            Err(e) => {
                problems.push(("id".into(), e.to_string()));
                String::new()
            }
        };
        // The name and code pass the same checks as a rule's.
        let probe = RuleInput {
            name: cell(Column::Name).to_owned(),
            data_element: data_element.clone(),
            disease_code: Some(cell(Column::NmcDiagnosis).to_owned()),
            rule_type: "one_case".into(),
            ..RuleInput::default()
        };
        let checked = if problems.is_empty() {
            match rules::check(&probe) {
                Ok(checked) => Some(checked),
                Err(AlertError::Invalid { field, message }) => {
                    problems.push((column_of_field(&field), message));
                    None
                }
                Err(other) => {
                    problems.push(("id".into(), other.to_string()));
                    None
                }
            }
        } else {
            None
        };
        return match checked {
            Some(c) if problems.is_empty() => Ok(Row::Catalogue {
                data_element: c.fields.data_element,
                name: c.fields.name,
                disease_code: c.fields.disease_code,
            }),
            _ => Err(problems),
        };
    }
    let mut problems = Vec::new();
    let params = json_object(cell(Column::Params)).unwrap_or_else(|p| {
        problems.push(("params".to_owned(), p));
        Map::new()
    });
    let overrides = json_object(cell(Column::Overrides)).unwrap_or_else(|p| {
        problems.push(("overrides".to_owned(), p));
        Map::new()
    });
    let level = match cell(Column::Level) {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(l) => Some(l),
            Err(_) => {
                problems.push(("level".into(), format!("{text:?} is not a whole number")));
                None
            }
        },
    };
    let enabled = boolean(cell(Column::Enabled)).unwrap_or_else(|p| {
        problems.push(("enabled".into(), p));
        None
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let text = |c| Some(cell(c).to_owned()).filter(|t: &String| !t.is_empty());
    let input = RuleInput {
        name: cell(Column::Name).to_owned(),
        data_element: cell(Column::Id).to_owned(),
        disease_code: text(Column::NmcDiagnosis),
        rule_type: rule_type.to_owned(),
        params,
        level,
        overrides,
        missing_policy: text(Column::MissingPolicy),
        severity: text(Column::Severity),
        enabled,
    };
    match rules::check(&input) {
        Ok(checked) => Ok(Row::Rule(checked.fields)),
        Err(AlertError::Invalid { field, message }) => {
            Err(vec![(column_of_field(&field), message)])
        }
        Err(other) => Err(vec![("id".into(), other.to_string())]),
    }
}

/// The rows of a file, read and checked against each other; `report` gets the problems.
fn read_file(
    bytes: &[u8],
    limits: &ImportLimits,
    report: &mut ImportReport,
) -> Result<Vec<(u32, Row)>, AlertError> {
    let sheet = csv_file::read(bytes, limits)?;
    let header = Header::parse(&sheet.header)?;
    for unknown in &header.unknown {
        report.warnings.push(RowError {
            row: 1,
            field: unknown.clone(),
            message: "unknown column, ignored".into(),
        });
    }
    report.total = sheet.rows.len();
    let mut rows = Vec::new();
    // Where each key was first seen, to refuse a rule or a disease given twice.
    let mut seen: BTreeMap<(String, Option<String>), u32> = BTreeMap::new();
    for raw in &sheet.rows {
        let row_number = raw.number as usize;
        match read_row(&header, &raw.cells) {
            Ok(row) => {
                let (key, field) = match &row {
                    Row::Rule(f) => (
                        (f.data_element.clone(), Some(f.rule_type.clone())),
                        "rule_type",
                    ),
                    Row::Catalogue { data_element, .. } => ((data_element.clone(), None), "id"),
                };
                if let Some(first) = seen.get(&key) {
                    report.invalid += 1;
                    report.errors.push(RowError {
                        row: row_number,
                        field: field.into(),
                        message: match &key.1 {
                            Some(t) => format!(
                                "row {first} already has the {t} rule of data element {}",
                                key.0
                            ),
                            None => format!("row {first} already names data element {}", key.0),
                        },
                    });
                    continue;
                }
                seen.insert(key, raw.number);
                rows.push((raw.number, row));
            }
            Err(problems) => {
                report.invalid += 1;
                report
                    .errors
                    .extend(problems.into_iter().map(|(field, message)| RowError {
                        row: row_number,
                        field,
                        message,
                    }));
            }
        }
    }
    Ok(rows)
}

/// The changes that make the stored rules what the file says.
fn plan(rows: Vec<(u32, Row)>, stored: &[AlertRuleRow]) -> Vec<Change> {
    let by_key: BTreeMap<(&str, &str), &AlertRuleRow> = stored
        .iter()
        .map(|r| ((r.data_element.as_str(), r.rule_type.as_str()), r))
        .collect();
    let given: BTreeSet<(String, String)> = rows
        .iter()
        .filter_map(|(_, row)| match row {
            Row::Rule(f) => Some((f.data_element.clone(), f.rule_type.clone())),
            Row::Catalogue { .. } => None,
        })
        .collect();
    let mut changes = Vec::new();
    for (_, row) in rows {
        match row {
            Row::Rule(fields) => {
                let existing = by_key
                    .get(&(fields.data_element.as_str(), fields.rule_type.as_str()))
                    .copied();
                changes.push(Change::to(existing, fields));
            }
            Row::Catalogue {
                data_element,
                name,
                disease_code,
            } => {
                let mut any = given.iter().any(|(de, _)| *de == data_element);
                for existing in stored.iter().filter(|r| r.data_element == data_element) {
                    any = true;
                    if given.contains(&(existing.data_element.clone(), existing.rule_type.clone()))
                    {
                        continue;
                    }
                    let mut fields = RuleFields::from(existing);
                    fields.name = name.clone();
                    fields.disease_code = disease_code.clone();
                    changes.push(Change::to(Some(existing), fields));
                }
                if !any {
                    changes.push(Change::Insert(placeholder(
                        data_element,
                        name,
                        disease_code,
                    )));
                }
            }
        }
    }
    changes
}

/// The rule a catalogue row adds for a disease that has none: `one_case`, disabled.
pub fn placeholder(data_element: String, name: String, disease_code: Option<String>) -> RuleFields {
    RuleFields {
        name,
        data_element,
        disease_code,
        rule_type: "one_case".into(),
        params: Value::Object(Map::new()),
        level: i16::from(rules::DEFAULT_LEVEL),
        overrides: Value::Object(Map::new()),
        missing_policy: "skip".into(),
        severity: "alert".into(),
        enabled: false,
    }
}

/// Imports a CSV file of rules: every row valid, or nothing written
/// ([`AlertError::InvalidRows`] with the report). `dry_run` checks and counts only.
pub async fn import(
    pool: &Pool,
    bytes: &[u8],
    dry_run: bool,
    limits: &ImportLimits,
) -> Result<ImportReport, AlertError> {
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    let rows = read_file(bytes, limits, &mut report)?;
    if !report.errors.is_empty() {
        return Err(AlertError::InvalidRows(Box::new(report)));
    }
    let stored = rules::list(pool).await?;
    let changes = plan(rows, &stored);
    let counts = Counts::of(&changes);
    report.inserted = counts.inserted;
    report.updated = counts.updated;
    report.unchanged = counts.unchanged;
    if !dry_run && counts.inserted + counts.updated > 0 {
        rules::apply(pool, &changes).await?;
    }
    report.applied = !dry_run;
    Ok(report)
}

/// The names and codes a CSV file gives its data elements (the original's
/// `alert_conditions.csv`, or an export): data element → (name, disease code). Invalid rows
/// are an error ([`AlertError::InvalidRows`]), as in an import.
pub fn catalogue(
    bytes: &[u8],
    limits: &ImportLimits,
) -> Result<BTreeMap<String, (String, Option<String>)>, AlertError> {
    let mut report = ImportReport::default();
    let rows = read_file(bytes, limits, &mut report)?;
    if !report.errors.is_empty() {
        return Err(AlertError::InvalidRows(Box::new(report)));
    }
    let mut out = BTreeMap::new();
    for (_, row) in rows {
        let (data_element, name, code) = match row {
            Row::Rule(f) => (f.data_element, f.name, f.disease_code),
            Row::Catalogue {
                data_element,
                name,
                disease_code,
            } => (data_element, name, disease_code),
        };
        out.entry(data_element).or_insert((name, code));
    }
    Ok(out)
}

/// Rules as CSV (UTF-8 with a BOM, as the mappings export), every column.
pub fn to_csv(rows: &[AlertRuleRow]) -> Result<Vec<u8>, AlertError> {
    let json = |v: &Value| match v {
        Value::Object(m) if m.is_empty() => None,
        other => Some(other.to_string()),
    };
    let cells: Vec<Vec<Option<String>>> = rows
        .iter()
        .map(|r| {
            vec![
                Some(r.data_element.clone()),
                Some(r.name.clone()),
                r.disease_code.clone(),
                Some(r.rule_type.clone()),
                json(&r.params),
                Some(r.level.to_string()),
                Some(r.missing_policy.clone()),
                Some(r.severity.clone()),
                Some(r.enabled.to_string()),
                json(&r.overrides),
            ]
        })
        .collect();
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.header()).collect();
    csv_file::write(&header, &cells).map_err(|e| AlertError::BadFile(e.to_string()))
}

/// Every stored rule as CSV.
pub async fn export(pool: &Pool) -> Result<Vec<u8>, AlertError> {
    to_csv(&rules::list(pool).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<(u32, Row)>, ImportReport) {
        let mut report = ImportReport::default();
        let rows = read_file(text.as_bytes(), &ImportLimits::default(), &mut report).unwrap();
        (rows, report)
    }

    #[test]
    fn the_originals_file_is_a_catalogue() {
        let (rows, report) = read(
            "id,name,nmc_diagnosis\n\
             zBFmdwpO2LZ,Anthrax suspected,DA034_ANTHRAX\n\
             mH1mYNOZGtT,COVID-19 suspected ,DU071_COVID19\n\
             lI3EMAbSqPD,\"VHF (Ebola, Marburg, Lassa Fever, RVF, Crimean-Congo) suspected\",DA985_VHF\n",
        );
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(rows.len(), 3);
        let Row::Catalogue { name, .. } = &rows[1].1 else {
            panic!("{:?}", rows[1])
        };
        assert_eq!(name, "COVID-19 suspected");
        let changes = plan(rows, &[]);
        assert!(
            matches!(&changes[0], Change::Insert(f) if f.rule_type == "one_case" && !f.enabled)
        );
    }

    #[test]
    fn problems_name_row_and_column() {
        let (_, report) = read(
            "id,name,rule_type,params,level\n\
             zBFmdwpO2LZ,Anthrax,c2,\"{\"\"alpha\"\": 2}\",3\n\
             \n\
             9BFmdwpO2LZ,Anthrax,one_case,,3\n\
             zBFmdwpO2LZ,Anthrax,one_case,,11\n\
             zBFmdwpO2LZ,Anthrax,bogus,,\n\
             zBFmdwpO2LZ,Anthrax,,{},\n",
        );
        let got: Vec<(usize, &str)> = report
            .errors
            .iter()
            .map(|e| (e.row, e.field.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "params.alpha"),
                (4, "id"),
                (5, "level"),
                (6, "rule_type"),
                (7, "params")
            ]
        );
        assert_eq!(report.invalid, 5);
        assert_eq!(report.total, 5);
    }

    #[test]
    fn a_rule_given_twice_is_refused_on_its_second_row() {
        let (_, report) =
            read("id,name,rule_type\nzBFmdwpO2LZ,A,one_case\nzBFmdwpO2LZ,A,one_case\n");
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].row, 3);
        assert!(
            report.errors[0].message.contains("row 2"),
            "{:?}",
            report.errors
        );
    }
}
