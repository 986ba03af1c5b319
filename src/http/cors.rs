//! CORS for browsers on other origins (`http.cors_origins`, `http.cors_allow_credentials`),
//! with poem's [`Cors`]. Empty list: no CORS at all (no `Access-Control-*` header; browsers keep
//! other sites out). `*`: any origin, never with credentials (a config with both is refused at
//! load, since browsers ignore `Access-Control-Allow-Credentials` with a wildcard and echoing
//! every origin with credentials would hand the API to any site). A request whose `Origin` is
//! the server's own (the console's writes carry one) is never subject to the list. A refused
//! origin gets 403 before any handler runs.

use std::sync::Arc;

use poem::http::{HeaderName, Method, header};
use poem::middleware::{Cors, CorsEndpoint};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::config::HttpSettings;

/// How long a browser may cache a preflight answer (the original's 12 hours).
const MAX_AGE_SECS: i32 = 12 * 3600;

/// Checks the CORS keys: every origin is `*` or `scheme://host[:port]`, and `*` has no
/// credentials.
pub fn check_origins(http: &HttpSettings) -> Result<(), String> {
    for origin in &http.cors_origins {
        if origin == "*" {
            if http.cors_allow_credentials {
                return Err(
                    "the origin * cannot be combined with http.cors_allow_credentials: true; \
                            list the origins that need credentials instead"
                        .into(),
                );
            }
            continue;
        }
        let fits = url::Url::parse(origin).ok().is_some_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.path() == "/"
                && u.query().is_none()
                && u.fragment().is_none()
                && u.username().is_empty()
                && !origin.ends_with('/')
        });
        if !fits {
            return Err(format!(
                "{origin:?} is not an origin: write scheme://host[:port] (no path, no trailing /), or *"
            ));
        }
    }
    Ok(())
}

/// The middleware: CORS for cross-origin requests when origins are configured.
pub struct CrossOrigin {
    cors: Option<Cors>,
}

impl CrossOrigin {
    pub fn new(http: &HttpSettings) -> CrossOrigin {
        if http.cors_origins.is_empty() {
            return CrossOrigin { cors: None };
        }
        let mut cors = Cors::new()
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                HeaderName::from_static("idempotent-replayed"),
                header::RETRY_AFTER,
                header::CONTENT_DISPOSITION,
            ])
            .max_age(MAX_AGE_SECS);
        if http.cors_origins.iter().any(|o| o == "*") {
            // No origin listed: poem allows every origin.
            cors = cors.allow_credentials(false);
        } else {
            cors = cors
                .allow_origins(http.cors_origins.iter().map(String::as_str))
                .allow_credentials(http.cors_allow_credentials);
        }
        CrossOrigin { cors: Some(cors) }
    }
}

impl<E: Endpoint> Middleware<E> for CrossOrigin {
    type Output = CrossOriginEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        let plain = Arc::new(ep);
        CrossOriginEndpoint {
            cors: self.cors.as_ref().map(|c| c.transform(plain.clone())),
            plain,
        }
    }
}

pub struct CrossOriginEndpoint<E> {
    plain: Arc<E>,
    cors: Option<CorsEndpoint<Arc<E>>>,
}

/// Whether the request comes from a page of another origin than this server's.
fn cross_origin(req: &Request) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return false;
    };
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return true;
    };
    let origin = origin.to_str().unwrap_or("");
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority != Some(host)
}

impl<E: Endpoint> Endpoint for CrossOriginEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        match &self.cors {
            Some(cors) if cross_origin(&req) => cors.call(req).await,
            _ => self.plain.call(req).await.map(IntoResponse::into_response),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(origins: &[&str], credentials: bool) -> HttpSettings {
        let mut http = crate::config::Settings::defaults().http;
        http.cors_origins = origins.iter().map(|s| s.to_string()).collect();
        http.cors_allow_credentials = credentials;
        http
    }

    #[test]
    fn origins_are_checked() {
        assert!(check_origins(&http(&[], true)).is_ok());
        assert!(check_origins(&http(&["*"], false)).is_ok());
        assert!(check_origins(&http(&["https://a.example", "http://b:8080"], true)).is_ok());
        assert!(check_origins(&http(&["*"], true)).is_err());
        for bad in [
            "a.example",
            "https://a.example/",
            "https://a.example/x",
            "ftp://a",
        ] {
            assert!(check_origins(&http(&[bad], false)).is_err(), "{bad}");
        }
    }
}
