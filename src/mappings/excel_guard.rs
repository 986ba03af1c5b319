//! Checks a spreadsheet upload before calamine parses it, so a crafted file is refused with a
//! 413/400 instead of exhausting memory: calamine unzips parts and allocates whole sheets as
//! rectangles sized by the cells' positions, so a few kilobytes can ask for gigabytes.
//!
//! - zip (.xlsx, .ods): every entry is actually unpacked into a counting sink, stopping at
//!   `max_unpacked_bytes` (declared sizes in a zip can lie).
//! - .ods: repeated rows/cells (`table:number-rows-repeated="1000000"`) are expanded on paper.
//! - .xls: the BIFF records are walked for the positions and DIMENSIONS calamine would size by.

use std::io::{Cursor, Read};

use super::MappingError;
use super::ods_scan;
use super::sheet::ImportLimits;

/// The spreadsheet formats the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
/// More parts than any real workbook has; each costs memory in the zip directory.
const MAX_ZIP_ENTRIES: usize = 10_000;

/// Says which format the bytes are and refuses them if reading them would cost too much.
pub fn check(bytes: &[u8], limits: &ImportLimits) -> Result<Format, MappingError> {
    if bytes.is_empty() {
        return Err(MappingError::EmptyFile);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        return check_zip(bytes, limits);
    }
    if bytes.starts_with(CFB_MAGIC) {
        check_xls(bytes, limits)?;
        return Ok(Format::Xls);
    }
    let looks_like_text = bytes.iter().take(512).all(|&b| b >= 0x09);
    Err(MappingError::BadFile(if looks_like_text {
        "this looks like a text/CSV file; upload it to /api/v2/mappings/import/csv".into()
    } else {
        "not an Excel (.xlsx, .xls) or OpenDocument (.ods) spreadsheet".into()
    }))
}

fn broken(what: &str, err: impl std::fmt::Display) -> MappingError {
    MappingError::BadFile(format!("the {what} cannot be read: {err}"))
}

fn too_big(limits: &ImportLimits) -> MappingError {
    MappingError::TooLarge(format!(
        "the spreadsheet unpacks to more than {} MiB",
        limits.max_unpacked_bytes >> 20
    ))
}

fn check_zip(bytes: &[u8], limits: &ImportLimits) -> Result<Format, MappingError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| broken("spreadsheet (zip)", e))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(MappingError::TooLarge(format!(
            "the spreadsheet has {} parts (at most {MAX_ZIP_ENTRIES})",
            archive.len()
        )));
    }
    let has = |archive: &zip::ZipArchive<_>, name: &str| archive.index_for_name(name).is_some();
    let format = if has(&archive, "xl/workbook.xml") {
        Format::Xlsx
    } else if has(&archive, "content.xml") {
        Format::Ods
    } else if has(&archive, "xl/workbook.bin") {
        return Err(MappingError::BadFile(
            "binary workbooks (.xlsb) are not read; save the file as .xlsx".into(),
        ));
    } else {
        return Err(MappingError::BadFile(
            "this zip file is neither an .xlsx nor an .ods spreadsheet".into(),
        ));
    };
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| broken("spreadsheet (zip)", e))?;
        if entry.is_dir() {
            continue;
        }
        let allowance = limits.max_unpacked_bytes - unpacked;
        let read = std::io::copy(&mut (&mut entry).take(allowance + 1), &mut std::io::sink())
            .map_err(|e| broken("spreadsheet (zip)", e))?;
        unpacked += read;
        if unpacked > limits.max_unpacked_bytes {
            return Err(too_big(limits));
        }
    }
    if format == Format::Ods {
        let mut content = String::new();
        archive
            .by_name("content.xml")
            .map_err(|e| broken("spreadsheet (zip)", e))?
            .read_to_string(&mut content)
            .map_err(|e| broken("spreadsheet content", e))?;
        ods_scan::check(&content, limits)?;
    }
    Ok(format)
}

