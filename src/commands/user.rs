//! `dhis2gw user …` and `dhis2gw token …`: admin bootstrap and recovery from the shell.

use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum UserCommand {}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {}

pub async fn run_user(_settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    match command {}
}

pub async fn run_token(_settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    match command {}
}
