//! The metadata a simulated DHIS2 starts with: org units, data sets, users, tokens, programs.
//!
//! Deserialised from YAML (camelCase keys, like DHIS2's own JSON). The built-in seed lives in
//! `builtin_seed.yml` next to this file; `crates/dhis2-sim/tests/fixtures/sim-seed.yml` is a copy of it.

use std::path::Path;

use anyhow::Context as _;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

const BUILTIN_SEED: &str = include_str!("builtin_seed.yml");

/// Everything the simulator knows at start-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    #[serde(default = "default_system_name")]
    pub system_name: String,
    pub organisation_units: Vec<OrgUnit>,
    pub category_combos: Vec<CategoryCombo>,
    pub data_elements: Vec<DataElement>,
    pub data_sets: Vec<DataSet>,
    #[serde(default)]
    pub user_groups: Vec<UserGroup>,
    pub users: Vec<User>,
    #[serde(default)]
    pub api_tokens: Vec<ApiToken>,
    #[serde(default)]
    pub tracked_entity_types: Vec<TrackedEntityType>,
    #[serde(default)]
    pub programs: Vec<Program>,
    /// Generated surveillance data (`surveillance.rs`): hierarchy, diseases, weekly counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surveillance: Option<super::surveillance::Surveillance>,
}

fn default_system_name() -> String {
    "DHIS 2 simulator".to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgUnit {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub short_name: Option<String>,
    /// Absent for the root(s) of the hierarchy.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub opening_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryCombo {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    pub category_option_combos: Vec<CategoryOptionCombo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryOptionCombo {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataElement {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub short_name: Option<String>,
    /// DHIS2 value type: NUMBER, INTEGER, INTEGER_POSITIVE, INTEGER_ZERO_OR_POSITIVE,
    /// INTEGER_NEGATIVE, PERCENTAGE, UNIT_INTERVAL, BOOLEAN, TRUE_ONLY, TEXT, LONG_TEXT...
    #[serde(default = "default_value_type")]
    pub value_type: String,
    pub category_combo: String,
    /// DHIS2's default is false: a "0" for such an element is not stored.
    #[serde(default)]
    pub zero_is_significant: bool,
}

fn default_value_type() -> String {
    "NUMBER".to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataSet {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    /// `Monthly`, `Weekly`, `WeeklyWednesday`, `Quarterly`, `Yearly`, `Daily`...
    pub period_type: String,
    #[serde(default)]
    pub open_future_periods: u32,
    #[serde(default)]
    pub expiry_days: u32,
    /// The attribute category combo; the default combo when absent.
    #[serde(default)]
    pub category_combo: Option<String>,
    pub data_elements: Vec<String>,
    #[serde(default)]
    pub organisation_units: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserGroup {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password: String,
    pub first_name: String,
    pub surname: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub whats_app: Option<String>,
    #[serde(default)]
    pub telegram: Option<String>,
    /// `ALL` makes a superuser; `F_DATAVALUE_ADD` is needed to POST dataValueSets.
    #[serde(default)]
    pub authorities: Vec<String>,
    /// Data capture roots: the user may write data for these and their descendants.
    #[serde(default)]
    pub organisation_units: Vec<String>,
    #[serde(default)]
    pub user_groups: Vec<String>,
    #[serde(default)]
    pub disabled: bool,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.surname)
    }

    pub fn has_authority(&self, authority: &str) -> bool {
        self.authorities
            .iter()
            .any(|a| a == "ALL" || a == authority)
    }

    pub fn is_superuser(&self) -> bool {
        self.authorities.iter().any(|a| a == "ALL")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiToken {
    pub id: String,
    /// The full key as a client sends it: `d2pat_` + 32 chars + 10-digit CRC32.
    pub key: String,
    pub username: String,
    /// Server-local time after which the token is rejected; never expires when absent.
    #[serde(default)]
    pub expire: Option<NaiveDateTime>,
    /// When non-empty, other HTTP methods are rejected with 401.
    #[serde(default)]
    pub allowed_methods: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrackedEntityType {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Program {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    /// Present for tracker programs (WITH_REGISTRATION), absent for event programs.
    #[serde(default)]
    pub tracked_entity_type: Option<String>,
    #[serde(default)]
    pub program_stages: Vec<ProgramStage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgramStage {
    pub id: String,
    pub name: String,
}

impl Seed {
    /// The seed compiled into the binary (a small fictional country, see `builtin_seed.yml`).
    pub fn builtin() -> Self {
        Self::from_yaml(BUILTIN_SEED).expect("the built-in seed is valid")
    }

    pub fn from_yaml(text: &str) -> anyhow::Result<Self> {
        serde_yaml::from_str(text).context("invalid simulator seed YAML")
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read seed file {}", path.display()))?;
        Self::from_yaml(&text).with_context(|| format!("in seed file {}", path.display()))
    }
}

impl Default for Seed {
    fn default() -> Self {
        Self::builtin()
    }
}
