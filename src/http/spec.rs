//! The OpenAPI document as served at `/openapi.json`: poem-openapi's, with what it cannot say
//! added.
//!
//! A request body that refuses unknown fields (`#[oai(deny_unknown_fields)]`, so that a typo
//! such as `dataelement` for `dataElement` is an error rather than a field silently dropped)
//! must say `additionalProperties: false`, or the document allows bodies that the handler
//! refuses. poem-openapi has no way to emit `false` there, so it is set here: by schema name, and on every
//! `multipart/form-data` body (each upload takes its `file` part and nothing else).

use serde_json::Value;

/// The schemas of bodies declared with `deny_unknown_fields`; a test checks each is in the
/// document, and another that an unknown field in each is refused.
pub const CLOSED_SCHEMAS: &[&str] = &[
    "AlertRuleBody",
    "RequeueRequest",
    "MappingBody",
    "TrackerPayload",
    "DataValueWithComment",
];

/// `spec` (poem-openapi's JSON) with `additionalProperties: false` on [`CLOSED_SCHEMAS`].
pub fn complete(spec: &str) -> String {
    let Ok(mut document) = serde_json::from_str::<Value>(spec) else {
        return spec.to_owned();
    };
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in CLOSED_SCHEMAS {
            if let Some(schema) = schemas.get_mut(*name).and_then(Value::as_object_mut) {
                schema.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
    }
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for operations in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in operations.values_mut() {
                if let Some(schema) = operation
                    .pointer_mut("/requestBody/content/multipart~1form-data/schema")
                    .and_then(Value::as_object_mut)
                    .filter(|s| s.get("type") == Some(&Value::from("object")))
                {
                    schema.insert("additionalProperties".into(), Value::Bool(false));
                }
            }
        }
    }
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| spec.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_schema_gets_additional_properties_false_and_others_stay() {
        let spec = r#"{"components":{"schemas":{"MappingBody":{"type":"object"},"UserView":{"type":"object"}}}}"#;
        let document: Value = serde_json::from_str(&complete(spec)).unwrap();
        assert_eq!(
            document["components"]["schemas"]["MappingBody"]["additionalProperties"],
            Value::Bool(false)
        );
        assert!(
            document["components"]["schemas"]["UserView"]
                .get("additionalProperties")
                .is_none()
        );
    }
}
