//! The original threshold-alert program's rule lists as an import source: its environment
//! variables `one_suspected_diseases`, `doubling_cases_diseases`, `increase_1_5x_diseases`,
//! `cluster_of_diseases` (`uid_N`) and `anthrax_endemic`, read once from the configuration
//! (`alerts.original_*`), become rules, so a deployment moves over without retyping.
//!
//! | list | rule |
//! |---|---|
//! | one suspected case | `one_case` (threshold 1) |
//! | doubling | `doubling`, missing weeks count as zero |
//! | 1.5× increase | `ratio_to_mean` `{"k": 1.5, "weeks": 3}`, missing weeks count as zero |
//! | cluster `uid_N` | `cluster` `{"threshold": N}` |
//! | anthrax endemic districts | on anthrax's `one_case` rule, a `doubling` override per district |
//!
//! The original's bugs are not carried over: every listed disease is its own rule (the original
//! stopped at the first disease with a doubling, and summed all 1.5× diseases together), missing
//! weeks of the comparing rules count as zero so emergence is seen (the minimum of one case
//! keeps 0 → 0 silent), and the endemic districts replace anthrax's single-case rule there (the
//! original meant to, but raised both, and ran its anthrax check even with anthrax in no list).
//!
//! The lists say what their rules are: an import sets each listed rule's method, parameters,
//! missing-value policy and `enabled`, adds the endemic overrides, and keeps everything else (a
//! rule's name, code, level, severity and other overrides). Running it twice changes nothing.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::alerts::AlertError;
use crate::alerts::rules::{self, Change, Counts, RuleInput};
use crate::config::AlertsSettings;
use crate::db::Pool;
use crate::db::alert_rules::{AlertRuleRow, RuleFields};
use crate::domain::uid::Uid;

/// The original's lists, as configured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OriginalLists {
    pub one_suspected: Vec<String>,
    pub doubling: Vec<String>,
    pub increase_1_5x: Vec<String>,
    /// `uid_N` items.
    pub cluster: Vec<String>,
    /// District org unit UIDs.
    pub anthrax_endemic: Vec<String>,
    /// The data element the endemic districts apply to (the original hard-codes `zBFmdwpO2LZ`).
    pub anthrax_data_element: String,
}

impl OriginalLists {
    pub fn from_settings(alerts: &AlertsSettings) -> OriginalLists {
        OriginalLists {
            one_suspected: alerts.original_one_suspected_diseases.clone(),
            doubling: alerts.original_doubling_cases_diseases.clone(),
            increase_1_5x: alerts.original_increase_1_5x_diseases.clone(),
            cluster: alerts.original_cluster_of_diseases.clone(),
            anthrax_endemic: alerts.original_anthrax_endemic.clone(),
            anthrax_data_element: alerts.original_anthrax_data_element.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.one_suspected.is_empty()
            && self.doubling.is_empty()
            && self.increase_1_5x.is_empty()
            && self.cluster.is_empty()
            && self.anthrax_endemic.is_empty()
    }
}

/// What the import does besides the lists.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The level of new rules (the original assesses districts).
    pub level: u8,
    /// Data element → name and disease code (from the original's `alert_conditions.csv`); a
    /// rule not in it keeps its stored name, and a new one is named after a stored rule of the
    /// same data element, else after the data element's UID.
    pub catalogue: BTreeMap<String, (String, Option<String>)>,
    /// Check and report only.
    pub dry_run: bool,
}

/// One rule the lists define, and what the import does to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedRule {
    pub data_element: String,
    pub name: String,
    pub rule_type: String,
    pub params: Value,
    /// `insert`, `update` or `unchanged`.
    pub action: &'static str,
}

/// What the import did, or would do.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OriginalReport {
    pub dry_run: bool,
    pub applied: bool,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rules: Vec<PlannedRule>,
    pub warnings: Vec<String>,
}

/// One list item checked: its data element, or a problem naming the config key and position.
fn list_uid(key: &str, index: usize, item: &str) -> Result<String, AlertError> {
    Uid::parse(item.trim())
        .map(|u| u.to_string())
        .map_err(|e| AlertError::invalid(format!("alerts.{key}[{}]", index + 1), e.to_string()))
}

