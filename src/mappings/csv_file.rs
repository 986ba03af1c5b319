//! CSV in and out. Reading tolerates what spreadsheet programs write: a UTF-8 BOM, UTF-16 with a
//! BOM, Windows-1252 (Excel's "CSV" on Windows), and `;` or tab separators (Excel in locales whose
//! decimal mark is a comma). Writing emits UTF-8 with a BOM so Excel opens it as UTF-8.

use csv::{ReaderBuilder, WriterBuilder};

use super::MappingError;
use super::sheet::{ImportLimits, RawRow, RawSheet};

/// Reads a CSV upload into a sheet; the first record is the header.
pub fn read(bytes: &[u8], limits: &ImportLimits) -> Result<RawSheet, MappingError> {
    let text = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(MappingError::EmptyFile);
    }
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(&text))
        .from_reader(text.as_bytes());
    let mut sheet = RawSheet::default();
    let mut header: Option<Vec<String>> = None;
    let (mut lines_seen, mut counted_to) = (0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|err| {
            let line = err.position().map(|p| p.line()).unwrap_or(0);
            MappingError::BadFile(format!("line {line} is not valid CSV: {err}"))
        })?;
        let cells: Vec<String> = record.iter().map(unescape_formula).collect();
        if header.is_none() {
            header = Some(cells);
            continue;
        }
        // The line the record starts on, counted by hand: the csv crate's position skips
        // neither the blank lines before a record nor counts them.
        let mut start = record.position().map_or(0, |p| p.byte() as usize);
        while matches!(text.as_bytes().get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        lines_seen += bytecount(&text.as_bytes()[counted_to..start.max(counted_to)]);
        counted_to = start.max(counted_to);
        let row = RawRow {
            number: u32::try_from(lines_seen + 1).unwrap_or(u32::MAX),
            cells,
            bad_cells: Vec::new(),
        };
        sheet.push_row(row, limits)?;
    }
    sheet.header = header.ok_or(MappingError::EmptyFile)?;
    Ok(sheet)
}

fn bytecount(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// The upload as text: UTF-8 (BOM dropped), UTF-16 with a BOM, else Windows-1252.
fn decode(bytes: &[u8]) -> Result<String, MappingError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8(rest.to_vec())
            .map_err(|e| MappingError::BadFile(format!("the file says UTF-8 but is not: {e}")));
    }
    let utf16 = |rest: &[u8], little: bool| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| {
                if little {
                    u16::from_le_bytes([p[0], p[1]])
                } else {
                    u16::from_be_bytes([p[0], p[1]])
                }
            })
            .collect();
        String::from_utf16(&units)
            .map_err(|e| MappingError::BadFile(format!("the file says UTF-16 but is not: {e}")))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, false);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(MappingError::BadFile(
            "this is an Excel/ODS file; upload it to /api/v2/mappings/import/excel".into(),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => Ok(bytes.iter().map(|&b| windows_1252(b)).collect()),
    }
}

/// Windows-1252: Latin-1 except 0x80..0x9F, which hold typographic characters.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The separator the header line uses most, outside quotes: `,` unless `;` or tab win.
fn sniff_delimiter(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in first_line.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(d, _)| *d == byte) {
            entry.1 += 1;
        }
    }
    counts
        .iter()
        .copied()
        .max_by_key(|&(d, n)| (n, d == b','))
        .map(|(d, _)| d)
        .unwrap_or(b',')
}

/// Whether a spreadsheet program would read this cell as a formula (`=`, `+`, `-`, `@`, or a tab
/// or carriage return before one), after any apostrophes this module added. A plain number
/// (`-3`, `+1.5`) is a value, not a formula.
fn looks_like_formula(cell: &str) -> bool {
    let rest = cell.trim_start_matches('\'');
    rest.starts_with(['=', '+', '-', '@', '\t', '\r']) && rest.trim().parse::<f64>().is_err()
}

