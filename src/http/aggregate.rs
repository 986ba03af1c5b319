//! Aggregate and tracker submission, and the requeue routes (/api/v2/aggregate…, /api/v2/tracker).
//! The original's route, body and response keys (`message`, `payload`, `submission_id`,
//! `task_id`), plus `unmapped`, `status`, `status_url` and the `Idempotency-Key` header.
//! Integrator documentation: `docs/submissions.md`.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use poem::{IntoResponse, Request, RequestBody};
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object, OpenApi,
};
use serde_json::Value;
use uuid::Uuid;

#[cfg(test)]
mod schema_tests;
mod value_schema;

pub use value_schema::{AggregateValueDoc, ScalarDoc};

use crate::http::auth::{ApiAuth, client_ip};
use crate::http::text::Text;
use crate::http::{ApiError, FieldError, Tag};
use crate::state::AppState;
use crate::submissions::{Accepted, Submitter};

pub struct SubmissionApi {
    pub state: AppState,
}

/// The body of `POST /api/v2/aggregate` (the original's, plus optional fields). What this
/// schema states is a 400 when broken; a request that fits it but that the service cannot take
/// (a code or org unit with no mapping, a period or date the calendar lacks, a blank text) is a
/// 422 naming the field.
#[derive(Debug, Object)]
#[oai(rename = "AggregateRequest")]
pub struct AggregateRequestDoc {
    /// Org unit: a DHIS2 UID, or a source code with an org-unit mapping (`what = ou`).
    #[oai(rename = "orgUnit", validator(min_length = 1, max_length = 50000))]
    pub org_unit: String,
    /// Kept in the log, not sent.
    #[oai(
        rename = "orgUnitName",
        nullable,
        validator(min_length = 1, max_length = 50000)
    )]
    pub org_unit_name: Option<String>,
    /// A DHIS2 period of any period type: `2024`, `202401`, `20240115`, `2024W3`, `2024Q1`,
    /// `2024S1`, `202401B`, `2024July`, `2024WedW3`, `2024BiW2`, `2024AprilS1`, `2024NovQ1`...
    /// One the calendar lacks (`202413`, `2021W53`) is a 422.
    #[oai(validator(
        pattern = r"^[0-9]{4}([0-9]{2}|[0-9]{4}|-[0-9]{2}|-[0-9]{2}-[0-9]{2}|[0-9]{2}B|(W|WedW|ThuW|SatW|SunW|BiW)[0-9]{1,2}|(Q|NovQ|S|AprilS|NovS)[0-9]|April|July|Sep|Oct|Nov)?$"
    ))]
    pub period: String,
    /// Data set UID.
    #[oai(rename = "dataSet", validator(pattern = r"^[A-Za-z][A-Za-z0-9]{10}$"))]
    pub data_set: String,
    /// Key → value. A value is a number, a numeric or text string, a boolean, or
    /// `{"value": …, "comment": "…"}`. Keys are mapped with `api.mapping_scheme`; when none
    /// maps, the request is a 422. An empty or blank key is a 422 too.
    #[oai(rename = "dataValues", validator(min_properties = 1))]
    pub data_values: BTreeMap<String, AggregateValueDoc>,
    /// Attribute option combo UID for the whole set.
    #[oai(
        rename = "attributeOptionCombo",
        nullable,
        validator(pattern = r"^[A-Za-z][A-Za-z0-9]{10}$")
    )]
    pub attribute_option_combo: Option<String>,
    /// `YYYY-MM-DD`; only when given does DHIS2 mark the data set complete.
    #[oai(
        rename = "completeDate",
        nullable,
        validator(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    )]
    pub complete_date: Option<String>,
    /// Mapping namespace (source); default `default`.
    #[oai(nullable, validator(min_length = 1, max_length = 50000))]
    pub source: Option<String>,
    /// Mapping namespace (instance); default `default`.
    #[oai(nullable, validator(min_length = 1, max_length = 50000))]
    pub instance: Option<String>,
}

/// A DHIS2 tracker import payload, flat or nested (as `POST /api/tracker` takes it). This
/// schema states the outer shape (a 400 when broken); the objects are checked against DHIS2's
/// tracker model (UIDs, required fields, dates), and a payload with no object at all is
/// refused: a 422 naming the JSON path.
#[derive(Debug, Object)]
#[oai(rename = "TrackerPayload", deny_unknown_fields)]
pub struct TrackerPayloadDoc {
    #[oai(rename = "trackedEntities")]
    #[oai(nullable)]
    pub tracked_entities: Option<Vec<BTreeMap<String, Value>>>,
    #[oai(nullable)]
    pub enrollments: Option<Vec<BTreeMap<String, Value>>>,
    #[oai(nullable)]
    pub events: Option<Vec<BTreeMap<String, Value>>>,
    #[oai(nullable)]
    pub relationships: Option<Vec<BTreeMap<String, Value>>>,
}

