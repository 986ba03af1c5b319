//! `dhis2gw logs list|show|requeue|purge`: submission-log work for sysadmins over ssh.

use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum LogsCommand {}

pub async fn run(_settings: Settings, command: LogsCommand) -> anyhow::Result<()> {
    match command {}
}
