//! Recognising the original dhis2gw's database and which of its schemas it carries.
//!
//! The original edited its migrations after releasing them, so the golang-migrate version in
//! `schema_migrations` does not say which columns exist: the shape is read from the catalog.

use std::collections::{BTreeMap, BTreeSet};

use deadpool_postgres::GenericClient;

use super::AdoptError;

/// Columns every schema of the original has, per table adoption reads.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "users",
        &[
            "id",
            "uid",
            "user_role",
            "username",
            "password",
            "firstname",
            "lastname",
            "telephone",
            "email",
            "is_active",
            "is_admin_user",
            "last_login",
            "created",
            "updated",
        ],
    ),
    ("user_roles", &["id", "name"]),
    (
        "user_apitoken",
        &["id", "user_id", "token", "is_active", "created", "updated"],
    ),
    (
        "dhis2_mappings",
        &[
            "id",
            "uid",
            "name",
            "code",
            "description",
            "dataset",
            "dataelement",
            "category_option_combo",
            "created",
            "updated",
        ],
    ),
    (
        "submission_log",
        &[
            "id",
            "submitted_at",
            "payload",
            "status",
            "retry_count",
            "last_attempt_at",
            "task_id",
            "response",
        ],
    ),
];

/// What was found in the `public` schema of a database that has the original's
/// `schema_migrations` table.
#[derive(Debug, Clone)]
pub struct OriginalSchema {
    /// golang-migrate's recorded version.
    pub version: i64,
    /// Columns of each table in `public`.
    columns: BTreeMap<String, BTreeSet<String>>,
    /// Named constraints of `dhis2_mappings`.
    mapping_constraints: BTreeSet<String>,
}

impl OriginalSchema {
    /// True when `table` has `column`.
    pub fn has(&self, table: &str, column: &str) -> bool {
        self.columns
            .get(table)
            .is_some_and(|columns| columns.contains(column))
    }

    /// `alias.column` when the column exists, else `fallback` (an SQL expression).
    pub fn column_or(&self, table: &str, alias: &str, column: &str, fallback: &str) -> String {
        if self.has(table, column) {
            format!("{alias}.{column}")
        } else {
            fallback.to_owned()
        }
    }

    /// Every table in `public` (they are all moved aside, not only the ones converted).
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.columns.keys().map(String::as_str)
    }

    /// One line naming the schema: the recorded version and the columns and constraints that
    /// tell the migrations' released and edited forms apart.
    pub fn describe(&self) -> String {
        let mut traits = Vec::new();
        let mark = |present: bool, what: &str| {
            format!("{} {what}", if present { "with" } else { "without" })
        };
        traits.push(mark(
            self.has("user_apitoken", "expires_at"),
            "user_apitoken.expires_at",
        ));
        traits.push(mark(
            self.has("submission_log", "errors"),
            "submission_log.errors",
        ));
        traits.push(mark(
            self.has("submission_log", "dhis2_payload"),
            "submission_log.dhis2_payload",
        ));
        traits.push(mark(
            self.has("dhis2_mappings", "source_name"),
            "mapping namespaces (source_name, instance_name)",
        ));
        traits.push(mark(
            self.has("dhis2_mappings", "what"),
            "dhis2_mappings.what",
        ));
        traits.push(mark(
            self.has("dhis2_mappings", "dimension_type"),
            "dhis2_mappings.dimension_type",
        ));
        if self.mapping_constraints.contains("unique_code_dataset") {
            traits.push("with the released UNIQUE (code, dataset)".to_owned());
        }
        if self
            .mapping_constraints
            .contains("unique_code_source_instance_what")
        {
            traits.push("with UNIQUE (code, source_name, instance_name, what)".to_owned());
        }
        format!(
            "golang-migrate version {}; {}",
            self.version,
            traits.join(", ")
        )
    }
}

/// True when `public` holds the original's golang-migrate `schema_migrations` and no dhis2gw
/// migration history: a database only `migrate --adopt` should touch.
pub async fn is_unadopted_original(db: &impl GenericClient) -> Result<bool, tokio_postgres::Error> {
    let row = db
        .query_one(
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL \
                    AND to_regclass('public.refinery_schema_history') IS NULL",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Reads the original's schema, or explains why this is not a database adoption can take.
pub async fn detect(db: &impl GenericClient) -> Result<OriginalSchema, AdoptError> {
    let has_history = db
        .query_one(
            "SELECT to_regclass('public.refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await?
        .get::<_, bool>(0);
    if has_history {
        return Err(AdoptError::AlreadyDhis2gw);
    }
    let has_golang_migrate = db
        .query_one(
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL",
            &[],
        )
        .await?
        .get::<_, bool>(0);
    if !has_golang_migrate {
        return Err(AdoptError::NotOriginal(
            "there is no golang-migrate schema_migrations table in the public schema".into(),
        ));
    }
    let rows = db
        .query(
            "SELECT version::int8, dirty FROM public.schema_migrations",
            &[],
        )
        .await?;
    let [row] = rows.as_slice() else {
        return Err(AdoptError::NotOriginal(format!(
            "schema_migrations holds {} rows; golang-migrate keeps exactly one",
            rows.len()
        )));
    };
    let (version, dirty): (i64, bool) = (row.get(0), row.get(1));
    if dirty {
        return Err(AdoptError::Dirty(version));
    }

    let mut columns: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in db
        .query(
            "SELECT c.relname::text, a.attname::text \
               FROM pg_class c \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
                AND NOT EXISTS (SELECT 1 FROM pg_depend d \
                                 WHERE d.objid = c.oid AND d.deptype = 'e')",
            &[],
        )
        .await?
    {
        let table: String = row.get(0);
        let entry = columns.entry(table).or_default();
        if let Some(column) = row.get::<_, Option<String>>(1) {
            entry.insert(column);
        }
    }
    let mut missing = Vec::new();
    for (table, required) in REQUIRED {
        match columns.get(*table) {
            None => missing.push(format!("table {table}")),
            Some(present) => missing.extend(
                required
                    .iter()
                    .filter(|c| !present.contains(**c))
                    .map(|c| format!("{table}.{c}")),
            ),
        }
    }
    if !missing.is_empty() {
        return Err(AdoptError::MissingColumns(missing));
    }
    let mapping_constraints = db
        .query(
            "SELECT conname::text FROM pg_constraint WHERE conrelid = 'public.dhis2_mappings'::regclass",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    Ok(OriginalSchema {
        version,
        columns,
        mapping_constraints,
    })
}
