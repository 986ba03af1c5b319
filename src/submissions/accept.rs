//! Accepting a submission: validate, map, log (committed before the answer), enqueue; and the
//! idempotency-key rules (same key + same body = the first submission; other body = conflict).

use std::net::IpAddr;

use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::{Problem, SubmissionError};
use super::mapping::MappingIndex;
use super::{Submissions, aggregate, tracker};
use crate::db::submissions::{self, Inserted, Kind, NewSubmission, Status};

/// Longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 255;

/// Who sent a submission, and how.
#[derive(Debug, Clone, Default)]
pub struct Submitter {
    pub user_id: Option<i64>,
    pub ip: Option<IpAddr>,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
}

/// The answer to an accepted submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub submission_id: i64,
    pub task_id: Uuid,
    pub kind: Kind,
    /// The DHIS2 payload that will be sent.
    pub payload: Value,
    pub unmapped: Vec<String>,
    pub status: Status,
    /// True when an earlier submission with the same idempotency key and body was returned.
    pub replayed: bool,
}

impl Submissions {
    /// `POST /api/v2/aggregate`.
    #[tracing::instrument(name = "accept_aggregate", skip_all, fields(user_id = who.user_id, submission_id = tracing::field::Empty))]
    pub async fn accept_aggregate(
        &self,
        who: &Submitter,
        body: &Value,
    ) -> Result<Accepted, SubmissionError> {
        let result = self.aggregate(who, body).await;
        crate::metrics::submission_outcome(Kind::Aggregate, &result, |a| a.replayed);
        result
    }

    async fn aggregate(&self, who: &Submitter, body: &Value) -> Result<Accepted, SubmissionError> {
        check_key(who)?;
        let request = match aggregate::parse(body) {
            Ok(request) => request,
            Err(problems) => return Err(self.with_org_unit_problem(body, problems).await),
        };
        let settings = self.settings();
        let rows = self
            .mappings()
            .namespace(self.db(), &request.source, &request.instance)
            .await?;
        let index = MappingIndex::new(
            &rows,
            settings.api.mapping_scheme,
            request.data_set.as_str(),
        );
        let mapped = aggregate::map(&request, &index).map_err(SubmissionError::Invalid)?;
        let submission = NewSubmission {
            task_id: Uuid::new_v4(),
            kind: Kind::Aggregate,
            user_id: who.user_id,
            source_ip: who.ip,
            idempotency_key: who.idempotency_key.clone(),
            body_hash: body_hash(Kind::Aggregate, body),
            source_name: request.source.clone(),
            instance_name: request.instance.clone(),
            org_unit: Some(mapped.org_unit.clone()),
            period: Some(request.period.to_string()),
            data_set: Some(request.data_set.to_string()),
            payload: body.clone(),
            dhis2_payload: serde_json::to_string(&mapped.payload)
                .map_err(|e| SubmissionError::Internal(e.to_string()))?,
            unmapped: mapped.unmapped.clone(),
        };
        self.log(who, submission, mapped.payload, mapped.unmapped)
            .await
    }

    /// A request failed validation before its org unit could be mapped: check the org unit
    /// too, so that every bad field is named in one answer.
    async fn with_org_unit_problem(
        &self,
        body: &Value,
        mut problems: Vec<Problem>,
    ) -> SubmissionError {
        let namespace = |field: &str| {
            body.get(field)
                .and_then(Value::as_str)
                .unwrap_or(aggregate::DEFAULT_NAMESPACE)
                .to_owned()
        };
        let org_unit = body
            .get("orgUnit")
            .and_then(Value::as_str)
            .filter(|ou| !ou.trim().is_empty());
        if let Some(org_unit) = org_unit.filter(|ou| crate::domain::uid::Uid::parse(ou).is_err()) {
            let (source, instance) = (namespace("source"), namespace("instance"));
            let rows = self
                .mappings()
                .namespace(self.db(), &source, &instance)
                .await
                .ok();
            if let Some(rows) = rows {
                let index = MappingIndex::new(&rows, self.settings().api.mapping_scheme, "");
                if let Some(problem) =
                    aggregate::org_unit_problem(org_unit, &source, &instance, &index)
                {
                    problems.insert(0, problem);
                }
            }
        }
        SubmissionError::Invalid(problems)
    }

