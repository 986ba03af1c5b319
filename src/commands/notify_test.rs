//! `dhis2gw notify-test --channel email|sms|telegram --to ADDRESS`: sends one test message
//! through the configured provider and prints the provider's answer, so a sysadmin can prove a
//! channel works before an alert depends on it.

use clap::{Args, ValueEnum};

use crate::config::Settings;
use crate::notify::address;
use crate::notify::email::EmailSender;
use crate::notify::send::SendOutcome;
use crate::notify::sms::{SmsSender, fit};
use crate::notify::telegram::TelegramSender;
use crate::notify::templates::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestChannel {
    Email,
    Sms,
    Telegram,
}

#[derive(Debug, Args)]
pub struct NotifyTestArgs {
    /// The channel to try.
    #[arg(long, value_enum)]
    pub channel: TestChannel,
    /// An email address, a phone number (national numbers take
    /// notifications.default_country_code) or a numeric Telegram chat id.
    #[arg(long)]
    pub to: String,
}

fn message() -> Message {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let text = format!(
        "dhis2gw test message{}: this channel works. Alert notifications will arrive like this.",
        if host.is_empty() {
            String::new()
        } else {
            format!(" from {host}")
        }
    );
    Message {
        subject: "dhis2gw test message".into(),
        html: format!("<p>{}</p>", crate::notify::templates::html_escape(&text)),
        sms: text.clone(),
        text,
    }
}

pub async fn run(settings: Settings, args: NotifyTestArgs) -> anyhow::Result<()> {
    let n = &settings.notifications;
    let message = message();
    let outcome = match args.channel {
        TestChannel::Email => {
            let to = address::email(&args.to).map_err(anyhow::Error::msg)?;
            let sender = EmailSender::from_settings(n)?
                .ok_or_else(|| anyhow::anyhow!("email is off: notifications.smtp_host is empty"))?;
            sender.send(&to, &message).await
        }
        TestChannel::Sms => {
            let to =
                address::phone(&args.to, &n.default_country_code).map_err(anyhow::Error::msg)?;
            let sender = SmsSender::from_settings(n, &settings.api)?
                .ok_or_else(|| anyhow::anyhow!("SMS is off: notifications.sms_provider is none"))?;
            sender
                .send(&to, &fit(&message.sms, "", sender.max_segments()))
                .await
        }
        TestChannel::Telegram => {
            let to = address::telegram(&args.to).map_err(anyhow::Error::msg)?;
            let sender = TelegramSender::from_settings(n, None)?.ok_or_else(|| {
                anyhow::anyhow!("Telegram is off: notifications.telegram_bot_token is empty")
            })?;
            sender.send(&to, &message.text).await
        }
    };
    match outcome {
        SendOutcome::Sent(answer) => {
            println!("sent: {answer}");
            Ok(())
        }
        SendOutcome::Retry { answer, .. } => {
            anyhow::bail!("not sent (transient, an alert would be retried): {answer}")
        }
        SendOutcome::Failed(answer) | SendOutcome::Blocked(answer) => {
            anyhow::bail!("not sent (permanent): {answer}")
        }
    }
}
