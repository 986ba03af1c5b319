//! Reads a spreadsheet upload (.xlsx, .xls, .ods) with calamine into a sheet: the sheet named
//! `Mappings` (any case), else the first sheet with a value; its first non-empty row is the
//! header. `.xlsx` is streamed cell by cell so only rows with values are held; the other formats
//! are parsed whole once `excel_guard` has bounded their size.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx};

use super::MappingError;
use super::excel_guard::{self, Format};
use super::sheet::{ImportLimits, MAX_COLUMNS, RawRow, RawSheet};

/// The name of the sheet the importer prefers and the exporter writes.
pub const SHEET_NAME: &str = "Mappings";

/// A cell as text, or why it is not text.
enum CellText {
    Text(String),
    Bad(String),
}

pub fn read(bytes: &[u8], limits: &ImportLimits) -> Result<RawSheet, MappingError> {
    let format = excel_guard::check(bytes, limits)?;
    let unreadable = |e: &dyn std::fmt::Display| {
        MappingError::BadFile(format!("the spreadsheet cannot be read: {e}"))
    };
    match format {
        Format::Xlsx => {
            let mut workbook: Xlsx<_> =
                Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            let names = ordered_sheet_names(workbook.sheet_names());
            for name in names {
                let mut rows = Rows::new(*limits);
                let mut cells = workbook
                    .worksheet_cells_reader(&name)
                    .map_err(|e| unreadable(&e))?;
                while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
                    let (row, col) = cell.get_position();
                    rows.add(row, col, from_data_ref(cell.get_value()))?;
                }
                if let Some(sheet) = rows.into_sheet(limits)? {
                    return Ok(sheet);
                }
            }
            Err(MappingError::EmptyFile)
        }
        Format::Xls => {
            let workbook: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            read_ranges(workbook, limits)
        }
        Format::Ods => {
            let workbook: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            read_ranges(workbook, limits)
        }
    }
}

/// Sheets in the order they are tried: `Mappings` first, then the workbook's order.
fn ordered_sheet_names(mut names: Vec<String>) -> Vec<String> {
    if let Some(at) = names
        .iter()
        .position(|n| n.trim().eq_ignore_ascii_case(SHEET_NAME))
    {
        let preferred = names.remove(at);
        names.insert(0, preferred);
    }
    names
}

fn read_ranges<RS, R>(mut workbook: R, limits: &ImportLimits) -> Result<RawSheet, MappingError>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    for name in ordered_sheet_names(workbook.sheet_names()) {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| MappingError::BadFile(format!("sheet {name:?} cannot be read: {e}")))?;
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let mut rows = Rows::new(*limits);
        for (r, cells) in range.rows().enumerate() {
            for (c, value) in cells.iter().enumerate() {
                let (row, col) = (first_row + r as u32, first_col + c as u32);
                rows.add(row, col, from_data(value))?;
            }
        }
        if let Some(sheet) = rows.into_sheet(limits)? {
            return Ok(sheet);
        }
    }
    Err(MappingError::EmptyFile)
}

/// The cells with a value, by row; refuses the sheet past the row limit.
struct Rows {
    limits: ImportLimits,
    rows: BTreeMap<u32, Vec<(usize, CellText)>>,
}

impl Rows {
    fn new(limits: ImportLimits) -> Rows {
        Rows {
            limits,
            rows: BTreeMap::new(),
        }
    }

    fn add(&mut self, row: u32, col: u32, value: CellText) -> Result<(), MappingError> {
        let col = col as usize;
        if col >= MAX_COLUMNS || matches!(&value, CellText::Text(t) if t.trim().is_empty()) {
            return Ok(());
        }
        if !self.rows.contains_key(&row) && self.rows.len() > self.limits.max_rows {
            return Err(self.limits.too_many_rows());
        }
        self.rows.entry(row).or_default().push((col, value));
        Ok(())
    }

    /// The sheet, or None when it has no value at all (the caller tries the next one).
    fn into_sheet(self, limits: &ImportLimits) -> Result<Option<RawSheet>, MappingError> {
        let mut rows = self.rows.into_iter();
        let Some((_, header)) = rows.next() else {
            return Ok(None);
        };
        let mut sheet = RawSheet {
            header: dense(header).cells,
            rows: Vec::new(),
        };
        for (number, cells) in rows {
            let mut row = dense(cells);
            row.number = number + 1;
            sheet.push_row(row, limits)?;
        }
        Ok(Some(sheet))
    }
}

/// Positioned cells laid out as a row of text, gaps filled with empty cells.
fn dense(cells: Vec<(usize, CellText)>) -> RawRow {
    let width = cells.iter().map(|(c, _)| c + 1).max().unwrap_or(0);
    let mut row = RawRow {
        number: 0,
        cells: vec![String::new(); width],
        bad_cells: Vec::new(),
    };
    for (col, value) in cells {
        match value {
            CellText::Text(text) => row.cells[col] = text,
            CellText::Bad(what) => row.bad_cells.push((col, what)),
        }
    }
    row
}

/// Numbers are written without a fractional part when they have none: a code typed as `1234`
/// is stored by Excel as the float 1234.0 and must read back as "1234".
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

fn from_data_ref(value: &DataRef<'_>) -> CellText {
    match value {
        DataRef::SharedString(s) => CellText::Text((*s).to_owned()),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            CellText::Text(s.clone())
        }
        DataRef::Int(i) => CellText::Text(i.to_string()),
        DataRef::Float(f) => CellText::Text(number(*f)),
        DataRef::Bool(b) => CellText::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        DataRef::DateTime(d) => CellText::Bad(format!("a date ({d})")),
        DataRef::Error(e) => CellText::Bad(format!("the error value {e}")),
        DataRef::Empty => CellText::Text(String::new()),
    }
}

fn from_data(value: &Data) -> CellText {
    match value {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => CellText::Text(s.clone()),
        Data::Int(i) => CellText::Text(i.to_string()),
        Data::Float(f) => CellText::Text(number(*f)),
        Data::Bool(b) => CellText::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        Data::DateTime(d) => CellText::Bad(format!("a date ({d})")),
        Data::Error(e) => CellText::Bad(format!("the error value {e}")),
        Data::Empty => CellText::Text(String::new()),
    }
}
