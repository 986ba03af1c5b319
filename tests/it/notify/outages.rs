//! Each provider down, then back: every message is delivered once; permanent failures (403) are
//! not retried; a crash between planning and sending loses and doubles nothing.

use std::collections::HashMap;
use std::time::Duration;

use dhis2gw::notify::deliver::QUEUE;
use dhis2gw::queue::JobQueue;
use notify_fakes::smtp::SmtpMode;
use notify_fakes::telegram::FakeTelegram;
use tokio::sync::watch;

use super::delivery::form_value;
use super::env::{DISTRICT, NotifyEnv, notice};

async fn seed_two_users(env: &NotifyEnv) {
    env.add_ann().await;
    env.add_user(
        "u2",
        "Ben",
        &[DISTRICT],
        Some("ben@moh.test"),
        Some("+260971000002"),
        Some("502"),
    )
    .await;
}

fn counts<T: std::hash::Hash + Eq>(items: impl IntoIterator<Item = T>) -> HashMap<T, usize> {
    let mut map = HashMap::new();
    for item in items {
        *map.entry(item).or_default() += 1;
    }
    map
}

#[tokio::test]
async fn an_outage_of_each_provider_then_recovery_delivers_each_message_once() {
    let mut env = NotifyEnv::start(SmtpMode::StartTls, FakeTelegram::start().await).await;
    // Telegram's client waits 10 s after a 5xx before answering: enough attempts to outlast it.
    env.settings.notifications.max_attempts = 20;
    seed_two_users(&env).await;
    env.smtp.set_down(true);
    env.sms.set_down(true);
    env.telegram.set_server_errors(true);
    for alert in 1..=3 {
        assert_eq!(env.plan(&notice(alert)).await, 6);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(env.deliverer().run(stop_rx));
    // Every channel fails at least once (Telegram's client waits 10 s after a 5xx itself).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while env.count("SELECT count(DISTINCT d.channel) FROM notify_attempts a JOIN notify_deliveries d ON d.id = a.delivery_id WHERE a.outcome = 'retry'").await < 3 {
        assert!(std::time::Instant::now() < deadline, "not every channel was tried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        env.count("SELECT count(*) FROM notify_deliveries WHERE status <> 'queued'")
            .await,
        0
    );
    assert!(
        env.smtp.mails().is_empty()
            && env.sms.accepted().is_empty()
            && env.telegram.sent().is_empty()
    );
    env.smtp.set_down(false);
    env.sms.set_down(false);
    env.telegram.set_server_errors(false);
    env.wait_settled(Duration::from_secs(90)).await;
    stop_tx.send(true).unwrap();
    task.await.unwrap();

    assert_eq!(env.statuses().await, vec![("sent".to_string(), 18)]);
    let mails = counts(
        env.smtp
            .mails()
            .iter()
            .map(|m| (m.to.join(","), subject_alert(&m.data))),
    );
    assert_eq!(mails.len(), 6);
    assert!(mails.values().all(|n| *n == 1), "{mails:?}");
    let sms = counts(env.sms.accepted().iter().map(|r| {
        (
            form_value(&r.body, "phone_number"),
            alert_of(&form_value(&r.body, "message")),
        )
    }));
    assert_eq!(sms.len(), 6);
    assert!(sms.values().all(|n| *n == 1), "{sms:?}");
    let tg = counts(
        env.telegram
            .sent()
            .iter()
            .map(|m| (m.chat_id, alert_of(&m.text))),
    );
    assert_eq!(tg.len(), 6);
    assert!(tg.values().all(|n| *n == 1), "{tg:?}");
    // Each failed attempt kept its provider answer.
    let answers = env
        .count("SELECT count(*) FROM notify_attempts WHERE outcome = 'retry' AND answer <> ''")
        .await;
    assert!(answers >= 3);
}

#[tokio::test]
async fn a_blocked_chat_is_not_retried_and_a_429_is_waited_out() {
    let env = NotifyEnv::start(SmtpMode::Plain, FakeTelegram::start().await).await;
    env.add_user("u1", "Ann", &[DISTRICT], None, None, Some("601"))
        .await;
    env.add_user("u2", "Ben", &[DISTRICT], None, None, Some("602"))
        .await;
    env.telegram.block(601);
    env.telegram.too_many_requests(1, 1);
    env.plan(&notice(1)).await;
    env.run_until_settled(env.deliverer(), Duration::from_secs(30))
        .await;
    assert_eq!(
        env.statuses().await,
        vec![("failed".to_string(), 1), ("sent".to_string(), 1)]
    );
    // The 403 ended it: one failed attempt, and it was the last (the 429 may have hit either
    // chat first).
    assert_eq!(
        env.count(
            "SELECT count(*) FROM notify_attempts a JOIN notify_deliveries d ON d.id = a.delivery_id
              WHERE d.address = '601' AND a.outcome = 'failed' AND a.attempt = d.attempts
                AND a.answer LIKE '%blocked%'"
        )
        .await,
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM notify_attempts WHERE outcome = 'failed'")
            .await,
        1
    );
    assert_eq!(env.telegram.answered(429), 1);
    assert_eq!(env.telegram.sent().len(), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM notify_recipients WHERE telegram_blocked_at IS NOT NULL")
            .await,
        1
    );
    // The blocked chat is left out of the next alert.
    assert_eq!(env.plan(&notice(2)).await, 1);
}

#[tokio::test]
async fn a_crash_between_planning_and_sending_loses_and_doubles_nothing() {
    let env = NotifyEnv::start(SmtpMode::Plain, FakeTelegram::start().await).await;
    seed_two_users(&env).await;
    for alert in 1..=10 {
        env.plan(&notice(alert)).await;
    }
    // The crashed instance had queued everything and leased a third of it, then died: its
    // leases (short here) run out and the jobs come back.
    let queue = JobQueue::new(&env.redis, QUEUE);
    let (_, added) = env.deliverer().reconcile().await.unwrap();
    assert_eq!(added, 60);
    let held = queue.lease(20, Duration::from_millis(300)).await.unwrap();
    assert_eq!(held.len(), 20);
    // And Redis lost a few of the others: gone from every key, as after a restart without
    // persistence of the last writes.
    let lost: Vec<i64> = queue
        .lease(5, Duration::from_secs(600))
        .await
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    for l in &lost {
        let client = env.redis.pool.next();
        use fred::interfaces::{HashesInterface, SetsInterface, SortedSetsInterface};
        let _: i64 = client.srem(queue.keys()[0].as_str(), *l).await.unwrap();
        let _: i64 = client.zrem(queue.keys()[2].as_str(), *l).await.unwrap();
        let _: i64 = client
            .hdel(queue.keys()[3].as_str(), l.to_string())
            .await
            .unwrap();
    }
    env.run_until_settled(env.deliverer(), Duration::from_secs(60))
        .await;
    assert_eq!(env.statuses().await, vec![("sent".to_string(), 60)]);
    let mails = counts(
        env.smtp
            .mails()
            .iter()
            .map(|m| (m.to.join(","), subject_alert(&m.data))),
    );
    assert_eq!(mails.len(), 20);
    assert!(mails.values().all(|n| *n == 1), "{mails:?}");
    let tg = counts(
        env.telegram
            .sent()
            .iter()
            .map(|m| (m.chat_id, alert_of(&m.text))),
    );
    assert_eq!(tg.len(), 20);
    assert!(tg.values().all(|n| *n == 1), "{tg:?}");
    assert_eq!(env.sms.accepted().len(), 20);
}

/// The alert number of a message: `eIDSR Alert | 7: …`.
fn alert_of(text: &str) -> i64 {
    let rest = text.split("| ").nth(1).expect("an alert message");
    rest.split(':').next().unwrap().trim().parse().unwrap()
}

/// The alert number in an email's subject: `eIDSR 7: …`.
fn subject_alert(data: &str) -> i64 {
    let subject = data
        .lines()
        .find(|l| l.starts_with("Subject: "))
        .expect("a subject");
    subject["Subject: eIDSR ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
