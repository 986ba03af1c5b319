//! Alert rules as data: the API (CRUD, roles, every validation error naming its field), the CSV
//! import (the original's `alert_conditions.csv` as is, row-numbered errors, all or nothing) and
//! its round-tripping export, and `dhis2gw alert-rules` with the original's rule lists.

mod api;
mod cli;
mod csv;

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::Value;

use crate::support::TestApp;
use crate::support::users::{TestUser, create_user};

/// The anthrax data element the original hard-codes, and districts of the fixtures.
pub const ANTHRAX: &str = "zBFmdwpO2LZ";
pub const MEASLES: &str = "DJZWhsgbmYU";
pub const DISTRICT: &str = "Rp268JB6Ne4";

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/alerts/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The app with an admin (and, made on demand, users of the other roles).
pub struct Rules {
    pub app: TestApp,
    pub admin: TestUser,
}

pub async fn spawn() -> Rules {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    Rules { app, admin }
}

impl Rules {
    /// A JSON call as `user`; the status and the body (Null when empty).
    pub async fn call_as(
        &self,
        user: &TestUser,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.app.request(method, path).auth(user.basic());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(&self.admin, method, path, body).await
    }

    /// Uploads `bytes` as the multipart field `file` to `/api/v2/alert-rules/import/csv<query>`.
    pub async fn upload(&self, query: &str, bytes: &[u8]) -> (u16, Value) {
        let (content_type, body) = multipart("file", "alert_conditions.csv", bytes);
        let response = self
            .app
            .request(
                Method::POST,
                &format!("/api/v2/alert-rules/import/csv{query}"),
            )
            .auth(self.admin.basic())
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
        )
    }

    /// Every rule, as the list shows them.
    pub async fn all(&self) -> Vec<Value> {
        let (status, list) = self.call(Method::GET, "/api/v2/alert-rules", None).await;
        assert_eq!(status, 200, "{list}");
        list["items"].as_array().unwrap().clone()
    }

    /// The export, as bytes.
    pub async fn export(&self) -> Vec<u8> {
        let response = self
            .app
            .request(Method::GET, "/api/v2/alert-rules/export/csv")
            .auth(self.admin.basic())
            .send()
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        response.bytes().await.unwrap().to_vec()
    }
}

/// The rule of this data element and method among `rules`.
pub fn find<'a>(rules: &'a [Value], data_element: &str, rule_type: &str) -> &'a Value {
    rules
        .iter()
        .find(|r| r["data_element"] == data_element && r["rule_type"] == rule_type)
        .unwrap_or_else(|| panic!("no {rule_type} rule of {data_element} in {rules:#?}"))
}

/// A `multipart/form-data` body with one file field: (content type, body).
pub fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("b{}", uuid::Uuid::new_v4().simple());
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
