//! The simulator's aggregate data: stored data values and data set completions, in memory.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

/// DHIS2's data value identity: data element, period, org unit, category and attribute combos.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueKey {
    pub data_element: String,
    pub period: String,
    pub org_unit: String,
    pub category_option_combo: String,
    pub attribute_option_combo: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredValue {
    pub value: Option<String>,
    pub comment: Option<String>,
    pub followup: bool,
    pub stored_by: String,
    pub created: NaiveDateTime,
    pub last_updated: NaiveDateTime,
    /// DHIS2 soft-deletes data values.
    pub deleted: bool,
}

/// Identity of a data set registration (completeness).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompletionKey {
    pub data_set: String,
    pub period: String,
    pub org_unit: String,
    pub attribute_option_combo: String,
}

#[derive(Debug, Default)]
pub struct DataStore {
    pub values: BTreeMap<ValueKey, StoredValue>,
    /// Completion date (`yyyy-MM-dd`) by registration.
    pub completions: HashMap<CompletionKey, String>,
}

impl DataStore {
    /// The current (not soft-deleted) value for `key`.
    pub fn live(&self, key: &ValueKey) -> Option<&StoredValue> {
        self.values.get(key).filter(|v| !v.deleted)
    }
}