    /// `POST /api/v2/tracker`: the payload is checked and sent as received.
    #[tracing::instrument(name = "accept_tracker", skip_all, fields(user_id = who.user_id, submission_id = tracing::field::Empty))]
    pub async fn accept_tracker(
        &self,
        who: &Submitter,
        body: &Value,
    ) -> Result<Accepted, SubmissionError> {
        let result = self.tracker(who, body).await;
        crate::metrics::submission_outcome(Kind::Tracker, &result, |a| a.replayed);
        result
    }

    async fn tracker(&self, who: &Submitter, body: &Value) -> Result<Accepted, SubmissionError> {
        check_key(who)?;
        let summary = tracker::validate(body).map_err(SubmissionError::Invalid)?;
        let submission = NewSubmission {
            task_id: Uuid::new_v4(),
            kind: Kind::Tracker,
            user_id: who.user_id,
            source_ip: who.ip,
            idempotency_key: who.idempotency_key.clone(),
            body_hash: body_hash(Kind::Tracker, body),
            source_name: aggregate::DEFAULT_NAMESPACE.to_owned(),
            instance_name: aggregate::DEFAULT_NAMESPACE.to_owned(),
            org_unit: summary.org_unit,
            period: None,
            data_set: None,
            payload: body.clone(),
            dhis2_payload: serde_json::to_string(body)
                .map_err(|e| SubmissionError::Internal(e.to_string()))?,
            unmapped: Vec::new(),
        };
        self.log(who, submission, body.clone(), Vec::new()).await
    }

    /// Logs and enqueues a new submission, or resolves its idempotency key to an earlier one.
    pub(super) async fn log(
        &self,
        who: &Submitter,
        submission: NewSubmission,
        payload: Value,
        unmapped: Vec<String>,
    ) -> Result<Accepted, SubmissionError> {
        let kind = submission.kind;
        let hash = submission.body_hash.clone();
        match self.0.inserter.insert(submission).await? {
            Inserted::New { id, task_id } => {
                crate::db::audit::note_submission(id);
                tracing::Span::current().record("submission_id", id);
                tracing::info!(submission_id = id, %task_id, kind = kind.as_str(), "submission accepted");
                Ok(Accepted {
                    submission_id: id,
                    task_id,
                    kind,
                    payload,
                    unmapped,
                    status: Status::Queued,
                    replayed: false,
                })
            }
            Inserted::Existing { id, body_hash, .. } if body_hash != hash => {
                Err(SubmissionError::IdempotencyMismatch {
                    key: who.idempotency_key.clone().unwrap_or_default(),
                    submission_id: id,
                })
            }
            Inserted::Existing { id, .. } => {
                let db = self.db().get().await?;
                let row = submissions::list::get(&db, id).await?.ok_or_else(|| {
                    SubmissionError::NotFound(format!("submission {id} vanished"))
                })?;
                Ok(Accepted {
                    submission_id: row.id,
                    task_id: row.task_id,
                    kind: row.kind,
                    payload: row.dhis2_payload,
                    unmapped: row.unmapped,
                    status: row.status,
                    replayed: true,
                })
            }
        }
    }
}

pub(super) fn check_key(who: &Submitter) -> Result<(), SubmissionError> {
    let Some(key) = &who.idempotency_key else {
        return Ok(());
    };
    let problem = if key.is_empty() {
        Some("must not be empty".to_owned())
    } else if key.len() > MAX_KEY_LEN {
        Some(format!("must be at most {MAX_KEY_LEN} characters"))
    } else if !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        Some("must be printable ASCII".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(SubmissionError::Invalid(vec![Problem::new(
            "Idempotency-Key",
            message,
        )])),
        None => Ok(()),
    }
}

/// SHA-256 of the kind and the request's canonical JSON (object keys sorted, numbers as
/// written), so the same data sent with other spacing or key order counts as the same body.
pub fn body_hash(kind: Kind, body: &Value) -> String {
    let canonical = serde_json::to_string(body).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(kind.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}
