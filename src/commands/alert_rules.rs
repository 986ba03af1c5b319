//! `dhis2gw alert-rules list|import-csv|export-csv|import-original`: alert rules from the
//! shell, straight on PostgreSQL (pending migrations are applied first). `import-original`
//! turns the original threshold-alert program's rule lists (`alerts.original_*`, or its own
//! environment variables) into rules; see docs/alerts.md, "Rules".

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use deadpool_postgres::Pool;

use crate::alerts::AlertError;
use crate::alerts::rules::{self, DEFAULT_LEVEL, LEVELS};
use crate::alerts::rules_csv::{self, ImportReport};
use crate::alerts::rules_original::{self, Options, OriginalLists};
use crate::config::Settings;
use crate::db;
use crate::mappings::ImportLimits;

#[derive(Debug, Subcommand)]
pub enum AlertRulesCommand {
    /// List every alert rule.
    List,
    /// Import rules from a CSV file: the original's alert_conditions.csv as is, or an export.
    /// Any invalid row: every problem is listed and nothing is written.
    ImportCsv {
        file: PathBuf,
        /// Check and count only.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write every rule as CSV to FILE (or stdout); import-csv reads it back unchanged.
    ExportCsv { file: Option<PathBuf> },
    /// Turn the original program's rule lists (alerts.original_* in the configuration, or its
    /// environment variables one_suspected_diseases, doubling_cases_diseases,
    /// increase_1_5x_diseases, cluster_of_diseases, anthrax_endemic) into rules. Running it
    /// again changes nothing.
    ImportOriginal(ImportOriginalArgs),
}

#[derive(Debug, Args)]
pub struct ImportOriginalArgs {
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The original's alert_conditions.csv, for the rules' names and disease codes (else
    /// they come from rules already stored for the same data element).
    #[arg(long, value_name = "FILE")]
    pub conditions: Option<PathBuf>,
    /// The org-unit level of new rules (the original assesses districts).
    #[arg(long, default_value_t = DEFAULT_LEVEL)]
    pub level: u8,
}

async fn open(settings: &Settings) -> anyhow::Result<Pool> {
    let pool = db::connect(&settings.database).context("database.uri")?;
    db::migrate::run(&pool)
        .await
        .context("applying database migrations")?;
    Ok(pool)
}

pub async fn run(settings: Settings, command: AlertRulesCommand) -> anyhow::Result<()> {
    let limits = ImportLimits::from_settings(&settings);
    match command {
        AlertRulesCommand::List => list(&open(&settings).await?).await,
        AlertRulesCommand::ImportCsv { file, dry_run } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let pool = open(&settings).await?;
            match rules_csv::import(&pool, &bytes, dry_run, &limits).await {
                Ok(report) => {
                    print_csv_report(&report);
                    Ok(())
                }
                Err(AlertError::InvalidRows(report)) => {
                    for e in &report.errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    bail!(
                        "{} of {} rows are invalid; nothing was imported",
                        report.invalid,
                        report.total
                    )
                }
                Err(e) => Err(e.into()),
            }
        }
        AlertRulesCommand::ExportCsv { file } => {
            let bytes = rules_csv::export(&open(&settings).await?).await?;
            match file {
                Some(path) => std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display())),
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                    Ok(())
                }
            }
        }
        AlertRulesCommand::ImportOriginal(args) => import_original(&settings, args, &limits).await,
    }
}

async fn list(pool: &Pool) -> anyhow::Result<()> {
    let rows = rules::list(pool).await?;
    println!(
        "{:<6} {:<12} {:<14} {:<6} {:<8} {:<8} {:<7} {:<30} PARAMS",
        "ID", "DATA ELEM", "RULE TYPE", "LEVEL", "MISSING", "SEVERITY", "ENABLED", "NAME"
    );
    for r in &rows {
        let overrides = match r.overrides.as_object() {
            Some(m) if !m.is_empty() => format!(" overrides {}", r.overrides),
            _ => String::new(),
        };
        println!(
            "{:<6} {:<12} {:<14} {:<6} {:<8} {:<8} {:<7} {:<30} {}{}",
            r.id,
            r.data_element,
            r.rule_type,
            r.level,
            r.missing_policy,
            r.severity,
            if r.enabled { "yes" } else { "no" },
            r.name,
            r.params,
            overrides
        );
    }
    println!("{} rule(s)", rows.len());
    Ok(())
}

fn print_csv_report(r: &ImportReport) {
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "{} row(s): {} rule(s) inserted, {} updated, {} unchanged{}",
        r.total,
        r.inserted,
        r.updated,
        r.unchanged,
        if r.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
}

async fn import_original(
    settings: &Settings,
    args: ImportOriginalArgs,
    limits: &ImportLimits,
) -> anyhow::Result<()> {
    if !LEVELS.contains(&args.level) {
        bail!(
            "--level {} is not an org-unit level from {} to {}",
            args.level,
            LEVELS.start(),
            LEVELS.end()
        );
    }
    let lists = OriginalLists::from_settings(&settings.alerts);
    if lists.is_empty() {
        bail!(
            "the original's lists are empty: set alerts.original_one_suspected_diseases, \
             …_doubling_cases_diseases, …_increase_1_5x_diseases, …_cluster_of_diseases and \
             …_anthrax_endemic (or the original's environment variables one_suspected_diseases, …)"
        );
    }
    let catalogue = match &args.conditions {
        None => Default::default(),
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            match rules_csv::catalogue(&bytes, limits) {
                Ok(c) => c,
                Err(AlertError::InvalidRows(report)) => {
                    for e in &report.errors {
                        eprintln!("{}: {e}", path.display());
                    }
                    bail!("{} has invalid rows; nothing was imported", path.display())
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let options = Options {
        level: args.level,
        catalogue,
        dry_run: args.dry_run,
    };
    let pool = open(settings).await?;
    let report = rules_original::import(&pool, &lists, &options).await?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for r in &report.rules {
        println!(
            "{:<10} {:<12} {:<14} {:<30} {}",
            r.action, r.data_element, r.rule_type, r.name, r.params
        );
    }
    println!(
        "{} rule(s) inserted, {} updated, {} unchanged{}",
        report.inserted,
        report.updated,
        report.unchanged,
        if report.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    Ok(())
}
