//! Helpers of the mappings tests: the app with an admin, uploads, downloads, and spreadsheets
//! built in memory.

use dhis2gw::auth::Role;
use dhis2gw::config::Settings;
use serde_json::Value;

use crate::support::http::ApiRequest;
use crate::support::users::{TestUser, create_user};
use crate::support::{TestApp, test_settings};

pub struct Admin {
    pub app: TestApp,
    pub user: TestUser,
}

pub async fn spawn() -> Admin {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Admin {
    let mut settings = test_settings().await;
    tweak(&mut settings);
    let app = TestApp::spawn_with(settings).await;
    let user = create_user(&app, Role::Admin).await;
    Admin { app, user }
}

impl Admin {
    /// A request as the admin.
    pub fn request(&self, method: reqwest::Method, path: &str) -> ApiRequest {
        self.app.request(method, path).auth(self.user.basic())
    }

    /// A JSON call; returns the status and the body (Null when empty).
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.status_and_json().await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.json(reqwest::Method::GET, path, None).await
    }

    /// Uploads `bytes` as the multipart field `file` to `/api/v2/mappings/import/<kind><query>`.
    pub async fn upload(
        &self,
        kind: &str,
        query: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let (content_type, body) = multipart("file", file_name, &bytes);
        self.request(
            reqwest::Method::POST,
            &format!("/api/v2/mappings/import/{kind}{query}"),
        )
        .header("Content-Type", content_type)
        .body(body)
        .status_and_json()
        .await
    }

    pub async fn csv(&self, query: &str, text: &str) -> (u16, Value) {
        self.upload("csv", query, "mappings.csv", text.as_bytes().to_vec())
            .await
    }

    pub async fn excel(&self, query: &str, bytes: Vec<u8>) -> (u16, Value) {
        self.upload("excel", query, "mappings.xlsx", bytes).await
    }

    /// Downloads a file; asserts 200 and returns the content type and bytes.
    pub async fn download(&self, path: &str) -> (String, Vec<u8>) {
        let response = self.request(reqwest::Method::GET, path).send().await;
        assert_eq!(response.status(), 200, "GET {path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename="),
            "{disposition}"
        );
        (content_type, response.bytes().await.unwrap().to_vec())
    }

    /// Every mapping, as the list API shows them (up to 1000).
    pub async fn all(&self) -> Vec<Value> {
        let (status, page) = self.get("/api/v2/mappings?page_size=1000").await;
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().clone()
    }
}

/// A `multipart/form-data` body with one file field: (content type, body).
pub fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("b{}", uuid::Uuid::new_v4().simple());
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The import counts of a report, in the order inserted, updated, unchanged, skipped, deleted,
/// invalid.
pub fn counts(report: &Value) -> [u64; 6] {
    [
        "inserted",
        "updated",
        "unchanged",
        "skipped",
        "deleted",
        "invalid",
    ]
    .map(|k| {
        report[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no {k} in {report}"))
    })
}

/// An .xlsx with one sheet of text cells.
pub fn xlsx(sheet_name: &str, rows: &[Vec<&str>]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// Kalanda (the simulator's seed) UIDs.
pub const MAL_CONF: &str = "rPRf4cXHEIx";
pub const MAL_SUSP: &str = "gLEO1XbX0ii";
pub const COC_F_LT5: &str = "uEnSlE7fIwv";
pub const DEFAULT_COC: &str = "HllvX50cXC0";
pub const MAL_DATA_SET: &str = "S6zKJrYKAzR";
pub const FACILITY: &str = "KFZHpp8BEUA";

/// A CSV of the original's 13 columns with a few data-element and org-unit rows.
pub fn sample_csv() -> String {
    format!(
        "code,what,name,description,dataset,dataelement,category_option_combo,category_option,category_combo,instance_name,source_name,source_orgunit,destination_orgunit\n\
         MAL_CONF_F,de,Malaria confirmed F<5,\"quoted, with comma\",{MAL_DATA_SET},{MAL_CONF},{COC_F_LT5},,,default,default,,\n\
         MAL_SUSP,de,Malaria suspected,,{MAL_DATA_SET},{MAL_SUSP},,,,default,default,,\n\
         ,ou,Moyamba CHC,,,,,,,default,default,FAC-001,{FACILITY}\n"
    )
}
