//! The DHIS2 metadata sync (`dhis2gw run-job sync`): org units, category combos and their option
//! combos, data elements, data sets with their elements, and user groups, paged, into the V5
//! tables. Incremental by `lastUpdated` once a collection has been synced; a full sync (the
//! first, or `--full`) also removes what DHIS2 no longer has, which an incremental one cannot see.

use chrono::{DateTime, NaiveDateTime, Utc};
use deadpool_postgres::Pool;
use serde::de::DeserializeOwned;

use crate::db::metadata::{self as db, Collection, MetadataObject};
use crate::dhis2::Dhis2Client;
use crate::dhis2::metadata::{self as api, DataSet, Object, OrgUnit};

use super::MappingError;

/// Objects per page asked of DHIS2.
pub const PAGE_SIZE: u32 = 500;
/// A pager that never ends is a broken server, not a big one.
const MAX_PAGES: u32 = 10_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Fetch everything and remove what DHIS2 no longer has.
    pub full: bool,
}

/// What one collection's sync did.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSync {
    pub collection: &'static str,
    pub full: bool,
    pub fetched: usize,
    pub removed: u64,
}

/// Syncs every collection, each in its own transaction (a failed one keeps its old state and
/// watermark; the next run retries it).
#[tracing::instrument(skip(pool, client))]
pub async fn sync(
    pool: &Pool,
    client: &Dhis2Client,
    options: SyncOptions,
) -> Result<Vec<CollectionSync>, MappingError> {
    let mut report = Vec::new();
    for collection in Collection::ALL {
        let done = sync_collection(pool, client, collection, options).await?;
        tracing::info!(
            collection = done.collection,
            full = done.full,
            fetched = done.fetched,
            removed = done.removed,
            "metadata synced"
        );
        report.push(done);
    }
    Ok(report)
}

/// `dhis2gw run-job sync`: connects with `database.*` and `api.*`, migrates, syncs.
pub async fn run_once(
    settings: &crate::config::Settings,
    options: SyncOptions,
) -> anyhow::Result<Vec<CollectionSync>> {
    use anyhow::Context;
    let pool = crate::db::connect(&settings.database).context("database.uri")?;
    crate::db::migrate::run(&pool)
        .await
        .context("applying database migrations")?;
    let client = Dhis2Client::new(&settings.api).context("api.dhis2_*")?;
    let report = sync(&pool, &client, options).await?;
    pool.close();
    Ok(report)
}

async fn sync_collection(
    pool: &Pool,
    client: &Dhis2Client,
    collection: Collection,
    options: SyncOptions,
) -> Result<CollectionSync, MappingError> {
    let mut conn = crate::db::TxConn::new(pool.get().await?);
    let tx = conn.transaction().await?;
    let since = if options.full {
        None
    } else {
        db::watermark(&tx, collection).await?
    };
    let full = since.is_none();
    // The transaction's clock: every object stored below gets exactly this synced_at.
    let started: DateTime<Utc> = tx.query_one("SELECT now()", &[]).await?.get(0);
    let mut fetched = 0;
    let mut newest: Option<NaiveDateTime> = None;
    let mut page = 1;
    loop {
        let (objects, page_count) = fetch(client, collection, since, page).await?;
        if objects.is_empty() {
            break;
        }
        fetched += objects.len();
        newest = objects
            .iter()
            .filter_map(|o| o.last_updated)
            .chain(newest)
            .max();
        db::upsert(&tx, collection, &objects).await?;
        if page >= page_count || page >= MAX_PAGES {
            break;
        }
        page += 1;
    }
    let removed = if full {
        db::sweep(&tx, collection, started).await?
    } else {
        0
    };
    db::record_run(&tx, collection, newest, fetched, full).await?;
    tx.commit().await?;
    conn.transaction_ended();
    Ok(CollectionSync {
        collection: collection.name(),
        full,
        fetched,
        removed,
    })
}

async fn fetch(
    client: &Dhis2Client,
    collection: Collection,
    since: Option<NaiveDateTime>,
    page: u32,
) -> Result<(Vec<MetadataObject>, u32), MappingError> {
    async fn get<T: DeserializeOwned>(
        client: &Dhis2Client,
        collection: Collection,
        since: Option<NaiveDateTime>,
        page: u32,
    ) -> Result<api::Page<T>, MappingError> {
        api::fetch_page(client, collection.name(), since, page, PAGE_SIZE)
            .await
            .map_err(|e| MappingError::Sync(format!("{}: {e}", collection.name())))
    }
    Ok(match collection {
        Collection::OrgUnits => {
            let p = get::<OrgUnit>(client, collection, since, page).await?;
            (p.objects.into_iter().map(org_unit).collect(), p.page_count)
        }
        Collection::DataSets => {
            let p = get::<DataSet>(client, collection, since, page).await?;
            (p.objects.into_iter().map(data_set).collect(), p.page_count)
        }
        _ => {
            let p = get::<Object>(client, collection, since, page).await?;
            (p.objects.into_iter().map(object).collect(), p.page_count)
        }
    })
}

fn common(c: &api::Identifiable) -> MetadataObject {
    MetadataObject {
        uid: c.id.clone(),
        code: c.code.clone(),
        name: c.name(),
        last_updated: c.last_updated(),
        ..MetadataObject::default()
    }
}

fn org_unit(ou: OrgUnit) -> MetadataObject {
    MetadataObject {
        level: ou.level,
        path: ou.path,
        parent: ou.parent.map(|p| p.id),
        ..common(&ou.common)
    }
}

fn object(o: Object) -> MetadataObject {
    MetadataObject {
        category_combo: o.category_combo.map(|c| c.id),
        kind: o.value_type,
        ..common(&o.common)
    }
}

fn data_set(ds: DataSet) -> MetadataObject {
    MetadataObject {
        category_combo: ds.category_combo.map(|c| c.id),
        kind: ds.period_type,
        elements: ds
            .data_set_elements
            .into_iter()
            .map(|e| (e.data_element.id, e.category_combo.map(|c| c.id)))
            .collect(),
        ..common(&ds.common)
    }
}