/// A JSON request body read leniently (any or no `Content-Type`, as the original's clients may
/// send) into a raw value, so that validation can name every bad field at once. `D` only
/// documents the expected shape in the OpenAPI spec.
pub struct JsonBody<D> {
    pub value: Value,
    _doc: PhantomData<D>,
}

fn reject(error: ApiError) -> poem::Error {
    poem::Error::from_response(error.into_response())
}

impl<'a, D: Type> ApiExtractor<'a> for JsonBody<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: D::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        _request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let bytes = body.take()?.into_vec().await.map_err(|e| {
            reject(ApiError::bad_request(
                format!("cannot read the request body: {e}"),
                vec![],
            ))
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(reject(ApiError::bad_request(
                "the request body is empty; send a JSON object",
                vec![field("body", "is empty")],
            )));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            reject(ApiError::bad_request(
                format!("Invalid JSON: {e}"),
                vec![field("body", format!("is not valid JSON: {e}"))],
            ))
        })?;
        Ok(JsonBody {
            value,
            _doc: PhantomData,
        })
    }
}

fn field(name: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.to_owned(),
        message: message.into(),
    }
}

/// The answer to an accepted submission.
#[derive(Debug, Object)]
pub struct AcceptedBody {
    pub message: String,
    /// The DHIS2 payload that will be sent (a dataValueSet, or the tracker payload).
    pub payload: Value,
    pub submission_id: i64,
    /// Follow it with `GET /api/v2/logs?task_id=…`; requeue with `/api/v2/aggregate/reenqueue/{task_id}`.
    pub task_id: String,
    /// `dataValues` keys that no mapping knew; they are not sent.
    pub unmapped: Vec<String>,
    /// `queued` for a new submission; an earlier submission's current status on an idempotent replay.
    pub status: String,
    /// Where to follow the submission: `GET` it for its status, DHIS2's answer and conflicts.
    pub status_url: String,
}

#[derive(ApiResponse)]
pub enum SubmitResponse {
    /// Logged and queued. With an `Idempotency-Key` used before with the same body: the first
    /// submission, and `Idempotent-Replayed: true`.
    #[oai(status = 200)]
    Accepted(
        Json<AcceptedBody>,
        #[oai(header = "Idempotent-Replayed")] Option<String>,
    ),
}

fn accepted(accepted: Accepted, what: &str) -> SubmitResponse {
    let message = if accepted.replayed {
        format!(
            "{what} request already received with this Idempotency-Key; this is the first submission"
        )
    } else {
        format!("{what} request queued for processing")
    };
    SubmitResponse::Accepted(
        Json(AcceptedBody {
            message,
            payload: accepted.payload,
            submission_id: accepted.submission_id,
            task_id: accepted.task_id.to_string(),
            unmapped: accepted.unmapped,
            status: accepted.status.as_str().to_owned(),
            status_url: format!("/api/v2/logs/{}", accepted.submission_id),
        }),
        accepted.replayed.then(|| "true".to_owned()),
    )
}

/// Requeue of one task (the original's compatibility route).
#[derive(Debug, Object)]
pub struct RequeuedBody {
    pub message: String,
    pub submission_id: i64,
    pub task_id: String,
    pub status: String,
}

/// `POST /api/v2/aggregate/reenqueue/batch`.
#[derive(Debug, Object)]
pub struct BatchRequeueRequest {
    /// Accepted for compatibility and ignored: requeue works from the log, not a Redis queue.
    #[oai(nullable)]
    pub queue: Option<Text>,
    /// Task ids (UUIDs); at least one.
    #[oai(validator(min_items = 1))]
    pub task_ids: Vec<Text>,
}

#[derive(Debug, Object)]
pub struct BatchRequeueBody {
    pub queue: String,
    #[oai(rename = "reEnqueued")]
    pub re_enqueued: u64,
    pub failed: u64,
    /// `Task <id>: <why>` for each task not requeued.
    pub errors: Vec<String>,
}

fn parse_task_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text.trim()).map_err(|_| {
        ApiError::bad_request(
            "invalid task id",
            vec![field(
                "task_id",
                format!("{text:?} is not a task id (a UUID)"),
            )],
        )
    })
}

