//! The command line: `serve` (default), `migrate`, `check-config`, and the global `--config-file`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::adopt::MigrateArgs;
use crate::commands::alert_rules::AlertRulesCommand;
use crate::commands::detect::DetectArgs;
use crate::commands::logs::LogsCommand;
use crate::commands::run_job::JobCommand;
use crate::commands::user::{TokenCommand, UserCommand};
use crate::config::DEFAULT_CONFIG_FILE;

#[derive(Debug, Parser)]
#[command(
    name = "dhis2gw",
    version,
    about = "Gateway that delivers aggregate and tracker data to DHIS2 through a durable queue, \
and runs scheduled outbreak alerts",
    long_about = "Gateway that validates, maps and logs aggregate and tracker data from third-party \
systems and delivers it to DHIS2 through a Redis-backed queue with a PostgreSQL log. On cron \
schedules it evaluates outbreak-threshold rules over DHIS2's weekly data, records each new alert \
in a DHIS2 tracker program and notifies people by email, SMS and Telegram.\n\n\
Configuration: built-in defaults, then the YAML file, then DHIS2GW_<SECTION>__<KEY> environment \
variables. See /usr/share/doc/dhis2gw or docs/configuration.md for every key."
)]
pub struct Cli {
    /// Configuration file (YAML).
    #[arg(
        long = "config-file",
        visible_alias = "config",
        global = true,
        value_name = "PATH",
        default_value = DEFAULT_CONFIG_FILE
    )]
    pub config_file: PathBuf,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API, the console, the delivery workers and the scheduled jobs (the default).
    Serve,
    /// Apply pending database migrations and exit; `--adopt` takes over the original
    /// dhis2gw's database.
    Migrate(MigrateArgs),
    /// Validate the configuration and print the effective values with secrets masked.
    CheckConfig,
    /// Manage users straight in the database (bootstrap and recovery).
    #[command(subcommand)]
    User(UserCommand),
    /// Create and revoke API tokens straight in the database.
    #[command(subcommand)]
    Token(TokenCommand),
    /// List, show, requeue and purge submission logs.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// The request audit log (every /api/v2 request), newest first.
    Audit(crate::commands::audit::AuditArgs),
    /// Run a scheduled job once, now (recorded in the job runs as `manual`).
    #[command(subcommand)]
    RunJob(JobCommand),
    /// Show each scheduled job: its cron expression, next firing and last run.
    Jobs,
    /// Run an outbreak-detection method over a CSV of weekly counts (needs no configuration).
    Detect(DetectArgs),
    /// Send one test message through a notification channel and print the provider's answer.
    NotifyTest(crate::commands::notify_test::NotifyTestArgs),
    /// List, import and export alert rules; import the original threshold-alert program's lists.
    #[command(subcommand)]
    AlertRules(AlertRulesCommand),
}
