//! Renders the seed as DHIS2 metadata JSON, one list per collection (`/api/dataSets`...).
//!
//! References are stored as `{"id": ...}`, which is exactly what DHIS2 prints when a reference
//! field is requested without nested fields; the field filter resolves them when asked for more.

use serde_json::{Value, json};

use super::catalog::{Catalog, Collection, identifiable_json, reference};
use super::seed::{Seed, User};

/// The catalog of a seed with every collection rendered.
pub fn build(seed: Seed) -> anyhow::Result<Catalog> {
    let catalog = Catalog::from_seed(seed)?;
    let collections = collections(&catalog);
    Ok(catalog.with_collections(collections))
}

fn collections(catalog: &Catalog) -> Vec<Collection> {
    let seed = &catalog.seed;
    vec![
        collection("organisationUnits", "OrganisationUnit", org_units(catalog)),
        collection("categoryCombos", "CategoryCombo", category_combos(seed)),
        collection(
            "categoryOptionCombos",
            "CategoryOptionCombo",
            category_option_combos(seed),
        ),
        collection("dataElements", "DataElement", data_elements(seed)),
        collection("dataSets", "DataSet", data_sets(seed)),
        collection("userGroups", "UserGroup", user_groups(seed)),
        collection("users", "User", users(seed)),
        collection(
            "trackedEntityTypes",
            "TrackedEntityType",
            tracked_entity_types(seed),
        ),
        collection("programs", "Program", programs(seed)),
        collection("programStages", "ProgramStage", program_stages(seed)),
    ]
}

fn collection(name: &'static str, type_name: &'static str, objects: Vec<Value>) -> Collection {
    Collection {
        name,
        type_name,
        objects,
    }
}

fn refs<'a>(ids: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Array(ids.into_iter().map(|id| reference(id)).collect())
}

/// DHIS2's `UserPropertyTransformer`: members of groups/org units are always rendered as exactly
/// these five keys, `code` explicitly null, whatever `fields` asked for.
fn transformed_user(user: &User) -> Value {
    json!({
        "id": user.id,
        "code": null,
        "name": user.display_name(),
        "displayName": user.display_name(),
        "username": user.username,
    })
}

fn org_units(catalog: &Catalog) -> Vec<Value> {
    let seed = &catalog.seed;
    // Children by parent, gathered once (a scan per org unit is quadratic: a minute for the
    // 52 000 org units of a benchmark's country).
    let mut children_of: std::collections::HashMap<&str, Vec<&String>> =
        std::collections::HashMap::new();
    for c in &seed.organisation_units {
        if let Some(parent) = c.parent.as_deref() {
            children_of.entry(parent).or_default().push(&c.id);
        }
    }
    seed.organisation_units
        .iter()
        .map(|ou| {
            let mut o = identifiable_json(&ou.id, ou.code.as_deref(), &ou.name);
            let short = ou.short_name.clone().unwrap_or_else(|| ou.name.clone());
            o.insert("shortName".into(), json!(short));
            o.insert("displayShortName".into(), json!(short));
            o.insert("level".into(), json!(catalog.org_unit_level(&ou.id)));
            o.insert("path".into(), json!(catalog.org_unit_path(&ou.id)));
            if let Some(parent) = &ou.parent {
                o.insert("parent".into(), reference(parent));
            }
            if let Some(opening) = &ou.opening_date {
                o.insert(
                    "openingDate".into(),
                    json!(format!("{opening}T00:00:00.000")),
                );
            }
            let children = children_of.get(ou.id.as_str()).into_iter().flatten();
            o.insert("children".into(), refs(children.copied()));
            let data_sets = seed
                .data_sets
                .iter()
                .filter(|ds| ds.organisation_units.contains(&ou.id))
                .map(|ds| &ds.id);
            o.insert("dataSets".into(), refs(data_sets));
            let members = seed
                .users
                .iter()
                .filter(|u| u.organisation_units.contains(&ou.id))
                .map(transformed_user);
            o.insert("users".into(), Value::Array(members.collect()));
            Value::Object(o)
        })
        .collect()
}

fn category_combos(seed: &Seed) -> Vec<Value> {
    seed.category_combos
        .iter()
        .map(|cc| {
            let mut o = identifiable_json(&cc.id, cc.code.as_deref(), &cc.name);
            o.insert("dataDimensionType".into(), json!("DISAGGREGATION"));
            o.insert("isDefault".into(), json!(cc.name == "default"));
            let cocs = cc.category_option_combos.iter().map(|c| &c.id);
            o.insert("categoryOptionCombos".into(), refs(cocs));
            Value::Object(o)
        })
        .collect()
}

fn category_option_combos(seed: &Seed) -> Vec<Value> {
    seed.category_combos
        .iter()
        .flat_map(|cc| {
            cc.category_option_combos.iter().map(|coc| {
                let mut o = identifiable_json(&coc.id, coc.code.as_deref(), &coc.name);
                o.insert("categoryCombo".into(), reference(&cc.id));
                o.insert("ignoreApproval".into(), json!(false));
                Value::Object(o)
            })
        })
        .collect()
}

