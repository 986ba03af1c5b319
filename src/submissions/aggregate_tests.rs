//! Unit tests of the aggregate request parser and mapper (the HTTP tests cover the edge).

use serde_json::{Value, json};

use super::*;
use crate::config::MappingScheme;
use crate::db::mappings::{MappingFields, MappingRow};

fn body(values: Value) -> Value {
    json!({"orgUnit": "KFZHpp8BEUA", "period": "202401", "dataSet": "S6zKJrYKAzR", "dataValues": values})
}

fn fields_of(problems: &[Problem]) -> Vec<&str> {
    problems.iter().map(|p| p.field.as_str()).collect()
}

fn index(rows: Vec<MappingFields>) -> MappingIndex {
    let now = chrono::Utc::now();
    let rows: Vec<MappingRow> = rows
        .into_iter()
        .enumerate()
        .map(|(i, f)| MappingRow {
            id: i as i64 + 1,
            uid: format!("m{i:010}"),
            code: f.code,
            what: f.what,
            name: f.name,
            description: None,
            dataset: f.dataset,
            dataelement: f.dataelement,
            category_option_combo: f.category_option_combo,
            category_option: None,
            category_combo: None,
            attribute_option_combo: f.attribute_option_combo,
            instance_name: f.instance_name,
            source_name: f.source_name,
            source_orgunit: f.source_orgunit,
            dest_orgunit: f.dest_orgunit,
            dimension_type: None,
            created: now,
            updated: now,
        })
        .collect();
    MappingIndex::new(&rows, MappingScheme::Code, "S6zKJrYKAzR")
}

#[test]
fn parses_the_original_body_with_defaults() {
    let request = parse(&body(json!({"A": 1, "B": "2.50", "C": false}))).unwrap();
    assert_eq!(request.org_unit, "KFZHpp8BEUA");
    assert_eq!(request.period.to_string(), "202401");
    assert_eq!(
        (request.source.as_str(), request.instance.as_str()),
        ("default", "default")
    );
    assert_eq!(request.complete_date, None);
    let texts: Vec<&str> = request.values.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(texts, ["1", "2.50", "false"]);
}

#[test]
fn numbers_keep_their_digits() {
    let values: Value =
        serde_json::from_str(r#"{"A": 1000000, "B": 1e6, "C": 0.10, "D": 1234567}"#).unwrap();
    let request = parse(&body(values)).unwrap();
    let texts: Vec<&str> = request.values.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(texts, ["1000000", "1000000", "0.10", "1234567"]);
}

#[test]
fn comments_come_in_the_object_form_only() {
    let request = parse(&body(
        json!({"A": {"value": 3, "comment": "late"}, "B": {"value": "x"}}),
    ))
    .unwrap();
    assert_eq!(request.values[0].comment.as_deref(), Some("late"));
    assert_eq!(request.values[1].comment, None);
    let problems = parse(&body(
        json!({"A": {"comment": "no value"}, "B": {"value": 1, "extra": 2}, "C": {"value": null}}),
    ))
    .unwrap_err();
    assert_eq!(
        fields_of(&problems),
        ["dataValues.A", "dataValues.B", "dataValues.C"]
    );
}

#[test]
fn every_problem_is_reported() {
    let problems = parse(&json!({"orgUnit": "", "period": 202401, "dataSet": null, "completeDate": "01/02/2024", "source": 3, "dataValues": {"": 1}})).unwrap_err();
    assert_eq!(
        fields_of(&problems),
        [
            "orgUnit",
            "period",
            "dataSet",
            "completeDate",
            "dataValues.",
            "source"
        ]
    );
    assert!(parse(&json!([1])).is_err());
}

#[test]
fn maps_values_org_units_and_combos() {
    let index = index(vec![
        MappingFields::data_element("A", "deAAAAAAAA1", Some("cocAAAAAAA1")),
        {
            let mut f = MappingFields::data_element("B", "deBBBBBBBB1", None);
            f.attribute_option_combo = Some("aocBBBBBBB1".into());
            f
        },
        MappingFields::org_unit("FAC-1", "ouMAPPED001"),
    ]);
    let mut b = body(json!({"A": 1, "B": {"value": 2, "comment": "c"}, "Z": 3}));
    b["orgUnit"] = json!("FAC-1");
    b["completeDate"] = json!("2024-02-01");
    let mapped = map(&parse(&b).unwrap(), &index).unwrap();
    assert_eq!(mapped.org_unit, "ouMAPPED001");
    assert_eq!(mapped.unmapped, ["Z"]);
    assert_eq!(
        mapped.payload,
        json!({
            "dataSet": "S6zKJrYKAzR", "period": "202401", "orgUnit": "ouMAPPED001", "completeDate": "2024-02-01",
            "dataValues": [
                {"dataElement": "deAAAAAAAA1", "categoryOptionCombo": "cocAAAAAAA1", "value": "1"},
                {"dataElement": "deBBBBBBBB1", "attributeOptionCombo": "aocBBBBBBB1", "value": "2", "comment": "c"}
            ]
        })
    );
}

#[test]
fn an_unmapped_code_org_unit_and_nothing_mapped_are_refused() {
    let index = index(vec![MappingFields::data_element("A", "deAAAAAAAA1", None)]);
    let mut b = body(json!({"Z": 1}));
    b["orgUnit"] = json!("FAC-404");
    let problems = map(&parse(&b).unwrap(), &index).unwrap_err();
    assert_eq!(fields_of(&problems), ["orgUnit", "dataValues.Z"]);
    assert!(
        problems[0]
            .message
            .contains("no org-unit mapping for \"FAC-404\"")
    );
}
