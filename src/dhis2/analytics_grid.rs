//! Pure parser of `GET /api/analytics` answers (DHIS2 2.38–2.41+): the `ListGrid` shape with
//! `headers[]` naming the columns (their order is not fixed, and `includeNumDen` adds columns),
//! every cell a JSON string (`"3"`, `"3.0"`, `""` for null), `metaData.items` mapping ids to names
//! (`{}` with `skipMeta`), and `rowContext` present or absent. A 409 WebMessage is an
//! [`AnalyticsError`]: E7144 (analytics tables not generated) and E7128 (too many rows) by name.

use std::collections::HashMap;

use serde_json::Value;

use super::error::Dhis2Error;

/// One value of the grid: data item, period, org unit and the value as a number.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsRow {
    pub dx: String,
    pub pe: String,
    pub ou: String,
    pub value: f64,
}

/// A parsed analytics answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalyticsGrid {
    pub rows: Vec<AnalyticsRow>,
    /// `metaData.items` id → name (empty with `skipMeta=true`).
    pub names: HashMap<String, String>,
    /// Rows whose value cell was empty or not a number, left out of `rows`.
    pub skipped_cells: usize,
}

impl AnalyticsGrid {
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }
}

/// Why an analytics query gave no grid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyticsError {
    /// E7144: the analytics tables were never generated (or were dropped); data appear after
    /// DHIS2's analytics table job ran.
    #[error(
        "DHIS2 analytics tables are not generated (run DHIS2's analytics table job): {message}"
    )]
    TablesNotGenerated { message: String },
    /// E7128 (or "max limit" text): the query would give more rows than DHIS2 allows.
    #[error("the analytics query exceeds DHIS2's row limit: {message}")]
    TooManyRows { message: String },
    /// Any other 409 WebMessage: DHIS2 refused the query (E7101…E7125, an unknown item…).
    #[error("DHIS2 refused the analytics query ({code}): {message}")]
    Refused { code: String, message: String },
    /// A 200 whose body is not an analytics grid.
    #[error("unreadable analytics answer: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Dhis2(#[from] Dhis2Error),
}

impl AnalyticsError {
    /// Whether the same query may succeed later without anyone changing it.
    pub fn is_retryable(&self) -> bool {
        match self {
            AnalyticsError::Dhis2(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// Reads a 409 WebMessage of the analytics endpoint into its typed error.
pub fn analytics_conflict(body: &str) -> Option<AnalyticsError> {
    let value: Value = serde_json::from_str(body).ok()?;
    let code = value
        .get("errorCode")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if code.is_empty() && message.is_empty() {
        return None;
    }
    let lower = message.to_ascii_lowercase();
    Some(
        if code == "E7144" || lower.contains("analytics job was run") {
            AnalyticsError::TablesNotGenerated { message }
        } else if code == "E7128" || lower.contains("max limit") {
            AnalyticsError::TooManyRows { message }
        } else {
            AnalyticsError::Refused { code, message }
        },
    )
}

/// Parses a 2xx analytics body.
pub fn parse_analytics_grid(body: &str) -> Result<AnalyticsGrid, AnalyticsError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| AnalyticsError::Unreadable(format!("not JSON: {e}")))?;
    let headers = value
        .get("headers")
        .and_then(Value::as_array)
        .ok_or_else(|| AnalyticsError::Unreadable("no headers[]".into()))?;
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.get("name").and_then(Value::as_str) == Some(name))
    };
    let (Some(dx), Some(pe), Some(ou), Some(val)) =
        (column("dx"), column("pe"), column("ou"), column("value"))
    else {
        return Err(AnalyticsError::Unreadable(
            "the grid lacks one of the dx, pe, ou, value columns".into(),
        ));
    };
    let mut grid = AnalyticsGrid::default();
    if let Some(items) = value.pointer("/metaData/items").and_then(Value::as_object) {
        for (id, item) in items {
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                grid.names.insert(id.clone(), name.to_owned());
            }
        }
    }
    let rows = match value.get("rows") {
        Some(Value::Array(rows)) => rows.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err(AnalyticsError::Unreadable("rows is not an array".into())),
    };
    grid.rows.reserve(rows.len());
    for row in rows {
        let cells = row
            .as_array()
            .ok_or_else(|| AnalyticsError::Unreadable("a row is not an array".into()))?;
        let cell = |i: usize| cells.get(i).and_then(cell_text);
        let (Some(d), Some(p), Some(o)) = (cell(dx), cell(pe), cell(ou)) else {
            return Err(AnalyticsError::Unreadable(
                "a row is shorter than its headers".into(),
            ));
        };
        match cell(val).and_then(|v| v.trim().parse::<f64>().ok()) {
            Some(value) if value.is_finite() => grid.rows.push(AnalyticsRow {
                dx: d.into_owned(),
                pe: p.into_owned(),
                ou: o.into_owned(),
                value,
            }),
            _ => grid.skipped_cells += 1,
        }
    }
    Ok(grid)
}

/// A cell as text: DHIS2 sends strings; a number is accepted too (a proxy or an old version).
fn cell_text(cell: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match cell {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
#[path = "analytics_grid_tests.rs"]
mod tests;
