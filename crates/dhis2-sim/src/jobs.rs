//! Asynchronous jobs: the notifier entries served by `/api/system/tasks/...` and
//! `/api/tracker/jobs/{id}`, the stored import summaries and tracker reports.
//!
//! The simulator runs every job to completion before answering the POST, so a poller always
//! sees a finished job; the notification sequences mirror what each version writes.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use serde_json::{Map, Value, json};

use super::ids::{new_uid, timestamp};
use super::tracker_report::TrackerOutcome;

#[derive(Debug, Clone)]
pub struct Notification {
    pub uid: String,
    pub level: &'static str,
    pub category: &'static str,
    pub time: NaiveDateTime,
    pub message: String,
    pub completed: bool,
    /// `dataType` and `data` (2.41 writes the job parameters into the first entry).
    pub data: Option<(&'static str, Value)>,
}

impl Notification {
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("uid".into(), json!(self.uid));
        out.insert("level".into(), json!(self.level));
        out.insert("category".into(), json!(self.category));
        out.insert("time".into(), json!(timestamp(self.time)));
        out.insert("message".into(), json!(self.message));
        out.insert("completed".into(), json!(self.completed));
        if let Some((data_type, data)) = &self.data {
            out.insert("dataType".into(), json!(data_type));
            out.insert("data".into(), data.clone());
        }
        out.insert("id".into(), json!(self.uid));
        Value::Object(out)
    }
}

/// Builds a job's notifications oldest first, a millisecond apart.
pub struct Timeline {
    category: &'static str,
    start: NaiveDateTime,
    entries: Vec<Notification>,
}

impl Timeline {
    pub fn new(category: &'static str, start: NaiveDateTime) -> Self {
        Self {
            category,
            start,
            entries: Vec::new(),
        }
    }

    /// Adds an entry with its own uid (2.41 style and DATAVALUE_IMPORT).
    pub fn push(
        &mut self,
        level: &'static str,
        message: impl Into<String>,
        completed: bool,
    ) -> &mut Notification {
        self.push_with_uid(new_uid(), level, message, completed)
    }

    /// Adds an entry whose uid is given (2.38–2.40 tracker entries reuse the job id).
    pub fn push_with_uid(
        &mut self,
        uid: String,
        level: &'static str,
        message: impl Into<String>,
        completed: bool,
    ) -> &mut Notification {
        let offset = i64::try_from(self.entries.len()).unwrap_or(0);
        self.entries.push(Notification {
            uid,
            level,
            category: self.category,
            time: self.start + Duration::milliseconds(offset),
            message: message.into(),
            completed,
            data: None,
        });
        self.entries.last_mut().expect("just pushed")
    }

    pub fn into_entries(self) -> Vec<Notification> {
        self.entries
    }
}

#[derive(Default)]
pub struct JobBoard {
    notifications: HashMap<String, Vec<Notification>>,
    summaries: HashMap<String, Value>,
    tracker_reports: HashMap<String, TrackerOutcome>,
}

impl JobBoard {
    pub fn add_notifications(&mut self, job: &str, entries: Vec<Notification>) {
        self.notifications.insert(job.to_owned(), entries);
    }

    /// Newest first, as the notifier answers; empty for an unknown job.
    pub fn notifications(&self, job: &str) -> Value {
        let entries = self.notifications.get(job).into_iter().flatten().rev();
        Value::Array(entries.map(Notification::to_json).collect())
    }

    pub fn add_summary(&mut self, job: &str, summary: Value) {
        self.summaries.insert(job.to_owned(), summary);
    }

    pub fn summary(&self, job: &str) -> Option<&Value> {
        self.summaries.get(job)
    }

    pub fn add_tracker_report(&mut self, job: &str, outcome: TrackerOutcome) {
        self.tracker_reports.insert(job.to_owned(), outcome);
    }

    pub fn tracker_report(&self, job: &str) -> Option<&TrackerOutcome> {
        self.tracker_reports.get(job)
    }
}
