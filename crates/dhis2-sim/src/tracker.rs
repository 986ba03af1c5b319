//! `POST /api/tracker` (async by default, sync with the literal `async=false`) and the job
//! endpoints `GET /api/tracker/jobs/{id}` and `GET /api/tracker/jobs/{id}/report`.

use chrono::NaiveDateTime;
use poem::Response;
use serde_json::{Value, json};

use super::ids::{new_uid, now};
use super::jobs::{Notification, Timeline};
use super::request::Ctx;
use super::state::lock;
use super::tracker_import::TrackerImport;
use super::tracker_report::TrackerOutcome;
use super::webmessage::{WebMessage, json_response};

const CATEGORY: &str = "TRACKER_IMPORT_JOB";

pub fn post(ctx: &Ctx) -> Response {
    let payload = match serde_json::from_slice::<Value>(&ctx.req.body) {
        Ok(payload) if payload.is_object() => payload,
        Ok(_) => {
            return WebMessage::error(400, "JSON parse error: expected a tracker bundle object")
                .into_response();
        }
        Err(e) => return WebMessage::error(400, format!("JSON parse error: {e}")).into_response(),
    };
    lock(&ctx.state.recorder).tracker.push(payload.clone());
    let started = now();
    let outcome = run(ctx, &payload);
    // TrackerImportController maps the sync handler with params = "async=false": only that
    // literal spelling is synchronous.
    if ctx.req.param("async") == Some("false") {
        let code = if outcome.status() == "ERROR" {
            409
        } else {
            200
        };
        return json_response(code, &outcome.to_json(&ctx.version));
    }
    let job_id = new_uid();
    let entries = notifications(ctx, &job_id, started, &outcome);
    {
        let mut jobs = lock(&ctx.state.jobs);
        jobs.add_notifications(&job_id, entries);
        jobs.add_tracker_report(&job_id, outcome);
    }
    let location = format!("{}/api/tracker/jobs/{job_id}", ctx.base_url());
    let response = if ctx.version.has_tracker_job_response_type() {
        json!({ "responseType": "TrackerJob", "id": job_id, "location": location })
    } else {
        json!({ "id": job_id, "location": location })
    };
    WebMessage::ok(200, "Tracker job added")
        .response(response)
        .header("location", location)
        .into_response()
}

fn param_or(ctx: &Ctx, name: &str, default: &str) -> String {
    ctx.req.param(name).unwrap_or(default).to_ascii_uppercase()
}

fn run(ctx: &Ctx, payload: &Value) -> TrackerOutcome {
    let import = TrackerImport {
        catalog: &ctx.state.catalog,
        user: ctx.user,
        atomic_all: param_or(ctx, "atomicMode", "ALL") != "OBJECT",
        validate_only: param_or(ctx, "importMode", "COMMIT") == "VALIDATE",
        strategy: param_or(ctx, "importStrategy", "CREATE_AND_UPDATE"),
    };
    let mut store = lock(&ctx.state.tracker);
    import.run(&mut store, payload)
}

fn notifications(
    ctx: &Ctx,
    job_id: &str,
    started: NaiveDateTime,
    outcome: &TrackerOutcome,
) -> Vec<Notification> {
    let mut timeline = Timeline::new(CATEGORY, started);
    if ctx.version.uses_job_framework() {
        timeline.push("INFO", "Tracker import started", false).data =
            Some(("PARAMETERS", job_parameters(ctx)));
        for step in [
            "Loading file resource",
            "Loading file content",
            "Running PreHeat",
            "Calculating Payload Size",
            "Running PreProcess",
            "Running Validation",
            "Running Rule Engine",
            "Running Rule Engine Validation",
            "Commit Transaction",
            "PostCommit",
        ] {
            timeline.push("INFO", step, false);
        }
        let stats = outcome.stats();
        let done = format!(
            "Import complete with status {}, {} created, {} updated, {} deleted, {} ignored",
            outcome.status(),
            stats.created,
            stats.updated,
            stats.deleted,
            stats.ignored
        );
        timeline.push("INFO", done, true);
        return timeline.into_entries();
    }
    // 2.38–2.40 (DefaultTrackerImportService): every entry reuses the job id and is "completed".
    let prefix = format!("{CATEGORY} ( {job_id} )");
    let user = ctx.user;
    let start = format!(
        "{prefix} started by {} ( {} ) Import:Start",
        user.username, user.id
    );
    timeline.push_with_uid(job_id.to_owned(), "INFO", start, true);
    for stage in [
        "preheat",
        "validation",
        "programrule",
        "programruleValidation",
        "commit",
    ] {
        let message = format!("{prefix} {stage} completed in 0.00100 sec. Import:{stage}");
        timeline.push_with_uid(job_id.to_owned(), "DEBUG", message, true);
    }
    let done = format!("{prefix} finished in 0.00500 sec. Import:Done");
    timeline.push_with_uid(job_id.to_owned(), "INFO", done, true);
    timeline.into_entries()
}

/// What 2.41 logs as the job's parameters in its first notification.
fn job_parameters(ctx: &Ctx) -> Value {
    let uid_scheme = json!({ "idScheme": "UID", "attributeUid": null });
    let schemes = [
        "dataElementIdScheme",
        "orgUnitIdScheme",
        "programIdScheme",
        "programStageIdScheme",
        "idScheme",
        "categoryOptionComboIdScheme",
        "categoryOptionIdScheme",
    ];
    let id_schemes: serde_json::Map<String, Value> = schemes
        .iter()
        .map(|name| ((*name).to_owned(), uid_scheme.clone()))
        .collect();
    json!({
        "userId": ctx.user.id,
        "importMode": param_or(ctx, "importMode", "COMMIT"),
        "idSchemes": id_schemes,
        "importStrategy": param_or(ctx, "importStrategy", "CREATE_AND_UPDATE"),
        "atomicMode": param_or(ctx, "atomicMode", "ALL"),
        "flushMode": "AUTO",
        "validationMode": param_or(ctx, "validationMode", "FULL"),
        "skipPatternValidation": false,
        "skipSideEffects": false,
        "skipRuleEngine": false,
        "filename": null,
        "reportMode": param_or(ctx, "reportMode", "ERRORS"),
    })
}

/// `GET /api/tracker/jobs/{id}`: notifications, newest first (`[]` for an unknown job).
pub fn job(ctx: &Ctx, job_id: &str) -> Response {
    json_response(200, &lock(&ctx.state.jobs).notifications(job_id))
}

/// `GET /api/tracker/jobs/{id}/report`: the ImportReport with HTTP 200 whatever its status.
pub fn job_report(ctx: &Ctx, job_id: &str) -> Response {
    match lock(&ctx.state.jobs).tracker_report(job_id) {
        Some(outcome) => json_response(200, &outcome.to_json(&ctx.version)),
        None => {
            let message =
                WebMessage::error(404, format!("Summary for job {job_id} does not exist"));
            let message = if ctx.version.has_not_found_error_code() {
                message.error_code("E1005")
            } else {
                message
            };
            message.into_response()
        }
    }
}
