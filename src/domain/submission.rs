//! A submission as the log records it: where it is in its life ([`Status`]), what it carries
//! ([`Kind`]) and the whole record ([`Submission`]) that the API, the CLI and the console show.
//! Defined once here, below `db/` (which reads it) and `http/` (which documents it).

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Where a submission is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, Serialize)]
#[oai(rename = "SubmissionStatus", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Processing,
    Retrying,
    Completed,
    CompletedWithConflicts,
    Failed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Processing,
        Status::Retrying,
        Status::Completed,
        Status::CompletedWithConflicts,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Processing => "processing",
            Status::Retrying => "retrying",
            Status::Completed => "completed",
            Status::CompletedWithConflicts => "completed_with_conflicts",
            Status::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still owed a delivery: queued, processing or retrying.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Queued | Status::Processing | Status::Retrying)
    }
}

/// What a submission carries: aggregate data values or tracker objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[oai(rename = "SubmissionKind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Aggregate,
    Tracker,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Aggregate => "aggregate",
            Kind::Tracker => "tracker",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "aggregate" => Some(Kind::Aggregate),
            "tracker" => Some(Kind::Tracker),
            _ => None,
        }
    }
}

/// One submission as the log holds it, the same shape in the API (list and detail), the CLI's
/// JSON and the console. Absent values are `null`.
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
#[oai(rename = "LogItem")]
pub struct Submission {
    pub id: i64,
    pub task_id: Uuid,
    pub kind: Kind,
    pub status: Status,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[oai(nullable)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next retry is due (status `retrying`).
    #[oai(nullable)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub completed_at: Option<DateTime<Utc>>,
    /// Delivery attempts made.
    pub attempts: i32,
    /// Retries used in the current round (reset by a requeue).
    pub retry_count: i32,
    pub requeue_count: i32,
    #[oai(nullable)]
    pub user_id: Option<i64>,
    #[oai(nullable)]
    pub username: Option<String>,
    #[oai(nullable)]
    pub source_ip: Option<String>,
    #[oai(nullable)]
    pub idempotency_key: Option<String>,
    /// The source system's namespace of mappings.
    pub source: String,
    /// The instance's namespace of mappings within the source.
    pub instance: String,
    #[oai(nullable)]
    pub org_unit: Option<String>,
    #[oai(nullable)]
    pub period: Option<String>,
    #[oai(nullable)]
    pub data_set: Option<String>,
    /// The request as received.
    pub payload: Value,
    /// The payload sent to DHIS2.
    pub dhis2_payload: Value,
    pub unmapped: Vec<String>,
    /// DHIS2's raw answer (when `api.save_response`).
    #[oai(nullable)]
    pub response: Option<String>,
    #[oai(nullable)]
    pub response_status: Option<i32>,
    #[oai(nullable)]
    pub imported: Option<i32>,
    #[oai(nullable)]
    pub updated: Option<i32>,
    #[oai(nullable)]
    pub ignored: Option<i32>,
    #[oai(nullable)]
    pub deleted: Option<i32>,
    /// DHIS2's conflicts: `object`, `objects`, `value`, `errorCode`, `property`, `indexes`.
    pub conflicts: Value,
    /// Why the last attempt failed, in one line.
    #[oai(nullable)]
    pub errors: Option<String>,
}
