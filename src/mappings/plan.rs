//! What an import would do, decided before anything is written: each valid row matched to the
//! stored mapping it is about (by its uid if it has one, else by its key), then inserted,
//! updated, left unchanged or skipped by the mode; `replace` also deletes the stored mappings of
//! the file's namespaces that no row matched. Duplicates within the file are row errors.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::db::mappings::{MappingFields, MappingRow};

use super::import_mode::ImportMode;
use super::row_problem::RowProblem;
use super::validate::{Candidate, NaturalKey};

/// The writes of an import and what it counted.
#[derive(Debug, Default)]
pub struct Plan {
    /// New mappings: the row's uid (if it gave one) and the fields.
    pub inserts: Vec<(Option<String>, MappingFields)>,
    /// Changed mappings by uid, with their fields after the row is applied.
    pub updates: Vec<(String, MappingFields)>,
    /// Ids of stored mappings `replace` removes.
    pub deletes: Vec<i64>,
    pub unchanged: usize,
    pub skipped: usize,
    pub errors: Vec<RowProblem>,
    pub warnings: Vec<RowProblem>,
}

/// The (source, instance) namespaces the rows are in: what `replace` replaces.
pub fn namespaces(rows: &[(u32, Candidate)]) -> BTreeSet<(String, String)> {
    rows.iter()
        .map(|(_, c)| (c.fields.source_name.clone(), c.fields.instance_name.clone()))
        .collect()
}

