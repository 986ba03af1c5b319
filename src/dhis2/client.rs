//! The DHIS2 HTTP client: one reqwest client with the credentials, timeouts and TLS policy of
//! `api.*`, and the calls dhis2gw makes (data value sets, tracker sync/async, reads).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::time::Instant;

use super::body::{Body, sniff};
use super::error::Dhis2Error;
use super::import_summary::{ImportOutcome, parse_data_value_set_response};
use super::response::{error_for_status, is_failure_status};
use super::tracker_report::{
    TrackerStart, parse_tracker_job_start, parse_tracker_report, tracker_job_completed,
};
use super::url::normalize_base_url;
use super::wire::{authorization, send};
use crate::config::ApiSettings;

/// How tracker payloads are imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackerMode {
    /// `POST /api/tracker?async=false`: the ImportReport is the answer.
    Sync,
    /// `POST /api/tracker?async=true`, then poll `/api/tracker/jobs/{id}` every `poll_interval`
    /// until it completes (or `max_wait` passes: `Timeout`), then read `/jobs/{id}/report`.
    Async {
        poll_interval: Duration,
        max_wait: Duration,
    },
}

impl TrackerMode {
    pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(300);

    /// `api.dhis2_tracker_async` → Async with the default interval and wait, else Sync.
    pub fn from_settings(api: &ApiSettings) -> TrackerMode {
        if api.dhis2_tracker_async {
            TrackerMode::Async {
                poll_interval: Self::DEFAULT_POLL_INTERVAL,
                max_wait: Self::DEFAULT_MAX_WAIT,
            }
        } else {
            TrackerMode::Sync
        }
    }
}

/// A DHIS2 client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Dhis2Client {
    http: reqwest::Client,
    /// `<base>/api` (or `<base>/api/<NN>` when the configured URL pins an API version).
    api_root: Arc<str>,
    /// `<api_root>/dataValueSets`, parsed once: every delivery posts there, and parsing the URL
    /// (host name checks included) for each one showed in profiles of a delivery drain.
    data_value_sets: reqwest::Url,
}

impl fmt::Debug for Dhis2Client {
    // By hand, so the credentials in the default headers can never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dhis2Client")
            .field("api_root", &self.api_root)
            .finish_non_exhaustive()
    }
}

/// `<api_root>` + `"dataValueSets"` → `"<api_root>/dataValueSets"` (a leading `/` or `api/` in
/// `path` is dropped, so callers may write the path as DHIS2's documentation does).
fn join(api_root: &str, path: &str) -> String {
    let path = path.trim_start_matches('/');
    let path = path.strip_prefix("api/").unwrap_or(path);
    format!("{api_root}/{path}")
}

