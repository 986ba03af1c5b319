//! A sheet as any reader produces it (header row plus numbered data rows), the limits every
//! reader enforces while reading, and the header row turned into columns.

use std::collections::HashMap;

use super::MappingError;
use super::columns::Column;
use super::validate::{Problem, RowValues};

/// Refuses files that would cost too much to read. Checked while reading, so nothing is held in
/// memory past the limit.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// Data rows (the header not counted).
    pub max_rows: usize,
    /// Bytes of an Excel/ODS file once unzipped (a zip bomb stops here).
    pub max_unpacked_bytes: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_rows: 100_000,
            max_unpacked_bytes: 128 << 20,
        }
    }
}

impl ImportLimits {
    /// The limits configured in `api.mapping_import_*`.
    pub fn from_settings(settings: &crate::config::Settings) -> ImportLimits {
        ImportLimits {
            max_rows: settings.api.mapping_import_max_rows,
            max_unpacked_bytes: settings.api.mapping_import_max_unpacked_bytes,
        }
    }

    /// Cells of one rectangular sheet a reader may allocate: every row with the 16 columns and
    /// a few notes columns (about 64 MiB at the default row limit).
    pub fn max_cells(&self) -> u64 {
        (self.max_rows as u64 + 1) * 20
    }

    pub fn too_many_rows(&self) -> MappingError {
        MappingError::TooLarge(format!(
            "the sheet has more than {} rows; split it into smaller files",
            self.max_rows
        ))
    }
}

/// Columns past this are never looked at (16 are defined; room for notes columns).
pub const MAX_COLUMNS: usize = 64;

/// One data row: its number as a spreadsheet shows it (the header is row 1) and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub number: u32,
    pub cells: Vec<String>,
    /// Cells holding something that is not text (an Excel `#N/A`), by position.
    pub bad_cells: Vec<(usize, String)>,
}

/// A file's chosen sheet: header cells and data rows, blank rows already dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawSheet {
    pub header: Vec<String>,
    pub rows: Vec<RawRow>,
}

impl RawSheet {
    /// Adds a data row unless it is blank; refuses the file once it has too many rows.
    pub fn push_row(&mut self, row: RawRow, limits: &ImportLimits) -> Result<(), MappingError> {
        if row.cells.iter().all(|c| c.trim().is_empty()) && row.bad_cells.is_empty() {
            return Ok(());
        }
        if self.rows.len() >= limits.max_rows {
            return Err(limits.too_many_rows());
        }
        self.rows.push(row);
        Ok(())
    }
}

/// The header row understood: which position holds which column.
#[derive(Debug, Clone)]
pub struct Header {
    positions: Vec<(usize, Column)>,
    /// Cells up to the last non-empty header cell; data past it has no column to go in.
    width: usize,
    /// Header cells that name no column; reported as warnings.
    pub unknown: Vec<String>,
}

impl Header {
    /// Reads the header row. Unknown headers are kept as warnings; a header that names no
    /// column at all, or names one twice, makes the whole file unreadable.
    pub fn parse(cells: &[String]) -> Result<Header, MappingError> {
        let mut positions = Vec::new();
        let mut unknown = Vec::new();
        let mut seen: HashMap<Column, &str> = HashMap::new();
        let mut width = 0;
        for (index, cell) in cells.iter().enumerate() {
            let text = cell.trim();
            if text.is_empty() {
                continue;
            }
            width = index + 1;
            match Column::from_header(text) {
                Some(column) => {
                    if let Some(first) = seen.insert(column, text) {
                        return Err(MappingError::BadFile(format!(
                            "the header names column {:?} twice ({first:?} and {text:?})",
                            column.header()
                        )));
                    }
                    positions.push((index, column));
                }
                None => unknown.push(text.to_owned()),
            }
        }
        if positions.is_empty() {
            let expected: Vec<&str> = Column::ALL.iter().map(|c| c.header()).collect();
            return Err(MappingError::BadFile(format!(
                "the first row must be a header naming the columns ({}); found {:?}",
                expected.join(", "),
                cells.iter().take(MAX_COLUMNS).collect::<Vec<_>>()
            )));
        }
        Ok(Header {
            positions,
            width,
            unknown,
        })
    }

    /// One data row as column values, plus problems with cells the reader could not read.
    pub fn values(&self, row: &RawRow) -> (RowValues, Vec<Problem>) {
        let mut values = RowValues::default();
        let mut problems = Vec::new();
        for &(index, column) in &self.positions {
            values.set(
                column,
                row.cells.get(index).map(String::as_str).unwrap_or(""),
            );
            if let Some((_, what)) = row.bad_cells.iter().find(|(i, _)| *i == index) {
                problems.push(Problem::new(column, format!("cell holds {what}, not text")));
            }
        }
        if row
            .cells
            .iter()
            .skip(self.width)
            .any(|c| !c.trim().is_empty())
        {
            problems.push(Problem {
                column: "",
                reason: "the row has more cells than the header has columns".into(),
            });
        }
        (values, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_header_with_no_known_column_is_refused() {
        let err = Header::parse(&strings(&["foo", "bar"])).unwrap_err();
        assert!(err.to_string().contains("header"), "{err}");
    }

    #[test]
    fn a_column_named_twice_is_refused() {
        let err = Header::parse(&strings(&["code", "Code"])).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn short_rows_read_as_empty_cells_and_unknown_headers_are_kept() {
        let header = Header::parse(&strings(&["code", "notes", "dataelement"])).unwrap();
        assert_eq!(header.unknown, ["notes"]);
        let row = RawRow {
            number: 2,
            cells: strings(&["A"]),
            bad_cells: vec![],
        };
        let (values, problems) = header.values(&row);
        assert!(problems.is_empty());
        assert_eq!(values.0[&Column::Code], "A");
        assert_eq!(values.0[&Column::Dataelement], "");
    }

    #[test]
    fn blank_rows_are_dropped_and_the_row_limit_holds() {
        let limits = ImportLimits {
            max_rows: 1,
            ..ImportLimits::default()
        };
        let mut sheet = RawSheet::default();
        let row = |cells: &[&str]| RawRow {
            number: 2,
            cells: strings(cells),
            bad_cells: vec![],
        };
        sheet.push_row(row(&["", " "]), &limits).unwrap();
        sheet.push_row(row(&["A"]), &limits).unwrap();
        assert_eq!(sheet.rows.len(), 1);
        assert!(matches!(
            sheet.push_row(row(&["B"]), &limits),
            Err(MappingError::TooLarge(_))
        ));
    }
}
