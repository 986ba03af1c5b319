//! A reload of the running daemon (SIGHUP, the path systemd's `reload` takes) that changes the
//! notification channels applies to the next deliveries: a new SMS gateway is used, and an email
//! channel turned on sends.

use std::time::{Duration, Instant};

use dhis2gw::notify::plan_deliveries;
use notify_fakes::sms::FakeSmsGateway;
use notify_fakes::smtp::{SmtpMode, SmtpSink};

use super::delivery::form_value;
use super::env::notice;
use crate::support::app::test_settings;
use crate::support::process::{Daemon, config_file};
use crate::support::services::services;

fn config(db: &str, gateway: &str, smtp_port: Option<u16>) -> String {
    let smtp = match smtp_port {
        Some(port) => format!(
            "  smtp_host: localhost\n  smtp_port: {port}\n  smtp_tls: plain\n  smtp_from_address: alerts@dhis2gw.test\n"
        ),
        None => "  smtp_host: \"\"\n".into(),
    };
    format!(
        "database:\n  uri: \"{db}\"\nserver:\n  http_port: 0\n  redis_address: {}\n  queue_prefix: t{}\n\
         notifications:\n  static_recipients: [\"sms:+260971000001\", \"email:epi@moh.test\"]\n  \
         sms_provider: http\n  sms_http_url: \"{gateway}\"\n  \
         sms_http_body: \"phone_number={{to}}&message={{message}}\"\n  sms_http_success_contains: OK\n{smtp}",
        services().redis,
        prefix_of(db),
    )
}

/// A queue prefix of the test's own (its database name is unique).
fn prefix_of(db: &str) -> String {
    db.rsplit('/').next().unwrap_or("x").replace(['-', '?'], "")
}

async fn wait_for(pool: &dhis2gw::db::Pool, sql: &str, want: i64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = pool
            .get()
            .await
            .unwrap()
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0);
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {n}, not {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn plan(pool: &dhis2gw::db::Pool, alert_id: i64) {
    let mut client = pool.get().await.unwrap();
    let tx = client.transaction().await.unwrap();
    assert_eq!(plan_deliveries(&tx, &notice(alert_id)).await.unwrap(), 2);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_reload_changing_the_channels_applies_to_the_next_deliveries() {
    let settings = test_settings().await;
    let db = settings.database.uri.clone();
    let pool = dhis2gw::db::connect(&settings.database).unwrap();
    let (gateway_a, gateway_b) = (FakeSmsGateway::start().await, FakeSmsGateway::start().await);
    let sink = SmtpSink::start(SmtpMode::Plain).await;
    let file = config_file(&config(&db, gateway_a.url(), None));
    let mut daemon = Daemon::start(file.path(), &[]);

    // The configured recipients are written by the delivery task when it starts.
    wait_for(
        &pool,
        "SELECT count(*) FROM notify_recipients",
        2,
        "configured recipients",
    )
    .await;
    plan(&pool, 1).await;
    wait_for(
        &pool,
        "SELECT count(*) FROM notify_deliveries WHERE alert_id = 1 AND channel = 'sms' AND status = 'sent'",
        1,
        "alert 1's SMS",
    )
    .await;
    wait_for(
        &pool,
        "SELECT count(*) FROM notify_deliveries WHERE alert_id = 1 AND channel = 'email'
            AND last_error LIKE '%email channel is not configured%'",
        1,
        "alert 1's email, waiting for a channel",
    )
    .await;
    assert_eq!(gateway_a.accepted().len(), 1);

    // Another gateway and an SMTP server, applied by SIGHUP.
    std::fs::write(file.path(), config(&db, gateway_b.url(), Some(sink.port()))).unwrap();
    daemon.signal("HUP");
    assert!(
        daemon
            .wait_for_log("notifications.sms_http_url", Duration::from_secs(10))
            .is_some(),
        "log:\n{}",
        daemon.log_text()
    );
    plan(&pool, 2).await;
    wait_for(
        &pool,
        "SELECT count(*) FROM notify_deliveries WHERE alert_id = 2 AND status = 'sent'",
        2,
        "alert 2's SMS and email",
    )
    .await;
    let b = gateway_b.accepted();
    assert_eq!(b.len(), 1, "the new gateway carries the next SMS");
    assert_eq!(form_value(&b[0].body, "phone_number"), "+260971000001");
    assert!(
        form_value(&b[0].body, "message").starts_with("eIDSR Alert | 2:"),
        "{}",
        b[0].body
    );
    assert_eq!(
        gateway_a.accepted().len(),
        1,
        "the old gateway gets no more"
    );
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["epi@moh.test"]);
    assert!(
        mails[0].data.contains("Subject: eIDSR 2:"),
        "{}",
        mails[0].data
    );

    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(15)), Some(0));
}
