//! Uploads too big to read are refused with 413 before they cost memory: too many rows, a zip
//! bomb, repeated ODS rows, an .xls whose cells span a huge rectangle, a body over the limit.

use std::time::Instant;

use super::common::{MAL_CONF, counts, spawn_with};
use super::sheets;

const MAX_ROWS: usize = 1000;

fn csv_rows(n: usize) -> String {
    let mut text = String::from("code,dataelement\n");
    for i in 0..n {
        text.push_str(&format!("K{i},{MAL_CONF}\n"));
    }
    text
}

#[tokio::test]
async fn a_sheet_with_more_rows_than_allowed_is_refused() {
    let admin = spawn_with(|s| s.api.mapping_import_max_rows = MAX_ROWS).await;
    let (status, report) = admin.csv("?dry_run=true", &csv_rows(MAX_ROWS)).await;
    assert_eq!(
        (status, counts(&report)[0]),
        (200, MAX_ROWS as u64),
        "{report}"
    );

    let (status, body) = admin.csv("", &csv_rows(MAX_ROWS + 1)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "payload_too_large");
    assert!(
        body["error"].as_str().unwrap().contains("1000 rows"),
        "{body}"
    );

    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "code").unwrap();
    sheet.write_string(0, 1, "dataelement").unwrap();
    for r in 1..=(MAX_ROWS as u32 + 1) {
        sheet.write_string(r, 0, format!("K{r}")).unwrap();
        sheet.write_string(r, 1, MAL_CONF).unwrap();
    }
    let (status, body) = admin.excel("", workbook.save_to_buffer().unwrap()).await;
    assert_eq!(status, 413, "{body}");
    assert!(admin.all().await.is_empty());
}

#[tokio::test]
async fn the_default_limit_refuses_a_hundred_thousand_and_one_rows_quickly() {
    let admin = spawn_with(|s| s.http.body_limit_bytes = 8 << 20).await;
    let started = Instant::now();
    let (status, body) = admin.csv("", &csv_rows(100_001)).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_xlsx_zip_bomb_is_refused() {
    let admin = spawn_with(|s| s.api.mapping_import_max_unpacked_bytes = 4 << 20).await;
    let sheet = super::common::xlsx(
        "Mappings",
        &[vec!["code", "dataelement"], vec!["A", MAL_CONF]],
    );
    let (status, report) = admin.excel("?dry_run=true", sheet.clone()).await;
    assert_eq!(status, 200, "{report}");
    // 8 parts of 1 MiB of zeros, each a few KiB deflated: 8 MiB unpacked.
    let bomb = sheets::with_zero_part(&sheet, 8, 1 << 20);
    assert!(bomb.len() < 100 << 10, "{} bytes", bomb.len());
    let (status, body) = admin.excel("", bomb).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("unpacks"),
        "{body}"
    );
}

#[tokio::test]
async fn an_ods_with_a_million_repeated_rows_is_refused() {
    let admin = spawn_with(|s| s.api.mapping_import_max_rows = MAX_ROWS).await;
    let rows = format!(
        r#"<table:table-row><table:table-cell office:value-type="string"><text:p>code</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>dataelement</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="string"><text:p>A</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>{MAL_CONF}</text:p></table:table-cell></table:table-row>"#
    );
    let bytes = sheets::ods_with_rows("Mappings", &rows);
    assert!(bytes.len() < 2000);
    let (status, body) = admin.upload("excel", "", "m.ods", bytes).await;
    assert_eq!(status, 413, "{body}");
}

#[tokio::test]
async fn an_xls_whose_cells_span_a_huge_rectangle_is_refused() {
    let admin = spawn_with(|s| s.api.mapping_import_max_rows = MAX_ROWS).await;
    let header = vec![vec!["code", "dataelement"]];
    for extra in [
        vec![sheets::xls_number(65_535, 255)],
        vec![sheets::xls_dimensions(4_000_000_000, 65_000)],
    ] {
        let (status, body) = admin
            .upload("excel", "", "m.xls", sheets::xls("Sheet1", &header, &extra))
            .await;
        assert_eq!(status, 413, "{body}");
    }
}

#[tokio::test]
async fn a_body_over_the_http_limit_is_refused() {
    let admin = spawn_with(|s| s.http.body_limit_bytes = 64 << 10).await;
    let (status, body) = admin.csv("", &csv_rows(5000)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "payload_too_large");
}
