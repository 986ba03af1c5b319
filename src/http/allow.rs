//! `Allow` on every 405 (RFC 9110 §15.5.6): the methods the OpenAPI document lists for the
//! request's path, so a client sent an undeclared method (TRACE, PATCH, …) learns which ones
//! the route has.

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::payload::Json;

use crate::http::ErrorBody;

/// The 405 the policy answers for a known `/api/v2` path with a method it does not have.
pub fn method_not_allowed() -> Response {
    Json(ErrorBody::new("method_not_allowed", "method not allowed"))
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
        .into_response()
}

/// Path templates of the OpenAPI document with their methods.
#[derive(Debug, Default)]
pub struct AllowTable {
    routes: Vec<(Vec<String>, String)>,
}

impl AllowTable {
    /// Reads `paths` of an OpenAPI document (JSON).
    pub fn from_spec(spec: &str) -> Self {
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(spec) else {
            return AllowTable::default();
        };
        let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) else {
            return AllowTable::default();
        };
        let routes = paths
            .iter()
            .filter_map(|(template, item)| {
                let mut methods: Vec<String> = item
                    .as_object()?
                    .keys()
                    .filter(|m| {
                        matches!(
                            m.as_str(),
                            "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                        )
                    })
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
                    // poem answers HEAD wherever it answers GET.
                    methods.push("HEAD".to_owned());
                }
                methods.sort();
                let segments = template.split('/').map(str::to_owned).collect();
                Some((segments, methods.join(", ")))
            })
            .collect();
        AllowTable { routes }
    }

    /// The `Allow` value for a concrete path: that of the most literal template that fits.
    pub fn allowed(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .filter_map(|(template, methods)| {
                if template.len() != parts.len() {
                    return None;
                }
                let mut literal = 0usize;
                for (t, p) in template.iter().zip(&parts) {
                    if t.starts_with('{') && t.ends_with('}') {
                        if p.is_empty() {
                            return None;
                        }
                    } else if t == p {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, methods.as_str()))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, methods)| methods)
    }
}

/// Adds `Allow` to a 405 that lacks it.
pub async fn add_allow<E: Endpoint<Output = Response>>(
    table: Arc<AllowTable>,
    ep: Arc<E>,
    req: Request,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = ep.call(req).await?;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(header::ALLOW)
        && let Some(methods) = table.allowed(&path)
        && let Ok(value) = HeaderValue::from_str(methods)
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_literal_template_gives_the_methods() {
        let table = AllowTable::from_spec(
            r#"{"paths":{"/api/v2/logs/{id}":{"get":{},"delete":{}},
                "/api/v2/logs/purge":{"delete":{}},"/health":{"get":{}}}}"#,
        );
        assert_eq!(table.allowed("/api/v2/logs/purge"), Some("DELETE"));
        assert_eq!(table.allowed("/api/v2/logs/17"), Some("DELETE, GET, HEAD"));
        assert_eq!(table.allowed("/health"), Some("GET, HEAD"));
        assert_eq!(table.allowed("/nowhere"), None);
    }
}
