//! The answer to a path the simulator has no handler for, as DHIS2 gives it.

use poem::Response;

use super::request::ApiRequest;
use super::webmessage::WebMessage;

/// Spring's NoHandlerFoundException, rendered as a WebMessage.
pub fn no_handler(req: &ApiRequest) -> Response {
    WebMessage::error(
        404,
        format!("No handler found for {} {}", req.method, req.path),
    )
    .into_response()
}
