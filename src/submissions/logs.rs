//! The submission log for people (API and CLI): pages with filters, one row, delete, purge, and
//! requeue — which works from the log row whatever Redis holds. Submitters see and requeue only
//! their own submissions.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::Submissions;
use super::error::SubmissionError;
use crate::auth::{Principal, Role};
use crate::db::submissions::{self, LogFilter};
use crate::domain::submission::Submission;

/// A date given to a log filter: `YYYY-MM-DD` (a whole day in `zone`, the server time zone) or
/// an RFC 3339 instant. Returns (start, end, whole day): the day's bounds, or the instant twice.
pub fn date_bounds(text: &str, zone: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>, bool)> {
    if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        let start = zone
            .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
            .earliest()?;
        let next = day.succ_opt()?;
        let end = zone
            .from_local_datetime(&next.and_hms_opt(0, 0, 0)?)
            .earliest()?;
        return Some((start.with_timezone(&Utc), end.with_timezone(&Utc), true));
    }
    let instant = DateTime::parse_from_rfc3339(text.trim())
        .ok()?
        .with_timezone(&Utc);
    Some((instant, instant, false))
}

/// One page of the log.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub items: Vec<Submission>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub total_pages: i64,
}

/// What a requeue did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequeueReport {
    pub requeued: Vec<i64>,
    pub not_found: Vec<i64>,
    /// Another user's submissions, which a submitter may not requeue.
    pub forbidden: Vec<i64>,
    /// Rows with no DHIS2 payload to send ([`NO_PAYLOAD`]), left as they are.
    pub no_payload: Vec<i64>,
    /// Redis refused the enqueue; the rows are queued in PostgreSQL and the reconciler will
    /// enqueue them.
    pub enqueue_error: Option<String>,
}

/// Why a row in [`RequeueReport::no_payload`] was not requeued.
pub const NO_PAYLOAD: &str = "no DHIS2 payload to send (a row adopted from the original \
    database, which never built one for it): send the request again instead";

/// Requeue by filter works on at most this many rows per request.
pub const MAX_FILTER_REQUEUE: i64 = 100_000;

/// What a requeue by filter found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterRequeue {
    /// Rows matching the filter.
    pub matched: i64,
    /// Matching rows still owed a delivery (queued, processing, retrying): left alone.
    pub still_open: i64,
    /// Settled matching rows with no payload to send: skipped.
    pub no_payload: i64,
    /// Settled matching rows with a payload: what a requeue requeues (at most
    /// [`MAX_FILTER_REQUEUE`] per request).
    pub to_requeue: i64,
    /// The requeue itself; `None` for a dry run.
    pub report: Option<RequeueReport>,
}

/// Who is looking: `None` is the system itself (CLI, scheduled job), which sees everything.
fn owner_limit(viewer: Option<&Principal>) -> Option<i64> {
    viewer
        .filter(|p| p.role == Role::Submitter)
        .map(|p| p.user_id)
}

fn check_owner(viewer: Option<&Principal>, row: &Submission) -> Result<(), SubmissionError> {
    match owner_limit(viewer) {
        Some(user) if row.user_id != Some(user) => Err(SubmissionError::Forbidden(format!(
            "submission {} belongs to another user",
            row.id
        ))),
        _ => Ok(()),
    }
}

impl Submissions {
    pub async fn list_logs(
        &self,
        viewer: Option<&Principal>,
        mut filter: LogFilter,
        page: i64,
        page_size: i64,
    ) -> Result<LogPage, SubmissionError> {
        filter.owner = owner_limit(viewer);
        let db = self.db().get().await?;
        let offset = (page - 1).saturating_mul(page_size);
        let (items, total) = submissions::list::list(&db, &filter, page_size, offset).await?;
        Ok(LogPage {
            items,
            total,
            page,
            page_size,
            total_pages: (total + page_size - 1) / page_size,
        })
    }

    pub async fn get_log(
        &self,
        viewer: Option<&Principal>,
        id: i64,
    ) -> Result<Submission, SubmissionError> {
        let db = self.db().get().await?;
        let row = submissions::list::get(&db, id)
            .await?
            .ok_or_else(|| SubmissionError::NotFound(format!("no submission with id {id}")))?;
        check_owner(viewer, &row)?;
        Ok(row)
    }