/// CSV injection: a cell a spreadsheet would evaluate gets a leading `'`, which Excel and
/// LibreOffice show as text; [`unescape_formula`] takes it off again on import, so an export
/// imports back unchanged.
fn escape_formula(cell: &str) -> String {
    if looks_like_formula(cell) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The reverse of [`escape_formula`] for a cell read from a CSV.
fn unescape_formula(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if looks_like_formula(cell) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

/// Writes a header and rows as UTF-8 CSV with a BOM; `None` cells are written empty; a cell that
/// a spreadsheet would run as a formula is escaped with a leading `'`.
pub fn write(header: &[&str], rows: &[Vec<Option<String>>]) -> Result<Vec<u8>, MappingError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = WriterBuilder::new().from_writer(&mut out);
        let failed = |e: csv::Error| MappingError::Export(e.to_string());
        writer.write_record(header).map_err(failed)?;
        for row in rows {
            writer
                .write_record(
                    row.iter()
                        .map(|c| escape_formula(c.as_deref().unwrap_or(""))),
                )
                .map_err(failed)?;
        }
        writer
            .flush()
            .map_err(|e| MappingError::Export(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_escaped_on_export_and_restored_on_import() {
        let cells = [
            "=HYPERLINK(\"http://evil\",\"x\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "'=already quoted",
            "-3",
            "+1.5",
            "plain",
            "a=b",
            "",
        ];
        let rows = vec![cells.iter().map(|c| Some(c.to_string())).collect()];
        let bytes = write(&["a"; 11], &rows).unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let written: Vec<String> = ReaderBuilder::new()
            .from_reader(text.as_bytes())
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            written,
            [
                "'=HYPERLINK(\"http://evil\",\"x\")",
                "'+cmd|' /C calc'!A0",
                "'-2+3",
                "'@SUM(A1)",
                "'\t=1",
                "''=already quoted",
                "-3",
                "+1.5",
                "plain",
                "a=b",
                "",
            ]
        );
        let back = read(&bytes, &ImportLimits::default()).unwrap();
        assert_eq!(back.rows[0].cells, cells);
    }

    fn read_str(text: &str) -> RawSheet {
        read(text.as_bytes(), &ImportLimits::default()).unwrap()
    }

    #[test]
    fn reads_header_and_numbers_rows_as_a_spreadsheet_does() {
        let sheet = read_str("code,dataelement\nA,rPRf4cXHEIx\n\nB,\"gLEO1XbX0ii\"\n");
        assert_eq!(sheet.header, ["code", "dataelement"]);
        let numbers: Vec<u32> = sheet.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 4]);
        assert_eq!(sheet.rows[1].cells, ["B", "gLEO1XbX0ii"]);
    }

    #[test]
    fn drops_a_bom_and_sniffs_semicolons() {
        let sheet = read(
            "\u{feff}code;name\nA;\"x;y\"\n".as_bytes(),
            &ImportLimits::default(),
        )
        .unwrap();
        assert_eq!(sheet.header, ["code", "name"]);
        assert_eq!(sheet.rows[0].cells, ["A", "x;y"]);
    }

    #[test]
    fn decodes_windows_1252_and_utf16() {
        let sheet = read(b"code,name\nA,Caf\xe9 \x80\n", &ImportLimits::default()).unwrap();
        assert_eq!(sheet.rows[0].cells[1], "Café €");
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "code\tname\nA\tÉ\n".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        let sheet = read(&utf16, &ImportLimits::default()).unwrap();
        assert_eq!(sheet.rows[0].cells, ["A", "É"]);
    }

    #[test]
    fn an_empty_file_is_refused() {
        for text in ["", " \n\n", "\u{feff}"] {
            let err = read(text.as_bytes(), &ImportLimits::default()).unwrap_err();
            assert!(matches!(err, MappingError::EmptyFile), "{text:?}: {err}");
        }
    }

    #[test]
    fn what_it_writes_reads_back() {
        let rows = vec![vec![
            Some("A,1".to_owned()),
            None,
            Some("\"q\"\nx".to_owned()),
        ]];
        let bytes = write(&["code", "name", "description"], &rows).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let sheet = read(&bytes, &ImportLimits::default()).unwrap();
        assert_eq!(sheet.header, ["code", "name", "description"]);
        assert_eq!(sheet.rows[0].cells, ["A,1", "", "\"q\"\nx"]);
    }
}
