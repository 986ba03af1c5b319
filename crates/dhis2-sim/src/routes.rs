//! Maps `(method, path)` to a handler. Every route exists as `/api/...` and `/api/NN/...`, with
//! an optional `.json` suffix; anything else is a 404 WebMessage.

use poem::Response;
use poem::http::Method;

use super::not_found::no_handler;
use super::request::Ctx;
use super::webmessage::WebMessage;
use super::{analytics, data_value_read, data_values, metadata, system, tracker};

/// True for the endpoints faults apply to: the two data-delivery POSTs.
pub fn is_data_endpoint(method: &Method, segments: &[&str]) -> bool {
    *method == Method::POST && matches!(segments, ["dataValueSets"] | ["tracker"])
}

/// Endpoints DHIS2 serves without authentication.
pub fn is_public(method: &Method, segments: &[&str]) -> bool {
    *method == Method::GET && matches!(segments, ["system", "ping"])
}

pub fn dispatch(ctx: &Ctx) -> Response {
    let segments = ctx.req.segments();
    let method = &ctx.req.method;
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    match segments.as_slice() {
        ["system", "ping"] if get => system::ping(),
        ["system", "info"] if get => system::info(ctx),
        ["system", "id" | "uid"] if get => system::ids(ctx),
        ["system", "tasks", job_type, id] if get => data_values::tasks(ctx, job_type, id),
        ["system", "taskSummaries", job_type, id] if get => {
            data_values::task_summary(ctx, job_type, id)
        }
        ["me"] if get => system::me(ctx),
        ["dataValueSets"] if post => data_values::post(ctx),
        ["dataValueSets"] if get => data_value_read::get(ctx),
        ["tracker"] if post => tracker::post(ctx),
        ["sms", "outbound"] if post => super::sms::outbound(ctx),
        ["analytics"] if get => analytics::get(ctx),
        ["trackedEntityAttributes", id, "generate"] if get => analytics::generate(ctx, id),
        ["trackedEntityAttributes", id, "generateAndReserve"] if get => {
            analytics::generate_and_reserve(ctx, id)
        }
        ["tracker", "jobs", id] if get => tracker::job(ctx, id),
        ["tracker", "jobs", id, "report"] if get => tracker::job_report(ctx, id),
        [name] if get && metadata::is_collection(&ctx.state.catalog, name) => {
            metadata::list(ctx, name)
        }
        [name, id] if get && metadata::is_collection(&ctx.state.catalog, name) => {
            metadata::get(ctx, name, id)
        }
        known if is_known_path(ctx, known) => method_not_allowed(method),
        _ => no_handler(ctx.req),
    }
}

fn is_known_path(ctx: &Ctx, segments: &[&str]) -> bool {
    let collection = |name: &str| metadata::is_collection(&ctx.state.catalog, name);
    match segments {
        ["system", "ping" | "info" | "id" | "uid"] | ["me"] | ["dataValueSets"] | ["tracker"] => {
            true
        }
        ["system", "tasks" | "taskSummaries", _, _]
        | ["tracker", "jobs", _]
        | ["tracker", "jobs", _, "report"]
        | ["analytics"]
        | [
            "trackedEntityAttributes",
            _,
            "generate" | "generateAndReserve",
        ]
        | ["sms", "outbound"] => true,
        [name] | [name, _] => collection(name),
        _ => false,
    }
}

/// Spring 5's HttpRequestMethodNotSupportedException text.
fn method_not_allowed(method: &Method) -> Response {
    WebMessage::error(405, format!("Request method '{method}' not supported")).into_response()
}
