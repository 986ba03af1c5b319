//! The poem endpoint: buffers and records each request, applies latency and faults, then
//! authenticates and dispatches it.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::{Endpoint, Request, Response};

use super::Received;
use super::auth;
use super::faults::{self, Fault};
use super::not_found;
use super::request::{ApiRequest, Ctx};
use super::routes;
use super::state::{SimState, lock};
use super::system;

/// What to do with the connection once the request is handled.
enum Outcome {
    Respond(Response),
    /// Close the connection without answering.
    Drop,
    /// Never answer (until the simulator shuts down).
    Hang,
}

pub struct SimApp {
    pub state: Arc<SimState>,
}

impl Endpoint for SimApp {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let latency = self.state.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let body = req.take_body().into_vec().await.unwrap_or_default();
        let api = ApiRequest::new(
            req.method().clone(),
            req.uri().path().to_owned(),
            req.uri().query().map(str::to_owned),
            req.headers().clone(),
            body,
            req.remote_addr().as_socket_addr().copied(),
        );
        let slot = self.record(&api);
        match self.handle(&api).await {
            Outcome::Respond(response) => {
                self.set_status(slot, response.status().as_u16());
                Ok(response)
            }
            Outcome::Drop => {
                if let Some(peer) = api.remote {
                    self.state.connections.kill(peer);
                }
                // Never written: the connection fails on its next write.
                Ok(Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .finish())
            }
            Outcome::Hang => {
                self.state.wait_for_shutdown().await;
                Ok(Response::builder()
                    .status(StatusCode::SERVICE_UNAVAILABLE)
                    .finish())
            }
        }
    }
}

impl SimApp {
    /// Appends the request with status 0 (= no response yet); returns its position.
    fn record(&self, req: &ApiRequest) -> usize {
        let headers = req
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut recorder = lock(&self.state.recorder);
        recorder.received.push(Received {
            method: req.method.to_string(),
            path: req.path.clone(),
            query: req.query.clone(),
            headers,
            body: req.body.clone(),
            status: 0,
        });
        recorder.received.len() - 1
    }

    fn set_status(&self, slot: usize, status: u16) {
        // The slot is gone if a test cleared the log meanwhile.
        if let Some(entry) = lock(&self.state.recorder).received.get_mut(slot) {
            entry.status = status;
        }
    }

    async fn handle(&self, req: &ApiRequest) -> Outcome {
        let state = &self.state;
        let version = state.version();
        if req.method == Method::GET && is_login_page(&req.path) {
            return Outcome::Respond(auth::login_page());
        }
        let segments = req.segments();
        let mut truncate = false;
        if req.segments.is_some() && routes::is_data_endpoint(&req.method, &segments) {
            let fault = lock(&state.faults).next();
            match fault {
                Some(Fault::Status(code)) => {
                    return Outcome::Respond(faults::status_response(code));
                }
                Some(Fault::HtmlError(code)) => {
                    return Outcome::Respond(faults::html_error_response(code));
                }
                Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
                Some(Fault::Hang) => return Outcome::Hang,
                Some(Fault::Drop) => return Outcome::Drop,
                Some(Fault::Truncated) => truncate = true,
                None => {}
            }
        }
        if req.segments.is_some() && routes::is_public(&req.method, &segments) {
            return Outcome::Respond(system::ping());
        }
        let user = match auth::authenticate(state, req, &version) {
            Ok(user) => user,
            Err(rejection) => return Outcome::Respond(*rejection),
        };
        if req.segments.is_none() {
            return Outcome::Respond(not_found::no_handler(req));
        }
        let ctx = Ctx {
            state,
            req,
            user: &user,
            version,
        };
        let response = routes::dispatch(&ctx);
        if truncate {
            return Outcome::Respond(first_half(response).await);
        }
        Outcome::Respond(response)
    }
}

/// `response` with only the first half of its body (status and headers kept, the length
/// corrected).
async fn first_half(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = body.into_bytes().await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let mut cut = Response::from_parts(parts, poem::Body::from(half));
    cut.headers_mut().remove(poem::http::header::CONTENT_LENGTH);
    cut
}

/// Both generations of the login page, whatever version is emulated right now.
fn is_login_page(path: &str) -> bool {
    matches!(
        path,
        "/dhis-web-login" | "/dhis-web-login/" | "/dhis-web-commons/security/login.action"
    )
}
