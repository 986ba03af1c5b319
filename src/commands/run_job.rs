//! `dhis2gw run-job sync|retry|threshold [--dry-run]`: run a scheduled job once, now.

use clap::Subcommand;

use crate::config::Settings;
use crate::submissions::{AUTO_REQUEUE_LIMIT, AUTO_REQUEUE_WITHIN_DAYS};

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
}

pub async fn run(settings: Settings, command: JobCommand) -> anyhow::Result<()> {
    match command {
        JobCommand::Retry { dry_run } => retry(settings, dry_run).await,
        JobCommand::Sync { full } => {
            let options = crate::mappings::sync::SyncOptions { full };
            for c in crate::mappings::sync::run_once(&settings, options).await? {
                let kind = if c.full { "full" } else { "incremental" };
                println!(
                    "{}: {} fetched ({kind}), {} removed",
                    c.collection, c.fetched, c.removed
                );
            }
            Ok(())
        }
    }
}

async fn retry(settings: Settings, dry_run: bool) -> anyhow::Result<()> {
    let submissions = super::logs::connect(&settings).await?;
    let within = chrono::Duration::days(AUTO_REQUEUE_WITHIN_DAYS);
    if dry_run {
        let candidates = submissions
            .retry_candidates(within, AUTO_REQUEUE_LIMIT)
            .await?;
        println!(
            "{} failed submission(s) would be requeued: {candidates:?}",
            candidates.len()
        );
        return Ok(());
    }
    let (requeued, reenqueued) = submissions
        .retry_eligible(within, AUTO_REQUEUE_LIMIT)
        .await?;
    println!(
        "requeued {requeued} failed submission(s); re-enqueued {reenqueued} the queue had lost"
    );
    Ok(())
}
