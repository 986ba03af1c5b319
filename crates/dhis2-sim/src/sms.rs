//! `POST /api/sms/outbound`: DHIS2's own SMS gateway. Answers as DHIS2 does when a gateway is
//! configured; the request is kept by the recorder like every other, for tests to read.

use poem::Response;
use serde_json::Value;

use super::request::Ctx;
use super::webmessage::WebMessage;

pub fn outbound(ctx: &Ctx) -> Response {
    let body: Value = match serde_json::from_slice(&ctx.req.body) {
        Ok(body) => body,
        Err(e) => return WebMessage::error(400, format!("invalid JSON: {e}")).into_response(),
    };
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    let recipients = body
        .get("recipients")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    if message.is_empty() || recipients == 0 {
        return WebMessage::error(409, "Message and recipients are required").into_response();
    }
    WebMessage::ok(200, "SMS sent").into_response()
}
