//! `dhis2gw logs list|show|requeue|purge`: submission-log work for sysadmins over ssh, straight
//! on PostgreSQL (and Redis for requeue; if Redis is away, the running daemon's reconciler
//! enqueues the requeued rows).

use std::sync::Arc;

use anyhow::{Context, bail};
use chrono_tz::Tz;
use clap::{Args, Subcommand};
use serde_json::Value;
use uuid::Uuid;

use crate::config::Settings;
use crate::db::submissions::LogFilter;
use crate::domain::submission::{Kind, Status, Submission};
use crate::submissions::Submissions;
use crate::submissions::logs::date_bounds;
use crate::{db, queue};

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// List submissions, newest first.
    List(ListArgs),
    /// Show one submission (by id or task id) in full, as JSON.
    Show { id: String },
    /// Send submissions again from their log rows (status back to queued, retries reset).
    Requeue(RequeueArgs),
    /// Delete settled submissions submitted before a date (open ones are kept).
    Purge {
        /// `YYYY-MM-DD` (start of that day in server.timezone) or RFC 3339.
        #[arg(long)]
        before: String,
        /// Really delete (without it, only counts what would go).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// queued, processing, retrying, completed, completed_with_conflicts or failed.
    #[arg(long)]
    pub status: Option<String>,
    /// aggregate or tracker.
    #[arg(long)]
    pub kind: Option<String>,
    /// Username or user id.
    #[arg(long)]
    pub user: Option<String>,
    /// Submitted on or after (`YYYY-MM-DD` or RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Submitted up to (a `YYYY-MM-DD` day is included).
    #[arg(long)]
    pub to: Option<String>,
    /// Text in the request, DHIS2 payload or response, or errors.
    #[arg(long)]
    pub text: Option<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    #[arg(long, default_value_t = 1)]
    pub page: i64,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RequeueArgs {
    /// Submission ids or task ids.
    pub ids: Vec<String>,
    /// Also every submission with this status (e.g. failed).
    #[arg(long)]
    pub status: Option<String>,
}

pub async fn run(settings: Settings, command: LogsCommand) -> anyhow::Result<()> {
    let submissions = connect(&settings).await?;
    let zone = settings.server.timezone;
    match command {
        LogsCommand::List(args) => list(&submissions, zone, args).await,
        LogsCommand::Show { id } => {
            let row = find(&submissions, &id).await?;
            println!("{}", serde_json::to_string_pretty(&row_json(&row))?);
            Ok(())
        }
        LogsCommand::Requeue(args) => requeue(&submissions, args).await,
        LogsCommand::Purge { before, yes } => {
            let (start, _, _) = date_bounds(&before, zone)
                .with_context(|| format!("--before {before:?}: not YYYY-MM-DD or RFC 3339"))?;
            if !yes {
                let filter = LogFilter {
                    until: Some(start),
                    ..LogFilter::default()
                };
                let page = submissions.list_logs(None, filter, 1, 1).await?;
                println!(
                    "{} submissions were submitted before {start}; settled ones would be deleted. Add --yes to delete.",
                    page.total
                );
                return Ok(());
            }
            let (deleted, kept) = submissions.purge_logs(start).await?;
            println!(
                "deleted {deleted} submissions older than {start}; kept {kept} still owed a delivery"
            );
            Ok(())
        }
    }
}

/// The pipeline's service on the configured database (migrated) and Redis.
pub async fn connect(settings: &Settings) -> anyhow::Result<Submissions> {
    let pool = db::connect(&settings.database).context("database.uri")?;
    db::migrate::run(&pool)
        .await
        .context("applying database migrations")?;
    let redis = queue::connect(&settings.server, 1)
        .await
        .context("server.redis_address")?;
    // Redis may be down: requeues then land in PostgreSQL and the daemon enqueues them.
    redis
        .wait_connected(std::time::Duration::from_secs(3))
        .await;
    let (_keep, rx) = tokio::sync::watch::channel(Arc::new(settings.clone()));
    // The sender may go: the receiver keeps the last value, which is all a command needs.
    Ok(Submissions::new(rx, pool, &redis))
}

async fn list(submissions: &Submissions, zone: Tz, args: ListArgs) -> anyhow::Result<()> {
    let mut filter = LogFilter {
        user: args.user,
        text: args.text,
        ..LogFilter::default()
    };
    if let Some(s) = args.status {
        filter.status =
            Some(Status::parse(&s).with_context(|| format!("--status {s:?}: unknown status"))?);
    }
    if let Some(k) = args.kind {
        filter.kind =
            Some(Kind::parse(&k).with_context(|| format!("--kind {k:?}: aggregate or tracker"))?);
    }
    if let Some(from) = args.from {
        filter.from = Some(
            date_bounds(&from, zone)
                .with_context(|| format!("--from {from:?}"))?
                .0,
        );
    }
    if let Some(to) = args.to {
        let (_, end, day) = date_bounds(&to, zone).with_context(|| format!("--to {to:?}"))?;
        filter.until = Some(if day {
            end
        } else {
            end + chrono::Duration::microseconds(1)
        });
    }
    if !(1..=10_000).contains(&args.limit) || args.page < 1 {
        bail!("--limit must be 1..10000 and --page 1 or more");
    }
    let page = submissions
        .list_logs(None, filter, args.page, args.limit)
        .await?;
    if args.json {
        for row in &page.items {
            println!("{}", row_json(row));
        }
        return Ok(());
    }
    println!(
        "{:>8}  {:<20}  {:<24}  {:<9}  {:>3}  {:<14}  {:<11}  {:<9}  task",
        "id", "submitted (UTC)", "status", "kind", "try", "user", "org unit", "period"
    );
    for r in &page.items {
        println!(
            "{:>8}  {:<20}  {:<24}  {:<9}  {:>3}  {:<14}  {:<11}  {:<9}  {}",
            r.id,
            r.submitted_at.format("%Y-%m-%d %H:%M:%S"),
            r.status.as_str(),
            r.kind.as_str(),
            r.attempts,
            r.username.as_deref().unwrap_or("-"),
            r.org_unit.as_deref().unwrap_or("-"),
            r.period.as_deref().unwrap_or("-"),
            r.task_id
        );
    }
    println!(
        "page {} of {} ({} submissions)",
        page.page,
        page.total_pages.max(1),
        page.total
    );
    Ok(())
}

async fn find(submissions: &Submissions, id: &str) -> anyhow::Result<Submission> {
    let row = match (id.parse::<i64>(), Uuid::parse_str(id)) {
        (Ok(n), _) => submissions.get_log(None, n).await,
        (_, Ok(task)) => submissions.get_by_task(None, task).await,
        _ => bail!("{id:?} is neither a submission id nor a task id"),
    };
    Ok(row?)
}

async fn requeue(submissions: &Submissions, args: RequeueArgs) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for id in &args.ids {
        ids.push(find(submissions, id).await?.id);
    }
    if let Some(s) = args.status {
        let status =
            Status::parse(&s).with_context(|| format!("--status {s:?}: unknown status"))?;
        let filter = LogFilter {
            status: Some(status),
            ..LogFilter::default()
        };
        let page = submissions.list_logs(None, filter, 1, 100_000).await?;
        ids.extend(page.items.iter().map(|r| r.id));
    }
    if ids.is_empty() {
        bail!("nothing to requeue: give submission ids, task ids or --status");
    }
    let report = submissions.requeue(None, &ids).await?;
    println!("requeued {} submission(s)", report.requeued.len());
    if let Some(e) = report.enqueue_error {
        println!(
            "Redis refused the enqueue ({e}); the running daemon will enqueue them within seconds"
        );
    }
    Ok(())
}

/// A submission as plain JSON: the API's log item.
fn row_json(submission: &Submission) -> Value {
    serde_json::to_value(submission).expect("a submission serializes to JSON")
}
