//! The `ImportSummary` of an aggregate import and its conflicts, serialised per version.
//!
//! Conflicts with the same error code and the same objects are merged into one entry whose
//! `indexes` lists every payload position (0-based); set-level conflicts carry no `indexes`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::version::Dhis2Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    Success,
    Warning,
    Error,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCount {
    pub imported: u32,
    pub updated: u32,
    pub ignored: u32,
    pub deleted: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Schema singular name (or property) → raw identifier from the payload, in order.
    pub objects: Vec<(&'static str, String)>,
    pub message: String,
    pub error_code: &'static str,
    pub property: &'static str,
    pub indexes: Option<Vec<usize>>,
}

impl Conflict {
    pub fn new(
        error_code: &'static str,
        property: &'static str,
        objects: Vec<(&'static str, String)>,
        message: String,
    ) -> Self {
        Self {
            objects,
            message,
            error_code,
            property,
            indexes: None,
        }
    }

    fn to_json(&self) -> Value {
        let mut out = Map::new();
        let first = self.objects.first().map(|(_, v)| v.clone());
        if let Some(first) = first {
            out.insert("object".into(), json!(first));
        }
        let objects: Map<String, Value> = self
            .objects
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        out.insert("objects".into(), Value::Object(objects));
        out.insert("value".into(), json!(self.message));
        out.insert("errorCode".into(), json!(self.error_code));
        out.insert("property".into(), json!(self.property));
        if let Some(indexes) = &self.indexes {
            out.insert("indexes".into(), json!(indexes));
        }
        Value::Object(out)
    }
}

#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub status: ImportStatus,
    pub description: String,
    pub count: ImportCount,
    pub conflicts: Vec<Conflict>,
    pub rejected: BTreeSet<usize>,
    /// `"false"` or the completion date; `None` when the import was aborted or failed.
    pub data_set_complete: Option<String>,
    pub import_options: Value,
}

impl ImportSummary {
    pub fn new(import_options: Value) -> Self {
        Self {
            status: ImportStatus::Success,
            description: "Import process completed successfully".to_owned(),
            count: ImportCount::default(),
            conflicts: Vec::new(),
            rejected: BTreeSet::new(),
            data_set_complete: None,
            import_options,
        }
    }

    /// A summary for an import that threw (e.g. unparsable JSON).
    pub fn failed(import_options: Value, reason: &str) -> Self {
        let mut summary = Self::new(import_options);
        summary.status = ImportStatus::Error;
        summary.description = format!("The import process failed: {reason}");
        summary
    }

    /// A set-level conflict: the import is aborted.
    pub fn abort(&mut self, conflict: Conflict) {
        self.status = ImportStatus::Error;
        self.description = "Import process was aborted".to_owned();
        self.conflicts.push(conflict);
    }

    /// A value-level conflict at payload position `index`; the value is rejected (ignored).
    pub fn reject(&mut self, index: usize, mut conflict: Conflict) {
        self.count.ignored += 1;
        self.rejected.insert(index);
        let same = self
            .conflicts
            .iter_mut()
            .find(|c| c.error_code == conflict.error_code && c.objects == conflict.objects);
        match same {
            Some(existing) => existing.indexes.get_or_insert_with(Vec::new).push(index),
            None => {
                conflict.indexes = Some(vec![index]);
                self.conflicts.push(conflict);
            }
        }
    }

    /// WARNING when values were rejected, unless the import already failed.
    pub fn settle_status(&mut self) {
        if self.status != ImportStatus::Error && !self.conflicts.is_empty() {
            self.status = ImportStatus::Warning;
        }
    }

    pub fn to_json(&self, version: &Dhis2Version) -> Value {
        let mut out = Map::new();
        out.insert("responseType".into(), json!("ImportSummary"));
        out.insert("status".into(), json!(self.status.as_str()));
        out.insert("importOptions".into(), self.import_options.clone());
        out.insert("description".into(), json!(self.description));
        out.insert(
            "importCount".into(),
            json!({
                "imported": self.count.imported,
                "updated": self.count.updated,
                "ignored": self.count.ignored,
                "deleted": self.count.deleted,
            }),
        );
        let conflicts: Vec<Value> = self.conflicts.iter().map(Conflict::to_json).collect();
        out.insert("conflicts".into(), Value::Array(conflicts));
        if version.has_rejected_indexes() {
            out.insert("rejectedIndexes".into(), json!(self.rejected));
        }
        if let Some(complete) = &self.data_set_complete {
            out.insert("dataSetComplete".into(), json!(complete));
        }
        Value::Object(out)
    }
}
