//! Mappings checked against the DHIS2 metadata the sync stored: does DHIS2 have the data
//! element, option combo, data set and org unit a row points at, is the option combo one of the
//! element's category combo, is the element in the data set. Warnings, or errors with `strict`.

use std::collections::{BTreeSet, HashMap, HashSet};

use deadpool_postgres::GenericClient;

use crate::db::metadata::{self, Collection};

use super::MappingError;
use super::row_problem::RowProblem;
use super::validate::Candidate;

/// The outcome of a check.
#[derive(Debug, Default)]
pub struct Checked {
    /// False when no full sync ever ran: nothing could be checked.
    pub metadata_synced: bool,
    pub problems: Vec<RowProblem>,
}

/// What the stored metadata says about the uids the rows use.
struct Known {
    elements: HashMap<String, Option<String>>,
    option_combos: HashMap<String, Option<String>>,
    data_sets: HashSet<String>,
    org_units: HashSet<String>,
    /// data element → [(data set, override combo)]
    memberships: HashMap<String, Vec<(String, Option<String>)>>,
}

pub async fn check(
    db: &impl GenericClient,
    rows: &[(u32, Candidate)],
) -> Result<Checked, MappingError> {
    if !metadata::is_synced(db).await? {
        return Ok(Checked::default());
    }
    let known = load(db, rows).await?;
    let mut problems = Vec::new();
    for (number, candidate) in rows {
        for (column, reason) in problems_of(candidate, &known) {
            problems.push(RowProblem {
                row: *number,
                column: column.to_owned(),
                reason,
            });
        }
    }
    Ok(Checked {
        metadata_synced: true,
        problems,
    })
}

async fn load(db: &impl GenericClient, rows: &[(u32, Candidate)]) -> Result<Known, MappingError> {
    let uids = |pick: fn(&Candidate) -> [Option<&String>; 2]| -> Vec<String> {
        rows.iter()
            .flat_map(|(_, c)| pick(c))
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let elements = uids(|c| [c.fields.dataelement.as_ref(), None]);
    let option_combos = uids(|c| {
        [
            c.fields.category_option_combo.as_ref(),
            c.fields.attribute_option_combo.as_ref(),
        ]
    });
    let data_sets = uids(|c| [c.fields.dataset.as_ref(), None]);
    let org_units = uids(|c| [c.fields.dest_orgunit.as_ref(), None]);
    let mut memberships: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
    for (set, element, combo) in metadata::data_set_elements_of(db, &elements).await? {
        memberships.entry(element).or_default().push((set, combo));
    }
    Ok(Known {
        elements: metadata::combos_of(db, Collection::DataElements, &elements).await?,
        option_combos: metadata::combos_of(db, Collection::CategoryOptionCombos, &option_combos)
            .await?,
        data_sets: metadata::existing(db, Collection::DataSets, &data_sets).await?,
        org_units: metadata::existing(db, Collection::OrgUnits, &org_units).await?,
        memberships,
    })
}

fn problems_of(candidate: &Candidate, known: &Known) -> Vec<(&'static str, String)> {
    let f = &candidate.fields;
    let mut problems = Vec::new();
    let missing = |what: &str, uid: &str| format!("DHIS2 has no {what} {uid}");
    if let Some(element) = &f.dataelement
        && !known.elements.contains_key(element)
    {
        problems.push(("dataelement", missing("data element", element)));
    }
    if let Some(set) = &f.dataset {
        if !known.data_sets.contains(set) {
            problems.push(("dataset", missing("data set", set)));
        } else if let Some(element) = f
            .dataelement
            .as_ref()
            .filter(|e| known.elements.contains_key(*e))
        {
            let in_set = known
                .memberships
                .get(element)
                .is_some_and(|sets| sets.iter().any(|(s, _)| s == set));
            if !in_set {
                problems.push((
                    "dataelement",
                    format!("data element {element} is not in data set {set}"),
                ));
            }
        }
    }
    if let Some(coc) = &f.category_option_combo {
        match known.option_combos.get(coc) {
            None => problems.push((
                "category_option_combo",
                missing("category option combo", coc),
            )),
            Some(coc_combo) => {
                if let Some(element) = &f.dataelement
                    && let Some(element_combo) = known.elements.get(element)
                {
                    // The element's own combo, or a combo a data set overrides it with (only
                    // the mapping's data set, when it names one).
                    let overrides = known.memberships.get(element).into_iter().flatten();
                    let allowed: HashSet<&Option<String>> = std::iter::once(element_combo)
                        .chain(
                            overrides
                                .filter(|(s, c)| {
                                    c.is_some() && f.dataset.as_ref().is_none_or(|d| d == s)
                                })
                                .map(|(_, c)| c),
                        )
                        .collect();
                    if !allowed.contains(coc_combo) {
                        problems.push((
                            "category_option_combo",
                            format!(
                                "category option combo {coc} is not in the category combo of data element {element}"
                            ),
                        ));
                    }
                }
            }
        }
    }
    if let Some(aoc) = &f.attribute_option_combo
        && !known.option_combos.contains_key(aoc)
    {
        problems.push((
            "attribute_option_combo",
            missing("attribute option combo", aoc),
        ));
    }
    if let Some(unit) = &f.dest_orgunit
        && !known.org_units.contains(unit)
    {
        problems.push(("destination_orgunit", missing("org unit", unit)));
    }
    problems
}
