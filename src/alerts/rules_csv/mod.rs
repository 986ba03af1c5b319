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

use crate::alerts::rules::{self, Change, Counts};
use crate::alerts::{AlertError, RowError};
use crate::db::Pool;
use crate::db::alert_rules::{AlertRuleRow, RuleFields};
use crate::mappings::ImportLimits;
use crate::mappings::csv_file;

mod read;

pub use read::Column;
use read::{Row, read_file};

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
