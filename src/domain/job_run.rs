//! A run of a scheduled job as the `job_runs` table records it: which job, which firing, what
//! started it, where it ran and how it ended. Defined once here, read by `db/` and shown by the
//! API and the CLI.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::Serialize;
use serde_json::Value;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, Serialize)]
#[oai(rename = "JobTrigger", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Its cron expression fired.
    Schedule,
    /// `POST /api/v2/jobs/{name}/run` or `dhis2gw run-job`.
    Manual,
    /// At start, the latest firing missed while no instance was running.
    CatchUp,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, Serialize)]
#[oai(rename = "JobOutcome", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    /// Not run: the previous run was still going, or the job is not configured (`error` says).
    Skipped,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(Trigger { Schedule => "schedule", Manual => "manual", CatchUp => "catch_up" });
text_enum!(Outcome { Ok => "ok", Failed => "failed", Skipped => "skipped" });

/// One row of `job_runs`. `outcome` is `null` while the run is going.
#[derive(Debug, Clone, PartialEq, Object, Serialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    /// The firing this run is for (for a manual run, when it was asked for).
    pub scheduled_for: DateTime<Utc>,
    pub trigger: Trigger,
    /// `host:pid` of the dhis2gw that ran it.
    pub instance: String,
    pub started_at: DateTime<Utc>,
    #[oai(nullable)]
    pub finished_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub outcome: Option<Outcome>,
    /// What the job did, by name (`requeued`, `fetched`, ...).
    pub counts: Value,
    /// Why it failed or was skipped.
    #[oai(nullable)]
    pub error: Option<String>,
}

impl JobRun {
    /// Milliseconds from start to finish, once finished.
    pub fn duration_ms(&self) -> Option<i64> {
        self.finished_at
            .map(|end| (end - self.started_at).num_milliseconds())
    }
}
