//! `dhis2gw run-job sync|retry|threshold [--dry-run]`: run a scheduled job once, now.

use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum JobCommand {}

pub async fn run(_settings: Settings, command: JobCommand) -> anyhow::Result<()> {
    match command {}
}
