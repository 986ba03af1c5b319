//! A problem found in one row of an uploaded file, as the import report lists it.

/// One problem of one row: its spreadsheet row number (the header is row 1), the column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub row: u32,
    pub column: String,
    pub reason: String,
}
