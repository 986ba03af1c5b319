//! The daemon as a process: graceful shutdown on SIGTERM/SIGINT, config reload on SIGHUP.

use std::time::Duration;

use crate::support::process::{Daemon, config_file};
use crate::support::services::{migrated_database, services};

async fn daemon_config(extra: &str) -> (tempfile::NamedTempFile, String) {
    let db = migrated_database().await;
    let yaml = format!(
        "database:\n  uri: {db}\nserver:\n  http_port: 0\n  redis_address: {}\n  queue_prefix: t{}\n  shutdown_grace_secs: 5\n{extra}",
        services().redis,
        uuid::Uuid::new_v4().simple()
    );
    (config_file(&yaml), yaml)
}

#[tokio::test]
async fn sigterm_and_sigint_stop_the_daemon_cleanly() {
    for signal in ["TERM", "INT"] {
        let (config, _) = daemon_config("").await;
        let mut daemon = Daemon::start(config.path(), &[]);
        let ready = reqwest::get(daemon.url("/ready")).await.unwrap();
        assert_eq!(ready.status(), 200);
        daemon.signal(signal);
        assert_eq!(
            daemon.wait_exit(Duration::from_secs(10)),
            Some(0),
            "log:\n{}",
            daemon.log_text()
        );
        assert!(daemon.log_text().contains("shutting down"));
        assert!(reqwest::get(daemon.url("/health")).await.is_err());
    }
}

#[tokio::test]
async fn sighup_applies_safe_changes_and_reports_the_rest() {
    let (config, yaml) = daemon_config("").await;
    let mut daemon = Daemon::start(config.path(), &[]);
    let changed = yaml.replace(
        "shutdown_grace_secs: 5",
        "shutdown_grace_secs: 6\n  max_retries: 8",
    );
    std::fs::write(config.path(), changed).unwrap();
    daemon.signal("HUP");
    let applied = daemon
        .wait_for_log(
            "configuration changed key=\"server.max_retries\"",
            Duration::from_secs(5),
        )
        .or_else(|| daemon.wait_for_log("server.max_retries", Duration::from_secs(1)));
    assert!(applied.is_some(), "log:\n{}", daemon.log_text());
    let restart = daemon.wait_for_log("needs a restart", Duration::from_secs(2));
    assert!(
        restart.is_some_and(|l| l.contains("server.shutdown_grace_secs")),
        "log:\n{}",
        daemon.log_text()
    );

    // A broken file is refused and the daemon keeps serving.
    std::fs::write(config.path(), "server:\n  http_port: eighty\n").unwrap();
    daemon.signal("HUP");
    assert!(
        daemon
            .wait_for_log("reload refused", Duration::from_secs(5))
            .is_some(),
        "log:\n{}",
        daemon.log_text()
    );
    let health = reqwest::get(daemon.url("/health")).await.unwrap();
    assert_eq!(health.status(), 200);
}
