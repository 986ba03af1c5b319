//! Injected failures for the data endpoints (`POST /api/dataValueSets`, `POST /api/tracker`):
//! the ways a real DHIS2 (or the proxy in front of it) lets a client down.

use std::collections::VecDeque;
use std::time::Duration;

use poem::Response;
use poem::http::StatusCode;

use super::webmessage::{WebMessage, reason_phrase};

/// One failure to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A DHIS2 WebMessage with this status (`429`/`503` also carry `Retry-After: 1`).
    Status(u16),
    /// An nginx-style HTML error page with this status, as a reverse proxy answers.
    HtmlError(u16),
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// Never answers; the client has to time out.
    Hang,
    /// Closes the TCP connection without writing any response.
    Drop,
    /// Handles the request as usual (the data is imported), then sends only the first half of
    /// the answer's body: the JSON cut in the middle, as a connection lost mid-answer or a proxy
    /// buffer limit leaves it.
    Truncated,
}

/// One-shot faults (consumed in order, one per matching request) and a standing fault.
#[derive(Debug, Default)]
pub struct FaultPlan {
    queue: VecDeque<Fault>,
    always: Option<Fault>,
}

impl FaultPlan {
    pub fn push(&mut self, fault: Fault) {
        self.queue.push_back(fault);
    }

    pub fn set_always(&mut self, fault: Option<Fault>) {
        self.always = fault;
    }

    /// The fault for the next matching request: queued ones first, then the standing one.
    pub fn next(&mut self) -> Option<Fault> {
        self.queue.pop_front().or_else(|| self.always.clone())
    }
}

/// The WebMessage a `Fault::Status` answers with.
pub fn status_response(code: u16) -> Response {
    let message = match code {
        // What Spring/DHIS2 say for the cases a client most often meets.
        429 => "Too many requests, please try again later".to_owned(),
        503 => "Service temporarily unavailable, please try again later".to_owned(),
        500 => "An unexpected error occurred (simulated fault)".to_owned(),
        _ => format!("{code} {} (simulated fault)", reason_phrase(code)),
    };
    let message = if code >= 400 {
        WebMessage::error(code, message)
    } else {
        WebMessage::ok(code, message)
    };
    let message = if matches!(code, 429 | 503) {
        message.header("retry-after", "1")
    } else {
        message
    };
    message.into_response()
}

/// The page nginx serves when its upstream fails (`502 Bad Gateway` and friends).
pub fn html_error_response(code: u16) -> Response {
    let title = format!("{code} {}", reason_phrase(code));
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n\
         <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY))
        .content_type("text/html")
        .header("server", "nginx")
        .body(body)
}
