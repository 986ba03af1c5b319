//! The list filters of `GET /api/v2/mappings` (and the exports) as one parameterised WHERE.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::{COLUMNS, MappingRow};

/// Each set field narrows the list; `name` matches a case-insensitive substring, the rest are
/// exact. Time bounds are inclusive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappingFilter {
    pub uid: Option<String>,
    pub code: Option<String>,
    pub what: Option<String>,
    pub name: Option<String>,
    pub dataset: Option<String>,
    pub dataelement: Option<String>,
    pub category_option_combo: Option<String>,
    pub category_option: Option<String>,
    pub category_combo: Option<String>,
    pub source_name: Option<String>,
    pub instance_name: Option<String>,
    pub source_orgunit: Option<String>,
    pub dest_orgunit: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_to: Option<DateTime<Utc>>,
}

/// The list order: by namespace, kind and key, so pages are stable and read like the export.
const ORDER: &str = "ORDER BY source_name, instance_name, what, code, source_orgunit, id";

impl MappingFilter {
    /// `WHERE …` (or nothing) and its parameters, numbered from $1.
    fn clause(&self) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
        let mut conditions = Vec::new();
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let exact = [
            ("uid", &self.uid),
            ("code", &self.code),
            ("what", &self.what),
            ("dataset", &self.dataset),
            ("dataelement", &self.dataelement),
            ("category_option_combo", &self.category_option_combo),
            ("category_option", &self.category_option),
            ("category_combo", &self.category_combo),
            ("source_name", &self.source_name),
            ("instance_name", &self.instance_name),
            ("source_orgunit", &self.source_orgunit),
            ("dest_orgunit", &self.dest_orgunit),
        ];
        for (column, value) in exact {
            if let Some(value) = value {
                params.push(Box::new(value.clone()));
                conditions.push(format!("{column} = ${}", params.len()));
            }
        }
        if let Some(name) = &self.name {
            let escaped = name
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            params.push(Box::new(format!("%{escaped}%")));
            conditions.push(format!("name ILIKE ${}", params.len()));
        }
        let bounds = [
            ("created >=", self.created_from),
            ("created <=", self.created_to),
            ("updated >=", self.updated_from),
            ("updated <=", self.updated_to),
        ];
        for (condition, value) in bounds {
            if let Some(value) = value {
                params.push(Box::new(value));
                conditions.push(format!("{condition} ${}", params.len()));
            }
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        (clause, params)
    }
}

/// One page of the matching mappings and how many match in all.
pub async fn page(
    db: &impl GenericClient,
    filter: &MappingFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MappingRow>, i64), tokio_postgres::Error> {
    let (clause, mut params) = filter.clause();
    let count_sql = format!("SELECT count(*) FROM dhis2_mappings {clause}");
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
    let total: i64 = db.query_one(&count_sql, &refs).await?.get(0);
    let n = params.len();
    params.push(Box::new(limit));
    params.push(Box::new(offset));
    let sql = format!(
        "SELECT {COLUMNS} FROM dhis2_mappings {clause} {ORDER} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
    let rows = db.query(&sql, &refs).await?;
    Ok((rows.iter().map(MappingRow::from_row).collect(), total))
}

/// Every matching mapping, in list order (the exports).
pub async fn matching(
    db: &impl GenericClient,
    filter: &MappingFilter,
) -> Result<Vec<MappingRow>, tokio_postgres::Error> {
    let (clause, params) = filter.clause();
    let sql = format!("SELECT {COLUMNS} FROM dhis2_mappings {clause} {ORDER}");
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
    let rows = db.query(&sql, &refs).await?;
    Ok(rows.iter().map(MappingRow::from_row).collect())
}
