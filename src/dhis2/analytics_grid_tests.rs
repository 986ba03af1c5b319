//! The analytics parser against real DHIS2 answers (`tests/fixtures/dhis2/analytics/`).

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/dhis2/analytics/", $name))
    };
}

#[test]
fn a_captured_grid_with_row_context_and_names() {
    let grid = parse_analytics_grid(fixture!("analytics_play_dev_LAST_4_QUARTERS.json")).unwrap();
    assert!(!grid.rows.is_empty());
    let first = &grid.rows[0];
    assert_eq!(
        (first.dx.as_str(), first.pe.as_str(), first.ou.as_str()),
        ("Uvn6LCg7dVU", "2025Q3", "O6uvpzGd5pu")
    );
    assert!((first.value - 158.96).abs() < 1e-9);
    assert_eq!(grid.name_of("O6uvpzGd5pu"), Some("Bo"));
    assert_eq!(grid.skipped_cells, 0);
}

#[test]
fn columns_are_found_by_header_name_whatever_their_order() {
    let mut value: Value =
        serde_json::from_str(fixture!("analytics_play_dev_LAST_4_QUARTERS.json")).unwrap();
    let original = parse_analytics_grid(&value.to_string()).unwrap();
    // Reverse the headers and every row; drop rowContext (older versions leave it out).
    let headers = value["headers"].as_array_mut().unwrap();
    headers.reverse();
    for row in value["rows"].as_array_mut().unwrap() {
        row.as_array_mut().unwrap().reverse();
    }
    value.as_object_mut().unwrap().remove("rowContext");
    let reversed = parse_analytics_grid(&value.to_string()).unwrap();
    assert_eq!(reversed.rows, original.rows);
}

#[test]
fn num_den_columns_and_empty_cells() {
    // includeNumDen adds columns; this grid has no ou column, so it is not ours to read.
    let err = parse_analytics_grid(fixture!("analytics_weekly_WedW_includeNumDen_2.41.json"))
        .unwrap_err();
    assert!(matches!(err, AnalyticsError::Unreadable(_)), "{err}");
    let body = r#"{"headers":[{"name":"dx"},{"name":"pe"},{"name":"ou"},{"name":"value"},
        {"name":"numerator"}],"metaData":{},"rows":[["a","2026W1","o","3.0",""],
        ["a","2026W2","o","",""],["a","2026W3","o","2.5","1"]],"width":5,"height":3}"#;
    let grid = parse_analytics_grid(body).unwrap();
    assert_eq!(grid.rows.len(), 2);
    assert_eq!(grid.rows[0].value, 3.0);
    assert_eq!(grid.rows[1].value, 2.5);
    assert_eq!(grid.skipped_cells, 1);
    assert!(grid.names.is_empty(), "skipMeta leaves metaData empty");
}

#[test]
fn no_rows_is_an_empty_grid() {
    let body = r#"{"headers":[{"name":"dx"},{"name":"pe"},{"name":"ou"},{"name":"value"}],
        "metaData":{"items":{}},"rowContext":{},"rows":[],"width":0,"height":0,"headerWidth":4}"#;
    assert!(parse_analytics_grid(body).unwrap().rows.is_empty());
}

#[test]
fn conflicts_are_typed() {
    assert!(matches!(
        analytics_conflict(fixture!("analytics_no_tables_409.json")),
        Some(AnalyticsError::TablesNotGenerated { .. })
    ));
    match analytics_conflict(fixture!("analytics_409_E7108.json")) {
        Some(AnalyticsError::Refused { code, .. }) => assert_eq!(code, "E7108"),
        other => panic!("{other:?}"),
    }
    let limit = r#"{"httpStatus":"Conflict","httpStatusCode":409,"status":"ERROR",
        "message":"Analytics query result set exceeded max limit: 50000","errorCode":"E7128"}"#;
    assert!(matches!(
        analytics_conflict(limit),
        Some(AnalyticsError::TooManyRows { .. })
    ));
    assert_eq!(analytics_conflict("<html>"), None);
}

#[test]
fn garbage_is_unreadable_not_a_panic() {
    for body in [
        "",
        "null",
        "[]",
        r#"{"headers":5}"#,
        r#"{"headers":[],"rows":[]}"#,
    ] {
        assert!(parse_analytics_grid(body).is_err(), "{body}");
    }
    let short = r#"{"headers":[{"name":"dx"},{"name":"pe"},{"name":"ou"},{"name":"value"}],
        "rows":[["a","2026W1"]]}"#;
    assert!(parse_analytics_grid(short).is_err());
}
