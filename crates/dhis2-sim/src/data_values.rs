//! `POST /api/dataValueSets` (sync and `async=true`) and the task endpoints that report on
//! asynchronous imports (`/api/system/tasks/...`, `/api/system/taskSummaries/...`).

use poem::Response;
use poem::http::StatusCode;
use serde_json::{Value, json};

use super::ids::{new_uid, now, timestamp};
use super::import::Import;
use super::import_options::ImportOptions;
use super::import_summary::{ImportStatus, ImportSummary};
use super::jobs::Timeline;
use super::request::Ctx;
use super::state::lock;
use super::webmessage::{WebMessage, json_response};

const JOB_TYPE: &str = "DATAVALUE_IMPORT";

pub fn post(ctx: &Ctx) -> Response {
    if !ctx.user.has_authority("F_DATAVALUE_ADD") {
        return WebMessage::error(403, "Access is denied").into_response();
    }
    if let Some(rejection) = unsupported_media_type(ctx) {
        return rejection;
    }
    let mut options = ImportOptions::from_request(ctx.req);
    let parsed = serde_json::from_slice::<Value>(&ctx.req.body)
        .map_err(|e| format!("JSON parse error: {e}"));
    if let Ok(payload) = &parsed {
        lock(&ctx.state.recorder)
            .data_value_sets
            .push(payload.clone());
    }
    if options.is_async {
        return start_async(ctx, options, parsed);
    }
    let summary = run(ctx, &mut options, parsed);
    respond(ctx, &summary)
}

/// Only JSON is emulated; DHIS2 itself would also take XML, CSV, ADX and PDF.
fn unsupported_media_type(ctx: &Ctx) -> Option<Response> {
    let content_type = ctx
        .req
        .header("content-type")
        .unwrap_or("application/octet-stream");
    let is_json = content_type
        .split(';')
        .next()
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    (!is_json).then(|| {
        WebMessage::error(415, format!("Content type '{content_type}' not supported"))
            .into_response()
    })
}

fn run(ctx: &Ctx, options: &mut ImportOptions, parsed: Result<Value, String>) -> ImportSummary {
    match parsed {
        Err(reason) => ImportSummary::failed(options.to_json(&ctx.version), &reason),
        Ok(payload) => {
            options.apply_payload(&payload);
            let import = Import {
                catalog: &ctx.state.catalog,
                user: ctx.user,
                version: &ctx.version,
                options,
                now: now(),
            };
            let mut store = lock(&ctx.state.data);
            import.run(&mut store, &payload)
        }
    }
}

/// 2.37 (or a `/api/37/` path) answers the bare summary with 200 whatever happened; 2.38+
/// wraps it in a WebMessage whose HTTP status follows the summary status.
fn respond(ctx: &Ctx, summary: &ImportSummary) -> Response {
    let body = summary.to_json(&ctx.version);
    if !ctx.version.wraps_import_summary() || ctx.api_version() < 38 {
        return json_response(200, &body);
    }
    let message = match summary.status {
        ImportStatus::Success => WebMessage::ok(200, "Import was successful."),
        // "One more" (sic): the exact text of WebMessageUtils.importSummary.
        ImportStatus::Warning => WebMessage::with_status(
            409,
            "WARNING",
            "One more conflicts encountered, please check import summary.",
        ),
        ImportStatus::Error => WebMessage::with_status(
            409,
            "ERROR",
            "An error occurred, please check import summary.",
        ),
    };
    message.response(body).into_response()
}

/// Runs the import at once and files its notifications and summary under a new job id.
fn start_async(ctx: &Ctx, mut options: ImportOptions, parsed: Result<Value, String>) -> Response {
    let job_id = new_uid();
    let created = now();
    let summary = run(ctx, &mut options, parsed);
    let entries = notifications(ctx, created, &summary);
    {
        let mut jobs = lock(&ctx.state.jobs);
        jobs.add_notifications(&job_id, entries);
        jobs.add_summary(&job_id, summary.to_json(&ctx.version));
    }
    let notifier = format!("/api/system/tasks/{JOB_TYPE}/{job_id}");
    let (name, mut response) = if ctx.version.uses_job_framework() {
        let name = format!("{JOB_TYPE} ({})", created.and_utc().timestamp_millis());
        let extra =
            json!({ "jobStatus": "NOT_STARTED", "jobParameters": options.to_json(&ctx.version) });
        (name, extra)
    } else {
        ("dataValueImport".to_owned(), json!({}))
    };
    let fields = json!({
        "name": name,
        "id": job_id,
        "created": timestamp(created),
        "jobType": JOB_TYPE,
        "relativeNotifierEndpoint": notifier,
    });
    if let (Some(target), Some(source)) = (response.as_object_mut(), fields.as_object()) {
        target.extend(source.clone());
    }
    WebMessage::ok(200, format!("Initiated {name}"))
        .response(response)
        .header(
            "location",
            format!("{}/api/system/tasks/{JOB_TYPE}", ctx.base_url()),
        )
        .into_response()
}

fn notifications(
    ctx: &Ctx,
    started: chrono::NaiveDateTime,
    summary: &ImportSummary,
) -> Vec<super::jobs::Notification> {
    let mut timeline = Timeline::new(JOB_TYPE, started);
    let count = summary.count;
    if ctx.version.uses_job_framework() {
        for step in [
            "Data value set import",
            "Loading file resource",
            "Loading file content",
            "Importing data...",
        ] {
            timeline.push("INFO", step, false);
        }
        let level = if summary.status == ImportStatus::Error {
            "ERROR"
        } else {
            "INFO"
        };
        let message = format!(
            "Import complete with status {}, {} created, {} updated, {} deleted, {} ignored",
            summary.status.as_str(),
            count.imported,
            count.updated,
            count.deleted,
            count.ignored
        );
        timeline.push(level, message, true);
        return timeline.into_entries();
    }
    timeline.push("INFO", "Process started", false);
    if let Some(reason) = summary
        .description
        .strip_prefix("The import process failed: ")
    {
        timeline.push("ERROR", format!("Process failed: {reason}"), true);
        return timeline.into_entries();
    }
    if summary.status == ImportStatus::Error {
        timeline.push("WARN", "Import process aborted", true);
        return timeline.into_entries();
    }
    if summary
        .data_set_complete
        .as_deref()
        .is_some_and(|c| c != "false")
    {
        timeline.push("INFO", "Completing data set", false);
    }
    timeline.push("INFO", "Importing data values", false);
    timeline.push("INFO", "Import done", true);
    timeline.into_entries()
}

/// `GET /api/system/tasks/{type}/{id}`: notifications, newest first; `[]` when unknown.
pub fn tasks(ctx: &Ctx, job_type: &str, job_id: &str) -> Response {
    if job_type != JOB_TYPE {
        return json_response(200, &json!([]));
    }
    json_response(200, &lock(&ctx.state.jobs).notifications(job_id))
}

/// `GET /api/system/taskSummaries/{type}/{id}`: the bare ImportSummary, or 200 with an empty
/// body while (or if) there is none.
pub fn task_summary(ctx: &Ctx, job_type: &str, job_id: &str) -> Response {
    let jobs = lock(&ctx.state.jobs);
    match jobs.summary(job_id).filter(|_| job_type == JOB_TYPE) {
        Some(summary) => json_response(200, summary),
        None => Response::builder().status(StatusCode::OK).body(()),
    }
}