fn data_set_elements(seed: &Seed, keep: impl Fn(&str, &str) -> bool) -> Value {
    let elements = seed.data_sets.iter().flat_map(|ds| {
        ds.data_elements
            .iter()
            .filter(|de| keep(&ds.id, de))
            .map(|de| json!({ "dataSet": reference(&ds.id), "dataElement": reference(de) }))
    });
    Value::Array(elements.collect())
}

fn data_elements(seed: &Seed) -> Vec<Value> {
    seed.data_elements
        .iter()
        .map(|de| {
            let mut o = identifiable_json(&de.id, de.code.as_deref(), &de.name);
            let short = de.short_name.clone().unwrap_or_else(|| de.name.clone());
            o.insert("shortName".into(), json!(short));
            o.insert("valueType".into(), json!(de.value_type));
            o.insert("domainType".into(), json!("AGGREGATE"));
            o.insert("aggregationType".into(), json!("SUM"));
            o.insert("zeroIsSignificant".into(), json!(de.zero_is_significant));
            o.insert("categoryCombo".into(), reference(&de.category_combo));
            let dses = data_set_elements(seed, |_, element| element == de.id);
            o.insert("dataSetElements".into(), dses);
            Value::Object(o)
        })
        .collect()
}

fn data_sets(seed: &Seed) -> Vec<Value> {
    let default_combo = seed
        .category_combos
        .iter()
        .find(|cc| cc.name == "default")
        .map(|cc| cc.id.clone());
    seed.data_sets
        .iter()
        .map(|ds| {
            let mut o = identifiable_json(&ds.id, ds.code.as_deref(), &ds.name);
            o.insert("shortName".into(), json!(ds.name));
            o.insert("periodType".into(), json!(ds.period_type));
            o.insert("openFuturePeriods".into(), json!(ds.open_future_periods));
            o.insert("expiryDays".into(), json!(ds.expiry_days));
            if let Some(combo) = ds.category_combo.as_ref().or(default_combo.as_ref()) {
                o.insert("categoryCombo".into(), reference(combo));
            }
            let dses = data_set_elements(seed, |set, _| set == ds.id);
            o.insert("dataSetElements".into(), dses);
            o.insert("organisationUnits".into(), refs(&ds.organisation_units));
            Value::Object(o)
        })
        .collect()
}

fn user_groups(seed: &Seed) -> Vec<Value> {
    seed.user_groups
        .iter()
        .map(|g| {
            let mut o = identifiable_json(&g.id, g.code.as_deref(), &g.name);
            let members = seed.users.iter().filter(|u| u.user_groups.contains(&g.id));
            o.insert("users".into(), members.map(transformed_user).collect());
            o.insert("managedGroups".into(), json!([]));
            o.insert("managedByGroups".into(), json!([]));
            Value::Object(o)
        })
        .collect()
}

/// The flattened user (2.36+): contact fields at top level, absent when unset (NON_NULL), plus
/// the legacy `userCredentials` copy.
fn users(seed: &Seed) -> Vec<Value> {
    seed.users
        .iter()
        .map(|u| {
            let mut o = identifiable_json(&u.id, None, &u.display_name());
            o.insert("username".into(), json!(u.username));
            o.insert("firstName".into(), json!(u.first_name));
            o.insert("surname".into(), json!(u.surname));
            let contacts = [
                ("email", &u.email),
                ("phoneNumber", &u.phone_number),
                ("whatsApp", &u.whats_app),
                ("telegram", &u.telegram),
            ];
            for (key, value) in contacts {
                if let Some(value) = value {
                    o.insert(key.into(), json!(value));
                }
            }
            o.insert("disabled".into(), json!(u.disabled));
            o.insert("organisationUnits".into(), refs(&u.organisation_units));
            o.insert(
                "dataViewOrganisationUnits".into(),
                refs(&u.organisation_units),
            );
            o.insert("userGroups".into(), refs(&u.user_groups));
            o.insert("userRoles".into(), json!([]));
            o.insert(
                "userCredentials".into(),
                json!({ "id": u.id, "username": u.username, "disabled": u.disabled }),
            );
            Value::Object(o)
        })
        .collect()
}

fn tracked_entity_types(seed: &Seed) -> Vec<Value> {
    seed.tracked_entity_types
        .iter()
        .map(|t| Value::Object(identifiable_json(&t.id, None, &t.name)))
        .collect()
}

fn programs(seed: &Seed) -> Vec<Value> {
    seed.programs
        .iter()
        .map(|p| {
            let mut o = identifiable_json(&p.id, p.code.as_deref(), &p.name);
            let kind = if p.tracked_entity_type.is_some() {
                "WITH_REGISTRATION"
            } else {
                "WITHOUT_REGISTRATION"
            };
            o.insert("programType".into(), json!(kind));
            if let Some(tet) = &p.tracked_entity_type {
                o.insert("trackedEntityType".into(), reference(tet));
            }
            o.insert(
                "programStages".into(),
                refs(p.program_stages.iter().map(|s| &s.id)),
            );
            Value::Object(o)
        })
        .collect()
}

fn program_stages(seed: &Seed) -> Vec<Value> {
    seed.programs
        .iter()
        .flat_map(|p| {
            p.program_stages.iter().map(|s| {
                let mut o = identifiable_json(&s.id, None, &s.name);
                o.insert("program".into(), reference(&p.id));
                Value::Object(o)
            })
        })
        .collect()
}
