//! The one way the tests send a request to dhis2gw, in-process ([`TestApp::request`]) or as a
//! process ([`Daemon::request`]): `app.request(Method::POST, "/api/v2/…").auth(&header)
//! .json(&body)`, then `.send()` for the response or `.status_and_json()` for its status and
//! JSON body.
//!
//! [`TestApp::request`]: super::TestApp::request
//! [`Daemon::request`]: super::process::Daemon::request

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

/// A request on its way to dhis2gw.
pub struct ApiRequest(reqwest::RequestBuilder);

impl ApiRequest {
    /// `method` on `base` (`http://127.0.0.1:<port>`) + `path`, through `client`.
    pub fn new(client: &reqwest::Client, base: &str, method: Method, path: &str) -> ApiRequest {
        ApiRequest(client.request(method, format!("{base}{path}")))
    }

    /// Authenticates with this `Authorization` value (`Basic …`, `Token …`, `Bearer …`).
    pub fn auth(self, authorization: impl AsRef<str>) -> ApiRequest {
        self.header("Authorization", authorization)
    }

    /// Authenticates when given a value; anonymous otherwise.
    pub fn auth_if(self, authorization: Option<&str>) -> ApiRequest {
        match authorization {
            Some(value) => self.auth(value),
            None => self,
        }
    }

    pub fn json(self, body: &Value) -> ApiRequest {
        ApiRequest(self.0.json(body))
    }

    pub fn header(self, name: &str, value: impl AsRef<str>) -> ApiRequest {
        ApiRequest(self.0.header(name, value.as_ref()))
    }

    /// A raw body (set its `Content-Type` with [`ApiRequest::header`]).
    pub fn body(self, body: impl Into<reqwest::Body>) -> ApiRequest {
        ApiRequest(self.0.body(body))
    }

    pub fn timeout(self, timeout: Duration) -> ApiRequest {
        ApiRequest(self.0.timeout(timeout))
    }

    pub async fn send(self) -> reqwest::Response {
        self.try_send().await.expect("request to dhis2gw")
    }

    /// Sends; a connection that fails is the caller's to judge (tests of outages).
    pub async fn try_send(self) -> reqwest::Result<reqwest::Response> {
        self.0.send().await
    }

    /// Sends; returns the status and the JSON body (Null when empty).
    pub async fn status_and_json(self) -> (u16, Value) {
        status_and_json(self.send().await).await
    }
}

/// The status and JSON body of a response (Null when empty); panics on a body that is not JSON.
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("response body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (status, body)
}