fn check_xls(bytes: &[u8], limits: &ImportLimits) -> Result<(), MappingError> {
    let mut file =
        cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| broken("Excel 97 file", e))?;
    if file.exists("EncryptedPackage") {
        return Err(MappingError::BadFile(
            "the workbook is password protected".into(),
        ));
    }
    let name = ["Workbook", "Book", "WORKBOOK", "BOOK"]
        .into_iter()
        .find(|n| file.is_stream(n))
        .ok_or_else(|| MappingError::BadFile("the Excel 97 file has no workbook".into()))?;
    let mut stream = Vec::new();
    file.open_stream(name)
        .map_err(|e| broken("Excel 97 file", e))?
        .take(limits.max_unpacked_bytes + 1)
        .read_to_end(&mut stream)
        .map_err(|e| broken("Excel 97 file", e))?;
    if stream.len() as u64 > limits.max_unpacked_bytes {
        return Err(too_big(limits));
    }
    check_biff_records(&stream, limits)
}

/// The BIFF records of every sheet: calamine sizes a sheet by its DIMENSIONS record (reserve)
/// and by the spread of its cells' positions (the rectangle it fills).
fn check_biff_records(stream: &[u8], limits: &ImportLimits) -> Result<(), MappingError> {
    let u16_at = |data: &[u8], at: usize| {
        data.get(at..at + 2)
            .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u32_at = |data: &[u8], at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let max_cells = limits.max_cells();
    let refuse = || {
        MappingError::TooLarge(format!(
            "a sheet of this workbook spans more than {max_cells} cells"
        ))
    };
    let mut spread = Spread::default();
    let mut pos = 0;
    while let (Some(kind), Some(len)) = (u16_at(stream, pos), u16_at(stream, pos + 2)) {
        let data = stream.get(pos + 4..pos + 4 + len as usize).unwrap_or(&[]);
        pos += 4 + len as usize;
        match kind {
            // BOF: a new substream (sheet) starts; its cells are sized on their own.
            0x0809 => {
                spread.check(max_cells).ok_or_else(refuse)?;
                spread = Spread::default();
            }
            // DIMENSIONS: calamine reserves rows × columns cells from it.
            0x0200 => {
                let (first, last, first_col, last_col) = match data.len() {
                    10 => (
                        u16_at(data, 0),
                        u16_at(data, 2),
                        u16_at(data, 4),
                        u16_at(data, 6),
                    ),
                    14 | 16 => (
                        u32_at(data, 0),
                        u32_at(data, 4),
                        u16_at(data, 8),
                        u16_at(data, 10),
                    ),
                    _ => continue,
                };
                let (first, last) = (first.unwrap_or(0), last.unwrap_or(0));
                let (first_col, last_col) = (first_col.unwrap_or(0), last_col.unwrap_or(0));
                if last >= 1 && last_col >= 1 {
                    let first_col = if first_col > 0xFF || last_col < first_col {
                        0
                    } else {
                        first_col
                    };
                    let rows = u64::from(
                        last.checked_sub(first)
                            .filter(|r| *r > 0)
                            .ok_or_else(refuse)?,
                    );
                    if rows * u64::from(last_col - first_col) > max_cells {
                        return Err(refuse());
                    }
                }
            }
            // Cells: Formula, Blank, Number, Label, BoolErr, RString, LabelSst, Rk.
            0x0006 | 0x0201 | 0x0203 | 0x0204 | 0x0205 | 0x00D6 | 0x00FD | 0x027E => {
                if let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) {
                    spread.add(row, col);
                }
            }
            // MulRk / MulBlank: a run of cells ending at the column in the last two bytes.
            0x00BD | 0x00BE => {
                let last_col = data.len().checked_sub(2).and_then(|at| u16_at(data, at));
                if let (Some(row), Some(col), Some(last_col)) =
                    (u16_at(data, 0), u16_at(data, 2), last_col)
                {
                    spread.add(row, col);
                    spread.add(row, last_col);
                }
            }
            _ => {}
        }
    }
    spread.check(max_cells).ok_or_else(refuse)?;
    Ok(())
}

/// The bounding box of a sheet's cells.
#[derive(Default)]
struct Spread(Option<(u32, u32, u32, u32)>);

impl Spread {
    fn add(&mut self, row: u32, col: u32) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn check(&self, max_cells: u64) -> Option<()> {
        let Some((r0, r1, c0, c1)) = self.0 else {
            return Some(());
        };
        let cells = u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
        (cells <= max_cells).then_some(())
    }
}
