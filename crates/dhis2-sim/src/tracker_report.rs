//! The tracker `ImportReport` and its version-specific shapes:
//! - `bundleReport` is `{status,typeReportMap,stats}` up to 2.39, `{typeReportMap,empty}` in
//!   2.40 and `{typeReportMap}` from 2.41; it is absent when validation failed the import;
//! - object reports carry `index` up to 2.40; error reports carry `args` from 2.41.

use serde_json::{Map, Value, json};

use super::version::Dhis2Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackerType {
    TrackedEntity,
    Enrollment,
    Event,
    Relationship,
}

impl TrackerType {
    pub const ALL: [Self; 4] = [
        Self::Event,
        Self::Enrollment,
        Self::Relationship,
        Self::TrackedEntity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrackedEntity => "TRACKED_ENTITY",
            Self::Enrollment => "ENROLLMENT",
            Self::Event => "EVENT",
            Self::Relationship => "RELATIONSHIP",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReport {
    pub message: String,
    pub error_code: &'static str,
    pub tracker_type: TrackerType,
    pub uid: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectReport {
    pub tracker_type: TrackerType,
    pub uid: String,
    pub index: usize,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub ignored: usize,
}

impl Stats {
    fn count(&mut self, action: Action) {
        match action {
            Action::Created => self.created += 1,
            Action::Updated => self.updated += 1,
            Action::Deleted => self.deleted += 1,
        }
    }

    fn to_json(self) -> Value {
        json!({
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "ignored": self.ignored,
            "total": self.created + self.updated + self.deleted + self.ignored,
        })
    }
}

/// The result of one tracker import, rendered on demand for the version in force.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerOutcome {
    pub errors: Vec<ErrorReport>,
    /// Persisted objects; `None` when validation failed the whole import (no bundleReport).
    pub bundle: Option<Vec<ObjectReport>>,
    /// Objects not persisted.
    pub ignored: usize,
}

impl TrackerOutcome {
    pub fn status(&self) -> &'static str {
        if self.errors.is_empty() {
            "OK"
        } else {
            "ERROR"
        }
    }

    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            ignored: self.ignored,
            ..Stats::default()
        };
        for object in self.bundle.iter().flatten() {
            stats.count(object.action);
        }
        stats
    }

    pub fn to_json(&self, version: &Dhis2Version) -> Value {
        let errors: Vec<Value> = self.errors.iter().map(|e| error_json(e, version)).collect();
        let mut out = Map::new();
        out.insert("status".into(), json!(self.status()));
        out.insert(
            "validationReport".into(),
            json!({ "errorReports": errors, "warningReports": [] }),
        );
        out.insert("stats".into(), self.stats().to_json());
        if let Some(objects) = &self.bundle {
            out.insert("bundleReport".into(), self.bundle_json(objects, version));
        }
        Value::Object(out)
    }

    fn bundle_json(&self, objects: &[ObjectReport], version: &Dhis2Version) -> Value {
        let mut type_reports = Map::new();
        let mut bundle_stats = Stats::default();
        for kind in TrackerType::ALL {
            let mut stats = Stats::default();
            let reports: Vec<Value> = objects
                .iter()
                .filter(|o| o.tracker_type == kind)
                .map(|o| {
                    stats.count(o.action);
                    object_json(o, version)
                })
                .collect();
            bundle_stats.created += stats.created;
            bundle_stats.updated += stats.updated;
            bundle_stats.deleted += stats.deleted;
            let report = json!({ "trackerType": kind.as_str(), "stats": stats.to_json(), "objectReports": reports });
            type_reports.insert(kind.as_str().to_owned(), report);
        }
        let mut bundle = Map::new();
        if version.minor() <= 39 {
            bundle.insert("status".into(), json!(self.status()));
        }
        bundle.insert("typeReportMap".into(), Value::Object(type_reports));
        if version.minor() <= 39 {
            bundle.insert("stats".into(), bundle_stats.to_json());
        }
        if version.minor() == 40 {
            bundle.insert("empty".into(), json!(objects.is_empty()));
        }
        Value::Object(bundle)
    }
}

fn object_json(object: &ObjectReport, version: &Dhis2Version) -> Value {
    let mut out = Map::new();
    out.insert("trackerType".into(), json!(object.tracker_type.as_str()));
    out.insert("uid".into(), json!(object.uid));
    if version.has_tracker_object_index() {
        out.insert("index".into(), json!(object.index));
    }
    out.insert("errorReports".into(), json!([]));
    Value::Object(out)
}

fn error_json(error: &ErrorReport, version: &Dhis2Version) -> Value {
    let mut out = Map::new();
    out.insert("message".into(), json!(error.message));
    out.insert("errorCode".into(), json!(error.error_code));
    out.insert("trackerType".into(), json!(error.tracker_type.as_str()));
    out.insert("uid".into(), json!(error.uid));
    if version.has_tracker_error_args() {
        out.insert("args".into(), json!(error.args));
    }
    Value::Object(out)
}
