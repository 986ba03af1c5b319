//! Many mappings written at once (an import): one statement per chunk over `unnest` arrays, so
//! a 100 000-row sheet is a few round trips, not 100 000.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::{MappingFields, WRITABLE};

/// Rows per statement: well under PostgreSQL's parameter and memory limits.
const CHUNK: usize = 5_000;

/// The writable columns as 15 arrays, in `WRITABLE` order.
struct Columns {
    text: [Vec<Option<String>>; 15],
}

impl Columns {
    fn of<'a>(fields: impl Iterator<Item = &'a MappingFields>) -> Columns {
        let mut text: [Vec<Option<String>>; 15] = Default::default();
        for f in fields {
            let values = [
                Some(f.code.clone()),
                Some(f.what.clone()),
                Some(f.name.clone()),
                f.description.clone(),
                f.dataset.clone(),
                f.dataelement.clone(),
                f.category_option_combo.clone(),
                f.category_option.clone(),
                f.category_combo.clone(),
                f.attribute_option_combo.clone(),
                Some(f.instance_name.clone()),
                Some(f.source_name.clone()),
                f.source_orgunit.clone(),
                f.dest_orgunit.clone(),
                f.dimension_type.clone(),
            ];
            for (column, value) in text.iter_mut().zip(values) {
                column.push(value);
            }
        }
        Columns { text }
    }

    /// `$2::text[], $3::text[], …` for the 15 arrays after the uid array.
    fn placeholders() -> String {
        (2..=16)
            .map(|i| format!("${i}::text[]"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Inserts mappings; a `None` uid lets the database draw one. Returns how many.
pub async fn insert_many(
    db: &impl GenericClient,
    rows: &[(Option<String>, MappingFields)],
) -> Result<u64, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO dhis2_mappings (uid, {WRITABLE}) \
         SELECT COALESCE(u.uid, generate_uid()), u.code, u.what, u.name, u.description, \
                u.dataset, u.dataelement, u.category_option_combo, u.category_option, \
                u.category_combo, u.attribute_option_combo, u.instance_name, u.source_name, \
                u.source_orgunit, u.dest_orgunit, u.dimension_type \
         FROM unnest($1::text[], {}) AS u(uid, {WRITABLE})",
        Columns::placeholders()
    );
    let statement = db.prepare(&sql).await?;
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        let uids: Vec<Option<String>> = chunk.iter().map(|(uid, _)| uid.clone()).collect();
        let columns = Columns::of(chunk.iter().map(|(_, f)| f));
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&uids];
        params.extend(columns.text.iter().map(|c| c as &(dyn ToSql + Sync)));
        written += db.execute(&statement, &params).await?;
    }
    Ok(written)
}

/// Overwrites the writable columns of the mappings with these uids and bumps `updated`.
pub async fn update_many(
    db: &impl GenericClient,
    rows: &[(String, MappingFields)],
) -> Result<u64, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE dhis2_mappings m SET (updated, {WRITABLE}) = \
           (now(), u.code, u.what, u.name, u.description, u.dataset, u.dataelement, \
            u.category_option_combo, u.category_option, u.category_combo, \
            u.attribute_option_combo, u.instance_name, u.source_name, u.source_orgunit, \
            u.dest_orgunit, u.dimension_type) \
         FROM unnest($1::text[], {}) AS u(uid, {WRITABLE}) \
         WHERE m.uid = u.uid",
        Columns::placeholders()
    );
    let statement = db.prepare(&sql).await?;
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        let uids: Vec<String> = chunk.iter().map(|(uid, _)| uid.clone()).collect();
        let columns = Columns::of(chunk.iter().map(|(_, f)| f));
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&uids];
        params.extend(columns.text.iter().map(|c| c as &(dyn ToSql + Sync)));
        written += db.execute(&statement, &params).await?;
    }
    Ok(written)
}

/// Deletes mappings by id. Returns how many.
pub async fn delete_ids(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<u64, tokio_postgres::Error> {
    db.execute("DELETE FROM dhis2_mappings WHERE id = ANY($1)", &[&ids])
        .await
}
