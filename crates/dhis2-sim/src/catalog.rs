//! The seed, checked and indexed: identifier lookups (UID/CODE/NAME), the org-unit hierarchy,
//! and the JSON representation of every metadata object served by the collection endpoints.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::seed::{
    CategoryOptionCombo, DataElement, DataSet, OrgUnit, Program, Seed, TrackedEntityType, User,
};

/// DHIS2 generates the default category combo with this UID on every database.
pub const DEFAULT_COC: &str = "HllvX50cXC0";

/// Timestamp shown as `created`/`lastUpdated` of all seeded metadata.
const SEEDED_AT: &str = "2024-01-01T00:00:00.000";

/// How payload identifiers are matched (`idScheme` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdScheme {
    Uid,
    Code,
    Name,
}

impl IdScheme {
    /// `uid`/`id`/`code`/`name`, case-insensitive; `None` for anything else (e.g. ATTRIBUTE:x,
    /// which the simulator does not emulate).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_uppercase().as_str() {
            "UID" | "ID" => Some(Self::Uid),
            "CODE" => Some(Self::Code),
            "NAME" => Some(Self::Name),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uid => "UID",
            Self::Code => "CODE",
            Self::Name => "NAME",
        }
    }
}

/// Anything addressable by uid, code or name.
pub trait Identifiable {
    fn uid(&self) -> &str;
    fn code(&self) -> Option<&str>;
    fn name(&self) -> &str;
}

macro_rules! identifiable {
    ($($ty:ty),*) => {$(
        impl Identifiable for $ty {
            fn uid(&self) -> &str { &self.id }
            fn code(&self) -> Option<&str> { self.code.as_deref() }
            fn name(&self) -> &str { &self.name }
        }
    )*};
}
identifiable!(OrgUnit, DataElement, DataSet, CategoryOptionCombo, Program);

fn find<'a, T: Identifiable>(items: &'a [T], key: &str, scheme: IdScheme) -> Option<&'a T> {
    items.iter().find(|item| match scheme {
        IdScheme::Uid => item.uid() == key,
        IdScheme::Code => item.code() == Some(key),
        IdScheme::Name => item.name() == key,
    })
}

/// One metadata collection as served under `/api/<name>`.
pub struct Collection {
    pub name: &'static str,
    /// The Java class name DHIS2 uses in "X with id Y could not be found."
    pub type_name: &'static str,
    pub objects: Vec<Value>,
}

pub struct Catalog {
    pub seed: Seed,
    paths: HashMap<String, String>,
    cocs: Vec<CategoryOptionCombo>,
    collections: Vec<Collection>,
    by_uid: HashMap<String, Value>,
}

impl Catalog {
    /// The catalog of a seed, without its JSON collections (see [`Self::with_collections`]).
    pub fn from_seed(seed: Seed) -> anyhow::Result<Self> {
        check_references(&seed)?;
        let paths = org_unit_paths(&seed.organisation_units)?;
        let cocs = seed
            .category_combos
            .iter()
            .flat_map(|cc| cc.category_option_combos.iter().cloned())
            .collect();
        Ok(Self {
            seed,
            paths,
            cocs,
            collections: Vec::new(),
            by_uid: HashMap::new(),
        })
    }

    /// The catalog with its objects rendered as DHIS2 JSON, indexed by UID.
    pub fn with_collections(mut self, collections: Vec<Collection>) -> Self {
        self.collections = collections;
        for collection in &self.collections {
            for object in &collection.objects {
                if let Some(id) = object["id"].as_str() {
                    self.by_uid.insert(id.to_owned(), object.clone());
                }
            }
        }
        self
    }

    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// The full JSON of any metadata object, whatever its type (UIDs are globally unique).
    pub fn object(&self, uid: &str) -> Option<&Value> {
        self.by_uid.get(uid)
    }

    pub fn data_set(&self, key: &str, scheme: IdScheme) -> Option<&DataSet> {
        find(&self.seed.data_sets, key, scheme)
    }

    pub fn data_element(&self, key: &str, scheme: IdScheme) -> Option<&DataElement> {
        find(&self.seed.data_elements, key, scheme)
    }

    pub fn org_unit(&self, key: &str, scheme: IdScheme) -> Option<&OrgUnit> {
        find(&self.seed.organisation_units, key, scheme)
    }

    pub fn category_option_combo(
        &self,
        key: &str,
        scheme: IdScheme,
    ) -> Option<&CategoryOptionCombo> {
        find(&self.cocs, key, scheme)
    }

    pub fn program(&self, uid: &str) -> Option<&Program> {
        find(&self.seed.programs, uid, IdScheme::Uid)
    }

    pub fn has_program_stage(&self, uid: &str) -> bool {
        self.seed
            .programs
            .iter()
            .any(|p| p.program_stages.iter().any(|s| s.id == uid))
    }

    pub fn tracked_entity_type(&self, uid: &str) -> Option<&TrackedEntityType> {
        self.seed.tracked_entity_types.iter().find(|t| t.id == uid)
    }

