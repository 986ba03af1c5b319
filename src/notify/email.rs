//! Email through lettre: SMTP with STARTTLS, implicit TLS or plain (a local relay), optional
//! authentication, one connection reused across messages, HTML with a plain-text alternative.
//!
//! The connection is dhis2gw's own (lettre's `AsyncSmtpConnection` over a socket opened here)
//! rather than lettre's pool, for one reason: lettre writes a message's body and its final
//! `<CRLF>.<CRLF>` in two writes on a socket without `TCP_NODELAY`, so Nagle's algorithm held
//! the 5-byte terminator until the server acknowledged the body, which a server waiting for the
//! terminator does only when its delayed-ACK timer fires: ~40 ms of every message on Linux
//! (22 messages/s at most over one connection). Here the socket has `TCP_NODELAY` set.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Message as Email;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
#[allow(deprecated)] // lettre's own name for a TLS stream to give to a connection
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::NotifyError;
use super::send::SendOutcome;
use super::templates::Message;
use crate::config::{NotificationsSettings, SmtpTls};

/// Longest an SMTP exchange (connecting, or sending one message) may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A connection idle this long is closed and a new one opened (servers drop idle clients).
const IDLE: Duration = Duration::from_secs(60);

/// How to reach the SMTP server.
#[derive(Clone)]
struct Server {
    host: String,
    port: u16,
    tls: Option<(SmtpTls, TlsParameters)>,
    credentials: Option<Credentials>,
}

/// The open connection and when it was last used.
#[derive(Default)]
struct Link {
    conn: Option<(AsyncSmtpConnection, Instant)>,
}

/// The configured SMTP server and sender.
#[derive(Clone)]
pub struct EmailSender {
    server: Arc<Server>,
    from: Mailbox,
    /// One SMTP conversation at a time, on one connection.
    link: Arc<tokio::sync::Mutex<Link>>,
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
            SmtpTls::Plain => None,
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
                Some((mode, params))
            }
        };
        let credentials = (!s.smtp_user.is_empty())
            .then(|| Credentials::new(s.smtp_user.clone(), s.smtp_password.clone()));
        Ok(Some(EmailSender {
            server: Arc::new(Server {
                host: s.smtp_host.clone(),
                port,
                tls,
                credentials,
            }),
            from,
            link: Arc::default(),
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
        let envelope = email.envelope().clone();
        let bytes = email.formatted();
        let mut link = self.link.lock().await;
        let result = tokio::time::timeout(TIMEOUT, async {
            // The open connection if it is fresh and answers a NOOP; else a new one.
            let open = match link.conn.take() {
                Some((mut conn, used)) => {
                    if used.elapsed() < IDLE && conn.test_connected().await {
                        Some(conn)
                    } else {
                        conn.abort().await;
                        None
                    }
                }
                None => None,
            };
            let mut conn = match open {
                Some(conn) => conn,
                None => self.server.connect().await?,
            };
            let sent = conn.send(&envelope, &bytes).await;
            if !conn.has_broken() {
                link.conn = Some((conn, Instant::now()));
            }
            Ok::<_, Failure>(sent?)
        })
        .await;
        match result {
            Ok(Ok(response)) => SendOutcome::Sent(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Ok(Err(Failure::Smtp(e))) if e.is_permanent() => SendOutcome::Failed(e.to_string()),
            Ok(Err(Failure::Smtp(e))) => SendOutcome::Retry {
                answer: e.to_string(),
                after: None,
            },
            Ok(Err(Failure::Connect(why))) => SendOutcome::Retry {
                answer: why,
                after: None,
            },
            Err(_) => {
                // A connection in an unknown state is not used again.
                link.conn = None;
                SendOutcome::Retry {
                    answer: format!("no answer from the SMTP server within {TIMEOUT:?}"),
                    after: None,
                }
            }
        }
    }
}

impl Server {
    /// Opens a connection (`TCP_NODELAY`), with TLS as configured, greeted and authenticated.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let hello = ClientId::default();
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| connect_error(&self.host, self.port, e))?;
        tcp.set_nodelay(true)
            .map_err(|e| connect_error(&self.host, self.port, e))?;
        let mut conn = match &self.tls {
            None => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?,
            Some((SmtpTls::Tls, params)) => {
                #[allow(deprecated)]
                let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
                stream.upgrade_tls(params.clone()).await?;
                AsyncSmtpConnection::connect_with_transport(Box::new(Encrypted(stream)), &hello)
                    .await?
            }
            Some((_, params)) => {
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?;
                conn.starttls(params.clone(), &hello).await?;
                conn
            }
        };
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(conn)
    }
}

/// Why a message was not sent.
enum Failure {
    /// The server could not be reached (transient).
    Connect(String),
    Smtp(lettre::transport::smtp::Error),
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        Failure::Smtp(e)
    }
}

fn connect_error(host: &str, port: u16, e: io::Error) -> Failure {
    Failure::Connect(format!("cannot connect to {host}:{port}: {e}"))
}

/// A TLS stream lettre opened (implicit TLS), handed back to lettre as a transport.
#[allow(deprecated)]
#[derive(Debug)]
struct Encrypted(AsyncNetworkStream);

impl AsyncRead for Encrypted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match futures::AsyncRead::poll_read(Pin::new(&mut self.0), cx, unfilled) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Encrypted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for Encrypted {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}
