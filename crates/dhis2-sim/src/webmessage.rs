//! The DHIS2 `WebMessage` envelope, the shape of every error body and of most import answers.
//!
//! DHIS2 serialises with Jackson `NON_NULL`: absent optional fields are omitted, never `null`.

use poem::Response;
use poem::http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

/// `{"httpStatus","httpStatusCode","status","message","errorCode","response"}`.
#[derive(Debug, Clone)]
pub struct WebMessage {
    code: u16,
    status: &'static str,
    message: Option<String>,
    error_code: Option<String>,
    response: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl WebMessage {
    /// An `OK` message (2xx).
    pub fn ok(code: u16, message: impl Into<String>) -> Self {
        Self::new(code, "OK", Some(message.into()))
    }

    /// An `ERROR` message (4xx/5xx).
    pub fn error(code: u16, message: impl Into<String>) -> Self {
        Self::new(code, "ERROR", Some(message.into()))
    }

    /// A message with an explicit `status` (`OK` | `WARNING` | `ERROR`).
    pub fn with_status(code: u16, status: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, status, Some(message.into()))
    }

    fn new(code: u16, status: &'static str, message: Option<String>) -> Self {
        Self {
            code,
            status,
            message,
            error_code: None,
            response: None,
            headers: Vec::new(),
        }
    }

    pub fn error_code(mut self, code: impl Into<String>) -> Self {
        self.error_code = Some(code.into());
        self
    }

    pub fn response(mut self, response: Value) -> Self {
        self.response = Some(response);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("httpStatus".into(), json!(reason_phrase(self.code)));
        body.insert("httpStatusCode".into(), json!(self.code));
        body.insert("status".into(), json!(self.status));
        if let Some(message) = &self.message {
            body.insert("message".into(), json!(message));
        }
        if let Some(response) = &self.response {
            body.insert("response".into(), response.clone());
        }
        if let Some(error_code) = &self.error_code {
            body.insert("errorCode".into(), json!(error_code));
        }
        Value::Object(body)
    }

    pub fn into_response(self) -> Response {
        let mut response = json_response(self.code, &self.to_json());
        // WebMessageControllerAdvice marks every error answer as uncacheable.
        if self.code >= 400 {
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, private"),
            );
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// A JSON body with the given status, as Spring writes it.
pub fn json_response(code: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json;charset=UTF-8")
        .body(body.to_string())
}

/// Spring's `HttpStatus.getReasonPhrase()` for the codes a DHIS2 server answers with.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => StatusCode::from_u16(code)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown"),
    }
}
