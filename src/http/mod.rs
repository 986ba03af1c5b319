//! The HTTP edge (poem + poem-openapi): one file per resource. Handlers parse, authorize, call a
//! service and map its result; errors become HTTP only in [`error`].

pub mod admin;
pub mod aggregate;
pub mod alert_link;
pub mod alert_rules;
pub mod alerts;
pub mod allow;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod cors;
pub mod data_value_sets;
pub mod deliveries;
pub mod docs_pages;
pub mod error;
pub mod health;
pub mod jobs;
pub mod landing;
pub mod logs;
pub mod mappings;
pub mod metrics;
pub mod params;
pub mod policy;
pub mod queue_stats;
pub mod requeue;
pub mod session;
pub mod spec;
pub mod text;
pub mod users;

use std::time::Duration;

use poem::http::{StatusCode, header};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, Route};
use poem_openapi::{OpenApiService, Tags};

use crate::state::AppState;

pub use error::{ApiError, ErrorBody, FieldError};

#[derive(Tags)]
pub enum Tag {
    /// Liveness and readiness.
    Health,
    /// Login, token refresh and logout.
    Auth,
    /// User accounts and API tokens.
    Users,
    /// Aggregate and tracker submissions to DHIS2.
    Submissions,
    /// The submission log: follow, requeue, purge.
    Logs,
    /// Mappings from submitters' keys to DHIS2 metadata.
    Mappings,
    /// Scheduled jobs: schedules, runs, run now.
    Jobs,
    /// Recorded outbreak alerts: list, detail, acknowledge.
    Alerts,
    /// Alert rules: which disease is checked with which detection method.
    AlertRules,
    /// Alert notifications: the deliveries log and the recipient directory.
    Notifications,
}

/// Every API of the daemon; a new resource adds its API struct here.
type Apis = (
    health::HealthApi,
    session::SessionApi,
    users::UsersApi,
    api_tokens::ApiTokensApi,
    aggregate::SubmissionApi,
    data_value_sets::DataValueSetsApi,
    audit::AuditApi,
    logs::LogsApi,
    requeue::RequeueApi,
    mappings::MappingsApi,
    jobs::JobsApi,
    alerts::AlertsApi,
    alert_rules::AlertRulesApi,
    queue_stats::QueueStatsApi,
    deliveries::DeliveriesApi,
    metrics::MetricsApi,
);

fn apis(state: &AppState) -> Apis {
    let state = || state.clone();
    (
        health::HealthApi { state: state() },
        session::SessionApi { state: state() },
        users::UsersApi { state: state() },
        api_tokens::ApiTokensApi { state: state() },
        aggregate::SubmissionApi { state: state() },
        data_value_sets::DataValueSetsApi { state: state() },
        audit::AuditApi { state: state() },
        logs::LogsApi { state: state() },
        requeue::RequeueApi { state: state() },
        mappings::MappingsApi { state: state() },
        jobs::JobsApi { state: state() },
        alerts::AlertsApi { state: state() },
        alert_rules::AlertRulesApi { state: state() },
        queue_stats::QueueStatsApi { state: state() },
        deliveries::DeliveriesApi { state: state() },
        metrics::MetricsApi { state: state() },
    )
}

