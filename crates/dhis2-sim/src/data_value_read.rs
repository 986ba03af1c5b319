//! `GET /api/dataValueSets`: what the simulator has stored, in the streaming writer's shape
//! (every key present, `null` when unset, `+0000` timestamps).

use std::collections::HashSet;

use chrono::NaiveDateTime;
use poem::Response;
use serde_json::{Map, Value, json};

use super::catalog::{DEFAULT_COC, IdScheme};
use super::request::Ctx;
use super::state::lock;
use super::store::{CompletionKey, StoredValue, ValueKey};
use super::webmessage::{WebMessage, json_response};

pub fn get(ctx: &Ctx) -> Response {
    let catalog = &ctx.state.catalog;
    let req = ctx.req;
    let data_sets: Vec<&str> = req
        .params_all("dataSet")
        .into_iter()
        .filter_map(|ds| catalog.data_set(ds, IdScheme::Uid))
        .map(|ds| ds.id.as_str())
        .collect();
    let mut elements: HashSet<&str> = req
        .params_all("dataElement")
        .into_iter()
        .filter_map(|de| catalog.data_element(de, IdScheme::Uid))
        .map(|de| de.id.as_str())
        .collect();
    for ds in &catalog.seed.data_sets {
        if data_sets.contains(&ds.id.as_str()) {
            elements.extend(ds.data_elements.iter().map(String::as_str));
        }
    }
    if elements.is_empty() {
        return illegal_query(
            "E2001",
            "At least one data element, data set or data element group must be specified",
        );
    }
    let periods = req.params_all("period");
    let has_dates = req.param("startDate").is_some() && req.param("endDate").is_some();
    if periods.is_empty() && !has_dates && req.param("lastUpdated").is_none() {
        return illegal_query(
            "E2002",
            "At least one valid period, start/end dates, last updated or last updated duration must be specified",
        );
    }
    let org_units = req.params_all("orgUnit");
    if org_units.is_empty() {
        return illegal_query(
            "E2006",
            "At least one valid organisation unit or organisation unit group must be specified",
        );
    }
    if let Some(ou) = org_units
        .iter()
        .find(|ou| !catalog.is_within(ou, &ctx.user.organisation_units))
    {
        return illegal_query(
            "E2012",
            &format!("User is not allowed to view org unit: `{ou}`"),
        );
    }
    let children = req.flag("children").unwrap_or(false);
    let include_deleted = req.flag("includeDeleted").unwrap_or(false);
    let store = lock(&ctx.state.data);
    let values: Vec<Value> = store
        .values
        .iter()
        .filter(|(key, stored)| {
            elements.contains(key.data_element.as_str())
                && (periods.is_empty() || periods.contains(&key.period.as_str()))
                && org_units.iter().any(|ou| {
                    key.org_unit == *ou
                        || (children && catalog.is_within(&key.org_unit, &[(*ou).to_owned()]))
                })
                && (include_deleted || !stored.deleted)
        })
        .map(|(key, stored)| value_json(key, stored))
        .collect();
    let mut body = Map::new();
    // The writer prints a header only for exactly one data set, period and org unit.
    if let ([ds], [pe], [ou]) = (
        data_sets.as_slice(),
        periods.as_slice(),
        org_units.as_slice(),
    ) {
        let key = CompletionKey {
            data_set: (*ds).to_owned(),
            period: (*pe).to_owned(),
            org_unit: (*ou).to_owned(),
            attribute_option_combo: DEFAULT_COC.to_owned(),
        };
        body.insert("dataSet".into(), json!(ds));
        body.insert("completeDate".into(), json!(store.completions.get(&key)));
        body.insert("period".into(), json!(pe));
        body.insert("orgUnit".into(), json!(ou));
    }
    body.insert("dataValues".into(), Value::Array(values));
    json_response(200, &Value::Object(body))
}

fn illegal_query(code: &str, message: &str) -> Response {
    WebMessage::error(409, message)
        .error_code(code)
        .into_response()
}

fn gmt(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn value_json(key: &ValueKey, stored: &StoredValue) -> Value {
    let mut value = json!({
        "dataElement": key.data_element,
        "period": key.period,
        "orgUnit": key.org_unit,
        "categoryOptionCombo": key.category_option_combo,
        "attributeOptionCombo": key.attribute_option_combo,
        "value": stored.value,
        "storedBy": stored.stored_by,
        "created": gmt(stored.created),
        "lastUpdated": gmt(stored.last_updated),
        "comment": stored.comment,
        "followup": stored.followup,
    });
    if stored.deleted
        && let Some(object) = value.as_object_mut()
    {
        object.insert("deleted".into(), json!(true));
    }
    value
}
