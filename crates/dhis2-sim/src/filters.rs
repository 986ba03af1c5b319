//! Metadata object filters (`filter=property.path:operator:value`), ANDed unless
//! `rootJunction=OR`. Dotted paths walk into references and collections.

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::catalog::Catalog;
use super::fields::resolve;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    path: Vec<String>,
    operator: String,
    operand: String,
}

impl Filter {
    /// `userGroups.id:eq:X`, `name:ilike:district`, `lastUpdated:gt:2024-01-01`, `code:!null`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut parts = raw.splitn(3, ':');
        let (Some(path), Some(operator)) = (parts.next(), parts.next()) else {
            return Err(format!("Invalid filter: {raw}"));
        };
        let operand = parts.next().unwrap_or_default().to_owned();
        let known = [
            "eq", "!eq", "ne", "neq", "like", "!like", "ilike", "!ilike", "$like", "$ilike",
            "like$", "ilike$", "in", "!in", "null", "!null", "empty", "!empty", "gt", "ge", "lt",
            "le", "token",
        ];
        if path.is_empty() || !known.contains(&operator) {
            return Err(format!("Invalid filter: {raw}"));
        }
        Ok(Self {
            path: path.split('.').map(str::to_owned).collect(),
            operator: operator.to_owned(),
            operand,
        })
    }

    pub fn matches(&self, object: &Value, catalog: &Catalog) -> bool {
        let values = values_at(object, &self.path, catalog);
        let texts: Vec<String> = values.iter().filter_map(as_text).collect();
        let any = |pred: &dyn Fn(&str) -> bool| texts.iter().any(|t| pred(t));
        let operand = self.operand.as_str();
        let lower = operand.to_lowercase();
        match self.operator.as_str() {
            "eq" => any(&|t| t == operand),
            "!eq" | "ne" | "neq" => !any(&|t| t == operand),
            "like" => any(&|t| t.contains(operand)),
            "!like" => !any(&|t| t.contains(operand)),
            "ilike" | "token" => any(&|t| t.to_lowercase().contains(&lower)),
            "!ilike" => !any(&|t| t.to_lowercase().contains(&lower)),
            "$like" => any(&|t| t.starts_with(operand)),
            "$ilike" => any(&|t| t.to_lowercase().starts_with(&lower)),
            "like$" => any(&|t| t.ends_with(operand)),
            "ilike$" => any(&|t| t.to_lowercase().ends_with(&lower)),
            "in" => any(&|t| list(operand).contains(&t)),
            "!in" => !any(&|t| list(operand).contains(&t)),
            "null" | "empty" => texts.is_empty(),
            "!null" | "!empty" => !texts.is_empty(),
            "gt" => any(&|t| compare(t, operand) == Ordering::Greater),
            "ge" => any(&|t| compare(t, operand) != Ordering::Less),
            "lt" => any(&|t| compare(t, operand) == Ordering::Less),
            "le" => any(&|t| compare(t, operand) != Ordering::Greater),
            _ => false,
        }
    }
}

/// Every scalar reachable through `path`, flattening collections on the way.
fn values_at(value: &Value, path: &[String], catalog: &Catalog) -> Vec<Value> {
    let Some((head, rest)) = path.split_first() else {
        return match value {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        };
    };
    match value {
        Value::Array(items) => items
            .iter()
            .flat_map(|v| values_at(v, path, catalog))
            .collect(),
        Value::Object(object) => {
            let object = if object.contains_key(head.as_str()) {
                object
            } else {
                resolve(object, catalog)
            };
            object
                .get(head.as_str())
                .map(|child| values_at(child, rest, catalog))
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `[a,b,c]` (brackets optional).
fn list(operand: &str) -> Vec<&str> {
    operand
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(str::trim)
        .collect()
}

/// Numbers numerically, dates chronologically, anything else as text.
pub fn compare(left: &str, right: &str) -> Ordering {
    if let (Ok(l), Ok(r)) = (left.parse::<f64>(), right.parse::<f64>()) {
        return l.partial_cmp(&r).unwrap_or(Ordering::Equal);
    }
    if let (Some(l), Some(r)) = (parse_date(left), parse_date(right)) {
        return l.cmp(&r);
    }
    left.cmp(right)
}

fn parse_date(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_with_colons_in_the_operand() {
        let filter = Filter::parse("lastUpdated:gt:2024-01-01T10:00:00").unwrap();
        assert_eq!(filter.operand, "2024-01-01T10:00:00");
        assert!(Filter::parse("name").is_err());
        assert!(Filter::parse("name:bogus:x").is_err());
        assert_eq!(
            compare("2024-01-01T00:00:00.000", "2023-12-31"),
            Ordering::Greater
        );
        assert_eq!(compare("10", "9"), Ordering::Greater);
    }
}
