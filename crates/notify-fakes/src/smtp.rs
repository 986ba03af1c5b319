//! An SMTP sink: plain, STARTTLS or implicit TLS, with optional AUTH (any credentials are
//! accepted and remembered). TLS uses a CA and a `localhost`/`127.0.0.1` certificate made at
//! start ([`SmtpSink::ca_pem`] is what the client must trust). Each accepted message is kept;
//! an outage answers 421 at connection, a refusal answers 451 to DATA.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// How the sink expects clients to secure the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    Plain,
    StartTls,
    ImplicitTls,
}

/// One accepted message.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA section as sent (headers and MIME body), dot-unstuffed.
    pub data: String,
    /// Whether it travelled over TLS.
    pub tls: bool,
    /// `user` of AUTH PLAIN/LOGIN, if the client authenticated.
    pub user: Option<String>,
}

#[derive(Default)]
struct State {
    mails: Mutex<Vec<Mail>>,
    connections: AtomicU64,
    down: AtomicBool,
    refuse_data: AtomicBool,
    latency_ms: AtomicU64,
}

#[derive(Clone)]
pub struct SmtpSink {
    state: Arc<State>,
    port: u16,
    ca_pem: String,
}

impl SmtpSink {
    pub async fn start(mode: SmtpMode) -> SmtpSink {
        let (acceptor, ca_pem) = tls_acceptor();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(State::default());
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let (state, acceptor) = (shared.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, mode, acceptor, state).await;
                });
            }
        });
        SmtpSink {
            state,
            port,
            ca_pem,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM of the CA that signed the sink's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.state.mails.lock().unwrap().clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Answer 421 to every new connection (true) or serve (false).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Answer 451 to DATA (a transient refusal).
    pub fn refuse_data(&self, refuse: bool) {
        self.state.refuse_data.store(refuse, Ordering::SeqCst);
    }

    /// Delay before answering the end of DATA.
    pub fn set_latency(&self, latency: Duration) {
        self.state
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::SeqCst);
    }
}

fn tls_acceptor() -> (TlsAcceptor, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("ca key");
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("leaf params");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf cert");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server config");
    (TlsAcceptor::from(Arc::new(config)), ca.pem())
}

async fn serve(
    stream: tokio::net::TcpStream,
    mode: SmtpMode,
    acceptor: TlsAcceptor,
    state: Arc<State>,
) -> anyhow::Result<()> {
    match mode {
        SmtpMode::ImplicitTls => {
            let tls = acceptor.accept(stream).await?;
            session(tls, true, false, true, &state).await?;
        }
        SmtpMode::Plain => {
            session(stream, true, false, false, &state).await?;
        }
        SmtpMode::StartTls => {
            if let Some(stream) = session(stream, true, true, false, &state).await? {
                // After STARTTLS the client speaks first (EHLO again): no second greeting.
                let tls = acceptor.accept(stream).await?;
                session(tls, false, false, true, &state).await?;
            }
        }
    }
    Ok(())
}

/// Runs SMTP on `stream` (greeting first when `greet`); returns the stream when the client asked
/// for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    greet: bool,
    offer_starttls: bool,
    tls: bool,
    state: &State,
) -> anyhow::Result<Option<S>> {
    let mut io = BufReader::new(stream);
    if greet {
        if state.down.load(Ordering::SeqCst) {
            io.write_all(b"421 sink unavailable\r\n").await?;
            return Ok(None);
        }
        io.write_all(b"220 notify-fakes ESMTP\r\n").await?;
    }
    let (mut from, mut to, mut user) = (String::new(), Vec::new(), None);
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            if offer_starttls {
                b"250-notify-fakes\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
            } else {
                b"250-notify-fakes\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n"
            }
        } else if upper == "STARTTLS" && offer_starttls {
            io.write_all(b"220 go ahead\r\n").await?;
            io.flush().await?;
            return Ok(Some(io.into_inner()));
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = command.split_whitespace().nth(2).unwrap_or("");
            user = Some(decode_plain_user(encoded));
            b"235 ok\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command[10..]);
            to.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command[8..]));
            b"250 ok\r\n"
        } else if upper == "DATA" {
            if state.refuse_data.load(Ordering::SeqCst) {
                b"451 try again later\r\n"
            } else {
                io.write_all(b"354 go on\r\n").await?;
                let data = read_data(&mut io).await?;
                let latency = state.latency_ms.load(Ordering::SeqCst);
                if latency > 0 {
                    tokio::time::sleep(Duration::from_millis(latency)).await;
                }
                state.mails.lock().unwrap().push(Mail {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                    tls,
                    user: user.clone(),
                });
                b"250 queued\r\n"
            }
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 ok\r\n"
        } else if upper == "QUIT" {
            io.write_all(b"221 bye\r\n").await?;
            return Ok(None);
        } else {
            b"502 not implemented\r\n"
        };
        io.write_all(reply).await?;
        io.flush().await?;
    }
}

async fn read_data<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
) -> anyhow::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            anyhow::bail!("connection closed in DATA");
        }
        if line == ".\r\n" || line == ".\n" {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}

fn address(text: &str) -> String {
    let text = text.trim();
    let text = text.split_whitespace().next().unwrap_or("");
    text.trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// The user of an AUTH PLAIN response (`\0user\0password`, base64).
fn decode_plain_user(encoded: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in encoded.bytes().filter(|c| *c != b'=') {
        let Some(v) = ALPHABET.iter().position(|a| *a == c) else {
            break;
        };
        bits = (bits << 6) | v as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    let text = String::from_utf8_lossy(&out).to_string();
    text.split('\0').nth(1).unwrap_or("").to_string()
}
