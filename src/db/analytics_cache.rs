//! The weekly values the alert run pulled from DHIS2 analytics (`alert_history`, one row per
//! series) and which weeks were asked for (`alert_history_coverage`), so a later run fetches only
//! the recent weeks. A scope is the analytics org unit selection (`ROOT1;ROOT2;LEVEL-3`).

use std::collections::HashMap;

use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use serde_json::Value;

/// The weeks of one (scope, data element) fetched so far: `first..=last` (Mondays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub first_week: NaiveDate,
    pub last_week: NaiveDate,
}

/// One stored series: counts from `first_week`, one a week, `None` where DHIS2 had no value.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSeries {
    pub org_unit: String,
    pub org_unit_name: Option<String>,
    pub first_week: NaiveDate,
    pub counts: Vec<Option<f64>>,
}

/// Coverage of each of `data_elements` in `scope` that has any.
pub async fn coverage(
    db: &impl GenericClient,
    scope: &str,
    data_elements: &[String],
) -> Result<HashMap<String, Coverage>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT data_element, first_week, last_week FROM alert_history_coverage \
             WHERE scope = $1 AND data_element = ANY($2)",
            &[&scope, &data_elements],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                Coverage {
                    first_week: r.get(1),
                    last_week: r.get(2),
                },
            )
        })
        .collect())
}

/// The most series stored in `scope` for any of `data_elements` (how many org units a pull
/// of the scope will likely answer for).
pub async fn most_series(
    db: &impl GenericClient,
    scope: &str,
    data_elements: &[String],
) -> Result<usize, tokio_postgres::Error> {
    let row = db
        .query_one(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM alert_history \
             WHERE scope = $1 AND data_element = ANY($2) GROUP BY data_element) c",
            &[&scope, &data_elements],
        )
        .await?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Every stored series of `data_element` in `scope`.
pub async fn series(
    db: &impl GenericClient,
    scope: &str,
    data_element: &str,
) -> Result<Vec<StoredSeries>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT org_unit, org_unit_name, first_week, counts FROM alert_history \
             WHERE scope = $1 AND data_element = $2",
            &[&scope, &data_element],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let counts: Value = r.get(3);
            StoredSeries {
                org_unit: r.get(0),
                org_unit_name: r.get(1),
                first_week: r.get(2),
                counts: counts
                    .as_array()
                    .map(|a| a.iter().map(Value::as_f64).collect())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// Replaces the stored series of `data_element` in `scope` with `series` (the merged old and
/// new weeks) and records the coverage, in one transaction, on `db` (which is closed if the
/// transaction fails, see [`super::TxConn`]).
pub async fn replace(
    db: deadpool_postgres::Object,
    scope: &str,
    data_element: &str,
    coverage: Coverage,
    series: &[StoredSeries],
) -> Result<(), tokio_postgres::Error> {
    let mut db = super::TxConn::new(db);
    let tx = db.transaction().await?;
    tx.execute(
        "DELETE FROM alert_history WHERE scope = $1 AND data_element = $2",
        &[&scope, &data_element],
    )
    .await?;
    for chunk in series.chunks(5000) {
        let org_units: Vec<&str> = chunk.iter().map(|s| s.org_unit.as_str()).collect();
        let names: Vec<Option<&str>> = chunk.iter().map(|s| s.org_unit_name.as_deref()).collect();
        let firsts: Vec<NaiveDate> = chunk.iter().map(|s| s.first_week).collect();
        let counts: Vec<Value> = chunk
            .iter()
            .map(|s| {
                Value::from(
                    s.counts
                        .iter()
                        .map(|c| c.map_or(Value::Null, Value::from))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        tx.execute(
            "INSERT INTO alert_history (scope, data_element, org_unit, org_unit_name, first_week, counts) \
             SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::date[], $6::jsonb[])",
            &[&scope, &data_element, &org_units, &names, &firsts, &counts],
        )
        .await?;
    }
    tx.execute(
        "INSERT INTO alert_history_coverage (scope, data_element, first_week, last_week) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (scope, data_element) DO UPDATE \
         SET first_week = EXCLUDED.first_week, last_week = EXCLUDED.last_week, fetched_at = now()",
        &[
            &scope,
            &data_element,
            &coverage.first_week,
            &coverage.last_week,
        ],
    )
    .await?;
    tx.commit().await?;
    db.transaction_ended();
    Ok(())
}