    pub async fn get_by_task(
        &self,
        viewer: Option<&Principal>,
        task_id: Uuid,
    ) -> Result<Submission, SubmissionError> {
        let db = self.db().get().await?;
        let row = submissions::list::by_task_id(&db, task_id)
            .await?
            .ok_or_else(|| {
                SubmissionError::NotFound(format!("no submission with task id {task_id}"))
            })?;
        check_owner(viewer, &row)?;
        Ok(row)
    }

    pub async fn delete_log(&self, id: i64) -> Result<(), SubmissionError> {
        let db = self.db().get().await?;
        if submissions::list::delete(&db, id).await? {
            tracing::info!(submission_id = id, "submission log deleted");
            Ok(())
        } else {
            Err(SubmissionError::NotFound(format!(
                "no submission with id {id}"
            )))
        }
    }

    /// Deletes settled rows submitted before `before`; returns (deleted, kept because open).
    pub async fn purge_logs(&self, before: DateTime<Utc>) -> Result<(u64, u64), SubmissionError> {
        let db = self.db().get().await?;
        let (deleted, kept) = submissions::list::purge_before(&db, before).await?;
        tracing::info!(deleted, kept_open = kept, %before, "submission log purged");
        Ok((deleted, kept))
    }

    /// Puts submissions back to `queued` for a fresh round of attempts and makes them due now.
    /// A person asking for exactly one submission that has no payload to send gets a conflict
    /// saying so (its state refuses it, whatever is asked); otherwise such rows are reported in [`RequeueReport::no_payload`].
    pub async fn requeue(
        &self,
        viewer: Option<&Principal>,
        ids: &[i64],
    ) -> Result<RequeueReport, SubmissionError> {
        let report = self.requeue_many(viewer, ids).await?;
        if viewer.is_some() && ids.len() == 1 && report.no_payload.len() == 1 {
            return Err(SubmissionError::Conflict(format!(
                "submission {} was not requeued: {NO_PAYLOAD}",
                ids[0]
            )));
        }
        Ok(report)
    }

    /// [`Self::requeue`] for a list (a selection, a filter, the retry job): every row is
    /// reported, none refused as a whole.
    #[tracing::instrument(skip(self, viewer), fields(user = viewer.map(|p| p.username.as_str())))]
    pub async fn requeue_many(
        &self,
        viewer: Option<&Principal>,
        ids: &[i64],
    ) -> Result<RequeueReport, SubmissionError> {
        let mut report = RequeueReport::default();
        let db = self.db().get().await?;
        let owners = submissions::list::owners(&db, ids).await?;
        let limit = owner_limit(viewer);
        let mut allowed = Vec::new();
        for id in ids {
            match owners.iter().find(|(row, _)| row == id) {
                None => report.not_found.push(*id),
                Some((_, owner)) if limit.is_some() && *owner != limit => {
                    report.forbidden.push(*id)
                }
                Some(_) => allowed.push(*id),
            }
        }
        allowed.sort_unstable();
        allowed.dedup();
        // The one guard for every requeue (one, a selection, a filter, the retry job): a row
        // with nothing to send stays as it is.
        report.no_payload = submissions::list::without_payload(&db, &allowed).await?;
        allowed.retain(|id| !report.no_payload.contains(id));
        if !report.no_payload.is_empty() {
            tracing::warn!(ids = ?report.no_payload, "not requeued: {NO_PAYLOAD}");
        }
        if allowed.is_empty() {
            return Ok(report);
        }
        report.requeued = submissions::requeue(&db, &allowed).await?;
        drop(db);
        match self.queue().enqueue_now(&report.requeued).await {
            Ok(_) => self.0.wake.notify_one(),
            Err(e) => {
                tracing::warn!(error = %e, "requeued in the log but not enqueued; the reconciler will enqueue");
                report.enqueue_error = Some(e.to_string());
                // Every instance's reconciler listens: ask for a pass (it retries until Redis
                // is back).
                self.0.reconcile_now.notify_one();
                let notify = format!("NOTIFY {}", super::mapping_cache::RECONCILE_CHANNEL);
                if let Ok(db) = self.db().get().await {
                    let _ = db.batch_execute(&notify).await;
                }
            }
        }
        tracing::info!(requeued = ?report.requeued, "submissions requeued");
        Ok(report)
    }