    pub fn user_by_username(&self, username: &str) -> Option<&User> {
        self.seed.users.iter().find(|u| u.username == username)
    }

    /// `/root/child/.../self`, as DHIS2 writes `path`.
    pub fn org_unit_path(&self, uid: &str) -> Option<&str> {
        self.paths.get(uid).map(String::as_str)
    }

    /// Depth in the hierarchy, the root being level 1.
    pub fn org_unit_level(&self, uid: &str) -> Option<usize> {
        self.org_unit_path(uid).map(|p| p.matches('/').count())
    }

    /// True when `uid` is one of `roots` or below one of them (the capture hierarchy check).
    pub fn is_within(&self, uid: &str, roots: &[String]) -> bool {
        self.org_unit_path(uid).is_some_and(|path| {
            path.split('/')
                .any(|ancestor| roots.iter().any(|root| root == ancestor))
        })
    }
}

fn check_references(seed: &Seed) -> anyhow::Result<()> {
    let mut seen = HashSet::new();
    let all_ids = seed
        .organisation_units
        .iter()
        .map(|o| &o.id)
        .chain(seed.category_combos.iter().map(|c| &c.id))
        .chain(
            seed.category_combos
                .iter()
                .flat_map(|c| c.category_option_combos.iter().map(|o| &o.id)),
        )
        .chain(seed.data_elements.iter().map(|d| &d.id))
        .chain(seed.data_sets.iter().map(|d| &d.id))
        .chain(seed.user_groups.iter().map(|g| &g.id))
        .chain(seed.users.iter().map(|u| &u.id))
        .chain(seed.api_tokens.iter().map(|t| &t.id))
        .chain(seed.tracked_entity_types.iter().map(|t| &t.id))
        .chain(seed.programs.iter().map(|p| &p.id))
        .chain(
            seed.programs
                .iter()
                .flat_map(|p| p.program_stages.iter().map(|s| &s.id)),
        );
    for id in all_ids {
        anyhow::ensure!(is_uid(id), "seed id {id:?} is not a DHIS2 UID");
        anyhow::ensure!(seen.insert(id.as_str()), "seed id {id} is used twice");
    }
    let has = |id: &str| seen.contains(id);
    for de in &seed.data_elements {
        anyhow::ensure!(
            has(&de.category_combo),
            "data element {}: unknown categoryCombo",
            de.id
        );
    }
    for ds in &seed.data_sets {
        for id in ds
            .data_elements
            .iter()
            .chain(&ds.organisation_units)
            .chain(&ds.category_combo)
        {
            anyhow::ensure!(has(id), "data set {}: unknown reference {id}", ds.id);
        }
    }
    for user in &seed.users {
        for id in user.organisation_units.iter().chain(&user.user_groups) {
            anyhow::ensure!(has(id), "user {}: unknown reference {id}", user.username);
        }
    }
    for token in &seed.api_tokens {
        anyhow::ensure!(
            seed.users.iter().any(|u| u.username == token.username),
            "api token {}: unknown user {}",
            token.id,
            token.username
        );
    }
    Ok(())
}

fn org_unit_paths(org_units: &[OrgUnit]) -> anyhow::Result<HashMap<String, String>> {
    let parents: HashMap<&str, Option<&str>> = org_units
        .iter()
        .map(|o| (o.id.as_str(), o.parent.as_deref()))
        .collect();
    let mut paths = HashMap::new();
    for ou in org_units {
        let mut chain = vec![ou.id.as_str()];
        let mut current = ou.parent.as_deref();
        while let Some(parent) = current {
            anyhow::ensure!(
                !chain.contains(&parent),
                "org unit {} is in a parent cycle",
                ou.id
            );
            let grand = parents
                .get(parent)
                .ok_or_else(|| anyhow::anyhow!("org unit {}: unknown parent {parent}", ou.id))?;
            chain.push(parent);
            current = *grand;
        }
        chain.reverse();
        paths.insert(ou.id.clone(), format!("/{}", chain.join("/")));
    }
    Ok(paths)
}

/// DHIS2 UID rule: 11 characters, a letter first, then letters and digits.
pub fn is_uid(candidate: &str) -> bool {
    let bytes = candidate.as_bytes();
    bytes.len() == 11
        && bytes[0].is_ascii_alphabetic()
        && bytes.iter().all(u8::is_ascii_alphanumeric)
}

/// `{"id": uid}`: how DHIS2 renders a reference to another object.
pub fn reference(uid: &str) -> Value {
    json!({ "id": uid })
}

/// Common identifiable properties (`id, code, name, displayName, created, lastUpdated`).
pub fn identifiable_json(id: &str, code: Option<&str>, name: &str) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), json!(id));
    if let Some(code) = code {
        object.insert("code".into(), json!(code));
    }
    object.insert("name".into(), json!(name));
    object.insert("displayName".into(), json!(name));
    object.insert("created".into(), json!(SEEDED_AT));
    object.insert("lastUpdated".into(), json!(SEEDED_AT));
    object
}
