//! Tracker objects the simulator has persisted, by type and UID (to tell created from updated).

use std::collections::{HashMap, HashSet};

use super::tracker_report::TrackerType;

#[derive(Debug, Default)]
pub struct TrackerStore {
    objects: HashMap<TrackerType, HashSet<String>>,
}

impl TrackerStore {
    pub fn contains(&self, kind: TrackerType, uid: &str) -> bool {
        self.objects
            .get(&kind)
            .is_some_and(|uids| uids.contains(uid))
    }

    /// The UIDs stored of a type.
    pub fn uids(&self, kind: TrackerType) -> Vec<String> {
        self.objects
            .get(&kind)
            .map(|u| u.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn insert(&mut self, kind: TrackerType, uid: &str) {
        self.objects.entry(kind).or_default().insert(uid.to_owned());
    }

    pub fn remove(&mut self, kind: TrackerType, uid: &str) {
        if let Some(uids) = self.objects.get_mut(&kind) {
            uids.remove(uid);
        }
    }
}