    /// The ids among `ids` that exist.
    pub async fn existing(&self, ids: &[i64]) -> Result<Vec<i64>, SubmissionError> {
        let db = self.db().get().await?;
        let owners = submissions::list::owners(&db, ids).await?;
        Ok(owners.into_iter().map(|(id, _)| id).collect())
    }

    /// The ids among `ids` that a requeue would skip for having no payload ([`NO_PAYLOAD`]).
    pub async fn without_payload(&self, ids: &[i64]) -> Result<Vec<i64>, SubmissionError> {
        let db = self.db().get().await?;
        Ok(submissions::list::without_payload(&db, ids).await?)
    }

    /// Requeues the settled submissions matching `filter` (at most [`MAX_FILTER_REQUEUE`]);
    /// with `dry_run`, only counts them. Rows still owed a delivery are left alone, rows without
    /// a payload are skipped and counted.
    pub async fn requeue_matching(
        &self,
        viewer: Option<&Principal>,
        mut filter: LogFilter,
        dry_run: bool,
    ) -> Result<FilterRequeue, SubmissionError> {
        filter.owner = owner_limit(viewer);
        let db = self.db().get().await?;
        let count = submissions::list::count_for_requeue(&db, &filter).await?;
        let mut result = FilterRequeue {
            matched: count.matched,
            still_open: count.still_open,
            no_payload: count.no_payload,
            to_requeue: count.matched - count.still_open - count.no_payload,
            report: None,
        };
        if dry_run || result.to_requeue + result.no_payload == 0 {
            if !dry_run {
                result.report = Some(RequeueReport::default());
            }
            return Ok(result);
        }
        let ids = submissions::list::requeue_candidates(&db, &filter, MAX_FILTER_REQUEUE).await?;
        drop(db);
        // Through the one requeue path, so its guards and reporting apply.
        result.report = Some(self.requeue_many(viewer, &ids).await?);
        Ok(result)
    }

    /// Requeue by task ids (the original's routes); returns the report and the task ids unknown.
    pub async fn requeue_tasks(
        &self,
        viewer: Option<&Principal>,
        task_ids: &[Uuid],
    ) -> Result<(RequeueReport, Vec<(Uuid, i64)>), SubmissionError> {
        let found = {
            let db = self.db().get().await?;
            submissions::list::ids_of_tasks(&db, task_ids).await?
        };
        let pairs: Vec<(Uuid, i64)> = found.iter().map(|(task, id, _)| (*task, *id)).collect();
        let ids: Vec<i64> = pairs.iter().map(|(_, id)| *id).collect();
        let report = self.requeue(viewer, &ids).await?;
        Ok((report, pairs))
    }

    /// Failed submissions the `retry` job would requeue now.
    pub async fn retry_candidates(
        &self,
        within: chrono::Duration,
        max_requeues: i32,
    ) -> Result<Vec<i64>, SubmissionError> {
        let db = self.db().get().await?;
        Ok(submissions::retry_candidates(&db, Utc::now() - within, max_requeues, 10_000).await?)
    }

    /// The `retry` job: failed submissions whose transient errors outlasted their retries
    /// (submitted in the last `within`, requeued fewer than `max_requeues` times) are requeued,
    /// and open ones the queue lost are re-enqueued. Returns (requeued, re-enqueued).
    pub async fn retry_eligible(
        &self,
        within: chrono::Duration,
        max_requeues: i32,
    ) -> Result<(usize, usize), SubmissionError> {
        let reenqueued = self.reconciler().run_once().await?;
        let candidates = self.retry_candidates(within, max_requeues).await?;
        let requeued = if candidates.is_empty() {
            0
        } else {
            self.requeue_many(None, &candidates).await?.requeued.len()
        };
        Ok((requeued, reenqueued))
    }
}
