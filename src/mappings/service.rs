//! One mapping at a time (create, read, replace, delete), the filtered and paged list, bulk
//! delete by namespace, and the rows an export writes.

use deadpool_postgres::Pool;

use crate::db::mappings::{self as db, MappingFilter, MappingRow};

use super::MappingError;
use super::validate::{Candidate, NaturalKey, RowValues, validate};

/// Largest page a list returns.
pub const MAX_PAGE_SIZE: i64 = 1000;
pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<MappingRow>,
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub page_size: i64,
    pub total_pages: i64,
}

#[tracing::instrument(skip(pool))]
pub async fn list(
    pool: &Pool,
    filter: &MappingFilter,
    page: i64,
    page_size: i64,
) -> Result<Page, MappingError> {
    let page = page.max(1);
    let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
    let client = pool.get().await?;
    let offset = (page - 1).saturating_mul(page_size);
    let (items, total) = db::page(&client, filter, page_size, offset).await?;
    Ok(Page {
        items,
        total,
        page,
        page_size,
        total_pages: (total + page_size - 1) / page_size,
    })
}

#[tracing::instrument(skip(pool))]
pub async fn get(pool: &Pool, uid: &str) -> Result<MappingRow, MappingError> {
    let client = pool.get().await?;
    db::by_uid(&client, uid)
        .await?
        .ok_or_else(|| MappingError::NotFound(uid.to_owned()))
}

fn checked(values: &RowValues) -> Result<Candidate, MappingError> {
    validate(values).map_err(MappingError::Invalid)
}

fn taken(key: &NaturalKey) -> impl FnOnce() -> String + '_ {
    move || format!("{} is already mapped (or the uid is taken)", key.describe())
}

#[tracing::instrument(skip(pool, values))]
pub async fn create(pool: &Pool, values: &RowValues) -> Result<MappingRow, MappingError> {
    let candidate = checked(values)?;
    let key = candidate.key();
    let client = pool.get().await?;
    let uid = candidate.uid.as_ref().map(|u| u.as_str());
    let row = db::insert(&client, uid, &candidate.fields)
        .await
        .map_err(|e| MappingError::from_write(e, taken(&key)))?;
    tracing::info!(uid = %row.uid, key = %key.describe(), "mapping created");
    Ok(row)
}

/// Replaces every field of the mapping `uid` (absent fields become empty/defaults).
#[tracing::instrument(skip(pool, values))]
pub async fn replace(
    pool: &Pool,
    uid: &str,
    values: &RowValues,
) -> Result<MappingRow, MappingError> {
    let candidate = checked(values)?;
    if let Some(body_uid) = &candidate.uid
        && body_uid.as_str() != uid
    {
        return Err(MappingError::Invalid(vec![super::Problem {
            column: "uid",
            reason: format!("the body's uid {body_uid} differs from the path's {uid}"),
        }]));
    }
    let key = candidate.key();
    let client = pool.get().await?;
    let row = db::update(&client, uid, &candidate.fields)
        .await
        .map_err(|e| MappingError::from_write(e, taken(&key)))?
        .ok_or_else(|| MappingError::NotFound(uid.to_owned()))?;
    tracing::info!(uid, key = %key.describe(), "mapping replaced");
    Ok(row)
}

#[tracing::instrument(skip(pool))]
pub async fn delete(pool: &Pool, uid: &str) -> Result<(), MappingError> {
    let client = pool.get().await?;
    if db::delete(&client, uid).await? {
        tracing::info!(uid, "mapping deleted");
        Ok(())
    } else {
        Err(MappingError::NotFound(uid.to_owned()))
    }
}

/// Deletes the mappings of a source and/or instance; both absent deletes everything, which must
/// be asked for with `all`.
#[tracing::instrument(skip(pool))]
pub async fn delete_namespace(
    pool: &Pool,
    source: Option<&str>,
    instance: Option<&str>,
    all: bool,
) -> Result<u64, MappingError> {
    if source.is_none() && instance.is_none() && !all {
        return Err(MappingError::Refused(
            "say which mappings to delete: source and/or instance (or all=true for every mapping)"
                .into(),
        ));
    }
    let client = pool.get().await?;
    let deleted = db::delete_namespace(&client, source, instance).await?;
    tracing::info!(deleted, "mappings deleted");
    Ok(deleted)
}

/// Every mapping the filter matches, in list order.
pub async fn matching(
    pool: &Pool,
    filter: &MappingFilter,
) -> Result<Vec<MappingRow>, MappingError> {
    let client = pool.get().await?;
    Ok(db::matching(&client, filter).await?)
}
