//! Export: every mapping as a CSV or an .xlsx workbook whose only data sheet is `Mappings`, with
//! every column the importer reads (so re-importing an export changes nothing), and the template
//! (headers, example rows and a help sheet).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::db::mappings::MappingRow;

use super::MappingError;
use super::columns::Column;
use super::csv_file;
use super::excel_read::SHEET_NAME;

/// One mapping's cells in `Column::ALL` order; absent values are `None`.
fn cells(row: &MappingRow) -> Vec<Option<String>> {
    let some = |s: &String| Some(s.clone());
    Column::ALL
        .iter()
        .map(|column| match column {
            Column::Code => some(&row.code),
            Column::What => some(&row.what),
            Column::Name => some(&row.name),
            Column::Description => row.description.clone(),
            Column::Dataset => row.dataset.clone(),
            Column::Dataelement => row.dataelement.clone(),
            Column::CategoryOptionCombo => row.category_option_combo.clone(),
            Column::CategoryOption => row.category_option.clone(),
            Column::CategoryCombo => row.category_combo.clone(),
            Column::InstanceName => some(&row.instance_name),
            Column::SourceName => some(&row.source_name),
            Column::SourceOrgunit => row.source_orgunit.clone(),
            Column::DestinationOrgunit => row.dest_orgunit.clone(),
            Column::AttributeOptionCombo => row.attribute_option_combo.clone(),
            Column::DimensionType => row.dimension_type.clone(),
            Column::Uid => some(&row.uid),
        })
        .collect()
}

fn headers() -> Vec<&'static str> {
    Column::ALL.iter().map(|c| c.header()).collect()
}

/// The example rows of the template: one data-element and one org-unit mapping (UIDs of the
/// DHIS2 demo database).
fn example_rows() -> Vec<Vec<Option<String>>> {
    let row = |pairs: &[(Column, &str)]| {
        Column::ALL
            .iter()
            .map(|c| {
                pairs
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.to_string())
            })
            .collect()
    };
    vec![
        row(&[
            (Column::Code, "MAL_CONF_F_LT5"),
            (Column::What, "de"),
            (Column::Name, "Malaria confirmed, female <5"),
            (Column::Dataset, "BfMAe6Itzgt"),
            (Column::Dataelement, "fbfJHSPpUQD"),
            (Column::CategoryOptionCombo, "pq2XI5kz2BY"),
            (Column::InstanceName, "default"),
            (Column::SourceName, "default"),
        ]),
        row(&[
            (Column::What, "ou"),
            (Column::Name, "Ngelehun CHC"),
            (Column::InstanceName, "default"),
            (Column::SourceName, "default"),
            (Column::SourceOrgunit, "FAC-0001"),
            (Column::DestinationOrgunit, "DiszpKrYNg8"),
        ]),
    ]
}

pub fn to_csv(rows: &[MappingRow]) -> Result<Vec<u8>, MappingError> {
    let cells: Vec<_> = rows.iter().map(cells).collect();
    csv_file::write(&headers(), &cells)
}

pub fn to_xlsx(rows: &[MappingRow]) -> Result<Vec<u8>, MappingError> {
    let cells: Vec<_> = rows.iter().map(cells).collect();
    workbook(&cells, false).map_err(|e| MappingError::Export(e.to_string()))
}

pub fn template_xlsx() -> Result<Vec<u8>, MappingError> {
    workbook(&example_rows(), true).map_err(|e| MappingError::Export(e.to_string()))
}

/// Every cell is written as text and every column formatted as text, so codes such as `001`
/// stay text when users add rows.
fn workbook(rows: &[Vec<Option<String>>], with_help: bool) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    for (col, header) in headers().iter().enumerate() {
        let col = col as u16;
        sheet.set_column_format(col, &text)?;
        sheet.set_column_width(col, if *header == "description" { 40 } else { 22 })?;
        sheet.write_string_with_format(0, col, *header, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if let Some(value) = cell {
                sheet.write_string(r as u32 + 1, c as u16, value)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows.len() as u32, Column::ALL.len() as u16 - 1)?;
    if with_help {
        let help = workbook.add_worksheet();
        help.set_name("Help")?;
        help.write_string_with_format(0, 0, "column", &bold)?;
        help.write_string_with_format(0, 1, "meaning", &bold)?;
        help.set_column_width(0, 24)?;
        help.set_column_width(1, 90)?;
        for (r, column) in Column::ALL.iter().enumerate() {
            help.write_string(r as u32 + 1, 0, column.header())?;
            help.write_string(r as u32 + 1, 1, column.help())?;
        }
    }
    workbook.save_to_buffer()
}
