//! The `dhis2_mappings` table: rows, namespace loads for the pipeline, filtered pages for the
//! API, and the single-row and bulk writes the mappings service uses.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

mod bulk;
mod filter;

pub use bulk::{delete_ids, insert_many, update_many};
pub use filter::{MappingFilter, matching, page};

/// Every column, in the order `MappingRow::from_row` reads them.
const COLUMNS: &str = "id, uid, code, what, name, description, dataset, dataelement, \
    category_option_combo, category_option, category_combo, attribute_option_combo, \
    instance_name, source_name, source_orgunit, dest_orgunit, dimension_type, created, updated";

/// One stored mapping. Optional columns are `None` when absent, never `Some("")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    pub id: i64,
    pub uid: String,
    pub code: String,
    /// `de` (data element) or `ou` (org unit).
    pub what: String,
    pub name: String,
    pub description: Option<String>,
    pub dataset: Option<String>,
    pub dataelement: Option<String>,
    pub category_option_combo: Option<String>,
    pub category_option: Option<String>,
    pub category_combo: Option<String>,
    pub attribute_option_combo: Option<String>,
    pub instance_name: String,
    pub source_name: String,
    pub source_orgunit: Option<String>,
    pub dest_orgunit: Option<String>,
    pub dimension_type: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl MappingRow {
    fn from_row(row: &Row) -> MappingRow {
        MappingRow {
            id: row.get(0),
            uid: row.get(1),
            code: row.get(2),
            what: row.get(3),
            name: row.get(4),
            description: row.get(5),
            dataset: row.get(6),
            dataelement: row.get(7),
            category_option_combo: row.get(8),
            category_option: row.get(9),
            category_combo: row.get(10),
            attribute_option_combo: row.get(11),
            instance_name: row.get(12),
            source_name: row.get(13),
            source_orgunit: row.get(14),
            dest_orgunit: row.get(15),
            dimension_type: row.get(16),
            created: row.get(17),
            updated: row.get(18),
        }
    }

    /// The writable fields of this row, e.g. to compare with an imported one.
    pub fn fields(&self) -> MappingFields {
        MappingFields {
            code: self.code.clone(),
            what: self.what.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            dataset: self.dataset.clone(),
            dataelement: self.dataelement.clone(),
            category_option_combo: self.category_option_combo.clone(),
            category_option: self.category_option.clone(),
            category_combo: self.category_combo.clone(),
            attribute_option_combo: self.attribute_option_combo.clone(),
            instance_name: self.instance_name.clone(),
            source_name: self.source_name.clone(),
            source_orgunit: self.source_orgunit.clone(),
            dest_orgunit: self.dest_orgunit.clone(),
            dimension_type: self.dimension_type.clone(),
        }
    }
}

/// The columns a writer sets (everything but id, uid and the timestamps).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MappingFields {
    pub code: String,
    pub what: String,
    pub name: String,
    pub description: Option<String>,
    pub dataset: Option<String>,
    pub dataelement: Option<String>,
    pub category_option_combo: Option<String>,
    pub category_option: Option<String>,
    pub category_combo: Option<String>,
    pub attribute_option_combo: Option<String>,
    pub instance_name: String,
    pub source_name: String,
    pub source_orgunit: Option<String>,
    pub dest_orgunit: Option<String>,
    pub dimension_type: Option<String>,
}

impl MappingFields {
    /// A data-element mapping in the `default`/`default` namespace, for tests and examples.
    pub fn data_element(code: &str, dataelement: &str, coc: Option<&str>) -> MappingFields {
        MappingFields {
            code: code.to_owned(),
            what: "de".to_owned(),
            name: code.to_owned(),
            dataelement: Some(dataelement.to_owned()),
            category_option_combo: coc.map(str::to_owned),
            instance_name: "default".to_owned(),
            source_name: "default".to_owned(),
            ..MappingFields::default()
        }
    }

    /// An org-unit mapping in the `default`/`default` namespace, for tests and examples.
    pub fn org_unit(source_orgunit: &str, dest_orgunit: &str) -> MappingFields {
        MappingFields {
            code: source_orgunit.to_owned(),
            what: "ou".to_owned(),
            name: source_orgunit.to_owned(),
            source_orgunit: Some(source_orgunit.to_owned()),
            dest_orgunit: Some(dest_orgunit.to_owned()),
            instance_name: "default".to_owned(),
            source_name: "default".to_owned(),
            ..MappingFields::default()
        }
    }