fn api_service(state: &AppState) -> OpenApiService<Apis, ()> {
    OpenApiService::new(apis(state), "dhis2gw", env!("CARGO_PKG_VERSION")).description(
        "Gateway that validates, maps, logs and delivers aggregate and tracker data to DHIS2.",
    )
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi_json(state: &AppState) -> String {
    spec::complete(&api_service(state).spec())
}

/// Every route of the daemon, with its middleware.
pub fn routes(state: &AppState) -> impl Endpoint<Output = Response> + use<> {
    let settings = state.settings();
    let api = api_service(state);
    let allow_table = std::sync::Arc::new(allow::AllowTable::from_spec(&api.spec()));
    let timeout = Duration::from_secs(settings.http.request_timeout_secs);
    let body_limit = settings.http.body_limit_bytes;
    Route::new()
        .at("/openapi.json", {
            let document = spec::complete(&api.spec());
            poem::get(poem::endpoint::make_sync(move |_| {
                document
                    .clone()
                    .with_content_type("application/json; charset=utf-8")
            }))
        })
        .nest("/swagger", swagger_ui(state))
        .nest("/admin", admin::routes(state))
        // An SMS's short link to an alert's page (http/alert_link.rs).
        .at(
            "/a/:id",
            poem::get(alert_link::alert_link).data(state.clone()),
        )
        // The original gateway's pages (http/landing.rs, http/docs_pages.rs).
        .at("/logs-viewer", poem::get(landing::logs_viewer))
        .at(
            "/mappings/export/excel-template",
            poem::get(landing::excel_template),
        )
        .at(
            "/docs",
            poem::get(docs_pages::doc_index).data(state.clone()),
        )
        .at(
            "/docs/",
            poem::get(docs_pages::doc_index).data(state.clone()),
        )
        .at(
            "/docs/:page",
            poem::get(docs_pages::doc_page).data(state.clone()),
        )
        .nest("/", api)
        // The OpenAPI nest claims "/" too: the landing page is answered before it.
        .around(|ep, req| async move {
            if req.uri().path() == "/" && req.method() == poem::http::Method::GET {
                return Ok(landing::landing_page());
            }
            ep.call(req).await.map(IntoResponse::into_response)
        })
        // Inside the guard: who called, for the request audit log (http/audit.rs).
        .around(audit::note_caller)
        .around({
            // Authentication and the role policy of every /api/v2 route (http/policy.rs).
            let state = state.clone();
            move |ep, req| auth::guard(state.clone(), ep, req)
        })
        .around(move |ep, req| async move {
            let req = limit_body(req, body_limit).await?;
            match tokio::time::timeout(timeout, ep.call(req)).await {
                Ok(result) => result,
                Err(_) => Err(poem::Error::from_string(
                    "the request took too long and was abandoned",
                    StatusCode::SERVICE_UNAVAILABLE,
                )),
            }
        })
        // Every /api/v2 request into the audit log, timed from here (http/audit.rs).
        .around({
            let state = state.clone();
            move |ep, req| audit::record(state.clone(), ep, req)
        })
        // Outside the guard, so that a browser's preflight (OPTIONS) is answered here.
        .with(cors::CrossOrigin::new(&settings.http))
        .with(CatchPanic::new().with_handler(error::panic_response))
        .catch_all_error(error::json_error)
        .into_endpoint()
        .map_to_response()
        // Every 405 names the path's methods in `Allow` (http/allow.rs).
        .around(move |ep, req| allow::add_allow(allow_table.clone(), ep, req))
        // Outermost: every request counted with the status the client got (http/metrics.rs).
        .around(metrics::observe)
}

/// Swagger UI, built for each request and dropped after: its page inlines a 1.5 MB script
/// (3.2 MB once formatted), which built once at start was two thirds of the idle daemon's heap.
fn swagger_ui(state: &AppState) -> impl Endpoint<Output = Response> + use<> {
    let state = state.clone();
    poem::endpoint::make(move |req| {
        let state = state.clone();
        async move {
            api_service(&state)
                .swagger_ui()
                .call(req)
                .await
                .map(IntoResponse::into_response)
        }
    })
}

/// Refuses bodies over `http.body_limit_bytes` with 413: by `Content-Length` when given, else
/// by reading a chunked body up to the limit.
async fn limit_body(mut req: Request, limit: usize) -> poem::Result<Request> {
    let too_large = || {
        poem::Error::from_string(
            format!("request body is larger than {limit} bytes (http.body_limit_bytes)"),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => return Err(too_large()),
        Some(_) => {}
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = req
                .take_body()
                .into_bytes_limit(limit)
                .await
                .map_err(|_| too_large())?;
            req.set_body(body);
        }
        None => {}
    }
    Ok(req)
}
