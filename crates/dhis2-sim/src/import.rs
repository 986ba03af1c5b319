//! The aggregate import engine: validates a DataValueSet the way `DataValueSetImportValidator`
//! does (set level first, then each value, first failing rule wins), counts against the store,
//! and produces the ImportSummary.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::catalog::{Catalog, DEFAULT_COC, IdScheme};
use super::import_options::{IdKind, ImportOptions};
use super::import_summary::{Conflict, ImportSummary};
use super::period;
use super::seed::{DataElement, User};
use super::store::{CompletionKey, DataStore, StoredValue, ValueKey};
use super::value_type;
use super::version::Dhis2Version;

/// Everything an import needs besides the store.
pub struct Import<'a> {
    pub catalog: &'a Catalog,
    pub user: &'a User,
    pub version: &'a Dhis2Version,
    pub options: &'a ImportOptions,
    pub now: NaiveDateTime,
}

/// Set-level identifiers, defaults for every value.
struct Outer {
    period: Option<String>,
    org_unit: Option<String>,
    attribute_option_combo: Option<String>,
}

impl Import<'_> {
    pub fn run(&self, store: &mut DataStore, payload: &Value) -> ImportSummary {
        let mut summary = ImportSummary::new(self.options.to_json(self.version));
        if !payload.is_object() {
            let found = if payload.is_array() {
                "Array"
            } else {
                "scalar"
            };
            let reason =
                format!("Cannot deserialize value of type `DataValueSet` from {found} value");
            return ImportSummary::failed(summary.import_options, &reason);
        }
        let outer = Outer {
            period: text(payload, "period"),
            org_unit: text(payload, "orgUnit"),
            attribute_option_combo: text(payload, "attributeOptionCombo"),
        };
        let data_set = text(payload, "dataSet");
        if let Some(conflict) = self.check_set_level(data_set.as_deref(), &outer) {
            summary.abort(conflict);
            return summary;
        }
        summary.data_set_complete =
            Some(self.complete(store, payload, data_set.as_deref(), &outer));
        let values = payload.get("dataValues").and_then(Value::as_array);
        for (index, value) in values.into_iter().flatten().enumerate() {
            self.import_value(store, &mut summary, &outer, index, value);
        }
        summary.settle_status();
        summary
    }

    fn scheme(&self, kind: IdKind) -> IdScheme {
        self.options.scheme(kind)
    }

    fn check_set_level(&self, data_set: Option<&str>, outer: &Outer) -> Option<Conflict> {
        let catalog = self.catalog;
        if let Some(ds) = data_set
            && catalog.data_set(ds, self.scheme(IdKind::DataSet)).is_none()
        {
            let message = format!("Data set not found or not accessible: `{ds}`");
            return Some(Conflict::new(
                "E7600",
                "dataSet",
                vec![("dataSet", ds.into())],
                message,
            ));
        }
        if let Some(ou) = &outer.org_unit
            && catalog.org_unit(ou, self.scheme(IdKind::OrgUnit)).is_none()
        {
            let message = format!("Org unit not found or not accessible: `{ou}`");
            let objects = vec![("organisationUnit", ou.clone())];
            return Some(Conflict::new("E7603", "orgUnit", objects, message));
        }
        if let Some(aoc) = &outer.attribute_option_combo
            && catalog
                .category_option_combo(aoc, self.scheme(IdKind::AttributeOptionCombo))
                .is_none()
        {
            let message = format!("Attribute option combo not found or not accessible: `{aoc}`");
            let objects = vec![("categoryOptionCombo", aoc.clone())];
            return Some(Conflict::new(
                "E7604",
                "attributeOptionCombo",
                objects,
                message,
            ));
        }
        None
    }

    /// Registers completeness when `completeDate` is given: `"true"` is today, future dates are
    /// clamped to today. Answers the summary's `dataSetComplete`.
    fn complete(
        &self,
        store: &mut DataStore,
        payload: &Value,
        data_set: Option<&str>,
        outer: &Outer,
    ) -> String {
        let today = self.now.date();
        let date = match text(payload, "completeDate").as_deref() {
            None | Some("false") => return "false".to_owned(),
            Some("true") => today,
            Some(raw) => {
                match NaiveDate::parse_from_str(raw.get(..10).unwrap_or(raw), "%Y-%m-%d") {
                    Ok(date) => date.min(today),
                    Err(_) => return "false".to_owned(),
                }
            }
        };
        let (Some(ds), Some(pe), Some(ou)) = (data_set, &outer.period, &outer.org_unit) else {
            return "false".to_owned();
        };
        let formatted = date.format("%Y-%m-%d").to_string();
        if !self.options.dry_run {
            let catalog = self.catalog;
            let key = CompletionKey {
                data_set: catalog
                    .data_set(ds, self.scheme(IdKind::DataSet))
                    .map_or(ds, |d| &d.id)
                    .to_owned(),
                period: pe.clone(),
                org_unit: catalog
                    .org_unit(ou, self.scheme(IdKind::OrgUnit))
                    .map_or(ou.as_str(), |o| &o.id)
                    .to_owned(),
                attribute_option_combo: DEFAULT_COC.to_owned(),
            };
            store.completions.insert(key, formatted.clone());
        }
        formatted
    }

    fn import_value(
        &self,
        store: &mut DataStore,
        summary: &mut ImportSummary,
        outer: &Outer,
        index: usize,
        value: &Value,
    ) {
        let (key, element) = match self.resolve(value, outer) {
            Ok(resolved) => resolved,
            Err(conflict) => return summary.reject(index, conflict),
        };
        let new_value = text(value, "value").filter(|v| !v.trim().is_empty());
        let comment = text(value, "comment").filter(|c| !c.trim().is_empty());
        let marked_deleted = value
            .get("deleted")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let existing = store.live(&key).cloned();
        let deleting = self.options.is_delete() || marked_deleted;
        if new_value.is_none() && comment.is_none() && !deleting && existing.is_none() {
            let de = text(value, "dataElement").unwrap_or_default();
            let message = format!("Data value or comment not specified for data element: `{de}`");
            return summary.reject(
                index,
                Conflict::new("E7618", "value", vec![("dataElement", de)], message),
            );
        }
        if let Some(raw) = &new_value
            && let Err(key) = value_type::check(&element.value_type, raw)
        {
            return summary.reject(index, self.value_type_conflict(value, key));
        }
        // A zero for an element where zero is not significant is not stored (and removes any
        // previous value); a blank value removes the existing one.
        let zero_dropped = new_value
            .as_deref()
            .is_some_and(|v| !element.zero_is_significant && value_type::is_zero(v));
        let count = &mut summary.count;
        if deleting || (new_value.is_none() && comment.is_none()) || zero_dropped {
            match existing {
                Some(_) => {
                    count.deleted += 1;
                    if !self.options.dry_run
                        && let Some(stored) = store.values.get_mut(&key)
                    {
                        stored.deleted = true;
                        stored.last_updated = self.now;
                    }
                }
                None => count.ignored += 1,
            }
            return;
        }
        let followup = value
            .get("followup")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let record = StoredValue {
            value: new_value,
            comment,
            followup,
            stored_by: text(value, "storedBy").unwrap_or_else(|| self.user.username.clone()),
            created: existing.as_ref().map_or(self.now, |e| e.created),
            last_updated: self.now,
            deleted: false,
        };
        match &existing {
            Some(_) if self.options.strategy == "CREATE" => count.ignored += 1,
            None if self.options.strategy == "UPDATE" => count.ignored += 1,
            Some(old) if self.is_unchanged(old, &record) => count.ignored += 1,
            Some(_) => count.updated += 1,
            None => count.imported += 1,
        }
        if !self.options.dry_run {
            store.values.insert(key, record);
        }
    }

    /// Before 2.38.6/2.39.5/2.40.3 an identical re-import counted as `updated`.
    fn is_unchanged(&self, old: &StoredValue, new: &StoredValue) -> bool {
        self.version.counts_unchanged_as_ignored()
            && old.value == new.value
            && old.comment == new.comment
            && old.followup == new.followup
    }

    /// Resolves the identifiers of one value, or the first conflict in validator order.
    fn resolve(&self, value: &Value, outer: &Outer) -> Result<(ValueKey, &DataElement), Conflict> {
        let catalog = self.catalog;
        let raw_de = text(value, "dataElement").unwrap_or_default();
        let element = catalog
            .data_element(&raw_de, self.scheme(IdKind::DataElement))
            .ok_or_else(|| {
                let message = format!("Data element not found or not accessible: `{raw_de}`");
                Conflict::new(
                    "E7610",
                    "dataElement",
                    vec![("dataElement", raw_de.clone())],
                    message,
                )
            })?;
        let raw_pe = text(value, "period")
            .or_else(|| outer.period.clone())
            .unwrap_or_default();
        if period::parse(&raw_pe).is_none() {
            let message = format!("Period not valid: `{raw_pe}`");
            return Err(Conflict::new(
                "E7611",
                "period",
                vec![("period", raw_pe)],
                message,
            ));
        }
        let raw_ou = text(value, "orgUnit")
            .or_else(|| outer.org_unit.clone())
            .unwrap_or_default();
        let org_unit = catalog
            .org_unit(&raw_ou, self.scheme(IdKind::OrgUnit))
            .ok_or_else(|| {
                let message = format!("Organisation unit not found or not accessible: `{raw_ou}`");
                Conflict::new(
                    "E7612",
                    "orgUnit",
                    vec![("organisationUnit", raw_ou.clone())],
                    message,
                )
            })?;
        let coc = self.combo(
            text(value, "categoryOptionCombo"),
            IdKind::CategoryOptionCombo,
            "E7613",
        )?;
        let raw_aoc =
            text(value, "attributeOptionCombo").or_else(|| outer.attribute_option_combo.clone());
        let aoc = self.combo(raw_aoc, IdKind::AttributeOptionCombo, "E7615")?;
        if !catalog.is_within(&org_unit.id, &self.user.organisation_units) {
            let message = format!(
                "Organisation unit: `{raw_ou}` not in hierarchy of current user: `{}`",
                self.user.id
            );
            let objects = vec![("organisationUnit", raw_ou), ("user", self.user.id.clone())];
            return Err(Conflict::new("E7617", "orgUnit", objects, message));
        }
        let key = ValueKey {
            data_element: element.id.clone(),
            period: raw_pe,
            org_unit: org_unit.id.clone(),
            category_option_combo: coc,
            attribute_option_combo: aoc,
        };
        Ok((key, element))
    }

    /// Resolves a category or attribute option combo; absent means the default combo.
    fn combo(
        &self,
        raw: Option<String>,
        kind: IdKind,
        error_code: &'static str,
    ) -> Result<String, Conflict> {
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
            return Ok(DEFAULT_COC.to_owned());
        };
        match self.catalog.category_option_combo(&raw, self.scheme(kind)) {
            Some(coc) => Ok(coc.id.clone()),
            None => {
                let (property, what) = match kind {
                    IdKind::AttributeOptionCombo => {
                        ("attributeOptionCombo", "Attribute option combo")
                    }
                    _ => ("categoryOptionCombo", "Category option combo"),
                };
                let message =
                    format!("{what} not found or not accessible for writing data: `{raw}`");
                Err(Conflict::new(
                    error_code,
                    property,
                    vec![("categoryOptionCombo", raw)],
                    message,
                ))
            }
        }
    }

    /// E7619, worded per version.
    fn value_type_conflict(&self, value: &Value, error_key: &'static str) -> Conflict {
        let de = text(value, "dataElement").unwrap_or_default();
        let message = if self.version.has_new_value_type_wording() {
            format!("Value must match value type of data element `{de}`: `{error_key}`")
        } else {
            format!(
                "Value must match data element's `{de}` type constraints: {}",
                value_type::describe(error_key)
            )
        };
        let objects = vec![("dataElement", de), ("value", error_key.to_owned())];
        Conflict::new("E7619", "value", objects, message)
    }
}

/// A payload field as text: Jackson binds numbers and booleans into String fields too.
pub fn text(object: &Value, key: &str) -> Option<String> {
    match object.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
