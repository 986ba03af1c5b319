//! The tracker importer: flattens nested payloads, validates references against the seed and
//! the user's capture scope, then persists per `atomicMode` and `importStrategy`.

use serde_json::Value;

use super::catalog::{Catalog, IdScheme, is_uid};
use super::ids::new_uid;
use super::import::text;
use super::seed::User;
use super::tracker_report::{Action, ErrorReport, ObjectReport, TrackerOutcome, TrackerType};
use super::tracker_store::TrackerStore;

/// One object of the flattened payload.
struct Item {
    kind: TrackerType,
    uid: String,
    /// Position within its type in the flattened payload.
    index: usize,
    body: Value,
}

pub struct TrackerImport<'a> {
    pub catalog: &'a Catalog,
    pub user: &'a User,
    /// `atomicMode=ALL` (default): one error rejects everything.
    pub atomic_all: bool,
    /// `importMode=VALIDATE`: nothing is persisted.
    pub validate_only: bool,
    /// CREATE | UPDATE | CREATE_AND_UPDATE | DELETE.
    pub strategy: String,
}

impl TrackerImport<'_> {
    pub fn run(&self, store: &mut TrackerStore, payload: &Value) -> TrackerOutcome {
        let items = flatten(payload);
        let mut errors: Vec<ErrorReport> = Vec::new();
        for item in &items {
            let failed_before: Vec<&str> = errors.iter().map(|e| e.uid.as_str()).collect();
            if let Some(error) = self.validate(item, &items, store, &failed_before) {
                errors.push(error);
            }
        }
        if (self.atomic_all && !errors.is_empty()) || self.validate_only {
            let ignored = if errors.is_empty() { 0 } else { items.len() };
            let bundle = (self.validate_only && errors.is_empty()).then(Vec::new);
            return TrackerOutcome {
                errors,
                bundle,
                ignored,
            };
        }
        let mut persisted = Vec::new();
        for item in items
            .iter()
            .filter(|i| !errors.iter().any(|e| e.uid == i.uid))
        {
            let action = if self.strategy == "DELETE" {
                store.remove(item.kind, &item.uid);
                Action::Deleted
            } else if store.contains(item.kind, &item.uid) {
                Action::Updated
            } else {
                store.insert(item.kind, &item.uid);
                Action::Created
            };
            persisted.push(ObjectReport {
                tracker_type: item.kind,
                uid: item.uid.clone(),
                index: item.index,
                action,
            });
        }
        let ignored = items.len() - persisted.len();
        TrackerOutcome {
            errors,
            bundle: Some(persisted),
            ignored,
        }
    }

    fn validate(
        &self,
        item: &Item,
        items: &[Item],
        store: &TrackerStore,
        failed: &[&str],
    ) -> Option<ErrorReport> {
        let error = |code: &'static str, message: String, args: Vec<String>| ErrorReport {
            message,
            error_code: code,
            tracker_type: item.kind,
            uid: item.uid.clone(),
            args,
        };
        if !is_uid(&item.uid) {
            let message = format!(
                "Object: `{}`, uid: `{}`, has an invalid uid format.",
                item.kind.as_str(),
                item.uid
            );
            return Some(error("E1048", message, vec![item.uid.clone()]));
        }
        if let Some((code, message, args)) = self.check_strategy(item, store) {
            return Some(error(code, message, args));
        }
        if let Some((code, message, args)) = self.check_references(item, items, store, failed) {
            return Some(error(code, message, args));
        }
        None
    }

    fn check_strategy(
        &self,
        item: &Item,
        store: &TrackerStore,
    ) -> Option<(&'static str, String, Vec<String>)> {
        let exists = store.contains(item.kind, &item.uid);
        let (name, exists_code, missing_code) = match item.kind {
            TrackerType::TrackedEntity => ("TrackedEntity", "E1002", "E1063"),
            TrackerType::Enrollment => ("Enrollment", "E1080", "E1081"),
            TrackerType::Event => ("Event", "E1030", "E1032"),
            TrackerType::Relationship => ("Relationship", "E4015", "E4016"),
        };
        let uid = item.uid.clone();
        match self.strategy.as_str() {
            "CREATE" if exists => Some((
                exists_code,
                format!("{name}: `{uid}`, already exists."),
                vec![uid],
            )),
            "UPDATE" | "DELETE" if !exists => Some((
                missing_code,
                format!("{name}: `{uid}`, does not exist."),
                vec![uid],
            )),
            _ => None,
        }
    }

    fn check_references(
        &self,
        item: &Item,
        items: &[Item],
        store: &TrackerStore,
        failed: &[&str],
    ) -> Option<(&'static str, String, Vec<String>)> {
        if self.strategy == "DELETE" || item.kind == TrackerType::Relationship {
            return None;
        }
        let field = |key: &str| text(&item.body, key).unwrap_or_default();
        let linked = match item.kind {
            TrackerType::TrackedEntity => "Tracked Entity",
            TrackerType::Enrollment => "Enrollment",
            _ => "Event",
        };
        let catalog = self.catalog;
        match item.kind {
            TrackerType::TrackedEntity => {
                let tet = field("trackedEntityType");
                if catalog.tracked_entity_type(&tet).is_none() {
                    return Some((
                        "E1005",
                        format!("Could not find TrackedEntityType: `{tet}`."),
                        vec![tet],
                    ));
                }
            }
            TrackerType::Enrollment => {
                let program = field("program");
                if catalog.program(&program).is_none() {
                    let message =
                        format!("Could not find Program: `{program}`, linked to Enrollment.");
                    return Some(("E1069", message, vec![program]));
                }
                let te = field("trackedEntity");
                let in_payload = items
                    .iter()
                    .any(|i| i.kind == TrackerType::TrackedEntity && i.uid == te);
                if !in_payload && !store.contains(TrackerType::TrackedEntity, &te) {
                    let message =
                        format!("Could not find TrackedEntity: `{te}`, linked to Enrollment.");
                    return Some(("E1068", message, vec![te]));
                }
            }
            _ => {
                let program = field("program");
                if catalog.program(&program).is_none() {
                    let message = format!("Could not find Program: `{program}`, linked to Event.");
                    return Some(("E1010", message, vec![program]));
                }
                let stage = field("programStage");
                if !catalog.has_program_stage(&stage) {
                    let message =
                        format!("Could not find ProgramStage: `{stage}`, linked to Event.");
                    return Some(("E1013", message, vec![stage]));
                }
            }
        }
        let ou = field("orgUnit");
        let Some(org_unit) = catalog.org_unit(&ou, IdScheme::Uid) else {
            let code = match item.kind {
                TrackerType::TrackedEntity => "E1049",
                TrackerType::Enrollment => "E1070",
                _ => "E1011",
            };
            let message = format!("Could not find OrganisationUnit: `{ou}`, linked to {linked}.");
            return Some((code, message, vec![ou]));
        };
        if !catalog.is_within(&org_unit.id, &self.user.organisation_units) {
            let user = self.user.username.clone();
            let message =
                format!("User: `{user}`, has no write access to OrganisationUnit: `{ou}`.");
            return Some(("E1000", message, vec![user, ou]));
        }
        self.check_parent(item, failed)
    }

    /// With atomicMode=OBJECT a child of a rejected parent is rejected too (E5000).
    fn check_parent(
        &self,
        item: &Item,
        failed: &[&str],
    ) -> Option<(&'static str, String, Vec<String>)> {
        let (parent_kind, parent_key) = match item.kind {
            TrackerType::Enrollment => (TrackerType::TrackedEntity, "trackedEntity"),
            TrackerType::Event => (TrackerType::Enrollment, "enrollment"),
            _ => return None,
        };
        let parent = text(&item.body, parent_key)?;
        failed.contains(&parent.as_str()).then(|| {
            let message = format!(
                "\"{}\" `{}` cannot be persisted because \"{}\" `{parent}` referenced by it cannot be persisted.",
                item.kind.as_str(),
                item.uid,
                parent_kind.as_str()
            );
            ("E5000", message, vec![item.uid.clone(), parent])
        })
    }
}

