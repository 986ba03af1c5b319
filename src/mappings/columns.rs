//! The columns of a mappings sheet (CSV or Excel), in export order, and how a header cell is
//! recognised: case-insensitive, BOM, spaces, `_`, `-` and camelCase ignored, so `dataElement`,
//! `Data Element` and `data_element` all name the `dataelement` column.

/// One column of the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Code,
    What,
    Name,
    Description,
    Dataset,
    Dataelement,
    CategoryOptionCombo,
    CategoryOption,
    CategoryCombo,
    InstanceName,
    SourceName,
    SourceOrgunit,
    DestinationOrgunit,
    AttributeOptionCombo,
    DimensionType,
    Uid,
}

impl Column {
    /// Every column in export order: the original's 13, then the three it could not round-trip.
    pub const ALL: [Column; 16] = [
        Column::Code,
        Column::What,
        Column::Name,
        Column::Description,
        Column::Dataset,
        Column::Dataelement,
        Column::CategoryOptionCombo,
        Column::CategoryOption,
        Column::CategoryCombo,
        Column::InstanceName,
        Column::SourceName,
        Column::SourceOrgunit,
        Column::DestinationOrgunit,
        Column::AttributeOptionCombo,
        Column::DimensionType,
        Column::Uid,
    ];

    /// The header written on export (the original's spelling).
    pub fn header(self) -> &'static str {
        match self {
            Column::Code => "code",
            Column::What => "what",
            Column::Name => "name",
            Column::Description => "description",
            Column::Dataset => "dataset",
            Column::Dataelement => "dataelement",
            Column::CategoryOptionCombo => "category_option_combo",
            Column::CategoryOption => "category_option",
            Column::CategoryCombo => "category_combo",
            Column::InstanceName => "instance_name",
            Column::SourceName => "source_name",
            Column::SourceOrgunit => "source_orgunit",
            Column::DestinationOrgunit => "destination_orgunit",
            Column::AttributeOptionCombo => "attribute_option_combo",
            Column::DimensionType => "dimension_type",
            Column::Uid => "uid",
        }
    }

    /// What the column holds, for the template's help sheet and docs/mappings.md.
    pub fn help(self) -> &'static str {
        match self {
            Column::Code => {
                "The key the submitter sends (de), or a label (ou; defaults to source_orgunit)."
            }
            Column::What => "de (data element, the default when empty) or ou (org unit).",
            Column::Name => {
                "Display name; also the key when api.mapping_scheme is NAME. Defaults to code."
            }
            Column::Description => "Free text.",
            Column::Dataset => "DHIS2 data set UID (optional).",
            Column::Dataelement => "DHIS2 data element UID (required for de).",
            Column::CategoryOptionCombo => {
                "DHIS2 category option combo UID (empty: DHIS2's default)."
            }
            Column::CategoryOption => "DHIS2 category option UID (informative).",
            Column::CategoryCombo => "DHIS2 category combo UID (informative).",
            Column::InstanceName => "Namespace: which DHIS2 instance (default: default).",
            Column::SourceName => "Namespace: which submitting system (default: default).",
            Column::SourceOrgunit => "The submitter's org unit key (required for ou).",
            Column::DestinationOrgunit => "DHIS2 org unit UID it maps to (required for ou).",
            Column::AttributeOptionCombo => "DHIS2 attribute option combo UID (optional).",
            Column::DimensionType => "Free text kept for the original's dimension_type.",
            Column::Uid => {
                "This mapping's own UID; empty for new rows. Keep it to update a row in place."
            }
        }
    }

    /// The column a header cell names, if any.
    pub fn from_header(cell: &str) -> Option<Column> {
        let key: String = cell
            .trim_start_matches('\u{feff}')
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let column = match key.as_str() {
            "code" => Column::Code,
            "what" | "kind" | "type" => Column::What,
            "name" => Column::Name,
            "description" => Column::Description,
            "dataset" => Column::Dataset,
            "dataelement" => Column::Dataelement,
            "categoryoptioncombo" | "coc" => Column::CategoryOptionCombo,
            "categoryoption" => Column::CategoryOption,
            "categorycombo" => Column::CategoryCombo,
            "instancename" | "instance" => Column::InstanceName,
            "sourcename" | "source" => Column::SourceName,
            "sourceorgunit" => Column::SourceOrgunit,
            "destinationorgunit" | "destorgunit" => Column::DestinationOrgunit,
            "attributeoptioncombo" | "aoc" => Column::AttributeOptionCombo,
            "dimensiontype" => Column::DimensionType,
            "uid" | "id" => Column::Uid,
            _ => return None,
        };
        Some(column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exported_header_reads_back_as_its_column() {
        for column in Column::ALL {
            assert_eq!(Column::from_header(column.header()), Some(column));
        }
    }

    #[test]
    fn the_operator_doc_describes_every_column() {
        let doc = include_str!("../../docs/mappings.md");
        for column in Column::ALL {
            let row = format!("| `{}` |", column.header());
            assert!(doc.contains(&row), "docs/mappings.md has no row {row}");
        }
    }

    #[test]
    fn headers_are_matched_loosely() {
        for (cell, column) in [
            ("\u{feff}code", Column::Code),
            ("  CODE ", Column::Code),
            ("dataElement", Column::Dataelement),
            ("Data Element", Column::Dataelement),
            ("categoryOptionCombo", Column::CategoryOptionCombo),
            ("Destination-OrgUnit", Column::DestinationOrgunit),
            ("dest_orgunit", Column::DestinationOrgunit),
        ] {
            assert_eq!(Column::from_header(cell), Some(column), "{cell}");
        }
        assert_eq!(Column::from_header("dataelemnt"), None);
        assert_eq!(Column::from_header(""), None);
    }
}
