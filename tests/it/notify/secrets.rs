//! No channel secret in what a failed delivery records: the SMS gateway's secret (here in the
//! URL's query, where an HTTP client error would print it), the Telegram bot token (in every Bot
//! API URL) and the SMTP password, with every provider unreachable. The delivery log is what
//! `GET /api/v2/deliveries` and the console show.

use std::time::Duration;

use notify_fakes::smtp::SmtpMode;
use notify_fakes::telegram::FakeTelegram;

use super::env::{NotifyEnv, SMS_SECRET, TOKEN, notice};

const SMTP_PASSWORD: &str = "Smtp-Secret-Pw-8812";

#[tokio::test]
async fn a_failed_delivery_records_no_channel_secret() {
    let mut env = NotifyEnv::start(SmtpMode::Plain, FakeTelegram::start().await).await;
    // Port 9 (discard) refuses connections on loopback: every provider is unreachable.
    let n = &mut env.settings.notifications;
    n.smtp_port = 9;
    n.smtp_user = "alerts".into();
    n.smtp_password = SMTP_PASSWORD.into();
    n.sms_http_url = "http://127.0.0.1:9/send?key={secret}&to={to}".into();
    n.telegram_api_url = "http://127.0.0.1:9/".into();
    n.max_attempts = 1;
    env.add_ann().await;
    assert_eq!(env.plan(&notice(1)).await, 3);
    env.run_until_settled(env.deliverer(), Duration::from_secs(60))
        .await;

    let db = env.pool.get().await.unwrap();
    let mut recorded = String::new();
    for sql in [
        "SELECT row_to_json(d)::text FROM notify_deliveries d",
        "SELECT row_to_json(a)::text FROM notify_attempts a",
    ] {
        for row in db.query(sql, &[]).await.unwrap() {
            recorded.push_str(row.get::<_, &str>(0));
            recorded.push('\n');
        }
    }
    // The record is real: three failed deliveries, each with its error.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM notify_deliveries WHERE status = 'failed' AND last_error <> ''"
        )
        .await,
        3,
        "{recorded}"
    );
    for secret in [SMS_SECRET, TOKEN, SMTP_PASSWORD] {
        assert!(
            !recorded.contains(secret),
            "{secret:?} is in the delivery log:\n{recorded}"
        );
    }
}
