//! Authentication and authorization at the HTTP edge, in one place.
//!
//! [`guard`] runs around every request: under `/api/v2` it looks the route up in
//! [`policy`](crate::http::policy) (deny by default), authenticates the `Authorization` header
//! (Basic, Bearer JWT or `Token <hex>`; without one, the console's session cookie) and checks
//! the role, before any handler runs. Handlers that need the caller take `auth: ApiAuth`, which
//! also puts the four security schemes in the OpenAPI document.

use std::net::IpAddr;
use std::sync::Arc;

use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, RequestBody, Response};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::auth::{self, Credentials, Principal};
use crate::http::ApiError;
use crate::http::policy::{self, Access};
use crate::state::AppState;

/// The authenticated caller of a protected route. Take it as a handler argument
/// (`auth: ApiAuth`); [`guard`] has already checked the role against the policy table.
#[derive(Debug, Clone)]
pub struct ApiAuth(pub Principal);

pub const BASIC_SCHEME: &str = "BasicAuth";
pub const BEARER_SCHEME: &str = "BearerAuth";
pub const TOKEN_SCHEME: &str = "TokenAuth";
pub const COOKIE_SCHEME: &str = "CookieAuth";

impl<'a> ApiExtractor<'a> for ApiAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        let scheme = |ty, scheme, name, key_in, bearer_format, description| MetaSecurityScheme {
            ty,
            description: Some(description),
            name,
            key_in,
            scheme,
            bearer_format,
            flows: None,
            openid_connect_url: None,
        };
        registry.create_security_scheme(
            BASIC_SCHEME,
            scheme(
                "http",
                Some("basic"),
                None,
                None,
                None,
                "`Authorization: Basic base64(username:password)`.",
            ),
        );
        registry.create_security_scheme(
            BEARER_SCHEME,
            scheme(
                "http",
                Some("bearer"),
                None,
                None,
                Some("JWT"),
                "`Authorization: Bearer <access_token>` from POST /api/v2/auth/login (HS256, short-lived).",
            ),
        );
        registry.create_security_scheme(
            TOKEN_SCHEME,
            scheme(
                "apiKey",
                None,
                Some("Authorization"),
                Some("header"),
                None,
                "`Authorization: Token <40 hex characters>` from POST /api/v2/users/getToken.",
            ),
        );
        registry.create_security_scheme(
            COOKIE_SCHEME,
            scheme(
                "apiKey",
                None,
                Some("dhis2gw_session"),
                Some("cookie"),
                None,
                "The browser console's session cookie (POST /admin/auth/login); every write also \
                 needs the session's `X-CSRF-Token` header.",
            ),
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![BASIC_SCHEME, BEARER_SCHEME, TOKEN_SCHEME, COOKIE_SCHEME]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        // Only `guard` puts a principal there; a handler outside /api/v2 gets no caller.
        req.extensions()
            .get::<Principal>()
            .cloned()
            .map(ApiAuth)
            .ok_or_else(|| {
                poem::Error::from_response(
                    ApiError::unauthorized("authentication required").into_response(),
                )
            })
    }
}

/// The client address the login throttle counts failures against.
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    req.remote_addr().as_socket_addr().map(|a| a.ip())
}

/// Authenticates the request's `Authorization` header.
pub async fn authenticate(state: &AppState, req: &Request) -> Result<Principal, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}invalid"));
    // The console's session cookie, only when no `Authorization` header is given (see
    // http/admin/cookie.rs: writes also need its CSRF token).
    if header.is_none()
        && let Some(token) = crate::http::admin::cookie::session_token(req)
    {
        return crate::http::admin::cookie::authenticate(state, req, &token).await;
    }
    let credentials = Credentials::parse(header)?;
    let settings = state.settings();
    Ok(auth::authenticate(
        state.db(),
        state.auth_cache(),
        &settings.auth,
        &credentials,
        client_ip(req),
    )
    .await?)
}

/// The policy check around every request (see the module docs), after refusing headers over
/// [`MAX_HEADER_BYTES`](crate::http::error::MAX_HEADER_BYTES) with 431. Answers 401/403/503 itself
/// so the JSON body and headers reach the client unchanged.
pub async fn guard<E: Endpoint>(
    state: AppState,
    ep: Arc<E>,
    mut req: Request,
) -> poem::Result<Response> {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > crate::http::error::MAX_HEADER_BYTES {
        return Ok(ApiError::HeadersTooLarge(poem_openapi::payload::Json(
            crate::http::error::ErrorBody::new(
                "headers_too_large",
                format!(
                    "the request's headers exceed {} bytes",
                    crate::http::error::MAX_HEADER_BYTES
                ),
            ),
        ))
        .into_response());
    }
    let path = req.uri().path().to_owned();
    if !policy::is_guarded(&path) {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let method = req.method().as_str().to_owned();
    let Some(rule) = policy::decide(&method, &path) else {
        if policy::path_known(&path) {
            // A route that exists, with a method it does not have (TRACE, …): 405, and the
            // `Allow` header is added by `http::allow` from the OpenAPI document.
            return Ok(crate::http::allow::method_not_allowed());
        }
        tracing::warn!(%method, %path, "no role decision for this route: denied");
        return Ok(
            ApiError::forbidden(format!("{method} {path} is not open to any role")).into_response(),
        );
    };
    if let Access::Roles(_) = rule.access {
        let principal = match authenticate(&state, &req).await {
            Ok(p) => p,
            Err(e) => return Ok(e.into_response()),
        };
        if !rule.access.allows(principal.role) {
            tracing::info!(user_uid = %principal.uid, role = principal.role.as_str(), %method, route = rule.path, "forbidden by role");
            return Ok(ApiError::forbidden(format!(
                "the {} role may not call {method} {}",
                principal.role.as_str(),
                rule.path
            ))
            .into_response());
        }
        req.extensions_mut().insert(principal);
    }
    ep.call(req).await.map(IntoResponse::into_response)
}
