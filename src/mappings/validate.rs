//! One mapping's values (a sheet row or an API body) checked and turned into the fields the
//! table stores: defaults applied, DHIS2 references parsed as UIDs, each problem named by column.

use std::collections::BTreeMap;

use crate::db::mappings::MappingFields;
use crate::domain::uid::Uid;

use super::columns::Column;

/// The namespace used when a row does not name one (the original's trap: it stored `''`).
pub const DEFAULT_NAMESPACE: &str = "default";

/// Longest accepted text in any cell, so one pasted blob cannot bloat the table.
const MAX_TEXT_CHARS: usize = 1000;

/// The cells of one row (or the fields of one API body) by column, trimmed. A column that is
/// absent (not in the sheet's header) is not in the map; an empty cell is `""`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowValues(pub BTreeMap<Column, String>);

impl RowValues {
    pub fn set(&mut self, column: Column, value: &str) {
        self.0.insert(column, value.trim().to_owned());
    }

    fn text(&self, column: Column) -> &str {
        self.0.get(&column).map(String::as_str).unwrap_or("")
    }

    fn optional(&self, column: Column) -> Option<String> {
        Some(self.text(column))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    pub fn is_blank(&self) -> bool {
        self.0.values().all(String::is_empty)
    }

    pub fn has(&self, column: Column) -> bool {
        self.0.contains_key(&column)
    }
}

/// What is wrong with one value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The column's header, or `""` when the problem is the row as a whole.
    pub column: &'static str,
    pub reason: String,
}

impl Problem {
    pub fn new(column: Column, reason: impl Into<String>) -> Problem {
        Problem {
            column: column.header(),
            reason: reason.into(),
        }
    }
}

/// Which mapping a row is about: its kind, namespace and key, as the unique indexes see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NaturalKey {
    pub source_name: String,
    pub instance_name: String,
    pub what: String,
    /// `code` for a `de` mapping, `source_orgunit` for an `ou` one.
    pub key: String,
}

impl NaturalKey {
    pub fn of(fields: &MappingFields) -> NaturalKey {
        let key = match fields.what.as_str() {
            "ou" => fields.source_orgunit.clone().unwrap_or_default(),
            _ => fields.code.clone(),
        };
        NaturalKey {
            source_name: fields.source_name.clone(),
            instance_name: fields.instance_name.clone(),
            what: fields.what.clone(),
            key,
        }
    }

    /// `de MAL_CASES in default/default`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {:?} in {}/{}",
            self.what, self.key, self.source_name, self.instance_name
        )
    }
}

/// A valid mapping: the fields to store, its own UID if the row gave one, and which columns
/// the row had (an absent column keeps the stored value when an existing mapping is updated).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub uid: Option<Uid>,
    pub fields: MappingFields,
    pub present: Vec<Column>,
}

impl Candidate {
    pub fn key(&self) -> NaturalKey {
        NaturalKey::of(&self.fields)
    }

    /// The stored fields after this row is applied to `existing`: columns the row did not have
    /// keep their stored values.
    pub fn merged_onto(&self, existing: &MappingFields) -> MappingFields {
        let mut merged = self.fields.clone();
        let keep = |column| !self.present.contains(&column);
        if keep(Column::Name) {
            merged.name = existing.name.clone();
        }
        macro_rules! keep_optional {
            ($($column:expr => $field:ident),*) => {$(
                if keep($column) {
                    merged.$field = existing.$field.clone();
                }
            )*};
        }
        keep_optional!(
            Column::Description => description,
            Column::Dataset => dataset,
            Column::CategoryOptionCombo => category_option_combo,
            Column::CategoryOption => category_option,
            Column::CategoryCombo => category_combo,
            Column::AttributeOptionCombo => attribute_option_combo,
            Column::DimensionType => dimension_type
        );
        // The key columns of the other kind are data, not key: keep them too when absent.
        if merged.what == "de" {
            keep_optional!(
                Column::SourceOrgunit => source_orgunit,
                Column::DestinationOrgunit => dest_orgunit
            );
        } else {
            keep_optional!(Column::Dataelement => dataelement);
        }
        merged
    }
}

