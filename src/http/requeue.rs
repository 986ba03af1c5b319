//! Sending logged submissions again: `POST /api/v2/logs/requeue` (ids or the log's filters) and
//! `POST /api/v2/logs/{id}/restart`, which the original's viewer called but never had.

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::http::auth::ApiAuth;
use crate::http::logs::{LogQuery, bad, has_filter, log_filter};
use crate::http::text::{Text, string};
use crate::http::{ApiError, Tag};
use crate::state::AppState;
use crate::submissions::RequeueReport;
use crate::submissions::logs::{MAX_FILTER_REQUEUE, NO_PAYLOAD};

pub struct RequeueApi {
    pub state: AppState,
}

#[derive(Debug, Object)]
pub struct RestartBody {
    pub message: String,
    pub submission_id: i64,
    pub task_id: String,
    pub status: String,
}

/// `POST /api/v2/logs/requeue`: the submissions named by `ids`, or else every one matching the
/// filters (the same fields as `GET /api/v2/logs`; at least one is required).
#[derive(Debug, Default, Object)]
#[oai(deny_unknown_fields)]
pub struct RequeueRequest {
    /// Submission ids (a selection). With ids, the filters must be absent.
    #[oai(nullable)]
    pub ids: Option<Vec<i64>>,
    #[oai(nullable)]
    pub status: Option<Text>,
    #[oai(nullable)]
    pub task_id: Option<Text>,
    /// The submission id.
    #[oai(nullable)]
    pub job_id: Option<i64>,
    #[oai(nullable)]
    pub submitted_at: Option<Text>,
    #[oai(nullable)]
    pub from_date: Option<Text>,
    #[oai(nullable)]
    pub to_date: Option<Text>,
    /// Username or user id.
    #[oai(nullable)]
    pub user: Option<Text>,
    #[oai(nullable)]
    pub text: Option<Text>,
    #[oai(nullable)]
    pub kind: Option<Text>,
    #[oai(nullable)]
    pub source: Option<Text>,
    #[oai(nullable)]
    pub data_set: Option<Text>,
    #[oai(nullable)]
    pub org_unit: Option<Text>,
    /// Count only: answer what would be requeued and change nothing.
    #[oai(default)]
    pub dry_run: bool,
}

/// What a requeue found and did.
#[derive(Debug, Object)]
pub struct RequeueAnswer {
    pub dry_run: bool,
    /// Submissions named or matching.
    pub matched: i64,
    /// Requeued (with `dry_run`: that would be).
    pub requeued: i64,
    /// Matching submissions still owed a delivery (queued, processing, retrying): a requeue by
    /// filter leaves them alone.
    pub still_open: i64,
    /// Skipped: no DHIS2 payload to send (see `no_payload_reason`).
    pub no_payload: i64,
    /// The ids skipped for having no payload (of a requeue; empty in a dry run).
    pub no_payload_ids: Vec<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub no_payload_reason: Option<String>,
    /// Named ids that do not exist.
    pub not_found: Vec<i64>,
    /// Matching rows beyond the most one request requeues (100000): send it again.
    pub remaining: i64,
    /// Redis refused the enqueue: the rows are queued in the log and the reconciler enqueues
    /// them.
    #[oai(skip_serializing_if_is_none)]
    pub enqueue_error: Option<String>,
    pub message: String,
}

