//! Email through lettre: SMTP with STARTTLS, implicit TLS or plain (a local relay), optional
//! authentication, one pooled connection reused across messages, HTML with a plain-text
//! alternative.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor};

use super::NotifyError;
use super::send::SendOutcome;
use super::templates::Message;
use crate::config::{NotificationsSettings, SmtpTls};

/// The configured SMTP transport and sender.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// One SMTP conversation at a time: lettre's pool opens a new connection whenever none is
    /// idle, so concurrent sends would each log in.
    one_at_a_time: Arc<tokio::sync::Mutex<()>>,
}

impl EmailSender {
    /// `None` when `notifications.smtp_host` is empty (the channel is off).
    pub fn from_settings(s: &NotificationsSettings) -> Result<Option<EmailSender>, NotifyError> {
        if s.smtp_host.is_empty() {
            return Ok(None);
        }
        let config = |m: String| NotifyError::Config(m);
        let from: Mailbox = format!("{} <{}>", s.smtp_from_name, s.smtp_from_address)
            .parse()
            .or_else(|_| s.smtp_from_address.parse())
            .map_err(|e| {
                config(format!(
                    "notifications.smtp_from_address {:?}: {e}",
                    s.smtp_from_address
                ))
            })?;
        let port = match (s.smtp_port, s.smtp_tls) {
            (0, SmtpTls::Starttls) => 587,
            (0, SmtpTls::Tls) => 465,
            (0, SmtpTls::Plain) => 25,
            (p, _) => p,
        };
        let tls = match s.smtp_tls {
            SmtpTls::Plain => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(s.smtp_host.clone());
                if !s.smtp_ca_file.is_empty() {
                    let pem = std::fs::read(&s.smtp_ca_file).map_err(|e| {
                        config(format!(
                            "notifications.smtp_ca_file {}: {e}",
                            s.smtp_ca_file
                        ))
                    })?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| {
                        config(format!(
                            "notifications.smtp_ca_file {}: {e}",
                            s.smtp_ca_file
                        ))
                    })?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| config(format!("SMTP TLS: {e}")))?;
                if mode == SmtpTls::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.smtp_host)
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)))
            .pool_config(PoolConfig::new().max_size(1));
        if !s.smtp_user.is_empty() {
            builder = builder.credentials(Credentials::new(
                s.smtp_user.clone(),
                s.smtp_password.clone(),
            ));
        }
        let transport: AsyncSmtpTransport<Tokio1Executor> = builder.build();
        Ok(Some(EmailSender {
            transport,
            from,
            one_at_a_time: Arc::default(),
        }))
    }

    /// Sends one message to one address.
    pub async fn send(&self, to: &str, message: &Message) -> SendOutcome {
        let to: Mailbox = match to.parse() {
            Ok(to) => to,
            Err(e) => return SendOutcome::Failed(format!("invalid address {to:?}: {e}")),
        };
        let email = Email::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ));
        let email = match email {
            Ok(email) => email,
            Err(e) => return SendOutcome::Failed(format!("cannot build the email: {e}")),
        };
        let _turn = self.one_at_a_time.lock().await;
        match self.transport.send(email).await {
            Ok(response) => SendOutcome::Sent(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) if e.is_permanent() => SendOutcome::Failed(e.to_string()),
            Err(e) => SendOutcome::Retry {
                answer: e.to_string(),
                after: None,
            },
        }
    }
}