/// Nested (enrollments in tracked entities, events in enrollments) or flat: one list, grouped
/// by type, children linked to their parents, missing UIDs generated like the server does.
fn flatten(payload: &Value) -> Vec<Item> {
    let mut tracked_entities = Vec::new();
    let mut enrollments = Vec::new();
    let mut events = Vec::new();
    let mut relationships = Vec::new();
    for te in array(payload, "trackedEntities") {
        let uid = uid_of(te, "trackedEntity");
        for enrollment in array(te, "enrollments") {
            enrollments.push(with_parent(enrollment, "trackedEntity", &uid));
        }
        tracked_entities.push(with_uid(te, "trackedEntity", uid));
    }
    for enrollment in array(payload, "enrollments") {
        enrollments.push(enrollment.clone());
    }
    let mut flat_enrollments = Vec::new();
    for enrollment in enrollments {
        let uid = uid_of(&enrollment, "enrollment");
        let program = text(&enrollment, "program");
        for event in array(&enrollment, "events") {
            let mut event = with_parent(event, "enrollment", &uid);
            if let (Some(program), Some(object)) = (&program, event.as_object_mut()) {
                object
                    .entry("program")
                    .or_insert_with(|| Value::String(program.clone()));
            }
            events.push(event);
        }
        flat_enrollments.push(with_uid(&enrollment, "enrollment", uid));
    }
    events.extend(array(payload, "events").cloned());
    relationships.extend(array(payload, "relationships").cloned());
    let groups = [
        (
            TrackerType::TrackedEntity,
            "trackedEntity",
            tracked_entities,
        ),
        (TrackerType::Enrollment, "enrollment", flat_enrollments),
        (TrackerType::Event, "event", events),
        (TrackerType::Relationship, "relationship", relationships),
    ];
    groups
        .into_iter()
        .flat_map(|(kind, key, bodies)| {
            bodies
                .into_iter()
                .enumerate()
                .map(move |(index, body)| Item {
                    kind,
                    uid: uid_of(&body, key),
                    index,
                    body,
                })
        })
        .collect()
}

fn array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn uid_of(body: &Value, key: &str) -> String {
    text(body, key)
        .filter(|u| !u.is_empty())
        .unwrap_or_else(new_uid)
}

fn with_uid(body: &Value, key: &str, uid: String) -> Value {
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        object.insert(key.to_owned(), Value::String(uid));
    }
    body
}

fn with_parent(body: &Value, key: &str, parent: &str) -> Value {
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        object
            .entry(key)
            .or_insert_with(|| Value::String(parent.to_owned()));
    }
    body
}
