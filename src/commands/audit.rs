//! `dhis2gw audit`: the request audit log (`GET /api/v2/audit`) read straight from PostgreSQL,
//! newest first.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;

use crate::config::Settings;
use crate::db;
use crate::db::audit::AuditFilter;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Exact username.
    #[arg(long)]
    pub user: Option<String>,
    /// Exact route template, e.g. /api/v2/aggregate.
    #[arg(long)]
    pub route: Option<String>,
    /// HTTP status, e.g. 401.
    #[arg(long)]
    pub status: Option<i16>,
    /// From this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<DateTime<Utc>>,
    /// Rows older than this id (the last id of the previous screen).
    #[arg(long)]
    pub before: Option<i64>,
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(settings: Settings, args: AuditArgs) -> anyhow::Result<()> {
    let pool = db::connect(&settings.database).context("database.uri")?;
    db::migrate::run(&pool)
        .await
        .context("applying database migrations")?;
    let client = pool.get().await.context("connecting to PostgreSQL")?;
    let filter = AuditFilter {
        username: args.user,
        route: args.route,
        status: args.status,
        from: args.since,
        before: args.before,
        limit: args.limit.clamp(1, 100_000),
        ..AuditFilter::default()
    };
    let rows = db::audit::list(&**client, &filter).await?;
    if !args.json {
        println!(
            "{:>10}  {:<20}  {:<6}  {:<42}  {:<16}  {:>6}  {:>9}  submission",
            "id", "at (UTC)", "method", "route", "user", "status", "ms"
        );
    }
    for row in &rows {
        let r = &row.record;
        if args.json {
            let line = serde_json::json!({
                "id": row.id, "at": r.at, "method": row.method, "route": row.route,
                "user_id": r.user_id, "username": r.username, "status": r.status,
                "duration_ms": r.duration_us as f64 / 1000.0, "submission_id": r.submission_id,
            });
            println!("{line}");
        } else {
            println!(
                "{:>10}  {:<20}  {:<6}  {:<42}  {:<16}  {:>6}  {:>9.1}  {}",
                row.id,
                r.at.format("%Y-%m-%d %H:%M:%S"),
                row.method,
                row.route,
                r.username.as_deref().unwrap_or("-"),
                r.status,
                r.duration_us as f64 / 1000.0,
                r.submission_id.map_or("-".to_owned(), |id| id.to_string()),
            );
        }
    }
    if rows.is_empty() && !args.json {
        println!("(no requests recorded)");
    }
    Ok(())
}
