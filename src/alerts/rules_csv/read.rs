//! Reading an alert-rules CSV: its columns, the header, each row into a rule or a catalogue
//! entry, and the whole file with its problems by row.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::alerts::rules::{self, RuleInput};
use crate::alerts::{AlertError, RowError};
use crate::db::alert_rules::RuleFields;
use crate::domain::uid::Uid;
use crate::mappings::ImportLimits;
use crate::mappings::csv_file;

use super::ImportReport;

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
#[derive(Debug)]
pub(super) enum Row {
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
pub(super) fn read_file(
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
