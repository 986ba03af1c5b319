//! Export → import round trips (CSV and .xlsx), the template, and every spreadsheet format and
//! sheet choice the importer reads.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::json;

use super::common::{MAL_CONF, MAL_SUSP, counts, sample_csv, spawn, xlsx};
use super::sheets;

const HEADERS: [&str; 16] = [
    "code",
    "what",
    "name",
    "description",
    "dataset",
    "dataelement",
    "category_option_combo",
    "category_option",
    "category_combo",
    "instance_name",
    "source_name",
    "source_orgunit",
    "destination_orgunit",
    "attribute_option_combo",
    "dimension_type",
    "uid",
];

/// The exported workbook's sheets, each as rows of cell text.
fn read_xlsx(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    workbook
        .sheet_names()
        .into_iter()
        .map(|name| {
            let range = workbook.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::String(s) => s.clone(),
                            Data::Empty => String::new(),
                            other => panic!("a non-text cell {other:?} in the export"),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

#[tokio::test]
async fn a_csv_export_imports_back_unchanged() {
    let admin = spawn().await;
    let (status, report) = admin.csv("", &sample_csv()).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [3, 0, 0, 0, 0, 0]),
        "{report}"
    );
    let before = admin.all().await;

    let (content_type, bytes) = admin.download("/api/v2/mappings/export/csv").await;
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a BOM, so Excel reads UTF-8"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(text.lines().next().unwrap(), HEADERS.join(","));
    assert!(text.contains("\"quoted, with comma\""), "{text}");

    let (status, report) = admin.upload("csv", "", "export.csv", bytes).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [0, 0, 3, 0, 0, 0]),
        "{report}"
    );
    assert_eq!(report["warnings"], json!([]));
    assert_eq!(
        admin.all().await,
        before,
        "nothing changed, not even `updated`"
    );
}

#[tokio::test]
async fn an_excel_export_imports_back_unchanged() {
    let admin = spawn().await;
    admin.csv("", &sample_csv()).await;
    let before = admin.all().await;

    let (content_type, bytes) = admin.download("/api/v2/mappings/export/excel").await;
    assert_eq!(
        content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let sheets = read_xlsx(&bytes);
    assert_eq!(sheets.len(), 1, "no empty Sheet1 before the data");
    let (name, rows) = &sheets[0];
    assert_eq!(name, "Mappings");
    assert_eq!(rows[0], HEADERS);
    assert_eq!(rows.len(), 4);
    let all_cells: Vec<&String> = rows.iter().flatten().collect();
    assert!(
        !all_cells
            .iter()
            .any(|c| c.starts_with("0x") || c.as_str() == "<nil>")
    );
    assert!(
        all_cells.iter().any(|c| c.as_str() == "uEnSlE7fIwv"),
        "the option combo itself"
    );

    let (status, report) = admin.excel("", bytes).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [0, 0, 3, 0, 0, 0]),
        "{report}"
    );
    assert_eq!(admin.all().await, before);

    // The export of one namespace only.
    let (_, pbs) = admin
        .download("/api/v2/mappings/export/excel?source=pbs")
        .await;
    assert_eq!(read_xlsx(&pbs)[0].1.len(), 1, "headers only");
}

#[tokio::test]
async fn the_template_has_the_headers_an_example_of_each_kind_and_help() {
    let admin = spawn().await;
    let (_, bytes) = admin
        .download("/api/v2/mappings/export/excel-template")
        .await;
    let sheets = read_xlsx(&bytes);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Mappings", "Help"]);
    let rows = &sheets[0].1;
    assert_eq!(rows[0], HEADERS);
    assert_eq!(rows.len(), 3);
    assert_eq!((rows[1][1].as_str(), rows[2][1].as_str()), ("de", "ou"));
    assert_eq!(sheets[1].1.len(), 17, "one help line per column");
    let (status, report) = admin.excel("?dry_run=true", bytes).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [2, 0, 0, 0, 0, 0]),
        "{report}"
    );
}

