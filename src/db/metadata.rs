//! The synced DHIS2 metadata tables (V5): bulk upserts, the sweep after a full sync, the
//! per-collection watermark, and the lookups that check mappings against them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

/// A synced metadata collection: its table and its key in `dhis2_metadata_sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    OrgUnits,
    CategoryCombos,
    CategoryOptionCombos,
    DataElements,
    DataSets,
    UserGroups,
}

impl Collection {
    pub const ALL: [Collection; 6] = [
        Collection::OrgUnits,
        Collection::CategoryCombos,
        Collection::CategoryOptionCombos,
        Collection::DataElements,
        Collection::DataSets,
        Collection::UserGroups,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Collection::OrgUnits => "dhis2_org_units",
            Collection::CategoryCombos => "dhis2_category_combos",
            Collection::CategoryOptionCombos => "dhis2_category_option_combos",
            Collection::DataElements => "dhis2_data_elements",
            Collection::DataSets => "dhis2_data_sets",
            Collection::UserGroups => "dhis2_user_groups",
        }
    }

    /// DHIS2's name of the collection (`/api/<name>`), also its key in `dhis2_metadata_sync`.
    pub fn name(self) -> &'static str {
        match self {
            Collection::OrgUnits => "organisationUnits",
            Collection::CategoryCombos => "categoryCombos",
            Collection::CategoryOptionCombos => "categoryOptionCombos",
            Collection::DataElements => "dataElements",
            Collection::DataSets => "dataSets",
            Collection::UserGroups => "userGroups",
        }
    }
}

/// One metadata object as stored. Not every collection uses every field: `level`, `path`,
/// `parent` are org units', `category_combo` is the combo of an element, option combo or data
/// set, `kind` an element's value type or a data set's period type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetadataObject {
    pub uid: String,
    pub code: Option<String>,
    pub name: String,
    pub level: Option<i32>,
    pub path: Option<String>,
    pub parent: Option<String>,
    pub category_combo: Option<String>,
    pub kind: Option<String>,
    pub last_updated: Option<NaiveDateTime>,
    /// A data set's elements: (data element uid, override category combo uid).
    pub elements: Vec<(String, Option<String>)>,
}

/// Inserts or refreshes objects of one collection, stamping `synced_at`.
pub async fn upsert(
    db: &impl GenericClient,
    collection: Collection,
    objects: &[MetadataObject],
) -> Result<(), tokio_postgres::Error> {
    if objects.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&MetadataObject) -> Option<String>| objects.iter().map(f).collect::<Vec<_>>();
    let uids = col(|o| Some(o.uid.clone()));
    let codes = col(|o| o.code.clone());
    let names = col(|o| Some(o.name.clone()));
    let combos = col(|o| o.category_combo.clone());
    let kinds = col(|o| o.kind.clone());
    let updated: Vec<Option<NaiveDateTime>> = objects.iter().map(|o| o.last_updated).collect();
    let (sql, params): (&str, Vec<&(dyn ToSql + Sync)>) = match collection {
        Collection::OrgUnits => {
            let levels: Vec<Option<i32>> = objects.iter().map(|o| o.level).collect();
            let paths = col(|o| o.path.clone());
            let parents = col(|o| o.parent.clone());
            return db
                .execute(
                    "INSERT INTO dhis2_org_units AS t (uid, code, name, last_updated, level, path, parent_uid) \
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[], $5::int[], $6::text[], $7::text[]) \
                     ON CONFLICT (uid) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, \
                       last_updated = EXCLUDED.last_updated, level = EXCLUDED.level, path = EXCLUDED.path, \
                       parent_uid = EXCLUDED.parent_uid, synced_at = now()",
                    &[&uids, &codes, &names, &updated, &levels, &paths, &parents],
                )
                .await
                .map(drop);
        }
        Collection::CategoryCombos | Collection::UserGroups => (
            if collection == Collection::UserGroups {
                "INSERT INTO dhis2_user_groups AS t (uid, code, name, last_updated) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[]) \
                 ON CONFLICT (uid) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, \
                   last_updated = EXCLUDED.last_updated, synced_at = now()"
            } else {
                "INSERT INTO dhis2_category_combos AS t (uid, code, name, last_updated) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[]) \
                 ON CONFLICT (uid) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, \
                   last_updated = EXCLUDED.last_updated, synced_at = now()"
            },
            vec![&uids, &codes, &names, &updated],
        ),
        Collection::CategoryOptionCombos => (
            "INSERT INTO dhis2_category_option_combos AS t (uid, code, name, last_updated, category_combo_uid) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[], $5::text[]) \
             ON CONFLICT (uid) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, \
               last_updated = EXCLUDED.last_updated, category_combo_uid = EXCLUDED.category_combo_uid, \
               synced_at = now()",
            vec![&uids, &codes, &names, &updated, &combos],
        ),
        Collection::DataElements => (
            "INSERT INTO dhis2_data_elements AS t (uid, code, name, last_updated, category_combo_uid, value_type) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[], $5::text[], $6::text[]) \
             ON CONFLICT (uid) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, \
               last_updated = EXCLUDED.last_updated, category_combo_uid = EXCLUDED.category_combo_uid, \
               value_type = EXCLUDED.value_type, synced_at = now()",
            vec![&uids, &codes, &names, &updated, &combos, &kinds],
        ),
        Collection::DataSets => {
            db.execute(
                "INSERT INTO dhis2_data_sets AS t (uid, code, name, last_updated, category_combo_uid, period_type) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[], $5::text[], $6::text[]) \
                 ON CONFLICT (uid) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, \
                   last_updated = EXCLUDED.last_updated, category_combo_uid = EXCLUDED.category_combo_uid, \
                   period_type = EXCLUDED.period_type, synced_at = now()",
                &[&uids, &codes, &names, &updated, &combos, &kinds],
            )
            .await?;
            return replace_data_set_elements(db, objects).await;
        }
    };
    db.execute(sql, &params).await.map(drop)
}

