//! The metadata field filter (`fields=id,name,parent[id,code],!created,*`).
//!
//! A reference (`{"id": ...}`) asked for with nested fields is resolved to the full object
//! first, so `dataSetElements[dataElement[id,categoryCombo[categoryOptionCombos[id,name]]]]`
//! works. Unknown fields are silently skipped, like DHIS2 does.

use serde_json::{Map, Value};

use super::catalog::Catalog;

/// Properties serialised by a custom Jackson serializer that ignores `fields`: members of user
/// groups, roles and org units always come out as `{id, code, name, displayName, username}`.
const OPAQUE_PROPERTIES: [&str; 1] = ["users"];

const IDENTIFIABLE: [&str; 6] = [
    "id",
    "code",
    "name",
    "displayName",
    "created",
    "lastUpdated",
];
const NAMEABLE_EXTRA: [&str; 3] = ["shortName", "displayShortName", "description"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub exclude: bool,
    pub children: Vec<Field>,
}

/// Parses a field list; both `[..]` and `(..)` nest, `!x` excludes.
pub fn parse(spec: &str) -> Vec<Field> {
    split_top_level(spec)
        .into_iter()
        .filter_map(|token| {
            let token = token.trim();
            let (head, children) = match token.find(['[', '(']) {
                Some(open) => {
                    let inner = token[open + 1..].trim_end_matches([']', ')']);
                    (&token[..open], parse(inner))
                }
                None => (token, Vec::new()),
            };
            // Transformers (`name~rename(x)`, `name::size`) are not emulated: keep the name.
            let head = head.split(['~']).next().unwrap_or(head);
            let head = head.split("::").next().unwrap_or(head);
            let (exclude, name) = match head.strip_prefix('!') {
                Some(name) => (true, name),
                None => (false, head),
            };
            (!name.is_empty()).then(|| Field {
                name: name.to_owned(),
                exclude,
                children,
            })
        })
        .collect()
}

fn split_top_level(spec: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in spec.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&spec[start..]);
    parts
}

/// Applies `fields` to an object (or each element of an array).
pub fn select(value: &Value, fields: &[Field], catalog: &Catalog) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| select(v, fields, catalog)).collect())
        }
        Value::Object(object) => {
            Value::Object(select_object(resolve(object, catalog), fields, catalog))
        }
        other => other.clone(),
    }
}

/// A bare reference is replaced by the object it points to.
pub fn resolve<'a>(object: &'a Map<String, Value>, catalog: &'a Catalog) -> &'a Map<String, Value> {
    let is_reference = object.len() == 1 && object.contains_key("id");
    if is_reference
        && let Some(Value::Object(full)) = object["id"].as_str().and_then(|id| catalog.object(id))
    {
        return full;
    }
    object
}

fn select_object(
    object: &Map<String, Value>,
    fields: &[Field],
    catalog: &Catalog,
) -> Map<String, Value> {
    let mut out = Map::new();
    let copy = |key: &str, out: &mut Map<String, Value>| {
        if let Some(value) = object.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    };
    for field in fields.iter().filter(|f| !f.exclude) {
        match field.name.as_str() {
            "*" | ":all" | ":owner" | ":persisted" => out.extend(object.clone()),
            ":identifiable" => IDENTIFIABLE.iter().for_each(|k| copy(k, &mut out)),
            ":nameable" => IDENTIFIABLE
                .iter()
                .chain(&NAMEABLE_EXTRA)
                .for_each(|k| copy(k, &mut out)),
            name => {
                let Some(value) = object.get(name) else {
                    continue;
                };
                let selected = if field.children.is_empty() || OPAQUE_PROPERTIES.contains(&name) {
                    value.clone()
                } else {
                    select(value, &field.children, catalog)
                };
                out.insert(name.to_owned(), selected);
            }
        }
    }
    for field in fields.iter().filter(|f| f.exclude) {
        out.remove(&field.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_and_excluded_fields() {
        let fields = parse("id,name,parent[id,code],dataSetElements(dataElement[id]),!created");
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[2].name, "parent");
        assert_eq!(fields[2].children.len(), 2);
        assert_eq!(fields[3].children[0].children[0].name, "id");
        assert!(fields[4].exclude);
    }
}
