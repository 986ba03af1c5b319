//! Reading the submission log for people: one row, filtered pages, deletes and purges.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::OPEN;
use crate::domain::submission::{Kind, Status, Submission};

/// Every column a reader sees, with the submitting user's name.
const COLUMNS: &str = "s.id, s.task_id, s.kind, s.status, s.submitted_at, s.updated_at, \
    s.user_id, u.username, host(s.source_ip), s.idempotency_key, s.source_name, s.instance_name, \
    s.org_unit, s.period, s.data_set, s.payload, s.dhis2_payload, s.unmapped, s.attempts, \
    s.retry_count, s.requeue_count, s.last_attempt_at, s.next_attempt_at, \
    s.completed_at, s.response, s.response_status, s.imported, s.updated, s.ignored, s.deleted, \
    s.conflicts, s.errors";

const FROM: &str = "FROM submission_log s LEFT JOIN users u ON u.id = s.user_id";

/// A [`Submission`] from a row of [`COLUMNS`].
fn submission_from_row(row: &Row) -> Submission {
    let unmapped: Value = row.get(17);
    // The payload sent is stored as the exact text DHIS2 received; readers get it as JSON,
    // or as a string if it somehow is not JSON.
    let dhis2_payload: String = row.get(16);
    Submission {
        id: row.get(0),
        task_id: row.get(1),
        kind: Kind::parse(row.get(2)).unwrap_or(Kind::Aggregate),
        status: Status::parse(row.get(3)).unwrap_or(Status::Queued),
        submitted_at: row.get(4),
        updated_at: row.get(5),
        user_id: row.get(6),
        username: row.get(7),
        source_ip: row.get(8),
        idempotency_key: row.get(9),
        source: row.get(10),
        instance: row.get(11),
        org_unit: row.get(12),
        period: row.get(13),
        data_set: row.get(14),
        payload: row.get(15),
        dhis2_payload: serde_json::from_str(&dhis2_payload).unwrap_or(Value::String(dhis2_payload)),
        unmapped: serde_json::from_value(unmapped).unwrap_or_default(),
        attempts: row.get(18),
        retry_count: row.get(19),
        requeue_count: row.get(20),
        last_attempt_at: row.get(21),
        next_attempt_at: row.get(22),
        completed_at: row.get(23),
        response: row.get(24),
        response_status: row.get(25),
        imported: row.get(26),
        updated: row.get(27),
        ignored: row.get(28),
        deleted: row.get(29),
        conflicts: row.get(30),
        errors: row.get(31),
    }
}

/// Filters of the log list; every one optional, all ANDed.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub status: Option<Status>,
    pub kind: Option<Kind>,
    pub task_id: Option<Uuid>,
    pub id: Option<i64>,
    /// Submitted at or after.
    pub from: Option<DateTime<Utc>>,
    /// Submitted strictly before.
    pub until: Option<DateTime<Utc>>,
    /// Username, or user id written in digits.
    pub user: Option<String>,
    /// Only this user's rows (a submitter sees its own).
    pub owner: Option<i64>,
    /// The source (namespace) the submission was mapped in, exactly.
    pub source: Option<String>,
    /// DHIS2 data set UID, exactly.
    pub data_set: Option<String>,
    /// DHIS2 org unit UID, exactly.
    pub org_unit: Option<String>,
    /// Case-insensitive substring of the request, the DHIS2 payload and response, the errors.
    pub text: Option<String>,
    /// Keyset position: only rows after this one in the list's order (newest first), i.e.
    /// with `(submitted_at, id)` below it. Not applied to the total.
    pub after: Option<(DateTime<Utc>, i64)>,
    /// Skip counting the matching rows (on millions of rows the count costs far more than the
    /// page): [`list`] then reports a total of -1.
    pub skip_total: bool,
}