async fn replace_data_set_elements(
    db: &impl GenericClient,
    sets: &[MetadataObject],
) -> Result<(), tokio_postgres::Error> {
    let set_uids: Vec<&str> = sets.iter().map(|s| s.uid.as_str()).collect();
    db.execute(
        "DELETE FROM dhis2_data_set_elements WHERE data_set_uid = ANY($1)",
        &[&set_uids],
    )
    .await?;
    let mut owners = Vec::new();
    let mut elements = Vec::new();
    let mut combos: Vec<Option<String>> = Vec::new();
    for set in sets {
        for (element, combo) in &set.elements {
            owners.push(set.uid.clone());
            elements.push(element.clone());
            combos.push(combo.clone());
        }
    }
    db.execute(
        "INSERT INTO dhis2_data_set_elements (data_set_uid, data_element_uid, category_combo_uid) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
        &[&owners, &elements, &combos],
    )
    .await
    .map(drop)
}

/// After a full sync: removes the objects DHIS2 no longer has (not seen since `started`).
pub async fn sweep(
    db: &impl GenericClient,
    collection: Collection,
    started: DateTime<Utc>,
) -> Result<u64, tokio_postgres::Error> {
    let sql = format!("DELETE FROM {} WHERE synced_at < $1", collection.table());
    db.execute(&sql, &[&started]).await
}

/// The newest `lastUpdated` synced for a collection, if it was ever synced.
pub async fn watermark(
    db: &impl GenericClient,
    collection: Collection,
) -> Result<Option<NaiveDateTime>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT watermark FROM dhis2_metadata_sync WHERE collection = $1",
            &[&collection.name()],
        )
        .await?;
    Ok(row.and_then(|r| r.get(0)))
}

/// Records a run: the new watermark (kept if `None`), how many objects came, whether it was full.
pub async fn record_run(
    db: &impl GenericClient,
    collection: Collection,
    watermark: Option<NaiveDateTime>,
    fetched: usize,
    full: bool,
) -> Result<(), tokio_postgres::Error> {
    let fetched = i32::try_from(fetched).unwrap_or(i32::MAX);
    db.execute(
        "INSERT INTO dhis2_metadata_sync (collection, watermark, last_run_at, last_full_at, last_fetched) \
         VALUES ($1, $2, now(), CASE WHEN $3 THEN now() END, $4) \
         ON CONFLICT (collection) DO UPDATE SET \
           watermark = COALESCE(GREATEST(EXCLUDED.watermark, dhis2_metadata_sync.watermark), dhis2_metadata_sync.watermark), \
           last_run_at = now(), \
           last_full_at = COALESCE(EXCLUDED.last_full_at, dhis2_metadata_sync.last_full_at), \
           last_fetched = EXCLUDED.last_fetched",
        &[&collection.name(), &watermark, &full, &fetched],
    )
    .await
    .map(drop)
}

/// True once every collection has had a full sync.
pub async fn is_synced(db: &impl GenericClient) -> Result<bool, tokio_postgres::Error> {
    let row = db
        .query_one(
            "SELECT count(*) FROM dhis2_metadata_sync WHERE last_full_at IS NOT NULL",
            &[],
        )
        .await?;
    Ok(row.get::<_, i64>(0) >= Collection::ALL.len() as i64)
}

/// Of these uids, the ones the collection has.
pub async fn existing(
    db: &impl GenericClient,
    collection: Collection,
    uids: &[String],
) -> Result<HashSet<String>, tokio_postgres::Error> {
    let sql = format!("SELECT uid FROM {} WHERE uid = ANY($1)", collection.table());
    let rows = db.query(&sql, &[&uids]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// uid → category combo uid, for data elements or category option combos.
pub async fn combos_of(
    db: &impl GenericClient,
    collection: Collection,
    uids: &[String],
) -> Result<HashMap<String, Option<String>>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT uid, category_combo_uid FROM {} WHERE uid = ANY($1)",
        collection.table()
    );
    let rows = db.query(&sql, &[&uids]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// (data set, data element, override combo) for these data elements.
pub async fn data_set_elements_of(
    db: &impl GenericClient,
    elements: &[String],
) -> Result<Vec<(String, String, Option<String>)>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT data_set_uid, data_element_uid, category_combo_uid \
             FROM dhis2_data_set_elements WHERE data_element_uid = ANY($1)",
            &[&elements],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}