/// Checks one row and builds its mapping, or says everything that is wrong with it.
pub fn validate(values: &RowValues) -> Result<Candidate, Vec<Problem>> {
    let mut problems = Vec::new();
    for (column, value) in &values.0 {
        if value.chars().count() > MAX_TEXT_CHARS {
            problems.push(Problem::new(
                *column,
                format!("longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
    }
    let what = match values.text(Column::What).to_ascii_lowercase().as_str() {
        "" | "de" => "de",
        "ou" => "ou",
        other => {
            problems.push(Problem::new(
                Column::What,
                format!("unknown what {other:?}: use de (data element) or ou (org unit)"),
            ));
            "de"
        }
    };
    let mut uid_of = |column: Column| -> Option<String> {
        let text = values.optional(column)?;
        match Uid::parse(&text) {
            Ok(uid) => Some(uid.to_string()),
            Err(err) => {
                problems.push(Problem::new(column, format!("bad UID: {err}")));
                None
            }
        }
    };
    let uid = uid_of(Column::Uid);
    let dataset = uid_of(Column::Dataset);
    let dataelement = uid_of(Column::Dataelement);
    let category_option_combo = uid_of(Column::CategoryOptionCombo);
    let category_option = uid_of(Column::CategoryOption);
    let category_combo = uid_of(Column::CategoryCombo);
    let attribute_option_combo = uid_of(Column::AttributeOptionCombo);
    let dest_orgunit = uid_of(Column::DestinationOrgunit);
    let source_orgunit = values.optional(Column::SourceOrgunit);

    let mut code = values.text(Column::Code).to_owned();
    if what == "de" {
        if code.is_empty() {
            problems.push(Problem::new(Column::Code, "missing code"));
        }
        if dataelement.is_none() && values.text(Column::Dataelement).is_empty() {
            problems.push(Problem::new(Column::Dataelement, "missing data element"));
        }
    } else {
        if source_orgunit.is_none() {
            problems.push(Problem::new(
                Column::SourceOrgunit,
                "missing source org unit",
            ));
        }
        if dest_orgunit.is_none() && values.text(Column::DestinationOrgunit).is_empty() {
            problems.push(Problem::new(
                Column::DestinationOrgunit,
                "missing destination org unit",
            ));
        }
        if code.is_empty() {
            code = source_orgunit.clone().unwrap_or_default();
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let name = values
        .optional(Column::Name)
        .unwrap_or_else(|| code.clone());
    let namespace = |column| {
        values
            .optional(column)
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
    };
    let fields = MappingFields {
        code,
        what: what.to_owned(),
        name,
        description: values.optional(Column::Description),
        dataset,
        dataelement,
        category_option_combo,
        category_option,
        category_combo,
        attribute_option_combo,
        instance_name: namespace(Column::InstanceName),
        source_name: namespace(Column::SourceName),
        source_orgunit,
        dest_orgunit,
        dimension_type: values.optional(Column::DimensionType),
    };
    Ok(Candidate {
        uid: uid.map(|u| Uid::parse(&u).expect("parsed above")),
        fields,
        present: values.0.keys().copied().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[(Column, &str)]) -> RowValues {
        let mut values = RowValues::default();
        for (column, value) in cells {
            values.set(*column, value);
        }
        values
    }

    #[test]
    fn a_data_element_row_gets_defaults() {
        let c = validate(&row(&[
            (Column::Code, " MAL_CONF "),
            (Column::Dataelement, "rPRf4cXHEIx"),
            (Column::CategoryOptionCombo, ""),
        ]))
        .unwrap();
        assert_eq!(c.fields.what, "de");
        assert_eq!(c.fields.code, "MAL_CONF");
        assert_eq!(c.fields.name, "MAL_CONF");
        assert_eq!(c.fields.category_option_combo, None);
        assert_eq!(c.fields.source_name, "default");
        assert_eq!(c.fields.instance_name, "default");
        assert_eq!(c.key().key, "MAL_CONF");
    }

    #[test]
    fn an_org_unit_row_is_keyed_by_its_source_org_unit() {
        let c = validate(&row(&[
            (Column::What, "OU"),
            (Column::SourceOrgunit, "KLA-01"),
            (Column::DestinationOrgunit, "KFZHpp8BEUA"),
        ]))
        .unwrap();
        assert_eq!(c.fields.what, "ou");
        assert_eq!(c.fields.code, "KLA-01");
        assert_eq!(c.key().key, "KLA-01");
    }

    #[test]
    fn every_problem_of_a_row_is_named_by_column() {
        let problems = validate(&row(&[
            (Column::What, "dx"),
            (Column::Dataset, "not-a-uid"),
        ]))
        .unwrap_err();
        let columns: Vec<_> = problems.iter().map(|p| p.column).collect();
        assert_eq!(columns, ["what", "dataset", "code", "dataelement"]);
        assert!(problems[0].reason.contains("unknown what"));
        assert!(problems[1].reason.starts_with("bad UID"));
        assert_eq!(problems[3].reason, "missing data element");
    }

    #[test]
    fn a_bad_data_element_uid_is_not_also_reported_missing() {
        let problems =
            validate(&row(&[(Column::Code, "A"), (Column::Dataelement, "1abc")])).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].column, "dataelement");
    }

    #[test]
    fn absent_columns_keep_stored_values_on_update() {
        let stored = MappingFields {
            description: Some("kept".into()),
            category_option_combo: Some("HllvX50cXC0".into()),
            ..MappingFields::data_element("A", "rPRf4cXHEIx", None)
        };
        let c = validate(&row(&[
            (Column::Code, "A"),
            (Column::Dataelement, "gLEO1XbX0ii"),
            (Column::CategoryOptionCombo, ""),
        ]))
        .unwrap();
        let merged = c.merged_onto(&stored);
        assert_eq!(merged.description.as_deref(), Some("kept"));
        assert_eq!(merged.category_option_combo, None);
        assert_eq!(merged.dataelement.as_deref(), Some("gLEO1XbX0ii"));
    }
}
