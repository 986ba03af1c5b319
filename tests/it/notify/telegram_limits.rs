//! 500 alerts to 3 Telegram users: every message sent once, within Telegram's limits (30 a
//! second in all, one a second per private chat), checked on the fake's own clock, which the
//! senders' pacing advances instead of sleeping.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use dhis2gw::notify::send::Clock;
use notify_fakes::clock::VirtualClock;
use notify_fakes::smtp::SmtpMode;
use notify_fakes::telegram::FakeTelegram;

use super::env::{DISTRICT, NotifyEnv, notice};

struct FakeClock(VirtualClock);

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.0.now()
    }
    fn reserve(&self, at: Duration) {
        self.0.reserve(at)
    }
    fn done(&self, at: Duration) {
        self.0.done(at)
    }
    fn sleep_until(&self, at: Duration) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(self.0.sleep_until(at))
    }
}

#[tokio::test]
async fn five_hundred_alerts_to_three_chats_stay_within_the_telegram_limits() {
    let clock = VirtualClock::default();
    let env = NotifyEnv::start(
        SmtpMode::Plain,
        FakeTelegram::start_with(Some(clock.clone())).await,
    )
    .await;
    for (i, chat) in ["701", "702", "703"].iter().enumerate() {
        env.add_user(&format!("u{i}"), "T", &[DISTRICT], None, None, Some(chat))
            .await;
    }
    for alert in 1..=500 {
        assert_eq!(env.plan(&notice(alert)).await, 3);
    }
    let deliverer = env
        .deliverer()
        .with_clock(Arc::new(FakeClock(clock.clone())));
    env.run_until_settled(deliverer, Duration::from_secs(240))
        .await;
    assert_eq!(env.statuses().await, vec![("sent".to_string(), 1500)]);

    let sent = env.telegram.sent();
    assert_eq!(sent.len(), 1500);
    let unique: HashSet<(i64, String)> = sent.iter().map(|m| (m.chat_id, m.text.clone())).collect();
    assert_eq!(unique.len(), 1500, "a message was sent twice");
    let mut by_chat: BTreeMap<i64, Vec<Duration>> = BTreeMap::new();
    for m in &sent {
        by_chat.entry(m.chat_id).or_default().push(m.at);
    }
    for (chat, times) in &mut by_chat {
        times.sort();
        assert_eq!(times.len(), 500);
        for pair in times.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_secs(1),
                "chat {chat}: {pair:?}"
            );
        }
    }
    let mut all: Vec<Duration> = sent.iter().map(|m| m.at).collect();
    all.sort();
    for (i, t) in all.iter().enumerate() {
        let in_window = all[i..]
            .iter()
            .take_while(|u| **u < *t + Duration::from_secs(1))
            .count();
        assert!(
            in_window <= 30,
            "{in_window} messages in the second from {t:?}"
        );
    }
    // One a second per chat: 500 messages take at least 499 s of the fake's time.
    assert!(clock.now() >= Duration::from_secs(499), "{:?}", clock.now());
}