impl LogFilter {
    /// `WHERE …` and its parameters; each `?` of a condition is that condition's one parameter.
    fn where_clause(&self) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
        let mut conditions: Vec<String> = Vec::new();
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut add = |sql: &str, param: Box<dyn ToSql + Sync + Send>| {
            params.push(param);
            conditions.push(sql.replace('?', &format!("${}", params.len())));
        };
        if let Some(status) = self.status {
            add("s.status = ?", Box::new(status.as_str()));
        }
        if let Some(kind) = self.kind {
            add("s.kind = ?", Box::new(kind.as_str()));
        }
        if let Some(task_id) = self.task_id {
            add("s.task_id = ?", Box::new(task_id));
        }
        if let Some(id) = self.id {
            add("s.id = ?", Box::new(id));
        }
        if let Some(from) = self.from {
            add("s.submitted_at >= ?", Box::new(from));
        }
        if let Some(until) = self.until {
            add("s.submitted_at < ?", Box::new(until));
        }
        if let Some(user) = &self.user {
            add(
                "(u.username = ? OR s.user_id::text = ?)",
                Box::new(user.clone()),
            );
        }
        if let Some(owner) = self.owner {
            add("s.user_id = ?", Box::new(owner));
        }
        if let Some(source) = &self.source {
            add("s.source_name = ?", Box::new(source.clone()));
        }
        if let Some(data_set) = &self.data_set {
            add("s.data_set = ?", Box::new(data_set.clone()));
        }
        if let Some(org_unit) = &self.org_unit {
            add("s.org_unit = ?", Box::new(org_unit.clone()));
        }
        if let Some(text) = &self.text {
            let pattern = format!("%{}%", escape_like(text));
            add(
                "(s.payload::text ILIKE ? OR s.dhis2_payload ILIKE ? \
                  OR s.response ILIKE ? OR s.errors ILIKE ?)",
                Box::new(pattern),
            );
        }
        if let Some((at, id)) = self.after {
            params.push(Box::new(at));
            params.push(Box::new(id));
            conditions.push(format!(
                "(s.submitted_at, s.id) < (${}, ${})",
                params.len() - 1,
                params.len()
            ));
        }
        let sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        (sql, params)
    }
}

/// Escapes `%`, `_` and `\` so the text matches literally inside ILIKE.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One page of rows, newest first, and the number of rows matching.
pub async fn list(
    db: &impl GenericClient,
    filter: &LogFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Submission>, i64), tokio_postgres::Error> {
    let total = if filter.skip_total {
        -1
    } else {
        let unpositioned = LogFilter {
            after: None,
            ..filter.clone()
        };
        let (clause, params) = unpositioned.where_clause();
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let total: i64 = db
            .query_one(&format!("SELECT count(*) {FROM} {clause}"), &refs)
            .await?
            .get(0);
        total
    };
    let (clause, params) = filter.where_clause();
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let n = refs.len();
    let mut page_params = refs.clone();
    page_params.push(&limit);
    page_params.push(&offset);
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} {FROM} {clause} ORDER BY s.submitted_at DESC, s.id DESC \
                 LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &page_params,
        )
        .await?;
    Ok((rows.iter().map(submission_from_row).collect(), total))
}

pub async fn get(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<Submission>, tokio_postgres::Error> {
    let row = db
        .query_opt(&format!("SELECT {COLUMNS} {FROM} WHERE s.id = $1"), &[&id])
        .await?;
    Ok(row.as_ref().map(submission_from_row))
}

pub async fn by_task_id(
    db: &impl GenericClient,
    task_id: Uuid,
) -> Result<Option<Submission>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            &format!("SELECT {COLUMNS} {FROM} WHERE s.task_id = $1"),
            &[&task_id],
        )
        .await?;
    Ok(row.as_ref().map(submission_from_row))
}

/// Ids of the rows with these task ids (unknown ones are skipped).
pub async fn ids_of_tasks(
    db: &impl GenericClient,
    task_ids: &[Uuid],
) -> Result<Vec<(Uuid, i64, Option<i64>)>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT task_id, id, user_id FROM submission_log WHERE task_id = ANY($1)",
            &[&task_ids],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Deletes one row; false when it did not exist.
pub async fn delete(db: &impl GenericClient, id: i64) -> Result<bool, tokio_postgres::Error> {
    let deleted: i64 = db
        .query_one(
            "WITH gone AS (DELETE FROM submission_log WHERE id = $1 RETURNING id), \
             open AS (DELETE FROM submission_open WHERE id IN (SELECT id FROM gone)) \
             SELECT count(*) FROM gone",
            &[&id],
        )
        .await?
        .get(0);
    Ok(deleted == 1)
}

