//! SECRETS NOWHERE: the daemon runs with known secret values (the database password inside the
//! URI, the DHIS2 password and personal access token, the JWT secret, the SMTP password, the SMS
//! gateway's secret, the Telegram bot token, the metrics token) at log level `trace`;
//! the test causes login failures, DHIS2 failures (a DHIS2 that refuses the credentials) and
//! `check-config`, then greps everything it captured, stderr and every API answer, for each
//! value and its Basic (base64) form.

use std::time::Duration;

use base64::Engine;
use dhis2_sim::{self as sim, SimConfig};
use reqwest::Method;

use crate::support::process::{Daemon, config_file, run};
use crate::support::services::{migrated_database, services};

const DB_PASSWORD: &str = "DbPw4Secret9q7";
const DHIS2_PASSWORD: &str = "Dhis2Pw-Secret-5k3";
const DHIS2_PAT: &str = "d2p_PatSecretValue0123456789abcdefXYZ";
const JWT_SECRET: &str = "JwtSecret-For-The-Leak-Test-77";
const ADMIN_PASSWORD: &str = "Admin-Leak-Test-Pw-31";
const SMTP_PASSWORD: &str = "Smtp-Leak-Test-Pw-64";
const SMS_SECRET: &str = "Sms-Leak-Test-Key-19";
const TELEGRAM_TOKEN: &str = "987654:Telegram-Leak-Test-Token";
const METRICS_TOKEN: &str = "Metrics-Leak-Test-Token-55";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn config(db: &str, dhis2_url: &str, method: &str) -> String {
    format!(
        "database:\n  uri: {db}\nserver:\n  http_port: 0\n  redis_address: {redis}\n  \
         queue_prefix: t{prefix}\n  shutdown_grace_secs: 5\n  max_retries: 1\n  \
         retry_backoff_base_ms: 10\n  retry_backoff_cap_ms: 20\napi:\n  dhis2_base_url: {dhis2_url}\n  \
         dhis2_auth_method: {method}\n  dhis2_user: admin\n  dhis2_password: {DHIS2_PASSWORD}\n  \
         dhis2_pat: {DHIS2_PAT}\nauth:\n  initial_admin_password: {ADMIN_PASSWORD}\n  \
         jwt_secret: {JWT_SECRET}\nhttp:\n  metrics_token: {METRICS_TOKEN}\n\
         notifications:\n  smtp_host: 127.0.0.1\n  smtp_port: 9\n  smtp_tls: plain\n  \
         smtp_user: alerts\n  smtp_password: {SMTP_PASSWORD}\n  smtp_from_address: a@b.test\n  \
         sms_provider: http\n  sms_http_url: \"http://127.0.0.1:9/send?key={{secret}}&to={{to}}\"\n  \
         sms_secret: {SMS_SECRET}\n  telegram_bot_token: \"{TELEGRAM_TOKEN}\"\n  \
         telegram_api_url: http://127.0.0.1:9/\nlog:\n  level: trace\n",
        redis = services().redis,
        prefix = uuid::Uuid::new_v4().simple(),
    )
}

/// `postgres://user@host/db` with `DB_PASSWORD` put in (the test databases trust local
/// connections, so the password is carried, not checked).
fn with_password(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{user}:{DB_PASSWORD}@{host}")
}

fn leaks(captured: &str) -> Vec<&'static str> {
    let secrets: [&'static str; 9] = [
        DB_PASSWORD,
        DHIS2_PASSWORD,
        DHIS2_PAT,
        JWT_SECRET,
        ADMIN_PASSWORD,
        SMTP_PASSWORD,
        SMS_SECRET,
        TELEGRAM_TOKEN,
        METRICS_TOKEN,
    ];
    let mut found = Vec::new();
    for secret in secrets {
        if captured.contains(secret) {
            found.push(secret);
        }
    }
    // What a client would put in a header: Basic of the DHIS2 user.
    let dhis2_basic = b64(&format!("admin:{DHIS2_PASSWORD}"));
    if captured.contains(&dhis2_basic) {
        found.push("Basic of the DHIS2 password");
    }
    found
}

#[tokio::test]
async fn no_secret_in_any_log_line_answer_or_check_config_output() {
    // A DHIS2 that knows none of our credentials: every call fails with 401.
    let dhis2 = sim::start(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator");
    let db = with_password(&migrated_database().await);
    let mut captured = String::new();

    for method in ["basic", "pat"] {
        let text = config(&db, &dhis2.base_url(), method);
        let file = config_file(&text);
        let path = file.path().to_str().unwrap().to_owned();
        let checked = run(&["check-config", "--config-file", &path], &[]);
        captured.push_str(&String::from_utf8_lossy(&checked.stdout));
        captured.push_str(&String::from_utf8_lossy(&checked.stderr));
        assert!(checked.status.success(), "check-config failed:\n{captured}");

        let mut daemon = Daemon::start(file.path(), &[]);
        let admin = format!("Basic {}", b64(&format!("admin:{ADMIN_PASSWORD}")));
        let mut answers = Vec::new();
        // Login failures, with other secrets as the wrong passwords.
        for wrong in [DHIS2_PASSWORD, JWT_SECRET, DB_PASSWORD] {
            let header = format!("Basic {}", b64(&format!("admin-{method}:{wrong}")));
            let response = daemon
                .request(Method::GET, "/api/v2/me")
                .auth(&header)
                .send()
                .await;
            assert_eq!(response.status(), 401);
            answers.push(response.text().await.unwrap());
            let response = daemon
                .request(Method::POST, "/api/v2/auth/login")
                .json(&serde_json::json!({"username": "admin", "password": wrong}))
                .send()
                .await;
            assert_eq!(response.status(), 401);
            answers.push(response.text().await.unwrap());
        }
        // DHIS2 failures: the metadata sync runs now and DHIS2 refuses our credentials.
        let response = daemon
            .request(Method::POST, "/api/v2/jobs/sync/run")
            .auth(&admin)
            .send()
            .await;
        let status = response.status().as_u16();
        answers.push(response.text().await.unwrap());
        assert!(status < 500, "run sync: {status}");
        assert!(
            daemon
                .wait_for_log("sync", Duration::from_secs(20))
                .is_some(),
            "no sync in the log:\n{}",
            daemon.log_text()
        );
        // Give the failed DHIS2 calls time to be logged.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline
            && !daemon.log_text().to_lowercase().contains("401")
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for path in [
            "/api/v2/jobs",
            "/api/v2/jobs/sync/runs",
            "/ready",
            "/health",
        ] {
            let response = daemon.request(Method::GET, path).auth(&admin).send().await;
            answers.push(response.text().await.unwrap());
        }
        // The metrics token, right and wrong.
        for token in [METRICS_TOKEN, "not-the-token"] {
            let response = daemon
                .request(Method::GET, "/metrics")
                .auth(format!("Bearer {token}"))
                .send()
                .await;
            answers.push(response.text().await.unwrap());
        }
        daemon.signal("TERM");
        daemon.wait_exit(Duration::from_secs(20));
        let log = daemon.log_text();
        assert!(
            log.contains("TRACE") || log.to_lowercase().contains("trace"),
            "the log was not at trace level"
        );
        captured.push_str(&log);
        for answer in answers {
            captured.push_str(&answer);
        }
    }
    assert!(
        !captured.contains("panicked"),
        "a panic in the captured output"
    );
    let found = leaks(&captured);
    assert!(
        found.is_empty(),
        "secrets found in the captured output: {found:?}"
    );
    // The capture is real: it holds the failed DHIS2 calls and the refused logins.
    assert!(captured.contains("login failed"), "no failed login logged");
}
