//! `dhis2gw migrate [--adopt [--dry-run] [--skip-unfit]]`: the flags of `migrate`, and the
//! adoption of the original dhis2gw's database (`crate::db::adopt`).

use anyhow::Context;
use clap::Args;

use crate::config::Settings;
use crate::db;

#[derive(Debug, Clone, Default, Args)]
pub struct MigrateArgs {
    /// Take over the original dhis2gw's database in place (one transaction): its users,
    /// API tokens, mappings and submission log become dhis2gw's; its tables are kept aside in
    /// the schema `original_dhis2gw`.
    #[arg(long)]
    pub adopt: bool,
    /// With --adopt: print what adopting would do and change nothing.
    #[arg(long, requires = "adopt")]
    pub dry_run: bool,
    /// With --adopt: leave the mappings that do not fit dhis2gw in `original_dhis2gw`
    /// instead of refusing.
    #[arg(long, requires = "adopt")]
    pub skip_unfit: bool,
}

/// Adopts (or dry-runs the adoption of) the configured database and prints the report.
pub async fn run(settings: Settings, args: &MigrateArgs) -> anyhow::Result<()> {
    let pool = db::connect(&settings.database).context("database.uri")?;
    let options = db::adopt::Options {
        dry_run: args.dry_run,
        skip_unfit: args.skip_unfit,
    };
    let report = db::adopt::adopt(&pool, options).await?;
    print!("{report}");
    Ok(())
}