#[OpenApi(tag = "Tag::Logs")]
impl RequeueApi {
    /// Requeue many submissions (admin): the `ids` given, or every settled submission matching
    /// the filters (at most 100000 per request; rows still owed a delivery are left alone).
    /// Submissions without a DHIS2 payload to send (rows adopted from the original database)
    /// are never requeued: they are counted and listed in `no_payload_ids`. `dry_run` counts
    /// without changing anything (the console's confirmation).
    #[oai(path = "/api/v2/logs/requeue", method = "post")]
    async fn requeue_many(
        &self,
        auth: ApiAuth,
        body: Json<RequeueRequest>,
    ) -> Result<Json<RequeueAnswer>, ApiError> {
        let b = body.0;
        let query = LogQuery {
            status: string(b.status),
            task_id: string(b.task_id),
            job_id: b.job_id,
            submitted_at: string(b.submitted_at),
            from_date: string(b.from_date),
            to_date: string(b.to_date),
            user: string(b.user),
            text: string(b.text),
            kind: string(b.kind),
            source: string(b.source),
            data_set: string(b.data_set),
            org_unit: string(b.org_unit),
        };
        let reason = |n: usize| (n > 0).then(|| NO_PAYLOAD.to_owned());
        let submissions = self.state.submissions();
        if let Some(ids) = b.ids {
            let mut details = Vec::new();
            if ids.is_empty() {
                details.push(bad("ids", "must list at least one submission id"));
            }
            if ids.len() > MAX_FILTER_REQUEUE as usize {
                details.push(bad("ids", format!("at most {MAX_FILTER_REQUEUE} ids")));
            }
            if has_filter(&query) {
                details.push(bad("ids", "give either ids or filters, not both"));
            }
            if !details.is_empty() {
                return Err(ApiError::unprocessable("invalid requeue", details));
            }
            let mut unique = ids.clone();
            unique.sort_unstable();
            unique.dedup();
            let (report, requeued) = if b.dry_run {
                let found = submissions.existing(&unique).await?;
                let skipped = submissions.without_payload(&unique).await?;
                let n = found.len() - skipped.len();
                let not_found = unique
                    .iter()
                    .filter(|i| !found.contains(i))
                    .copied()
                    .collect();
                let report = RequeueReport {
                    not_found,
                    no_payload: skipped,
                    ..RequeueReport::default()
                };
                (report, n as i64)
            } else {
                let report = submissions.requeue_many(Some(&auth.0), &unique).await?;
                let n = report.requeued.len() as i64;
                (report, n)
            };
            let matched = (unique.len() - report.not_found.len()) as i64;
            return Ok(Json(RequeueAnswer {
                message: format!(
                    "{} {requeued} of {matched} submission(s)",
                    if b.dry_run {
                        "Would requeue"
                    } else {
                        "Requeued"
                    }
                ),
                dry_run: b.dry_run,
                matched,
                requeued,
                still_open: 0,
                no_payload: report.no_payload.len() as i64,
                no_payload_reason: reason(report.no_payload.len()),
                no_payload_ids: if b.dry_run { vec![] } else { report.no_payload },
                not_found: report.not_found,
                remaining: 0,
                enqueue_error: report.enqueue_error,
            }));
        }
        if !has_filter(&query) {
            return Err(ApiError::unprocessable(
                "invalid requeue",
                vec![bad(
                    "ids",
                    "give ids or at least one filter (requeueing the whole log is not offered)",
                )],
            ));
        }
        let zone = self.state.settings().server.timezone;
        let (filter, details) = log_filter(query, zone);
        if !details.is_empty() {
            return Err(ApiError::unprocessable("invalid log filters", details));
        }
        let found = submissions
            .requeue_matching(Some(&auth.0), filter, b.dry_run)
            .await?;
        let (requeued, skipped_ids, enqueue_error) = match found.report {
            Some(r) => (r.requeued.len() as i64, r.no_payload, r.enqueue_error),
            None => (found.to_requeue.min(MAX_FILTER_REQUEUE), vec![], None),
        };
        Ok(Json(RequeueAnswer {
            message: format!(
                "{} {requeued} of {} matching submission(s)",
                if b.dry_run {
                    "Would requeue"
                } else {
                    "Requeued"
                },
                found.matched
            ),
            dry_run: b.dry_run,
            matched: found.matched,
            requeued,
            still_open: found.still_open,
            no_payload: found.no_payload,
            no_payload_reason: reason(found.no_payload as usize),
            no_payload_ids: skipped_ids,
            not_found: vec![],
            remaining: (found.to_requeue - MAX_FILTER_REQUEUE).max(0),
            enqueue_error,
        }))
    }

    /// Send a submission again from its log row: status back to `queued`, retries reset,
    /// requeue counted. A submitter may restart only its own.
    #[oai(path = "/api/v2/logs/:id/restart", method = "post")]
    async fn restart(&self, auth: ApiAuth, id: Path<i64>) -> Result<Json<RestartBody>, ApiError> {
        let submissions = self.state.submissions();
        let row = submissions.get_log(Some(&auth.0), id.0).await?;
        submissions.requeue(Some(&auth.0), &[row.id]).await?;
        Ok(Json(RestartBody {
            message: format!("Requeued submission {}", row.id),
            submission_id: row.id,
            task_id: row.task_id.to_string(),
            status: "queued".into(),
        }))
    }
}
