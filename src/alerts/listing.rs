//! Reading recorded alerts for people (the alerts API and the console) and acknowledging one.

use deadpool_postgres::Pool;

use crate::db::alerts::{self as db, Alert, AlertFilter};

use super::AlertError;

/// Alerts matching `filter`, newest first.
pub async fn list(pool: &Pool, filter: &AlertFilter) -> Result<Vec<Alert>, AlertError> {
    let client = pool.get().await?;
    Ok(db::list(&client, filter).await?)
}

/// One alert with its evaluation and DHIS2 exchange.
pub async fn get(pool: &Pool, id: i64) -> Result<Alert, AlertError> {
    let client = pool.get().await?;
    db::get(&client, id).await?.ok_or(AlertError::NoAlert(id))
}

/// Marks an open alert acknowledged by `who`. An alert already acknowledged or closed is left
/// as it is (acknowledging twice is not an error).
pub async fn acknowledge(pool: &Pool, id: i64, who: &str) -> Result<Alert, AlertError> {
    let client = pool.get().await?;
    db::acknowledge(&client, id, who)
        .await?
        .ok_or(AlertError::NoAlert(id))
}