/// A rule the lists want, before it meets the stored rules.
struct Wanted {
    data_element: String,
    rule_type: &'static str,
    params: Map<String, Value>,
    missing_policy: &'static str,
    overrides: Map<String, Value>,
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The rules the lists define, in list order, each once.
fn wanted(lists: &OriginalLists, warnings: &mut Vec<String>) -> Result<Vec<Wanted>, AlertError> {
    let mut out: Vec<Wanted> = Vec::new();
    let mut push = |w: Wanted, key: &str, warnings: &mut Vec<String>| {
        if out
            .iter()
            .any(|o| o.data_element == w.data_element && o.rule_type == w.rule_type)
        {
            warnings.push(format!(
                "alerts.{key}: {} is listed twice; its {} rule is imported once",
                w.data_element, w.rule_type
            ));
        } else {
            out.push(w);
        }
    };
    let simple = [
        (
            "original_one_suspected_diseases",
            &lists.one_suspected,
            "one_case",
            json!({}),
            "skip",
        ),
        (
            "original_doubling_cases_diseases",
            &lists.doubling,
            "doubling",
            json!({}),
            "zero",
        ),
        (
            "original_increase_1_5x_diseases",
            &lists.increase_1_5x,
            "ratio_to_mean",
            json!({"k": 1.5, "weeks": 3}),
            "zero",
        ),
    ];
    for (key, items, rule_type, params, missing_policy) in simple {
        for (i, item) in items.iter().enumerate() {
            if item.trim().is_empty() {
                continue;
            }
            let data_element = list_uid(key, i, item)?;
            push(
                Wanted {
                    data_element,
                    rule_type,
                    params: object(params.clone()),
                    missing_policy,
                    overrides: Map::new(),
                },
                key,
                warnings,
            );
        }
    }
    let key = "original_cluster_of_diseases";
    for (i, item) in lists.cluster.iter().enumerate() {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let field = || format!("alerts.{key}[{}]", i + 1);
        let Some((uid, n)) = item.split_once('_') else {
            return Err(AlertError::invalid(
                field(),
                format!("{item:?} is not uid_N (e.g. qlNHXdnrMfr_2)"),
            ));
        };
        let data_element = list_uid(key, i, uid)?;
        let n: u64 = n.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            AlertError::invalid(
                field(),
                format!("{item:?}: the cluster size after _ is not a whole number of 1 or more"),
            )
        })?;
        push(
            Wanted {
                data_element,
                rule_type: "cluster",
                params: object(json!({ "threshold": n })),
                missing_policy: "skip",
                overrides: Map::new(),
            },
            key,
            warnings,
        );
    }
    let endemic: Vec<String> = lists
        .anthrax_endemic
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.trim().is_empty())
        .map(|(i, d)| list_uid("original_anthrax_endemic", i, d))
        .collect::<Result<_, _>>()?;
    if !endemic.is_empty() {
        let anthrax = Uid::parse(lists.anthrax_data_element.trim())
            .map_err(|e| {
                AlertError::invalid("alerts.original_anthrax_data_element", e.to_string())
            })?
            .to_string();
        match out
            .iter_mut()
            .find(|w| w.data_element == anthrax && w.rule_type == "one_case")
        {
            Some(rule) => {
                for district in endemic {
                    rule.overrides
                        .insert(district, json!({ "rule_type": "doubling" }));
                }
            }
            None => warnings.push(format!(
                "alerts.original_anthrax_endemic is ignored: anthrax ({anthrax}) is not in \
                 alerts.original_one_suspected_diseases, so there is no single-case rule for \
                 its endemic districts to replace"
            )),
        }
    }
    Ok(out)
}

