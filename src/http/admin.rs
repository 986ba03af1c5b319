//! The browser console at `/admin`: its embedded files (see [`assets`]) and its session
//! (login, who am I, logout). The pages themselves call the same `/api/v2` routes as every
//! integrator, authenticated by the session cookie (see [`cookie`]), so the role policy of
//! `http/policy.rs` holds for the console exactly as for the API.
//!
//! Every response here carries a strict Content-Security-Policy: scripts, styles, images and
//! requests from this origin only, no inline script or style, no framing.

pub mod assets;
pub mod cookie;

use chrono::{DateTime, Utc};
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Json, Path};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler, post};
use serde::{Deserialize, Serialize};

use crate::auth::console_session;
use crate::http::ApiError;
use crate::http::auth::client_ip;
use crate::state::AppState;

/// The Content-Security-Policy of every console response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The routes under `/admin` (nested there by `http::routes`).
pub fn routes(state: &AppState) -> impl Endpoint<Output = Response> + use<> {
    Route::new()
        .at("/", get(index))
        .at("/auth/session", get(current_session))
        .at("/auth/login", post(log_in))
        .at("/auth/logout", post(log_out))
        .at("/static/:version/*path", get(static_file))
        // Deep links (`/admin/submissions?status=failed`) load the page, which routes itself.
        .at("/*page", get(index))
        .data(state.clone())
        .around(|ep, req| async move {
            let resp = ep.call(req).await?.into_response();
            Ok(with_security_headers(resp))
        })
}

fn with_security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    let set = |h: &mut poem::http::HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    resp
}

#[handler]
fn index() -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(assets::index_html())
}

#[handler]
fn static_file(Path((version, path)): Path<(String, String)>) -> Response {
    let Some(asset) = assets::find(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // An old version's URL gets today's file, not cached: a page loaded before an upgrade
    // keeps working until it is reloaded.
    let cache = if version == assets::version() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Response::builder()
        .content_type(asset.content_type)
        .header(header::CACHE_CONTROL, cache)
        .body(asset.body)
}

/// Username and password. (No `Debug`: it would print the password.)
#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

/// The signed-in user as the console sees it.
#[derive(Serialize)]
struct SessionView {
    uid: String,
    username: String,
    role: &'static str,
    /// Send it back in `X-CSRF-Token` on every write.
    csrf_token: String,
    expires_at: DateTime<Utc>,
}

/// Refuses a console login or logout posted from a page of another origin: the browser always
/// sends `Origin` on a POST, and only a page of this origin sends this host in it.
fn same_origin(req: &Request) -> Result<(), ApiError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    if host.is_some() && origin_host == host {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "console logins are accepted only from the console's own pages",
        ))
    }
}

#[handler]
async fn log_in(
    req: &Request,
    Data(state): Data<&AppState>,
    body: poem::Result<Json<LoginBody>>,
) -> Result<Response, ApiError> {
    same_origin(req)?;
    // Json requires `Content-Type: application/json`, which a cross-site form cannot send.
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.to_string(), vec![]))?;
    let settings = state.settings();
    let session = console_session::login(
        state.db(),
        &settings.auth,
        &body.username,
        &body.password,
        client_ip(req),
    )
    .await?;
    let max_age = (session.expires_at - Utc::now()).num_seconds().max(1);
    let cookie = cookie::set_cookie(req, &session.session_token, max_age);
    let view = SessionView {
        uid: session.principal.uid,
        username: session.principal.username,
        role: session.principal.role.as_str(),
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    };
    Ok(cookie::with_cookie(
        Json(view).with_header(header::CACHE_CONTROL, "no-store"),
        cookie,
    ))
}

#[handler]
async fn current_session(
    req: &Request,
    Data(state): Data<&AppState>,
) -> Result<Response, ApiError> {
    let Some(token) = cookie::session_token(req) else {
        return Err(cookie::unauthorized("not logged in"));
    };
    let session = match console_session::resolve(state.db(), &token).await {
        Ok(s) => s,
        Err(crate::auth::AuthError::InvalidToken | crate::auth::AuthError::Inactive) => {
            // Clear a cookie that no longer opens anything.
            let resp = cookie::unauthorized("the console session has ended; log in again");
            return Ok(cookie::with_cookie(resp, cookie::set_cookie(req, "", 0)));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Json(SessionView {
        uid: session.principal.uid,
        username: session.principal.username,
        role: session.principal.role.as_str(),
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    })
    .with_header(header::CACHE_CONTROL, "no-store")
    .into_response())
}

#[handler]
async fn log_out(req: &Request, Data(state): Data<&AppState>) -> Result<Response, ApiError> {
    same_origin(req)?;
    if let Some(token) = cookie::session_token(req) {
        // Only the console's own page can end its session.
        cookie::authenticate(state, req, &token).await?;
        console_session::logout(state.db(), &token).await?;
    }
    Ok(cookie::with_cookie(
        StatusCode::NO_CONTENT,
        cookie::set_cookie(req, "", 0),
    ))
}