/// Deletes the settled rows submitted before `before`; rows still owed a delivery are kept
/// (purging them would lose accepted data). Returns (deleted, kept because open).
pub async fn purge_before(
    db: &impl GenericClient,
    before: DateTime<Utc>,
) -> Result<(u64, u64), tokio_postgres::Error> {
    let deleted = db
        .execute(
            &format!("DELETE FROM submission_log WHERE submitted_at < $1 AND NOT ({OPEN})"),
            &[&before],
        )
        .await?;
    let kept: i64 = db
        .query_one(
            &format!("SELECT count(*) FROM submission_log WHERE submitted_at < $1 AND {OPEN}"),
            &[&before],
        )
        .await?
        .get(0);
    Ok((deleted, kept as u64))
}

/// The rows among `ids` with no DHIS2 payload to send (an empty `dhis2_payload`: rows adopted
/// from the original's database where it never built one), which a requeue skips.
pub async fn without_payload(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<i64>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT id FROM submission_log WHERE id = ANY($1) AND dhis2_payload = '' ORDER BY id",
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// What a requeue by filter finds: every matching row, those still owed a delivery (left
/// alone), and the settled ones without a payload to send (skipped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequeueCount {
    pub matched: i64,
    pub still_open: i64,
    pub no_payload: i64,
}

/// `clause` (a `WHERE …` or nothing) with one more condition.
fn and(clause: &str, condition: &str) -> String {
    if clause.is_empty() {
        format!("WHERE {condition}")
    } else {
        format!("{clause} AND {condition}")
    }
}

/// Counts what [`requeue_candidates`] would work on (the keyset position is ignored).
pub async fn count_for_requeue(
    db: &impl GenericClient,
    filter: &LogFilter,
) -> Result<RequeueCount, tokio_postgres::Error> {
    let filter = LogFilter {
        after: None,
        ..filter.clone()
    };
    let (clause, params) = filter.where_clause();
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let row = db
        .query_one(
            &format!(
                "SELECT count(*), count(*) FILTER (WHERE s.{OPEN}), \
                        count(*) FILTER (WHERE NOT s.{OPEN} AND s.dhis2_payload = '') \
                 {FROM} {clause}"
            ),
            &refs,
        )
        .await?;
    Ok(RequeueCount {
        matched: row.get(0),
        still_open: row.get(1),
        no_payload: row.get(2),
    })
}

/// Ids of the settled rows matching `filter` (the keyset position is ignored), by id, at most
/// `limit`: rows still owed a delivery are not requeued from under their delivery.
pub async fn requeue_candidates(
    db: &impl GenericClient,
    filter: &LogFilter,
    limit: i64,
) -> Result<Vec<i64>, tokio_postgres::Error> {
    let filter = LogFilter {
        after: None,
        ..filter.clone()
    };
    let (clause, params) = filter.where_clause();
    let mut refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    refs.push(&limit);
    let clause = and(&clause, &format!("NOT s.{OPEN}"));
    let rows = db
        .query(
            &format!(
                "SELECT s.id {FROM} {clause} ORDER BY s.id LIMIT ${}",
                refs.len()
            ),
            &refs,
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// (id, owner) of the rows among `ids` that exist.
pub async fn owners(
    db: &impl GenericClient,
    ids: &[i64],
) -> Result<Vec<(i64, Option<i64>)>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT id, user_id FROM submission_log WHERE id = ANY($1)",
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_number_their_parameters_in_order() {
        let filter = LogFilter {
            status: Some(Status::Failed),
            user: Some("alice".into()),
            text: Some("50%_off".into()),
            ..LogFilter::default()
        };
        let (sql, params) = filter.where_clause();
        assert_eq!(params.len(), 3);
        assert_eq!(
            sql,
            "WHERE s.status = $1 AND (u.username = $2 OR s.user_id::text = $2) AND \
             (s.payload::text ILIKE $3 OR s.dhis2_payload ILIKE $3 \
                  OR s.response ILIKE $3 OR s.errors ILIKE $3)"
        );
    }

    #[test]
    fn keyset_position_takes_two_parameters_after_the_others() {
        let filter = LogFilter {
            status: Some(Status::Failed),
            after: Some((DateTime::UNIX_EPOCH, 7)),
            ..LogFilter::default()
        };
        let (sql, params) = filter.where_clause();
        assert_eq!(params.len(), 3);
        assert_eq!(
            sql,
            "WHERE s.status = $1 AND (s.submitted_at, s.id) < ($2, $3)"
        );
    }

    #[test]
    fn no_filter_no_where() {
        let (sql, params) = LogFilter::default().where_clause();
        assert!(sql.is_empty());
        assert!(params.is_empty());
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