/// The changes that make the stored rules what the lists say.
pub fn plan(
    lists: &OriginalLists,
    options: &Options,
    stored: &[AlertRuleRow],
) -> Result<(Vec<Change>, OriginalReport), AlertError> {
    let mut report = OriginalReport {
        dry_run: options.dry_run,
        ..OriginalReport::default()
    };
    let wanted = wanted(lists, &mut report.warnings)?;
    let mut changes = Vec::new();
    for w in wanted {
        let existing = stored
            .iter()
            .find(|r| r.data_element == w.data_element && r.rule_type == w.rule_type);
        let same_disease = stored.iter().find(|r| r.data_element == w.data_element);
        let (name, disease_code) = match options.catalogue.get(&w.data_element) {
            Some((name, code)) => (name.clone(), code.clone()),
            None => match existing.or(same_disease) {
                Some(r) => (r.name.clone(), r.disease_code.clone()),
                None => {
                    report.warnings.push(format!(
                        "{} has no name: the rule is named after its UID (import the \
                         original's alert_conditions.csv to name it)",
                        w.data_element
                    ));
                    (w.data_element.clone(), None)
                }
            },
        };
        let mut overrides = existing
            .and_then(|r| r.overrides.as_object().cloned())
            .unwrap_or_default();
        overrides.extend(w.overrides);
        let input = RuleInput {
            name,
            data_element: w.data_element.clone(),
            disease_code,
            rule_type: w.rule_type.to_owned(),
            params: w.params,
            level: Some(existing.map_or(i64::from(options.level), |r| i64::from(r.level))),
            overrides,
            missing_policy: Some(w.missing_policy.to_owned()),
            severity: Some(existing.map_or("alert".to_owned(), |r| r.severity.clone())),
            enabled: Some(true),
        };
        let fields: RuleFields = rules::check(&input)?.fields;
        let change = Change::to(existing, fields.clone());
        report.rules.push(PlannedRule {
            data_element: fields.data_element.clone(),
            name: fields.name.clone(),
            rule_type: fields.rule_type.clone(),
            params: fields.params.clone(),
            action: match change {
                Change::Insert(_) => "insert",
                Change::Update { .. } => "update",
                Change::Unchanged { .. } => "unchanged",
            },
        });
        changes.push(change);
    }
    let counts = Counts::of(&changes);
    report.inserted = counts.inserted;
    report.updated = counts.updated;
    report.unchanged = counts.unchanged;
    Ok((changes, report))
}

/// Imports the lists: all their rules, or nothing (a bad list item is an error naming the key
/// and the item's position).
pub async fn import(
    pool: &Pool,
    lists: &OriginalLists,
    options: &Options,
) -> Result<OriginalReport, AlertError> {
    let stored = rules::list(pool).await?;
    let (changes, mut report) = plan(lists, options, &stored)?;
    if !options.dry_run && report.inserted + report.updated > 0 {
        rules::apply(pool, &changes).await?;
    }
    report.applied = !options.dry_run;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> OriginalLists {
        OriginalLists {
            one_suspected: vec!["zBFmdwpO2LZ".into(), "lI3EMAbSqPD".into()],
            doubling: vec!["eDgoVyohFOK".into(), "mH1mYNOZGtT".into()],
            increase_1_5x: vec!["AW99TH1knkR".into()],
            cluster: vec!["qlNHXdnrMfr_2".into(), "DJZWhsgbmYU_5".into()],
            anthrax_endemic: vec!["Rp268JB6Ne4".into()],
            anthrax_data_element: "zBFmdwpO2LZ".into(),
        }
    }

    fn options() -> Options {
        Options {
            level: 3,
            ..Options::default()
        }
    }

    #[test]
    fn every_listed_disease_is_its_own_rule() {
        let (changes, report) = plan(&lists(), &options(), &[]).unwrap();
        assert_eq!(changes.len(), 7);
        assert_eq!(report.inserted, 7);
        let Change::Insert(anthrax) = &changes[0] else {
            panic!()
        };
        assert_eq!(
            anthrax.overrides,
            json!({"Rp268JB6Ne4": {"rule_type": "doubling"}})
        );
        let Change::Insert(cluster) = &changes[6] else {
            panic!()
        };
        assert_eq!(cluster.params, json!({"threshold": 5}));
        assert_eq!(cluster.rule_type, "cluster");
    }

    #[test]
    fn a_bad_item_names_the_key_and_position() {
        let mut l = lists();
        l.cluster = vec!["qlNHXdnrMfr_2".into(), "DJZWhsgbmYU".into()];
        let err = plan(&l, &options(), &[]).unwrap_err().to_string();
        assert!(
            err.starts_with("alerts.original_cluster_of_diseases[2]:"),
            "{err}"
        );
        let mut l = lists();
        l.doubling = vec!["eDgoVyohFOK".into(), "bad uid".into()];
        let err = plan(&l, &options(), &[]).unwrap_err().to_string();
        assert!(
            err.starts_with("alerts.original_doubling_cases_diseases[2]:"),
            "{err}"
        );
    }

    #[test]
    fn endemic_districts_without_an_anthrax_rule_are_a_warning() {
        let mut l = lists();
        l.one_suspected = vec!["lI3EMAbSqPD".into()];
        let (_, report) = plan(&l, &options(), &[]).unwrap();
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("original_anthrax_endemic is ignored")),
            "{:?}",
            report.warnings
        );
    }
}
