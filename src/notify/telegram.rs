//! Telegram through teloxide, with a configurable Bot API URL. Sends are paced before they leave:
//! at most `notifications.telegram_per_second` in all (Telegram's limit is 30/s), one per second
//! per private chat, twenty a minute per group (a negative chat id). A 429's `retry_after` is
//! honoured; a 403 (blocked, kicked, deactivated) or an unknown chat is permanent.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;

use super::NotifyError;
use super::send::{Clock, SendOutcome, SystemClock};
use crate::config::NotificationsSettings;

/// Per-chat spacing: private chats once a second, groups twenty a minute.
fn chat_interval(chat: i64) -> Duration {
    if chat < 0 {
        Duration::from_secs(3)
    } else {
        Duration::from_secs(1)
    }
}

/// The reservations of the global and per-chat limits.
#[derive(Default)]
struct Pace {
    /// Start times of the last `per_second` sends, for the sliding one-second window.
    recent: VecDeque<Duration>,
    next_for_chat: HashMap<i64, Duration>,
}

/// The configured bot.
#[derive(Clone)]
pub struct TelegramSender {
    bot: Bot,
    per_second: usize,
    pace: Arc<Mutex<Pace>>,
    clock: Arc<dyn Clock>,
}

impl TelegramSender {
    /// `None` when `notifications.telegram_bot_token` is empty.
    pub fn from_settings(
        s: &NotificationsSettings,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Option<TelegramSender>, NotifyError> {
        if s.telegram_bot_token.is_empty() {
            return Ok(None);
        }
        let url = reqwest_012_url(&s.telegram_api_url)?;
        let bot = Bot::new(s.telegram_bot_token.clone()).set_api_url(url);
        Ok(Some(TelegramSender {
            bot,
            per_second: s.telegram_per_second.max(1) as usize,
            pace: Arc::default(),
            clock: clock.unwrap_or_else(SystemClock::shared),
        }))
    }

    /// The earliest start for a message to `chat` that keeps every limit; reserved at once.
    fn reserve(&self, chat: i64) -> Duration {
        let mut pace = self.pace.lock().expect("pace lock");
        let now = self.clock.now();
        let mut at = now.max(pace.next_for_chat.get(&chat).copied().unwrap_or_default());
        // The window of the last `per_second` starts: the next may start a second after the
        // oldest of them.
        while pace.recent.len() > self.per_second {
            pace.recent.pop_front();
        }
        if pace.recent.len() == self.per_second {
            let oldest = pace.recent[0];
            at = at.max(oldest + Duration::from_secs(1));
        }
        // Keep the window sorted by inserting in order (reservations may be out of order).
        let pos = pace.recent.partition_point(|t| *t <= at);
        pace.recent.insert(pos, at);
        if pace.recent.len() > self.per_second {
            pace.recent.pop_front();
        }
        pace.next_for_chat.insert(chat, at + chat_interval(chat));
        self.clock.reserve(at);
        at
    }

    /// Pushes `chat`'s next start out after a 429.
    fn back_off(&self, chat: i64, after: Duration) {
        let mut pace = self.pace.lock().expect("pace lock");
        let until = self.clock.now() + after;
        let next = pace.next_for_chat.entry(chat).or_default();
        *next = (*next).max(until);
    }

    /// Sends `text` (plain text, so nothing in it is markup) to `chat`, waiting for its turn.
    pub async fn send(&self, chat: &str, text: &str) -> SendOutcome {
        let Ok(chat_id) = chat.trim().parse::<i64>() else {
            return SendOutcome::Failed(format!("{chat:?} is not a numeric chat id"));
        };
        let at = self.reserve(chat_id);
        self.clock.sleep_until(at).await;
        let result = self.bot.send_message(ChatId(chat_id), text).await;
        self.clock.done(at);
        match result {
            Ok(message) => SendOutcome::Sent(format!("message_id {}", message.id.0)),
            Err(RequestError::RetryAfter(seconds)) => {
                self.back_off(chat_id, seconds.duration());
                SendOutcome::Retry {
                    answer: format!("429 retry after {} s", seconds.seconds()),
                    after: Some(seconds.duration()),
                }
            }
            Err(RequestError::Api(e)) if is_blocked(&e) => SendOutcome::Blocked(e.to_string()),
            Err(RequestError::Api(e @ ApiError::ChatNotFound)) => {
                SendOutcome::Failed(e.to_string())
            }
            Err(e) => SendOutcome::Retry {
                answer: e.to_string(),
                after: None,
            },
        }
    }
}

fn is_blocked(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
    ) || e.to_string().starts_with("Forbidden")
}

/// teloxide takes its own reqwest's `Url` (the `url` crate's type, re-exported).
fn reqwest_012_url(text: &str) -> Result<url::Url, NotifyError> {
    url::Url::parse(text)
        .map_err(|e| NotifyError::Config(format!("notifications.telegram_api_url: {e}")))
}