    /// The values bound as $1..$15 in column order of `WRITABLE`.
    fn params(&self) -> [&(dyn ToSql + Sync); 15] {
        [
            &self.code,
            &self.what,
            &self.name,
            &self.description,
            &self.dataset,
            &self.dataelement,
            &self.category_option_combo,
            &self.category_option,
            &self.category_combo,
            &self.attribute_option_combo,
            &self.instance_name,
            &self.source_name,
            &self.source_orgunit,
            &self.dest_orgunit,
            &self.dimension_type,
        ]
    }
}

/// The writable columns, in the order of `MappingFields::params`.
const WRITABLE: &str = "code, what, name, description, dataset, dataelement, \
    category_option_combo, category_option, category_combo, attribute_option_combo, \
    instance_name, source_name, source_orgunit, dest_orgunit, dimension_type";

/// Every mapping of both kinds in one (source, instance) namespace, ordered by id. The
/// aggregate pipeline maps keys and org units with exactly this.
pub async fn for_namespace(
    db: &impl GenericClient,
    source: &str,
    instance: &str,
) -> Result<Vec<MappingRow>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dhis2_mappings \
         WHERE source_name = $1 AND instance_name = $2 ORDER BY id"
    );
    let rows = db.query(&sql, &[&source, &instance]).await?;
    Ok(rows.iter().map(MappingRow::from_row).collect())
}

/// Inserts one mapping; `uid` None lets the database draw one.
pub async fn insert(
    db: &impl GenericClient,
    uid: Option<&str>,
    fields: &MappingFields,
) -> Result<MappingRow, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO dhis2_mappings (uid, {WRITABLE}) \
         VALUES (COALESCE($16, generate_uid()), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15) \
         RETURNING {COLUMNS}"
    );
    let mut params: Vec<&(dyn ToSql + Sync)> = fields.params().to_vec();
    params.push(&uid);
    let row = db.query_one(&sql, &params).await?;
    Ok(MappingRow::from_row(&row))
}

/// Overwrites the writable columns of the mapping `uid` and bumps `updated`; None when absent.
pub async fn update(
    db: &impl GenericClient,
    uid: &str,
    fields: &MappingFields,
) -> Result<Option<MappingRow>, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE dhis2_mappings SET (updated, {WRITABLE}) = \
         (now(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         WHERE uid = $16 RETURNING {COLUMNS}"
    );
    let mut params: Vec<&(dyn ToSql + Sync)> = fields.params().to_vec();
    params.push(&uid);
    let row = db.query_opt(&sql, &params).await?;
    Ok(row.as_ref().map(MappingRow::from_row))
}

/// The mapping with this uid, if any.
pub async fn by_uid(
    db: &impl GenericClient,
    uid: &str,
) -> Result<Option<MappingRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM dhis2_mappings WHERE uid = $1");
    let row = db.query_opt(&sql, &[&uid]).await?;
    Ok(row.as_ref().map(MappingRow::from_row))
}

/// Deletes the mapping `uid`; true when it existed.
pub async fn delete(db: &impl GenericClient, uid: &str) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute("DELETE FROM dhis2_mappings WHERE uid = $1", &[&uid])
        .await?;
    Ok(n > 0)
}

/// Deletes mappings by namespace; a `None` side matches every value. Returns how many.
pub async fn delete_namespace(
    db: &impl GenericClient,
    source: Option<&str>,
    instance: Option<&str>,
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "DELETE FROM dhis2_mappings \
         WHERE ($1::text IS NULL OR source_name = $1) AND ($2::text IS NULL OR instance_name = $2)",
        &[&source, &instance],
    )
    .await
}

/// The mappings with these uids (any namespace).
pub async fn by_uids(
    db: &impl GenericClient,
    uids: &[String],
) -> Result<Vec<MappingRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM dhis2_mappings WHERE uid = ANY($1) ORDER BY id");
    let rows = db.query(&sql, &[&uids]).await?;
    Ok(rows.iter().map(MappingRow::from_row).collect())
}
