//! `dhis2gw run-job sync|retry|threshold|directory`: run a scheduled job once, now, through the
//! scheduler's claim (so it never overlaps a scheduled run on any instance) and recorded in
//! `job_runs` as `manual`. A dry run changes nothing and is not recorded.
//!
//! `dhis2gw jobs`: each job's schedule, next firing and last run, from the database.

use std::sync::Arc;

use clap::Subcommand;
use serde_json::{Map, Value};

use crate::config::Settings;
use crate::domain::job_run::Outcome;
use crate::scheduler::status;
use crate::scheduler::{JobName, JobOptions, JobRunner, Jobs, Runs, SystemClock, instance_id};

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Send again the failed submissions whose transient errors outlasted their retries
    /// (submitted in the last 7 days, requeued fewer than 12 times), and re-enqueue open
    /// submissions the queue lost.
    Retry {
        /// Only count what would be requeued.
        #[arg(long)]
        dry_run: bool,
    },
    /// Pull the DHIS2 metadata mappings are checked against (org units, category option
    /// combos, data elements, data sets, user groups): incremental by lastUpdated after the
    /// first run.
    Sync {
        /// Fetch everything and remove what DHIS2 no longer has.
        #[arg(long)]
        full: bool,
    },
    /// The outbreak-alert run: pull the enabled rules' weekly data from DHIS2 analytics, judge
    /// the week, record each new alert once and write it to DHIS2's tracker.
    Threshold {
        /// Evaluate and print what would fire; write nothing anywhere.
        #[arg(long)]
        dry_run: bool,
        /// The ISO week to assess (e.g. 2026W47); default the last complete week.
        #[arg(long)]
        week: Option<dhis2gw_detect::IsoWeek>,
    },
    /// The notification recipient directory (not part of this dhis2gw yet: recorded as skipped).
    Directory,
}

impl JobCommand {
    fn job_and_options(&self) -> (JobName, JobOptions) {
        match *self {
            JobCommand::Retry { dry_run } => (
                JobName::Retry,
                JobOptions {
                    dry_run,
                    ..JobOptions::default()
                },
            ),
            JobCommand::Sync { full } => (
                JobName::Sync,
                JobOptions {
                    full,
                    ..JobOptions::default()
                },
            ),
            JobCommand::Threshold { dry_run, week } => (
                JobName::Threshold,
                JobOptions {
                    dry_run,
                    week,
                    ..JobOptions::default()
                },
            ),
            JobCommand::Directory => (JobName::Directory, JobOptions::default()),
        }
    }
}

async fn connect(settings: &Settings) -> anyhow::Result<(Jobs, Runs)> {
    let submissions = super::logs::connect(settings).await?;
    let (_keep, rx) = tokio::sync::watch::channel(Arc::new(settings.clone()));
    let jobs = Jobs::new(rx, submissions.clone());
    let runs = Runs::new(
        submissions.db().clone(),
        Arc::new(SystemClock),
        Arc::new(jobs.clone()),
        instance_id(),
        settings.scheduler.lease_secs,
    );
    Ok((jobs, runs))
}

pub async fn run(settings: Settings, command: JobCommand) -> anyhow::Result<()> {
    let (job, options) = command.job_and_options();
    let (jobs, runs) = connect(&settings).await?;
    if options.dry_run {
        let report = jobs.run(job, options).await?;
        print_counts(job, &report.counts, true);
        return Ok(());
    }
    let finished = runs.run_now(job, options).await?;
    let counts = finished.counts.as_object().cloned().unwrap_or_default();
    print_counts(job, &counts, false);
    let error = finished.error.as_deref().unwrap_or("");
    match finished.outcome {
        Outcome::Failed => {
            anyhow::bail!("run #{} of {} failed: {error}", finished.id, job.as_str())
        }
        Outcome::Skipped => println!(
            "run #{} of {}: skipped ({error})",
            finished.id,
            job.as_str()
        ),
        Outcome::Ok => println!("run #{} of {}: ok", finished.id, job.as_str()),
    }
    Ok(())
}

