//! The `dhis2_mappings` table: namespace loads and the per-kind uniqueness rules.

use dhis2gw::db;
use dhis2gw::db::mappings::{self, MappingFields};

use crate::support::services::migrated_database;

/// A migrated pool on a fresh database.
pub async fn migrated_pool() -> db::Pool {
    let uri = migrated_database().await;
    let pool = db::connect(&dhis2gw::config::DatabaseSettings {
        uri,
        pool_size: 4,
        connect_timeout_secs: 5,
    })
    .unwrap();
    db::migrate::run(&pool).await.unwrap();
    pool
}

#[tokio::test]
async fn for_namespace_returns_both_kinds_of_that_namespace_only() {
    let pool = migrated_pool().await;
    let client = pool.get().await.unwrap();
    let de = mappings::insert(
        &client,
        None,
        &MappingFields::data_element("MAL_CASES", "fbfJHSPpUQD", Some("pq2XI5kz2BY")),
    )
    .await
    .unwrap();
    let ou = mappings::insert(
        &client,
        Some("Aaaaaaaaaa1"),
        &MappingFields::org_unit("KLA-001", "DiszpKrYNg8"),
    )
    .await
    .unwrap();
    let mut other = MappingFields::data_element("MAL_CASES", "fbfJHSPpUQD", None);
    other.source_name = "pbs".into();
    mappings::insert(&client, None, &other).await.unwrap();

    let rows = mappings::for_namespace(&client, "default", "default")
        .await
        .unwrap();
    assert_eq!(rows, vec![de.clone(), ou.clone()]);
    assert_eq!(ou.uid, "Aaaaaaaaaa1");
    assert_eq!(de.uid.len(), 11);
    assert_eq!(de.category_option_combo.as_deref(), Some("pq2XI5kz2BY"));
    assert_eq!(de.description, None);
    assert_eq!(ou.dest_orgunit.as_deref(), Some("DiszpKrYNg8"));
    assert!(
        mappings::for_namespace(&client, "pbs", "other")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_key_is_unique_per_kind_and_namespace() {
    let pool = migrated_pool().await;
    let client = pool.get().await.unwrap();
    let de = MappingFields::data_element("K1", "fbfJHSPpUQD", None);
    mappings::insert(&client, None, &de).await.unwrap();
    let err = mappings::insert(&client, None, &de).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    );

    // Same code in another instance is fine; an ou mapping whose code equals a de code too.
    let mut elsewhere = de.clone();
    elsewhere.instance_name = "hmis2".into();
    mappings::insert(&client, None, &elsewhere).await.unwrap();
    let mut ou = MappingFields::org_unit("OU-1", "DiszpKrYNg8");
    ou.code = "K1".into();
    mappings::insert(&client, None, &ou).await.unwrap();
    let mut ou_again = MappingFields::org_unit("OU-1", "ImspTQPwCqd");
    ou_again.code = "K2".into();
    let err = mappings::insert(&client, None, &ou_again)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    );
}

#[tokio::test]
async fn empty_strings_and_incomplete_rows_are_refused_by_the_table() {
    let pool = migrated_pool().await;
    let client = pool.get().await.unwrap();
    let mut empty = MappingFields::data_element("K1", "fbfJHSPpUQD", None);
    empty.description = Some(String::new());
    let err = mappings::insert(&client, None, &empty).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION)
    );
    let mut no_element = MappingFields::data_element("K1", "fbfJHSPpUQD", None);
    no_element.dataelement = None;
    let err = mappings::insert(&client, None, &no_element)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION)
    );
}
