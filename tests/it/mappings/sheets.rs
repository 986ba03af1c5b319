//! Spreadsheets built in memory for the tests: .ods (an OpenDocument zip), .xls (BIFF8 records in
//! a compound file), and .xlsx variations, so no binary fixture hides what a test feeds in.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An OpenDocument spreadsheet with one table of text cells; `rows_xml` overrides the rows.
pub fn ods(table_name: &str, rows: &[Vec<&str>]) -> Vec<u8> {
    let rows_xml: String = rows
        .iter()
        .map(|row| {
            let cells: String = row
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        "<table:table-cell/>".to_owned()
                    } else {
                        format!(
                            r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                            escape(c)
                        )
                    }
                })
                .collect();
            format!("<table:table-row>{cells}</table:table-row>")
        })
        .collect();
    ods_with_rows(table_name, &rows_xml)
}

pub fn ods_with_rows(table_name: &str, rows_xml: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="{}">{rows_xml}</table:table></office:spreadsheet></office:body></office:document-content>"#,
        escape(table_name)
    );
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default();
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("content.xml", deflated).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.start_file("META-INF/manifest.xml", deflated).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#).unwrap();
    zip.finish().unwrap().into_inner()
}

fn record(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_le_bytes().to_vec();
    out.extend((data.len() as u16).to_le_bytes());
    out.extend(data);
    out
}

fn bof(kind: u16) -> Vec<u8> {
    let mut data = vec![0x00, 0x06];
    data.extend(kind.to_le_bytes());
    data.extend([0xBB, 0x0D, 0xCC, 0x07, 0, 0, 0, 0, 0x06, 0, 0, 0]);
    record(0x0809, &data)
}

/// BIFF8 LABEL cells (ASCII text) of one sheet; `extra` records go after them.
fn sheet_records(rows: &[Vec<&str>], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut out = bof(0x0010);
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if text.is_empty() {
                continue;
            }
            let mut data = Vec::new();
            data.extend((r as u16).to_le_bytes());
            data.extend((c as u16).to_le_bytes());
            data.extend(0u16.to_le_bytes());
            data.extend((text.len() as u16).to_le_bytes());
            data.push(0); // 8-bit characters
            data.extend(text.as_bytes());
            out.extend(record(0x0204, &data));
        }
    }
    for e in extra {
        out.extend(e.clone());
    }
    out.extend(record(0x000A, &[]));
    out
}

/// An Excel 97 (.xls) workbook with one sheet of text cells; `extra` are raw BIFF records
/// added to the sheet (to craft hostile files).
pub fn xls(sheet_name: &str, rows: &[Vec<&str>], extra: &[Vec<u8>]) -> Vec<u8> {
    let boundsheet_len = 4 + 8 + sheet_name.len();
    let globals_len = bof(0x0005).len() + record(0x0042, &[0, 0]).len() + boundsheet_len + 4;
    let mut stream = bof(0x0005);
    stream.extend(record(0x0042, &1200u16.to_le_bytes()));
    let mut sheet = (globals_len as u32).to_le_bytes().to_vec();
    sheet.extend([0, 0, sheet_name.len() as u8, 0]);
    sheet.extend(sheet_name.as_bytes());
    stream.extend(record(0x0085, &sheet));
    stream.extend(record(0x000A, &[]));
    assert_eq!(stream.len(), globals_len);
    stream.extend(sheet_records(rows, extra));
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    file.create_stream("/Workbook")
        .unwrap()
        .write_all(&stream)
        .unwrap();
    file.flush().unwrap();
    file.into_inner().into_inner()
}

/// A BIFF8 DIMENSIONS record claiming `rows` × `cols`.
pub fn xls_dimensions(rows: u32, cols: u16) -> Vec<u8> {
    let mut data = 0u32.to_le_bytes().to_vec();
    data.extend(rows.to_le_bytes());
    data.extend(0u16.to_le_bytes());
    data.extend(cols.to_le_bytes());
    data.extend(0u16.to_le_bytes());
    record(0x0200, &data)
}

/// A BIFF8 NUMBER cell at a position.
pub fn xls_number(row: u16, col: u16) -> Vec<u8> {
    let mut data = row.to_le_bytes().to_vec();
    data.extend(col.to_le_bytes());
    data.extend(0u16.to_le_bytes());
    data.extend(1.0f64.to_le_bytes());
    record(0x0203, &data)
}

/// An .xlsx repacked with an extra part: `size` zero bytes, deflated to almost nothing.
pub fn with_zero_part(xlsx: &[u8], copies: usize, size: usize) -> Vec<u8> {
    let mut source = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..source.len() {
        out.raw_copy_file(source.by_index(i).unwrap()).unwrap();
    }
    let mut zeros = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zeros
        .start_file("xl/media/zeros.bin", SimpleFileOptions::default())
        .unwrap();
    zeros.write_all(&vec![0u8; size]).unwrap();
    let zeros = zeros.finish().unwrap().into_inner();
    let mut zeros = zip::ZipArchive::new(Cursor::new(zeros)).unwrap();
    for copy in 0..copies {
        out.raw_copy_file_rename(
            zeros.by_index(0).unwrap(),
            format!("xl/media/zeros{copy}.bin"),
        )
        .unwrap();
    }
    out.finish().unwrap().into_inner()
}