#[OpenApi(tag = "Tag::Submissions")]
impl SubmissionApi {
    /// Submit aggregate data: validated, mapped, logged (committed before the answer) and queued
    /// for delivery to DHIS2 `POST /api/dataValueSets`.
    #[oai(path = "/api/v2/aggregate", method = "post")]
    async fn submit_aggregate(
        &self,
        auth: ApiAuth,
        request: &Request,
        /// 1 to 255 printable ASCII characters.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[ -~]+$")
        )]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<AggregateRequestDoc>,
    ) -> Result<SubmitResponse, ApiError> {
        let who = submitter(&auth, request, idempotency_key.0);
        let result = self
            .state
            .submissions()
            .accept_aggregate(&who, &body.value)
            .await?;
        Ok(accepted(result, "Aggregate"))
    }

    /// Submit a DHIS2 tracker payload (flat or nested), checked structurally, logged and queued
    /// for `POST /api/tracker`.
    #[oai(path = "/api/v2/tracker", method = "post")]
    async fn submit_tracker(
        &self,
        auth: ApiAuth,
        request: &Request,
        /// 1 to 255 printable ASCII characters.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[ -~]+$")
        )]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<TrackerPayloadDoc>,
    ) -> Result<SubmitResponse, ApiError> {
        let who = submitter(&auth, request, idempotency_key.0);
        let result = self
            .state
            .submissions()
            .accept_tracker(&who, &body.value)
            .await?;
        Ok(accepted(result, "Tracker"))
    }

    /// Requeue one submission by task id, from its log row (status reset to `queued`, retries
    /// reset, requeue counted). Kept as a GET for the original's clients.
    #[oai(path = "/api/v2/aggregate/reenqueue/:task_id", method = "get")]
    async fn requeue_task(
        &self,
        auth: ApiAuth,
        /// A task id (UUID).
        #[oai(validator(
            pattern = r"^\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*$"
        ))]
        task_id: Path<String>,
    ) -> Result<Json<RequeuedBody>, ApiError> {
        self.requeue_one(&auth, &task_id.0).await
    }

    /// Requeue one submission by task id (same as the GET).
    #[oai(path = "/api/v2/aggregate/reenqueue/:task_id", method = "post")]
    async fn requeue_task_post(
        &self,
        auth: ApiAuth,
        /// A task id (UUID).
        #[oai(validator(
            pattern = r"^\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*$"
        ))]
        task_id: Path<String>,
    ) -> Result<Json<RequeuedBody>, ApiError> {
        self.requeue_one(&auth, &task_id.0).await
    }

    /// Requeue many submissions by task id. Unknown ids, rows with no DHIS2 payload to send
    /// (adopted from the original database) and, for a submitter, other users' submissions are
    /// reported in `errors`.
    #[oai(path = "/api/v2/aggregate/reenqueue/batch", method = "post")]
    async fn requeue_batch(
        &self,
        auth: ApiAuth,
        body: Json<BatchRequeueRequest>,
    ) -> Result<Json<BatchRequeueBody>, ApiError> {
        let body = body.0;
        if body.task_ids.is_empty() {
            return Err(ApiError::bad_request(
                "no task ids",
                vec![field("task_ids", "must list at least one task id")],
            ));
        }
        let mut errors = Vec::new();
        let mut task_ids = Vec::new();
        for text in &body.task_ids {
            match Uuid::parse_str(text.trim()) {
                Ok(id) => task_ids.push(id),
                Err(_) => errors.push(format!("Task {text}: not a task id (a UUID)")),
            }
        }
        let (report, pairs) = self
            .state
            .submissions()
            .requeue_tasks(Some(&auth.0), &task_ids)
            .await?;
        for task in &task_ids {
            match pairs.iter().find(|(t, _)| t == task) {
                None => errors.push(format!("Task {task}: no submission with this task id")),
                Some((_, id)) if report.forbidden.contains(id) => {
                    errors.push(format!("Task {task}: belongs to another user"))
                }
                Some((_, id)) if report.no_payload.contains(id) => errors.push(format!(
                    "Task {task}: {}",
                    crate::submissions::logs::NO_PAYLOAD
                )),
                Some(_) => {}
            }
        }
        Ok(Json(BatchRequeueBody {
            queue: body
                .queue
                .map_or_else(|| crate::submissions::QUEUE_NAME.to_owned(), String::from),
            re_enqueued: report.requeued.len() as u64,
            failed: errors.len() as u64,
            errors,
        }))
    }
}

impl SubmissionApi {
    async fn requeue_one(
        &self,
        auth: &ApiAuth,
        task_id: &str,
    ) -> Result<Json<RequeuedBody>, ApiError> {
        let task_id = parse_task_id(task_id)?;
        let submissions = self.state.submissions();
        let row = submissions
            .get_by_task(Some(&auth.0), task_id)
            .await
            .map_err(|e| match e {
                crate::submissions::SubmissionError::NotFound(_) => {
                    ApiError::not_found(format!("Job log not found for task ID: {task_id}"))
                }
                other => other.into(),
            })?;
        submissions.requeue(Some(&auth.0), &[row.id]).await?;
        Ok(Json(RequeuedBody {
            message: format!("Re-enqueued task {task_id}"),
            submission_id: row.id,
            task_id: task_id.to_string(),
            status: "queued".into(),
        }))
    }
}

fn submitter(auth: &ApiAuth, request: &Request, idempotency_key: Option<String>) -> Submitter {
    Submitter {
        user_id: Some(auth.0.user_id),
        ip: client_ip(request),
        idempotency_key,
    }
}
