//! `dhis2gw notify-test`: one message through the configured provider, the answer printed, and
//! the secrets nowhere in the output (nor in `check-config`).

use notify_fakes::telegram::FakeTelegram;

use super::env::TOKEN;
use crate::support::process::{config_file, run};

#[tokio::test]
async fn notify_test_sends_one_telegram_message_and_prints_the_answer() {
    let telegram = FakeTelegram::start().await;
    let config = config_file(&format!(
        "notifications:\n  telegram_bot_token: \"{TOKEN}\"\n  telegram_api_url: \"{}\"\n  sms_secret: \"sms-very-secret\"\n  smtp_password: \"smtp-very-secret\"\n",
        telegram.url()
    ));
    let path = config.path().to_str().unwrap().to_string();
    let output = tokio::task::spawn_blocking(move || {
        run(
            &[
                "--config-file",
                &path,
                "notify-test",
                "--channel",
                "telegram",
                "--to",
                "4242",
            ],
            &[],
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "sent: message_id 1");
    let sent = telegram.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].chat_id, sent[0].token.as_str()), (4242, TOKEN));
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));

    // A channel that is off says so and fails.
    let path = config.path().to_str().unwrap().to_string();
    let output = tokio::task::spawn_blocking(move || {
        run(
            &[
                "--config-file",
                &path,
                "notify-test",
                "--channel",
                "email",
                "--to",
                "a@b.org",
            ],
            &[],
        )
    })
    .await
    .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("notifications.smtp_host is empty"));

    let path = config.path().to_str().unwrap().to_string();
    let output =
        tokio::task::spawn_blocking(move || run(&["--config-file", &path, "check-config"], &[]))
            .await
            .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(printed.contains("telegram_bot_token"), "{printed}");
    for secret in [TOKEN, "sms-very-secret", "smtp-very-secret"] {
        assert!(!printed.contains(secret), "{secret} in check-config output");
    }
}

#[tokio::test]
async fn a_broken_template_is_a_check_config_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cluster.sms"), "Cluster of {{diseas}}").unwrap();
    let config = config_file(&format!(
        "notifications:\n  templates_dir: \"{}\"\n",
        dir.path().display()
    ));
    let path = config.path().to_str().unwrap().to_string();
    let output =
        tokio::task::spawn_blocking(move || run(&["--config-file", &path, "check-config"], &[]))
            .await
            .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("notifications.templates_dir") && stderr.contains("{{diseas}}"),
        "{stderr}"
    );
}