/// Decides every row. `existing` must hold every stored mapping of the rows' namespaces and
/// every stored mapping whose uid a row names.
pub fn plan(rows: Vec<(u32, Candidate)>, existing: &[MappingRow], mode: ImportMode) -> Plan {
    let replaced = namespaces(&rows);
    let by_uid: HashMap<&str, &MappingRow> = existing.iter().map(|m| (m.uid.as_str(), m)).collect();
    let by_key: HashMap<NaturalKey, &MappingRow> = existing
        .iter()
        .map(|m| (NaturalKey::of(&m.fields()), m))
        .collect();
    let mut plan = Plan {
        inserts: Vec::with_capacity(rows.len().saturating_sub(existing.len())),
        ..Plan::default()
    };
    let mut first_row_of_key: HashMap<NaturalKey, u32> = HashMap::new();
    let mut first_row_of_uid: HashMap<String, u32> = HashMap::new();
    let mut matched: HashSet<i64> = HashSet::new();

    for (number, candidate) in rows {
        let number = &number;
        let key = candidate.key();
        let key_column = if key.what == "ou" {
            "source_orgunit"
        } else {
            "code"
        };
        let problem = |column: &str, reason: String| RowProblem {
            row: *number,
            column: column.to_owned(),
            reason,
        };
        if let Some(first) = first_row_of_key.insert(key.clone(), *number) {
            first_row_of_key.insert(key.clone(), first);
            plan.errors.push(problem(
                key_column,
                format!(
                    "duplicate of row {first}: the file maps {} twice",
                    key.describe()
                ),
            ));
            continue;
        }
        let row_uid = candidate.uid.as_ref().map(|u| u.to_string());
        if let Some(uid) = &row_uid
            && let Some(first) = first_row_of_uid.get(uid)
        {
            plan.errors.push(problem(
                "uid",
                format!("duplicate of row {first}: uid {uid} appears twice"),
            ));
            continue;
        }
        if let Some(uid) = &row_uid {
            first_row_of_uid.insert(uid.clone(), *number);
        }
        let stored_by_uid = row_uid.as_deref().and_then(|u| by_uid.get(u)).copied();
        let stored_by_key = by_key.get(&key).copied();
        let target = match (stored_by_uid, stored_by_key) {
            (Some(a), Some(b)) if a.id != b.id => {
                plan.errors.push(problem(
                    key_column,
                    format!(
                        "{} is already mapping {}; uid {} is another mapping",
                        key.describe(),
                        b.uid,
                        a.uid
                    ),
                ));
                continue;
            }
            (Some(a), _) => Some(a),
            (None, Some(b)) => {
                if let Some(uid) = &row_uid {
                    plan.warnings.push(problem(
                        "uid",
                        format!(
                            "uid {uid} not used: {} is mapping {}, which this row updates",
                            key.describe(),
                            b.uid
                        ),
                    ));
                }
                Some(b)
            }
            (None, None) => None,
        };
        match target {
            None => plan.inserts.push((row_uid, candidate.fields)),
            Some(stored) => {
                matched.insert(stored.id);
                let current = stored.fields();
                let merged = candidate.merged_onto(&current);
                if merged == current {
                    plan.unchanged += 1;
                } else if mode == ImportMode::Skip {
                    plan.skipped += 1;
                } else {
                    plan.updates.push((stored.uid.clone(), merged));
                }
            }
        }
    }
    if mode == ImportMode::Replace && plan.errors.is_empty() {
        plan.deletes = existing
            .iter()
            .filter(|m| !matched.contains(&m.id))
            .filter(|m| replaced.contains(&(m.source_name.clone(), m.instance_name.clone())))
            .map(|m| m.id)
            .collect();
    }
    plan
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::uid::Uid;
    use crate::mappings::columns::Column;

    fn stored(id: i64, uid: &str, fields: MappingFields) -> MappingRow {
        MappingRow {
            id,
            uid: uid.into(),
            code: fields.code,
            what: fields.what,
            name: fields.name,
            description: fields.description,
            dataset: fields.dataset,
            dataelement: fields.dataelement,
            category_option_combo: fields.category_option_combo,
            category_option: fields.category_option,
            category_combo: fields.category_combo,
            attribute_option_combo: fields.attribute_option_combo,
            instance_name: fields.instance_name,
            source_name: fields.source_name,
            source_orgunit: fields.source_orgunit,
            dest_orgunit: fields.dest_orgunit,
            dimension_type: fields.dimension_type,
            created: Utc::now(),
            updated: Utc::now(),
        }
    }

    fn candidate(fields: MappingFields, uid: Option<&str>) -> Candidate {
        Candidate {
            uid: uid.map(|u| Uid::parse(u).unwrap()),
            fields,
            present: Column::ALL.to_vec(),
        }
    }

    fn de(code: &str, element: &str) -> MappingFields {
        MappingFields::data_element(code, element, None)
    }

    #[test]
    fn each_mode_treats_existing_rows_as_documented() {
        let existing = vec![
            stored(1, "Aaaaaaaaaa1", de("A", "rPRf4cXHEIx")),
            stored(2, "Aaaaaaaaaa2", de("B", "rPRf4cXHEIx")),
            stored(3, "Aaaaaaaaaa3", de("C", "rPRf4cXHEIx")),
        ];
        let rows = vec![
            (2, candidate(de("A", "rPRf4cXHEIx"), None)),
            (3, candidate(de("B", "gLEO1XbX0ii"), None)),
            (4, candidate(de("D", "gLEO1XbX0ii"), None)),
        ];
        let upsert = plan(rows.clone(), &existing, ImportMode::Upsert);
        assert_eq!(
            (
                upsert.inserts.len(),
                upsert.updates.len(),
                upsert.unchanged,
                upsert.skipped
            ),
            (1, 1, 1, 0)
        );
        assert!(upsert.deletes.is_empty());
        let skip = plan(rows.clone(), &existing, ImportMode::Skip);
        assert_eq!(
            (skip.updates.len(), skip.skipped, skip.inserts.len()),
            (0, 1, 1)
        );
        let replace = plan(rows, &existing, ImportMode::Replace);
        assert_eq!(replace.deletes, [3]);
        assert_eq!(replace.updates[0].0, "Aaaaaaaaaa2");
    }

    #[test]
    fn duplicates_in_the_file_are_errors_naming_the_first_row() {
        let rows = vec![
            (2, candidate(de("A", "rPRf4cXHEIx"), None)),
            (5, candidate(de("A", "gLEO1XbX0ii"), None)),
            (6, candidate(de("X", "gLEO1XbX0ii"), Some("Bbbbbbbbbb1"))),
            (7, candidate(de("Y", "gLEO1XbX0ii"), Some("Bbbbbbbbbb1"))),
        ];
        let p = plan(rows, &[], ImportMode::Upsert);
        let got: Vec<_> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(got, [(5, "code"), (7, "uid")]);
        assert!(p.errors[0].reason.contains("duplicate of row 2"));
    }

    #[test]
    fn a_uid_renames_its_mapping_unless_the_new_key_is_taken() {
        let existing = vec![
            stored(1, "Aaaaaaaaaa1", de("A", "rPRf4cXHEIx")),
            stored(2, "Aaaaaaaaaa2", de("B", "rPRf4cXHEIx")),
        ];
        let renamed = plan(
            vec![(2, candidate(de("A2", "rPRf4cXHEIx"), Some("Aaaaaaaaaa1")))],
            &existing,
            ImportMode::Upsert,
        );
        assert_eq!(renamed.updates[0].0, "Aaaaaaaaaa1");
        assert_eq!(renamed.updates[0].1.code, "A2");
        let taken = plan(
            vec![(2, candidate(de("B", "rPRf4cXHEIx"), Some("Aaaaaaaaaa1")))],
            &existing,
            ImportMode::Upsert,
        );
        assert_eq!(taken.errors.len(), 1);
    }
}