/// The job's own summary lines, from its counts.
fn print_counts(job: JobName, counts: &Map<String, Value>, dry_run: bool) {
    let number = |key: &str| counts.get(key).and_then(Value::as_u64).unwrap_or(0);
    match job {
        JobName::Retry if dry_run => println!(
            "{} failed submission(s) would be requeued: {}",
            number("would_requeue"),
            counts.get("ids").cloned().unwrap_or(Value::Null)
        ),
        JobName::Retry => println!(
            "requeued {} failed submission(s); re-enqueued {} the queue had lost",
            number("requeued"),
            number("reenqueued")
        ),
        JobName::Sync => {
            let collections = counts.get("collections").and_then(Value::as_object);
            for (name, c) in collections.into_iter().flatten() {
                let full = c.get("full").and_then(Value::as_bool).unwrap_or(false);
                println!(
                    "{name}: {} fetched ({}), {} removed",
                    c.get("fetched").and_then(Value::as_u64).unwrap_or(0),
                    if full { "full" } else { "incremental" },
                    c.get("removed").and_then(Value::as_u64).unwrap_or(0),
                );
            }
        }
        JobName::Threshold => print_threshold(counts, dry_run),
        JobName::Directory => {}
    }
}

/// The alert run's summary; a dry run's table of what would fire.
fn print_threshold(counts: &Map<String, Value>, dry_run: bool) {
    let number = |key: &str| counts.get(key).and_then(Value::as_u64).unwrap_or(0);
    let week = counts.get("week").and_then(Value::as_str).unwrap_or("");
    println!(
        "week {week}: {} rule(s), {} series, {} evaluated, {} alarm(s)",
        number("rules"),
        number("series"),
        number("evaluated"),
        number("alarms")
    );
    if dry_run {
        println!(
            "{:<28} {:<28} {:<8} {:<14} {:>7} {:>8}  REASON",
            "DISEASE", "ORG UNIT", "WEEK", "METHOD", "COUNT", "BOUND"
        );
        let rows = counts.get("would_fire").and_then(Value::as_array);
        for r in rows.into_iter().flatten() {
            let text = |k: &str| r[k].as_str().unwrap_or("").to_owned();
            let num = |k: &str| r[k].as_f64().map(|v| format!("{v:.1}")).unwrap_or_default();
            println!(
                "{:<28} {:<28} {:<8} {:<14} {:>7} {:>8}  {}",
                text("disease"),
                text("org_unit"),
                text("week"),
                text("method"),
                num("count"),
                num("upper_bound"),
                text("reason")
            );
        }
    } else {
        println!(
            "alerts: {} new, {} already known; DHIS2: {} confirmed, {} failed, {} pending",
            number("alerts_new"),
            number("alerts_known"),
            number("dhis2_confirmed"),
            number("dhis2_failed"),
            number("dhis2_pending")
        );
    }
    for e in counts
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        println!("error: {}", e.as_str().unwrap_or(""));
    }
}

/// `dhis2gw jobs`: the table `GET /api/v2/jobs` gives.
pub async fn list(settings: Settings) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database)?;
    crate::db::migrate::run(&pool).await?;
    let jobs = status::jobs(&pool, &settings, chrono::Utc::now()).await?;
    println!(
        "{:<10} {:<8} {:<20} {:<26} {:<10} LAST RUN",
        "JOB", "ENABLED", "EXPRESSION", "NEXT FIRING", "OUTCOME"
    );
    for j in jobs {
        let zone = settings.server.timezone;
        let next = j
            .next_firing
            .map(|t| {
                t.with_timezone(&zone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string()
            })
            .unwrap_or_else(|| "-".into());
        let (outcome, last) = match &j.last_run {
            Some(r) => (
                r.outcome.map_or("running", Outcome::as_str).to_owned(),
                format!(
                    "#{} {} {} on {}{}",
                    r.id,
                    r.trigger.as_str(),
                    r.started_at
                        .with_timezone(&zone)
                        .format("%Y-%m-%d %H:%M:%S"),
                    r.instance,
                    r.duration_ms()
                        .map(|ms| format!(", {ms} ms"))
                        .unwrap_or_default()
                ),
            ),
            None => ("-".to_owned(), "never".to_owned()),
        };
        let expression = if j.enabled {
            j.expression.as_str()
        } else {
            "(disabled)"
        };
        println!(
            "{:<10} {:<8} {:<20} {:<26} {:<10} {last}",
            j.job.as_str(),
            if j.enabled { "yes" } else { "no" },
            expression,
            next,
            outcome
        );
    }
    Ok(())
}
