//! Looks up a submission's keys in the mappings of its namespace (`api.mapping_scheme`) and its
//! org unit in the org-unit mappings.
//!
//! - `CODE` (default): the key is the mapping's `code`. Several keys may map to one data element
//!   with different category option combos.
//! - `UID`: the key is the data element UID, or `<dataElement>.<categoryOptionCombo>` (DHIS2's
//!   own spelling of an operand) to pick one combo. A bare UID shared by several mappings takes
//!   the one without a combo, else the first.
//! - `NAME`: the key is the mapping's `name`, exactly, else ignoring case and outer spaces.
//!
//! A mapping whose `dataset` names the submission's data set wins over one without a data set,
//! which wins over one made for another data set; ties go to the oldest mapping.

use std::collections::HashMap;

use crate::config::MappingScheme;
use crate::db::mappings::MappingRow;

/// Where one key's value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueTarget {
    pub data_element: String,
    pub category_option_combo: Option<String>,
    pub attribute_option_combo: Option<String>,
}

/// The mappings of one namespace, indexed for one submission.
#[derive(Debug, Default)]
pub struct MappingIndex {
    scheme: Option<MappingScheme>,
    /// key → (rank, has no combo → preferred for a bare UID, target); the best kept.
    values: HashMap<String, (u8, ValueTarget)>,
    /// NAME scheme fallback: lowercased trimmed name → target.
    loose_names: HashMap<String, (u8, ValueTarget)>,
    org_units: HashMap<String, String>,
}

impl MappingIndex {
    pub fn new(rows: &[MappingRow], scheme: MappingScheme, data_set: &str) -> MappingIndex {
        let mut index = MappingIndex {
            scheme: Some(scheme),
            ..MappingIndex::default()
        };
        for row in rows {
            match row.what.as_str() {
                "ou" => {
                    if let (Some(source), Some(dest)) = (&row.source_orgunit, &row.dest_orgunit) {
                        index
                            .org_units
                            .entry(source.clone())
                            .or_insert_with(|| dest.clone());
                    }
                }
                "de" => index.add_value(row, scheme, data_set),
                _ => {}
            }
        }
        index
    }

    fn add_value(&mut self, row: &MappingRow, scheme: MappingScheme, data_set: &str) {
        let Some(data_element) = row.dataelement.clone() else {
            return;
        };
        let dataset_rank = match row.dataset.as_deref() {
            Some(ds) if ds == data_set => 0,
            None => 2,
            Some(_) => 4,
        };
        let target = ValueTarget {
            data_element: data_element.clone(),
            category_option_combo: row.category_option_combo.clone(),
            attribute_option_combo: row.attribute_option_combo.clone(),
        };
        match scheme {
            MappingScheme::Code => {
                keep_best(&mut self.values, row.code.clone(), dataset_rank, &target)
            }
            MappingScheme::Name => {
                keep_best(&mut self.values, row.name.clone(), dataset_rank, &target);
                let loose = row.name.trim().to_lowercase();
                keep_best(&mut self.loose_names, loose, dataset_rank, &target);
            }
            MappingScheme::Uid => {
                // A bare UID prefers the mapping without a combo (one rank step).
                let combo_rank = u8::from(row.category_option_combo.is_some());
                keep_best(
                    &mut self.values,
                    data_element.clone(),
                    dataset_rank + combo_rank,
                    &target,
                );
                if let Some(coc) = &row.category_option_combo {
                    let operand = format!("{data_element}.{coc}");
                    keep_best(&mut self.values, operand, dataset_rank, &target);
                }
            }
        }
    }

    /// Where the value of `key` goes, if any mapping knows the key.
    pub fn data_value(&self, key: &str) -> Option<&ValueTarget> {
        self.values.get(key).map(|(_, t)| t).or_else(|| {
            if self.scheme == Some(MappingScheme::Name) {
                self.loose_names
                    .get(&key.trim().to_lowercase())
                    .map(|(_, t)| t)
            } else {
                None
            }
        })
    }

    /// The DHIS2 org unit an org-unit mapping gives for `source`.
    pub fn org_unit(&self, source: &str) -> Option<&str> {
        self.org_units.get(source).map(String::as_str)
    }

    pub fn scheme_name(&self) -> &'static str {
        match self.scheme {
            Some(MappingScheme::Uid) => "UID",
            Some(MappingScheme::Name) => "NAME",
            _ => "CODE",
        }
    }
}