fn rows<'a>(data: &[[&'a str; 2]]) -> Vec<Vec<&'a str>> {
    data.iter().map(|r| r.to_vec()).collect()
}

#[tokio::test]
async fn the_mappings_sheet_is_read_else_the_first_with_a_value() {
    let admin = spawn().await;
    // The original's export: an empty Sheet1 first, the data on "Mappings".
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.add_worksheet().set_name("Sheet1").unwrap();
    workbook
        .add_worksheet()
        .set_name("Notes")
        .unwrap()
        .write_string(0, 0, "not mappings")
        .unwrap();
    let sheet = workbook.add_worksheet().set_name("mappings").unwrap();
    for (r, row) in [["code", "dataelement"], ["A", MAL_CONF]]
        .iter()
        .enumerate()
    {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    let (status, report) = admin.excel("", workbook.save_to_buffer().unwrap()).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [1, 0, 0, 0, 0, 0]),
        "{report}"
    );

    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.add_worksheet().set_name("Empty").unwrap();
    let sheet = workbook.add_worksheet().set_name("Data").unwrap();
    // Data may start anywhere: the first row with a value is the header.
    sheet.write_string(3, 2, "Code").unwrap();
    sheet.write_string(3, 3, "DataElement").unwrap();
    sheet.write_string(4, 2, "B").unwrap();
    sheet.write_string(4, 3, MAL_SUSP).unwrap();
    sheet.write_number(5, 2, 1234.0).unwrap();
    sheet.write_string(5, 3, MAL_SUSP).unwrap();
    let (status, report) = admin.excel("", workbook.save_to_buffer().unwrap()).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [2, 0, 0, 0, 0, 0]),
        "{report}"
    );
    let (_, page) = admin.get("/api/v2/mappings?code=1234").await;
    assert_eq!(
        page["total"], 1,
        "a number typed in a code cell reads as its digits"
    );

    let (status, body) = admin.excel("", xlsx("Mappings", &[])).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("empty"), "{body}");
}

#[tokio::test]
async fn ods_and_xls_spreadsheets_are_read() {
    let admin = spawn().await;
    let data = rows(&[
        ["code", "dataelement"],
        ["ODS_A", MAL_CONF],
        ["", ""],
        ["ODS_B", MAL_SUSP],
    ]);
    let (status, report) = admin
        .upload("excel", "", "m.ods", sheets::ods("Mappings", &data))
        .await;
    assert_eq!(
        (status, counts(&report)),
        (200, [2, 0, 0, 0, 0, 0]),
        "{report}"
    );

    let data = rows(&[
        ["Code", "DataElement"],
        ["XLS_A", MAL_CONF],
        ["XLS_B", "bad"],
    ]);
    let (status, body) = admin
        .upload("excel", "", "m.xls", sheets::xls("Sheet1", &data, &[]))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["report"]["errors"][0]["row"], 3,
        "rows numbered as Excel shows them"
    );
    let data = rows(&[
        ["Code", "DataElement"],
        ["XLS_A", MAL_CONF],
        ["XLS_B", MAL_SUSP],
    ]);
    let (status, report) = admin
        .upload("excel", "", "m.xls", sheets::xls("Sheet1", &data, &[]))
        .await;
    assert_eq!(
        (status, counts(&report)),
        (200, [2, 0, 0, 0, 0, 0]),
        "{report}"
    );
    assert_eq!(admin.all().await.len(), 4);
}

#[tokio::test]
async fn files_that_are_no_spreadsheet_are_refused() {
    let admin = spawn().await;
    for (bytes, expect) in [
        (b"PK\x03\x04 broken".to_vec(), "cannot be read"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 broken".to_vec(),
            "cannot be read",
        ),
        (vec![0u8, 1, 2, 3, 200, 201], "not an Excel"),
        (Vec::new(), "empty"),
    ] {
        let (status, body) = admin.upload("excel", "", "x.xlsx", bytes).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"].as_str().unwrap().contains(expect), "{body}");
    }
}
