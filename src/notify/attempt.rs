//! One attempt of one delivery: read the row and its alert's notice, render the message, send
//! it through the channel, and record the answer (the attempt row and the delivery's new
//! state) before the queue is told.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use super::NotifyError;
use super::email::EmailSender;
use super::notice::{AlertNotice, Channel};
use super::send::{Clock, SendOutcome};
use super::sms::{SmsSender, fit};
use super::telegram::TelegramSender;
use super::templates::Templates;
use crate::config::Settings;

/// Everything needed to send, built from the settings (rebuilt when they change).
#[derive(Clone)]
pub struct Channels {
    pub templates: Arc<Templates>,
    pub email: Option<EmailSender>,
    pub sms: Option<SmsSender>,
    pub telegram: Option<TelegramSender>,
    pub sender_name: String,
    pub max_attempts: i32,
    /// The first retry's delay; each further one doubles it (up to 30 min).
    pub backoff_base: Duration,
    /// `server.public_url`: SMS link to the alert's own page (`/a/{id}`) when set.
    pub public_url: String,
}

impl Channels {
    pub fn from_settings(
        settings: &Settings,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Channels, NotifyError> {
        let n = &settings.notifications;
        Ok(Channels {
            templates: Arc::new(Templates::load(std::path::Path::new(&n.templates_dir))?),
            email: EmailSender::from_settings(n)?,
            sms: SmsSender::from_settings(n, &settings.api)?,
            telegram: TelegramSender::from_settings(n, clock)?,
            sender_name: n.smtp_from_name.clone(),
            max_attempts: n.max_attempts.max(1) as i32,
            backoff_base: Duration::from_secs(5),
            public_url: settings.server.public_url.clone(),
        })
    }
}

/// The short link to alert `id` on dhis2gw (`{server.public_url}/a/{id}`, which `GET /a/{id}`
/// redirects to the alert's page), when `server.public_url` is set.
pub fn short_link(public_url: &str, id: i64) -> Option<String> {
    let base = public_url.trim().trim_end_matches('/');
    (!base.is_empty()).then(|| format!("{base}/a/{id}"))
}

/// What the queue should do with the job after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Settled (sent, failed, or no longer open): forget it.
    Done,
    RetryAt(DateTime<Utc>),
}

/// Backoff after `attempts` failed attempts: `base` doubling up to 30 min, or what the provider
/// asked.
fn backoff(base: Duration, attempts: i32, after: Option<Duration>) -> Duration {
    let step = base.saturating_mul(1 << attempts.clamp(0, 9) as u32);
    let step = step.min(Duration::from_secs(1800));
    after.map_or(step, |a| a.max(Duration::from_millis(100)))
}

/// Runs one attempt of delivery `id`.
pub async fn attempt(db: &Pool, channels: &Channels, id: i64) -> Result<Next, NotifyError> {
    let client = db.get().await?;
    let row = client
        .query_opt(
            "SELECT d.channel, d.address, d.first_name, d.attempts, d.status, n.notice,
                    d.recipient_id
               FROM notify_deliveries d JOIN notify_notices n USING (alert_id)
              WHERE d.id = $1",
            &[&id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Next::Done);
    };
    let status: String = row.get(4);
    if status != "queued" {
        return Ok(Next::Done);
    }
    let channel = Channel::parse(row.get(0)).unwrap_or(Channel::Email);
    let address: String = row.get(1);
    let first_name: String = row.get(2);
    let attempts: i32 = row.get(3);
    let notice: AlertNotice = serde_json::from_value(row.get(5))
        .map_err(|e| NotifyError::Config(format!("stored notice of delivery {id}: {e}")))?;
    let recipient_id: Option<i64> = row.get(6);
    drop(client);

    let message = channels
        .templates
        .render(&notice, &first_name, &channels.sender_name);
    let outcome = match channel {
        Channel::Email => match &channels.email {
            Some(sender) => sender.send(&address, &message).await,
            None => not_configured("email"),
        },
        Channel::Sms => match &channels.sms {
            Some(sender) => {
                // The short link to the alert's page on dhis2gw, when there is one, in place of
                // the long Capture link.
                let short = short_link(&channels.public_url, notice.alert_id);
                let message = match &short {
                    Some(link) => {
                        let mut shortened = notice.clone();
                        shortened.capture_url = Some(link.clone());
                        channels
                            .templates
                            .render(&shortened, &first_name, &channels.sender_name)
                    }
                    None => message,
                };
                let link = short.as_deref().or(notice.capture_url.as_deref());
                let text = fit(&message.sms, link.unwrap_or(""), sender.max_segments());
                sender.send(&address, &text).await
            }
            None => not_configured("sms"),
        },
        Channel::Telegram => match &channels.telegram {
            Some(sender) => sender.send(&address, &message.text).await,
            None => not_configured("telegram"),
        },
    };
    record(db, id, attempts + 1, channels, recipient_id, &outcome).await
}

/// A channel turned off after the delivery was planned: retried, so turning it back on sends.
fn not_configured(channel: &str) -> SendOutcome {
    SendOutcome::Retry {
        answer: format!("the {channel} channel is not configured"),
        after: Some(Duration::from_secs(300)),
    }
}

/// Writes the attempt and the delivery's new state in one transaction.
async fn record(
    db: &Pool,
    id: i64,
    attempt: i32,
    channels: &Channels,
    recipient_id: Option<i64>,
    outcome: &SendOutcome,
) -> Result<Next, NotifyError> {
    let (kind, status, next) = match outcome {
        SendOutcome::Sent(_) => ("sent", "sent", Next::Done),
        SendOutcome::Failed(_) | SendOutcome::Blocked(_) => ("failed", "failed", Next::Done),
        SendOutcome::Retry { .. } if attempt >= channels.max_attempts => {
            ("failed", "failed", Next::Done)
        }
        SendOutcome::Retry { after, .. } => {
            let wait =
                chrono::Duration::from_std(backoff(channels.backoff_base, attempt - 1, *after))
                    .unwrap_or(chrono::Duration::seconds(60));
            ("retry", "queued", Next::RetryAt(Utc::now() + wait))
        }
    };
    crate::metrics::notification_attempt(kind);
    let due = match next {
        Next::RetryAt(at) => at,
        Next::Done => Utc::now(),
    };
    let mut client = crate::db::TxConn::new(db.get().await?);
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO notify_attempts (delivery_id, attempt, outcome, answer) VALUES ($1, $2, $3, $4)
         ON CONFLICT (delivery_id, attempt) DO NOTHING",
        &[&id, &attempt, &kind, &outcome.answer()],
    )
    .await?;
    tx.execute(
        "UPDATE notify_deliveries
            SET attempts = $2, status = $3, last_error = $4, next_attempt_at = $5,
                updated_at = now(), sent_at = CASE WHEN $3 = 'sent' THEN now() END
          WHERE id = $1",
        &[
            &id,
            &attempt,
            &status,
            &(status != "sent").then(|| outcome.answer().to_string()),
            &due,
        ],
    )
    .await?;
    if let (SendOutcome::Blocked(_), Some(recipient)) = (outcome, recipient_id) {
        tx.execute(
            "UPDATE notify_recipients SET telegram_blocked_at = now() WHERE id = $1",
            &[&recipient],
        )
        .await?;
    }
    tx.commit().await?;
    client.transaction_ended();
    Ok(next)
}