/// Keeps the lowest rank per key; the first row wins a tie (rows come ordered by id).
fn keep_best(
    map: &mut HashMap<String, (u8, ValueTarget)>,
    key: String,
    rank: u8,
    target: &ValueTarget,
) {
    match map.get(&key) {
        Some((best, _)) if *best <= rank => {}
        _ => {
            map.insert(key, (rank, target.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::mappings::MappingFields;

    fn row(id: i64, fields: MappingFields) -> MappingRow {
        let now = chrono::Utc::now();
        MappingRow {
            id,
            uid: format!("m{id:010}"),
            code: fields.code,
            what: fields.what,
            name: fields.name,
            description: None,
            dataset: fields.dataset,
            dataelement: fields.dataelement,
            category_option_combo: fields.category_option_combo,
            category_option: None,
            category_combo: None,
            attribute_option_combo: fields.attribute_option_combo,
            instance_name: fields.instance_name,
            source_name: fields.source_name,
            source_orgunit: fields.source_orgunit,
            dest_orgunit: fields.dest_orgunit,
            dimension_type: None,
            created: now,
            updated: now,
        }
    }

    fn rows() -> Vec<MappingRow> {
        let mut named = MappingFields::data_element("ANC1", "deAAAAAAAA1", Some("cocAAAAAAA1"));
        named.name = "ANC 1st visit".into();
        let mut other_ds = MappingFields::data_element("MAL", "deOTHERDS01", None);
        other_ds.dataset = Some("dsOTHER0001".into());
        let mut this_ds = MappingFields::data_element("MAL2", "deTHISDS001", None);
        this_ds.dataset = Some("dsTHIS00001".into());
        this_ds.name = "MAL".into();
        vec![
            row(1, named),
            row(
                2,
                MappingFields::data_element("ANC1_F", "deAAAAAAAA1", Some("cocFFFFFFF1")),
            ),
            row(
                3,
                MappingFields::data_element("ANC1_T", "deAAAAAAAA1", None),
            ),
            row(4, other_ds),
            row(5, MappingFields::data_element("MAL", "deNODATASET", None)),
            row(6, this_ds),
            row(7, MappingFields::org_unit("FAC-001", "ouDHIS2UID1")),
        ]
    }

    #[test]
    fn code_scheme_maps_codes_and_one_element_to_several_combos() {
        let index = MappingIndex::new(&rows(), MappingScheme::Code, "dsTHIS00001");
        let anc = index.data_value("ANC1").unwrap();
        assert_eq!(anc.data_element, "deAAAAAAAA1");
        assert_eq!(anc.category_option_combo.as_deref(), Some("cocAAAAAAA1"));
        let anc_f = index.data_value("ANC1_F").unwrap();
        assert_eq!(anc_f.category_option_combo.as_deref(), Some("cocFFFFFFF1"));
        assert!(index.data_value("anc1").is_none());
        assert!(index.data_value("NOPE").is_none());
    }

    #[test]
    fn uid_scheme_takes_bare_uids_and_operands() {
        let index = MappingIndex::new(&rows(), MappingScheme::Uid, "dsTHIS00001");
        let bare = index.data_value("deAAAAAAAA1").unwrap();
        assert_eq!(
            bare.category_option_combo, None,
            "bare UID prefers no combo"
        );
        let operand = index.data_value("deAAAAAAAA1.cocFFFFFFF1").unwrap();
        assert_eq!(
            operand.category_option_combo.as_deref(),
            Some("cocFFFFFFF1")
        );
        assert!(index.data_value("ANC1").is_none());
    }

    #[test]
    fn name_scheme_matches_exactly_then_loosely() {
        let index = MappingIndex::new(&rows(), MappingScheme::Name, "dsTHIS00001");
        assert_eq!(
            index.data_value("ANC 1st visit").unwrap().data_element,
            "deAAAAAAAA1"
        );
        assert_eq!(
            index.data_value("  anc 1ST visit ").unwrap().data_element,
            "deAAAAAAAA1"
        );
        // Two mappings named MAL: the one for this data set wins.
        assert_eq!(index.data_value("MAL").unwrap().data_element, "deTHISDS001");
    }

    #[test]
    fn data_set_of_the_mapping_decides_between_equal_keys() {
        let for_other = MappingIndex::new(&rows(), MappingScheme::Code, "dsOTHER0001");
        assert_eq!(
            for_other.data_value("MAL").unwrap().data_element,
            "deOTHERDS01"
        );
        let for_none = MappingIndex::new(&rows(), MappingScheme::Code, "dsNONE00001");
        assert_eq!(
            for_none.data_value("MAL").unwrap().data_element,
            "deNODATASET"
        );
    }

    #[test]
    fn org_units_map_from_source_codes() {
        let index = MappingIndex::new(&rows(), MappingScheme::Code, "x");
        assert_eq!(index.org_unit("FAC-001"), Some("ouDHIS2UID1"));
        assert_eq!(index.org_unit("FAC-002"), None);
    }
}
