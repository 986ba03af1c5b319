//! What each subcommand does. `main` only parses the command line and calls [`run`].

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::app::Application;
use crate::cli::{Cli, Command};
use crate::commands;
use crate::config::{self, Loaded, Settings};
use crate::supervise::{Stop, TaskDied};
use crate::telemetry::{self, LogHandle};

/// sysexits.h: configuration error.
pub const EX_CONFIG: u8 = 78;
/// sysexits.h: internal software error. `serve` exits with it when a background task died
/// (`supervise`), so that systemd's `Restart=on-failure` starts a fresh process.
pub const EX_SOFTWARE: u8 = 70;

pub fn run(mut cli: Cli) -> ExitCode {
    let command = match cli.command.take() {
        // detect works on a file alone: no configuration to load, none to get wrong.
        Some(Command::Detect(args)) => return commands::detect::run(&args),
        other => other.unwrap_or(Command::Serve),
    };
    let loaded = match config::load(&cli.config_file) {
        Ok(loaded) => loaded,
        Err(errors) => {
            eprintln!(
                "dhis2gw: invalid configuration ({}):",
                cli.config_file.display()
            );
            eprintln!("{errors}");
            // serve exits EX_CONFIG so systemd's RestartPreventExitStatus= stops retrying a
            // config that cannot work; the other commands keep the plain 1 scripts expect.
            return match command {
                Command::Serve => ExitCode::from(EX_CONFIG),
                _ => ExitCode::from(1),
            };
        }
    };
    match command {
        Command::CheckConfig => check_config(&cli, &loaded),
        Command::Migrate(args) if args.adopt => with_runtime(|| async {
            let _log = telemetry::init(&loaded.settings.log.level);
            log_warnings(&loaded);
            commands::adopt::run(loaded.settings.clone(), &args).await
        }),
        Command::Migrate(_) => with_runtime(|| async {
            let _log = telemetry::init(&loaded.settings.log.level);
            log_warnings(&loaded);
            let pool = crate::db::connect(&loaded.settings.database)?;
            let applied = crate::db::migrate::run(&pool).await?;
            println!("{} migration(s) applied", applied.len());
            for name in applied {
                println!("  {name}");
            }
            Ok(())
        }),
        Command::Serve => with_runtime(|| serve(cli, loaded)),
        Command::User(c) => with_runtime(|| commands::user::run_user(loaded.settings, c)),
        Command::Token(c) => with_runtime(|| commands::user::run_token(loaded.settings, c)),
        Command::Logs(c) => with_runtime(|| commands::logs::run(loaded.settings, c)),
        Command::Audit(args) => with_runtime(|| commands::audit::run(loaded.settings, args)),
        Command::RunJob(c) => with_runtime(|| commands::run_job::run(loaded.settings, c)),
        Command::Jobs => with_runtime(|| commands::run_job::list(loaded.settings)),
        Command::NotifyTest(args) => {
            with_runtime(|| commands::notify_test::run(loaded.settings, args))
        }
        Command::AlertRules(c) => with_runtime(|| commands::alert_rules::run(loaded.settings, c)),
        Command::Detect(_) => unreachable!("detect runs before the configuration is loaded"),
    }
}

fn check_config(cli: &Cli, loaded: &Loaded) -> ExitCode {
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "# effective configuration from {}",
        cli.config_file.display()
    );
    print!("{}", config::masked_yaml(&loaded.settings));
    ExitCode::SUCCESS
}

fn log_warnings(loaded: &Loaded) {
    for warning in &loaded.warnings {
        tracing::warn!(key = %warning.key, "{}", warning.message);
    }
}

fn with_runtime<F, Fut>(f: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dhis2gw: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(f()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("dhis2gw: {e:#}");
            ExitCode::from(exit_status_of(&e))
        }
    }
}

/// [`EX_SOFTWARE`] when a supervised task died, 1 for any other failure.
fn exit_status_of(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<TaskDied>().is_some() {
        EX_SOFTWARE
    } else {
        1
    }
}

async fn serve(cli: Cli, loaded: Loaded) -> anyhow::Result<()> {
    let log = telemetry::init(&loaded.settings.log.level);
    log_warnings(&loaded);
    let mut app = Application::build(loaded.settings).await?;
    let settings = app.settings_sender();
    app.supervise("configuration reload", move |stop| {
        reload_on_sighup(cli, settings, log, stop)
    });
    if let Some(period) = notify_systemd_ready() {
        app.supervise("systemd watchdog", move |stop| ping_watchdog(period, stop));
    }
    app.run_until(shutdown_signal()).await?;
    tracing::info!("dhis2gw stopped");
    Ok(())
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "shutting down: finishing in-flight work");
}

/// SIGHUP re-reads the config file; keys that are safe to change take effect, the others are
/// reported as needing a restart. A broken file is reported and the running config kept.
/// Runs until `stop`.
async fn reload_on_sighup(
    cli: Cli,
    sender: tokio::sync::watch::Sender<Arc<Settings>>,
    log: LogHandle,
    mut stop: Stop,
) -> anyhow::Result<()> {
    let mut hup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopping| *stopping) => return Ok(()),
            received = hup.recv() => if received.is_none() {
                anyhow::bail!("the SIGHUP stream ended");
            },
        }
        let mut new = match config::load(&cli.config_file) {
            Ok(loaded) => loaded.settings,
            Err(errors) => {
                for issue in errors.0 {
                    tracing::error!(key = %issue.key, "reload refused: {}", issue.message);
                }
                continue;
            }
        };
        let old = sender.borrow().clone();
        crate::auth::jwt::keep_stored_secret(&old.auth, &mut new.auth);
        let changes = config::reload_diff(&old, &new);
        if changes.is_empty() {
            tracing::info!("configuration reloaded: nothing changed");
            continue;
        }
        for change in &changes {
            if change.applied {
                tracing::info!(key = change.key, from = %change.from, to = %change.to, "configuration changed");
            } else {
                tracing::warn!(
                    key = change.key,
                    "configuration changed but needs a restart to take effect"
                );
            }
        }
        let effective = config::apply_reloadable(&old, &new);
        if effective.log.level != old.log.level
            && let Err(e) = log.set_level(&effective.log.level)
        {
            tracing::error!(error = %e, "cannot apply log.level");
        }
        let _ = sender.send(Arc::new(effective));
    }
}

/// Tells systemd (Type=notify) we are ready; returns how often to ping its watchdog, if it
/// asked for one.
fn notify_systemd_ready() -> Option<Duration> {
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    let mut usec = 0u64;
    (sd_notify::watchdog_enabled(false, &mut usec) && usec > 0)
        .then(|| Duration::from_micros(usec / 2))
}

/// Pings systemd's watchdog every `period` until `stop`.
async fn ping_watchdog(period: Duration, mut stop: Stop) {
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopping| *stopping) => return,
            _ = tick.tick() => {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::Death;

    #[test]
    fn a_dead_task_exits_ex_software_and_other_failures_exit_1() {
        let died = TaskDied {
            task: "delivery workers",
            death: Death::Panicked,
            cause: "boom".into(),
        };
        let error = anyhow::Error::new(died).context("while serving");
        assert_eq!(exit_status_of(&error), EX_SOFTWARE);
        assert_eq!(exit_status_of(&anyhow::anyhow!("cannot listen")), 1);
    }
}