impl Dhis2Client {
    pub fn new(api: &ApiSettings) -> Result<Dhis2Client, Dhis2Error> {
        let api_root = normalize_base_url(&api.dhis2_base_url)?;
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization(api)?);
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        // Without it, a request DHIS2 finds unauthenticated is redirected (302) to the login
        // page instead of getting a 401 WebMessage.
        headers.insert(
            "x-requested-with",
            HeaderValue::from_static("XMLHttpRequest"),
        );
        if api.dhis2_tls_insecure {
            tracing::warn!(
                api_root = %api_root,
                "api.dhis2_tls_insecure is set: DHIS2's TLS certificate is not verified"
            );
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("dhis2gw/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(api.dhis2_connect_timeout_secs.max(1)))
            .timeout(Duration::from_secs(api.dhis2_timeout_secs.max(1)))
            // A redirected POST becomes a GET and loses its body; a redirect to the login page
            // means "not authenticated". Both are reported, never followed.
            .redirect(reqwest::redirect::Policy::none())
            // DHIS2 runs on Tomcat, which closes idle keep-alive connections after 20 s by
            // default; dropping ours sooner avoids sending a payload into a closing socket.
            .pool_idle_timeout(Duration::from_secs(15))
            .tls_danger_accept_invalid_certs(api.dhis2_tls_insecure)
            .build()
            .map_err(|e| Dhis2Error::InvalidConfig(format!("cannot build the HTTP client: {e}")))?;
        let data_value_sets = reqwest::Url::parse(&join(&api_root, "dataValueSets"))
            .map_err(|e| Dhis2Error::InvalidConfig(format!("api.dhis2_base_url: {e}")))?;
        Ok(Dhis2Client {
            http,
            api_root: api_root.into(),
            data_value_sets,
        })
    }

    /// The HTTP client with the credentials and timeouts, for the calls of sibling modules
    /// (`analytics.rs`, `tracker_alerts.rs`).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `"dataValueSets"` → `"<base>/api/dataValueSets"` (a leading `/` or `api/` is dropped).
    pub fn api_url(&self, path: &str) -> String {
        join(&self.api_root, path)
    }

    /// `POST /api/dataValueSets` with the payload exactly as given (integers stay integers).
    pub async fn post_data_value_set(&self, payload: &Value) -> Result<ImportOutcome, Dhis2Error> {
        let text = serde_json::to_string(payload)
            .map_err(|e| Dhis2Error::InvalidConfig(format!("cannot write the payload: {e}")))?;
        self.post_data_value_set_json(text).await
    }

    /// `POST /api/dataValueSets` with `json` as the body, byte for byte: the delivery workers
    /// send the payload text the submission log keeps, without parsing and writing it again.
    #[tracing::instrument(name = "dhis2.post_data_value_set", skip_all, fields(bytes = json.len()))]
    pub async fn post_data_value_set_json(
        &self,
        json: String,
    ) -> Result<ImportOutcome, Dhis2Error> {
        let request = self
            .http
            .post(self.data_value_sets.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json);
        let (status, body) = send(request).await?;
        let outcome = parse_data_value_set_response(status, &body)?;
        log_outcome(&outcome);
        Ok(outcome)
    }

    /// `POST /api/tracker`, sync or async as `mode` says; the outcome of the import either way.
    #[tracing::instrument(name = "dhis2.post_tracker", skip(self, payload), fields(
        mode = ?mode,
        job = tracing::field::Empty,
    ))]
    pub async fn post_tracker(
        &self,
        payload: &Value,
        mode: TrackerMode,
    ) -> Result<ImportOutcome, Dhis2Error> {
        let url = self.api_url("tracker");
        let outcome = match mode {
            TrackerMode::Sync => {
                let request = self
                    .http
                    .post(url)
                    .query(&[("async", "false")])
                    .json(payload);
                let (status, body) = send(request).await?;
                parse_tracker_report(status, &body)?
            }
            TrackerMode::Async {
                poll_interval,
                max_wait,
            } => {
                let request = self
                    .http
                    .post(url)
                    .query(&[("async", "true")])
                    .json(payload);
                let (status, body) = send(request).await?;
                match parse_tracker_job_start(status, &body)? {
                    TrackerStart::Report(outcome) => outcome,
                    TrackerStart::Job { id } => {
                        tracing::Span::current().record("job", id.as_str());
                        self.wait_for_tracker_job(&id, poll_interval, max_wait)
                            .await?
                    }
                }
            }
        };
        log_outcome(&outcome);
        Ok(outcome)
    }

    /// Polls `/api/tracker/jobs/{id}` until a notification says `completed`, then reads the
    /// report. A transient failure while polling does not fail the import (it may well have
    /// been applied): polling goes on until `max_wait`. The report may lag the completed
    /// notification, so a 404 on it is retried too.
    async fn wait_for_tracker_job(
        &self,
        id: &str,
        poll_interval: Duration,
        max_wait: Duration,
    ) -> Result<ImportOutcome, Dhis2Error> {
        let deadline = Instant::now() + max_wait;
        let jobs_url = self.api_url(&format!("tracker/jobs/{id}"));
        let report_url = self.api_url(&format!("tracker/jobs/{id}/report"));
        let mut completed = false;
        loop {
            let step = if completed {
                send(self.http.get(&report_url))
                    .await
                    .and_then(|(status, body)| parse_tracker_report(status, &body))
                    .map(Some)
            } else {
                send(self.http.get(&jobs_url))
                    .await
                    .and_then(|(status, body)| tracker_job_completed(status, &body))
                    .map(|done| {
                        completed = done;
                        None
                    })
            };
            match step {
                Ok(Some(outcome)) => return Ok(outcome),
                Ok(None) if completed => continue,
                Ok(None) => {}
                Err(e) if e.is_retryable() || matches!(e, Dhis2Error::NotFound { .. }) => {
                    tracing::debug!(job = id, error = %e, "tracker job not ready");
                }
                Err(e) => return Err(e),
            }
            if Instant::now() + poll_interval > deadline {
                tracing::warn!(job = id, ?max_wait, "tracker job did not complete in time");
                return Err(Dhis2Error::Timeout);
            }
            tokio::time::sleep(poll_interval).await;
        }
    }

    /// `GET /api/system/info`.
    #[tracing::instrument(name = "dhis2.system_info", skip(self))]
    pub async fn system_info(&self) -> Result<Value, Dhis2Error> {
        self.get_json("system/info").await
    }

    /// `GET /api/<path_and_query>` answered with JSON (any JSON value).
    #[tracing::instrument(name = "dhis2.get_json", skip(self))]
    pub async fn get_json(&self, path_and_query: &str) -> Result<Value, Dhis2Error> {
        let (status, body) = send(self.http.get(self.api_url(path_and_query))).await?;
        if is_failure_status(status) {
            return Err(error_for_status(status, &body, None, "JSON"));
        }
        match sniff(&body) {
            Body::Json(value) if (200..300).contains(&status) => Ok(value),
            _ => Err(super::import_summary::unparsable_or_status(
                status, &body, "JSON", None,
            )),
        }
    }
}

fn log_outcome(outcome: &ImportOutcome) {
    tracing::info!(
        http_status = outcome.http_status,
        status = ?outcome.status,
        imported = outcome.counts.imported,
        updated = outcome.counts.updated,
        ignored = outcome.counts.ignored,
        deleted = outcome.counts.deleted,
        conflicts = outcome.conflicts.len(),
        "DHIS2 import answered"
    );
}
