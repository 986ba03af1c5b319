//! A buffered incoming request with the `/api[/NN]` prefix already understood, plus the
//! per-request context (authenticated user, emulated version) handlers receive.

use std::net::SocketAddr;

use poem::http::{HeaderMap, Method};

use super::seed::User;
use super::state::SimState;
use super::version::Dhis2Version;

pub struct ApiRequest {
    pub method: Method,
    /// The raw path, e.g. `/api/40/dataValueSets.json`.
    pub path: String,
    pub query: Option<String>,
    pub params: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub remote: Option<SocketAddr>,
    /// Path segments after `/api` and the optional version, `.json` stripped from the last one.
    /// `None` when the path is not under `/api`.
    pub segments: Option<Vec<String>>,
    /// The `NN` of `/api/NN/...`.
    pub path_version: Option<u32>,
}

impl ApiRequest {
    pub fn new(
        method: Method,
        path: String,
        query: Option<String>,
        headers: HeaderMap,
        body: Vec<u8>,
        remote: Option<SocketAddr>,
    ) -> Self {
        let params = query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let (path_version, segments) = match split_api_path(&path) {
            Some((version, segments)) => (version, Some(segments)),
            None => (None, None),
        };
        Self {
            method,
            path,
            query,
            params,
            headers,
            body,
            remote,
            segments,
            path_version,
        }
    }

    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable query parameter (`filter=a&filter=b`).
    pub fn params_all(&self, name: &str) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean query parameter as Spring binds it (`true`, case-insensitive).
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.param(name).map(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn segments(&self) -> Vec<&str> {
        self.segments
            .as_ref()
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// `/api/40/system/info.json` → `(Some(40), ["system", "info"])`; `None` outside `/api`.
fn split_api_path(path: &str) -> Option<(Option<u32>, Vec<String>)> {
    let rest = path.strip_prefix("/api")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let mut segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut version = None;
    if let Some(first) = segments.first()
        && first.len() == 2
        && let Ok(number) = first.parse::<u32>()
    {
        version = Some(number);
        segments.remove(0);
    }
    if let Some(last) = segments.last_mut()
        && let Some(stripped) = last.strip_suffix(".json")
    {
        *last = stripped.to_owned();
    }
    Some((version, segments))
}

/// What a handler gets: the shared state, the request, the caller and the version in force.
pub struct Ctx<'a> {
    pub state: &'a SimState,
    pub req: &'a ApiRequest,
    pub user: &'a User,
    pub version: Dhis2Version,
}

impl Ctx<'_> {
    /// The API version the request asked for: the path's `/api/NN`, else the server's own.
    pub fn api_version(&self) -> u32 {
        self.req.path_version.unwrap_or(self.version.minor())
    }

    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }
}

#[cfg(test)]
mod tests {
    use super::split_api_path;

    #[test]
    fn splits_versioned_and_suffixed_paths() {
        assert_eq!(
            split_api_path("/api/37/dataValueSets.json"),
            Some((Some(37), vec!["dataValueSets".to_owned()]))
        );
        assert_eq!(
            split_api_path("/api/system/info"),
            Some((None, vec!["system".to_owned(), "info".to_owned()]))
        );
        assert_eq!(split_api_path("/apix/foo"), None);
        assert_eq!(split_api_path("/dhis-web-login"), None);
    }
}
