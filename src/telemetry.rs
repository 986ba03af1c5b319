//! Logging: journald (with `SYSLOG_IDENTIFIER=dhis2gw` and structured fields) when systemd started
//! us, human-readable stderr otherwise. The level can be changed at run time (SIGHUP).

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, fmt, reload};

/// Changes the log filter of the running process.
#[derive(Clone)]
pub struct LogHandle(reload::Handle<EnvFilter, Registry>);

/// tokio-postgres logs every statement's parameters at debug level; unless the operator asked
/// for it by name, keep it at info so a `debug` log level cannot leak bound secrets.
fn with_quiet_postgres(filter: &str) -> String {
    if filter.contains("tokio_postgres") {
        filter.to_owned()
    } else {
        format!("{filter},tokio_postgres=info")
    }
}

impl LogHandle {
    pub fn set_level(&self, filter: &str) -> Result<(), String> {
        let filter = EnvFilter::builder()
            .parse(with_quiet_postgres(filter))
            .map_err(|e| e.to_string())?;
        self.0.reload(filter).map_err(|e| e.to_string())
    }
}

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(filter: &str) -> LogHandle {
    let filter = EnvFilter::builder()
        .parse(with_quiet_postgres(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    // systemd sets JOURNAL_STREAM for services whose stdout/stderr go to the journal.
    let journal = std::env::var_os("JOURNAL_STREAM")
        .and_then(|_| tracing_journald::layer().ok())
        .map(|layer| layer.with_syslog_identifier("dhis2gw".into()));
    match journal {
        Some(journal) => registry.with(journal).init(),
        None => registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .init(),
    }
    LogHandle(handle)
}
