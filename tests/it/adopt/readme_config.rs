//! A config file copied from the original gateway (its shipped `dhis2gw.yml` with the README's
//! `server.port` and `server.redis` spellings) starts the daemon, with warnings, not errors.

use crate::support::process::{Daemon, config_file};
use crate::support::services::{migrated_database, repo_root, services};

#[tokio::test]
async fn a_config_copied_from_the_original_starts_the_daemon() {
    let original =
        std::fs::read_to_string(repo_root().join("tests/fixtures/original-dhis2gw.yml")).unwrap();
    let db = migrated_database().await;
    let yaml = original
        .replace(
            "uri: \"postgres://username:password@localhost/dhis2gw?sslmode=disable\"",
            &format!("uri: \"{db}\""),
        )
        .replace(
            "  http_port: 9090\n",
            &format!(
                "  port: 0\n  redis: {}\n  queue_prefix: t{}\n",
                services().redis,
                uuid::Uuid::new_v4().simple()
            ),
        );
    assert!(yaml.contains("  port: 0") && yaml.contains(&db), "{yaml}");
    let config = config_file(&yaml);
    let daemon = Daemon::start(config.path(), &[]);
    let ready = reqwest::get(daemon.url("/ready")).await.unwrap();
    assert_eq!(ready.status(), 200, "log:\n{}", daemon.log_text());
    let log = daemon.log_text();
    assert!(
        log.contains("deprecated spelling of server.http_port"),
        "{log}"
    );
    assert!(
        log.contains("deprecated spelling of server.redis_address"),
        "{log}"
    );
    assert!(
        log.contains("key of the original gateway, ignored"),
        "{log}"
    );
}
